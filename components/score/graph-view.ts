// A typed view of a plan's resource graph: the VMs by role, the workloads, and the other
// resources the StackScore rules look at.
import { PlanResource } from "../core/graph";
import { groupInstances } from "./groups";
import { asWorkloads, at, obj, Workload } from "./workloads";

/** What a VM does in a Keelson stage. */
export type InstanceRole = "master" | "worker" | "edge" | "api-lb" | "other";

/** An EC2 instance, or one node of an Auto Scaling Group, with the facts the score needs. */
export interface InstanceView {
    readonly resource: PlanResource;
    readonly role: InstanceRole;
    readonly instanceType: string;
    /** `availabilityZone` if set, else `subnetId`: instances with different values are in different failure domains. */
    readonly zone: string;
}

/** The resource graph, sorted into what the rules ask about. */
export interface GraphView {
    readonly resources: readonly PlanResource[];
    readonly instances: readonly InstanceView[];
    readonly workloads: readonly Workload[];
    /** Resources of one type token. */
    ofType(type: string): PlanResource[];
    /** The URN of the cluster component (a `keelson:cluster:*` with no cluster ancestor), or `cluster`. */
    readonly clusterRef: string;
}

/** The type chain of a URN (`parent$child` types), outermost first. */
export function urnTypes(urn: string): string[] {
    const parts = urn.split("::");
    return parts.length >= 3 ? parts[2].split("$") : [];
}

const ROLE_WORDS: ReadonlyArray<readonly [RegExp, InstanceRole]> = [
    [/api-?(lb|load-?balancer|haproxy|proxy)/i, "api-lb"],
    [/master|control-?plane/i, "master"],
    [/edge|ingress/i, "edge"],
    [/worker|node-?pool|workerpool|pool/i, "worker"],
];

function roleFromText(text: string): InstanceRole | undefined {
    for (const [re, role] of ROLE_WORDS) if (re.test(text)) return role;
    return undefined;
}

/**
 * The role of an instance: from its `keelson:role`/`Role`/`role` tag, else from the types of its
 * parent components in the URN (`…ControlPlane$…`, `keelson:edge:…`), else from its name;
 * anything else is `worker` when it sits under a `keelson:cluster:*` component, `other` otherwise.
 */
export function instanceRole(r: PlanResource): InstanceRole {
    const tags = obj(r.inputs.tags);
    for (const key of ["keelson:role", "Role", "role"]) {
        const t = tags[key];
        if (typeof t === "string") {
            const role = roleFromText(t);
            if (role) return role;
        }
    }
    const parents = urnTypes(r.urn).slice(0, -1);
    for (const t of [...parents].reverse()) {
        const role = roleFromText(t.split(":").pop() ?? "");
        if (role) return role;
        if (t.startsWith("keelson:edge:")) return "edge";
    }
    const byName = roleFromText(r.name);
    if (byName) return byName;
    return parents.some((t) => t.startsWith("keelson:cluster:")) ? "worker" : "other";
}

/**
 * A Deployment or StatefulSet that leaves `spec.replicas` to a HorizontalPodAutoscaler runs at
 * least the HPA's `minReplicas` (default 1): that is the count the rules judge.
 */
function withAutoscaling(w: Workload, r: PlanResource, hpas: readonly PlanResource[]): Workload {
    if (w.replicas === undefined || obj(r.inputs.spec).replicas !== undefined) return w;
    const hpa = hpas.find((h) => {
        const target = obj(at(h.inputs, "spec.scaleTargetRef"));
        return (
            (obj(h.inputs.metadata).namespace ?? "default") === w.namespace &&
            target.kind === w.kind &&
            target.name === w.name
        );
    });
    const min = at(hpa?.inputs, "spec.minReplicas");
    return hpa ? { ...w, replicas: typeof min === "number" ? min : 1 } : w;
}

/** Builds the view once so that each rule does not re-scan the graph. */
export function viewOf(resources: readonly PlanResource[]): GraphView {
    const byType = new Map<string, PlanResource[]>();
    for (const r of resources) {
        const list = byType.get(r.type) ?? [];
        list.push(r);
        byType.set(r.type, list);
    }
    // Auto Scaling Groups count as the nodes they run (./groups.ts).
    const instances = [...(byType.get("aws:ec2/instance:Instance") ?? []), ...groupInstances(resources)].map(
        (r) => ({
            resource: r,
            role: instanceRole(r),
            instanceType: typeof r.inputs.instanceType === "string" ? r.inputs.instanceType : "unknown",
            zone: String(r.inputs.availabilityZone ?? r.inputs.subnetId ?? "unknown"),
        }),
    );
    const hpas = byType.get("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") ?? [];
    const workloads: Workload[] = [];
    // Every version's objects and every list item; a patch changes a workload that exists elsewhere, so it
    // is not one more workload to count.
    for (const r of resources)
        for (const w of asWorkloads(r.type, r.inputs, r.urn, r.name))
            if (!w.patch) workloads.push(withAutoscaling(w, r, hpas));
    const cluster = resources.find(
        (r) =>
            r.type.startsWith("keelson:cluster:") &&
            !urnTypes(r.urn)
                .slice(0, -1)
                .some((t) => t.startsWith("keelson:cluster:")),
    );
    return {
        resources,
        instances,
        workloads,
        ofType: (type) => byType.get(type) ?? [],
        clusterRef: cluster?.urn ?? "cluster",
    };
}
