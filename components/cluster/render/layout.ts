// The cluster's node layout and per-node user-data, decided from plain config values only (so the
// component decides resource counts without waiting on Outputs). Pure.
import { ClusterSpec, Taint } from "../types";
import { renderNodeUserData } from "./cloudinit";
import { ZONE_PLACEHOLDER } from "./policies";
import {
    KubeadmClusterOptions,
    masterTaints,
    POOL_LABEL,
    renderInitConfig,
    renderJoinConfig,
} from "./kubeadm";

/**
 * One master slot, or one worker pool (all its nodes boot the same launch template, in whichever
 * private subnet the Auto Scaling Group picks).
 */
export interface NodeSpec {
    /** Stable name: `master-<i>`, or the pool's name. */
    readonly name: string;
    readonly role: "master" | "worker";
    /** Index among the masters; 0 for a pool. */
    readonly index: number;
    /** Worker pool name (workers only). */
    readonly pool?: string;
    /** Index into the network's private subnets / availability zones (masters, round-robin; 0 for a pool). */
    readonly azIndex: number;
    /** The availability zone's name; for a pool {@link ZONE_PLACEHOLDER}, filled in from IMDS at boot. */
    readonly zone: string;
    readonly instanceType: string;
    readonly rootVolumeGb: number;
    /** Labels set by the kubelet at registration. */
    readonly labels: Readonly<Record<string, string>>;
    /** Taints set at registration (empty list: none). */
    readonly taints: readonly Taint[];
    /** A master in a public subnet with a public IPv4, the endpoint's Elastic IP ({@link hasPublicMaster}). */
    readonly publicMaster: boolean;
}

/**
 * Whether master-0 is a public master: with `cluster.endpoint: single` it is the API endpoint, in a public
 * subnet with the endpoint's Elastic IP. No other master, and no master of another endpoint kind, ever is.
 */
export function hasPublicMaster(config: Pick<ClusterSpec, "endpoint">): boolean {
    return config.endpoint === "single";
}

/** Label of each master: its slot (`master-1`), which the readiness gate and operators go by. */
export const SLOT_LABEL = "keelson.io/slot";

/**
 * Well-known labels every node sets on itself (the NodeRestriction admission plugin allows these):
 * zone and region for topology spread and the EBS CSI driver, instance type for scheduling.
 */
export function wellKnownLabels(region: string, zone: string, instanceType: string): Record<string, string> {
    return {
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zone,
        "node.kubernetes.io/instance-type": instanceType,
    };
}

/**
 * Masters `master-0..n-1` in zone `i % zones.length`, then one entry per worker pool (its Auto
 * Scaling Group spreads the nodes over the zones). Every node carries {@link wellKnownLabels} (a
 * pool's zone label is {@link ZONE_PLACEHOLDER}, read from IMDS at boot); workers also
 * `keelson.io/pool=<pool>` and the pool's labels.
 */
export function planNodes(config: ClusterSpec, zones: readonly string[], region: string): NodeSpec[] {
    if (zones.length < 1) throw new Error("planNodes: the network has no availability zone");
    const azCount = zones.length;
    const nodes: NodeSpec[] = [];
    for (let i = 0; i < config.masters; i++) {
        nodes.push({
            name: `master-${i}`,
            role: "master",
            index: i,
            azIndex: i % azCount,
            zone: zones[i % azCount],
            instanceType: config.masterInstanceType,
            rootVolumeGb: config.masterRootVolumeGb,
            labels: {
                ...wellKnownLabels(region, zones[i % azCount], config.masterInstanceType),
                [SLOT_LABEL]: `master-${i}`,
            },
            taints: masterTaints(config.dedicatedMasters),
            publicMaster: i === 0 && hasPublicMaster(config),
        });
    }
    for (const pool of config.workerPools) {
        nodes.push({
            name: pool.name,
            role: "worker",
            index: 0,
            pool: pool.name,
            azIndex: 0,
            zone: ZONE_PLACEHOLDER,
            instanceType: pool.instanceType,
            rootVolumeGb: pool.rootVolumeGb,
            labels: {
                ...withoutInstanceType(
                    wellKnownLabels(region, ZONE_PLACEHOLDER, pool.instanceType),
                    (pool.spot?.instanceTypes.length ?? 1) > 1,
                ),
                [POOL_LABEL]: pool.name,
                ...pool.labels,
            },
            taints: [...pool.taints],
            publicMaster: false,
        });
    }
    return nodes;
}

/**
 * A pool of several instance types cannot know its node's type when it renders the template: its nodes leave
 * `node.kubernetes.io/instance-type` to the cloud controller, which sets it from EC2 when it initialises the
 * Node (before any pod schedules: the Node is tainted uninitialized until then).
 */
function withoutInstanceType(labels: Record<string, string>, mixed: boolean): Record<string, string> {
    if (!mixed) return labels;
    const rest = { ...labels };
    delete rest["node.kubernetes.io/instance-type"];
    return rest;
}

/** Everything besides the node itself that its user-data depends on, as plain values. */
export interface NodeEnvironment extends KubeadmClusterOptions {
    readonly region: string;
    /** `/keelson/<stage>/<cluster>`. */
    readonly ssmPrefix: string;
    /** ARN of the cluster's KMS key (the masters' token rotation writes with it). */
    readonly kmsKeyArn: string;
    /** Masters in the cluster (their slots `master-0..n-1`). */
    readonly masterCount: number;
}

/** A node's rendered texts: the kubeadm template(s) and the full user-data. */
export interface RenderedNode {
    readonly kubeadmInit?: string;
    readonly kubeadmJoin: string;
    readonly userData: string;
}

/** Renders one node: master 0 gets the init template (and join, for when it replaces a lost master 0). */
export function renderNode(node: NodeSpec, env: NodeEnvironment): RenderedNode {
    const reg = { labels: node.labels, taints: node.taints };
    const kubeadmInit = node.role === "master" && node.index === 0 ? renderInitConfig(env, reg) : undefined;
    const kubeadmJoin = renderJoinConfig(env, reg, node.role === "master");
    const userData = renderNodeUserData({
        bootstrap: {
            role: node.role,
            masterIndex: node.role === "master" ? node.index : undefined,
            masterCount: env.masterCount,
            nodeName: node.name,
            region: env.region,
            ssmPrefix: env.ssmPrefix,
            kubernetesVersion: env.kubernetesVersion,
            endpointHost: env.endpointHost,
            endpointPort: env.endpointPort,
        },
        kubeadmInit,
        kubeadmJoin,
        kmsKeyArn: env.kmsKeyArn,
        publicMaster: node.publicMaster,
    });
    return { kubeadmInit, kubeadmJoin, userData };
}
