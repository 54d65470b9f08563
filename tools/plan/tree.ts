// Renders a plan as text: the resource tree with types, names and dependencies, and a count by type.
import { PlanResource, PlanResult } from "./types";

/** The last segment of a type token: `aws:ec2/subnet:Subnet` -> `Subnet`. */
export const shortType = (type: string) => type.split(":").pop() ?? type;

/**
 * The resource tree, one resource a line, children indented under their parent, every dependency after
 * `<-` as `Type name` (so that a subnet and a route table of one name are told apart).
 */
export function renderTree(plan: Pick<PlanResult, "resources">): string {
    const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
    const children = new Map<string, PlanResource[]>();
    const roots: PlanResource[] = [];
    for (const r of plan.resources) {
        if (r.parent && byUrn.has(r.parent)) {
            const list = children.get(r.parent) ?? [];
            list.push(r);
            children.set(r.parent, list);
        } else {
            roots.push(r);
        }
    }
    const lines: string[] = [];
    const walk = (r: PlanResource, depth: number) => {
        const deps = r.dependencies
            .filter((d) => d !== r.parent)
            .map((d) => {
                const dep = byUrn.get(d);
                if (dep) return `${shortType(dep.type)} ${dep.name}`;
                const [, , type = "", name = d] = d.split("::");
                return `${shortType(type.split("$").pop() ?? type)} ${name}`;
            });
        lines.push(
            `${"  ".repeat(depth)}${r.custom ? "+" : "*"} ${r.type} ${r.name}${deps.length ? `  <- ${deps.join(", ")}` : ""}`,
        );
        for (const c of children.get(r.urn) ?? []) walk(c, depth + 1);
    };
    roots.forEach((r) => walk(r, 0));
    return lines.join("\n");
}

/** Resource counts by type, most frequent first, components excluded. */
export function countByType(plan: Pick<PlanResult, "resources">): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of plan.resources) if (r.custom) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Custom resources and components, as every output format counts them. */
export function resourceCounts(plan: Pick<PlanResult, "resources">): {
    resources: number;
    components: number;
} {
    const resources = plan.resources.filter((r) => r.custom).length;
    return { resources, components: plan.resources.length - resources };
}
