// Renders haproxy.cfg (haproxy 3.0 with OpenSSL 3.5 on Debian 13; 2.6 with OpenSSL 3.0 on Debian 12 with
// `version: "2.6"`) for the edge hosts from typed routes. Pure: the same function renders production
// paths and the temp paths of the live tests.
import { EdgeSpec, HttpRoute, StreamRoute } from "../types";
import { normalizePath } from "../validate";
import {
    ACME_CHALLENGE_PATH,
    EdgeListenOptions,
    TLS12_CIPHERS,
    TLS13_CIPHERSUITES,
    VirtualHost,
    healthHost,
    requireCertificates,
    resolveListen,
    streamRoutes,
    virtualHosts,
} from "./model";
import {
    HaproxyDnsOptions,
    hasNamedBackends,
    resolveDns,
    resolversSection,
    serverLines,
} from "./haproxy-dns";

/** haproxy versions the renderer knows: Debian 13's (the edge hosts) and Debian 12's. */
export type HaproxyVersion = "3.0" | "2.6";

/** Where haproxy listens and keeps its files. Every default is the production layout on Debian 13. */
export interface HaproxyRenderOptions extends EdgeListenOptions, HaproxyDnsOptions {
    /** The haproxy the config is for (threads, see `nbthread`). Default `3.0`. */
    readonly version?: HaproxyVersion;
    /** Directory holding `<cert>.pem` (full chain followed by the key). Default `/etc/keelson/tls`. */
    readonly certDir?: string;
    /** Drop privileges to this user and group after binding; empty keeps the starting user. Default `haproxy`. */
    readonly user?: string;
    /**
     * Threads. haproxy 2.6 on OpenSSL 3.0 loses handshake throughput to lock contention with many
     * threads, so 2.6 gets 2; haproxy 3.0 on OpenSSL 3.5 scales, so it starts one per core. Default:
     * one per core on 3.0, 2 on 2.6.
     */
    readonly nbthread?: number | "auto";
    /** The `log` target. Default `/dev/log local0` (journald on Debian 12). */
    readonly log?: string;
    /** Admin socket for runtime changes (`set ssl cert`, `set ssl ocsp-response`). Default `/run/haproxy/admin.sock`. */
    readonly statsSocket?: string;
    /** Local port certbot's standalone HTTP-01 server listens on (when `spec.acme`). Default 8402. */
    readonly acmePort?: number;
    /** Active health check interval. Default `2s` (a dead node is out after 2 failures, about 4s). */
    readonly checkInterval?: string;
    /** Connection limit; haproxy needs about twice as many file descriptors. Default 50000. */
    readonly maxconn?: number;
}

type Resolved = Required<HaproxyRenderOptions>;

function resolve(o: HaproxyRenderOptions): Resolved {
    return {
        ...resolveListen(o),
        certDir: o.certDir ?? "/etc/keelson/tls",
        user: o.user ?? "haproxy",
        version: o.version ?? "3.0",
        nbthread: o.nbthread ?? (o.version === "2.6" ? 2 : "auto"),
        log: o.log ?? "/dev/log local0",
        statsSocket: o.statsSocket ?? "/run/haproxy/admin.sock",
        acmePort: o.acmePort ?? 8402,
        checkInterval: o.checkInterval ?? "2s",
        maxconn: o.maxconn ?? 50000,
        ...resolveDns(o),
    };
}

const NO_ROUTE = "keelson-no-route";

/** haproxy's `bind` address: `:port` is every address (a bare `80` would be read as an address). */
function bindOn(address: string, port: number): string {
    return `${address}:${port}`;
}
const ACME = "keelson-acme";

/**
 * Renders a complete haproxy.cfg: HTTP redirects to HTTPS (except ACME challenges), HTTPS with
 * HTTP/2 and SNI (every certificate on the bind line, picked by its names), TLS 1.2/1.3 only, session
 * cache, HSTS on every response, forwarded headers set from the peer address, host and path routing
 * to one backend per route with active `option httpchk` health checks on the route's health path,
 * keep-alive to the backends, retry of idempotent requests on another server, and TCP `listen`
 * sections for TCP routes (haproxy 2.6 cannot proxy UDP; validateRoutes refuses it).
 */
