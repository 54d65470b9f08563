// Plans a stage offline: runs the real program (index.ts) under the mock engine with the stage's config.
import * as fs from "fs";
import * as path from "path";
import { PROVIDER_CODE_MARKER } from "./provider-code";
import { runUnderMocks, RecordedResource } from "./runtime";
import { loadStackConfig, LoadedStackConfig } from "./stack-config";
import { PlanResult } from "./types";

/** Where the program's modules are: the repository (under ts-node) or dist/ (compiled). */
const PROGRAM_ROOT = path.resolve(__dirname, "..", "..");

/** The project root (where Pulumi.yaml and the stage configs live), also when running from dist/. */
export const PROJECT_ROOT =
    path.basename(PROGRAM_ROOT) === "dist" && !fs.existsSync(path.join(PROGRAM_ROOT, "Pulumi.yaml"))
        ? path.dirname(PROGRAM_ROOT)
        : PROGRAM_ROOT;

/** What to plan. */
export interface PlanOptions {
    /** Stack (stage) name. */
    readonly stack: string;
    /** Config file to use instead of `Pulumi.<stack>.yaml`. */
    readonly configFile?: string;
    /** Config given directly (tests, fuzzing, benchmarks); wins over the file. */
    readonly config?: LoadedStackConfig;
    /** The program to run. Default: the project's index.ts. */
    readonly program?: () => unknown;
    /** Unknowns as a first `pulumi preview` sees them (see MockRunOptions.preview). Default false. */
    readonly preview?: boolean;
    /** Which mock registerResource answers (see MockRunOptions.monitor). Default lean. */
    readonly monitor?: "lean" | "sdk";
}

/** A plan plus the unmasked registrations, for tests that check where secrets went. */
export interface FullPlan extends PlanResult {
    readonly recorded: RecordedResource[];
    readonly secretOutputs: string[];
}

/** Loads index.ts's exported program function. */
export function projectProgram(): () => unknown {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(PROGRAM_ROOT, "index"));
    const fn = typeof mod === "function" ? mod : mod.default;
    if (typeof fn !== "function")
        throw new Error("index.ts must export a function (export = async () => {...})");
    return fn;
}

/**
 * Runs the stage's program under mocks. Throws a ConfigError (with `.problems`) when the stage config is
 * invalid, in which case no resource was registered.
 */
export async function planStage(options: PlanOptions): Promise<FullPlan> {
    const config =
        options.config ??
        loadStackConfig(options.configFile ?? path.join(PROJECT_ROOT, `Pulumi.${options.stack}.yaml`));
    const program = options.program ?? projectProgram();
    const run = await runUnderMocks(
        {
            stack: options.stack,
            project: "keelson",
            config: config.values,
            secretKeys: config.secretKeys,
            preview: options.preview,
            monitor: options.monitor,
        },
        () => program() as Record<string, unknown>,
    );
    // Sorted by URN: registration order depends on how the SDK's promises interleave, and the same config
    // must give byte-identical plan files.
    const recorded = [...run.resources].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    return {
        stack: options.stack,
        resources: recorded.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            ...(r.parent ? { parent: r.parent } : {}),
            dependencies: r.dependencies,
            inputs: readableInputs(r.type, r.inputs),
            custom: r.custom,
            ...(r.options ? { options: r.options } : {}),
        })),
        outputs: run.outputs,
        artifacts: run.artifacts,
        recorded,
        secretOutputs: run.secretOutputs,
    };
}

/** Inputs as a reviewer should read them: a dynamic provider's serialized code is replaced by a marker. */
function readableInputs(type: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (!type.startsWith("pulumi-nodejs:dynamic") || !("__provider" in inputs)) return inputs;
    return { ...inputs, __provider: PROVIDER_CODE_MARKER };
}
