// The pools' launch gate (./render/join-gate.ts): the worker role's permission to complete its own launch hook,
// and the hook on each pool's group.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JOIN_HOOK_NAME, JOIN_HOOK_TIMEOUT_SECONDS, joinGateStatements } from "./render/join-gate";

/** `<name>-join`: the gate's statements on the worker role. The pools' nodes need it before they boot. */
export function createJoinGatePolicy(
    name: string,
    clusterName: string,
    role: aws.iam.Role,
    parent: pulumi.Resource,
): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
        `${name}-join`,
        {
            role: role.name,
            policy: JSON.stringify({ Version: "2012-10-17", Statement: joinGateStatements(clusterName) }),
        },
        { parent },
    );
}

/**
 * `<name>-join`: the launch hook of one pool's group. Created after the pool's launch template, whose nodes
 * complete it (a node of an older template would be held until the timeout, then abandoned).
 */
export function createJoinHook(
    name: string,
    group: aws.autoscaling.Group,
    launchTemplate: aws.ec2.LaunchTemplate,
    parent: pulumi.Resource,
): aws.autoscaling.LifecycleHook {
    return new aws.autoscaling.LifecycleHook(
        `${name}-join`,
        {
            name: JOIN_HOOK_NAME,
            autoscalingGroupName: group.name,
            lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
            heartbeatTimeout: JOIN_HOOK_TIMEOUT_SECONDS,
            defaultResult: "ABANDON",
        },
        { parent, dependsOn: [launchTemplate] },
    );
}
