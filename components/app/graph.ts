// Graph algorithms over service definitions: the closure of the listed services and their dependencies,
// in dependency order (a dependency always before its dependents).
import { Service } from "./types";

/** The closure in dependency order, and the cycle if one exists (impossible through the public API). */
export interface ServiceOrder {
    readonly ordered: readonly Service[];
    /** Names along a cycle, first name repeated at the end; empty when there is none. */
    readonly cycle: readonly string[];
}

/** The Jobs a service waits for (`after`). */
export function afterOf(s: Service): readonly Service[] {
    return (s.args as { after?: readonly Service[] } | undefined)?.after ?? [];
}

/**
 * Depth-first post-order over `connections`, starting from `roots` in their order, so the result is
 * deterministic and every dependency precedes its dependents. Entries that are not services are skipped
 * (validation reports them).
 */
export function orderServices(roots: readonly Service[]): ServiceOrder {
    const ordered: Service[] = [];
    const done = new Set<Service>();
    const onPath: Service[] = [];
    let cycle: string[] = [];
    const visit = (s: Service): void => {
        if (done.has(s) || cycle.length > 0) return;
        const at = onPath.indexOf(s);
        if (at >= 0) {
            cycle = [...onPath.slice(at), s].map((x) => x.name);
            return;
        }
        onPath.push(s);
        for (const c of s.connections) if (c.to instanceof Service) visit(c.to);
        for (const j of afterOf(s)) if (j instanceof Service) visit(j);
        onPath.pop();
        if (cycle.length === 0) {
            done.add(s);
            ordered.push(s);
        }
    };
    for (const root of roots) if (root instanceof Service) visit(root);
    return { ordered, cycle };
}
