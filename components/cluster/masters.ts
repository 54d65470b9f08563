// The masters, one per slot: a self-healing slot (./MasterSlot.ts, an Auto Scaling Group of one) when the
// control plane has a quorum to keep and an NLB to register replacements in, else a plain instance.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EndpointFront, EndpointMaster } from "./endpoint";
import { MASTER_SLOT_TAG, MasterSlot, masterSlotTagValue } from "./MasterSlot";
import { createInstance } from "./nodes";

/**
 * Whether each master slot heals itself: 3 or more masters (a single master's etcd dies with it, so a replacement
 * would start an empty cluster) behind the `nlb` endpoint (the group registers the replacement there; the
 * `haproxy` hosts list the masters by address, and the `single` endpoint is master 0's Elastic IP).
 */
export function mastersHeal(masters: number, endpoint: "single" | "nlb" | "haproxy"): boolean {
    return masters >= 3 && endpoint === "nlb";
}

/** One master to create, in slot order. */
export interface MasterPlacement {
    /** `master-0`, `master-1`, … */
    readonly slot: string;
    readonly instanceType: string;
    readonly ami: pulumi.Input<string>;
    readonly subnetId: pulumi.Input<string>;
    readonly userDataBase64: pulumi.Input<string>;
    readonly rootVolumeGb: number;
    /** Master 0 of a `single` endpoint: in a public subnet, the endpoint's Elastic IP on it. */
    readonly publicIp: boolean;
}

/** Inputs of {@link createMasters}. */
export interface MastersArgs {
    readonly clusterName: string;
    readonly heal: boolean;
    readonly placements: readonly MasterPlacement[];
    readonly securityGroupIds: pulumi.Input<string>[];
    readonly instanceProfileName: pulumi.Input<string>;
    readonly front: EndpointFront;
    readonly tags: Record<string, string>;
    readonly dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** What {@link createMasters} made. */
export interface Masters {
    /** Plain-instance masters (none when the slots heal). */
    readonly instances: aws.ec2.Instance[];
    /** Self-healing slots (none unless they heal). */
    readonly slots: MasterSlot[];
    /** One resource per slot, in slot order: what a slot's upgrade steps and the readiness gate wait for. */
    readonly bySlot: pulumi.Resource[];
    /** The instance masters as the endpoint attaches them (healing slots register through their group). */
    readonly endpointMasters: EndpointMaster[];
}

/** The masters, each tagged with its slot ({@link MASTER_SLOT_TAG}) for the upgrade associations. */
export function createMasters(name: string, a: MastersArgs, parent: pulumi.Resource): Masters {
    const tagsOf = (slot: string) => ({
        ...a.tags,
        "keelson:role": "master",
        [MASTER_SLOT_TAG]: masterSlotTagValue(a.clusterName, slot),
    });
    if (a.heal) {
        const groups = [a.front.targetGroup, a.front.internal?.targetGroup];
        if (groups.some((g) => g === undefined)) {
            throw new Error("createMasters: healing master slots need the nlb endpoint's two target groups");
        }
        const slots = a.placements.map(
            (p) =>
                new MasterSlot(
                    `${name}-${p.slot}`,
                    {
                        slot: p.slot,
                        ami: p.ami,
                        instanceType: p.instanceType,
                        userDataBase64: p.userDataBase64,
                        subnetId: p.subnetId,
                        securityGroupIds: a.securityGroupIds,
                        instanceProfileName: a.instanceProfileName,
                        rootVolumeGb: p.rootVolumeGb,
                        targetGroupArns: groups.map((g) => g!.arn),
                        tags: tagsOf(p.slot),
                        dependsOn: a.dependsOn,
                    },
                    { parent },
                ),
        );
        return { instances: [], slots, bySlot: slots.map((s) => s.group), endpointMasters: [] };
    }
    const instances = a.placements.map((p) =>
        createInstance(
            `${name}-${p.slot}`,
            {
                ami: p.ami,
                instanceType: p.instanceType,
                subnetId: p.subnetId,
                securityGroupIds: a.securityGroupIds,
                instanceProfile: a.instanceProfileName,
                userDataBase64: p.userDataBase64,
                rootVolumeGb: p.rootVolumeGb,
                metadataHopLimit: 1,
                publicIp: p.publicIp,
                tags: tagsOf(p.slot),
                dependsOn: a.dependsOn,
            },
            parent,
        ),
    );
    return {
        instances,
        slots: [],
        bySlot: instances,
        endpointMasters: instances.map((instance, i) => ({ name: a.placements[i].slot, instance })),
    };
}
