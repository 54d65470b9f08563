// Runs a Pulumi program under the mock engine and records every registration: the heart of the offline
// plan and of every mocked component test.
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as settingsModule from "@pulumi/pulumi/runtime/settings";
import * as stateModule from "@pulumi/pulumi/runtime/state";
import { mockInvoke, mockResourceState } from "./mock-state";
import { PlanArtifact, PlanResource, SECRET_MASK } from "./types";

/** A registration with its unmasked inputs, for tests that must see secret values. */
export interface RecordedResource extends PlanResource {
    /** Inputs with secret values unwrapped. Never print these. */
    readonly rawInputs: Record<string, unknown>;
}

/** Options of one mocked run. */
export interface MockRunOptions {
    /** Stack name. Default `test`. */
    readonly stack?: string;
    /** Project name. Default `keelson`. */
    readonly project?: string;
    /** Config map with fully qualified keys (`keelson:cluster`, `aws:region`); objects are JSON-encoded. */
    readonly config?: Record<string, unknown>;
    /** Config keys whose values are secrets. */
    readonly secretKeys?: string[];
    /** Run as a preview (dry run). Default true, like `pulumi preview`. */
    readonly preview?: boolean;
}

/** What a mocked run produced. */
export interface MockRun<T> {
    /** Every registered resource in registration order. */
    readonly resources: RecordedResource[];
    /** The program's return value with every Output resolved; secrets masked as `"[secret]"`. */
    readonly outputs: T extends Record<string, unknown> ? Record<keyof T, unknown> : Record<string, unknown>;
    /** Names of the outputs that are secrets. */
    readonly secretOutputs: string[];
    /** Rendered artifacts; secret ones masked. */
    readonly artifacts: PlanArtifact[];
}

type Obj = Record<string, unknown>;

// Internal SDK functions (marked @internal, so absent from the .d.ts): the mock monitor hook, the RPC queue
// drain and the runtime store. Pinned @pulumi/pulumi keeps them stable.
interface RuntimeStore {
    logErrorCount: number;
    supportsSecrets: boolean;
    supportsResourceReferences: boolean;
    supportsOutputValues: boolean;
    supportsDeletedWith: boolean;
    supportsAliasSpecs: boolean;
    supportsParameterization: boolean;
}
const settings = settingsModule as unknown as {
    setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean): void;
    waitForRPCs(): Promise<void>;
};
const getStore = (stateModule as unknown as { getStore(): RuntimeStore }).getStore;

function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Obj)[specialSigKey] === specialSecretSig;
}

/** Replaces secret-wrapped values by the mask (`unwrap` false) or by their plain value (`unwrap` true). */
function transformSecrets(v: unknown, unwrap: boolean): unknown {
    if (isSecretValue(v)) return unwrap ? transformSecrets(v.value, true) : SECRET_MASK;
    if (Array.isArray(v)) return v.map((x) => transformSecrets(x, unwrap));
    if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
        const out: Obj = {};
        for (const [k, x] of Object.entries(v as Obj)) out[k] = transformSecrets(x, unwrap);
        return out;
    }
    return v;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): unknown;
    getDependenciesList(): string[];
    getAdditionalsecretoutputsList(): string[];
}

interface RegisterOutputsRequest {
    getUrn(): string;
    getOutputs(): unknown;
}

/** The `artifacts` output one component registered: path to content, secrets masked. */
interface ComponentArtifacts {
    readonly urn: string;
    readonly files: Record<string, string>;
}

/** The SDK's mock monitor plus a record of each registration's parent, dependencies and inputs. */
class RecordingMonitor extends MockMonitor {
    readonly recorded: RecordedResource[] = [];
    /** Every component's `artifacts` output (what it rendered), in registration order. */
    readonly artifacts: ComponentArtifacts[] = [];
    /**
     * additionalSecretOutputs of the registration in progress: the real engine marks those outputs secret,
     * so we do too. The SDK's monitor calls `mocks.newResource` synchronously inside `registerResource`.
     */
    currentSecretOutputs: string[] = [];

    override async registerResource(req: RegisterRequest, callback: (err: unknown, resp: unknown) => void) {
        const inputs = deserializeProperties(
            req.getObject() as Parameters<typeof deserializeProperties>[0],
        ) as Obj;
        this.currentSecretOutputs = req.getAdditionalsecretoutputsList();
        const registered = super.registerResource(req, (err: unknown, resp: unknown) => {
            if (!err && resp) {
                const urn = (resp as { getUrn(): string }).getUrn();
                this.recorded.push({
                    urn,
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || undefined,
                    dependencies: [...new Set(req.getDependenciesList())].sort(),
                    inputs: transformSecrets(inputs, false) as Obj,
                    rawInputs: transformSecrets(inputs, true) as Obj,
                    custom: req.getCustom(),
                });
            }
            callback(err, resp);
        });
        this.currentSecretOutputs = [];
        return registered;
    }

