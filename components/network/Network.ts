import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { clusterTag } from "../cluster/render/cloud-controller";
import { NetworkArgs, resolveNetworkSpec } from "./args";
import { firewallRules, GroupName } from "./firewall";

export { NatGatewayMode, NetworkArgs, NetworkFirewallArgs, NetworkSpec, resolveNetworkSpec } from "./args";

/** The security groups the Network creates; the Cluster and the Edge add rules or attach to them. */
export interface NetworkSecurityGroups {
    /** Kubernetes control-plane nodes. */
    readonly masters: aws.ec2.SecurityGroup;
    /** Kubernetes worker nodes. */
    readonly workers: aws.ec2.SecurityGroup;
    /** The Kubernetes API load balancer. */
    readonly apiLb: aws.ec2.SecurityGroup;
    /** The worker pools' internal NLB, which the edge forwards to. */
    readonly workerLb: aws.ec2.SecurityGroup;
    /** The edge load balancer hosts (egress only; the Edge adds its ingress rules). */
    readonly edge: aws.ec2.SecurityGroup;
}

/**
 * The VPC: a public and a private subnet per availability zone, an internet gateway, NAT (one, or one per
 * zone), routes, and the security groups that are the cluster's firewall (see firewall.ts).
 */
export class Network extends pulumi.ComponentResource {
    readonly vpcId: pulumi.Output<string>;
    /** Zone names; index i of every subnet list is in zone i. */
    readonly availabilityZones: string[];
    readonly publicSubnetIds: pulumi.Output<string>[];
    readonly privateSubnetIds: pulumi.Output<string>[];
    readonly publicSubnetCidrs: string[];
    readonly privateSubnetCidrs: string[];
    /** Public IPs of the NAT gateways: the source address of nodes' traffic to the internet-facing API. */
    readonly natPublicIps: pulumi.Output<string>[];
    readonly securityGroups: NetworkSecurityGroups;

