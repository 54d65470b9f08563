// Loads a Pulumi.<stage>.yaml file into the config map the Pulumi runtime would see.
import * as fs from "fs";
import * as YAML from "yaml";

/**
 * A problem with a file the plan reads (the stack config, the `--diff` plan): one line naming the file and,
 * where there is one, the line. The CLI prints it alone and exits 1.
 */
export class PlanFileError extends Error {}

/** The 1-based line of a character offset in a text. */
export function lineOf(text: string, offset: number): number {
    let line = 1;
    for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
    return line;
}

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

/**
 * Parses the text of a Pulumi.<stage>.yaml file. Throws a {@link PlanFileError} (`file:line: problem`) on
 * malformed YAML, duplicate keys, or a `config` that is not a mapping.
 */
export function parseStackConfig(text: string, file: string): LoadedStackConfig {
    const doc = YAML.parseDocument(text, { uniqueKeys: true });
    const problem = doc.errors[0];
    if (problem) {
        const line = problem.linePos?.[0]?.line ?? lineOf(text, problem.pos[0]);
        const what = problem.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        throw new PlanFileError(`${file}:${line}: not valid YAML: ${what}`);
    }
    let root: unknown;
    try {
        root = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
        throw new PlanFileError(`${file}:1: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    if (root !== null && root !== undefined && (typeof root !== "object" || Array.isArray(root)))
        throw new PlanFileError(`${file}:1: the file is not a mapping; a stack config starts with "config:"`);
    const config = (root as { config?: unknown } | null)?.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        const node = doc.get("config", true) as { range?: [number, number, number] } | undefined;
        const line = node?.range ? lineOf(text, node.range[0]) : 1;
        throw new PlanFileError(`${file}:${line}: "config" is not a mapping of keys to values`);
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

/** Reads and parses a stack config file; a missing or unreadable file is a {@link PlanFileError}. */
export function loadStackConfig(file: string): LoadedStackConfig {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new PlanFileError(
            code === "ENOENT"
                ? `${file}: no such stack config file`
                : `${file}: cannot read the stack config (${code ?? (err as Error).message})`,
        );
    }
    return parseStackConfig(text, file);
}
