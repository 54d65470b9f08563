import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { loadApplication, mergeSpecs } from "../app/load";
import { PoolInfo } from "../app/placement";
import { PublishVia } from "../app/render/routes";
import { REFERENCE_APP_FILE, referenceVars } from "../app/reference-app-file";
import { validateApplication } from "../app/validate";
import { ConfigProblem } from "./problems";
import { DNS_LABEL, DNS_NAME, Reader } from "./reader";
import { AddonsConfig, AppConfig, ScoreConfig } from "./types";

/** What parsing `keelson:app` needs besides the value. */
export interface AppContext {
    readonly stage: string;
    readonly production: boolean;
    /** Reads an application file named by `keelson:app.file`. Default: from the current directory (the Pulumi project). */
    readonly readFile?: (file: string) => string;
    /** The value of secret config `keelson:secret-<name>`, or undefined when it is not set. */
    readonly secret?: (name: string) => pulumi.Input<string> | undefined;
    /** Worker pools of the cluster, for placement by pool name; undefined on an existing cluster. */
    readonly pools?: readonly PoolInfo[];
}

const readFromProject = (file: string) => fs.readFileSync(path.resolve(file), "utf8");

/**
 * Parses `keelson:app`, with defaults by stage, reporting every problem. The application comes from
 * `file` (a service file), else inline `services`, else the shipped reference app; inline `services`
 * next to a `file` are merged over it per service (per-stage overrides). The result is the typed graph.
 */
export function parseApp(raw: unknown, ctx: AppContext, problems: ConfigProblem[]): AppConfig {
    const r = new Reader("app", raw, problems, [
        "hostname",
        "webReplicas",
        "workerReplicas",
        "databaseStorageGb",
        "namespace",
        "file",
        "services",
        "vars",
        "publish",
    ]);
    const sizing = {
        hostname: r.string("hostname", `${ctx.stage.toLowerCase()}.keelson.example.com`, {
            pattern: DNS_NAME,
            fix: "is not a DNS name; use a host name such as app.example.com",
        }),
        webReplicas: r.int("webReplicas", ctx.production ? 3 : 1, 0, 100),
        workerReplicas: r.int("workerReplicas", ctx.production ? 2 : 1, 0, 100),
        databaseStorageGb: r.int("databaseStorageGb", ctx.production ? 100 : 10, 1, 16384),
    };
    const namespace = r.string("namespace", "app", {
        pattern: DNS_LABEL,
        fix: "is not a valid namespace; use lowercase letters, digits and '-', starting with a letter",
    });
    const file = r.optionalString("file", {
        pattern: /\.ya?ml$/,
        fix: "is not a YAML file; name a .yaml file",
    });
    const vars = r.has("vars") ? r.raw("vars") : {};
    if (typeof vars !== "object" || vars === null || Array.isArray(vars))
        r.report("app.vars", vars, "is not a mapping; write vars as name: value pairs");
    const inline = r.raw("services");
    let doc: unknown = undefined;
    let source = "reference";
    let prefix = "app.";
    if (file) {
        source = file;
        prefix = `${file}:`;
        try {
            doc = parse((ctx.readFile ?? readFromProject)(file));
        } catch (e) {
            r.report(
                "app.file",
                file,
                `cannot be read (${(e as Error).message.split("\n")[0]}); name a YAML file relative to the project`,
            );
        }
    } else if (inline !== undefined) {
        source = "inline";
        doc = { services: inline };
    } else {
        prefix = "reference-app.yaml:";
        doc = parse(fs.readFileSync(REFERENCE_APP_FILE, "utf8"));
    }
    const publish = r.has("publish") ? parsePublish(r.raw("publish"), problems) : undefined;
    const base = {
        ...sizing,
        namespace,
        services: [],
        roots: [],
        secrets: [],
        source,
        ...(publish ? { publish } : {}),
    };
    if (doc === undefined || problems.length > 0) return base;
    const loaded = loadApplication(file && inline !== undefined ? overlay(doc, inline) : doc, {
        prefix,
        vars: {
            stage: ctx.stage,
            ...sizing,
            ...(source === "reference" ? referenceVars(sizing) : {}),
            ...(vars as object),
        },
        secret: ctx.secret,
    });
    problems.push(...loaded.problems);
    if (loaded.problems.length > 0) return base;
    const ns = loaded.namespace ?? namespace;
    const semantic = validateApplication({
        name: `keelson-${ctx.stage}`,
        namespace: ns,
        services: loaded.roots,
        pools: ctx.pools,
    });
    for (const p of semantic)
        problems.push({ key: `${prefix}${p.key}`, value: p.value, message: `${prefix}${p.message}` });
    return {
        ...sizing,
        namespace: ns,
        services: loaded.services,
        roots: loaded.roots,
        secrets: loaded.secrets,
        source,
        ...(publish ? { publish } : {}),
    };
}

