// The stage configuration: read every `keelson:*` key, apply the stage's defaults, and report every problem
// at once before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { parseAddons, parseApp, parseScore } from "./app";
import { parseCluster } from "./cluster";
import { checkClusterAutoscaler } from "./pools";
import { certificateSecretKeys, parseEdge } from "./edge";
import { parseNetwork } from "./network";
import { awsSettings, checkAwsKeys, PLAIN } from "./aws";
import { planStage } from "./plan-stage";
import { ConfigError, ConfigProblem, didYouMean, show } from "./problems";
import { StageConfig } from "./types";

export * from "./types";
export { ConfigError, ConfigProblem } from "./problems";
export { certificateSecretKeys } from "./edge";
export {
    addonsArgs,
    addonsConfigArgs,
    appArgs,
    clusterArgs,
    clusterConfigArgs,
    edgeArgs,
    edgeConfigArgs,
    networkArgs,
    networkConfigArgs,
    stageTags,
} from "./args";
export { planStage } from "./plan-stage";
export { awsProviderArgs } from "./aws";

/** The config of a stage as Pulumi holds it: fully qualified keys, structured values already parsed. */
export interface RawStageConfig {
    /** e.g. `{ "aws:region": "us-east-1", "keelson:cluster": { masters: 3 } }` */
    readonly values: Readonly<Record<string, unknown>>;
    /** Keys whose values are Pulumi secrets. */
    readonly secretKeys: readonly string[];
    /** Reads an application file (`keelson:app.file`). Default: from the current directory (the project). */
    readonly readFile?: (file: string) => string;
}

const SECTIONS = ["network", "cluster", "edge", "app", "addons", "score", "production", "kubeconfig"];
const CERT_KEY = /^keelson:tls-([a-z][-a-z0-9]*)-(cert|key)$/;
/** Shown instead of a secret's value. */
const SECRET = "[secret]";
/**
 * Stage (stack) names Keelson can derive every resource name from: `keelson-<stage>` must be a DNS
 * label for the application and fit AWS's name limits (IAM roles, load balancers, S3 buckets) with the
 * suffixes Keelson and Pulumi add.
 */
export const STAGE_NAME = /^[a-z][-a-z0-9]{0,23}$/;
/** Secrets an application's services read (`secretEnv: { NAME: <name> }`). */
const APP_SECRET_KEY = /^keelson:secret-([a-z][-a-z0-9]*)$/;

/** True for stacks named like production. */
export function isProductionStage(stage: string): boolean {
    return ["prod", "production"].includes(stage.toLowerCase());
}

/**
 * Validates a stage's raw config. Returns the typed config when there is no problem, and every problem
 * (key, value, fix) otherwise. Pure: reads nothing but its arguments.
 */
