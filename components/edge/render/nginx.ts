// Renders nginx.conf (nginx 1.26 on Debian 13; 1.22 on Debian 12 with `version: "1.22"`) for the edge
// hosts from typed routes. Pure: the same function renders production paths and the temp paths of the
// live tests.
import { EdgeSpec, HttpRoute, StreamRoute } from "../types";
import { normalizePath } from "../validate";
import {
    ACME_CHALLENGE_PATH,
    EdgeListenOptions,
    TLS12_CIPHERS,
    TLS13_CIPHERSUITES,
    listenOn,
    healthHost,
    poolMembers,
    requireCertificates,
    resolveListen,
    streamRoutes,
    virtualHosts,
} from "./model";

/** nginx versions the renderer knows: Debian 13's (the edge hosts) and Debian 12's. */
export type NginxVersion = "1.26" | "1.22";

/** Where nginx listens and keeps its files. Every default is the production layout on Debian 13. */
export interface NginxRenderOptions extends EdgeListenOptions {
    /** The nginx the config is for: 1.26 writes `http2 on;`, 1.22 `listen ... http2`. Default `1.26`. */
    readonly version?: NginxVersion;
    /** Directory holding `<cert>.crt` (full chain) and `<cert>.key`. Default `/etc/keelson/tls`. */
    readonly certDir?: string;
    /** Worker user. Default `www-data`. */
    readonly user?: string;
    /** Default `auto` (one worker per core). */
    readonly workerProcesses?: number | "auto";
    /** Default `/run/nginx.pid`. */
    readonly pidFile?: string;
    /** Default `/var/log/nginx/error.log`. */
    readonly errorLog?: string;
    /** Access log of HTTP and stream traffic (`<file>` and `<file without .log>-stream.log`). Default `/var/log/nginx/access.log`. */
    readonly accessLog?: string;
    /** Parent of the body/proxy temp directories. Default `/var/lib/nginx`. */
    readonly tempDir?: string;
    /** The dynamic stream module (Debian package libnginx-mod-stream). Default `/usr/lib/nginx/modules/ngx_stream_module.so`. */
    readonly streamModule?: string;
    /** Webroot certbot writes HTTP-01 challenges to (when `spec.acme`). Default `/var/lib/keelson/acme`. */
    readonly acmeWebroot?: string;
    /** Staple OCSP responses; off for self-signed certificates, which name no responder. Default true. */
    readonly ocspStapling?: boolean;
    /** DNS resolver for OCSP responders. Default `169.254.169.253` (the Amazon VPC resolver). */
    readonly resolver?: string;
    /** CA bundle used to verify OCSP responses. Default `/etc/ssl/certs/ca-certificates.crt`. */
    readonly trustedCaFile?: string;
    /**
     * Seconds an idle upstream keep-alive connection is kept. Must stay below the backends' own idle
     * timeout (Node.js and uvicorn 5 s, Apache 5 s), or a request can be sent on a connection the
     * backend is closing, and a POST there fails with 502. Default 4.
     */
    readonly upstreamIdleTimeout?: number;
}

type Resolved = Required<NginxRenderOptions>;

function resolve(o: NginxRenderOptions): Resolved {
    return {
        ...resolveListen(o),
        certDir: o.certDir ?? "/etc/keelson/tls",
        user: o.user ?? "www-data",
        workerProcesses: o.workerProcesses ?? "auto",
        pidFile: o.pidFile ?? "/run/nginx.pid",
        errorLog: o.errorLog ?? "/var/log/nginx/error.log",
        accessLog: o.accessLog ?? "/var/log/nginx/access.log",
        tempDir: o.tempDir ?? "/var/lib/nginx",
        streamModule: o.streamModule ?? "/usr/lib/nginx/modules/ngx_stream_module.so",
        acmeWebroot: o.acmeWebroot ?? "/var/lib/keelson/acme",
        ocspStapling: o.ocspStapling ?? true,
        resolver: o.resolver ?? "169.254.169.253",
        trustedCaFile: o.trustedCaFile ?? "/etc/ssl/certs/ca-certificates.crt",
        version: o.version ?? "1.26",
        upstreamIdleTimeout: o.upstreamIdleTimeout ?? 4,
    };
}

const indent = (lines: string[], n = 1) => lines.map((l) => (l ? "    ".repeat(n) + l : l));

