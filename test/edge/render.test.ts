// Pure tests of the nginx.conf and haproxy.cfg renderers: exact directives for TLS, routing, health
// checks, retries and forwarding (their behaviour is proven against the real engines in live.test.ts).
import * as assert from "node:assert/strict";
import { renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeSpec } from "../../components/edge/types";

const spec: EdgeSpec = {
    routes: [
        {
            kind: "http",
            name: "web",
            hosts: ["www.example.com"],
            path: "/",
            nodePort: 30080,
            healthPath: "/healthz",
        },
        {
            kind: "http",
            name: "api",
            hosts: ["www.example.com", "*.api.example.com"],
            path: "/api/v1/",
            nodePort: 30081,
            healthPath: "/ready",
            websocket: true,
        },
        { kind: "tcp", name: "pg", listenPort: 5432, nodePort: 30432 },
    ],
    backends: [
        { name: "general-0", address: "10.0.1.10" },
        { name: "general-1", address: "10.0.2.11" },
    ],
    certificates: [
        { name: "www", hosts: ["www.example.com"] },
        { name: "api", hosts: ["*.api.example.com"] },
    ],
};

/** The lines of `text` from the line equal to `first` through the next line equal to `last`. */
function block(text: string, first: string, last: string): string[] {
    const lines = text.split("\n");
    const start = lines.indexOf(first);
    assert.ok(start >= 0, `no line ${JSON.stringify(first)}`);
    const end = lines.indexOf(last, start);
    return lines.slice(start, end + 1);
}

