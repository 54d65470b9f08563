// Auto Scaling Groups seen as the instances they run: the StackScore and the cost estimate judge a
// group's nodes like plain instances, from its launch template and its desired capacity.
import { PlanResource } from "../core/graph";
import { arr, obj } from "./workloads";

export const GROUP_TYPE = "aws:autoscaling/group:Group";
export const LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate";

/** The launch template a group launches from (the one it depends on), or undefined. */
export function launchTemplateOf(
    group: PlanResource,
    resources: readonly PlanResource[],
): PlanResource | undefined {
    const lt = obj(group.inputs.launchTemplate);
    return resources.find(
        (r) =>
            r.type === LAUNCH_TEMPLATE_TYPE &&
            (group.dependencies.includes(r.urn) || (lt.id !== undefined && r.inputs.id === lt.id)),
    );
}

/** Nodes a group runs: its desired capacity, else its minimum. */
export function groupSize(group: PlanResource): number {
    const n = group.inputs.desiredCapacity ?? group.inputs.minSize;
    return typeof n === "number" ? n : 0;
}

/**
 * The instance inputs every node of a group launches with, in `aws:ec2/instance:Instance` shape:
 * instance type, IMDS options, the root volume (the template's first block device; `encrypted`
 * as a boolean) and tags from the template. `subnetId` is the i-th of the group's subnets
 * (groups balance their nodes over them).
 */
export function nodeInputs(
    group: PlanResource,
    lt: PlanResource | undefined,
    i: number,
): Record<string, unknown> {
    const t = lt?.inputs ?? {};
    const root = obj(obj(arr(t.blockDeviceMappings)[0]).ebs);
    const bool = (v: unknown) => v === true || v === "true";
    const subnets = arr(group.inputs.vpcZoneIdentifiers);
    return {
        instanceType: t.instanceType,
        metadataOptions: t.metadataOptions,
        rootBlockDevice: {
            volumeSize: root.volumeSize,
            volumeType: root.volumeType,
            encrypted: bool(root.encrypted),
        },
        tags: t.tags,
        subnetId: subnets.length > 0 ? subnets[i % subnets.length] : undefined,
    };
}

/**
 * One instance-like resource per node of every group, named `<group>[i]` with the group's URN (so
 * findings name the group). Groups whose template is not in the plan are skipped.
 */
export function groupInstances(resources: readonly PlanResource[]): PlanResource[] {
    const out: PlanResource[] = [];
    for (const g of resources.filter((r) => r.type === GROUP_TYPE)) {
        const lt = launchTemplateOf(g, resources);
        if (!lt) continue;
        for (let i = 0; i < groupSize(g); i++) {
            out.push({ ...g, name: `${g.name}[${i}]`, inputs: nodeInputs(g, lt, i) });
        }
    }
    return out;
}
