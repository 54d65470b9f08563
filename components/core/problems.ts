// Problems with input: each names the key, the value and the fix, and all are reported at once.
import * as pulumi from "@pulumi/pulumi";

/** One problem with the input of a stage or a component. */
export interface Problem {
    /** Dotted key, e.g. `cluster.masters` or `cluster.workerPools[0].name`. */
    readonly key: string;
    /** The offending value (undefined when missing). */
    readonly value: unknown;
    /** The whole message: `<key>: <value> <what is wrong>; <fix>`. */
    readonly message: string;
}

/**
 * Thrown before any resource is registered when the input has problems. A `pulumi.RunError`, so
 * `pulumi up` and `pulumi preview` print the message alone, without a stack trace.
 */
export class ValidationError extends pulumi.RunError {
    constructor(
        /** What was validated, e.g. `stage prod` or `application shop`. */
        readonly subject: string,
        readonly problems: readonly Problem[],
    ) {
        super(
            `${subject}: ${problems.length} problem${problems.length === 1 ? "" : "s"}; ` +
                `nothing was created:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
        );
        this.name = "ValidationError";
    }
}

/**
 * A stage whose config has problems: {@link ValidationError} worded for a stage
 * (`stage prod: 2 config problems; nothing was created: ...`).
 */
export class ConfigError extends ValidationError {
    constructor(
        readonly stage: string,
        problems: readonly Problem[],
    ) {
        super(`stage ${stage}`, problems);
        this.name = "ConfigError";
        this.message =
            `stage ${stage}: ${problems.length} config problem${problems.length === 1 ? "" : "s"}; ` +
            `nothing was created:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`;
    }
}

/** The most characters of a value a message shows; longer values are cut with `...`. */
export const SHOWN_MAX = 60;

/** Shown instead of a value that looks like a secret (a PEM block, a key, a token). */
export const LOOKS_SECRET = "(value hidden: it looks like a secret)";

// A PEM block, an AWS secret access key (40 base64 characters), an AWS access key id, a JWT or a
// long high-entropy token: never echoed, whatever key it was written under.
const SECRET_MARKERS = [
    /-----BEGIN [A-Z ]+-----/,
    /\b(AKIA|ASIA)[A-Z0-9]{16}\b/,
    /\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/,
];
const TOKEN = /[A-Za-z0-9+/_=-]{32,}/g;

function secretText(text: string): boolean {
    if (SECRET_MARKERS.some((re) => re.test(text))) return true;
    // A run of 32+ token characters mixing letters and digits (an AWS secret key, an API token).
    return (text.match(TOKEN) ?? []).some((t) => /[0-9]/.test(t) && /[a-zA-Z]/.test(t));
}

/** True when a value (or anything inside it) looks like a secret and must not be echoed. */
export function looksSecret(value: unknown): boolean {
    if (typeof value === "string") return secretText(value);
    if (value === null || typeof value !== "object") return false;
    try {
        return secretText(JSON.stringify(value));
    } catch {
        return false;
    }
}

/**
 * How a value is shown in a message: strings quoted, objects as JSON, at most {@link SHOWN_MAX}
 * characters (longer values end in `...`), a value that looks like a secret never (see
 * {@link LOOKS_SECRET}). Non-finite numbers are shown as YAML writes them (`.nan`, `.inf`).
 */
export function show(value: unknown): string {
    if (value === undefined) return "(missing)";
    if (looksSecret(value)) return LOOKS_SECRET;
    if (typeof value === "number" && !Number.isFinite(value))
        return Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf";
    let text: string;
    try {
        text = JSON.stringify(value) ?? String(value);
    } catch {
        text = String(value);
    }
    return text.length > SHOWN_MAX ? `${text.slice(0, SHOWN_MAX - 3)}...` : text;
}

/** Edit distance, for did-you-mean suggestions. */
export function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

/** The closest known key, if it is close enough to be a typo, else the one known key that `key` begins. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    // Keys longer than any known key by far are not typos (and would cost time to compare).
    if (key.length > 200) return undefined;
    for (const k of known) {
        const d = editDistance(key.toLowerCase(), k.toLowerCase());
        if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    if (bestDistance <= Math.max(2, Math.floor(key.length / 3))) return best;
    // A key written without its unit or suffix (`drainTimeout` for `drainTimeoutSeconds`): the one known key it starts.
    const longer = known.filter((k) => key.length >= 4 && k.toLowerCase().startsWith(key.toLowerCase()));
    return longer.length === 1 ? longer[0] : undefined;
}
