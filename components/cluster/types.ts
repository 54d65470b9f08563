// The Cluster component's public argument and output types.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig } from "../config/types";

/** Something with a security group id (an `aws.ec2.SecurityGroup`, or a fake in tests). */
export interface SecurityGroupRef {
    readonly id: pulumi.Output<string>;
}

/** What the cluster needs from the network (the Network component satisfies it). */
export interface ClusterNetwork {
    readonly vpcId: pulumi.Input<string>;
    /** Zone names; index i of each subnet list is in zone i. */
    readonly availabilityZones: readonly string[];
    readonly publicSubnetIds: pulumi.Input<string>[];
    readonly privateSubnetIds: pulumi.Input<string>[];
    readonly securityGroups: {
        readonly masters: SecurityGroupRef;
        readonly workers: SecurityGroupRef;
        readonly apiLb: SecurityGroupRef;
    };
}

/** Arguments of {@link Cluster}. */
export interface ClusterArgs {
    /** Stack name; part of the SSM prefix `/keelson/<stage>/<cluster>`. */
    readonly stage: string;
    readonly region: string;
    /** Validated `keelson:cluster`. */
    readonly config: ClusterConfig;
    /** The CNI the add-ons install (exposed for them; the node setup suits both). */
    readonly cni: "calico" | "cilium";
    readonly network: ClusterNetwork;
    /** Tags on every AWS resource. Default none. */
    readonly tags?: Record<string, string>;
    /** Readiness gate polling. Default 90 attempts, 10 s apart. */
    readonly readiness?: { readonly attempts?: number; readonly intervalMs?: number };
}

/** A worker node. */
export interface ClusterWorker {
    /** `<pool>-<index>`. */
    readonly name: string;
    readonly pool: string;
    readonly privateIp: pulumi.Output<string>;
    readonly instance: aws.ec2.Instance;
}