export function renderHaproxyConfig(spec: EdgeSpec, options: HaproxyRenderOptions = {}): string {
    requireCertificates(spec);
    const udp = streamRoutes(spec).find((r) => r.kind === "udp");
    if (udp)
        throw new Error(`route ${udp.name} is udp, which haproxy 2.6 cannot proxy; run validateRoutes first`);
    const o = resolve(options);
    const hosts = virtualHosts(spec);
    const routes = [...new Set(hosts.flatMap((h) => h.routes))];
    const lines = [
        "# Rendered by Keelson (components/edge/render/haproxy.ts); changes on the host are overwritten.",
        "global",
        `    log ${o.log}`,
        ...(o.user ? [`    user ${o.user}`, `    group ${o.user}`] : []),
        ...(o.nbthread === "auto" ? [] : [`    nbthread ${o.nbthread}`]),
        `    maxconn ${o.maxconn}`,
        `    stats socket ${o.statsSocket} mode 660 level admin`,
        "    stats timeout 30s",
        `    ssl-default-bind-ciphers ${TLS12_CIPHERS}`,
        `    ssl-default-bind-ciphersuites ${TLS13_CIPHERSUITES}`,
        "    # Tickets off: their keys never rotate without a reload; the session cache resumes instead.",
        // Mozilla intermediate: the client's cipher order wins (it knows whether it has AES hardware).
        "    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets prefer-client-ciphers",
        "    tune.ssl.cachesize 100000",
        "    tune.ssl.lifetime 3600",
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option dontlognull",
        "    # A node without a ready pod (externalTrafficPolicy Local) drops the SYN: 1 s, then another node.",
        "    timeout connect 1s",
        "    timeout client 60s",
        `    timeout server ${o.upstreamTimeout}s`,
        "    timeout check 1s",
        "    timeout http-request 15s",
        "    timeout http-keep-alive 10s",
        "    timeout queue 30s",
        "    timeout tunnel 1h",
        "    timeout client-fin 10s",
        "    # Up to 3 retries, each on another server. Connection failures are retried for every method (the",
        "    # request was not sent); the L7 retries (a broken reused connection, a timeout, 502-504) only for",
        "    # idempotent ones: non-idempotent requests go to the route's .writes backend, which has none.",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout 502 503 504",
        "    # A failing node is checked again after 500 ms: out in about 4 s, back after two passed checks.",
        `    default-server inter ${o.checkInterval} fastinter 500ms fall 2 rise 2`,
        "",
        ...(hasNamedBackends(spec) ? [...resolversSection(o), ""] : []),
        "frontend http-in",
        `    bind ${bindOn(o.listenAddress, o.httpPort)}`,
        "    option httplog",
    ];
    const port = o.httpsPort === 443 ? "" : `:${o.httpsPort}`;
    if (spec.acme) lines.push(`    acl acme path_beg ${ACME_CHALLENGE_PATH}`);
    lines.push(
        `    http-request redirect location https://%[req.hdr(host),field(1,:)]${port}%[capture.req.uri] code 301${spec.acme ? " unless acme" : ""}`,
    );
    if (spec.acme) lines.push(`    use_backend ${ACME} if acme`);
    if (spec.certificates.length > 0) lines.push("", ...httpsFrontend(spec, hosts, o));
    for (const route of routes) lines.push("", ...httpBackend(spec, route, o));
    lines.push(
        "",
        `backend ${NO_ROUTE}`,
        '    http-request return status 404 content-type text/plain string "no route"',
    );
    if (spec.acme) lines.push("", `backend ${ACME}`, `    server certbot 127.0.0.1:${o.acmePort}`);
    for (const route of streamRoutes(spec)) lines.push("", ...tcpListen(spec, route, o));
    return lines.join("\n") + "\n";
}

