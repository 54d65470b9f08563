// IPv4 CIDR arithmetic for subnet planning and overlap checks.

/** A parsed IPv4 CIDR block. */
export interface Cidr {
    /** Network address as an unsigned 32-bit integer. */
    readonly base: number;
    readonly prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; undefined unless valid and `a.b.c.d` is the network address itself. */
export function parseCidr(text: string): Cidr | undefined {
    const m = CIDR.exec(text);
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    if ((base & mask(prefix)) >>> 0 !== base) return undefined;
    return { base, prefix };
}

function mask(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Formats a block back to `a.b.c.d/n`. */
export function formatCidr(c: Cidr): string {
    const b = c.base;
    return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${c.prefix}`;
}

/** The `index`-th sub-block of `newBits` more prefix bits (Terraform's cidrsubnet). */
export function subnet(parent: Cidr, newBits: number, index: number): Cidr {
    const prefix = parent.prefix + newBits;
    if (prefix > 32 || index < 0 || index >= 2 ** newBits) {
        throw new RangeError(`cannot carve block ${index} of /${prefix} from ${formatCidr(parent)}`);
    }
    return { base: (parent.base + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

/** Number of addresses in the block. */
export function size(c: Cidr): number {
    return 2 ** (32 - c.prefix);
}

/** True when the two blocks share any address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** True when `inner` lies entirely within `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
    return inner.base >= outer.base && inner.base + size(inner) <= outer.base + size(outer);
}

/**
 * Keelson's default subnet plan for a VPC of prefix /16 to /22: private subnets are the first blocks of
 * prefix+3 (one eighth of the VPC each, for nodes and pods' host IPs), public subnets are blocks of prefix+6
 * in the last eighth (load balancers, NAT gateways and edge hosts need few addresses).
 */
export function defaultSubnets(
    vpc: Cidr,
    zones: number,
): { publicSubnets: string[]; privateSubnets: string[] } {
    const privateSubnets: string[] = [];
    const publicSubnets: string[] = [];
    for (let i = 0; i < zones; i++) {
        privateSubnets.push(formatCidr(subnet(vpc, 3, i)));
        publicSubnets.push(formatCidr(subnet(vpc, 6, 56 + i)));
    }
    return { publicSubnets, privateSubnets };
}
