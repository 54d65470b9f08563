// A Mermaid flowchart of a plan for reviewers (out/<stage>/graph.md): components as nested
// subgraphs, their key resources as nodes, dependencies as edges. Noise (IAM, routes, rules,
// secrets, random values, providers) is left out; numbered siblings and long runs of same-typed
// siblings collapse into one node.

/** The part of a plan resource the graph reads. */
export interface GraphResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string | null;
    readonly dependencies?: readonly string[];
    readonly custom?: boolean;
}

/** Resource types drawn as nodes; every other custom resource is noise for a reviewer. */
export const KEY_TYPES: ReadonlySet<string> = new Set([
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/instance:Instance",
    "aws:lb/loadBalancer:LoadBalancer",
    "aws:lb/targetGroup:TargetGroup",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:ecr/repository:Repository",
    "docker:index/image:Image",
    "docker-build:index:Image",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Service",
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:helm.sh/v3:Chart",
    "kubernetes:helm.sh/v4:Chart",
    "kubernetes:helm.sh/v3:Release",
]);

/**
 * More same-typed siblings than this in one component (after numbered siblings such as `web-0`,
 * `web-1` merged into `web-* × 2`) collapse into one `N × Type` node.
 */
export const COLLAPSE_OVER = 4;

/** `aws:ec2/instance:Instance` → `Instance`. */
export function shortType(type: string): string {
    return type.split(":").pop() ?? type;
}

const esc = (s: string) => s.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");

interface Node {
    id: string;
    label: string;
}

/**
 * Renders the Mermaid source (without the ``` fence): `flowchart LR`, one subgraph per
 * `keelson:*` (or other) component that holds key resources, edges for dependencies between
 * drawn nodes, a dependency on an undrawn resource lifted to its nearest drawn ancestor.
 */
export function renderMermaid(resources: readonly GraphResource[]): string {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    // plan.json does not carry `custom`; there, Keelson's own `keelson:*` types are the components.
    const isComponent = (r: GraphResource) =>
        r.custom === false || (r.custom === undefined && r.type.startsWith("keelson:"));
    const drawn = resources.filter((r) => KEY_TYPES.has(r.type));
    const parentOf = (r: GraphResource) => (r.parent ? byUrn.get(r.parent) : undefined);
    const componentOf = (r: GraphResource): GraphResource | undefined => {
        let p = parentOf(r);
        while (p && !isComponent(p)) p = parentOf(p);
        return p;
    };

    // Node ids: one per drawn resource, or one per collapsed (component, type) group.
    const nodeOf = new Map<string, Node>();
    const members = new Map<string, Node[]>(); // component urn ("" for the root) → nodes
    let counter = 0;
    const groups = new Map<string, GraphResource[]>();
    for (const r of drawn) {
        const key = `${componentOf(r)?.urn ?? ""}\u0000${r.type}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const [key, list] of groups) {
        const owner = key.split("\u0000")[0];
        const nodes = members.get(owner) ?? [];
        const add = (label: string, urns: readonly GraphResource[]) => {
            const node = { id: `n${counter++}`, label };
            nodes.push(node);
            for (const r of urns) nodeOf.set(r.urn, node);
        };
        // Numbered siblings (`master-0`, `master-1`, ...) are one node per stem: a pool, a tier.
        const stems = new Map<string, GraphResource[]>();
        for (const r of list) {
            const stem = /-\d+$/.test(r.name) ? r.name.replace(/-\d+$/, "-*") : r.name;
            stems.set(stem, [...(stems.get(stem) ?? []), r]);
        }
        const type = shortType(list[0].type);
        if (stems.size > COLLAPSE_OVER) add(`${list.length} × ${type}`, list);
        else
            for (const [stem, rs] of stems)
                add(
                    rs.length > 1
                        ? `${stem} × ${rs.length}<br/><i>${type}</i>`
                        : `${rs[0].name}<br/><i>${type}</i>`,
                    rs,
                );
        members.set(owner, nodes);
    }

    // Components that contain drawn nodes (directly or below), with their subgraph ids.
    const components = resources.filter(isComponent);
    const subgraphId = new Map(components.map((c, i) => [c.urn, `c${i}`]));
    const children = new Map<string, GraphResource[]>();
    for (const c of components) {
        const owner = componentOf(c)?.urn ?? "";
        children.set(owner, [...(children.get(owner) ?? []), c]);
    }
    const hasContent = (urn: string): boolean =>
        (members.get(urn)?.length ?? 0) > 0 || (children.get(urn) ?? []).some((c) => hasContent(c.urn));

    const lines = ["flowchart LR"];
    const emit = (owner: string, depth: number) => {
        const pad = "    ".repeat(depth);
        for (const n of members.get(owner) ?? [])
            lines.push(`${pad}${n.id}["${esc(n.label).replace(/#lt;(\/?(br\/|i))#gt;/g, "<$1>")}"]`);
        for (const c of children.get(owner) ?? []) {
            if (!hasContent(c.urn)) continue;
            lines.push(
                `${pad}subgraph ${subgraphId.get(c.urn)}["${esc(`${c.name} (${shortType(c.type)})`)}"]`,
            );
            emit(c.urn, depth + 1);
            lines.push(`${pad}end`);
        }
    };
    emit("", 1);

    // A dependency on something undrawn points at the nearest drawn ancestor or its component.
    const target = (urn: string): string | undefined => {
        let r = byUrn.get(urn);
        while (r) {
            const n = nodeOf.get(r.urn);
            if (n) return n.id;
            if (isComponent(r) && hasContent(r.urn)) return subgraphId.get(r.urn);
            r = parentOf(r);
        }
        return undefined;
    };
    const edges = new Set<string>();
    for (const r of drawn) {
        const from = nodeOf.get(r.urn)?.id as string;
        // An edge to a subgraph that contains the node itself says nothing.
        const enclosing = new Set<string>();
        for (let c = componentOf(r); c; c = componentOf(c)) enclosing.add(subgraphId.get(c.urn) as string);
        for (const d of r.dependencies ?? []) {
            const to = target(d);
            if (to && to !== from && !enclosing.has(to)) edges.add(`    ${from} --> ${to}`);
        }
    }
    lines.push(...[...edges].sort());
    return lines.join("\n");
}

/** The `graph.md` file: a heading and the fenced Mermaid chart. */
export function renderGraphMarkdown(stack: string, resources: readonly GraphResource[]): string {
    return `# Keelson stage \`${stack}\`\n\n\`\`\`mermaid\n${renderMermaid(resources)}\n\`\`\`\n`;
}
