// The Cluster component's public argument and output types, and how its defaults resolve.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The default Kubernetes version; kubeadm, kubelet and kubectl are pinned to it. */
export const DEFAULT_KUBERNETES_VERSION = "1.33.4";

/** A Kubernetes taint on a node pool. https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/ */
export interface Taint {
    readonly key: string;
    readonly value?: string;
    readonly effect: TaintEffect;
}

// The string unions below are declared as `as const` objects too: the component provider's schema
// inference reads their members from there (plain literals still type-check).

/** What a taint does to pods that do not tolerate it. */
export const TaintEffect = {
    NoSchedule: "NoSchedule",
    PreferNoSchedule: "PreferNoSchedule",
    NoExecute: "NoExecute",
} as const;
/** What a taint does to pods that do not tolerate it. */
export type TaintEffect = (typeof TaintEffect)[keyof typeof TaintEffect];

/** How clients reach the API: the `single` master (only with 1 master), an AWS `nlb`, or `haproxy` hosts. */
export const ApiEndpointKind = { Single: "single", Nlb: "nlb", Haproxy: "haproxy" } as const;
/** How clients reach the API: the `single` master (only with 1 master), an AWS `nlb`, or `haproxy` hosts. */
export type ApiEndpointKind = (typeof ApiEndpointKind)[keyof typeof ApiEndpointKind];

/** The CNI plugin the add-ons install; both enforce NetworkPolicy. */
export const CniName = { Calico: "calico", Cilium: "cilium" } as const;
/** The CNI plugin the add-ons install; both enforce NetworkPolicy. */
export type CniName = (typeof CniName)[keyof typeof CniName];

/** Something with a security group id (an `aws.ec2.SecurityGroup`, or a fake in tests). */
export interface SecurityGroupRef {
    readonly id: pulumi.Output<string>;
}

/** The security groups the cluster's nodes and API endpoint use. */
export interface ClusterSecurityGroups {
    readonly masters: SecurityGroupRef;
    readonly workers: SecurityGroupRef;
    readonly apiLb: SecurityGroupRef;
}

/** What the cluster needs from the network (the Network component satisfies it). */
export interface ClusterNetwork {
    readonly vpcId: pulumi.Input<string>;
    /** Zone names; index i of each subnet list is in zone i. */
    readonly availabilityZones: string[];
    readonly publicSubnetIds: pulumi.Input<string>[];
    readonly privateSubnetIds: pulumi.Input<string>[];
    readonly securityGroups: ClusterSecurityGroups;
}

/** How a pool's Spot instances are chosen among their pools of capacity (EC2 Auto Scaling's strategies). */
export const SpotAllocationStrategy = {
    PriceCapacityOptimized: "price-capacity-optimized",
    CapacityOptimized: "capacity-optimized",
    CapacityOptimizedPrioritized: "capacity-optimized-prioritized",
    LowestPrice: "lowest-price",
} as const;
/** How a pool's Spot instances are chosen among their pools of capacity (EC2 Auto Scaling's strategies). */
export type SpotAllocationStrategy = (typeof SpotAllocationStrategy)[keyof typeof SpotAllocationStrategy];

/**
 * A pool on Spot capacity: its group launches through a mixed instances policy (the pool's launch template,
 * one override per instance type) with Capacity Rebalancing on. A Spot node that EC2 reclaims is drained
 * first (the termination handler gets the two-minute warning and the rebalance recommendation).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-mixed-instances-groups.html
 */
export interface SpotArgs {
    /**
     * Instance types the group may launch, in order of preference, the pool's `instanceType` first; all of one
     * architecture and of the same vCPUs and memory. Default `[instanceType]`.
     */
    readonly instanceTypes?: string[];
    /** Nodes always On-Demand, before any Spot. Default 0. */
    readonly onDemandBase?: number;
    /** Percentage of the nodes above `onDemandBase` that are On-Demand (the rest Spot). Default 0. */
    readonly onDemandPercentAboveBase?: number;
    /** How Spot capacity is chosen. Default `price-capacity-optimized` (AWS's recommendation). */
    readonly allocationStrategy?: SpotAllocationStrategy;
}

/** A pool's Spot settings with every default applied. */
export interface SpotSpec {
    readonly instanceTypes: readonly string[];
    readonly onDemandBase: number;
    readonly onDemandPercentAboveBase: number;
    readonly allocationStrategy: SpotAllocationStrategy;
}

