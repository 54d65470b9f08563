// Bench-only nginx configs: the static backend (the limit) and the naive TLS proxy (the baseline).
// Keelson's own configs come from components/edge/render, exactly as production renders them.

/** Paths of one nginx instance inside the bench's temp dir. */
export interface NginxPaths {
    readonly pidFile: string;
    readonly errorLog: string;
    readonly tempDir: string;
}

function preamble(p: NginxPaths, workers: number | "auto"): string[] {
    return [
        "user root;",
        `worker_processes ${workers};`,
        `pid ${p.pidFile};`,
        `error_log ${p.errorLog} warn;`,
        "events { worker_connections 8192; }",
    ];
}

function temps(p: NginxPaths): string[] {
    return ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
        (t) => `    ${t}_temp_path ${p.tempDir}/${t};`,
    );
}

/**
 * A static backend: one nginx worker answering a fixed 2-byte body on each address, with keep-alive
 * for as long as the client wants. One worker, so that the proxies under test keep a core.
 */
export function renderStaticBackend(p: NginxPaths, addresses: readonly string[], port: number): string {
    return [
        ...preamble(p, 1),
        "http {",
        ...temps(p),
        "    access_log off;",
        "    default_type text/plain;",
        "    keepalive_requests 1000000;",
        "    server {",
        ...addresses.map((a) => `        listen ${a}:${port};`),
        '        location / { return 200 "ok"; }',
        "    }",
        "}",
        "",
    ].join("\n");
}

/**
 * The naive baseline: the TLS proxy most tutorials show. No upstream keep-alive (a new backend
 * connection per request, HTTP/1.0), no session cache, default timeouts, one backend.
 */
export function renderNaiveProxy(
    p: NginxPaths,
    o: { port: number; certFile: string; keyFile: string; backend: string; accessLog: string },
): string {
    return [
        ...preamble(p, "auto"),
        "http {",
        ...temps(p),
        `    access_log ${o.accessLog};`,
        "    server {",
        `        listen 127.0.0.1:${o.port} ssl;`,
        `        ssl_certificate ${o.certFile};`,
        `        ssl_certificate_key ${o.keyFile};`,
        "        ssl_protocols TLSv1.2 TLSv1.3;",
        "        location / {",
        `            proxy_pass http://${o.backend};`,
        "            proxy_set_header Host $host;",
        "            proxy_set_header X-Forwarded-For $remote_addr;",
        "        }",
        "    }",
        "}",
        "",
    ].join("\n");
}
