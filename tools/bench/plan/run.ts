// `npm run bench:plan [-- --json] [-- --sizes 10,100,1000]`
// Time and peak memory of the offline plan for each shipped stage, and of generated applications of 10,
// 100 and 1,000 services, each in its own process; plus the overhead of the Application component over
// registering the same Kubernetes objects directly with @pulumi/kubernetes under the same mocks.
import { spawnSync } from "child_process";
import * as path from "path";

/** One measured run. */
export interface BenchRun {
    readonly name: string;
    readonly services: number;
    /** Custom resources registered. */
    readonly resources: number;
    /** Wall-clock seconds of the run (program start to last registration), excluding process start. */
    readonly seconds: number;
    /** CPU seconds of the run (user + system), steadier than wall time on a busy machine. */
    readonly cpu_seconds: number;
    /** Peak resident memory of the run's process, MB. */
    readonly peak_mb: number;
    /** Set when the run failed; the other figures are then 0. */
    readonly error?: string;
}

const ROOT = path.resolve(__dirname, "..", "..", "..");
const STAGES = ["dev", "staging", "prod"];

/** Runs one case in a fresh Node process and parses its JSON line. */
export function runChild(name: string, kind: string, arg: string): BenchRun {
    const child = spawnSync(
        process.execPath,
        [
            "--max-old-space-size=8192",
            "-r",
            "ts-node/register/transpile-only",
            path.join(__dirname, "child.ts"),
            kind,
            arg,
        ],
        {
            cwd: ROOT,
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        },
    );
    const last = child.stdout.trim().split("\n").pop() ?? "";
    if (child.status !== 0 || !last.startsWith("{")) {
        const error = (child.stderr || child.stdout || `exit ${child.status}`)
            .trim()
            .split("\n")
            .slice(0, 3)
            .join(" | ");
        return { name, services: 0, resources: 0, seconds: 0, cpu_seconds: 0, peak_mb: 0, error };
    }
    return { name, ...(JSON.parse(last) as Omit<BenchRun, "name">) };
}

/** Growth of the generated runs: seconds per service, and marginal seconds per added service between sizes. */
export interface Growth {
    readonly name: string;
    readonly per_service_ms: number;
    /** per_service_ms divided by the previous size's (1.0 or less = linear or better). */
    readonly per_service_ratio: number | null;
    /** (t(n) - t(previous n)) / (n - previous n): constant when cost grows linearly. */
    readonly marginal_ms: number | null;
    /** marginal_ms divided by the previous size's marginal_ms (1.0 = linear). */
    readonly marginal_ratio: number | null;
}

/** Computes the growth table of the runs whose names start with `prefix`, in size order. */
export function linearity(runs: readonly BenchRun[], prefix: string): Growth[] {
    const gen = runs.filter((r) => r.name.startsWith(prefix) && !r.error && r.services > 0);
    const out: Growth[] = [];
    gen.forEach((r, i) => {
        const prev = gen[i - 1];
        const marginal = prev ? ((r.seconds - prev.seconds) / (r.services - prev.services)) * 1000 : null;
        const prevMarginal = i > 0 ? out[i - 1].marginal_ms : null;
        out.push({
            name: r.name,
            per_service_ms: Number(((r.seconds / r.services) * 1000).toFixed(2)),
            per_service_ratio: prev
                ? Number((r.seconds / r.services / (prev.seconds / prev.services)).toFixed(2))
                : null,
            marginal_ms: marginal === null ? null : Number(marginal.toFixed(2)),
            marginal_ratio:
                marginal !== null && prevMarginal ? Number((marginal / prevMarginal).toFixed(2)) : null,
        });
    });
    return out;
}

function main(argv: string[]): number {
    const json = argv.includes("--json");
    const sizesAt = argv.indexOf("--sizes");
    const sizes = sizesAt >= 0 ? argv[sizesAt + 1].split(",").map(Number) : [10, 100, 1000];
    const log = (s: string) => {
        if (!json) process.stdout.write(`${s}\n`);
        else process.stderr.write(`${s}\n`);
    };
    const runs: BenchRun[] = [];
    const measure = (name: string, kind: string, arg: string) => {
        const r = runChild(name, kind, arg);
        runs.push(r);
        log(
            r.error
                ? `${name.padEnd(18)} FAILED: ${r.error}`
                : `${name.padEnd(18)} ${String(r.services).padStart(5)} services ${String(r.resources).padStart(6)} resources ` +
                      `${r.seconds.toFixed(2).padStart(7)} s (cpu ${r.cpu_seconds.toFixed(2)} s) ${String(r.peak_mb).padStart(5)} MB`,
        );
    };
    for (const stage of STAGES) measure(`stage-${stage}`, "stage", stage);
    // The add-ons and the reference application alone, per stage, as index.ts composes them.
    for (const stage of STAGES) measure(`reference-${stage}`, "reference", stage);
    for (const n of sizes) measure(`app-${n}`, "app", String(n));
    for (const n of sizes) measure(`direct-${n}`, "direct", String(n));

    const largest = Math.max(...sizes);
    const app = runs.find((r) => r.name === `app-${largest}`);
    const direct = runs.find((r) => r.name === `direct-${largest}`);
    const ok = app && direct && !app.error && !direct.error && direct.seconds > 0;
    // The ratio is taken on CPU seconds: on a shared machine wall time mostly measures the neighbours.
    const overheadWall = ok ? Number((app.seconds / direct.seconds).toFixed(2)) : null;
    const overhead = ok ? Number((app.cpu_seconds / direct.cpu_seconds).toFixed(2)) : null;
    const growth = linearity(runs, "app-");
    log("");
    for (const g of growth) {
        const marginal = g.marginal_ms === null ? "" : `, ${g.marginal_ms.toFixed(2)} ms per added service`;
        const perRatio = g.per_service_ratio === null ? "" : ` (x${g.per_service_ratio} per service)`;
        const ratio = g.marginal_ratio === null ? "" : ` (x${g.marginal_ratio}; 1.0 is linear)`;
        log(`${g.name.padEnd(18)} ${g.per_service_ms.toFixed(2)} ms/service${perRatio}${marginal}${ratio}`);
    }
    log(
        `overhead ratio at ${largest} services: ${overhead} (CPU seconds; ${overheadWall} wall) for Application vs direct @pulumi/kubernetes`,
    );
    if (json) {
        const doc = {
            runs: runs.map((r) => ({
                name: r.name,
                services: r.services,
                resources: r.resources,
                seconds: r.seconds,
                peak_mb: r.peak_mb,
                cpu_seconds: r.cpu_seconds,
                ...(r.error ? { error: r.error } : {}),
            })),
            overhead_ratio: overhead,
            overhead_ratio_wall: overheadWall,
            per_service: growth,
        };
        process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    }
    // A stage run fails only when another part of index.ts does; Keelson's own runs must not.
    return runs.some((r) => r.error && !r.name.startsWith("stage-")) ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