/** One named pool of worker nodes. */
export interface WorkerPoolArgs {
    /** DNS-safe name; nodes are named `<pool>-<index>`. */
    readonly name: string;
    /** EC2 instance type. Default `t3.medium`. */
    readonly instanceType?: string;
    /** Nodes the pool's Auto Scaling Group keeps running (its desired capacity), spread over the zones. Default 1. */
    readonly count?: number;
    /** Fewest nodes the group may run. Default `count`. */
    readonly minSize?: number;
    /** Most nodes the group may run. Default `count`. */
    readonly maxSize?: number;
    /** Node labels. Default none. */
    readonly labels?: Record<string, string>;
    /** Node taints. Default none. */
    readonly taints?: Taint[];
    /** Root gp3 volume size in GiB (encrypted). Default 30. */
    readonly rootVolumeGb?: number;
    /** Run the pool on Spot capacity over these instance types. Default none: On-Demand `instanceType` only. */
    readonly spot?: SpotArgs;
}

/** Readiness gate polling. */
export interface ReadinessArgs {
    /** Attempts before giving up. Default 90. */
    readonly attempts?: number;
    /** Milliseconds between attempts. Default 10000. */
    readonly intervalMs?: number;
}

/** How long an in-place upgrade (`cluster.kubernetesVersion` bumped) waits, per master (./upgrade.ts). */
export interface UpgradeArgs {
    /**
     * Seconds a master waits after each step for its API, its Node and every etcd member to be healthy before
     * it fails that step (checked every 10 s). 60 to 600. Default 600.
     */
    readonly healthTimeoutSeconds?: number;
    /** `kubectl drain --timeout` of a master's kubelet phase, PodDisruptionBudgets respected. 60 to 600. Default 600. */
    readonly drainTimeoutSeconds?: number;
}

/** {@link UpgradeArgs} with the defaults applied. */
export interface UpgradeSpec {
    readonly healthTimeoutSeconds: number;
    readonly drainTimeoutSeconds: number;
}

/**
 * Bounds of both {@link UpgradeArgs} timeouts: an upgrade step runs within SSM's one-hour command timeout, which
 * has to hold the wait for a booting master (30 min), the drain and two health waits.
 */
export const UPGRADE_TIMEOUT_BOUNDS = { min: 60, max: 600 } as const;

/** Each {@link UpgradeSpec} timeout that is not a whole number of seconds within {@link UPGRADE_TIMEOUT_BOUNDS}. Pure. */
export function upgradeTimeoutProblems(
    path: string,
    u: UpgradeSpec,
): { readonly key: string; readonly value: unknown; readonly fix: string }[] {
    const { min, max } = UPGRADE_TIMEOUT_BOUNDS;
    return (["healthTimeoutSeconds", "drainTimeoutSeconds"] as const)
        .filter((k) => !Number.isInteger(u[k]) || u[k] < min || u[k] > max)
        .map((k) => ({
            key: `${path}.${k}`,
            value: u[k],
            fix: `is not a whole number from ${min} to ${max}; use seconds within that range`,
        }));
}

/** Arguments of {@link Cluster}. Only `network` is required; every other field has the default it states. */
export interface ClusterArgs extends ClusterShapeArgs {
    /** The VPC, subnets and security groups (a {@link Network} satisfies it). */
    readonly network: ClusterNetwork;
}

/**
 * Every argument of {@link Cluster} but its network, each with the default it states (the component provider's
 * Cluster takes these too, provider/cluster.ts).
 */
export interface ClusterShapeArgs {
    /** Stage (stack) name; part of the SSM prefix `/keelson/<stage>/<cluster>`. Default the Pulumi stack name. */
    readonly stage?: string;
    /** AWS region of the nodes (SSM and KMS endpoints, topology labels). Default the `aws:region` config. */
    readonly region?: string;
    /** Cluster name, DNS-safe (kubeadm `clusterName`, tags, SSM prefix). Default the component's name. */
    readonly clusterName?: string;
    /** Kubernetes version `1.N.P`; kubeadm, kubelet and kubectl are pinned to it. Default `1.33.4`. */
    readonly kubernetesVersion?: string;
    /** Control-plane nodes: 1 or an odd number >= 3, spread round-robin over the zones. Default 1. */
    readonly masters?: number;
    /** Master instance type. Default `t3.medium`. */
    readonly masterInstanceType?: string;
    /** Master root volume GiB (encrypted gp3). Default 50. */
    readonly masterRootVolumeGb?: number;
    /** Taint the masters so that only control-plane pods run there. Default false. */
    readonly dedicatedMasters?: boolean;
    /** How clients reach the API. Default `single` with 1 master, `nlb` otherwise. */
    readonly endpoint?: ApiEndpointKind;
    /** HAProxy API hosts when `endpoint` is `haproxy`. Default 2. */
    readonly apiLoadBalancers?: number;
    /** Pod network CIDR; must not overlap the VPC. Default `192.168.0.0/16`. */
    readonly podCidr?: string;
    /** Service CIDR; must not overlap the VPC or the pods. Default `10.96.0.0/12`. */
    readonly serviceCidr?: string;
    /** Worker pools. Default one pool `general` of 1 `t3.medium`. */
    readonly workerPools?: WorkerPoolArgs[];
    /** The CNI the add-ons install (exposed for them; the node setup suits both). Default `calico`. */
    readonly cni?: CniName;
    /** Tags on every AWS resource. Default none. */
    readonly tags?: Record<string, string>;
    /** Readiness gate polling. Default 90 attempts, 10 s apart. */
    readonly readiness?: ReadinessArgs;
    /** The in-place upgrade's waits per master. Default 600 s for health after each step, 600 s for the drain. */
    readonly upgrade?: UpgradeArgs;
    /**
     * The pools are the cluster-autoscaler's (see ./ClusterAutoscaler.ts): each group carries its discovery and
     * node-template tags, and Pulumi sets a group's desired capacity (`count`) when it creates it and then leaves
     * it to the autoscaler, within `minSize` and `maxSize`. Default false.
     */
    readonly clusterAutoscaler?: boolean;
}

