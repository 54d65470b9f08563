// One master slot that heals itself (issue 10.2): an Auto Scaling Group of exactly one instance in the slot's
// private subnet, on a launch template with the slot's user-data. A master that dies, fails its EC2 status
// checks or is terminated is replaced by the group in the same zone; the replacement's bootstrap reads the
// slot's record (`state/masters/<slot>`), removes the old etcd member and Node, then joins
// (./render/bootstrap-masters.ts). The group registers its instance in the API's target groups.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    createNodeLaunchTemplate,
    groupTags,
    NodeLaunchTemplateArgs,
    pinnedVersion,
} from "./launch-template";

/** Seconds a new master gets to boot before the group judges its EC2 health. */
export const MASTER_WARMUP_SECONDS = 600;

/** The tag an upgrade association finds a slot's master by, whatever instance runs it now. */
export const MASTER_SLOT_TAG = "keelson:master-slot";

/** The value of {@link MASTER_SLOT_TAG} for a slot: unique per cluster (`<cluster>-master-0`). */
export function masterSlotTagValue(clusterName: string, slot: string): string {
    return `${clusterName}-${slot}`;
}

/** Inputs of a {@link MasterSlot}: its template's (./launch-template.ts), and where its group runs. */
export interface MasterSlotArgs extends Omit<NodeLaunchTemplateArgs, "description" | "metadataHopLimit"> {
    /** `master-0`, `master-1`, …: the slot's state record and its upgrade steps use it. */
    readonly slot: string;
    /** The private subnet of the slot's zone: the replacement comes back in the same zone. */
    readonly subnetId: pulumi.Input<string>;
    /** The API's target groups (the internet-facing and the internal NLB): each instance is registered in them. */
    readonly targetGroupArns: pulumi.Input<string>[];
}

/**
 * A self-healing master slot (`keelson:cluster:MasterSlot`). The group has no instance refresh: a new template
 * version (re-rendered user-data, such as a new `kubernetesVersion`) never replaces a running master, since
 * masters upgrade in place (./upgrade.ts) and replacing them all at once would lose etcd's quorum; it is what the
 * next replacement boots. Health is EC2's (a master whose API is briefly down during an upgrade is not
 * terminated). One group per slot keeps replacements apart: the join of a replacement fails while any other
 * member is unreachable, so quorum holds at every step.
 */
export class MasterSlot extends pulumi.ComponentResource {
    readonly slot: string;
    readonly launchTemplate: aws.ec2.LaunchTemplate;
    readonly group: aws.autoscaling.Group;

    constructor(name: string, args: MasterSlotArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:MasterSlot", name, {}, opts);
        this.slot = args.slot;
        // The template gets the slot's tags as given (createMasters adds `keelson:role` and the slot tag).
        this.launchTemplate = createNodeLaunchTemplate(
            name,
            { ...args, description: `Keelson master slot ${args.slot}`, metadataHopLimit: 1 },
            this,
        );
        this.group = new aws.autoscaling.Group(
            name,
            {
                vpcZoneIdentifiers: [args.subnetId],
                minSize: 1,
                maxSize: 1,
                desiredCapacity: 1,
                launchTemplate: { id: this.launchTemplate.id, version: pinnedVersion(this.launchTemplate) },
                targetGroupArns: args.targetGroupArns,
                healthCheckType: "EC2",
                healthCheckGracePeriod: MASTER_WARMUP_SECONDS,
                // Pulumi waits for the instance to run (not for its bootstrap: the readiness gate does), so the
                // upgrade associations created after the group find it by its slot tag.
                waitForCapacityTimeout: "10m",
                tags: groupTags({ ...args.tags, Name: name }),
            },
            { parent: this },
        );
        this.registerOutputs({ launchTemplateId: this.launchTemplate.id, groupName: this.group.name });
    }
}
