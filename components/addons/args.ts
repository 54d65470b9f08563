// The Addons component's arguments and how their defaults resolve. Pure.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
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
    /** etcd snapshots to S3 every 15 minutes. Default true when `masterRole` is given, false otherwise. */
    readonly etcdBackups?: boolean;
    /** Master instance role: gets write access to the etcd snapshot bucket (no log agent runs on masters). */
    readonly masterRole?: aws.iam.Role;
    /** Worker instance roles by key (e.g. `{ workers: cluster.nodeRole }`): get the EBS CSI driver policy and CloudWatch Logs access. Default none. */
    readonly nodeRoles?: Record<string, aws.iam.Role>;
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
    args: Pick<
        AddonsArgs,
        "cni" | "metricsServer" | "logging" | "nodeMetrics" | "etcdBackups" | "masterRole"
    >,
): AddonsSpec {
    return {
        cni: args.cni ?? "calico",
        metricsServer: args.metricsServer ?? true,
        logging: args.logging ?? true,
        nodeMetrics: args.nodeMetrics ?? true,
        etcdBackups: args.etcdBackups ?? args.masterRole !== undefined,
    };
}
