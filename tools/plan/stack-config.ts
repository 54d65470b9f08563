// Loads a Pulumi.<stage>.yaml file into the config map the Pulumi runtime would see.
import * as fs from "fs";
import * as YAML from "yaml";

/** A stack's config as the runtime sees it: fully qualified keys, secret keys, placeholders for secrets. */
export interface LoadedStackConfig {
    readonly values: Record<string, unknown>;
    readonly secretKeys: string[];
}

const PROJECT = "keelson";

/**
 * A stand-in for an encrypted value: the offline plan cannot decrypt `secure:` values (that needs the stack's
 * key), so it plans with a placeholder of the right shape and masks it everywhere.
 */
export function secretPlaceholder(key: string): string {
    if (/^keelson:tls-.*-cert$/.test(key)) {
        return "-----BEGIN CERTIFICATE-----\nb2ZmbGluZSBwbGFuIHBsYWNlaG9sZGVy\n-----END CERTIFICATE-----\n";
    }
    if (/^keelson:tls-.*-key$/.test(key)) {
        return "-----BEGIN PRIVATE KEY-----\nb2ZmbGluZSBwbGFuIHBsYWNlaG9sZGVy\n-----END PRIVATE KEY-----\n";
    }
    if (key === "keelson:kubeconfig") {
        return [
            "apiVersion: v1",
            "kind: Config",
            "clusters: [{name: offline, cluster: {server: 'https://offline.invalid:6443'}}]",
            "users: [{name: offline, user: {token: offline-plan}}]",
            "contexts: [{name: offline, context: {cluster: offline, user: offline}}]",
            "current-context: offline",
            "",
        ].join("\n");
    }
    return `offline-plan-placeholder-for-${key}`;
}

function isSecure(v: unknown): v is { secure: string } {
    return (
        typeof v === "object" &&
        v !== null &&
        !Array.isArray(v) &&
        Object.keys(v).length === 1 &&
        "secure" in v
    );
}

/** Replaces nested `secure:` values by placeholders; reports whether there was any. */
function replaceSecure(v: unknown, key: string): { value: unknown; secret: boolean } {
    if (isSecure(v)) return { value: secretPlaceholder(key), secret: true };
    if (Array.isArray(v)) {
        const items = v.map((x) => replaceSecure(x, key));
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (typeof v === "object" && v !== null) {
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
            const r = replaceSecure(x, key);
            out[k] = r.value;
            secret ||= r.secret;
        }
        return { value: out, secret };
    }
    return { value: v, secret: false };
}

/** Parses the text of a Pulumi.<stage>.yaml file. Throws with the file name on malformed YAML. */
export function parseStackConfig(text: string, file: string): LoadedStackConfig {
    let doc: unknown;
    try {
        doc = YAML.parse(text);
    } catch (err) {
        throw new Error(`${file}: not valid YAML: ${(err as Error).message}`);
    }
    const config = (doc as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new Error(`${file}: "config" is not a mapping of keys to values`);
    }
    const values: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, rawValue] of Object.entries(config)) {
        const key = rawKey.includes(":") ? rawKey : `${PROJECT}:${rawKey}`;
        const { value, secret } = replaceSecure(rawValue, key);
        values[key] = value;
        if (secret) secretKeys.push(key);
    }
    return { values, secretKeys };
}

/** Reads and parses a stack config file. */
export function loadStackConfig(file: string): LoadedStackConfig {
    if (!fs.existsSync(file)) throw new Error(`${file}: no such stack config file`);
    return parseStackConfig(fs.readFileSync(file, "utf8"), file);
}
