// `npm run plan -- --stack <stage> [--config-file <file>] [--json] [--markdown] [--diff <old.json>] [--out <dir>] [--preview]`
// The offline plan: runs the real program under the mock engine, prints the resource tree, writes every
// rendered artifact under out/<stage>/, masks every secret. No cloud credentials, no Pulumi CLI.
// Exit codes: 0 planned; 1 a config or file problem (or a gate: minimum grade, mandatory policy, a name
// the provider would refuse); 2 usage; 3 an internal error (with its stack trace).
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { validateStageConfig } from "../../components/config";
import { ConfigError } from "../../components/config/problems";
import {
    certificateHorizons,
    computeCost,
    CostEstimate,
    minimumGradeError,
    scorePlan,
    StackScore,
} from "../../components/score";
import { mandatory, PolicyViolation, runPolicies } from "../../policy/run";
import { diffJson, diffPlans, PlanDiff, PlanJson, renderDiffText } from "./diff";
import { renderUpgradeText, upgradePlans } from "./upgrade-steps";
import { renderGraphMarkdown } from "./graph";
import { renderHorizonText, renderMarkdown, renderScoreText } from "./markdown";
import { NameLimitError } from "./mock-names";
import { checkOutDir, OutDirError, writeOutDir as writeFiles } from "./out-dir";
import { FullPlan, planStage, PROJECT_ROOT } from "./plan";
import { lineOf, loadStackConfig, PlanFileError } from "./stack-config";
import { elasticIpWarnings, stageElasticIps } from "../../components/config/eip-budget";
import { countByType, renderTree, resourceCounts } from "./tree";
import { PlanResult } from "./types";

/** Parsed command line. */
export interface CliOptions {
    stack: string;
    configFile?: string;
    json: boolean;
    /** Write out/<stage>/summary.md (the PR comment) and print it unless --json. */
    markdown: boolean;
    /** A previous plan.json to list changes against. */
    diff?: string;
    out: string;
    /** Unknowns as a first `pulumi preview` sees them. */
    preview: boolean;
}

const USAGE =
    "usage: npm run plan -- --stack <stage> [--config-file <file>] [--json] [--markdown] [--diff <old plan.json>] [--out <dir>] [--preview]";

