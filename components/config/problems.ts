// Config problems: each names the key, the value and the fix, and all are reported at once.

/** One problem in the stage config. */
export interface ConfigProblem {
    /** Dotted key, e.g. `cluster.masters` or `cluster.workerPools[0].name`. */
    readonly key: string;
    /** The offending value (undefined when missing). */
    readonly value: unknown;
    /** The whole message: `<key>: <value> <what is wrong>; <fix>`. */
    readonly message: string;
}

/** Thrown before any resource is registered when the stage config has problems. */
export class ConfigError extends Error {
    constructor(
        readonly stage: string,
        readonly problems: readonly ConfigProblem[],
    ) {
        super(
            `stage ${stage}: ${problems.length} config problem${problems.length === 1 ? "" : "s"}; ` +
                `nothing was created:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
        );
        this.name = "ConfigError";
    }
}

/** How a value is shown in a message: strings quoted, objects as JSON, secrets never (callers pass a mask). */
export function show(value: unknown): string {
    if (value === undefined) return "(missing)";
    if (typeof value === "string") return JSON.stringify(value);
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
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

/** The closest known key, if it is close enough to be a typo. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const d = editDistance(key.toLowerCase(), k.toLowerCase());
        if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
