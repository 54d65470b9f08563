// A model of how a Keelson node's kubelet-serving CSR is made and judged, written from the upstream code, so
// tests can feed it the CSRs real nodes send and forged ones. Three upstream pieces, each at the version Keelson
// pins:
//
// 1. The Node's addresses: kubernetes/cloud-provider-aws v1.33.4 (same function in v1.32.8 and v1.34.3),
//    pkg/providers/v1/aws.go `extractIPv4NodeAddresses`: InternalIP for every private IP of every in-use ENI,
//    ExternalIP for `instance.PublicIpAddress`, InternalDNS and Hostname for `PrivateDnsName`, ExternalDNS for
//    `PublicDnsName` (set by EC2 for an instance with a public IPv4 in a VPC with DNS hostnames, which Keelson's
//    private Route 53 zone requires). No configuration leaves the public ones out (`NodeIPFamilies` only picks
//    ipv4/ipv6), and the kubelet's `--node-ip` does not either: k8s.io/cloud-provider
//    node/helpers/address.go `GetNodeAddressesFromNodeIP` (both forms upstream has had: one drops, one reorders)
//    touches only addresses of the node IP's own type, so ExternalIP and ExternalDNS stay.
// 2. The CSR: kubernetes/kubernetes pkg/kubelet/certificate/kubelet.go `newGetTemplateFn` /
//    `addressesToHostnamesAndIPs`: the template's DNS names are the node's Hostname, InternalDNS and ExternalDNS
//    addresses, its IPs the InternalIP and ExternalIP ones, each deduplicated and sorted; CN
//    `system:node:<node name>`; no template without an IP.
// 3. The decision: postfinance/kubelet-csr-approver v1.2.14 (commit 14dd0aca), internal/controller/
//    csr_controller.go `Reconcile` and regex_ip_checks.go `DNSCheck` / `WhitelistedIPCheck`, with the flag
//    defaults of internal/cmd/cmd.go `prepareCmdlineConfig`. The reasons below are upstream's strings verbatim
//    (including their missing spaces). `ProviderChecks` is a no-op upstream and the expiration check does not
//    apply (kubelets send no expirationSeconds), so neither is modelled.
import { contains, parseCidr } from "../../components/core/cidr";

/** A Node address (core/v1 NodeAddress). */
export interface NodeAddress {
    readonly type: "InternalIP" | "ExternalIP" | "InternalDNS" | "ExternalDNS" | "Hostname";
    readonly address: string;
}

/** What EC2's DescribeInstances says about an instance, as far as node addresses go (one ENI). */
export interface Ec2Instance {
    readonly privateIp: string;
    readonly privateDnsName: string;
    readonly publicIp?: string;
    readonly publicDnsName?: string;
}

/** The Node's addresses as the AWS cloud controller sets them (`extractIPv4NodeAddresses`, in its order). */
export function ccmNodeAddresses(i: Ec2Instance): NodeAddress[] {
    const out: NodeAddress[] = [{ type: "InternalIP", address: i.privateIp }];
    if (i.publicIp) out.push({ type: "ExternalIP", address: i.publicIp });
    out.push(
        { type: "InternalDNS", address: i.privateDnsName },
        { type: "Hostname", address: i.privateDnsName },
    );
    if (i.publicDnsName) out.push({ type: "ExternalDNS", address: i.publicDnsName });
    return out;
}

/** A kubelet-serving CSR as the approver sees it: the requester (`spec.username`) and the x509 request. */
export interface Csr {
    readonly username: string;
    readonly commonName: string;
    readonly dnsNames: readonly string[];
    readonly ips: readonly string[];
}

const isIPv4 = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The CSR a kubelet with `serverTLSBootstrap` sends for these addresses (`newGetTemplateFn`); none without an IP. */
export function kubeletServingCsr(nodeName: string, addresses: readonly NodeAddress[]): Csr | undefined {
    const dns = new Set<string>();
    const ips = new Set<string>();
    for (const { type, address } of addresses) {
        if (address === "") continue;
        if (type === "Hostname") (isIPv4(address) ? ips : dns).add(address);
        else if (type === "InternalIP" || type === "ExternalIP") {
            if (isIPv4(address)) ips.add(address);
        } else dns.add(address);
    }
    if (ips.size === 0) return undefined;
    const user = `system:node:${nodeName}`;
    return {
        username: user,
        commonName: user,
        dnsNames: [...dns].sort(byString),
        ips: [...ips].sort(byString),
    };
}

/** The approver's configuration, from the chart's values the way templates/deployment.yaml passes them. */
export interface ApproverConfig {
    readonly providerRegex: string;
    readonly providerIpPrefixes: readonly string[];
    readonly allowedDnsNames: number;
    readonly bypassDnsResolution: boolean;
    readonly bypassHostnameCheck: boolean;
    /** `skip-deny-step`: a CSR it does not approve is left as it is (Pending) instead of Denied. */
    readonly skipDenyStep: boolean;
}

