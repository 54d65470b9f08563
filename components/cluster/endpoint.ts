// The API endpoint. Two names: `api.<cluster>.internal` in a Route53 private zone for the nodes
// (stable, so user-data never holds a master's IP), and an internet-facing address for operators and
// Pulumi (reachable from cluster.apiAllowedCidrs only): the NLB's DNS name, the first HAProxy host's
// Elastic IP, or master 0's Elastic IP. Every one of them is in the API server certificate.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Artifacts } from "../artifact-set";
import { createInstance } from "./nodes";
import { renderApiLbUserData } from "./render/cloudinit";
import { renderApiHaproxyConfig } from "./render/haproxy-api";
import { compressUserData } from "../ec2/user-data";
import { ApiNlb, apiNlb } from "./api-nlb";

export { boundedName } from "./api-nlb";

/** The API port on the endpoint and on every master. */
export const API_PORT = 6443;

/** The stable in-VPC name of the API. */
export function internalApiHost(clusterName: string): string {
    return `api.${clusterName}.internal`;
}

/** Inputs of {@link createEndpointFront}. */
export interface EndpointFrontOptions {
    readonly kind: "single" | "nlb" | "haproxy";
    readonly clusterName: string;
    readonly vpcId: pulumi.Input<string>;
    readonly publicSubnetIds: pulumi.Input<string>[];
    /** Where the internal NLB of an `nlb` endpoint lives. */
    readonly privateSubnetIds: pulumi.Input<string>[];
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
    /** The internal NLB the nodes reach the API through (`nlb` only): `api.<cluster>.internal` aliases it. */
    readonly internal?: ApiNlb;
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
        // Operators, CI and Pulumi use the internet-facing NLB; the nodes the internal one, so that no
        // kubelet depends on a NAT gateway or leaves the VPC to reach the API.
        const external = apiNlb(`${name}-api`, o.publicSubnetIds, false, o, parent);
        const internal = apiNlb(`${name}-api-internal`, o.privateSubnetIds, true, o, parent);
        return {
            kind: o.kind,
            internalHost,
            zone,
            externalHost: external.loadBalancer.dnsName,
            externalSans: external.loadBalancer.dnsName.apply((d) => [d]),
            loadBalancer: external.loadBalancer,
            targetGroup: external.targetGroup,
            listener: external.listener,
            internal,
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
        // Every master in both target groups: the internet-facing one and the nodes' internal one.
        const groups: [string, aws.lb.TargetGroup][] = [
            ["api", front.targetGroup!],
            ["api-internal", front.internal!.targetGroup],
        ];
        const attachments = o.masters.flatMap((m) =>
            groups.map(
                ([key, tg]) =>
                    new aws.lb.TargetGroupAttachment(
                        `${name}-${key}-${m.name}`,
                        { targetGroupArn: tg.arn, targetId: m.instance.id, port: API_PORT },
                        { parent },
                    ),
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
                        name: front.internal!.loadBalancer.dnsName,
                        zoneId: front.internal!.loadBalancer.zoneId,
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