export function validateStageConfig(
    stage: string,
    raw: RawStageConfig,
): { config?: StageConfig; problems: ConfigProblem[] } {
    const problems: ConfigProblem[] = [];
    const report = (key: string, value: unknown, text: string) =>
        problems.push({
            key,
            value,
            message: `${key}: ${value === PLAIN || value === SECRET ? value : show(value)} ${text}`,
        });
    const secret = new Set(raw.secretKeys);
    // A section stored as a secret is reported below and not parsed: its value is never echoed.
    const values = Object.fromEntries(
        Object.entries(raw.values).filter(
            ([k]) => !(secret.has(k) && k !== "keelson:kubeconfig" && SECTIONS.includes(k.slice(8))),
        ),
    );

    if (!STAGE_NAME.test(stage) || stage.endsWith("-")) {
        const suggestion = stage
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, "-")
            .replace(/^[^a-z]+|-+$/g, "")
            .slice(0, 24)
            .replace(/-+$/, "");
        report(
            "stage",
            stage,
            `cannot name Keelson's resources; name the stack with lowercase letters, digits and '-', starting with a letter, at most 24 characters${suggestion ? ` (e.g. ${suggestion})` : ""}`,
        );
    }

    for (const key of Object.keys(values)) {
        if (!key.startsWith("keelson:")) continue;
        const name = key.slice("keelson:".length);
        if (SECTIONS.includes(name) || CERT_KEY.test(key) || APP_SECRET_KEY.test(key)) continue;
        const guess = didYouMean(name, SECTIONS);
        report(
            key,
            secret.has(key) ? "[secret]" : values[key],
            guess
                ? `is not a known key; did you mean keelson:${guess}?`
                : `is not a known key; remove it (known keys: ${SECTIONS.map((s) => `keelson:${s}`).join(", ")}, keelson:tls-<name>-cert|key)`,
        );
    }

    const regionName = checkAwsKeys(values, secret, problems);
    // Sections are plain configuration; a secret there would reach the program as ciphertext.
    for (const s of SECTIONS) {
        const key = `keelson:${s}`;
        if (s !== "kubeconfig" && secret.has(key) && raw.values[key] !== undefined) {
            report(
                key,
                SECRET,
                `is a secret, but Keelson reads it as plain configuration; set it without --secret (certificates and keys go in keelson:tls-<name>-cert|key)`,
            );
        }
    }

    let production = isProductionStage(stage);
    const prodFlag = values["keelson:production"];
    if (prodFlag !== undefined) {
        if (typeof prodFlag === "boolean") production = prodFlag;
        else report("keelson:production", prodFlag, "is not a boolean; use true or false");
    }

    const existingCluster = values["keelson:kubeconfig"] !== undefined;
    if (existingCluster) {
        if (!secret.has("keelson:kubeconfig")) {
            report(
                "keelson:kubeconfig",
                PLAIN,
                "is not a secret; run `pulumi config set --secret kubeconfig < ~/.kube/config`",
            );
        }
        for (const s of ["network", "cluster", "edge"]) {
            if (values[`keelson:${s}`] !== undefined) {
                report(
                    `keelson:${s}`,
                    values[`keelson:${s}`],
                    "is set together with keelson:kubeconfig; remove it (with a kubeconfig Keelson deploys onto that cluster and creates no VPC, VM or edge host)",
                );
            }
        }
    }

    const zonesByDefault = production ? 3 : stage.toLowerCase() === "staging" ? 2 : 1;
    const network = parseNetwork(
        values["keelson:network"],
        { region: regionName, production, zonesByDefault },
        problems,
    );
    const cluster = parseCluster(values["keelson:cluster"], { stage, production, network }, problems);
    const edge = parseEdge(values["keelson:edge"], { production: production && !existingCluster }, problems);
    const appSecret = (n: string) => {
        const v = values[`keelson:secret-${n}`];
        return v === undefined ? undefined : pulumi.secret(String(v));
    };
    const app = parseApp(
        values["keelson:app"],
        {
            stage,
            production,
            readFile: raw.readFile,
            secret: appSecret,
            pools: existingCluster ? undefined : cluster.workerPools,
        },
        problems,
    );
    if (app.publish && !existingCluster)
        report(
            "app.publish",
            Object.keys(app.publish).join(", "),
            "is for an existing cluster (keelson:kubeconfig); a Keelson cluster publishes HTTP through its edge: remove app.publish",
        );
    for (const n of app.secrets) {
        const key = `keelson:secret-${n}`;
        if (values[key] === undefined)
            report(
                key,
                undefined,
                `is required by the application's secretEnv; run \`pulumi config set --secret secret-${n} <value>\``,
            );
        else if (!secret.has(key))
            report(key, PLAIN, `is not a secret; run \`pulumi config set --secret secret-${n} <value>\``);
    }
    for (const key of Object.keys(values)) {
        const m = APP_SECRET_KEY.exec(key);
        if (m && !app.secrets.includes(m[1]))
            report(
                key,
                secret.has(key) ? SECRET : PLAIN,
                "is not read by any service's secretEnv; remove it or reference it",
            );
    }
    const addons = parseAddons(values["keelson:addons"], { stage }, problems);
    if (addons.clusterAutoscaler && !existingCluster) checkClusterAutoscaler(cluster, problems);
    const score = parseScore(values["keelson:score"], problems);

    // Provided certificates need both secrets; stray or plain-text certificate keys are mistakes.
    const wanted = new Set<string>();
    if (edge.tlsMode === "provided" && !existingCluster) {
        for (const c of edge.certificates) {
            if (!c.name) continue;
            for (const [part, key] of Object.entries(certificateSecretKeys(c.name))) {
                wanted.add(key);
                if (values[key] === undefined) {
                    const file = part === "cert" ? "fullchain.pem" : "privkey.pem";
                    report(
                        key,
                        undefined,
                        `is required for edge certificate "${c.name}"; run \`pulumi config set --secret ${key.slice(8)} < ${file}\``,
                    );
                }
            }
        }
    }
    for (const key of Object.keys(values)) {
        if (!CERT_KEY.test(key)) continue;
        if (!secret.has(key)) {
            report(
                key,
                PLAIN,
                `is not a secret; run \`pulumi config set --secret ${key.slice(8)} < file.pem\``,
            );
        } else if (!wanted.has(key)) {
            report(
                key,
                "[secret]",
                'is not used by any edge.certificates entry (with edge.tlsMode "provided"); remove it or add that certificate',
            );
        }
    }

    if (problems.length > 0) return { problems };
    const config: StageConfig = {
        stage,
        production,
        region: regionName,
        network,
        cluster,
        edge,
        app,
        addons,
        score,
        existingCluster,
        aws: awsSettings(values, secret),
    };
    // What the components would refuse late (edge routes against certificates, namespaces, backends).
    problems.push(...planStage(config));
    if (problems.length > 0) return { problems };
    return { problems, config };
}

/** Like validateStageConfig, but throws a ConfigError listing every problem. */
export function requireValidStageConfig(stage: string, raw: RawStageConfig): StageConfig {
    const { config, problems } = validateStageConfig(stage, raw);
    if (!config) throw new ConfigError(stage, problems);
    return config;
}

/** Parses a Pulumi config value: structured values arrive JSON-encoded. */
export function parseConfigValue(text: string): unknown {
    if (/^\s*[[{]/.test(text) || /^(true|false|-?\d+(\.\d+)?)$/.test(text)) {
        try {
            return JSON.parse(text);
        } catch {
            return text;
        }
    }
    return text;
}

/** Reads the running stack's config from the Pulumi runtime, validated; throws a ConfigError on any problem. */
export function readStageConfig(): StageConfig {
    const all = pulumi.runtime.allConfig();
    const isSecret = (runtimeConfig as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret;
    const values: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [key, text] of Object.entries(all)) {
        values[key] = parseConfigValue(text);
        if (isSecret(key)) secretKeys.push(key);
    }
    return requireValidStageConfig(pulumi.getStack(), { values, secretKeys });
}