/** A bad command line: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** Parses argv (without node and script); throws a {@link UsageError} on bad arguments. */
export function parseArgs(argv: string[]): CliOptions {
    let stack: string | undefined;
    let configFile: string | undefined;
    let out: string | undefined;
    let json = false;
    let markdown = false;
    let preview = false;
    let diff: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value\n${USAGE}`);
            return v;
        };
        if (arg === "--stack") stack = value();
        else if (arg === "--config-file") configFile = value();
        else if (arg === "--out") out = value();
        else if (arg === "--json") json = true;
        else if (arg === "--markdown") markdown = true;
        else if (arg === "--preview") preview = true;
        else if (arg === "--diff") diff = value();
        else throw new UsageError(`unknown argument ${arg}\n${USAGE}`);
    }
    if (!stack) throw new UsageError(`--stack is required\n${USAGE}`);
    const outDir = out ?? path.join(PROJECT_ROOT, "out", stack);
    return { stack, configFile, json, markdown, diff, out: outDir, preview };
}

/** The JSON document `--json` prints and `out/<stage>/plan.json` holds. */
export function planJson(
    plan: PlanResult,
    score?: StackScore,
    cost?: CostEstimate,
    policy?: readonly PolicyViolation[],
): Record<string, unknown> {
    return {
        stack: plan.stack,
        summary: resourceCounts(plan),
        resources: plan.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            custom: r.custom,
            dependencies: r.dependencies,
            ...(r.options ? { options: r.options } : {}),
            inputs: r.inputs,
        })),
        outputs: plan.outputs,
        ...(score
            ? { score: { overall: score.overall, metrics: score.metrics, findings: score.findings } }
            : {}),
        ...(cost ? { cost } : {}),
        ...(score ? { certificates: certificateHorizons(plan.resources) } : {}),
        ...(policy ? { policy: { mandatory: mandatory(policy).length, violations: policy } } : {}),
    };
}

/** Writes the artifacts and plan.json (plus `extra` files) under `dir`; see tools/plan/out-dir.ts. */
export function writeOutDir(
    dir: string,
    plan: Pick<PlanResult, "artifacts">,
    json: Record<string, unknown>,
    extra: Record<string, string> = {},
): void {
    const files = new Map<string, string>(plan.artifacts.map((a) => [a.path, a.content]));
    files.set("plan.json", `${JSON.stringify(json, null, 2)}\n`);
    for (const [k, v] of Object.entries(extra)) files.set(k, v);
    writeFiles(dir, files);
}

/** The human-readable report. */
export function renderText(plan: FullPlan, outDir: string): string {
    const { resources, components } = resourceCounts(plan);
    const lines = [
        `Keelson offline plan: stack ${plan.stack}, ${resources} resources in ${components} components`,
        "",
        renderTree(plan),
        "",
        "Resources by type:",
        ...countByType(plan).map(([t, n]) => `  ${String(n).padStart(4)}  ${t}`),
        "",
        "Outputs:",
        ...Object.entries(plan.outputs).map(
            ([k, v]) => `  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`,
        ),
        "",
        `Artifacts (${plan.artifacts.length}) written to ${path.relative(process.cwd(), outDir) || "."}/`,
        ...plan.artifacts.map((a) => `  ${a.path}`),
    ];
    return lines.join("\n");
}

/** Reads a previous plan.json for `--diff`; a missing, unreadable or malformed file is a PlanFileError. */
export function readOldPlan(file: string): PlanJson {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new PlanFileError(
            `${file}: cannot read the --diff plan (${code === "ENOENT" ? "no such file" : code})`,
        );
    }
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        const message = (err as Error).message;
        // Node 20's message may have no position; the YAML parser (JSON is YAML) then locates the line.
        const at = /position (\d+)/.exec(message);
        const line = at
            ? lineOf(text, Number(at[1]))
            : (YAML.parseDocument(text).errors[0]?.linePos?.[0]?.line ?? 1);
        throw new PlanFileError(
            `${file}:${line}: the --diff plan is not valid JSON (${message.split("\n")[0]})`,
        );
    }
    const resources = (doc as { resources?: unknown } | null)?.resources;
    if (!Array.isArray(resources) || resources.some((r) => typeof (r as { urn?: unknown })?.urn !== "string"))
        throw new PlanFileError(
            `${file}:1: not a plan.json: it needs a "resources" list of objects with a "urn"`,
        );
    return doc as PlanJson;
}

/** Output streams of one CLI run (tests capture them). */
export type Print = (s: string) => void;

/** Runs the CLI; returns the exit code. `print` takes stdout's text, `printError` stderr's lines. */
export async function main(
    argv: string[],
    print: Print = (s) => process.stdout.write(`${s}\n`),
    printError: Print = (s) => console.error(s),
): Promise<number> {
    let options: CliOptions;
    try {
        options = parseArgs(argv);
        checkOutDir(options.out);
    } catch (err) {
        if (err instanceof UsageError || err instanceof OutDirError) {
            printError(err.message);
            return 2;
        }
        throw err;
    }
    let plan: FullPlan;
    let old: PlanJson | undefined;
    const file = options.configFile ?? path.join(PROJECT_ROOT, `Pulumi.${options.stack}.yaml`);
    try {
        // The old plan is read before anything is written: `--diff out/<stage>/plan.json` compares with it.
        old = options.diff ? readOldPlan(options.diff) : undefined;
        const config = loadStackConfig(file);
        plan = await planStage({ stack: options.stack, config, preview: options.preview });
    } catch (err) {
        if (err instanceof ConfigError) {
            printError(err.message);
            if (options.json)
                print(
                    JSON.stringify(
                        { stack: options.stack, errors: err.problems.map((p) => p.message) },
                        null,
                        2,
                    ),
                );
            return 1;
        }
        if (err instanceof PlanFileError) {
            printError(err.message);
            return 1;
        }
        if (err instanceof NameLimitError) {
            printError(`plan failed as pulumi up would: ${err.message}`);
            return 1;
        }
        throw err;
    }
    const score = scorePlan(plan.resources, { artifacts: plan.artifacts });
    const base = computeCost(plan.resources);
    const cost = { ...base, warnings: [...base.warnings, ...regionEipWarnings(options.stack, file)] };
    const policy = await runPolicies(plan.resources);
    const json = planJson(plan, score, cost, policy);
    const certificates = certificateHorizons(plan.resources);
    const diff: PlanDiff | undefined = old ? diffPlans(old, json as unknown as PlanJson) : undefined;
    const upgrades = old && diff ? upgradePlans(old, json as unknown as PlanJson, diff) : [];
    const summary = options.markdown
        ? renderMarkdown({
              plan: json as unknown as PlanJson,
              score,
              cost,
              diff,
              upgrades,
              policy,
              certificates,
          })
        : undefined;
    writeOutDir(options.out, plan, json, {
        "graph.md": renderGraphMarkdown(plan.stack, plan.resources),
        ...(summary ? { "summary.md": summary } : {}),
    });
    if (options.json)
        print(JSON.stringify(diff ? { ...json, diff: { ...diffJson(diff), upgrades } } : json, null, 2));
    else if (summary) print(summary);
    else {
        const diffText = diff
            ? `\n\n${[...renderDiffText(diff, options.diff as string), ...renderUpgradeText(upgrades)].join("\n")}`
            : "";
        const horizon = renderHorizonText(certificates, plan.resources);
        print(
            `${renderText(plan, options.out)}\n\n${renderScoreText(score, cost, policy)}\n\n${horizon}${diffText}`,
        );
    }
    // The stage's score.minimumGrade and the policy pack's mandatory rules gate the plan, after the
    // outputs are written so reviewers see why.
    const minimum = validateStageConfig(options.stack, loadStackConfig(file)).config?.score.minimumGrade;
    const failures = [
        ...(minimum ? [minimumGradeError(score, minimum)] : []),
        // The change `pulumi preview` would refuse (the version guard's check): the pull request fails here.
        ...upgrades.filter((u) => u.problem).map((u) => `upgrade of ${u.cluster} refused: ${u.problem}`),
        ...mandatory(policy).map(
            (v) => `policy ${v.policy} (mandatory) on ${v.urn || "the stack"}: ${v.message}`,
        ),
    ].filter((f): f is string => f !== undefined);
    for (const f of failures) printError(f);
    return failures.length > 0 ? 1 : 0;
}

/** Writes `text` to a stream and resolves once it is handed to the OS (pipes included). */
function flushed(stream: NodeJS.WriteStream, text: string): Promise<void> {
    return new Promise((resolve) => (text === "" ? resolve() : stream.write(text, () => resolve())));
}

/**
 * The command: runs {@link main} on process.argv, writes stdout in one piece and exits only once it has
 * drained, so that a piped --json of any size arrives whole (exiting before the drain cut it at 64 KiB).
 */
export function run(): void {
    const chunks: string[] = [];
    main(process.argv.slice(2), (s) => chunks.push(`${s}\n`))
        .catch((err) => {
            process.stderr.write(
                `plan failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
            );
            return 3;
        })
        .then(async (code) => {
            await flushed(process.stdout, chunks.join(""));
            await flushed(process.stderr, "");
            process.exit(code);
        });
}

if (require.main === module) run();

/**
 * The Elastic IP budget of the region this stage deploys to, counted over every `Pulumi.<stage>.yaml`
 * beside its config file (the others read as they are; one that does not validate is left out).
 */
export function regionEipWarnings(stack: string, configFile: string): string[] {
    const dir = path.dirname(configFile);
    const stages = [{ stage: stack, file: configFile }];
    for (const f of fs.readdirSync(dir).sort()) {
        const m = /^Pulumi\.([^.]+)\.yaml$/.exec(f);
        if (m && m[1] !== stack) stages.push({ stage: m[1], file: path.join(dir, f) });
    }
    const counted = stages.flatMap(({ stage, file }) => {
        try {
            const config = validateStageConfig(stage, loadStackConfig(file)).config;
            return config ? [stageElasticIps(config)] : [];
        } catch {
            return [];
        }
    });
    return elasticIpWarnings(counted, stack);
}
