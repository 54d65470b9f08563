// The production layout (every address, ports 80 and 443, Debian's users and log targets) passes
// the engines' own checks: only the certificate, pid, log and temp paths point into a temp dir.
import * as assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeSpec } from "../../components/edge/types";
import { makeTestCert, requireTool, tempDir } from "../support/live";
import { requireEdge } from "./engines";
import { nginxTestPaths } from "./harness";
import { httpRoute } from "./routes";

const spec: EdgeSpec = {
    routes: [
        httpRoute("web", 30080, { hosts: ["www.example.com"] }),
        httpRoute("api", 30081, { hosts: ["www.example.com"], path: "/api", healthPath: "/ready" }),
        { kind: "tcp", name: "pg", listenPort: 5432, nodePort: 30432 },
    ],
    backends: [
        { name: "general-0", address: "10.0.64.10" },
        { name: "general-1", address: "10.0.96.11" },
    ],
    certificates: [{ name: "www", hosts: ["www.example.com"] }],
    acme: true,
};

describe("edge live: production layout", function () {
    let tmp: { dir: string; cleanup: () => void };

    before(function () {
        requireTool(this, "openssl");
        tmp = tempDir("edge-prod");
        makeTestCert(tmp.dir, "www", ["www.example.com"]);
    });

    after(() => tmp?.cleanup());

    it("haproxy -c accepts the default binds (:80, :443, :5432), user and log target", function () {
        const bin = requireEdge(this, "haproxy");
        const config = renderHaproxyConfig(spec, {
            version: bin.renderVersion as HaproxyVersion,
            certDir: tmp.dir,
            statsSocket: path.join(tmp.dir, "admin.sock"),
            maxconn: 1000,
        });
        assert.match(config, /^    bind :443 ssl /m);
        const file = path.join(tmp.dir, "haproxy.cfg");
        fs.writeFileSync(file, config);
        const c = bin.command(["-c", "-V", "-f", file], [tmp.dir]);
        const r = spawnSync(c.cmd, c.args, { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /Configuration file is valid/);
    });

    it("haproxy -c accepts the workers' NLB by DNS name: resolvers from resolv.conf, server-template, .writes checks", function () {
        const bin = requireEdge(this, "haproxy");
        const nlb = "internal-keelson-prod-ingress-0123456789abcdef.elb.us-east-1.amazonaws.com";
        const config = renderHaproxyConfig(
            { ...spec, backends: [{ name: "workers", address: nlb }] },
            {
                version: bin.renderVersion as HaproxyVersion,
                certDir: tmp.dir,
                statsSocket: path.join(tmp.dir, "admin.sock"),
                maxconn: 1000,
            },
        );
        assert.match(config, /^    parse-resolv-conf$/m);
        assert.match(
            config,
            /^    server-template workers 6 internal-keelson-prod-ingress-\S+:30081 check resolvers keelson /m,
        );
        const file = path.join(tmp.dir, "haproxy-dns.cfg");
        fs.writeFileSync(file, config);
        const c = bin.command(["-c", "-V", "-f", file], [tmp.dir]);
        const r = spawnSync(c.cmd, c.args, { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /Configuration file is valid/);
        // No warning: the name does not resolve here, and init-addr's `none` starts the slots down.
        assert.doesNotMatch(r.stdout + r.stderr, /WARNING|ALERT/);
    });

    it("nginx -t accepts the default listens (80, 443, 5432) and Debian's paths", function () {
        const bin = requireEdge(this, "nginx");
        const config = renderNginxConfig(spec, {
            version: bin.renderVersion as NginxVersion,
            certDir: tmp.dir,
            ...nginxTestPaths(tmp.dir),
        });
        assert.match(config, /^        listen 443 ssl( http2)? reuseport default_server;$/m);
        const file = path.join(tmp.dir, "nginx.conf");
        fs.writeFileSync(file, config);
        const c = bin.command(["-t", "-p", tmp.dir, "-c", file], [tmp.dir]);
        const r = spawnSync(c.cmd, c.args, { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /test is successful/);
    });
});
