// `npm run bench:plan [-- --json] [-- --sizes 10,100,1000] [-- --quick]`
// What a user waits for and what it costs, all in one run (ratios side by side are steadier than times on a
// shared machine):
// - each shipped stage through the user's command (`npm run plan` = node tools/plan/launch.js, process start
//   to exit, module loading included) beside the same work (plan, policies, output) timed inside one process,
//   and the plan alone (planStage);
// - generated applications of 10, 100 and 1,000 services, and the same objects registered directly with
//   @pulumi/kubernetes (the raw SDK), each in its own compiled process with a 1 GB old space;
// - the targets: command <= 1.5x its work in-process; 1,000 services <= 10 s and <= 1 GB; per-service cost flat from
//   100 to 1,000 (ratio <= 1.2); Keelson against the raw SDK <= 1.1x CPU and memory.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** One measured run. */
export interface BenchRun {
    readonly name: string;
    readonly services: number;
    /** Custom resources registered. */
    readonly resources: number;
    /** Wall seconds of the whole process, spawn to exit (module loading included). */
    readonly process_seconds: number;
    /** Wall seconds of the plan inside its process (program start to last registration). */
    readonly seconds: number;
    /** CPU seconds of the plan inside its process (user + system), steadier than wall time. */
    readonly cpu_seconds: number;
    /** CPU seconds of the whole process. */
    readonly process_cpu_seconds: number;
    /** Peak resident memory of the process, MB. */
    readonly peak_mb: number;
    /** Stages only: wall seconds of the user's command (`npm run plan -- --stack <s> --json`). */
    readonly command_seconds?: number;
    /**
     * Stages only: wall seconds of that command's own work (plan, policies, text, JSON, files) timed inside
     * one process (child.ts `command`): the command's wall time less this is its start.
     */
    readonly command_in_process_seconds?: number;
    /** Set when the run failed; the figures are then 0. */
    readonly error?: string;
}

const ROOT = path.resolve(__dirname, "..", "..", "..");
const STAGES = ["dev", "staging", "prod"];
/** Old-space cap of every plan process: bounded heap, bounded RSS. */
/**
 * Node flags of every measured child: the old space bounded at 1 GB (the memory target), and the young
 * generation's semi-spaces at 64 MB as `npm run plan` runs (package.json): a plan allocates short-lived
 * objects (promises, serialized properties) fast, and with V8's default 16 MB they are scavenged often and
 * promoted early; 64 MB cut the 1,000-service plan's time by about a quarter and its peak RSS as well.
 */
export const NODE_FLAGS = ["--max-old-space-size=1024", "--max-semi-space-size=64"];
const ZERO = {
    services: 0,
    resources: 0,
    process_seconds: 0,
    seconds: 0,
    cpu_seconds: 0,
    process_cpu_seconds: 0,
    peak_mb: 0,
};

