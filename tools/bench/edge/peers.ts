// The configs the edge benchmark compares Keelson with (pure): the TLS limit (nginx answering the
// static response itself, over TLS with Keelson's TLS settings) and the peers a user would pick
// instead: Caddy's reverse_proxy with its defaults, an nginx config reproducing ingress-nginx's default
// template, and HAProxy configured as its own tuning guidance says.
import {
    DEFAULT_HSTS_MAX_AGE,
    TLS12_CIPHERS,
    TLS13_CIPHERSUITES,
} from "../../../components/edge/render/model";
import { NginxPaths } from "./configs";

/** Where a peer listens, its certificate and the pool it forwards to. */
export interface PeerSite {
    readonly port: number;
    readonly host: string;
    /** The address the peer binds (and wrk connects to). */
    readonly listenAddress: string;
    readonly certFile: string;
    readonly keyFile: string;
    /** Full chain followed by the key (haproxy's `crt`). */
    readonly pemFile: string;
    /** `address:port` of every backend. */
    readonly backends: readonly string[];
    /** An access log file (nginx peers) or a syslog UDP `address:port` (haproxy peers). */
    readonly log: string;
    /** nginx 1.25.1+ writes `http2 on;`. */
    readonly nginxHttp2Directive: boolean;
}

function nginxHead(p: NginxPaths): string[] {
    return [
        "user root;",
        "worker_processes auto;",
        `pid ${p.pidFile};`,
        `error_log ${p.errorLog} warn;`,
        "events { worker_connections 16384; }",
        "http {",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
            (t) => `    ${t}_temp_path ${p.tempDir}/${t};`,
        ),
    ];
}

function listen(site: PeerSite, extra = ""): string[] {
    return site.nginxHttp2Directive
        ? [`        listen ${site.listenAddress}:${site.port} ssl${extra};`, "        http2 on;"]
        : [`        listen ${site.listenAddress}:${site.port} ssl http2${extra};`];
}

/** Keelson's TLS settings (render/nginx.ts), for the limit. */
const KEELSON_TLS = [
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    `    ssl_ciphers ${TLS12_CIPHERS};`,
    `    ssl_conf_command Ciphersuites ${TLS13_CIPHERSUITES};`,
    "    ssl_conf_command NumTickets 1;",
    "    ssl_prefer_server_ciphers off;",
    "    ssl_ecdh_curve X25519:prime256v1:secp384r1;",
    "    ssl_session_cache shared:SSL:10m;",
    "    ssl_session_timeout 1d;",
    "    ssl_session_tickets off;",
];

/**
 * The TLS limit: nginx answers the backend's 2-byte body itself, over TLS with Keelson's settings
 * and HSTS, logging like Keelson. No proxy does less work than this per request.
 */
export function renderTlsLimit(p: NginxPaths, site: PeerSite): string {
    return [
        ...nginxHead(p),
        "    keepalive_requests 1000;",
        ...KEELSON_TLS,
        `    access_log ${site.log} combined buffer=64k flush=1s;`,
        "    server {",
        ...listen(site, " reuseport"),
        `        ssl_certificate ${site.certFile};`,
        `        ssl_certificate_key ${site.keyFile};`,
        `        add_header Strict-Transport-Security "max-age=${DEFAULT_HSTS_MAX_AGE}" always;`,
        "        default_type text/plain;",
        '        location / { return 200 "ok"; }',
        "    }",
        "}",
        "",
    ].join("\n");
}

/**
 * ingress-nginx's default template (controller v1.x `nginx.tmpl` with the ConfigMap defaults), minus
 * the Lua balancer nginx open source lacks: upstream keep-alive 320 connections / 10,000 requests /
 * 60 s, HTTP/2, reuseport, the `upstreaminfo` access log, X-Request-ID and the forwarding headers,
 * `proxy_next_upstream error timeout` with 3 tries, its TLS defaults and HSTS.
 */