    override registerResourceOutputs(
        req: RegisterOutputsRequest,
        callback: (err: unknown, resp: unknown) => void,
    ) {
        // The raw struct, not deserializeProperties: that marks the whole map secret when one file is.
        const outputs = (req.getOutputs() as { toJavaScript(): Obj } | undefined)?.toJavaScript() ?? {};
        const artifacts = outputs.artifacts;
        if (artifacts && typeof artifacts === "object" && !isSecretValue(artifacts)) {
            const files: Record<string, string> = {};
            for (const [p, content] of Object.entries(artifacts as Obj)) {
                files[p] = isSecretValue(content) ? SECRET_MASK : typeof content === "string" ? content : "";
            }
            this.artifacts.push({ urn: req.getUrn(), files });
        }
        return super.registerResourceOutputs(req, callback);
    }
}

/**
 * Collects what each component rendered from its `artifacts` output. Paths are the components' own; a
 * path that more than one component rendered (two Clusters' `user-data/master-0.yaml`) is written under
 * each component's name instead (`<name>/user-data/master-0.yaml`), so nothing is overwritten.
 */
export function collectArtifacts(components: readonly ComponentArtifacts[]): PlanArtifact[] {
    const owners = new Map<string, number>();
    for (const c of components) for (const p of Object.keys(c.files)) owners.set(p, (owners.get(p) ?? 0) + 1);
    const out = new Map<string, string>();
    for (const c of components) {
        const name = c.urn.slice(c.urn.lastIndexOf("::") + 2);
        for (const [p, content] of Object.entries(c.files)) {
            const target = (owners.get(p) ?? 0) > 1 ? `${name}/${p}` : p;
            if (out.has(target))
                throw new Error(`artifact ${target} was rendered twice; name the components apart`);
            out.set(target, content);
        }
    }
    return [...out]
        .map(([p, content]) => ({ path: p, content }))
        .sort((a, b) => a.path.localeCompare(b.path));
}

/** Resolves an Output (or plain value) to its value and whether it is secret. */
export async function resolveOutput(value: unknown): Promise<{ value: unknown; secret: boolean }> {
    const out = pulumi.output(value) as unknown as {
        promise(): Promise<unknown>;
        isSecret: Promise<boolean>;
    };
    const [resolved, secret] = await Promise.all([out.promise(), out.isSecret]);
    return { value: resolved, secret };
}

/**
 * Runs `program` under Pulumi's mock engine with the given config and returns every registration, the
 * program's outputs and the rendered artifacts. Throws the program's error, or the first registration error.
 */
export async function runUnderMocks<T>(
    options: MockRunOptions,
    program: () => T | Promise<T>,
): Promise<MockRun<T>> {
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.config ?? {})) {
        config[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const region = typeof config["aws:region"] === "string" ? config["aws:region"] : "us-east-1";
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);
    let monitor: RecordingMonitor | undefined = undefined;
    let invokeError: Error | undefined = undefined;
    const mocks: pulumi.runtime.Mocks = {
        newResource: (args) => {
            const result = mockResourceState(args.type, args.name, args.inputs, region);
            for (const key of monitor?.currentSecretOutputs ?? []) {
                if (key in result.state && !isSecretValue(result.state[key])) {
                    result.state[key] = { [specialSigKey]: specialSecretSig, value: result.state[key] };
                }
            }
            return result;
        },
        call: (args) => {
            try {
                return mockInvoke(args.token, args.inputs, region);
            } catch (err) {
                // The SDK replaces an invoke's error by a bare "Error"; keep ours to rethrow it.
                invokeError ??= err as Error;
                throw err;
            }
        },
    };
    monitor = new RecordingMonitor(mocks);
    // What pulumi.runtime.setMocks does, with our recording monitor in place of the SDK's.
    settings.setMockOptions(
        monitor,
        options.project ?? "keelson",
        options.stack ?? "test",
        options.preview ?? true,
    );
    const store = getStore();
    store.supportsSecrets = true;
    store.supportsResourceReferences = true;
    store.supportsOutputValues = false;
    store.supportsDeletedWith = true;
    store.supportsAliasSpecs = true;
    store.supportsParameterization = true;
    const errorsBefore = store.logErrorCount;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    try {
        const returned = await program();
        const outputs: Obj = {};
        const secretOutputs: string[] = [];
        if (returned && typeof returned === "object") {
            for (const [k, v] of Object.entries(returned as Obj)) {
                const r = await resolveOutput(v);
                outputs[k] = r.secret ? SECRET_MASK : r.value;
                if (r.secret) secretOutputs.push(k);
            }
        }
        // Components register their outputs (and so their artifacts) once every Output in them resolved.
        await settings.waitForRPCs();
        // Let rejected registrations surface before judging the run.
        await new Promise((r) => setImmediate(r));
        if (rejections.length > 0) throw rejections[0];
        if (store.logErrorCount > errorsBefore) {
            throw new Error("the program logged errors while registering resources (see above)");
        }
        return {
            resources: monitor.recorded,
            outputs: outputs as MockRun<T>["outputs"],
            secretOutputs,
            artifacts: collectArtifacts(monitor.artifacts),
        };
    } catch (err) {
        throw invokeError ?? err;
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}
