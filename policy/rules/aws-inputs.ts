// What the AWS rules read, in every shape Keelson (or anyone) renders it: user-data as plain text, base64 or
// gzipped base64 (instances, spot requests, launch configurations, launch templates), the edge's config kept
// in an SSM parameter (gzip + base64), and address ranges measured by how much of the public internet they
// admit, so that a range split into pieces is still seen as the whole.
import * as zlib from "zlib";
import { arr, obj } from "../../components/score/workloads";

/** EC2 launch paths that carry user-data, IMDS options and block devices. */
export const LAUNCH_TYPES = {
    instance: "aws:ec2/instance:Instance",
    spot: "aws:ec2/spotInstanceRequest:SpotInstanceRequest",
    launchConfiguration: "aws:ec2/launchConfiguration:LaunchConfiguration",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
} as const;
export const LAUNCH_TYPE_LIST: readonly string[] = Object.values(LAUNCH_TYPES);

/** Base64 text decoded, and gunzipped when it starts with gzip's magic bytes; undefined when not base64. */
export function decodeBase64Text(value: string): string | undefined {
    const compact = value.replace(/\s+/g, "");
    if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact))
        return undefined;
    const bytes = Buffer.from(compact, "base64");
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
        try {
            return zlib.gunzipSync(bytes).toString("utf8");
        } catch {
            return undefined;
        }
    }
    return bytes.toString("utf8");
}

/**
 * Every user-data text a launch resource carries, decoded: `userData` (plain; base64 for launch templates),
 * `userDataBase64` (base64, often gzipped). The raw strings are included too, so a `[secret]` marker or a
 * plain-text leak is seen whatever the encoding.
 */
export function userDataTexts(type: string, props: Record<string, unknown>): string[] {
    const out: string[] = [];
    for (const key of ["userData", "userDataBase64"]) {
        const v = props[key];
        if (typeof v !== "string") continue;
        out.push(v);
        if (key === "userDataBase64" || type === LAUNCH_TYPES.launchTemplate) {
            const decoded = decodeBase64Text(v);
            if (decoded !== undefined) out.push(decoded);
        }
    }
    return out;
}

/** The texts of an SSM parameter's value: raw, and decoded when it is (gzipped) base64. */
export function parameterTexts(props: Record<string, unknown>): string[] {
    const v = props.value;
    if (typeof v !== "string") return [];
    const decoded = decodeBase64Text(v);
    return decoded === undefined ? [v] : [v, decoded];
}

/** Whether a text holds nginx or haproxy TLS settings (a certificate, an `ssl` bind, protocol options). */
export function terminatesTls(text: string): boolean {
    return (
        /^\s*ssl_(certificate|protocols)\s/m.test(text) ||
        /^\s*bind\s[^\n]*\sssl(\s|$)/m.test(text) ||
        /\b(ssl-min-ver|ssl-default-bind-options)\b/.test(text)
    );
}

/**
 * What a rendered nginx/haproxy config admits below TLS 1.2, or undefined: an explicit old protocol
 * (`ssl_protocols TLSv1 ...`, `ssl-min-ver TLSv1.0`, `force-tlsv10`, `no-tlsv12`), or an nginx server that
 * terminates TLS without `ssl_protocols` (nginx 1.22's default still has TLSv1 and TLSv1.1).
 */
export function edgeTlsWeakness(text: string): string | undefined {
    const nginx = /^\s*ssl_protocols\s+([^;]*);/gm;
    let m: RegExpExecArray | null;
    let sawProtocols = false;
    while ((m = nginx.exec(text)) !== null) {
        sawProtocols = true;
        const weak = m[1].split(/\s+/).find((p) => /^(SSLv2|SSLv3|TLSv1|TLSv1\.1)$/.test(p));
        if (weak) return weak;
    }
    const haproxy =
        /\b(ssl-min-ver\s+(SSLv3|TLSv1\.0|TLSv1\.1)|force-(sslv3|tlsv10|tlsv11)|no-tlsv12)\b/.exec(text);
    if (haproxy) return haproxy[2] ?? haproxy[1];
    if (/^\s*ssl_certificate\s/m.test(text) && !sawProtocols)
        return "nginx's default protocols (TLSv1, TLSv1.1)";
    return undefined;
}

const PRIVATE_V4: readonly string[] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
];

function v4Range(cidr: string): [number, number] | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
    if (!m) return undefined;
    const ip = m.slice(1, 5).reduce((a, o) => a * 256 + Number(o), 0);
    const bits = Number(m[5]);
    const size = 2 ** (32 - bits);
    const start = Math.floor(ip / size) * size;
    return [start, start + size];
}

function v6Range(cidr: string): [bigint, bigint] | undefined {
    const m = /^([0-9a-fA-F:]+)\/(\d+)$/.exec(cidr.trim());
    if (!m || !m[1].includes(":")) return undefined;
    const [head, tail = ""] = m[1].split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = m[1].includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    if (groups.length !== 8) return undefined;
    const ip = groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || "0", 16)), 0n);
    const size = 1n << BigInt(128 - Number(m[2]));
    const start = (ip / size) * size;
    return [start, start + size];
}

