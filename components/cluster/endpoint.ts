// The API endpoint. Two names: `api.<cluster>.internal` in a Route53 private zone for the nodes
// (stable, so user-data never holds a master's IP), and an internet-facing address for operators and
// Pulumi (reachable from cluster.apiAllowedCidrs only): the NLB's DNS name, the first HAProxy host's
// Elastic IP, or master 0's Elastic IP. Every one of them is in the API server certificate.
import * as aws from "@pulumi/aws";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { Artifacts } from "../artifact-set";
import { createInstance } from "./nodes";
import { renderApiLbUserData } from "./render/cloudinit";
import { renderApiHaproxyConfig } from "./render/haproxy-api";
import { compressUserData } from "../ec2/user-data";

/** The API port on the endpoint and on every master. */
export const API_PORT = 6443;

/** The stable in-VPC name of the API. */
export function internalApiHost(clusterName: string): string {
    return `api.${clusterName}.internal`;
}

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

/** Inputs of {@link createEndpointFront}. */
export interface EndpointFrontOptions {
    readonly kind: "single" | "nlb" | "haproxy";
    readonly clusterName: string;
    readonly vpcId: pulumi.Input<string>;
    readonly publicSubnetIds: pulumi.Input<string>[];
    readonly apiLbSecurityGroupId: pulumi.Input<string>;
    /** HAProxy hosts (haproxy only). */
    readonly apiLoadBalancers: number;
    readonly tags: Record<string, string>;
}

/** The part of the endpoint that exists before any master: names, addresses, the NLB. */
export interface EndpointFront {
    readonly kind: "single" | "nlb" | "haproxy";
    readonly internalHost: string;
    readonly zone: aws.route53.Zone;
    /** The internet-facing host name or IP. */
    readonly externalHost: pulumi.Output<string>;
    /** Every internet-facing name/IP, for the API server certificate. */
    readonly externalSans: pulumi.Output<string[]>;
    readonly loadBalancer?: aws.lb.LoadBalancer;
    readonly targetGroup?: aws.lb.TargetGroup;
    readonly listener?: aws.lb.Listener;
    /** Elastic IPs: master 0's (single) or one per HAProxy host. */
    readonly eips: aws.ec2.Eip[];
}

/** Creates the private zone and, by kind, the NLB (+ target group, listener) or the Elastic IPs. */
export function createEndpointFront(
    name: string,
    o: EndpointFrontOptions,
    parent: pulumi.Resource,
): EndpointFront {
    const internalHost = internalApiHost(o.clusterName);
    const zone = new aws.route53.Zone(
        `${name}-internal`,
        {
            name: `${o.clusterName}.internal`,
            comment: `Keelson ${o.clusterName}: in-VPC names of the cluster`,
            vpcs: [{ vpcId: o.vpcId }],
            forceDestroy: true,
            tags: { ...o.tags, Name: `${name}-internal` },
        },
        { parent },
    );
    if (o.kind === "nlb") {
        const awsName = boundedName(`${name}-api`);
        const loadBalancer = new aws.lb.LoadBalancer(
            awsName,
            {
                internal: false,
                loadBalancerType: "network",
                subnets: o.publicSubnetIds,
                securityGroups: [o.apiLbSecurityGroupId],
                enableCrossZoneLoadBalancing: true,
                ipAddressType: "ipv4",
                tags: { ...o.tags, Name: `${name}-api` },
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
                tags: { ...o.tags, Name: `${name}-api` },
            },
            { parent },
        );
        const listener = new aws.lb.Listener(
            `${name}-api`,
            {
                loadBalancerArn: loadBalancer.arn,
                port: API_PORT,
                protocol: "TCP",
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
                tags: { ...o.tags, Name: `${name}-api` },
            },
            { parent },
        );
        return {
            kind: o.kind,
            internalHost,
            zone,
            externalHost: loadBalancer.dnsName,
            externalSans: loadBalancer.dnsName.apply((d) => [d]),
            loadBalancer,
            targetGroup,
            listener,
            eips: [],
        };
    }
    const count = o.kind === "single" ? 1 : o.apiLoadBalancers;
    const eips = Array.from({ length: count }, (_, i) => {
        const key = o.kind === "single" ? "master-0" : `api-lb-${i}`;
        return new aws.ec2.Eip(
            `${name}-${key}`,
            { domain: "vpc", tags: { ...o.tags, Name: `${name}-${key}` } },
            { parent },
        );
    });
    return {
        kind: o.kind,
        internalHost,
        zone,
        externalHost: eips[0].publicIp,
        externalSans: pulumi.all(eips.map((e) => e.publicIp)),
        eips,
    };
}