/** Builds dist/ if a source is newer (tools/plan/build.js); once per process. */
let buildOk: boolean | undefined = undefined;
function built(): boolean {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    buildOk ??= (require("../../plan/build.js") as { ensureBuilt(): boolean }).ensureBuilt();
    return buildOk;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const round = (n: number, d = 3) => Number(n.toFixed(d));

function failure(child: ReturnType<typeof spawnSync>): string {
    return String(child.stderr || child.stdout || `exit ${child.status}`)
        .trim()
        .split("\n")
        .slice(0, 3)
        .join(" | ");
}

/** Runs one case in a fresh compiled Node process and parses its JSON line. */
export function runChild(name: string, kind: string, arg: string): BenchRun {
    if (!built()) return { name, ...ZERO, error: "the build (npm run build) failed" };
    const t0 = now();
    const child = spawnSync(
        process.execPath,
        [...NODE_FLAGS, path.join(ROOT, "dist", "tools", "bench", "plan", "child.js"), kind, arg],
        { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    const processSeconds = now() - t0;
    const last = child.stdout.trim().split("\n").pop() ?? "";
    if (child.status !== 0 || !last.startsWith("{")) return { name, ...ZERO, error: failure(child) };
    const measured = JSON.parse(last) as Omit<BenchRun, "name" | "process_seconds">;
    return { name, ...measured, process_seconds: round(processSeconds) };
}

/** Wall seconds of the user's command for a stage, stdout discarded (as a pipe to a file would). */
export function runCommand(stage: string, out: string): number | string {
    const t0 = now();
    // The command itself, npm's own start included (about 0.3 s of it).
    const child = spawnSync("npm", ["run", "-s", "plan", "--", "--stack", stage, "--json", "--out", out], {
        cwd: ROOT,
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    const seconds = now() - t0;
    return child.status === 0 ? round(seconds) : failure(child);
}

/** The user's command's wall time over the same work timed inside one process. */
export const startupRatio = (r: BenchRun): number =>
    (r.command_seconds ?? 0) / Math.max(r.command_in_process_seconds ?? 0, 0.001);

/** Growth of the generated runs: milliseconds per service and its ratio to the previous size. */
export interface Growth {
    readonly name: string;
    readonly per_service_ms: number;
    readonly per_service_cpu_ms: number;
    /** per_service_cpu_ms divided by the previous size's (1.0 = flat). */
    readonly per_service_ratio: number | null;
}

/** The growth table of the runs whose names start with `prefix`, in size order. */
export function linearity(runs: readonly BenchRun[], prefix: string): Growth[] {
    const gen = runs.filter((r) => r.name.startsWith(prefix) && !r.error && r.services > 0);
    return gen.map((r, i) => {
        const prev = gen[i - 1];
        const perCpu = r.cpu_seconds / r.services;
        return {
            name: r.name,
            per_service_ms: round((r.seconds / r.services) * 1000, 2),
            per_service_cpu_ms: round(perCpu * 1000, 2),
            per_service_ratio: prev ? round(perCpu / (prev.cpu_seconds / prev.services), 2) : null,
        };
    });
}

/** One target, measured. */
export interface Target {
    readonly name: string;
    readonly value: number | null;
    readonly limit: number;
    readonly pass: boolean;
}

const target = (name: string, value: number | null, limit: number): Target => ({
    name,
    value: value === null ? null : round(value, 2),
    limit,
    pass: value !== null && value <= limit,
});

function main(argv: string[]): number {
    const json = argv.includes("--json");
    const sizesAt = argv.indexOf("--sizes");
    const sizes = sizesAt >= 0 ? argv[sizesAt + 1].split(",").map(Number) : [10, 100, 1000];
    const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);
    if (!built()) return 1;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-bench-"));
    const runs: BenchRun[] = [];
    const show = (r: BenchRun) =>
        log(
            r.error
                ? `${r.name.padEnd(16)} FAILED: ${r.error}`
                : `${r.name.padEnd(16)} ${String(r.services).padStart(5)} services ${String(r.resources).padStart(6)} resources ` +
                      `plan ${r.seconds.toFixed(2).padStart(6)} s (cpu ${r.cpu_seconds.toFixed(2)} s), process ${r.process_seconds.toFixed(2)} s, ` +
                      `${String(r.peak_mb).padStart(5)} MB` +
                      (r.command_seconds !== undefined
                          ? `; npm run plan ${r.command_seconds.toFixed(2)} s, its work in-process ${(r.command_in_process_seconds ?? 0).toFixed(2)} s`
                          : ""),
        );
    try {
        for (const stage of STAGES) {
            const r = runChild(`stage-${stage}`, "stage", stage);
            const inProcess = runChild(`command-${stage}`, "command", stage);
            const command = runCommand(stage, path.join(tmp, stage));
            const run =
                typeof command === "number" && !inProcess.error
                    ? { ...r, command_seconds: command, command_in_process_seconds: inProcess.seconds }
                    : { ...r, error: r.error ?? inProcess.error ?? String(command) };
            runs.push(run);
            show(run);
        }
        for (const stage of STAGES)
            (runs.push(runChild(`reference-${stage}`, "reference", stage)), show(runs[runs.length - 1]));
        for (const n of sizes)
            (runs.push(runChild(`app-${n}`, "app", String(n))), show(runs[runs.length - 1]));
        for (const n of sizes)
            (runs.push(runChild(`direct-${n}`, "direct", String(n))), show(runs[runs.length - 1]));
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }

    const largest = Math.max(...sizes);
    const find = (name: string) => runs.find((r) => r.name === name && !r.error);
    const app = find(`app-${largest}`);
    const direct = find(`direct-${largest}`);
    const growth = linearity(runs, "app-");
    const flat = growth.find((g) => g.name === `app-${largest}`)?.per_service_ratio ?? null;
    const stages = STAGES.map((s) => find(`stage-${s}`)).filter((r): r is BenchRun => r !== undefined);
    const worstStartup = stages.length ? Math.max(...stages.map(startupRatio)) : null;
    const targets: Target[] = [
        target("npm run plan wall / its work in-process (worst stage)", worstStartup, 1.5),
        target(`app-${largest} plan seconds`, app?.seconds ?? null, 10),
        target(`app-${largest} peak MB`, app?.peak_mb ?? null, 1024),
        target(`per-service CPU ratio, app-${largest} / previous size`, flat, 1.2),
        target("Keelson / raw SDK CPU", app && direct ? app.cpu_seconds / direct.cpu_seconds : null, 1.1),
        target("Keelson / raw SDK peak memory", app && direct ? app.peak_mb / direct.peak_mb : null, 1.1),
    ];
    log("");
    for (const g of growth) {
        const ratio =
            g.per_service_ratio === null
                ? ""
                : ` (x${g.per_service_ratio} per service against the previous size)`;
        log(
            `${g.name.padEnd(16)} ${g.per_service_ms.toFixed(2)} ms/service wall, ${g.per_service_cpu_ms.toFixed(2)} ms CPU${ratio}`,
        );
    }
    for (const s of stages)
        log(
            `${s.name.padEnd(16)} npm run plan / its work in-process: ${startupRatio(s).toFixed(2)}; ` +
                `start ${((s.command_seconds ?? 0) - (s.command_in_process_seconds ?? 0)).toFixed(2)} s`,
        );
    log("");
    for (const t of targets) log(`${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.value} (target <= ${t.limit})`);
    if (json)
        process.stdout.write(
            `${JSON.stringify({ node_flags: NODE_FLAGS, runs, per_service: growth, targets }, null, 2)}\n`,
        );
    // A stage run fails only when another part of index.ts does; Keelson's own runs must not.
    return runs.some((r) => r.error && !r.name.startsWith("stage-")) ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
