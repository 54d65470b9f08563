// One benchmark run in its own process, so that peak memory is this run's alone. Prints one JSON line.
// Usage: child.ts stage <stack> | reference <stack> | app <n> | direct <n>
import { planStage } from "../../plan/plan";
import { runUnderMocks } from "../../plan/runtime";
import { directProgram, generatedAppProgram, referenceStageProgram } from "./programs";

/** Resource types that are one application service each. */
const SERVICE_TYPES = new Set([
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:CronJob",
    "keelson:app:FileStore",
]);

async function main(kind: string, arg: string): Promise<void> {
    // Pulumi captures a stack trace for every registration; under ts-node each one would be rewritten
    // through source maps, which doubles the cost of a run and measures the tooling, not the program.
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    let program: (() => Promise<{ resources: { type: string; custom: boolean }[] }>) | undefined = undefined;
    let services = 0;
    if (kind === "stage") {
        program = () => planStage({ stack: arg });
    } else if (kind === "reference") {
        program = () => planStage({ stack: arg, program: referenceStageProgram });
    } else if (kind === "app" || kind === "direct") {
        services = Number(arg);
        const p = kind === "app" ? generatedAppProgram(services) : directProgram(services);
        program = () => runUnderMocks({ stack: "bench" }, p);
    } else {
        throw new Error(`unknown run kind ${kind}; use stage, reference, app or direct`);
    }
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const result = await program();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (kind === "stage" || kind === "reference")
        services = result.resources.filter((r) => SERVICE_TYPES.has(r.type)).length;
    const line = {
        services,
        resources: result.resources.filter((r) => r.custom).length,
        seconds: Number(seconds.toFixed(3)),
        cpu_seconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(3)),
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
