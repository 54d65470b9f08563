// The stage configuration: read every `keelson:*` key, apply the stage's defaults, and report every problem
// at once before any resource is registered.
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { parseAddons, parseApp, parseScore } from "./app";
import { parseCluster } from "./cluster";
import { certificateSecretKeys, parseEdge } from "./edge";
import { parseNetwork } from "./network";
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

/** The config of a stage as Pulumi holds it: fully qualified keys, structured values already parsed. */
export interface RawStageConfig {
    /** e.g. `{ "aws:region": "us-east-1", "keelson:cluster": { masters: 3 } }` */
    readonly values: Readonly<Record<string, unknown>>;
    /** Keys whose values are Pulumi secrets. */
    readonly secretKeys: readonly string[];
}

const SECTIONS = ["network", "cluster", "edge", "app", "addons", "score", "production", "kubeconfig"];
const CERT_KEY = /^keelson:tls-([a-z][-a-z0-9]*)-(cert|key)$/;
/** Shown instead of the value of a secret that was stored in plain text. */
const PLAIN = "(plain text)";
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

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
        problems.push({ key, value, message: `${key}: ${value === PLAIN ? PLAIN : show(value)} ${text}` });
    const values = raw.values;
    const secret = new Set(raw.secretKeys);

    for (const key of Object.keys(values)) {
        if (!key.startsWith("keelson:")) continue;
        const name = key.slice("keelson:".length);
        if (SECTIONS.includes(name) || CERT_KEY.test(key)) continue;
        const guess = didYouMean(name, SECTIONS);
        report(
            key,
            secret.has(key) ? "[secret]" : values[key],
            guess
                ? `is not a known key; did you mean keelson:${guess}?`
                : `is not a known key; remove it (known keys: ${SECTIONS.map((s) => `keelson:${s}`).join(", ")}, keelson:tls-<name>-cert|key)`,
        );
    }

    const region = values["aws:region"];
    if (region === undefined) {
        report(
            "aws:region",
            undefined,
            "is required; run `pulumi config set aws:region us-east-1` (or your region)",
        );
    } else if (typeof region !== "string" || !REGION.test(region)) {
        report("aws:region", region, "is not an AWS region; use a region name such as us-east-1");
    }
    const regionName = typeof region === "string" && REGION.test(region) ? region : "us-east-1";

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
    const app = parseApp(values["keelson:app"], { stage, production }, problems);
    const addons = parseAddons(values["keelson:addons"], { stage }, problems);
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
    return {
        problems,
        config: {
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
        },
    };
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