/**
 * Renders a complete nginx.conf: HTTP on `httpPort` redirects to HTTPS (except ACME challenges),
 * HTTPS with HTTP/2 and SNI (one server block per host, each with its certificate), TLS 1.2/1.3
 * only, shared session cache, OCSP stapling, HSTS, forwarded headers set from the peer address
 * (never trusted from the client), websocket upgrades, upstream keep-alive, passive health checks
 * with retry of idempotent requests on the next backend, and a stream block for TCP/UDP routes.
 */
export function renderNginxConfig(spec: EdgeSpec, options: NginxRenderOptions = {}): string {
    requireCertificates(spec);
    const o = resolve(options);
    const streams = streamRoutes(spec);
    const out: string[] = [
        "# Rendered by Keelson (components/edge/render/nginx.ts); changes on the host are overwritten.",
        `user ${o.user};`,
        `worker_processes ${o.workerProcesses};`,
        "worker_rlimit_nofile 65535;",
        `pid ${o.pidFile};`,
        `error_log ${o.errorLog} warn;`,
    ];
    if (streams.length > 0) out.push(`load_module ${o.streamModule};`);
    out.push("", "events {", "    worker_connections 16384;", "}", "");
    out.push("http {", ...indent(httpBlock(spec, o)), "}");
    if (streams.length > 0) out.push("", "stream {", ...indent(streamBlock(spec, streams, o)), "}");
    return out.join("\n") + "\n";
}

function httpBlock(spec: EdgeSpec, o: Resolved): string[] {
    const hosts = virtualHosts(spec);
    const routes = [...new Set(hosts.flatMap((h) => h.routes))];
    const lines = [
        "server_tokens off;",
        "tcp_nodelay on;",
        "keepalive_timeout 65s;",
        "keepalive_requests 1000;",
        "client_header_timeout 15s;",
        "client_body_timeout 30s;",
        "send_timeout 30s;",
        "client_max_body_size 16m;",
        "default_type application/octet-stream;",
        `client_body_temp_path ${o.tempDir}/body;`,
        `proxy_temp_path ${o.tempDir}/proxy;`,
        `fastcgi_temp_path ${o.tempDir}/fastcgi;`,
        `uwsgi_temp_path ${o.tempDir}/uwsgi;`,
        `scgi_temp_path ${o.tempDir}/scgi;`,
        "",
        "log_format keelson '$remote_addr [$time_iso8601] $host \"$request\" $status $body_bytes_sent '",
        "                   'rt=$request_time ua=$upstream_addr us=$upstream_status urt=$upstream_response_time '",
        "                   '$ssl_protocol $ssl_session_reused \"$http_user_agent\"';",
        "# Buffered: one write per 64k of log lines or per second, not one per request (5-11 % of CPU).",
        `access_log ${o.accessLog} keelson buffer=64k flush=1s;`,
        "",
        "# Websocket upgrades get 'Connection: upgrade'; everything else an empty Connection header, which",
        "# keeps the upstream keep-alive connection open.",
        "map $http_upgrade $connection_upgrade {",
        "    default upgrade;",
        "    '' '';",
        "}",
        "",
        "# POST, PATCH and LOCK, which nginx never resends once sent, go to the route's .writes upstream: each",
        "# on a new connection, never on a kept-alive one that the node may be closing as nginx sends (a pod",
        "# that stops closes its idle connections; the request would get a 502). Other methods are resent.",
        `map $request_method ${POOL_VARIABLE} {`,
        ...NON_IDEMPOTENT.map((m) => `    ${m} ${WRITES_SUFFIX};`),
        "    default '';",
        "}",
        "",
        "ssl_protocols TLSv1.2 TLSv1.3;",
        `ssl_ciphers ${TLS12_CIPHERS};`,
        `ssl_conf_command Ciphersuites ${TLS13_CIPHERSUITES};`,
        "ssl_prefer_server_ciphers off;",
        "ssl_ecdh_curve X25519:prime256v1:secp384r1;",
        "ssl_session_cache shared:SSL:10m;",
        "ssl_session_timeout 1d;",
        "# Tickets off: their keys never rotate without a reload; the shared cache resumes sessions instead.",
        "ssl_session_tickets off;",
        "# TLS 1.3 sends session tickets anyway (stateful, in the cache): one per handshake, not two.",
        "ssl_conf_command NumTickets 1;",
    ];
    if (o.ocspStapling) {
        lines.push(
            "ssl_stapling on;",
            "ssl_stapling_verify on;",
            `ssl_trusted_certificate ${o.trustedCaFile};`,
            `resolver ${o.resolver} valid=300s ipv6=off;`,
            "resolver_timeout 5s;",
        );
    }
    lines.push(
        "",
        "proxy_http_version 1.1;",
        "# A node without a ready pod (externalTrafficPolicy Local) drops the SYN: 1 s, then the next node.",
        `proxy_connect_timeout ${CONNECT_TIMEOUT_SECONDS}s;`,
        `proxy_send_timeout ${o.upstreamTimeout}s;`,
        "# A hung node holds a request this long at most; idempotent ones then go to the next node.",
        `proxy_read_timeout ${o.upstreamTimeout}s;`,
        "# Errors, timeouts and 502-504 go to the next node; nginx never resends a POST, PATCH or LOCK once",
        "# it reached a backend (the client gets the 502 or 504), only before it was sent.",
        "proxy_next_upstream error timeout http_502 http_503 http_504;",
        "proxy_next_upstream_tries 3;",
        `proxy_next_upstream_timeout ${2 * o.upstreamTimeout + 2 * CONNECT_TIMEOUT_SECONDS}s;`,
        ...PROXY_HEADERS,
        "# Keeps upstream keep-alive connections open (websocket locations set their own).",
        'proxy_set_header Connection "";',
    );
    for (const route of routes) lines.push("", ...upstream(spec, route, o));
    const hsts = `add_header Strict-Transport-Security "max-age=${o.hstsMaxAge}" always;`;
    const redirect =
        o.httpsPort === 443 ? "https://$host$request_uri" : `https://$host:${o.httpsPort}$request_uri`;
    lines.push(
        "",
        "server {",
        `    listen ${listenOn(o.listenAddress, o.httpPort)} reuseport default_server;`,
        "    server_name _;",
        ...(spec.acme
            ? [`    location ${ACME_CHALLENGE_PATH} {`, `        root ${o.acmeWebroot};`, "    }"]
            : []),
        "    location / {",
        `        return 301 ${redirect};`,
        "    }",
        "}",
    );
    if (spec.certificates.length > 0) {
        const fallback = spec.certificates[0];
        lines.push(
            "",
            "# Unknown host names: served with the first certificate, answered 404.",
            "server {",
            ...tlsListen(o, " reuseport default_server"),
            "    server_name _;",
            `    ssl_certificate ${o.certDir}/${fallback.name}.crt;`,
            `    ssl_certificate_key ${o.certDir}/${fallback.name}.key;`,
            `    ${hsts}`,
            "    return 404;",
            "}",
        );
    }
    for (const vhost of hosts) {
        lines.push(
            "",
            "server {",
            ...tlsListen(o, ""),
            `    server_name ${vhost.host};`,
            `    ssl_certificate ${o.certDir}/${vhost.certificate.name}.crt;`,
            `    ssl_certificate_key ${o.certDir}/${vhost.certificate.name}.key;`,
            `    ${hsts}`,
        );
        for (const route of vhost.routes) lines.push(...indent(locations(route)));
        if (!vhost.routes.some((r) => normalizePath(r.path) === "/"))
            lines.push("    location / {", "        return 404;", "    }");
        lines.push("}");
    }
    return lines;
}