/**
 * The binary's configuration for chart values. The template sets an env var only for a truthy value, so an empty
 * `providerIpPrefixes` leaves the flag default `0.0.0.0/0,::/0`, and `allowedDnsNames` defaults to 1.
 */
export function approverConfig(values: Record<string, unknown>): ApproverConfig {
    const prefixes = (values.providerIpPrefixes as string[] | undefined) ?? [];
    return {
        providerRegex: (values.providerRegex as string | undefined) || ".*",
        providerIpPrefixes: prefixes.length > 0 ? prefixes : ["0.0.0.0/0"],
        allowedDnsNames: (values.allowedDnsNames as number | undefined) || 1,
        bypassDnsResolution: values.bypassDnsResolution === true,
        bypassHostnameCheck: values.bypassHostnameCheck === true,
        skipDenyStep: values.skipDenyStep === true,
    };
}

/** Approved, or Denied with upstream's reason. */
export type Decision = "approved" | { readonly denied: string };

/**
 * kubelet-csr-approver's decision (`Reconcile`, checks in its order). `resolve` stands in for `net.DefaultResolver`
 * in the approver's pod (CoreDNS forwarding to the VPC resolver); a name it does not know does not resolve.
 */
export function approverDecision(
    config: ApproverConfig,
    csr: Csr,
    resolve: (name: string) => readonly string[],
): Decision {
    const deny = (denied: string): Decision => ({ denied });
    const allowed = (ip: string) =>
        config.providerIpPrefixes.some((p) => contains(parseCidr(p)!, parseCidr(`${ip}/32`)!));
    if (!csr.username.startsWith("system:node:"))
        return deny("CSR Spec.Username is not prefixed with system:node:");
    if (csr.dnsNames.length + csr.ips.length === 0)
        return deny("The x509 Cert Request SAN contains neither an IP address nor a DNS name");
    if (csr.commonName !== csr.username)
        return deny("CSR username does not match the parsed x509 certificate request commonname");
    // DNSCheck
    if (csr.dnsNames.length > config.allowedDnsNames)
        return deny("The x509 Cert Request contains more DNS names than allowed through the config flag");
    if (csr.dnsNames.length > 0) {
        const hostname = csr.username.slice("system:node:".length);
        const regex = new RegExp(config.providerRegex); // Go's MatchString: unanchored, like RegExp.test
        for (const name of csr.dnsNames) {
            if (!name.startsWith(hostname) && !config.bypassHostnameCheck)
                return deny("The SAN DNS Name in the x509 CSR is not prefixed by the node name (hostname)");
            if (!regex.test(name))
                return deny("The SAN DNS name in the x509 CR is not allowed by the Cloud provider regex");
        }
        if (!config.bypassDnsResolution) {
            const resolved: string[] = [];
            for (const name of csr.dnsNames) {
                const addrs = resolve(name);
                if (addrs.length === 0)
                    return deny("The SAN DNS Name could not be resolved, denying the CSR");
                resolved.push(...addrs);
            }
            for (const ip of resolved) {
                if (!allowed(ip))
                    return deny(
                        `One of the resolved IP addresses, ${ip},isn't part of the provider-specified set of whitelisted IP. denying the certificate`,
                    );
            }
            for (const ip of csr.ips) {
                if (!resolved.includes(ip))
                    return deny(
                        `One of the SAN IP addresses, ${ip}, is not contained in the set of resolved IP addresses, denying the CSR.`,
                    );
            }
        }
    }
    // WhitelistedIPCheck
    for (const ip of csr.ips) {
        if (!allowed(ip))
            return deny(
                `One of the SAN IP addresses, ${ip}, is not partof the allowed IP Prefixes/Subnets, denying the CSR.`,
            );
    }
    return "approved";
}

/** The CSR's state after the approver has seen it: Approved, Denied, or (`skipDenyStep`) still Pending. */
export function approverCondition(
    config: ApproverConfig,
    decision: Decision,
): "Approved" | "Denied" | "Pending" {
    if (decision === "approved") return "Approved";
    return config.skipDenyStep ? "Pending" : "Denied";
}

/**
 * The VPC resolver for these instances, as the approver's pod sees it: a private DNS name resolves to its private
 * IP, and so does a public DNS name inside the VPC (EC2's split-horizon DNS, "Hostname types" in the EC2 user
 * guide); anything else does not resolve.
 */
export function vpcResolver(instances: readonly Ec2Instance[]): (name: string) => readonly string[] {
    return (name) =>
        instances
            .filter((i) => i.privateDnsName === name || i.publicDnsName === name)
            .map((i) => i.privateIp);
}
