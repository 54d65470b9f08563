import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { planApplication, workloadKey } from "../../components/app/plan";
import * as sv from "../../components/app/services";
import { Service } from "../../components/app/types";
import { validateApplication } from "../../components/app/validate";
import { validateManifest } from "./support/schema";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";
const KINDS = ["container", "postgres", "redis", "memcached", "filestore", "external", "worker"] as const;

/** Builds a graph from a recipe: each entry is a kind and the indexes (mod i) of earlier services it uses. */
function build(recipe: { kind: (typeof KINDS)[number]; uses: number[] }[]): Service[] {
    const out: Service[] = [];
    recipe.forEach((r, i) => {
        const name = `s${i}`;
        const connectable = out.filter((s) => s.kind !== "worker");
        const uses = [
            ...new Set(
                r.uses.map((u) => (connectable.length > 0 ? connectable[u % connectable.length] : undefined)),
            ),
        ].filter((s): s is Service => s !== undefined);
        if (r.kind === "container")
            out.push(sv.container(name, { image: IMAGE, port: 8000 + i, connects: uses }));
        else if (r.kind === "worker")
            out.push(sv.worker(name, { image: IMAGE, healthPort: 8080, connects: uses }));
        else if (r.kind === "postgres") out.push(sv.postgres(name));
        else if (r.kind === "redis") out.push(sv.redis(name));
        else if (r.kind === "memcached") out.push(sv.memcached(name));
        else if (r.kind === "filestore") out.push(sv.fileStore(name));
        else out.push(sv.externalService(name, { host: `api${i}.example.com`, port: 443 }));
    });
    return out;
}

const recipes = fc.array(
    fc.record({ kind: fc.constantFrom(...KINDS), uses: fc.array(fc.nat(20), { maxLength: 3 }) }),
    { minLength: 1, maxLength: 25 },
);

describe("app: properties of any valid graph (fast-check)", () => {
    it("validates, opens exactly the declared paths, orders every edge and renders schema-valid objects", () => {
        fc.assert(
            fc.property(recipes, (recipe) => {
                const services = build(recipe);
                const def = { name: "g", namespace: "g", services };
                assert.deepEqual(validateApplication(def), []);
                const plan = planApplication(def);
                const policies = new Set(
                    plan.objects.filter((o) => o.key.startsWith("netpol.")).map((o) => o.key),
                );
                const expected = new Set(["netpol.default-deny", "netpol.allow-dns"]);
                for (const s of services) {
                    for (const c of s.connections) {
                        const outside = c.to.kind === "filestore" || c.to.kind === "external";
                        if (!outside) expected.add(`netpol.${c.to.name}-from-${s.name}`);
                        expected.add(`netpol.${s.name}-to-${c.to.name}`);
                    }
                    const own = plan.objects.find((o) => o.key === workloadKey(s));
                    for (const c of s.connections) {
                        assert.ok(
                            own?.dependsOn.includes(workloadKey(c.to) as string),
                            `${s.name} waits for ${c.to.name}`,
                        );
                    }
                }
                assert.deepEqual([...policies].sort(), [...expected].sort());
                for (const o of plan.objects) validateManifest(o.manifest, o.key);
            }),
            { numRuns: 40 },
        );
    });
});
