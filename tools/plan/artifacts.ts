// Collects the files a program rendered (user-data, nginx.conf, manifests) for the offline plan to write:
// each component registers what it rendered as its `artifacts` output, a map of path (relative to
// out/<stage>/) to content (components/artifact-set.ts); the recording monitor keeps those maps.
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { PlanArtifact, SECRET_MASK, UNKNOWN_MASK } from "./types";

const isSecret = (v: unknown) =>
    typeof v === "object" && v !== null && (v as Record<string, unknown>)[specialSigKey] === specialSecretSig;

/** A serialized output value (as the monitor receives component outputs) as plan text. */
function serializedText(v: unknown): string {
    if (v === unknownValue) return UNKNOWN_MASK;
    if (isSecret(v)) return SECRET_MASK;
    return typeof v === "string" ? v : "";
}

/**
 * Every artifact, sorted by path; secret contents masked, unknown ones (in a preview) marked. Paths are
 * the components' own; a path more than one component rendered (two Clusters' `user-data/master-0.yaml`)
 * is written under each component's name instead (`<name>/user-data/master-0.yaml`), so nothing is
 * overwritten. `componentOutputs` maps a component URN to its registered `artifacts` output.
 */
export function collectArtifacts(componentOutputs: ReadonlyMap<string, unknown>): PlanArtifact[] {
    const components: { name: string; files: [string, string][] }[] = [];
    for (const [urn, files] of componentOutputs) {
        if (typeof files !== "object" || files === null || isSecret(files)) continue;
        components.push({
            name: urn.slice(urn.lastIndexOf("::") + 2),
            files: Object.entries(files as Record<string, unknown>).map(([p, c]) => [p, serializedText(c)]),
        });
    }
    const owners = new Map<string, number>();
    for (const c of components) for (const [p] of c.files) owners.set(p, (owners.get(p) ?? 0) + 1);
    const out = new Map<string, string>();
    for (const c of components) {
        for (const [p, content] of c.files) {
            const target = (owners.get(p) ?? 0) > 1 ? `${c.name}/${p}` : p;
            if (out.has(target))
                throw new Error(`artifact ${target} was rendered twice; name the components apart`);
            out.set(target, content);
        }
    }
    return [...out]
        .map(([path, content]) => ({ path, content }))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
