// Capacity: do the workloads' requests fit on the workers with one worker lost?
import { GraphView } from "../graph-view";
import { allocatable, INSTANCE_SIZES } from "../instance-types";
import { parseCpuMillis, parseMemoryMiB } from "../quantity";
import { Finding, findingsFor } from "../types";
import { obj, Workload } from "../workloads";

const finding = findingsFor("capacity");

/** Utilisation (of the cluster with one node lost) above which rollouts have no surge room. */
export const HEADROOM_LIMIT = 0.85;

/** CPU millicores and MiB. */
export interface Demand {
    cpuMillis: number;
    memoryMiB: number;
}

/** The summed requests of one pod of a workload, or undefined when a container sets none. */
export function podRequests(w: Workload): Demand | undefined {
    const total: Demand = { cpuMillis: 0, memoryMiB: 0 };
    for (const c of w.containers) {
        const req = obj(obj(c.resources).requests);
        const cpu = parseCpuMillis(req.cpu);
        const mem = parseMemoryMiB(req.memory);
        if (cpu === undefined || mem === undefined) return undefined;
        total.cpuMillis += cpu;
        total.memoryMiB += mem;
    }
    return total;
}

const fmt = (d: Demand) => `${Math.round(d.cpuMillis)}m CPU / ${Math.round(d.memoryMiB)} MiB`;

/**
 * Sums every workload's requests (replicas × pod requests; DaemonSets once per node; CronJobs,
 * Jobs and Pods once) and compares them with the allocatable CPU and memory of the workers (the
 * masters when there are no workers) after losing the largest one.
 */
export function capacityFindings(view: GraphView): Finding[] {
    const out: Finding[] = [];
    let nodes = view.instances.filter((i) => i.role === "worker");
    if (nodes.length === 0) nodes = view.instances.filter((i) => i.role === "master");
    const demand: Demand = { cpuMillis: 0, memoryMiB: 0 };
    const perNode: Demand = { cpuMillis: 0, memoryMiB: 0 };
    for (const w of view.workloads) {
        const pod = podRequests(w);
        if (!pod) {
            out.push(
                finding(
                    "requests",
                    w.urn,
                    "medium",
                    `${w.kind} ${w.namespace}/${w.name} sets no CPU and memory requests: the scheduler cannot place it safely and it is not counted here.`,
                    "Set resources.requests.cpu and .memory on every container.",
                ),
            );
            continue;
        }
        const target = w.kind === "DaemonSet" ? perNode : demand;
        const times = w.replicas ?? 1;
        target.cpuMillis += pod.cpuMillis * times;
        target.memoryMiB += pod.memoryMiB * times;
    }
    if (view.workloads.length === 0) return out;
    if (nodes.length === 0) {
        out.push(
            finding(
                "not-assessed",
                view.clusterRef,
                "low",
                "The stage creates no nodes (existing cluster): capacity was not assessed.",
                "Check the existing cluster's allocatable resources against the requests by hand.",
            ),
        );
        return out;
    }
    const sized = nodes.map((n) => ({ n, size: INSTANCE_SIZES[n.instanceType] }));
    for (const { n } of sized.filter((s) => !s.size)) {
        out.push(
            finding(
                "unknown-instance-type",
                n.resource.urn,
                "low",
                `Instance type ${n.instanceType} of ${n.resource.name} is not in the size table: the node is not counted.`,
                "Use a listed instance type or add it to components/score/instance-types.ts.",
            ),
        );
    }
    const alloc = sized.filter((s) => s.size).map((s) => allocatable(s.size));
    const free = alloc.map((a) => ({
        cpuMillis: a.cpuMillis - perNode.cpuMillis,
        memoryMiB: a.memoryMiB - perNode.memoryMiB,
    }));
    const sum = (list: Demand[]) =>
        list.reduce(
            (t, d) => ({ cpuMillis: t.cpuMillis + d.cpuMillis, memoryMiB: t.memoryMiB + d.memoryMiB }),
            { cpuMillis: 0, memoryMiB: 0 },
        );
    const all = sum(free);
    // Losing the node with the most memory is the worst single loss for memory-bound stages.
    const largest = free.reduce((m, d, i) => (d.memoryMiB > free[m].memoryMiB ? i : m), 0);
    const minusOne = sum(free.filter((_, i) => i !== largest));
    const counted = free.length;
    const fits = (cap: Demand) => demand.cpuMillis <= cap.cpuMillis && demand.memoryMiB <= cap.memoryMiB;
    const fix =
        "Add workers or use a larger instance type (cluster.workerPools), or lower replicas/requests.";
    if (!fits(all)) {
        out.push(
            finding(
                "fit",
                view.clusterRef,
                "critical",
                `Requests ${fmt(demand)} do not fit the ${counted} node(s): ${fmt(all)} allocatable after DaemonSets.`,
                fix,
            ),
        );
    } else if (!fits(minusOne)) {
        out.push(
            finding(
                "fit-one-node-lost",
                view.clusterRef,
                "critical",
                `Requests ${fmt(demand)} do not fit with one of ${counted} node(s) lost: ${fmt(minusOne)} allocatable after DaemonSets.`,
                fix,
            ),
        );
    } else {
        const use = Math.max(demand.cpuMillis / minusOne.cpuMillis, demand.memoryMiB / minusOne.memoryMiB);
        if (use > HEADROOM_LIMIT) {
            out.push(
                finding(
                    "headroom",
                    view.clusterRef,
                    "medium",
                    `Requests ${fmt(demand)} use ${Math.round(use * 100)}% of ${fmt(minusOne)} allocatable with one node lost: rollouts have no surge room.`,
                    `Keep requests under ${HEADROOM_LIMIT * 100}% of the capacity left after losing a node: ${fix}`,
                ),
            );
        }
    }
    return out;
}
