// A small structural schema for application files (YAML or stage config): every field's type, checked
// with one problem per bad value (key, value, fix) and a did-you-mean for unknown keys.
import { didYouMean, show } from "../core/problems";

/** The type of one field. */
export type FieldType =
    | "string"
    | "int"
    | "bool"
    | "json"
    | { readonly list: FieldType }
    | { readonly map: FieldType }
    | { readonly object: Readonly<Record<string, FieldType>>; readonly required?: readonly string[] }
    | { readonly oneOf: readonly string[] }
    | { readonly anyOf: readonly FieldType[]; readonly describe: string };

/** Reports one problem: `<key>: <value> <problem and fix>`. */
export type Report = (key: string, value: unknown, problemAndFix: string) => void;

function describe(t: FieldType): string {
    if (typeof t === "string") {
        return { string: "a string", int: "a whole number", bool: "true or false", json: "a value" }[t];
    }
    if ("list" in t) return `a list of ${describe(t.list).replace(/^an? /, "")}s`;
    if ("map" in t) return "a mapping of names to values";
    if ("object" in t) return `a mapping with keys ${Object.keys(t.object).join(", ")}`;
    if ("oneOf" in t) return `one of ${t.oneOf.map((v) => `"${v}"`).join(", ")}`;
    return t.describe;
}

/** True when `value` has type `t`, reporting every problem under `key`. */
export function check(value: unknown, t: FieldType, key: string, report: Report): boolean {
    const fail = (fix: string) => {
        report(key, value, fix);
        return false;
    };
    if (typeof t === "string") {
        if (t === "json") return true;
        if (t === "string" && typeof value !== "string") return fail("is not a string; quote it");
        if (t === "int" && (typeof value !== "number" || !Number.isInteger(value)))
            return fail("is not a whole number; write an integer such as 3");
        if (t === "bool" && typeof value !== "boolean") return fail("is not a boolean; use true or false");
        return true;
    }
    if ("oneOf" in t) {
        if (typeof value === "string" && t.oneOf.includes(value)) return true;
        return fail(`is not supported; use ${describe(t)}`);
    }
    if ("anyOf" in t) {
        const silent: Report = () => undefined;
        if (t.anyOf.some((x) => check(value, x, key, silent))) return true;
        // Report through the closest alternative: the one of the same shape (mapping or not).
        const shaped = t.anyOf.find((x) => typeof x === "object" && "object" in x);
        if (shaped && typeof value === "object" && value !== null && !Array.isArray(value))
            return check(value, shaped, key, report);
        return fail(`is not ${t.describe}`);
    }
    if ("list" in t) {
        if (!Array.isArray(value)) return fail(`is not a list; write ${describe(t)} as a YAML sequence`);
        let ok = true;
        value.forEach((v, i) => (ok = check(v, t.list, `${key}[${i}]`, report) && ok));
        return ok;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
        return fail(`is not a mapping; write ${describe(t)}`);
    const obj = value as Record<string, unknown>;
    if ("map" in t) {
        let ok = true;
        for (const [k, v] of Object.entries(obj)) ok = check(v, t.map, `${key}.${k}`, report) && ok;
        return ok;
    }
    return checkObject(obj, t.object, key, report, t.required ?? []);
}

/** Checks a mapping against its fields: unknown keys (with a did-you-mean), missing required keys, types. */
export function checkObject(
    obj: Record<string, unknown>,
    fields: Readonly<Record<string, FieldType>>,
    key: string,
    report: Report,
    required: readonly string[] = [],
    context = "",
): boolean {
    let ok = true;
    const known = Object.keys(fields);
    for (const [k, v] of Object.entries(obj)) {
        const at = key ? `${key}.${k}` : k;
        if (!(k in fields)) {
            const guess = didYouMean(k, known);
            report(
                at,
                v,
                guess
                    ? `is not a known key${context}; did you mean ${key ? `${key}.` : ""}${guess}?`
                    : `is not a known key${context}; remove it (known keys: ${known.join(", ")})`,
            );
            ok = false;
        } else if (v !== undefined && v !== null) {
            ok = check(v, fields[k], at, report) && ok;
        }
    }
    for (const r of required) {
        if (obj[r] === undefined || obj[r] === null) {
            report(key ? `${key}.${r}` : r, undefined, `is required; set ${r} (${describe(fields[r])})`);
            ok = false;
        }
    }
    return ok;
}

/** The message text a Report produces, shared with the config reader's format. */
export function problemMessage(key: string, value: unknown, problemAndFix: string): string {
    return `${key}: ${show(value)} ${problemAndFix}`;
}
