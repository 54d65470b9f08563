// One worker pool as an Auto Scaling Group on a launch template: nodes that a dead VM does not
// take away (the group replaces it) and that roll, capacity kept, when the template changes.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createNodeLaunchTemplate, groupTags, pinnedVersion } from "./launch-template";
import { autoscalerGroupTags, NodeTemplate } from "./render/autoscaler";
import { NTH_MANAGED_TAG } from "./render/termination";
import { mixedInstancesPolicy } from "./spot";
import { SpotSpec } from "./types";

/** Instance refresh defaults: capacity never drops below the desired count while a pool rolls. */
export const REFRESH_MIN_HEALTHY_PERCENT = 100;
/** Up to 10 % extra instances (at least one) launch before the old ones terminate. */
export const REFRESH_MAX_HEALTHY_PERCENT = 110;
/** Seconds a new node gets to install, join and become Ready before the refresh moves on. */
export const NODE_WARMUP_SECONDS = 300;

/** Inputs of a {@link WorkerPool}. */
export interface WorkerPoolComponentArgs {
    /** The pool's name (`keelson:pool` tag, `keelson.io/pool` node label). */
    readonly pool: string;
    readonly ami: pulumi.Input<string>;
    readonly instanceType: string;
    /** Nodes the group never goes below. */
    readonly minSize: number;
    /** Nodes the group never goes above. */
    readonly maxSize: number;
    /** Nodes the group keeps running (between min and max). */
    readonly desiredCapacity: number;
    /** Root gp3 volume size in GiB (encrypted, deleted with the instance). */
    readonly rootVolumeGb: number;
    /** gzip + base64 user-data of every node of the pool (see ../ec2/user-data.ts). */
    readonly userDataBase64: pulumi.Input<string>;
    /** Private subnets, one per zone: the group spreads the nodes over them. */
    readonly subnetIds: pulumi.Input<string>[];
    readonly securityGroupIds: pulumi.Input<string>[];
    /**
     * IMDS hop limit. 1 keeps the worker role away from pods on the pod network (their requests
     * are one hop further); 2 lets them use it. Keelson's clusters use 1 (add-ons use IRSA roles).
     */
    readonly metadataHopLimit: 1 | 2;
    /** Name of the instance profile of the worker role. */
    readonly instanceProfileName: pulumi.Input<string>;
    /** Tags of the template, the group, and (propagated) every instance and volume. */
    readonly tags: Record<string, string>;
    /**
     * Minimum healthy percentage of the desired capacity during an instance refresh. Default 100:
     * replacements launch before old nodes terminate (with {@link REFRESH_MAX_HEALTHY_PERCENT}).
     */
    readonly minHealthyPercentage?: number;
    /** What a node needs before it boots (its SSM parameters, policies, the route to the internet). */
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
    /**
     * Spot capacity over these instance types (the first is `instanceType`, the launch template's): the group
     * launches through a mixed instances policy instead of the template alone, with Capacity Rebalancing on.
     * Default none (On-Demand `instanceType`).
     */
    readonly spot?: SpotSpec;
    /**
     * The cluster-autoscaler sizes the group: the group gets its discovery tags for `clusterName` and one
     * node-template tag per label and taint of `nodes`, and Pulumi sets `desiredCapacity` on create only.
     * Default none (Pulumi keeps the group at `desiredCapacity`).
     */
    readonly autoscaler?: { readonly clusterName: string; readonly nodes: NodeTemplate };
}

/**
 * A worker pool (`keelson:cluster:WorkerPool`): a launch template (the Debian AMI, IMDSv2 only with
 * the hop limit given, an encrypted gp3 root volume, the pool's user-data) and an Auto Scaling Group over the private subnets with the min, max and desired sizes
 * given. The group pins the template's latest version, so a changed template (new user-data, a new
 * instance type) starts an instance refresh: rolling, at least `minHealthyPercentage` (default 100)
 * of the desired capacity in service throughout, instances already on the template skipped, and a
 * failed refresh rolled back. A newer Debian AMI is ignored until the template changes for another
 * reason (like the masters, nodes do not roll for every image rebuild). A Spot pool's group launches through
 * a mixed instances policy (the same template, one override per instance type, its On-Demand and Spot
 * distribution) with Capacity Rebalancing; a change of its instance types rolls it the same way.
 */
export class WorkerPool extends pulumi.ComponentResource {
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly group: aws.autoscaling.Group;

    constructor(name: string, args: WorkerPoolComponentArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:WorkerPool", name, {}, opts);
        // NTH_MANAGED_TAG: aws-node-termination-handler drains only the instances that carry it.
        const tags = {
            ...args.tags,
            "keelson:role": "worker",
            "keelson:pool": args.pool,
            [NTH_MANAGED_TAG]: "",
        };
        this.launchTemplate = createNodeLaunchTemplate(
            name,
            {
                description: `Keelson worker pool ${args.pool}`,
                ami: args.ami,
                instanceType: args.instanceType,
                userDataBase64: args.userDataBase64,
                instanceProfileName: args.instanceProfileName,
                securityGroupIds: args.securityGroupIds,
                metadataHopLimit: args.metadataHopLimit,
                rootVolumeGb: args.rootVolumeGb,
                tags,
                dependsOn: args.dependsOn,
            },
            this,
        );
        // The version number, not "$Latest": only a pinned version starts an instance refresh.
        const version = pinnedVersion(this.launchTemplate);
        // A mixed instances policy replaces the group's launchTemplate (the provider takes one or the other).
        const launch = args.spot
            ? {
                  mixedInstancesPolicy: mixedInstancesPolicy(this.launchTemplate.id, version, args.spot),
                  // Replace a Spot node at elevated risk before EC2 reclaims it (drained like any leaving node).
                  capacityRebalance: true,
              }
            : { launchTemplate: { id: this.launchTemplate.id, version } };
        // Discovery tags stay on the group: the autoscaler reads groups, and the instances need no copy.
        const groupOnly = args.autoscaler
            ? autoscalerGroupTags(args.autoscaler.clusterName, args.autoscaler.nodes)
            : {};
        this.group = new aws.autoscaling.Group(
            name,
            {
                vpcZoneIdentifiers: args.subnetIds,
                minSize: args.minSize,
                maxSize: args.maxSize,
                desiredCapacity: args.desiredCapacity,
                ...launch,
                healthCheckType: "EC2",
                healthCheckGracePeriod: NODE_WARMUP_SECONDS,
                defaultInstanceWarmup: NODE_WARMUP_SECONDS,
                instanceRefresh: {
                    strategy: "Rolling",
                    preferences: {
                        minHealthyPercentage: args.minHealthyPercentage ?? REFRESH_MIN_HEALTHY_PERCENT,
                        maxHealthyPercentage: REFRESH_MAX_HEALTHY_PERCENT,
                        instanceWarmup: String(NODE_WARMUP_SECONDS),
                        skipMatching: true,
                        autoRollback: true,
                    },
                },
                // Pulumi does not wait for the nodes: the readiness gate waits for them to register.
                waitForCapacityTimeout: "0",
                tags: groupTags({ ...tags, Name: name }, groupOnly),
            },
            // With the autoscaler, a `pulumi up` must not reset the capacity it chose.
            { parent: this, ...(args.autoscaler ? { ignoreChanges: ["desiredCapacity"] } : {}) },
        );
        this.registerOutputs({
            launchTemplateId: this.launchTemplate.id,
            groupName: this.group.name,
        });
    }
}
