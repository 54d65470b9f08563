// AWS checks shared by the StackScore and the policy pack: ingress rules in their three shapes,
// and secrets in user-data. Imports nothing from Pulumi so that the policy pack can use it.
import { arr, obj } from "./workloads";

/** One ingress permission, whichever resource type declared it. */
export interface IngressRule {
    readonly resource: { readonly urn: string; readonly name: string };
    /** `"-1"` for every protocol, else `tcp`, `udp`, `icmp`, ... */
    readonly protocol: string;
    readonly fromPort: number;
    readonly toPort: number;
    /** IPv4 and IPv6 CIDRs; empty when the source is a security group or prefix list. */
    readonly cidrs: readonly string[];
    readonly description?: string;
}

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

function protocolOf(p: unknown): string {
    const s = String(p ?? "-1").toLowerCase();
    return s === "all" || s === "-1" ? "-1" : s === "6" ? "tcp" : s === "17" ? "udp" : s;
}

function rule(
    resource: IngressRule["resource"],
    raw: Record<string, unknown>,
    cidrs: unknown[],
    protocol: unknown,
): IngressRule {
    const p = protocolOf(protocol);
    const from = typeof raw.fromPort === "number" ? raw.fromPort : 0;
    const to = typeof raw.toPort === "number" ? raw.toPort : 65535;
    return {
        resource,
        protocol: p,
        fromPort: p === "-1" ? 0 : from,
        toPort: p === "-1" ? 65535 : to,
        cidrs: cidrs.filter((c): c is string => typeof c === "string"),
        description:
            typeof raw.description === "string" && raw.description.trim() !== ""
                ? raw.description
                : undefined,
    };
}

/**
 * The ingress rules one resource declares: a `vpc.SecurityGroupIngressRule`, an
 * `ec2.SecurityGroupRule` of type ingress, or the inline `ingress` blocks of an `ec2.SecurityGroup`.
 */
export function ingressRulesOf(
    type: string,
    inputs: Record<string, unknown>,
    urn: string,
    name: string,
): IngressRule[] {
    const res = { urn, name };
    switch (type) {
        case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            return [rule(res, inputs, [inputs.cidrIpv4, inputs.cidrIpv6], inputs.ipProtocol)];
        case "aws:ec2/securityGroupRule:SecurityGroupRule":
            return inputs.type === "ingress"
                ? [
                      rule(
                          res,
                          inputs,
                          [...arr(inputs.cidrBlocks), ...arr(inputs.ipv6CidrBlocks)],
                          inputs.protocol,
                      ),
                  ]
                : [];
        case "aws:ec2/securityGroup:SecurityGroup":
            return arr(inputs.ingress).map((i) => {
                const raw = obj(i);
                return rule(res, raw, [...arr(raw.cidrBlocks), ...arr(raw.ipv6CidrBlocks)], raw.protocol);
            });
        default:
            return [];
    }
}

/** Every ingress rule in a list of resources. */
export function ingressRules(
    resources: ReadonlyArray<{ type: string; inputs: Record<string, unknown>; urn: string; name: string }>,
): IngressRule[] {
    return resources.flatMap((r) => ingressRulesOf(r.type, r.inputs, r.urn, r.name));
}

/** True when the rule admits 0.0.0.0/0 or ::/0. */
export function openToWorld(r: IngressRule): boolean {
    return r.cidrs.some((c) => WORLD.has(c));
}

/**
 * True for a single-port rule that a `keelson:edge:*` component declares: the Edge opens to the
 * internet only 80, 443 and the listen port of each declared TCP/UDP stream route.
 */
export function declaredByEdge(r: IngressRule): boolean {
    const parts = r.resource.urn.split("::");
    const parents = parts.length >= 3 ? parts[2].split("$").slice(0, -1) : [];
    return (
        r.protocol !== "-1" && r.fromPort === r.toPort && parents.some((t) => t.startsWith("keelson:edge:"))
    );
}

/** `"tcp 22"`, `"tcp 30000-32767"` or `"all ports"`. */
export function portsText(r: IngressRule): string {
    if (r.protocol === "-1") return "all ports";
    return r.fromPort === r.toPort
        ? `${r.protocol} ${r.fromPort}`
        : `${r.protocol} ${r.fromPort}-${r.toPort}`;
}

const LEAKS: ReadonlyArray<readonly [RegExp, string]> = [
    [/\[secret\]/, "a Pulumi secret"],
    [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
    [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key"],
    [/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/, "a kubeadm bootstrap token"],
    [/--certificate-key[ =]+[0-9a-f]{64}\b/, "a kubeadm certificate key"],
];

/** What secret-looking content a user-data string carries (empty when none or not a string). */
export function userDataSecrets(userData: unknown): string[] {
    if (typeof userData !== "string") return [];
    return LEAKS.filter(([re]) => re.test(userData)).map(([, what]) => what);
}
