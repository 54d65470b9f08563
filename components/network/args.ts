// The Network component's arguments and how their defaults resolve. Pure.
import { ApiEndpointKind, CniName } from "../cluster/types";
import { defaultSubnets, parseCidr } from "../core/cidr";
import { FirewallInputs } from "./firewall";

/** One NAT gateway in the first zone (cheap), or one per zone (egress survives losing a zone). */
export const NatGatewayMode = { Single: "single", PerAz: "perAz" } as const;
/** One NAT gateway in the first zone (cheap), or one per zone (egress survives losing a zone). */
export type NatGatewayMode = (typeof NatGatewayMode)[keyof typeof NatGatewayMode];

/**
 * What decides the firewall rules: CNI overlay ports, where the API is exposed and to whom. Give the
 * same values as the Cluster and the add-ons get, so that the rules match what runs.
 */
export interface NetworkFirewallArgs {
    /** The CNI the add-ons install. Default `calico`. */
    readonly cni?: CniName;
    /** The Cluster's API endpoint kind. Default `single` (the Cluster's default with 1 master). */
    readonly endpoint?: ApiEndpointKind;
    /**
     * CIDRs allowed to reach the API (port 6443) from outside the VPC. Default `["0.0.0.0/0"]` (client
     * certificates are still required); list your operators' and CI's CIDRs in production.
     */
    readonly apiAllowedCidrs?: string[];
}

/** Arguments of {@link Network}. Every field has the default it states. */
export interface NetworkArgs {
    /** VPC CIDR, /16 to /22. Default `10.0.0.0/16`. */
    readonly cidr?: string;
    /** Availability zones, one public and one private subnet each. Default `<aws:region>a`, `b` and `c`. */
    readonly availabilityZones?: string[];
    /** NAT gateways. Default `single`. */
    readonly natGateways?: NatGatewayMode;
    /** Public subnet CIDRs, one per zone. Default /22 blocks carved from the top quarter of the VPC. */
    readonly publicSubnets?: string[];
    /** Private subnet CIDRs, one per zone. Default /19 blocks from the start of the VPC. */
    readonly privateSubnets?: string[];
    /** Firewall shape. Default calico, a `single` API endpoint, the API open to `0.0.0.0/0`. */
    readonly firewall?: NetworkFirewallArgs;
    /** Tags on every resource. Default none. */
    readonly tags?: Record<string, string>;
    /**
     * The Kubernetes cluster the network serves: its subnets and the masters' and workers' security groups
     * are tagged `kubernetes.io/cluster/<name>: owned`, which the AWS cloud controller finds them by (load
     * balancer subnets, the node security group it opens to them). Default none: no cluster tag.
     */
    readonly clusterName?: string;
}

/** The network's shape with every default applied. */
export interface NetworkSpec {
    readonly cidr: string;
    readonly availabilityZones: readonly string[];
    readonly natGateways: NatGatewayMode;
    readonly publicSubnets: readonly string[];
    readonly privateSubnets: readonly string[];
    readonly firewall: FirewallInputs;
}

/**
 * Applies the defaults {@link NetworkArgs} documents; `region` is used only for the default zones.
 * Throws, before anything is registered, for a CIDR that is not one or subnet lists that do not match the zones.
 */
export function resolveNetworkSpec(args: NetworkArgs, region: string | undefined): NetworkSpec {
    const cidr = args.cidr ?? "10.0.0.0/16";
    let zones = args.availabilityZones;
    if (!zones) {
        if (!region) {
            throw new Error(
                "Network: availabilityZones is not given and aws:region is not set; pass availabilityZones or set aws:region",
            );
        }
        zones = ["a", "b", "c"].map((z) => `${region}${z}`);
    }
    const needsDefaults = !args.publicSubnets || !args.privateSubnets;
    const vpc = needsDefaults ? parseCidr(cidr) : undefined;
    if (needsDefaults && !vpc) {
        throw new Error(
            `Network: cidr "${cidr}" is not an IPv4 CIDR block; use a network address such as 10.0.0.0/16`,
        );
    }
    const defaults = vpc ? defaultSubnets(vpc, zones.length) : { publicSubnets: [], privateSubnets: [] };
    const publicSubnets = args.publicSubnets ?? defaults.publicSubnets;
    const privateSubnets = args.privateSubnets ?? defaults.privateSubnets;
    for (const [key, list] of [
        ["publicSubnets", publicSubnets],
        ["privateSubnets", privateSubnets],
    ] as const) {
        if (list.length !== zones.length) {
            throw new Error(
                `Network: ${key} has ${list.length} subnets for ${zones.length} availability zones; list exactly one per zone`,
            );
        }
    }
    return {
        cidr,
        availabilityZones: zones,
        natGateways: args.natGateways ?? "single",
        publicSubnets,
        privateSubnets,
        firewall: {
            cni: args.firewall?.cni ?? "calico",
            endpoint: args.firewall?.endpoint ?? "single",
            apiAllowedCidrs: args.firewall?.apiAllowedCidrs ?? ["0.0.0.0/0"],
        },
    };
}