/** `app.publish`: a Gateway (`gateway: { name, namespace, sectionName? }`) or `ingressClassName`, and `proxyNamespace`. */
function parsePublish(raw: unknown, problems: ConfigProblem[]): PublishVia {
    const r = new Reader("app.publish", raw, problems, ["gateway", "ingressClassName", "proxyNamespace"]);
    const name = {
        pattern: /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/,
        fix: "is not a name; use lowercase letters, digits, '-' and '.'",
    };
    const label = {
        pattern: DNS_LABEL,
        fix: "is not a namespace; use lowercase letters, digits and '-', starting with a letter",
    };
    let gateway: PublishVia["gateway"];
    if (r.has("gateway")) {
        const g = new Reader("app.publish.gateway", r.raw("gateway"), problems, [
            "name",
            "namespace",
            "sectionName",
        ]);
        for (const key of ["name", "namespace"])
            if (!g.has(key)) g.report(g.at(key), undefined, `is required; name the Gateway's ${key}`);
        const sectionName = g.optionalString("sectionName", label);
        gateway = {
            name: g.string("name", "", name),
            namespace: g.string("namespace", "", label),
            ...(sectionName ? { sectionName } : {}),
        };
    }
    const ingressClassName = r.optionalString("ingressClassName", name);
    const proxyNamespace = r.optionalString("proxyNamespace", label);
    return {
        ...(gateway ? { gateway } : {}),
        ...(ingressClassName ? { ingressClassName } : {}),
        ...(proxyNamespace ? { proxyNamespace } : {}),
    };
}

/** A file's services with the stage's per-service overrides merged over them. */
function overlay(doc: unknown, services: unknown): unknown {
    return mergeSpecs(doc, { services });
}

/** Parses `keelson:addons`, reporting every problem. */
export function parseAddons(raw: unknown, ctx: { stage: string }, problems: ConfigProblem[]): AddonsConfig {
    const r = new Reader("addons", raw, problems, [
        "cni",
        "metricsServer",
        "logging",
        "nodeMetrics",
        "etcdBackups",
        "clusterAutoscaler",
    ]);
    return {
        cni: r.oneOf("cni", ["calico", "cilium"] as const, "calico"),
        metricsServer: r.bool("metricsServer", true),
        logging: r.bool("logging", true),
        nodeMetrics: r.bool("nodeMetrics", true),
        etcdBackups: r.bool("etcdBackups", ctx.stage !== "dev"),
        clusterAutoscaler: r.bool("clusterAutoscaler", false),
    };
}

/** Parses `keelson:score`, reporting every problem. */
export function parseScore(raw: unknown, problems: ConfigProblem[]): ScoreConfig {
    const r = new Reader("score", raw, problems, ["minimumGrade"]);
    if (!r.has("minimumGrade")) return {};
    return { minimumGrade: r.oneOf("minimumGrade", ["A", "B", "C", "D", "E", "F"] as const, "F") };
}