function unionSize<T extends number | bigint>(ranges: [T, T][], zero: T): T {
    const sorted = [...ranges].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let total = zero;
    let cur: [T, T] | undefined;
    for (const r of sorted) {
        if (cur && r[0] <= cur[1]) {
            if (r[1] > cur[1]) cur = [cur[0], r[1]];
        } else {
            if (cur) total = ((total as bigint) + ((cur[1] as bigint) - (cur[0] as bigint))) as T;
            cur = r;
        }
    }
    if (cur) total = ((total as bigint) + ((cur[1] as bigint) - (cur[0] as bigint))) as T;
    return total;
}

/**
 * How much of the public internet a set of CIDRs admits together: public IPv4 addresses (private,
 * loopback, link-local and CGNAT ranges not counted) and IPv6 /64 networks. Unparseable entries count as
 * the whole internet, so an odd spelling cannot hide an open rule.
 */
export function publicReach(cidrs: readonly string[]): { v4: number; v6: bigint } {
    const v4: [number, number][] = [];
    const v6: [bigint, bigint][] = [];
    for (const c of cidrs) {
        const a = v4Range(c);
        if (a) {
            v4.push(a);
            continue;
        }
        const b = v6Range(c);
        if (b) v6.push([b[0] >> 64n, (b[1] + (1n << 64n) - 1n) >> 64n]);
        else v4.push([0, 2 ** 32]);
    }
    // Subtract the private part of the union: union(v4 ∪ private) - union(private) = public part.
    const priv = PRIVATE_V4.map((c) => v4Range(c)!);
    const publicV4 = v4.length === 0 ? 0 : unionSize([...v4, ...priv], 0) - unionSize(priv, 0);
    return { v4: publicV4, v6: unionSize(v6, 0n) };
}

/** More than a /16 of public IPv4 or a /48 of IPv6: "the internet" for an administrative port. */
export function tooBroad(reach: { v4: number; v6: bigint }): boolean {
    return reach.v4 > 2 ** 16 || reach.v6 > 2n ** 16n;
}

/** One ingress grant with its sources, whichever resource shape declared it. */
export interface IngressGrant {
    readonly urn: string;
    readonly name: string;
    /** The security group the rule belongs to (its id input, or the group's own URN for inline rules). */
    readonly group: string;
    readonly protocol: string;
    readonly fromPort: number;
    readonly toPort: number;
    readonly cidrs: string[];
    readonly prefixListIds: string[];
    readonly description?: string;
}

const protocolOf = (p: unknown) => {
    const s = String(p ?? "-1").toLowerCase();
    return s === "all" || s === "-1" ? "-1" : s === "6" ? "tcp" : s === "17" ? "udp" : s;
};

function grant(
    r: { urn: string; name: string },
    group: string,
    raw: Record<string, unknown>,
    cidrs: unknown[],
    prefixes: unknown[],
    protocol: unknown,
): IngressGrant {
    const p = protocolOf(protocol);
    return {
        urn: r.urn,
        name: r.name,
        group,
        protocol: p,
        fromPort: p === "-1" || typeof raw.fromPort !== "number" ? 0 : raw.fromPort,
        toPort: p === "-1" || typeof raw.toPort !== "number" ? 65535 : raw.toPort,
        cidrs: cidrs.filter((c): c is string => typeof c === "string" && c !== ""),
        prefixListIds: prefixes.filter((c): c is string => typeof c === "string" && c !== ""),
        description:
            typeof raw.description === "string" && raw.description.trim() !== ""
                ? raw.description
                : undefined,
    };
}

/** Security-group resource types whose rules the pack reads. */
export const SG_TYPES: readonly string[] = [
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
];

/** The ingress (or egress) grants of one resource, in all four shapes. */
export function grantsOf(
    direction: "ingress" | "egress",
    r: { type: string; urn: string; name: string; props: Record<string, unknown> },
): IngressGrant[] {
    const i = r.props;
    const vpcRule =
        direction === "ingress"
            ? "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
            : "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
    if (r.type === vpcRule)
        return [
            grant(
                r,
                String(i.securityGroupId ?? r.urn),
                i,
                [i.cidrIpv4, i.cidrIpv6],
                [i.prefixListId],
                i.ipProtocol,
            ),
        ];
    switch (r.type) {
        case "aws:ec2/securityGroupRule:SecurityGroupRule":
            return i.type === direction
                ? [
                      grant(
                          r,
                          String(i.securityGroupId ?? r.urn),
                          i,
                          [...arr(i.cidrBlocks), ...arr(i.ipv6CidrBlocks)],
                          arr(i.prefixListIds),
                          i.protocol,
                      ),
                  ]
                : [];
        case "aws:ec2/securityGroup:SecurityGroup":
        case "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":
            return arr(i[direction]).map((x) => {
                const raw = obj(x);
                return grant(
                    r,
                    r.urn,
                    raw,
                    [...arr(raw.cidrBlocks), ...arr(raw.ipv6CidrBlocks)],
                    arr(raw.prefixListIds),
                    raw.protocol,
                );
            });
        default:
            return [];
    }
}

/** Whether a grant covers an administrative port: every protocol, SSH (22) or RDP (3389). */
export function adminPorts(g: IngressGrant): string | undefined {
    if (g.protocol === "-1") return "all ports";
    if (g.protocol !== "tcp" && g.protocol !== "udp") return undefined;
    const hit = [22, 3389].find((p) => g.fromPort <= p && p <= g.toPort);
    return hit === undefined ? undefined : hit === 22 ? "SSH (22)" : "RDP (3389)";
}
