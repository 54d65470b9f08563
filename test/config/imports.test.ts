// The import direction (components/core/ and the lint rules in eslint.config.mjs): no import cycle
// between files or between areas, components never import tools/ or test/, and core imports no other
// area and no cloud SDK. Walks the real import statements of every tracked TypeScript file.
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

const ROOTS = ["components", "policy", "tools", "index.ts"];
// Type-only imports (`import type`) are erased by the compiler and cannot form a runtime cycle.
const IMPORT =
    /^\s*(?:import|export)\s+(?!type\s)[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"|require\("([^"]+)"\)/gm;

function sourceFiles(): string[] {
    const out: string[] = [];
    const walk = (rel: string) => {
        const abs = path.join(PROJECT_ROOT, rel);
        if (fs.statSync(abs).isDirectory()) {
            for (const e of fs.readdirSync(abs)) if (e !== "node_modules") walk(path.join(rel, e));
        } else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) out.push(rel);
    };
    ROOTS.forEach(walk);
    return out.sort();
}

/** Relative imports of a file, resolved to repository paths (`components/core/cidr.ts`). */
export function importsOf(file: string, text: string): string[] {
    const out: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (!spec.startsWith(".")) continue;
        const base = path.join(path.dirname(file), spec);
        const hit = [`${base}.ts`, path.join(base, "index.ts"), base].find(
            (c) => c.endsWith(".ts") && fs.existsSync(path.join(PROJECT_ROOT, c)),
        );
        if (hit) out.push(hit);
    }
    return out;
}

/** Every elementary cycle found by a depth-first search, each as the list of nodes. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    const found: string[][] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (n: string) => {
        state.set(n, "open");
        stack.push(n);
        for (const m of graph.get(n) ?? []) {
            if (state.get(m) === "open") found.push([...stack.slice(stack.indexOf(m)), m]);
            else if (!state.has(m)) visit(m);
        }
        stack.pop();
        state.set(n, "done");
    };
    for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
    return found;
}

/** The area of a file: `components/<area>`, `policy`, `tools/<tool>` or `index.ts`. */
function areaOf(file: string): string {
    const parts = file.split(path.sep);
    // A file directly under components/ (the public barrel index.ts, artifact-set.ts) is its own area.
    if (parts[0] === "components") return parts.length > 2 ? `components/${parts[1]}` : file;
    if (parts[0] === "tools") return `tools/${parts[1]}`;
    return parts[0];
}

describe("import direction", () => {
    const files = sourceFiles();
    const graph = new Map(
        files.map((f) => [f, importsOf(f, fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8"))]),
    );

    it("finds the imports of a file and the cycles of a graph", () => {
        assert.deepEqual(
            importsOf(
                "components/config/cluster.ts",
                'import { overlaps } from "../core/cidr";\nimport * as x from "@pulumi/aws";\nexport { y } from "./reader";\nimport type { T } from "./types";\n',
            ),
            ["components/core/cidr.ts", "components/config/reader.ts"],
        );
        assert.deepEqual(
            cycles(
                new Map([
                    ["a", ["b"]],
                    ["b", ["c"]],
                    ["c", ["a"]],
                    ["d", ["a"]],
                ]),
            ),
            [["a", "b", "c", "a"]],
        );
        assert.ok(graph.get("components/config/cluster.ts")?.includes("components/core/cidr.ts"));
    });

    it("has no cycle between files", () => {
        assert.deepEqual(cycles(graph), []);
    });

    it("has no cycle between areas (components/<area>, policy, tools/<tool>)", () => {
        const areas = new Map<string, string[]>();
        for (const [f, deps] of graph) {
            const a = areaOf(f);
            const set = new Set(areas.get(a) ?? []);
            for (const d of deps) if (areaOf(d) !== a) set.add(areaOf(d));
            areas.set(a, [...set].sort());
        }
        assert.deepEqual(cycles(areas), []);
    });

    it("components import neither tools/ nor test/, and core imports no other area", () => {
        const wrong: string[] = [];
        for (const [f, deps] of graph) {
            for (const d of deps) {
                if (f.startsWith("components/") && /^(tools|test)\//.test(d)) wrong.push(`${f} -> ${d}`);
                if (f.startsWith("components/core/") && !d.startsWith("components/core/"))
                    wrong.push(`${f} -> ${d}`);
            }
            const text = fs.readFileSync(path.join(PROJECT_ROOT, f), "utf8");
            if (f.startsWith("components/core/") && /from "@pulumi\/(aws|kubernetes|tls|random)"/.test(text))
                wrong.push(`${f} -> a cloud SDK`);
        }
        assert.deepEqual(wrong, []);
    });
});