/** Seconds to connect to a node: a dropped SYN costs this long before the next node is tried. */
export const CONNECT_TIMEOUT_SECONDS = 1;

/** The HTTPS listen line(s): nginx 1.25.1+ enables HTTP/2 with its own directive. */
function tlsListen(o: Resolved, flags: string): string[] {
    const on = listenOn(o.listenAddress, o.httpsPort);
    return o.version === "1.22"
        ? [`    listen ${on} ssl http2${flags};`]
        : [`    listen ${on} ssl${flags};`, "    http2 on;"];
}

/**
 * The `# health` annotation the host's health loop reads (render/bootstrap.ts): it probes the URL
 * (or TCP address) and marks the server `down` while the node fails, as haproxy's checks would.
 */
export function healthAnnotation(target: string): string {
    return ` # health ${target}`;
}

/** The methods nginx never resends once they reached a node (ngx_http_upstream_next: POST, LOCK, PATCH). */
const NON_IDEMPOTENT = ["POST", "PATCH", "LOCK"];
/** Set per request to WRITES_SUFFIX for NON_IDEMPOTENT methods, else empty; proxy_pass appends it. */
const POOL_VARIABLE = "$keelson_pool";
/** The suffix of a route's upstream without keep-alive (`.` cannot appear in a route name). */
const WRITES_SUFFIX = ".writes";

