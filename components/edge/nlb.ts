// The optional AWS Network Load Balancer in front of the edge hosts: one listener and target group
// per public port, instance targets with client IP preservation (so the edge sees real clients).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { boundedName } from "../cluster/endpoint";

/** One public port the NLB forwards. */
export interface NlbPort {
    /** Stable key naming the listener and target group (`http`, `https`, or a route name). */
    readonly key: string;
    readonly port: number;
    readonly protocol: "TCP" | "UDP";
}

/**
 * Creates the NLB, a target group and listener per port, and attaches every edge host. The NLB's and
 * target groups' logical names are bounded to 24 characters (`boundedName`) so that the provider's
 * autoname (`-` plus 7 characters) stays within AWS's 32-character limit for any stage or route name.
 */
export function createEdgeNlb(
    name: string,
    args: {
        vpcId: pulumi.Input<string>;
        subnetIds: pulumi.Input<string>[];
        ports: readonly NlbPort[];
        hosts: readonly aws.ec2.Instance[];
    },
    parent: pulumi.Resource,
): aws.lb.LoadBalancer {
    const opts = { parent };
    const nlb = new aws.lb.LoadBalancer(
        boundedName(`${name}-nlb`),
        {
            loadBalancerType: "network",
            internal: false,
            subnets: args.subnetIds,
            enableCrossZoneLoadBalancing: true,
        },
        opts,
    );
    for (const p of args.ports) {
        const group = new aws.lb.TargetGroup(
            boundedName(`${name}-${p.key}`),
            {
                port: p.port,
                protocol: p.protocol,
                vpcId: args.vpcId,
                targetType: "instance",
                preserveClientIp: "true",
                // UDP ports cannot be checked over UDP; the edge's HTTPS listener says the host is up.
                healthCheck:
                    p.protocol === "UDP"
                        ? {
                              protocol: "TCP",
                              port: "443",
                              interval: 10,
                              healthyThreshold: 2,
                              unhealthyThreshold: 2,
                          }
                        : {
                              protocol: "TCP",
                              port: "traffic-port",
                              interval: 10,
                              healthyThreshold: 2,
                              unhealthyThreshold: 2,
                          },
            },
            opts,
        );
        new aws.lb.Listener(
            `${name}-${p.key}`,
            {
                loadBalancerArn: nlb.arn,
                port: p.port,
                protocol: p.protocol,
                defaultActions: [{ type: "forward", targetGroupArn: group.arn }],
            },
            opts,
        );
        args.hosts.forEach((host, i) => {
            new aws.lb.TargetGroupAttachment(
                `${name}-${p.key}-${i}`,
                { targetGroupArn: group.arn, targetId: host.id, port: p.port },
                opts,
            );
        });
    }
    return nlb;
}
