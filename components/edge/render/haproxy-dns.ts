// haproxy server lines for the edge's backends, and the `resolvers` section that backends given by
// DNS name (the workers' internal NLB) need. Pure.
//
// Why (HAProxy 3.0, doc/configuration.txt, the Debian 13 package's copy of 3.0.11 and v3.0.0):
// - 5.3: "By default, HAProxy resolves the name when parsing the configuration file, at startup and
//   cache the result for the process's life. This is not sufficient in some cases, such as in Amazon
//   where [...] an ELB Virtual IP can change". A plain `server workers <nlb-name>:<port>` gets one
//   address (the libc's first) for the process's life: every request goes to one zone's NLB node,
//   and the edge fails with that zone although the other zones' addresses serve.
// - `server-template <prefix> <num> <fqdn>[:<port>] [params*]` "would be equivalent to" `num` server
//   lines named <prefix>1..<prefix><num>; with `resolvers`, `resolve-opts` (default prevent-dup-ip):
//   "If the nameserver returns 2 IP addresses, then each server will pick up a different address", so
//   every NLB address is a slot of its own with its own `check`, and slots without an address wait in
//   maintenance until the answer grows.
// - `resolvers` / `parse-resolv-conf`: "Adds all nameservers found in /etc/resolv.conf" (on EC2 the
//   VPC resolver). `timeout resolve` (default 1s) is how often a name is resolved again; `hold valid`
//   "Applies only to http-request do-resolve [...] It does not affect dynamic resolution of servers"
//   (3.0 still uses it to reuse a fresh answer when a check's connect timeout asks for a resolution).
//   `hold obsolete` (default 0s) is how long an address missing from the answer is kept: 0, so a zone
//   that leaves DNS leaves the backend at the next answer. `hold nx|refused|timeout|other` (default
//   30s): after that long without a valid answer the servers go DOWN; an NLB's addresses outlive a
//   resolver outage, so the edge keeps them an hour (their checks still take dead ones out).
// - `accepted_payload_size`: "If not set, HAProxy announces 512 [...] Recommended value for UDP is
//   4096"; haproxy's resolver has no TCP fallback, so a truncated answer would lose addresses.
// - `init-addr last,libc,none`: the default is "last,libc"; `none` starts the servers "without any
//   valid IP address in a down state" when the name does not resolve yet, instead of refusing the
//   config. 5.3.1 advises against libc with resolvers "as such setups are known to cause failures
//   upon address renewal"; libc is kept because it gives every slot an address from the first
//   moment after a (re)load (no state file), and the first answer then gives each slot its own:
//   the live test (test/edge/haproxy-dns.test.ts) proves the spread, a dead address and DNS changes.
// - `resolve-prefer <family>`: "Default value: ipv6"; the edge speaks IPv4 to the VPC.
// - `track [<backend>/]<server>` copies another server's state, not its address. Each backend's
//   template slots take their addresses on their own, so `.writes`/workers1 is not promised
//   `workers1`'s address: the `.writes` slots of a name run the same checks themselves.
import { isIP } from "net";
import { MAX_AVAILABILITY_ZONES } from "../../core/regions";
import { EdgeSpec } from "../types";

/** The `resolvers` section the DNS-named backends use. */
export const RESOLVERS = "keelson";

/** Options of the resolvers section and the server slots of backends given by DNS name. */
export interface HaproxyDnsOptions {
    /**
     * Name servers (`<ip>:<port>`) the `resolvers` section asks. Default none: `parse-resolv-conf`, the
     * host's resolver (on EC2 the VPC resolver). The live tests point it at their own DNS server.
     */
    readonly nameservers?: readonly string[];
    /**
     * Server slots per backend given by DNS name (`server-template <name> <slots>`): one per address the
     * name can have. Default {@link MAX_AVAILABILITY_ZONES}, since the workers' NLB has one address per zone.
     */
    readonly serverSlots?: number;
    /** How often such a name is resolved again (`timeout resolve`). Default `1s` (haproxy's default). */
    readonly resolveInterval?: string;
}

/** {@link HaproxyDnsOptions} with their defaults applied. */
export function resolveDns(o: HaproxyDnsOptions): Required<HaproxyDnsOptions> {
    return {
        nameservers: o.nameservers ?? [],
        serverSlots: o.serverSlots ?? MAX_AVAILABILITY_ZONES,
        resolveInterval: o.resolveInterval ?? "1s",
    };
}

/** True when some backend is given by DNS name, not an IP literal. */
export function hasNamedBackends(spec: Pick<EdgeSpec, "backends">): boolean {
    return spec.backends.some((b) => isIP(b.address) === 0);
}

/** The `resolvers` section (rendered only when {@link hasNamedBackends}). */
export function resolversSection(o: Required<HaproxyDnsOptions>): string[] {
    return [
        "# Backends given by DNS name (the workers' NLB: one address per zone) are resolved again every",
        "# `timeout resolve`; a zone missing from the answer leaves at once, a resolver outage keeps the last",
        "# addresses for an hour (see components/edge/render/haproxy-dns.ts).",
        `resolvers ${RESOLVERS}`,
        ...(o.nameservers.length === 0
            ? ["    parse-resolv-conf"]
            : o.nameservers.map((ns, i) => `    nameserver ns${i + 1} ${ns}`)),
        "    accepted_payload_size 4096",
        `    timeout resolve ${o.resolveInterval}`,
        "    timeout retry 1s",
        "    hold valid 10s",
        "    hold obsolete 0s",
        "    hold nx 1h",
        "    hold refused 1h",
        "    hold timeout 1h",
        "    hold other 1h",
    ];
}

/**
 * The server lines of one pool: `server <name> <ip>:<port> <params>` for an IP literal, and for a DNS
 * name `server-template <name> <slots> <name>:<port> check resolvers ...` (slots `<name>1..<slots>`).
 * `track` is the main backend a `.writes` backend follows: IP servers track it; DNS slots check
 * themselves (see the header).
 */
export function serverLines(
    spec: Pick<EdgeSpec, "backends">,
    nodePort: number,
    o: Required<HaproxyDnsOptions>,
    track?: string,
): string[] {
    return spec.backends.map((b) => {
        const endpoint = `${b.address}:${nodePort}`;
        if (isIP(b.address) !== 0)
            return `    server ${b.name} ${endpoint} ${track ? `track ${track}/${b.name}` : "check"}`;
        return (
            `    server-template ${b.name} ${o.serverSlots} ${endpoint} check resolvers ${RESOLVERS}` +
            " init-addr last,libc,none resolve-prefer ipv4"
        );
    });
}