export function renderIngressNginx(p: NginxPaths, site: PeerSite): string {
    return [
        ...nginxHead(p),
        "    sendfile on;",
        "    aio threads;",
        "    tcp_nopush on;",
        "    tcp_nodelay on;",
        "    keepalive_timeout 75s;",
        "    keepalive_requests 1000;",
        "    server_tokens off;",
        "    map $http_x_request_id $req_id { default $http_x_request_id; '' $request_id; }",
        "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
        "    log_format upstreaminfo '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent'",
        '        \' "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name]\'',
        "        ' [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length'",
        "        ' $upstream_response_time $upstream_status $req_id';",
        `    access_log ${site.log} upstreaminfo;`,
        "    ssl_protocols TLSv1.2 TLSv1.3;",
        "    ssl_ciphers 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384';",
        "    ssl_prefer_server_ciphers on;",
        "    ssl_ecdh_curve auto;",
        "    ssl_session_cache shared:SSL:10m;",
        "    ssl_session_timeout 10m;",
        "    ssl_session_tickets off;",
        "    ssl_buffer_size 4k;",
        "    upstream upstream_balancer {",
        ...site.backends.map((b) => `        server ${b} max_fails=0;`),
        "        keepalive 320;",
        "        keepalive_requests 10000;",
        "        keepalive_timeout 60s;",
        "    }",
        "    server {",
        ...listen(site, " reuseport"),
        `        server_name ${site.host};`,
        `        ssl_certificate ${site.certFile};`,
        `        ssl_certificate_key ${site.keyFile};`,
        "        location / {",
        '            set $proxy_upstream_name "default-web-80";',
        '            set $proxy_alternative_upstream_name "";',
        '            add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;',
        "            client_max_body_size 1m;",
        "            proxy_set_header Host $host;",
        "            proxy_set_header ssl-client-verify '';",
        "            proxy_set_header Upgrade $http_upgrade;",
        "            proxy_set_header Connection $connection_upgrade;",
        "            proxy_set_header X-Request-ID $req_id;",
        "            proxy_set_header X-Real-IP $remote_addr;",
        "            proxy_set_header X-Forwarded-For $remote_addr;",
        "            proxy_set_header X-Forwarded-Host $host;",
        "            proxy_set_header X-Forwarded-Port $server_port;",
        "            proxy_set_header X-Forwarded-Proto $scheme;",
        "            proxy_set_header X-Forwarded-Scheme $scheme;",
        "            proxy_set_header X-Scheme $scheme;",
        "            proxy_set_header X-Original-Forwarded-For $http_x_forwarded_for;",
        "            proxy_set_header Proxy '';",
        "            proxy_connect_timeout 5s;",
        "            proxy_send_timeout 60s;",
        "            proxy_read_timeout 60s;",
        "            proxy_buffering off;",
        "            proxy_buffer_size 4k;",
        "            proxy_buffers 4 4k;",
        "            proxy_max_temp_file_size 1024m;",
        "            proxy_request_buffering on;",
        "            proxy_http_version 1.1;",
        "            proxy_cookie_domain off;",
        "            proxy_cookie_path off;",
        "            proxy_next_upstream error timeout;",
        "            proxy_next_upstream_timeout 0;",
        "            proxy_next_upstream_tries 3;",
        "            proxy_pass http://upstream_balancer;",
        "            proxy_redirect off;",
        "        }",
        "    }",
        "}",
        "",
    ].join("\n");
}

/**
 * HAProxy as its own guidance tunes it (haproxy.com "HAProxy SSL/TLS and performance tuning"): one
 * thread per core (nbthread unset), a large SSL session cache, Mozilla intermediate ciphers, HTTP
 * logging, keep-alive both sides with `http-reuse safe`, round robin with checks.
 */
export function renderHaproxyGuided(site: PeerSite): string {
    return [
        "global",
        `    log ${site.log} local0`,
        "    maxconn 4000",
        "    tune.ssl.cachesize 100000",
        "    tune.ssl.lifetime 600",
        `    ssl-default-bind-ciphers ${TLS12_CIPHERS}`,
        `    ssl-default-bind-ciphersuites ${TLS13_CIPHERSUITES}`,
        "    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    option http-keep-alive",
        "    timeout connect 5s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-keep-alive 10s",
        "frontend fe",
        `    bind ${site.listenAddress}:${site.port} ssl crt ${site.pemFile} alpn h2,http/1.1`,
        '    http-response set-header Strict-Transport-Security "max-age=63072000"',
        "    default_backend be",
        "backend be",
        "    balance roundrobin",
        "    http-reuse safe",
        ...site.backends.map((b, i) => `    server s${i} ${b} check`),
        "",
    ].join("\n");
}

/**
 * Caddy's reverse_proxy with its defaults (the admin API off, no HTTP listener, our certificate).
 * wrk sends the address it connects to as its TLS server name (SNI `127.0.0.1`), and Caddy answers a
 * server name it has no certificate for with an internal-error alert (`default_sni` only covers a
 * missing SNI, and Caddy 2.6 has no `fallback_sni`): so the site also names the listen address, which
 * makes Caddy select our certificate for that SNI too; requests still match the site by Host header.
 * `skip_install_trust`: no attempt to add Caddy's local CA to the system trust stores.
 */
export function renderCaddyfile(site: PeerSite): string {
    return [
        "{",
        "    admin off",
        "    auto_https off",
        "    skip_install_trust",
        `    default_sni ${site.host}`,
        "}",
        `https://${site.host}:${site.port}, https://${site.listenAddress}:${site.port} {`,
        `    bind ${site.listenAddress}`,
        `    tls ${site.certFile} ${site.keyFile}`,
        `    reverse_proxy ${site.backends.join(" ")}`,
        "}",
        "",
    ].join("\n");
}