/** A master as the endpoint sees it. */
export interface EndpointMaster {
    readonly name: string;
    readonly instance: aws.ec2.Instance;
}

/** Inputs of {@link attachEndpoint}. */
export interface AttachOptions {
    readonly masters: EndpointMaster[];
    readonly region: string;
    readonly ttl?: number;
    /** HAProxy hosts: where and how to run them. */
    readonly haproxy?: {
        readonly ami: pulumi.Input<string>;
        readonly instanceType: string;
        readonly publicSubnetIds: pulumi.Input<string>[];
        readonly securityGroupId: pulumi.Input<string>;
        readonly instanceProfile: pulumi.Input<string>;
    };
    readonly tags: Record<string, string>;
}

/** What {@link attachEndpoint} adds once the masters exist. */
export interface EndpointBack {
    readonly record: aws.route53.Record;
    readonly attachments: aws.lb.TargetGroupAttachment[];
    readonly haproxyHosts: aws.ec2.Instance[];
    /** What was rendered for the HAProxy hosts (`haproxy/api.cfg`, `user-data/api-lb.yaml`); else none. */
    readonly artifacts: Artifacts;
}

/** Points the endpoint at the masters: NLB targets, or HAProxy hosts, or master 0's Elastic IP. */
export function attachEndpoint(
    name: string,
    front: EndpointFront,
    o: AttachOptions,
    parent: pulumi.Resource,
): EndpointBack {
    const ttl = o.ttl ?? 60;
    const recordName = front.internalHost;
    if (front.kind === "nlb") {
        const attachments = o.masters.map(
            (m) =>
                new aws.lb.TargetGroupAttachment(
                    `${name}-api-${m.name}`,
                    { targetGroupArn: front.targetGroup!.arn, targetId: m.instance.id, port: API_PORT },
                    { parent },
                ),
        );
        const record = new aws.route53.Record(
            `${name}-api`,
            {
                zoneId: front.zone.zoneId,
                name: recordName,
                type: "A",
                aliases: [
                    {
                        name: front.loadBalancer!.dnsName,
                        zoneId: front.loadBalancer!.zoneId,
                        evaluateTargetHealth: true,
                    },
                ],
            },
            { parent },
        );
        return { record, attachments, haproxyHosts: [], artifacts: {} };
    }
    if (front.kind === "single") {
        const master0 = o.masters[0];
        new aws.ec2.EipAssociation(
            `${name}-master-0`,
            { allocationId: front.eips[0].allocationId, instanceId: master0.instance.id },
            { parent },
        );
        const record = new aws.route53.Record(
            `${name}-api`,
            {
                zoneId: front.zone.zoneId,
                name: recordName,
                type: "A",
                ttl,
                records: [master0.instance.privateIp],
            },
            { parent },
        );
        return { record, attachments: [], haproxyHosts: [], artifacts: {} };
    }
    const h = o.haproxy;
    if (!h) throw new Error("attachEndpoint: the haproxy endpoint needs the haproxy host options");
    const haproxyConfig = pulumi
        .all(o.masters.map((m) => m.instance.privateIp))
        .apply((ips) => ({ backends: ips.map((address, i) => ({ name: o.masters[i].name, address })) }));
    const userData = haproxyConfig.apply((cfg) => renderApiLbUserData(o.region, cfg));
    const hosts = front.eips.map((eip, i) => {
        const host = createInstance(
            `${name}-api-lb-${i}`,
            {
                ami: h.ami,
                instanceType: h.instanceType,
                subnetId: h.publicSubnetIds[i % h.publicSubnetIds.length],
                securityGroupIds: [h.securityGroupId],
                instanceProfile: h.instanceProfile,
                userDataBase64: userData.apply(compressUserData),
                rootVolumeGb: 20,
                metadataHopLimit: 1,
                publicIp: true,
                replaceOnUserDataChange: true,
                tags: { ...o.tags, "keelson:role": "api-lb" },
            },
            parent,
        );
        new aws.ec2.EipAssociation(
            `${name}-api-lb-${i}`,
            { allocationId: eip.allocationId, instanceId: host.id },
            { parent },
        );
        return host;
    });
    const record = new aws.route53.Record(
        `${name}-api`,
        {
            zoneId: front.zone.zoneId,
            name: recordName,
            type: "A",
            ttl,
            records: hosts.map((x) => x.privateIp),
        },
        { parent },
    );
    return {
        record,
        attachments: [],
        haproxyHosts: hosts,
        artifacts: {
            "haproxy/api.cfg": haproxyConfig.apply(renderApiHaproxyConfig),
            "user-data/api-lb.yaml": userData,
        },
    };
}
