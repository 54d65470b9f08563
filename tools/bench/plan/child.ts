// One benchmark run in its own process, so that peak memory is this run's alone. Prints one JSON line.
// Usage (compiled, from dist/): child.js stage <stack> | command <stack> | reference <stack> | app <n> | direct <n>
// `command` times the user's command's own work (tools/plan/cli.ts main: plan, policies, text, --json and the
// files in a temporary --out) inside this process: what `npm run plan` adds to it is the start.
const loadStart = process.hrtime.bigint();
// Imported after the clock starts, so that module loading is measured apart from the run.
/* eslint-disable @typescript-eslint/no-require-imports */
const fs = require("fs") as typeof import("fs");
const os = require("os") as typeof import("os");
const path = require("path") as typeof import("path");
const { planStage } = require("../../plan/plan") as typeof import("../../plan/plan");
const { runUnderMocks } = require("../../plan/runtime") as typeof import("../../plan/runtime");
const cli = require("../../plan/cli") as typeof import("../../plan/cli");
const programs = require("./programs") as typeof import("./programs");
/* eslint-enable @typescript-eslint/no-require-imports */

/** Resource types that are one application service each. */
const SERVICE_TYPES = new Set([
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:CronJob",
    "keelson:app:FileStore",
]);

async function main(kind: string, arg: string): Promise<void> {
    let program: (() => Promise<{ resources: { type: string; custom: boolean }[] }>) | undefined = undefined;
    let services = 0;
    if (kind === "stage") {
        program = () => planStage({ stack: arg });
    } else if (kind === "command") {
        program = async () => {
            const out = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-bench-command-"));
            const printed: string[] = [];
            try {
                const code = await cli.main(["--stack", arg, "--json", "--out", path.join(out, arg)], (s) =>
                    printed.push(s),
                );
                if (code !== 0) throw new Error(`the plan of ${arg} exited ${code}`);
            } finally {
                fs.rmSync(out, { recursive: true, force: true });
            }
            return JSON.parse(printed.join("\n")) as { resources: { type: string; custom: boolean }[] };
        };
    } else if (kind === "reference") {
        program = () => planStage({ stack: arg, program: programs.referenceStageProgram });
    } else if (kind === "app" || kind === "direct") {
        services = Number(arg);
        const p = kind === "app" ? programs.generatedAppProgram(services) : programs.directProgram(services);
        program = () => runUnderMocks({ stack: "bench" }, p);
    } else {
        throw new Error(`unknown run kind ${kind}; use stage, command, reference, app or direct`);
    }
    const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const result = await program();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const total = process.cpuUsage();
    if (kind === "stage" || kind === "command" || kind === "reference")
        services = result.resources.filter((r) => SERVICE_TYPES.has(r.type)).length;
    const line = {
        services,
        resources: result.resources.filter((r) => r.custom).length,
        load_seconds: Number(loadSeconds.toFixed(3)),
        seconds: Number(seconds.toFixed(3)),
        cpu_seconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
        process_cpu_seconds: Number(((total.user + total.system) / 1e6).toFixed(3)),
        peak_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
}

main(process.argv[2], process.argv[3]).then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        process.exit(1);
    },
);