describe("edge/render/nginx", () => {
    const conf = renderNginxConfig(spec);

    it("uses Debian 12's production paths by default and loads the stream module only for stream routes", () => {
        assert.deepEqual(conf.split("\n").slice(1, 7), [
            "user www-data;",
            "worker_processes auto;",
            "worker_rlimit_nofile 65535;",
            "pid /run/nginx.pid;",
            "error_log /var/log/nginx/error.log warn;",
            "load_module /usr/lib/nginx/modules/ngx_stream_module.so;",
        ]);
        const httpOnly = renderNginxConfig({ ...spec, routes: spec.routes.filter((r) => r.kind === "http") });
        assert.doesNotMatch(httpOnly, /load_module|stream \{/);
    });

    it("allows TLS 1.2 and 1.3 only, with a shared session cache and OCSP stapling", () => {
        for (const line of [
            "    ssl_protocols TLSv1.2 TLSv1.3;",
            "    ssl_session_cache shared:SSL:10m;",
            "    ssl_session_tickets off;",
            "    ssl_stapling on;",
            "    ssl_stapling_verify on;",
            "    resolver 169.254.169.253 valid=300s ipv6=off;",
        ]) {
            assert.ok(conf.split("\n").includes(line), line);
        }
        assert.doesNotMatch(renderNginxConfig(spec, { ocspStapling: false }), /ssl_stapling/);
    });

    it("listens with http2 and reuseport once per port, one server per SNI host with its certificate", () => {
        const listens = conf.split("\n").filter((l) => l.trim().startsWith("listen"));
        assert.deepEqual(listens, [
            "        listen 80 reuseport default_server;",
            "        listen 443 ssl http2 reuseport default_server;",
            "        listen 443 ssl http2;",
            "        listen 443 ssl http2;",
            "        listen 5432 reuseport;",
        ]);
        assert.deepEqual(block(conf, "        server_name *.api.example.com;", "        }").slice(0, 3), [
            "        server_name *.api.example.com;",
            "        ssl_certificate /etc/keelson/tls/api.crt;",
            "        ssl_certificate_key /etc/keelson/tls/api.key;",
        ]);
        assert.ok(conf.includes("        return 301 https://$host$request_uri;\n"));
        assert.ok(
            renderNginxConfig(spec, { httpsPort: 8443 }).includes(
                "return 301 https://$host:8443$request_uri;",
            ),
        );
    });

    it("keeps upstream connections alive and checks backends passively", () => {
        assert.deepEqual(block(conf, "    upstream web {", "    }"), [
            "    upstream web {",
            "        server 10.0.1.10:30080 max_fails=2 fail_timeout=10s;",
            "        server 10.0.2.11:30080 max_fails=2 fail_timeout=10s;",
            "        keepalive 64;",
            "        keepalive_requests 10000;",
            "        keepalive_timeout 60s;",
            "    }",
        ]);
        for (const line of [
            "    proxy_http_version 1.1;",
            "    proxy_next_upstream error timeout http_502 http_503 http_504;",
            "    proxy_next_upstream_tries 3;",
        ]) {
            assert.ok(conf.split("\n").includes(line), line);
        }
    });

    it("matches path segments and upgrades websockets only where asked", () => {
        const api = block(conf, "        location = /api/v1 {", "        }");
        assert.deepEqual(api, [
            "        location = /api/v1 {",
            "            proxy_pass http://api;",
            "            proxy_set_header Host $host;",
            "            proxy_set_header X-Real-IP $remote_addr;",
            "            # The edge is the first proxy: a client-sent X-Forwarded-For is replaced, never extended.",
            "            proxy_set_header X-Forwarded-For $remote_addr;",
            "            proxy_set_header X-Forwarded-Proto $scheme;",
            "            proxy_set_header X-Forwarded-Host $host;",
            "            proxy_set_header X-Forwarded-Port $server_port;",
            "            proxy_set_header Upgrade $http_upgrade;",
            "            proxy_set_header Connection $connection_upgrade;",
            "            proxy_read_timeout 3600s;",
            "            proxy_send_timeout 3600s;",
            "        }",
        ]);
        assert.ok(conf.includes("        location /api/v1/ {\n            proxy_pass http://api;"));
        const www = conf.slice(conf.indexOf("        server_name www.example.com;"));
        // Plain routes inherit the http-level headers, including the empty Connection for keep-alive.
        assert.deepEqual(block(www, "        location / {", "        }"), [
            "        location / {",
            "            proxy_pass http://web;",
            "        }",
        ]);
        for (const line of [
            "    proxy_set_header X-Forwarded-For $remote_addr;",
            "    proxy_set_header X-Forwarded-Proto $scheme;",
            '    proxy_set_header Connection "";',
        ]) {
            assert.ok(conf.split("\n").includes(line), line);
        }
    });

    it("answers ACME challenges from the webroot only when asked", () => {
        assert.doesNotMatch(conf, /acme-challenge/);
        const acme = renderNginxConfig({ ...spec, acme: true });
        assert.ok(
            acme.includes(
                "        location /.well-known/acme-challenge/ {\n            root /var/lib/keelson/acme;\n        }",
            ),
        );
    });

    it("refuses HTTP routes without a certificate", () => {
        assert.throws(
            () => renderNginxConfig({ ...spec, certificates: [] }),
            /edge spec has HTTP routes but no certificate; pass at least one certificate/,
        );
    });
});

describe("edge/render/haproxy", () => {
    const cfg = renderHaproxyConfig(spec);

    it("keeps nbthread small and TLS at 1.2+ without tickets", () => {
        for (const line of [
            "    nbthread 2",
            "    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets",
            "    tune.ssl.cachesize 100000",
            "    log /dev/log local0",
            "    user haproxy",
            "    stats socket /run/haproxy/admin.sock mode 660 level admin",
        ]) {
            assert.ok(cfg.split("\n").includes(line), line);
        }
    });

    it("serves every certificate on one bind with h2 and routes the longest path first", () => {
        const https = block(cfg, "frontend https-in", "    default_backend keelson-no-route");
        assert.equal(
            https[1],
            "    bind :443 ssl crt /etc/keelson/tls/www.pem crt /etc/keelson/tls/api.pem alpn h2,http/1.1 curves X25519:P-256:P-384",
        );
        assert.deepEqual(https.slice(-8), [
            "    acl host_0 var(txn.host) -m str www.example.com",
            "    acl host_1 var(txn.host) -m end .api.example.com",
            "    acl path_api_v1_7 path /api/v1",
            "    acl path_api_v1_7 path_beg /api/v1/",
            "    use_backend api if host_0 path_api_v1_7",
            "    use_backend web if host_0",
            "    use_backend api if host_1 path_api_v1_7",
            "    default_backend keelson-no-route",
        ]);
    });

    it("checks each pool actively on its health path and retries idempotent requests elsewhere", () => {
        assert.deepEqual(block(cfg, "backend api", "    server general-1 10.0.2.11:30081 check"), [
            "backend api",
            "    balance roundrobin",
            "    option httpchk",
            "    http-check send meth GET uri /ready ver HTTP/1.1 hdr Host www.example.com",
            "    http-check expect status 200-399",
            "    acl idempotent method GET HEAD OPTIONS PUT DELETE TRACE",
            "    http-request disable-l7-retry unless idempotent",
            "    http-reuse safe",
            "    server general-0 10.0.1.10:30081 check",
            "    server general-1 10.0.2.11:30081 check",
        ]);
        for (const line of [
            "    retries 3",
            "    option redispatch 1",
            "    retry-on conn-failure empty-response response-timeout 502 503 504",
        ]) {
            assert.ok(cfg.split("\n").includes(line), line);
        }
    });

    it("forwards TCP routes in their own listen section and refuses UDP", () => {
        assert.deepEqual(block(cfg, "listen pg", "    server general-1 10.0.2.11:30432 check"), [
            "listen pg",
            "    mode tcp",
            "    bind :5432",
            "    option tcplog",
            "    balance leastconn",
            "    timeout client 10m",
            "    timeout server 10m",
            "    server general-0 10.0.1.10:30432 check",
            "    server general-1 10.0.2.11:30432 check",
        ]);
        const udp: EdgeSpec = {
            ...spec,
            routes: [{ kind: "udp", name: "dns", listenPort: 53, nodePort: 30053 }],
        };
        assert.throws(() => renderHaproxyConfig(udp), /route dns is udp, which haproxy 2.6 cannot proxy/);
    });

    it("redirects to HTTPS except ACME challenges, which go to certbot", () => {
        assert.ok(
            cfg.includes(
                "    http-request redirect location https://%[req.hdr(host),field(1,:)]%[capture.req.uri] code 301\n",
            ),
        );
        const acme = renderHaproxyConfig({ ...spec, acme: true });
        assert.deepEqual(block(acme, "frontend http-in", "    use_backend keelson-acme if acme"), [
            "frontend http-in",
            "    bind :80",
            "    option httplog",
            "    acl acme path_beg /.well-known/acme-challenge/",
            "    http-request redirect location https://%[req.hdr(host),field(1,:)]%[capture.req.uri] code 301 unless acme",
            "    use_backend keelson-acme if acme",
        ]);
        assert.ok(acme.includes("backend keelson-acme\n    server certbot 127.0.0.1:8402\n"));
    });
});
