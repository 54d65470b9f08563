import { ConfigProblem } from "./problems";
import { DNS_LABEL, DNS_NAME, Reader } from "./reader";
import { AddonsConfig, AppConfig, ScoreConfig } from "./types";

/** Parses `keelson:app`, with defaults by stage, reporting every problem. */
export function parseApp(
    raw: unknown,
    ctx: { stage: string; production: boolean },
    problems: ConfigProblem[],
): AppConfig {
    const r = new Reader("app", raw, problems, [
        "hostname",
        "webReplicas",
        "workerReplicas",
        "databaseStorageGb",
        "namespace",
    ]);
    return {
        hostname: r.string("hostname", `${ctx.stage.toLowerCase()}.keelson.example.com`, {
            pattern: DNS_NAME,
            fix: "is not a DNS name; use a host name such as app.example.com",
        }),
        webReplicas: r.int("webReplicas", ctx.production ? 3 : 1, 0, 100),
        workerReplicas: r.int("workerReplicas", ctx.production ? 2 : 1, 0, 100),
        databaseStorageGb: r.int("databaseStorageGb", ctx.production ? 100 : 10, 1, 16384),
        namespace: r.string("namespace", "app", {
            pattern: DNS_LABEL,
            fix: "is not a valid namespace; use lowercase letters, digits and '-', starting with a letter",
        }),
    };
}

/** Parses `keelson:addons`, reporting every problem. */
export function parseAddons(raw: unknown, ctx: { stage: string }, problems: ConfigProblem[]): AddonsConfig {
    const r = new Reader("addons", raw, problems, [
        "cni",
        "metricsServer",
        "logging",
        "nodeMetrics",
        "etcdBackups",
    ]);
    return {
        cni: r.oneOf("cni", ["calico", "cilium"] as const, "calico"),
        metricsServer: r.bool("metricsServer", true),
        logging: r.bool("logging", true),
        nodeMetrics: r.bool("nodeMetrics", true),
        etcdBackups: r.bool("etcdBackups", ctx.stage !== "dev"),
    };
}

/** Parses `keelson:score`, reporting every problem. */
export function parseScore(raw: unknown, problems: ConfigProblem[]): ScoreConfig {
    const r = new Reader("score", raw, problems, ["minimumGrade"]);
    if (!r.has("minimumGrade")) return {};
    return { minimumGrade: r.oneOf("minimumGrade", ["A", "B", "C", "D", "E", "F"] as const, "F") };
}
