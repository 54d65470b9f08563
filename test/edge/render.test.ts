// Pure tests of the nginx.conf and haproxy.cfg renderers: exact directives for TLS, routing, health
// checks, retries and forwarding (their behaviour is proven against the real engines in live.test.ts).
import * as assert from "node:assert/strict";
import { renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeSpec } from "../../components/edge/types";
import { httpRoute } from "./routes";

const spec: EdgeSpec = {
    routes: [
        httpRoute("web", 30080, { hosts: ["www.example.com"] }),
        httpRoute("api", 30081, {
            hosts: ["www.example.com", "*.api.example.com"],
            path: "/api/v1/",
            healthPath: "/ready",
            websocket: true,
        }),
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
        const listens = (c: string) => c.split("\n").filter((l) => /^\s*(listen|http2)/.test(l));
        assert.deepEqual(listens(conf), [
            "        listen 80 reuseport default_server;",
            "        listen 443 ssl reuseport default_server;",
            "        http2 on;",
            "        listen 443 ssl;",
            "        http2 on;",
            "        listen 443 ssl;",
            "        http2 on;",
            "        listen 5432 reuseport;",
        ]);
        // nginx 1.22 (Debian 12) has no `http2` directive: the listen line says it.
        assert.deepEqual(listens(renderNginxConfig(spec, { version: "1.22" })), [
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

    it("keeps upstream connections alive below the backends' idle timeout, with health annotations", () => {
        assert.deepEqual(block(conf, "    upstream web {", "    }"), [
            "    upstream web {",
            "        zone upstream-web 64k;",
            "        server 10.0.1.10:30080 max_fails=1 fail_timeout=5s; # health http://10.0.1.10:30080/healthz www.example.com",
            "        server 10.0.2.11:30080 max_fails=1 fail_timeout=5s; # health http://10.0.2.11:30080/healthz www.example.com",
            "        keepalive 64;",
            "        keepalive_requests 10000;",
            "        keepalive_timeout 4s;",
            "    }",
        ]);
        // POST, PATCH and LOCK (never resent by nginx) take the same nodes, each on a new connection.
        assert.deepEqual(block(conf, "    upstream web.writes {", "    }"), [
            "    upstream web.writes {",
            "        zone upstream-web.writes 64k;",
            "        server 10.0.1.10:30080 max_fails=1 fail_timeout=5s; # health http://10.0.1.10:30080/healthz www.example.com",
            "        server 10.0.2.11:30080 max_fails=1 fail_timeout=5s; # health http://10.0.2.11:30080/healthz www.example.com",
            "    }",
        ]);
        assert.deepEqual(block(conf, "    map $request_method $keelson_pool {", "    }"), [
            "    map $request_method $keelson_pool {",
            "        POST .writes;",
            "        PATCH .writes;",
            "        LOCK .writes;",
            "        default '';",
            "    }",
        ]);
        assert.deepEqual(block(conf, "    upstream pg {", "    }"), [
            "    upstream pg {",
            "        zone upstream-pg 64k;",
            "        server 10.0.1.10:30432 max_fails=1 fail_timeout=5s; # health tcp://10.0.1.10:30432",
            "        server 10.0.2.11:30432 max_fails=1 fail_timeout=5s; # health tcp://10.0.2.11:30432",
            "    }",
        ]);
        assert.match(renderNginxConfig(spec, { upstreamIdleTimeout: 1 }), /^ {8}keepalive_timeout 1s;$/m);
    });

    it("bounds what a dropped SYN and a hung node cost, and resends only idempotent requests", () => {
        const proxy = (c: string) =>
            c.split("\n").filter((l) => /^    proxy_(connect|send|read|next)/.test(l));
        assert.deepEqual(proxy(conf), [
            "    proxy_connect_timeout 1s;",
            "    proxy_send_timeout 30s;",
            "    proxy_read_timeout 30s;",
            "    proxy_next_upstream error timeout http_502 http_503 http_504;",
            "    proxy_next_upstream_tries 3;",
            "    proxy_next_upstream_timeout 62s;",
            // the stream block's
            "    proxy_connect_timeout 1s;",
        ]);
        assert.deepEqual(proxy(renderNginxConfig(spec, { upstreamTimeout: 2 })).slice(1, 3), [
            "    proxy_send_timeout 2s;",
            "    proxy_read_timeout 2s;",
        ]);
        assert.doesNotMatch(conf, /non_idempotent/);
        assert.ok(conf.includes("\n    proxy_http_version 1.1;\n"));
    });

    it("buffers access logs and sends one TLS 1.3 ticket per handshake", () => {
        assert.ok(conf.includes("\n    access_log /var/log/nginx/access.log keelson buffer=64k flush=1s;\n"));
        assert.ok(conf.includes("\n    ssl_conf_command NumTickets 1;\n"));
    });

    it("matches path segments and upgrades websockets only where asked", () => {
        assert.deepEqual(block(conf, "        location = /api/v1 {", "        }"), [
            "        location = /api/v1 {",
            "            error_page 418 = @api-websocket;",
            "            if ($http_upgrade) {",
            "                return 418;",
            "            }",
            "            proxy_pass http://api$keelson_pool;",
            "        }",
        ]);
        // Only upgraded requests get the hour-long timeouts, in the named location.
        assert.deepEqual(block(conf, "        location @api-websocket {", "        }"), [
            "        location @api-websocket {",
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
        assert.ok(conf.includes("        location /api/v1/ {\n            error_page 418 = @api-websocket;"));
        const www = conf.slice(conf.indexOf("        server_name www.example.com;"));
        // Plain routes inherit the http-level headers, including the empty Connection for keep-alive.
        assert.deepEqual(block(www, "        location / {", "        }"), [
            "        location / {",
            "            proxy_pass http://web$keelson_pool;",
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

    it("starts a thread per core on haproxy 3.0, 2 on 2.6, and TLS at 1.2+ without tickets", () => {
        assert.doesNotMatch(cfg, /nbthread/);
        assert.match(renderHaproxyConfig(spec, { version: "2.6" }), /^    nbthread 2$/m);
        for (const line of [
            "    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets prefer-client-ciphers",
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
        assert.deepEqual(https.slice(-11), [
            "    acl host_0 var(txn.host) -m str www.example.com",
            "    acl host_1 var(txn.host) -m end .api.example.com",
            "    acl path_api_v1_7 path /api/v1",
            "    acl path_api_v1_7 path_beg /api/v1/",
            "    use_backend api.writes if host_0 path_api_v1_7 !idempotent",
            "    use_backend api if host_0 path_api_v1_7",
            "    use_backend web.writes if host_0 !idempotent",
            "    use_backend web if host_0",
            "    use_backend api.writes if host_1 path_api_v1_7 !idempotent",
            "    use_backend api if host_1 path_api_v1_7",
            "    default_backend keelson-no-route",
        ]);
        assert.ok(https.includes("    acl idempotent method GET HEAD OPTIONS PUT DELETE TRACE"));
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
            "    timeout connect 1s",
            "    timeout server 30s",
            "    timeout check 1s",
            "    retries 3",
            "    option redispatch 1",
            "    retry-on conn-failure empty-response response-timeout 502 503 504",
        ]) {
            assert.ok(cfg.split("\n").includes(line), line);
        }
        assert.match(renderHaproxyConfig(spec, { upstreamTimeout: 2 }), /^    timeout server 2s$/m);
    });

    it("sends non-idempotent requests on new connections, never resent, following the main checks", () => {
        assert.deepEqual(
            block(cfg, "backend api.writes", "    server general-1 10.0.2.11:30081 track api/general-1"),
            [
                "backend api.writes",
                "    balance roundrobin",
                "    http-reuse never",
                "    option http-server-close",
                "    http-request disable-l7-retry",
                "    server general-0 10.0.1.10:30081 track api/general-0",
                "    server general-1 10.0.2.11:30081 track api/general-1",
            ],
        );
    });

    describe("a backend given by DNS name (the workers' NLB: one address per zone)", () => {
        const nlb = "internal-keelson-staging-ingress-5eaa128fb8f6649b.elb.us-east-1.amazonaws.com";
        const named: EdgeSpec = { ...spec, backends: [{ name: "workers", address: nlb }] };
        const named1 = renderHaproxyConfig(named);
        const template = (port: number) =>
            `    server-template workers 6 ${nlb}:${port} check resolvers keelson init-addr last,libc,none resolve-prefer ipv4`;

        it("resolves it with the host's resolver, again every second, keeping the last answer through resolver outages", () => {
            assert.deepEqual(block(named1, "resolvers keelson", "    hold other 1h"), [
                "resolvers keelson",
                "    parse-resolv-conf",
                "    accepted_payload_size 4096",
                "    timeout resolve 1s",
                "    timeout retry 1s",
                "    hold valid 10s",
                "    hold obsolete 0s",
                "    hold nx 1h",
                "    hold refused 1h",
                "    hold timeout 1h",
                "    hold other 1h",
            ]);
            const test = renderHaproxyConfig(named, {
                nameservers: ["127.0.0.1:5353", "127.0.0.1:5354"],
                resolveInterval: "500ms",
            });
            assert.deepEqual(block(test, "resolvers keelson", "    timeout resolve 500ms"), [
                "resolvers keelson",
                "    nameserver ns1 127.0.0.1:5353",
                "    nameserver ns2 127.0.0.1:5354",
                "    accepted_payload_size 4096",
                "    timeout resolve 500ms",
            ]);
        });

        it("makes every address a checked server slot, one per zone a network can have", () => {
            assert.deepEqual(block(named1, "backend api", template(30081)).slice(-2), [
                "    http-reuse safe",
                template(30081),
            ]);
            assert.ok(named1.split("\n").includes(template(30432)), "listen pg");
            assert.ok(
                renderHaproxyConfig(named, { serverSlots: 3 }).includes(
                    `    server-template workers 3 ${nlb}:30081 check `,
                ),
            );
            assert.doesNotMatch(named1, /^ {4}server workers /m);
        });

        it("checks the .writes slots themselves: track copies state by name, not the slot's address", () => {
            assert.deepEqual(block(named1, "backend api.writes", template(30081)), [
                "backend api.writes",
                "    balance roundrobin",
                "    http-reuse never",
                "    option http-server-close",
                "    http-request disable-l7-retry",
                "    option httpchk",
                "    http-check send meth GET uri /ready ver HTTP/1.1 hdr Host www.example.com",
                "    http-check expect status 200-399",
                template(30081),
            ]);
            assert.doesNotMatch(named1, / track /);
        });

        it("leaves IP-literal backends as they were: no resolvers, plain servers, .writes tracking", () => {
            const options = { nameservers: ["127.0.0.1:5353"], serverSlots: 3, resolveInterval: "5s" };
            assert.equal(renderHaproxyConfig(spec, options), cfg);
            assert.doesNotMatch(cfg, /resolvers|server-template|init-addr/);
        });
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