/** A worker pool with every default applied. */
export interface WorkerPoolSpec {
    readonly name: string;
    readonly instanceType: string;
    /** Desired capacity. */
    readonly count: number;
    readonly minSize: number;
    readonly maxSize: number;
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly Taint[];
    readonly rootVolumeGb: number;
    /** Only for a Spot pool. */
    readonly spot?: SpotSpec;
}

/** The cluster's shape with every default applied: what the pure renderers plan from. */
export interface ClusterSpec {
    readonly name: string;
    readonly kubernetesVersion: string;
    readonly masters: number;
    readonly masterInstanceType: string;
    readonly masterRootVolumeGb: number;
    readonly dedicatedMasters: boolean;
    readonly endpoint: ApiEndpointKind;
    readonly apiLoadBalancers: number;
    readonly podCidr: string;
    readonly serviceCidr: string;
    readonly workerPools: readonly WorkerPoolSpec[];
    readonly upgrade: UpgradeSpec;
}

/** Applies the defaults {@link ClusterArgs} documents. `name` is the component's name. Pure. */
export function resolveClusterSpec(name: string, args: ClusterShapeArgs): ClusterSpec {
    const masters = args.masters ?? 1;
    return {
        name: args.clusterName ?? name,
        kubernetesVersion: args.kubernetesVersion ?? DEFAULT_KUBERNETES_VERSION,
        masters,
        masterInstanceType: args.masterInstanceType ?? "t3.medium",
        masterRootVolumeGb: args.masterRootVolumeGb ?? 50,
        dedicatedMasters: args.dedicatedMasters ?? false,
        endpoint: args.endpoint ?? (masters === 1 ? "single" : "nlb"),
        apiLoadBalancers: args.apiLoadBalancers ?? 2,
        podCidr: args.podCidr ?? "192.168.0.0/16",
        serviceCidr: args.serviceCidr ?? "10.96.0.0/12",
        workerPools: (args.workerPools ?? [{ name: "general" }]).map((p) => ({
            name: p.name,
            instanceType: p.instanceType ?? "t3.medium",
            count: p.count ?? 1,
            minSize: p.minSize ?? p.count ?? 1,
            maxSize: p.maxSize ?? p.count ?? 1,
            labels: p.labels ?? {},
            taints: p.taints ?? [],
            rootVolumeGb: p.rootVolumeGb ?? 30,
            ...(p.spot ? { spot: resolveSpot(p.spot, p.instanceType ?? "t3.medium") } : {}),
        })),
        upgrade: {
            healthTimeoutSeconds: args.upgrade?.healthTimeoutSeconds ?? 600,
            drainTimeoutSeconds: args.upgrade?.drainTimeoutSeconds ?? 600,
        },
    };
}

/** Applies the defaults {@link SpotArgs} documents. Pure. */
export function resolveSpot(spot: SpotArgs, instanceType: string): SpotSpec {
    return {
        instanceTypes: spot.instanceTypes ?? [instanceType],
        onDemandBase: spot.onDemandBase ?? 0,
        onDemandPercentAboveBase: spot.onDemandPercentAboveBase ?? 0,
        allocationStrategy: spot.allocationStrategy ?? "price-capacity-optimized",
    };
}

/** A worker pool of the cluster. */
export interface ClusterWorker {
    /** The pool's name. */
    readonly pool: string;
    /** Its Auto Scaling Group's name (the cluster-autoscaler and the edge's ingress go by it). */
    readonly groupName: pulumi.Output<string>;
    readonly group: aws.autoscaling.Group;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
}
