// The lab's model of an Auto Scaling group of one (a healing master slot, components/cluster/MasterSlot.ts):
// what EC2 Auto Scaling does when the group's only instance is gone. Modelled: with `minSize` = `maxSize` =
// `desiredCapacity` = 1, an instance that is terminated (or fails its EC2 status checks: here, a node whose
// processes are gone) is replaced by one launched from the group's launch template, the slot's exact
// user-data, in the group's only subnet; the new instance gets a new address and the NLB's target group
// registers it (the lab's HAProxy "NLB" is rebuilt from the running masters, ./cluster.ts). Not modelled: the
// health check grace period, scaling activities and their history, the launch template's versions (the lab
// boots the plan's one), and the AZ rebalancing a one-subnet group never does.
import { LabNode } from "./lab";
import { LabCluster } from "./cluster";
import { PlannedInstance } from "./stage";

/**
 * Why the plan's `inst` is not a master slot that heals on its own, or undefined when it is: a plain instance
 * (nothing replaces it), a group that is not exactly one instance in one subnet, one whose health is not EC2's
 * (an ELB check would terminate a master whose API is down for one upgrade step), or one with an instance
 * refresh (a template change would replace every master at once and lose etcd's quorum).
 */
export function groupOfOneProblem(inst: PlannedInstance): string | undefined {
    const g = inst.group;
    if (!g) return `${inst.name} is a plain instance: nothing replaces it when it dies`;
    const sizes = [g.minSize, g.maxSize, g.desiredCapacity];
    if (sizes.some((n) => n !== 1))
        return `${inst.name}'s group ${g.name} has min/max/desired ${sizes.join("/")}, not 1/1/1`;
    if (g.subnets !== 1)
        return `${inst.name}'s group ${g.name} spans ${g.subnets} subnets: a replacement could leave the slot's zone`;
    if (g.healthCheckType !== "EC2")
        return `${inst.name}'s group ${g.name} uses ${g.healthCheckType} health: a master whose API is down for a moment would be terminated`;
    if (g.instanceRefresh)
        return `${inst.name}'s group ${g.name} has an instance refresh: a template change would replace every master at once`;
    return undefined;
}

/** What a group of one did after its instance died. */
export type Healed = { readonly node: LabNode } | { readonly problem: string };

/**
 * Waits for `old` (the slot's instance, already killed or crashed) to be gone, then does what the slot's group
 * does: launches a replacement from the template (`inst`'s user-data) under `label`. Refuses, launching nothing,
 * when the plan's slot would not heal ({@link groupOfOneProblem}).
 */
export async function replaceInGroup(
    c: LabCluster,
    inst: PlannedInstance,
    old: LabNode,
    o: { label: string; preboot?: string },
): Promise<Healed> {
    const problem = groupOfOneProblem(inst);
    if (problem) return { problem };
    const deadline = Date.now() + 60_000;
    while (!old.exited) {
        if (Date.now() > deadline)
            return { problem: `${old.name} is still running: the group replaces no live instance` };
        await new Promise((r) => setTimeout(r, 200));
    }
    return { node: c.boot(inst, o) };
}
