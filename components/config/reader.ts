// A reader over one config object that applies defaults and collects problems instead of throwing.
import { isDnsLabel } from "../core/names";
import { didYouMean, show } from "../core/problems";
import { INSTANCE_SIZES } from "../score/instance-types";
import { ConfigProblem } from "./problems";

export { DNS_NAME } from "../core/names";

type Obj = Record<string, unknown>;

/** What a string rule checks: a RegExp, or anything with a `test`. */
export interface StringTest {
    test(value: string): boolean;
}

/** Names in the stage config: a DNS label (core/names) that starts with a letter, at most 63 characters. */
export const DNS_LABEL: StringTest = { test: (v) => isDnsLabel(v, { letterFirst: true }) };
/** EC2 instance type such as `t3.medium`, `m7i.2xlarge`, `c7g.metal-48xl`. */
export const INSTANCE_TYPE =
    /^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$/;

/** Reads typed fields from one object at `path`, reporting unknown keys with a did-you-mean. */
export class Reader {
    private readonly obj: Obj;

    constructor(
        readonly path: string,
        raw: unknown,
        private readonly problems: ConfigProblem[],
        known: readonly string[],
    ) {
        if (raw === undefined || raw === null) {
            this.obj = {};
        } else if (typeof raw !== "object" || Array.isArray(raw)) {
            this.report(path, raw, "is not an object; write it as a YAML mapping of keys to values");
            this.obj = {};
        } else {
            this.obj = raw as Obj;
            for (const key of Object.keys(this.obj)) {
                if (known.includes(key)) {
                    // YAML reads `key:` with nothing after it as null, and .nan and .inf reach the program
                    // as null too (JSON has no such numbers): never fall back to a default without a word.
                    if (this.obj[key] === null)
                        this.report(
                            this.at(key),
                            null,
                            "is empty or not a finite number (.nan, .inf); write a value, or remove the key to use the default",
                        );
                    continue;
                }
                const guess = didYouMean(key, known);
                this.report(
                    this.at(key),
                    this.obj[key],
                    guess
                        ? `is not a known key; did you mean ${this.at(guess)}?`
                        : `is not a known key; remove it (known keys: ${known.join(", ")})`,
                );
            }
        }
    }

    /** Dotted path of a child key. */
    at(key: string): string {
        return this.path ? `${this.path}.${key}` : key;
    }

    /** Records a problem: `<key>: <value> <problemAndFix>`; `shown` replaces the shown value. */
    report(key: string, value: unknown, problemAndFix: string, shown = show(value)): void {
        this.problems.push({ key, value, message: `${key}: ${shown} ${problemAndFix}` });
    }

    has(key: string): boolean {
        return this.obj[key] !== undefined && this.obj[key] !== null;
    }

    raw(key: string): unknown {
        return this.obj[key];
    }

    string(key: string, fallback: string, rule?: { pattern: StringTest; fix: string }): string {
        const v = this.obj[key];
        if (v === undefined || v === null) return fallback;
        if (typeof v !== "string") {
            this.report(this.at(key), v, `is not a string; ${rule?.fix ?? "quote it"}`);
            return fallback;
        }
        if (rule && !rule.pattern.test(v)) {
            this.report(this.at(key), v, rule.fix);
            return fallback;
        }
        return v;
    }

    optionalString(key: string, rule?: { pattern: StringTest; fix: string }): string | undefined {
        return this.has(key) ? this.string(key, "", rule) || undefined : undefined;
    }

    int(key: string, fallback: number, min: number, max: number): number {
        const v = this.obj[key];
        if (v === undefined || v === null) return fallback;
        if (typeof v !== "number" || !Number.isInteger(v)) {
            this.report(this.at(key), v, `is not a whole number; use a number from ${min} to ${max}`);
            return fallback;
        }
        if (v < min || v > max) {
            this.report(this.at(key), v, `is out of range; use a number from ${min} to ${max}`);
            return fallback;
        }
        return v;
    }

    bool(key: string, fallback: boolean): boolean {
        const v = this.obj[key];
        if (v === undefined || v === null) return fallback;
        if (typeof v !== "boolean") {
            this.report(this.at(key), v, "is not a boolean; use true or false");
            return fallback;
        }
        return v;
    }

    oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T {
        const v = this.obj[key];
        if (v === undefined || v === null) return fallback;
        if (typeof v !== "string" || !values.includes(v as T)) {
            this.report(
                this.at(key),
                v,
                `is not supported; use one of ${values.map((x) => `"${x}"`).join(", ")}`,
            );
            return fallback;
        }
        return v as T;
    }

    /**
     * A list; each element is passed to `item` with its own dotted path. A list longer than `max`
     * (default 100) is refused as a whole before any element is read, so a huge list costs nothing.
     */
    list<T>(
        key: string,
        fallback: readonly T[],
        item: (path: string, raw: unknown) => T | undefined,
        max = 100,
    ): T[] {
        const v = this.obj[key];
        if (v === undefined || v === null) return [...fallback];
        if (!Array.isArray(v)) {
            this.report(this.at(key), v, "is not a list; write it as a YAML sequence");
            return [...fallback];
        }
        if (v.length > max) {
            this.report(
                this.at(key),
                v.length,
                `is too long; list at most ${max}`,
                `(a list of ${v.length})`,
            );
            return [...fallback];
        }
        const out: T[] = [];
        v.forEach((x, i) => {
            const parsed = item(`${this.at(key)}[${i}]`, x);
            if (parsed !== undefined) out.push(parsed);
        });
        return out;
    }

    /** A map of string to string (labels). */
    stringMap(key: string, keyRule: { pattern: StringTest; fix: string }): Record<string, string> {
        const v = this.obj[key];
        if (v === undefined || v === null) return {};
        if (typeof v !== "object" || Array.isArray(v)) {
            this.report(this.at(key), v, "is not a mapping; write it as key: value pairs");
            return {};
        }
        if (Object.keys(v).length > 100) {
            const n = Object.keys(v).length;
            this.report(this.at(key), n, "has too many keys; use at most 100", `(a mapping of ${n} keys)`);
            return {};
        }
        const out: Record<string, string> = {};
        for (const [k, x] of Object.entries(v as Obj)) {
            if (!keyRule.pattern.test(k)) this.report(`${this.at(key)}.${k}`, k, keyRule.fix);
            else if (typeof x !== "string")
                this.report(`${this.at(key)}.${k}`, x, "is not a string; quote it");
            else out[k] = x;
        }
        return out;
    }
}

/**
 * Instance types: the instance-type table the capacity and cost figures use
 * (components/score/instance-types.ts); a type outside it is refused rather than left unpriced.
 */
export const INSTANCE_TYPE_RULE = {
    pattern: { test: (v: string) => INSTANCE_TYPE.test(v) && Object.hasOwn(INSTANCE_SIZES, v) },
    fix: "is not an EC2 instance type Keelson knows; use a type from components/score/instance-types.ts such as t3.medium or m7i.large (or add yours there with its size and prices)",
};