    constructor(name: string, args: NetworkArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const cfg = resolveNetworkSpec(args, aws.config.region);
        super("keelson:network:Network", name, {}, opts);
        const tags = (n: string, extra: Record<string, string> = {}) => ({ ...args.tags, Name: n, ...extra });
        const owned = args.clusterName ? clusterTag(args.clusterName) : {};

        const vpc = new aws.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: cfg.cidr,
                enableDnsHostnames: true,
                enableDnsSupport: true,
                tags: tags(`${name}-vpc`),
            },
            { parent: this },
        );
        this.vpcId = vpc.id;
        this.availabilityZones = [...cfg.availabilityZones];
        this.publicSubnetCidrs = [...cfg.publicSubnets];
        this.privateSubnetCidrs = [...cfg.privateSubnets];

        const igw = new aws.ec2.InternetGateway(
            `${name}-igw`,
            { vpcId: vpc.id, tags: tags(`${name}-igw`) },
            { parent: this },
        );
        const publicRoutes = new aws.ec2.RouteTable(
            `${name}-public`,
            {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
                tags: tags(`${name}-public`),
            },
            { parent: this },
        );

        const publicSubnets = cfg.availabilityZones.map((zone, i) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-public-${zone}`,
                {
                    vpcId: vpc.id,
                    availabilityZone: zone,
                    cidrBlock: cfg.publicSubnets[i],
                    mapPublicIpOnLaunch: false,
                    tags: tags(`${name}-public-${zone}`, { "kubernetes.io/role/elb": "1", ...owned }),
                },
                { parent: this },
            );
            new aws.ec2.RouteTableAssociation(
                `${name}-public-${zone}`,
                { subnetId: subnet.id, routeTableId: publicRoutes.id },
                { parent: this },
            );
            return subnet;
        });
        this.publicSubnetIds = publicSubnets.map((s) => s.id);

        // One NAT gateway in the first zone, or one per zone so that losing a zone keeps egress elsewhere.
        const natZones =
            cfg.natGateways === "perAz" ? cfg.availabilityZones : cfg.availabilityZones.slice(0, 1);
        const nats = natZones.map((zone, i) => {
            const eip = new aws.ec2.Eip(
                `${name}-nat-${zone}`,
                { domain: "vpc", tags: tags(`${name}-nat-${zone}`) },
                { parent: this },
            );
            const nat = new aws.ec2.NatGateway(
                `${name}-nat-${zone}`,
                { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: tags(`${name}-nat-${zone}`) },
                { parent: this, dependsOn: [igw] },
            );
            return { eip, nat };
        });
        this.natPublicIps = nats.map((n) => n.eip.publicIp);

        const privateSubnets = cfg.availabilityZones.map((zone, i) => {
            const subnet = new aws.ec2.Subnet(
                `${name}-private-${zone}`,
                {
                    vpcId: vpc.id,
                    availabilityZone: zone,
                    cidrBlock: cfg.privateSubnets[i],
                    mapPublicIpOnLaunch: false,
                    tags: tags(`${name}-private-${zone}`, {
                        "kubernetes.io/role/internal-elb": "1",
                        ...owned,
                    }),
                },
                { parent: this },
            );
            const nat = nats[cfg.natGateways === "perAz" ? i : 0].nat;
            const routes = new aws.ec2.RouteTable(
                `${name}-private-${zone}`,
                {
                    vpcId: vpc.id,
                    routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
                    tags: tags(`${name}-private-${zone}`),
                },
                { parent: this },
            );
            new aws.ec2.RouteTableAssociation(
                `${name}-private-${zone}`,
                { subnetId: subnet.id, routeTableId: routes.id },
                { parent: this },
            );
            return subnet;
        });
        this.privateSubnetIds = privateSubnets.map((s) => s.id);

        const purposes: Record<GroupName, string> = {
            masters: "Kubernetes control-plane nodes",
            workers: "Kubernetes worker nodes",
            apiLb: "Kubernetes API load balancer",
            workerLb: "Internal NLB of the worker pools (the edge's upstream)",
            edge: "Edge load balancers (HTTP/HTTPS and published ports)",
        };
        const groups = {} as Record<GroupName, aws.ec2.SecurityGroup>;
        for (const group of Object.keys(purposes) as GroupName[]) {
            groups[group] = new aws.ec2.SecurityGroup(
                `${name}-${group}`,
                {
                    vpcId: vpc.id,
                    description: purposes[group],
                    // The cloud controller opens the one cluster-tagged group of each node to its load balancers.
                    tags: tags(`${name}-${group}`, group === "masters" || group === "workers" ? owned : {}),
                },
                { parent: this },
            );
            new aws.vpc.SecurityGroupEgressRule(
                `${name}-${group}-egress`,
                {
                    securityGroupId: groups[group].id,
                    ipProtocol: "-1",
                    cidrIpv4: "0.0.0.0/0",
                    description: "All outbound traffic (packages, images, AWS APIs)",
                },
                { parent: this },
            );
        }
        this.securityGroups = groups;

        for (const rule of firewallRules(cfg.firewall)) {
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-${rule.key}`,
                {
                    securityGroupId: groups[rule.group].id,
                    ipProtocol: rule.protocol,
                    fromPort: rule.fromPort,
                    toPort: rule.toPort,
                    description: rule.description,
                    ...("group" in rule.source
                        ? { referencedSecurityGroupId: groups[rule.source.group].id }
                        : { cidrIpv4: rule.source.cidr }),
                },
                { parent: this },
            );
        }
        // No rule admits the NAT gateways' addresses to the API: nodes reach it on an internal path (the
        // internal NLB, the HAProxy hosts' or master 0's private address), never through NAT.

        this.registerOutputs({
            vpcId: this.vpcId,
            publicSubnetIds: this.publicSubnetIds,
            privateSubnetIds: this.privateSubnetIds,
        });
    }
}
