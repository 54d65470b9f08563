// The API's network load balancers (the internet-facing one and the nodes' internal one) and the
// bounded names AWS accepts for them.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";

/** The API port on the endpoint and on every master. */
const API_PORT = 6443;

/**
 * A logical name that fits AWS's 32-character limit on NLB and target group names once Pulumi
 * appends its 8-character random suffix: longer names are cut to 19 characters plus a 4-character
 * hash of the whole, so they stay unique and stable.
 */
export function boundedName(logical: string, max = 24): string {
    if (logical.length <= max) return logical;
    const hash = createHash("sha256").update(logical).digest("hex").slice(0, 4);
    return `${logical.slice(0, max - 5).replace(/-+$/, "")}-${hash}`;
}

/** An API network load balancer: one listener on 6443 forwarding to the masters' target group. */
export interface ApiNlb {
    readonly loadBalancer: aws.lb.LoadBalancer;
    readonly targetGroup: aws.lb.TargetGroup;
    readonly listener: aws.lb.Listener;
}

/**
 * An API NLB named `name` (bounded to AWS's limits) in `subnets`, internal or internet-facing: the
 * apiLb security group, cross-zone balancing, a TCP target group with an HTTPS `/readyz` health check
 * and client IP preservation off, a TCP listener on 6443.
 */
export function apiNlb(
    name: string,
    subnets: pulumi.Input<string>[],
    internal: boolean,
    o: {
        readonly vpcId: pulumi.Input<string>;
        readonly apiLbSecurityGroupId: pulumi.Input<string>;
        readonly tags: Record<string, string>;
    },
    parent: pulumi.Resource,
): ApiNlb {
    const awsName = boundedName(name);
    const tags = { ...o.tags, Name: name };
    const loadBalancer = new aws.lb.LoadBalancer(
        awsName,
        {
            internal,
            loadBalancerType: "network",
            subnets,
            securityGroups: [o.apiLbSecurityGroupId],
            enableCrossZoneLoadBalancing: true,
            ipAddressType: "ipv4",
            tags,
        },
        { parent },
    );
    const targetGroup = new aws.lb.TargetGroup(
        awsName,
        {
            port: API_PORT,
            protocol: "TCP",
            targetType: "instance",
            vpcId: o.vpcId,
            // Off, so that a master reaching the API through the NLB can land on itself (NLB
            // hairpinning fails with client IP preservation) and masters see the NLB's address,
            // which their security group admits through the apiLb group.
            preserveClientIp: "false",
            deregistrationDelay: 30,
            healthCheck: {
                enabled: true,
                protocol: "HTTPS",
                path: "/readyz",
                port: "traffic-port",
                matcher: "200",
                interval: 10,
                timeout: 6,
                healthyThreshold: 2,
                unhealthyThreshold: 2,
            },
            tags,
        },
        { parent },
    );
    const listener = new aws.lb.Listener(
        name,
        {
            loadBalancerArn: loadBalancer.arn,
            port: API_PORT,
            protocol: "TCP",
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
            tags,
        },
        { parent },
    );
    return { loadBalancer, targetGroup, listener };
}
