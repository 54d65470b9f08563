// The Addons component's arguments and how their defaults resolve. Pure.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WebIdentityIssuer } from "../cluster/irsa";
import { CniName } from "../cluster/types";

/** Arguments of {@link Addons}. `provider` and `clusterName` are required; every other field has the default it states. */
export interface AddonsArgs {
    /** Provider of the cluster. */
    readonly provider: k8s.Provider;
    /** The cluster's name (CNI, logging and etcd backup settings, bucket tags). */
    readonly clusterName: string;
    /** AWS region of the cluster (EBS CSI, CloudWatch Logs, S3). Default the `aws:region` config. */
    readonly region?: string;
    /** The VPC CIDR: the kubelet CSR approver signs serving certificates only for node addresses in it. Required. */
    readonly vpcCidr?: string;
    /**
     * The cluster has a public master (master-0 of `cluster.endpoint: single`, with the endpoint's Elastic IP): the
     * CSR approver then leaves a CSR it does not approve Pending instead of Denied (`skipDenyStep`), so that the
     * public master's own timer can approve its serving CSR (cluster/render/own-serving-csr.ts). Default false.
     */
    readonly publicMasters?: boolean;
    /** Pod network CIDR, handed to the CNI. Default `192.168.0.0/16` (the Cluster's default). */
    readonly podCidr?: string;
    /** CNI plugin; both enforce NetworkPolicy. Default `calico`. */
    readonly cni?: CniName;
    /** metrics-server on the masters. Default true. */
    readonly metricsServer?: boolean;
    /** fluent-bit log collection to CloudWatch Logs. Default true. */
    readonly logging?: boolean;
    /** node-exporter DaemonSet. Default true. */
    readonly nodeMetrics?: boolean;
    /** etcd snapshots to S3 every 15 minutes (Keelson clusters: the job runs on the masters). Default true. */
    readonly etcdBackups?: boolean;
    /**
     * The cluster's service-account issuer (`cluster.webIdentity`): the EBS CSI controller, fluent-bit and
     * the etcd backup each get a role of their own that only their service account can assume (IRSA); no
     * add-on uses a node's role.
     */
    readonly webIdentity: WebIdentityIssuer;
    /** The cluster-ready gate: nothing is installed before it. Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
}

/** Which add-ons run, with every default applied. */
export interface AddonsSpec {
    readonly cni: CniName;
    readonly metricsServer: boolean;
    readonly logging: boolean;
    readonly nodeMetrics: boolean;
    readonly etcdBackups: boolean;
}

/** Applies the defaults {@link AddonsArgs} documents. Pure. */
export function resolveAddonsSpec(
    args: Pick<AddonsArgs, "cni" | "metricsServer" | "logging" | "nodeMetrics" | "etcdBackups">,
): AddonsSpec {
    return {
        cni: args.cni ?? "calico",
        metricsServer: args.metricsServer ?? true,
        logging: args.logging ?? true,
        nodeMetrics: args.nodeMetrics ?? true,
        etcdBackups: args.etcdBackups ?? true,
    };
}
