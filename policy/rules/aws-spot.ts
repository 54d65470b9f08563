// The Spot rule: an Auto Scaling group that may launch Spot instances has its nodes drained before EC2 takes
// them back. EC2 reclaims a Spot instance two minutes after its interruption warning and does not wait for a
// termination lifecycle hook, so the drain starts from the warning (an EventBridge rule on it, the queue mode
// of aws-node-termination-handler); Capacity Rebalancing replaces a node at elevated risk before the warning;
// the termination hook holds the group's own scale-ins and refreshes until the drain is done.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-capacity-rebalancing.html
// https://github.com/aws/aws-node-termination-handler#queue-processor
import { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { SPOT_INTERRUPTION_WARNING } from "../../components/cluster/render/termination";
import { arr, obj } from "../../components/score/workloads";

const GROUP = "aws:autoscaling/group:Group";
const HOOK = "aws:autoscaling/lifecycleHook:LifecycleHook";
const EVENT_RULE = "aws:cloudwatch/eventRule:EventRule";

/**
 * Whether a group may launch Spot instances: it has a mixed instances policy whose On-Demand percentage
 * above the base is below 100 or not a number yet (unknown in a preview); absent, it is AWS's default 100.
 */
function launchesSpot(props: Record<string, unknown>): boolean {
    if (props.mixedInstancesPolicy === undefined) return false;
    const pct = obj(
        obj(props.mixedInstancesPolicy).instancesDistribution,
    ).onDemandPercentageAboveBaseCapacity;
    return pct === undefined ? false : typeof pct !== "number" || pct < 100;
}

/** Whether `hook` is a termination hook of `group`: it depends on the group, or names it. */
function terminates(hook: PolicyResource, group: PolicyResource): boolean {
    if (hook.props.lifecycleTransition !== "autoscaling:EC2_INSTANCE_TERMINATING") return false;
    const named = hook.props.autoscalingGroupName;
    return (
        hook.dependencies.some((d) => d.urn === group.urn) ||
        (typeof named === "string" && (named === group.props.name || named === group.name))
    );
}

/** Whether an EventBridge rule's pattern matches EC2's Spot interruption warning. */
function matchesInterruption(rule: PolicyResource): boolean {
    const text = rule.props.eventPattern;
    if (typeof text !== "string") return false;
    try {
        return arr(obj(JSON.parse(text))["detail-type"]).includes(SPOT_INTERRUPTION_WARNING);
    } catch {
        return false;
    }
}

/** Spot nodes are drained before EC2 reclaims them. Mandatory. */
export const spotDrained: StackValidationPolicy = {
    name: "aws-asg-spot-drained",
    description:
        "An Auto Scaling group that may launch Spot instances has Capacity Rebalancing on, a termination lifecycle hook, and the stack an EventBridge rule on EC2's Spot interruption warning.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args, report) => {
        const groups = args.resources.filter((r) => r.type === GROUP && launchesSpot(r.props));
        if (groups.length === 0) return;
        const hooks = args.resources.filter((r) => r.type === HOOK);
        const warned = args.resources.some((r) => r.type === EVENT_RULE && matchesInterruption(r));
        for (const g of groups) {
            if (g.props.capacityRebalance !== true)
                report(
                    `${g.name} launches Spot instances without Capacity Rebalancing: set capacityRebalance to true, so that a node at elevated risk of interruption is replaced and drained before EC2 reclaims it.`,
                    g.urn,
                );
            if (!hooks.some((h) => terminates(h, g)))
                report(
                    `${g.name} launches Spot instances without a termination lifecycle hook: add an aws.autoscaling.LifecycleHook on autoscaling:EC2_INSTANCE_TERMINATING (a Keelson cluster's NodeTermination makes one per pool), so that no node leaves undrained.`,
                    g.urn,
                );
            if (!warned)
                report(
                    `${g.name} launches Spot instances, but no EventBridge rule matches "${SPOT_INTERRUPTION_WARNING}": EC2 reclaims the node 2 minutes after it without waiting for a hook; send it to the termination handler's queue (a Keelson cluster's NodeTermination does).`,
                    g.urn,
                );
        }
    },
};