function httpsFrontend(spec: EdgeSpec, hosts: VirtualHost[], o: Resolved): string[] {
    // The first certificate is the default for clients that send no or an unknown SNI name.
    const crts = spec.certificates.map((c) => `crt ${o.certDir}/${c.name}.pem`).join(" ");
    const lines = [
        "frontend https-in",
        `    bind ${bindOn(o.listenAddress, o.httpsPort)} ssl ${crts} alpn h2,http/1.1 curves X25519:P-256:P-384`,
        "    option httplog",
        "    # The edge is the first proxy: client-sent forwarding headers are replaced, never extended.",
        "    http-request set-header X-Forwarded-For %[src]",
        "    http-request set-header X-Real-IP %[src]",
        "    http-request set-header X-Forwarded-Proto https",
        "    http-request set-header X-Forwarded-Host %[req.hdr(host),field(1,:)]",
        "    http-request set-header X-Forwarded-Port %[dst_port]",
        "    http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
        `    acl idempotent ${IDEMPOTENT}`,
        `    http-after-response set-header Strict-Transport-Security "max-age=${o.hstsMaxAge}"`,
    ];
    hosts.forEach((vhost, i) => {
        lines.push(
            vhost.host.startsWith("*.")
                ? `    acl host_${i} var(txn.host) -m end ${vhost.host.slice(1)}`
                : `    acl host_${i} var(txn.host) -m str ${vhost.host}`,
        );
    });
    const paths = new Set<string>();
    for (const route of hosts.flatMap((h) => h.routes)) {
        const path = normalizePath(route.path);
        if (path === "/" || paths.has(path)) continue;
        paths.add(path);
        lines.push(`    acl ${pathAcl(path)} path ${path}`, `    acl ${pathAcl(path)} path_beg ${path}/`);
    }
    hosts.forEach((vhost, i) => {
        for (const route of vhost.routes) {
            const path = normalizePath(route.path);
            const match = `host_${i}${path === "/" ? "" : ` ${pathAcl(path)}`}`;
            lines.push(
                `    use_backend ${writesBackend(route)} if ${match} !idempotent`,
                `    use_backend ${route.name} if ${match}`,
            );
        }
    });
    lines.push(`    default_backend ${NO_ROUTE}`);
    return lines;
}

function pathAcl(path: string): string {
    return `path_${path.slice(1).replace(/[^A-Za-z0-9]/g, "_")}_${path.length}`;
}

/** Methods that may be sent twice (RFC 9110 9.2.2), as nginx sees them: everything but POST, PATCH, LOCK... */
const IDEMPOTENT = "method GET HEAD OPTIONS PUT DELETE TRACE";

/** The backend of a route's non-idempotent requests (`.` cannot appear in a route name). */
function writesBackend(route: HttpRoute): string {
    return `${route.name}.writes`;
}

function httpBackend(spec: EdgeSpec, route: HttpRoute, o: Resolved): string[] {
    const checks = [
        "    option httpchk",
        `    http-check send meth GET uri ${route.healthPath} ver HTTP/1.1 hdr Host ${healthHost(route)}`,
        "    http-check expect status 200-399",
    ];
    return [
        `# ${route.name}: every worker's NodePort ${route.nodePort}; a node without a ready pod fails`,
        `# ${route.healthPath} (externalTrafficPolicy Local) and is taken out until it passes twice.`,
        `backend ${route.name}`,
        "    balance roundrobin",
        ...checks,
        `    acl idempotent ${IDEMPOTENT}`,
        "    http-request disable-l7-retry unless idempotent",
        "    http-reuse safe",
        ...serverLines(spec, route.nodePort, o),
        "",
        `# ${route.name}'s non-idempotent requests: never resent, and each on a new connection (closed after`,
        "# the response), because haproxy closes the client connection without a response when a reused one",
        "# breaks (haproxy #1109, #3414); on a new one the client gets a 502. " +
            (hasNamedBackends(spec)
                ? "DNS slots run the main checks themselves."
                : "The servers follow the main checks."),
        `backend ${writesBackend(route)}`,
        "    balance roundrobin",
        "    http-reuse never",
        "    option http-server-close",
        "    http-request disable-l7-retry",
        // DNS slots check themselves (a slot's address is its backend's own; see haproxy-dns.ts).
        ...(hasNamedBackends(spec) ? checks : []),
        ...serverLines(spec, route.nodePort, o, route.name),
    ];
}

function tcpListen(spec: EdgeSpec, route: StreamRoute, o: Resolved): string[] {
    return [
        `listen ${route.name}`,
        "    mode tcp",
        `    bind ${bindOn(o.listenAddress, route.listenPort)}`,
        "    option tcplog",
        "    balance leastconn",
        "    timeout client 10m",
        "    timeout server 10m",
        ...serverLines(spec, route.nodePort, o),
    ];
}
