// Availability: can the stage lose one VM, one AZ or one pod without an outage?
import { GraphView, InstanceView } from "../graph-view";
import { Finding, findingsFor } from "../types";
import { selectedBy, spreadsReplicas } from "../workloads";

const finding = findingsFor("availability");

function zones(list: readonly InstanceView[]): number {
    return new Set(list.map((i) => i.zone)).size;
}

/** Control plane, workers, edge hosts and NAT gateways: counts and spread over AZs. */
export function infrastructureAvailability(view: GraphView): Finding[] {
    const out: Finding[] = [];
    const masters = view.instances.filter((i) => i.role === "master");
    const workers = view.instances.filter((i) => i.role === "worker");
    const edges = view.instances.filter((i) => i.role === "edge");
    if (masters.length === 1) {
        out.push(
            finding(
                "single-master",
                masters[0].resource.urn,
                "high",
                "The control plane is one master: losing it stops the Kubernetes API and etcd.",
                "Set cluster.masters to 3 (one per availability zone).",
            ),
        );
    } else if (masters.length > 1 && masters.length % 2 === 0) {
        out.push(
            finding(
                "even-masters",
                view.clusterRef,
                "high",
                `${masters.length} masters tolerate no more failures than ${masters.length - 1}: etcd needs a majority.`,
                `Set cluster.masters to ${masters.length + 1}.`,
            ),
        );
    }
    if (masters.length >= 3 && zones(masters) < Math.min(3, masters.length)) {
        out.push(
            finding(
                "masters-one-zone",
                view.clusterRef,
                "high",
                `The ${masters.length} masters sit in ${zones(masters)} availability zone(s): one AZ outage can take etcd's majority.`,
                "List three network.availabilityZones so that masters land in distinct AZs.",
            ),
        );
    }
    if (masters.length > 0 && workers.length === 1) {
        out.push(
            finding(
                "single-worker",
                workers[0].resource.urn,
                "high",
                "One worker node: a node failure or upgrade drains every workload.",
                "Set the worker pool count to 2 or more, across availability zones.",
            ),
        );
    } else if (workers.length >= 2 && zones(workers) < 2) {
        out.push(
            finding(
                "workers-one-zone",
                view.clusterRef,
                "medium",
                `The ${workers.length} workers all sit in one availability zone.`,
                "Use two or more network.availabilityZones; worker pools spread round-robin over them.",
            ),
        );
    }
    if (edges.length === 1) {
        out.push(
            finding(
                "single-edge",
                edges[0].resource.urn,
                "high",
                "One edge load balancer host: it is a single point of failure for all public traffic.",
                "Set edge.count to 2 or more.",
            ),
        );
    } else if (edges.length >= 2 && zones(edges) < 2) {
        out.push(
            finding(
                "edge-one-zone",
                edges[0].resource.urn,
                "medium",
                `The ${edges.length} edge hosts all sit in one availability zone.`,
                "Use two or more network.availabilityZones so that edge hosts spread over public subnets.",
            ),
        );
    }
    const nats = view.ofType("aws:ec2/natGateway:NatGateway");
    const publicSubnets = view
        .ofType("aws:ec2/subnet:Subnet")
        .filter((s) => s.inputs.mapPublicIpOnLaunch === true);
    if (nats.length > 0 && publicSubnets.length > 1 && nats.length < publicSubnets.length) {
        out.push(
            finding(
                "nat-not-per-az",
                nats[0].urn,
                "medium",
                `${nats.length} NAT gateway(s) for ${publicSubnets.length} availability zones: private subnets lose egress when the NAT's AZ fails.`,
                "Set network.natGateways to perAz.",
            ),
        );
    }
    return out;
}

/** Replicated application workloads: replicas >= 2, a PodDisruptionBudget, topology spread. */
export function workloadAvailability(view: GraphView, systemNamespaces: readonly string[]): Finding[] {
    const out: Finding[] = [];
    for (const w of view.workloads) {
        if (w.replicas === undefined || systemNamespaces.includes(w.namespace)) continue;
        const id = `${w.kind} ${w.namespace}/${w.name}`;
        if (w.kind === "Deployment" && w.replicas < 2) {
            out.push(
                finding(
                    "replicas",
                    w.urn,
                    "medium",
                    `${id} runs ${w.replicas} replica: a rollout or node drain takes it down.`,
                    "Run 2 or more replicas, or let an HPA own the count with minReplicas >= 2.",
                ),
            );
        }
        if (
            w.replicas >= 2 &&
            !selectedBy(view.ofType("kubernetes:policy/v1:PodDisruptionBudget"), w, "selector")
        ) {
            out.push(
                finding(
                    "pdb",
                    w.urn,
                    "medium",
                    `${id} has ${w.replicas} replicas but no PodDisruptionBudget selects its pods.`,
                    "Add a PodDisruptionBudget (maxUnavailable: 1) selecting the pod labels.",
                ),
            );
        }
        if (w.replicas >= 2 && !spreadsReplicas(w.podSpec)) {
            out.push(
                finding(
                    "topology-spread",
                    w.urn,
                    "low",
                    `${id} has no topology spread or pod anti-affinity: replicas may share a node.`,
                    "Add topologySpreadConstraints over topology.kubernetes.io/zone and kubernetes.io/hostname.",
                ),
            );
        }
    }
    return out;
}
