// `npm run plan -- --stack <stage> [--config-file <file>] [--json] [--markdown] [--diff <old.json>] [--out <dir>]`
// The offline plan: runs the real program under the mock engine, prints the resource tree, writes every
// rendered artifact under out/<stage>/, masks every secret. No cloud credentials, no Pulumi CLI.
import * as fs from "fs";
import * as path from "path";
import { validateStageConfig } from "../../components/config";
import { ConfigError } from "../../components/config/problems";
import { computeCost, CostEstimate, minimumGradeError, scorePlan, StackScore } from "../../components/score";
import { mandatory, PolicyViolation, runPolicies } from "../../policy/run";
import { diffPlans, PlanJson } from "./diff";
import { renderGraphMarkdown } from "./graph";
import { renderMarkdown, renderScoreText } from "./markdown";
import { FullPlan, planStage, PROJECT_ROOT } from "./plan";
import { loadStackConfig } from "./stack-config";
import { countByType, renderTree } from "./tree";
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
}

const USAGE =
    "usage: npm run plan -- --stack <stage> [--config-file <file>] [--json] [--markdown] [--diff <old.json>] [--out <dir>]";

/** Parses argv (without node and script); throws with the usage on bad arguments. */
export function parseArgs(argv: string[]): CliOptions {
    let stack: string | undefined;
    let configFile: string | undefined;
    let out: string | undefined;
    let json = false;
    let markdown = false;
    let diff: string | undefined;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = () => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value\n${USAGE}`);
            return v;
        };
        if (arg === "--stack") stack = value();
        else if (arg === "--config-file") configFile = value();
        else if (arg === "--out") out = value();
        else if (arg === "--json") json = true;
        else if (arg === "--markdown") markdown = true;
        else if (arg === "--diff") diff = value();
        else throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
    if (!stack) throw new Error(`--stack is required\n${USAGE}`);
    return { stack, configFile, json, markdown, diff, out: out ?? path.join(PROJECT_ROOT, "out", stack) };
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
        resources: plan.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent ?? null,
            dependencies: r.dependencies,
            inputs: r.inputs,
        })),
        outputs: plan.outputs,
        ...(score
            ? { score: { overall: score.overall, metrics: score.metrics, findings: score.findings } }
            : {}),
        ...(cost ? { cost } : {}),
        ...(policy ? { policy: { mandatory: mandatory(policy).length, violations: policy } } : {}),
    };
}

/** Writes the artifacts and plan.json under `dir` (emptied first, so no stale file survives). */
export function writeOutDir(dir: string, plan: FullPlan, json: Record<string, unknown>): void {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    for (const a of plan.artifacts) {
        const file = path.join(dir, a.path);
        if (!file.startsWith(dir + path.sep)) throw new Error(`artifact path ${a.path} escapes ${dir}`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, a.content);
    }
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(json, null, 2) + "\n");
}

/** The human-readable report. */
export function renderText(plan: FullPlan, outDir: string): string {
    const resources = plan.resources.filter((r) => r.custom).length;
    const lines = [
        `Keelson offline plan: stack ${plan.stack}, ${resources} resources in ${plan.resources.length - resources} components`,
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

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], print: (s: string) => void = console.log): Promise<number> {
    let options: CliOptions;
    try {
        options = parseArgs(argv);
    } catch (err) {
        print((err as Error).message);
        return 2;
    }
    let plan: FullPlan;
    try {
        plan = await planStage({ stack: options.stack, configFile: options.configFile });
    } catch (err) {
        if (err instanceof ConfigError) {
            if (options.json) {
                print(
                    JSON.stringify(
                        { stack: options.stack, errors: err.problems.map((p) => p.message) },
                        null,
                        2,
                    ),
                );
            } else {
                print(err.message);
            }
            return 1;
        }
        throw err;
    }
    const score = scorePlan(plan.resources, { artifacts: plan.artifacts });
    const cost = computeCost(plan.resources);
    const policy = await runPolicies(plan.resources);
    const json = planJson(plan, score, cost, policy);
    writeOutDir(options.out, plan, json);
    fs.writeFileSync(path.join(options.out, "graph.md"), renderGraphMarkdown(plan.stack, plan.resources));
    const diff = options.diff
        ? diffPlans(
              JSON.parse(fs.readFileSync(options.diff, "utf8")) as PlanJson,
              json as unknown as PlanJson,
          )
        : undefined;
    const summary = options.markdown ? renderMarkdown({ plan, score, cost, diff, policy }) : undefined;
    if (summary) fs.writeFileSync(path.join(options.out, "summary.md"), summary);
    if (options.json) print(JSON.stringify(json, null, 2));
    else print(summary ?? `${renderText(plan, options.out)}\n\n${renderScoreText(score, cost, policy)}`);
    // The stage's score.minimumGrade and the policy pack's mandatory rules gate the plan, after the
    // outputs are written so reviewers see why.
    const file = options.configFile ?? path.join(PROJECT_ROOT, `Pulumi.${options.stack}.yaml`);
    const minimum = validateStageConfig(options.stack, loadStackConfig(file)).config?.score.minimumGrade;
    const failures = [
        ...(minimum ? [minimumGradeError(score, minimum)] : []),
        ...mandatory(policy).map(
            (v) => `policy ${v.policy} (mandatory) on ${v.urn || "the stack"}: ${v.message}`,
        ),
    ].filter((f): f is string => f !== undefined);
    for (const f of failures) console.error(f);
    return failures.length > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            console.error(`plan failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
            process.exit(3);
        },
    );
}
