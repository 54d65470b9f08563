import type { PublishVia } from "../app/render/routes";
import type { Service } from "../app/types";
// The typed stage configuration: one object per `keelson:<section>` key in Pulumi.<stage>.yaml.
// Every field here is already validated and defaulted (see ./index.ts, readStageConfig).

/** A Kubernetes taint on a node pool. https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/ */
export interface Taint {
    readonly key: string;
    readonly value?: string;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** `keelson:network`. */
export interface NetworkConfig {
    /** VPC CIDR. Default `10.0.0.0/16`. */
    readonly cidr: string;
    /** Availability zones, one public and one private subnet each. Default: `<region>a` (dev) or `a,b,c`. */
    readonly availabilityZones: readonly string[];
    /** `single` NAT gateway (cheap, one AZ) or one `perAz` (HA). Default `single`, `perAz` in prod. */
    readonly natGateways: "single" | "perAz";
    /** Public subnet CIDRs, one per AZ. Default: /22 blocks carved from the top quarter of the VPC. */
    readonly publicSubnets: readonly string[];
    /** Private subnet CIDRs, one per AZ. Default: /19 blocks from the start of the VPC. */
    readonly privateSubnets: readonly string[];
}

/**
 * A pool on Spot capacity (`keelson:cluster.workerPools[].spot`; `spot: true` takes every default): its Auto
 * Scaling Group launches through a mixed instances policy with Capacity Rebalancing on.
 */
export interface SpotConfig {
    /** Instance types the group may launch, the pool's `instanceType` first; one architecture, one size. Default `[instanceType]`. */
    readonly instanceTypes: readonly string[];
    /** Nodes always On-Demand. Default 0. */
    readonly onDemandBase: number;
    /** Percentage of the nodes above `onDemandBase` that are On-Demand. Default 0 (all Spot). */
    readonly onDemandPercentAboveBase: number;
    /** How EC2 picks Spot capacity. Default `price-capacity-optimized`. */
    readonly allocationStrategy:
        "price-capacity-optimized" | "capacity-optimized" | "capacity-optimized-prioritized" | "lowest-price";
}

/** One named pool of worker nodes (`keelson:cluster.workerPools[]`). */
export interface WorkerPoolConfig {
    /** DNS-safe name of the pool (its Auto Scaling Group, the `keelson.io/pool` label). */
    readonly name: string;
    /** EC2 instance type. Default `t3.medium`. */
    readonly instanceType: string;
    /** Nodes the pool's Auto Scaling Group keeps running (desired capacity), spread over the AZs. Default 1. */
    readonly count: number;
    /** Fewest nodes the group may run. Default `count`. */
    readonly minSize: number;
    /** Most nodes the group may run. Default `count`. */
    readonly maxSize: number;
    /** Node labels. Default none. */
    readonly labels: Readonly<Record<string, string>>;
    /** Node taints. Default none. */
    readonly taints: readonly Taint[];
    /** Root gp3 volume size in GiB (encrypted). Default 30. */
    readonly rootVolumeGb: number;
    /** Spot capacity. Default none (On-Demand `instanceType`). */
    readonly spot?: SpotConfig;
}

/** `keelson:cluster`. */
export interface ClusterConfig {
    /** Cluster name, DNS-safe. Default `keelson-<stage>`. */
    readonly name: string;
    /** Kubernetes version `1.N.P`; kubeadm, kubelet and kubectl are pinned to it. Default `1.33.4`. */
    readonly kubernetesVersion: string;
    /** Control-plane nodes: 1 (dev) or an odd number >= 3. Default 1, 3 in prod. */
    readonly masters: number;
    /** Master instance type. Default `t3.medium`. */
    readonly masterInstanceType: string;
    /** Master root volume GiB. Default 50. */
    readonly masterRootVolumeGb: number;
    /** Taint masters so that only control-plane pods run there. Default false, true in prod. */
    readonly dedicatedMasters: boolean;
    /** How clients reach the API: the `single` master (only with 1 master), an AWS `nlb`, or `haproxy` hosts. Default `single` for 1 master, else `nlb`. */
    readonly endpoint: "single" | "nlb" | "haproxy";
    /**
     * Who may reach the Kubernetes API from outside the VPC (operators, CI running `pulumi up`): CIDRs allowed on
     * port 6443 of the API endpoint, which is internet-facing so that Pulumi can deploy into the cluster.
     * Default `["0.0.0.0/0"]` outside production (client certificates still required); required in production.
     */
    readonly apiAllowedCidrs: readonly string[];
    /** HAProxy API hosts when `endpoint` is `haproxy`. Default 2. */
    readonly apiLoadBalancers: number;
    /** Pod network CIDR; must not overlap the VPC. Default `192.168.0.0/16`. */
    readonly podCidr: string;
    /** Service CIDR; must not overlap the VPC or pods. Default `10.96.0.0/12`. */
    readonly serviceCidr: string;
    /** Worker pools. Default one pool `general` of 1 `t3.medium`. */
    readonly workerPools: readonly WorkerPoolConfig[];
    /** The waits of each master's in-place upgrade (a `kubernetesVersion` bump). */
    readonly upgrade: UpgradeConfig;
}

/** `cluster.upgrade`. */
export interface UpgradeConfig {
    /** Seconds a master waits after each upgrade step for its API, Node and etcd to be healthy. 60 to 600. Default 600. */
    readonly healthTimeoutSeconds: number;
    /** `kubectl drain --timeout` of a master's kubelet phase. 60 to 600. Default 600. */
    readonly drainTimeoutSeconds: number;
}

/** A certificate for the edge, read from secret config `keelson:tls-<name>-cert` and `keelson:tls-<name>-key`. */
export interface EdgeCertificateConfig {
    readonly name: string;
    readonly hosts: readonly string[];
}

/** `keelson:edge`. */
export interface EdgeConfig {
    /** Load balancer software on the edge hosts. Default `nginx`. */
    readonly engine: "nginx" | "haproxy";
    /** Number of edge hosts, spread over the public subnets, each with an Elastic IP. Default 1, 2 in prod. */
    readonly count: number;
    /** Edge host instance type. Default `t3.small`. */
    readonly instanceType: string;
    /** Put an AWS NLB in front of the edge hosts. Default false. */
    readonly nlb: boolean;
    /** Where certificates come from: `self-signed` (dev), `provided` (secret config), `acme`. Default `self-signed`, `provided` in prod. */
    readonly tlsMode: "self-signed" | "provided" | "acme";
    /** Key algorithm for self-signed certificates. Default `ecdsa-p256`. */
    readonly keyAlgorithm: "ecdsa-p256" | "rsa-2048";
    /** Certificates for `provided` mode (one per SNI name set). */
    readonly certificates: readonly EdgeCertificateConfig[];
    /** Contact email for ACME registration (`acme` mode). */
    readonly acmeEmail?: string;
}

/** `keelson:app`: the application (a service file, inline services, or the shipped reference app) and its sizing. */
export interface AppConfig {
    /** Every service, resolved to service objects at load time, each dependency before its dependents. */
    readonly services: readonly Service[];
    /** The services nothing else depends on, in declaration order (what an Application is given). */
    readonly roots: readonly Service[];
    /** Secret names the services read (config keys `keelson:secret-<name>`). */
    readonly secrets: readonly string[];
    /** Where the application came from: `reference`, `inline` or the file name. */
    readonly source: string;
    /** Public hostname of the web service. Default `<stage>.keelson.example.com`. */
    readonly hostname: string;
    /** Replicas of the web service. Default 1, 3 in prod. */
    readonly webReplicas: number;
    /** Replicas of the background worker. Default 1, 2 in prod. */
    readonly workerReplicas: number;
    /** Persistent volume size of each database, GiB. Default 10, 100 in prod. */
    readonly databaseStorageGb: number;
    /** Kubernetes namespace of the application (a file's own `namespace` wins). Default `app`. */
    readonly namespace: string;
    /** HTTP routes through the cluster's Gateway or Ingress controller (app-only mode). Default none (the edge). */
    readonly publish?: PublishVia;
}

/** `keelson:addons`. */
export interface AddonsConfig {
    /** CNI plugin (both enforce NetworkPolicy). Default `calico`. */
    readonly cni: "calico" | "cilium";
    /** metrics-server. Default true. */
    readonly metricsServer: boolean;
    /** Log-collection DaemonSet. Default true. */
    readonly logging: boolean;
    /** Node-metrics DaemonSet. Default true. */
    readonly nodeMetrics: boolean;
    /** etcd snapshots to S3 every 15 minutes. Default false in dev, true otherwise. */
    readonly etcdBackups: boolean;
    /**
     * cluster-autoscaler: grows and shrinks every worker pool between its `minSize` and `maxSize` (Pulumi sets
     * `count` on create only). Default false.
     */
    readonly clusterAutoscaler: boolean;
}

/** `keelson:score`. */
export interface ScoreConfig {
    /** Fail the plan (and `pulumi preview`) when the overall StackScore grade is below this. Default none. */
    readonly minimumGrade?: "A" | "B" | "C" | "D" | "E" | "F";
}

/** The whole validated stage configuration. */
export interface StageConfig {
    /** Stack name: `dev`, `staging`, `prod` or any other. */
    readonly stage: string;
    /** True for a production stage (stack name `prod` or `production`, or `keelson:production: true`). */
    readonly production: boolean;
    /** AWS region (`aws:region`). */
    readonly region: string;
    readonly network: NetworkConfig;
    readonly cluster: ClusterConfig;
    readonly edge: EdgeConfig;
    readonly app: AppConfig;
    readonly addons: AddonsConfig;
    readonly score: ScoreConfig;
    /**
     * App-only mode: deploy onto an existing cluster from this kubeconfig (secret config
     * `keelson:kubeconfig`). When set, no VPC, VM or edge host is created.
     */
    readonly existingCluster: boolean;
    /**
     * The `aws:*` settings for the AWS provider Keelson creates (keys without the `aws:` prefix):
     * plain values, and the names of those that are secrets (read with `pulumi.Config("aws")`).
     */
    readonly aws?: {
        readonly settings: Readonly<Record<string, unknown>>;
        readonly secretKeys: readonly string[];
    };
}