function upstream(spec: EdgeSpec, route: HttpRoute, o: Resolved): string[] {
    const host = healthHost(route);
    const servers = poolMembers(spec, route.nodePort).map(
        (m) =>
            `    server ${m.endpoint} max_fails=1 fail_timeout=5s;` +
            healthAnnotation(`http://${m.endpoint}${route.healthPath} ${host}`),
    );
    return [
        `# ${route.name}: every worker's NodePort ${route.nodePort}. The host's health loop probes`,
        `# ${route.healthPath} on each (a node without a ready pod drops it) and marks failing ones down; between`,
        "# probes a node that fails once rests 5 s (zone: all workers share what they learn).",
        `upstream ${route.name} {`,
        `    zone upstream-${route.name} 64k;`,
        ...servers,
        "    keepalive 64;",
        "    keepalive_requests 10000;",
        `    keepalive_timeout ${o.upstreamIdleTimeout}s;`,
        "}",
        `# ${route.name}'s POST, PATCH and LOCK: the same nodes and marks, a new connection for each request.`,
        `upstream ${route.name}${WRITES_SUFFIX} {`,
        `    zone upstream-${route.name}${WRITES_SUFFIX} 64k;`,
        ...servers,
        "}",
    ];
}

/** Forwarding headers, set once in `http` and repeated only where a location adds its own. */
const PROXY_HEADERS = [
    "proxy_set_header Host $host;",
    "proxy_set_header X-Real-IP $remote_addr;",
    "# The edge is the first proxy: a client-sent X-Forwarded-For is replaced, never extended.",
    "proxy_set_header X-Forwarded-For $remote_addr;",
    "proxy_set_header X-Forwarded-Proto $scheme;",
    "proxy_set_header X-Forwarded-Host $host;",
    "proxy_set_header X-Forwarded-Port $server_port;",
];

function locations(route: HttpRoute): string[] {
    const path = normalizePath(route.path);
    const body = [`proxy_pass http://${route.name}${POOL_VARIABLE};`];
    const upgrade: string[] = [];
    if (route.websocket) {
        // Only upgraded requests get the hour-long timeouts: a plain request to a hung node must still
        // give up after upstreamTimeout. nginx's timeouts take no variables, hence a named location.
        body.unshift(
            `error_page 418 = @${route.name}-websocket;`,
            "if ($http_upgrade) {",
            "    return 418;",
            "}",
        );
        upgrade.push(
            `location @${route.name}-websocket {`,
            ...indent([
                `proxy_pass http://${route.name};`,
                // Any proxy_set_header here drops every inherited one, so the whole set is repeated.
                ...PROXY_HEADERS,
                "proxy_set_header Upgrade $http_upgrade;",
                "proxy_set_header Connection $connection_upgrade;",
                "proxy_read_timeout 3600s;",
                "proxy_send_timeout 3600s;",
            ]),
            "}",
        );
    }
    const block = (match: string) => [`location ${match} {`, ...indent(body), "}"];
    return [...(path === "/" ? block("/") : [...block(`= ${path}`), ...block(`${path}/`)]), ...upgrade];
}

function streamBlock(spec: EdgeSpec, routes: StreamRoute[], o: Resolved): string[] {
    const streamLog = o.accessLog.replace(/\.log$/, "") + "-stream.log";
    const lines = [
        "log_format keelson_stream '$remote_addr [$time_iso8601] $protocol $server_port $status '",
        "                          '$bytes_sent $bytes_received $session_time ua=$upstream_addr';",
        `access_log ${streamLog} keelson_stream buffer=64k flush=1s;`,
        `proxy_connect_timeout ${CONNECT_TIMEOUT_SECONDS}s;`,
    ];
    for (const route of routes) {
        const udp = route.kind === "udp";
        lines.push(
            "",
            `upstream ${route.name} {`,
            `    zone upstream-${route.name} 64k;`,
            ...poolMembers(spec, route.nodePort).map(
                (m) =>
                    `    server ${m.endpoint} max_fails=1 fail_timeout=5s;` +
                    (udp ? "" : healthAnnotation(`tcp://${m.endpoint}`)),
            ),
            "}",
            "server {",
            `    listen ${listenOn(o.listenAddress, route.listenPort)}${udp ? " udp" : ""} reuseport;`,
            `    proxy_pass ${route.name};`,
            `    proxy_timeout ${udp ? "30s" : "10m"};`,
            "    proxy_next_upstream on;",
            "    proxy_next_upstream_tries 3;",
            "}",
        );
    }
    return lines;
}
