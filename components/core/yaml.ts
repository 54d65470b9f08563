// YAML for the plan's manifest artifacts, about 10 times faster than the `yaml` package's `stringify`
// for manifest-shaped data (a 1,000-service application renders about 6,000 manifests; `stringify` took
// about 5 s of that plan).
//
// What it writes parses back (YAML 1.2 core schema) to exactly the value given, and looks as `stringify`
// writes it: block maps and sequences indented by 2, sequences indented under their key, `{}` and `[]`
// for empty collections, plain scalars where they are unambiguous (byte for byte what `stringify` writes
// for them), strings that would read as numbers, booleans or null, or start with an indicator, in double
// quotes, multi-line strings as literal blocks (`|`, `|-`, `|+`). It differs from `stringify` in one way:
// a long string with spaces or one needing escapes stays on one line, JSON-quoted, where `stringify` folds
// it. Anything that is not plain data (undefined, NaN, a Date, a class instance) goes to `stringify`.
// test/app/yaml.test.ts parses every manifest of the shipped stages and of generated applications back.
import { stringify } from "yaml";

type Obj = Record<string, unknown>;

/** Thrown inside the fast path when a value needs the full library. */
class NeedsLibrary extends Error {}

/** What YAML 1.2's core schema would read as something other than a string. */
const NOT_A_STRING =
    /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/;
/** A plain scalar here: a conservative subset of what YAML (and `stringify`) writes unquoted. */
const PLAIN = /^(?:[A-Za-z0-9_/.]|-(?=[^ ]))[A-Za-z0-9_./:@=+ ,()$-]*$/;
/** Printable ASCII without `"` and `\`: safe between double quotes as it is. */
const QUOTABLE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
/** A line longer than this might be folded by `stringify` (its lineWidth is 80). */
const SAFE_LINE = 70;

function isPlain(s: string, lineStart: number): boolean {
    return (
        PLAIN.test(s) &&
        !NOT_A_STRING.test(s) &&
        !s.endsWith(" ") &&
        !s.endsWith(":") &&
        !s.includes(": ") &&
        !s.includes(" #") &&
        !s.includes("  ") &&
        !(s.includes(" ") && lineStart + s.length > SAFE_LINE)
    );
}

/** A literal block (`|`) holds the string exactly: printable lines, no line of only spaces, none led by one. */
function literalBlock(s: string, indent: string): string | undefined {
    if (!s.includes("\n") || /[^\t\x20-\x7e\n\u00a0-\ud7ff\ue000-\ufffd]/.test(s)) return undefined;
    const body = s.replace(/\n+$/, "");
    if (body === "") return undefined;
    const trailing = s.length - body.length;
    const lines = body.split("\n");
    if (lines[0].startsWith(" ") || lines.some((l) => /^ +$/.test(l))) return undefined;
    const chomp = trailing === 0 ? "-" : trailing === 1 ? "" : "+";
    const extra = trailing > 1 ? "\n".repeat(trailing - 1) : "";
    return `|${chomp}\n${lines.map((l) => (l === "" ? "" : `${indent}${l}`)).join("\n")}${extra}`;
}

/** A string as a map value or sequence item whose line so far is `lineStart` characters long. */
function stringScalar(s: string, lineStart: number, indent: string): string {
    if (isPlain(s, lineStart)) return s;
    if (QUOTABLE.test(s) && lineStart + s.length <= SAFE_LINE && s !== "") return `"${s}"`;
    return literalBlock(s, indent) ?? JSON.stringify(s);
}

function key(k: string, lineStart: number): string {
    return isPlain(k, lineStart) ? k : JSON.stringify(k);
}

/** A scalar or an empty collection on the current line; undefined for a collection to write below. */
function inline(v: unknown, lineStart: number, indent: string): string | undefined {
    if (v === null) return "null";
    if (typeof v === "boolean") return String(v);
    if (typeof v === "number") {
        if (Number.isFinite(v) && !Object.is(v, -0)) return String(v);
        throw new NeedsLibrary();
    }
    if (typeof v === "string") return stringScalar(v, lineStart, indent);
    if (Array.isArray(v)) return v.length === 0 ? "[]" : undefined;
    if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
        return Object.keys(v as Obj).length === 0 ? "{}" : undefined;
    throw new NeedsLibrary();
}

function map(o: Obj, indent: string, out: string[]): void {
    for (const [k, v] of Object.entries(o)) {
        if (v === undefined) throw new NeedsLibrary();
        const name = key(k, indent.length);
        const s = inline(v, indent.length + name.length + 2, `${indent}  `);
        if (s !== undefined) out.push(`${indent}${name}: ${s}`);
        else {
            out.push(`${indent}${name}:`);
            block(v, `${indent}  `, out);
        }
    }
}

function seq(a: readonly unknown[], indent: string, out: string[]): void {
    for (const item of a) {
        if (item === undefined) throw new NeedsLibrary();
        const s = inline(item, indent.length + 2, `${indent}  `);
        if (s !== undefined) {
            out.push(`${indent}- ${s}`);
            continue;
        }
        // A collection item starts on the dash's line ("- key: v", "- - v"), the rest indented under it.
        const first = out.length;
        block(item, `${indent}  `, out);
        out[first] = `${indent}- ${out[first].slice(indent.length + 2)}`;
    }
}

function block(v: unknown, indent: string, out: string[]): void {
    if (Array.isArray(v)) seq(v, indent, out);
    else map(v as Obj, indent, out);
}

/** A manifest (a non-empty plain object) as a YAML document; other values through `stringify`. */
export function toYaml(value: unknown): string {
    const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
    if (isMap && Object.keys(value).length > 0) {
        try {
            const out: string[] = [];
            map(value as Obj, "", out);
            return `${out.join("\n")}\n`;
        } catch (e) {
            if (!(e instanceof NeedsLibrary)) throw e;
        }
    }
    return stringify(value);
}
