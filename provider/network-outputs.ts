// What the Cluster and the Edge take from a `keelson:index:Network`: its outputs of the same names, so that a
// program passes them through as they are.
import * as pulumi from "@pulumi/pulumi";
import { NetworkSecurityGroups } from "../components";

/** A Network's outputs that the Cluster and the Edge run in. */
export interface NetworkOutputsArgs {
    /** The VPC's ID. */
    readonly vpcId: pulumi.Input<string>;
    /** Zone names; index i of each subnet list is in zone i. */
    readonly availabilityZones: string[];
    /** One public subnet per zone, in zone order. */
    readonly publicSubnetIds: pulumi.Input<string>[];
    /** One private subnet per zone, in zone order. */
    readonly privateSubnetIds: pulumi.Input<string>[];
    /** The Network's security groups (the cluster uses masters, workers and apiLb; the edge edge and workerLb). */
    readonly securityGroups: NetworkSecurityGroups;
}
