// The API HAProxy config: exact text, `haproxy -c`, and a live failover test on loopback.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { renderApiHaproxyConfig, renderApiLbSetupScript } from "../../components/cluster/render/haproxy-api";
import {
    freePort,
    makeTestCert,
    requireTool,
    startProcess,
    Started,
    tempDir,
    waitForPort,
} from "../support/live";

const masters = [
    { name: "master-0", address: "10.0.0.10" },
    { name: "master-1", address: "10.0.32.10" },
    { name: "master-2", address: "10.0.64.10" },
];

// A tiny API server stand-in: TLS, /readyz answers 200 "ok", every other path answers its name.
const FAKE_API = `
const https = require("https"); const fs = require("fs");
const [port, cert, key, name] = process.argv.slice(1);
https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
    res.writeHead(200, { "content-type": "text/plain", connection: "close" });
    res.end(req.url === "/readyz" ? "ok" : name);
}).listen(Number(port), "127.0.0.1");
`;

function get(port: number, ca: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
        const req = https.get(
            { host: "127.0.0.1", port, path: "/version", ca, agent: false, timeout: 5000 },
            (res) => {
                let body = "";
                res.on("data", (d) => (body += d));
                res.on("end", () =>
                    res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`)),
                );
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
    });
}

describe("cluster/render/haproxy-api", function () {
    it("renders TCP passthrough with TLS /readyz checks over every master", () => {
        assert.equal(
            renderApiHaproxyConfig({ backends: masters }),
            [
                "# Kubernetes API load balancer, rendered by components/cluster/render/haproxy-api.ts",
                "global",
                "    maxconn 4096",
                "    nbthread 2",
                "    log /dev/log local0",
                "    user haproxy",
                "    group haproxy",
                "    stats socket /run/haproxy/admin.sock mode 660 level admin",
                "",
                "defaults",
                "    mode tcp",
                "    log global",
                "    option tcplog",
                "    option dontlognull",
                "    retries 3",
                "    option redispatch",
                "    timeout connect 5s",
                "    timeout client 30s",
                "    timeout server 30s",
                "    timeout tunnel 1h",
                "    timeout check 5s",
                "",
                "frontend kube-apiserver",
                "    bind *:6443",
                "    default_backend kube-apiserver",
                "",
                "backend kube-apiserver",
                "    balance leastconn",
                "    option httpchk GET /readyz",
                "    http-check expect status 200",
                "    default-server check check-ssl verify none inter 2000ms fall 3 rise 2",
                "    server master-0 10.0.0.10:6443",
                "    server master-1 10.0.32.10:6443",
                "    server master-2 10.0.64.10:6443",
                "",
            ].join("\n"),
        );
        assert.throws(() => renderApiHaproxyConfig({ backends: [] }), {
            message: "renderApiHaproxyConfig: at least one API backend is required",
        });
        assert.match(renderApiLbSetupScript("eu-west-1"), /^readonly REGION=eu-west-1$/m);
        assert.throws(() => renderApiLbSetupScript("eu-west-1; reboot"), /bad region/);
    });

    it("passes haproxy -c", function () {
        const haproxy = requireTool(this, "haproxy");
        const t = tempDir("haproxy-api-check");
        try {
            const cfg = path.join(t.dir, "haproxy.cfg");
            fs.writeFileSync(cfg, renderApiHaproxyConfig({ backends: masters }));
            const r = spawnSync(haproxy, ["-c", "-f", cfg], { encoding: "utf8" });
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.match(r.stdout + r.stderr, /Configuration file is valid/);
        } finally {
            t.cleanup();
        }
    });

    it("keeps answering through haproxy when one of three API servers dies", async function () {
        this.timeout(30000);
        const haproxy = requireTool(this, "haproxy");
        requireTool(this, "openssl");
        const t = tempDir("haproxy-api-live");
        const started: Started[] = [];
        try {
            const cert = makeTestCert(t.dir, "api", ["127.0.0.1"]);
            const ca = fs.readFileSync(cert.caFile);
            const ports = [await freePort(), await freePort(), await freePort()];
            ports.forEach((port, i) =>
                started.push(
                    startProcess(process.execPath, [
                        "-e",
                        FAKE_API,
                        String(port),
                        cert.certFile,
                        cert.keyFile,
                        `master-${i}`,
                    ]),
                ),
            );
            for (const port of ports) await waitForPort(port);
            const front = await freePort();
            const cfg = path.join(t.dir, "haproxy.cfg");
            fs.writeFileSync(
                cfg,
                renderApiHaproxyConfig({
                    backends: ports.map((port, i) => ({ name: `master-${i}`, address: "127.0.0.1", port })),
                    bindAddress: "127.0.0.1",
                    port: front,
                    checkIntervalMs: 200,
                    fall: 2,
                    rise: 1,
                    system: false,
                }),
            );
            const lb = startProcess(haproxy, ["-db", "-f", cfg]);
            started.push(lb);
            await waitForPort(front);

            // All three serve before the failure.
            const seen = new Set<string>();
            for (let i = 0; i < 30 && seen.size < 3; i++) seen.add(await get(front, ca));
            assert.deepEqual([...seen].sort(), ["master-0", "master-1", "master-2"]);

            await started[1].stop();
            const answers: string[] = [];
            const failures: string[] = [];
            const deadline = Date.now() + 3000;
            while (Date.now() < deadline && answers.length + failures.length < 60) {
                try {
                    answers.push(await get(front, ca));
                } catch (e) {
                    failures.push((e as Error).message);
                }
            }
            assert.deepEqual(failures, [], `haproxy output:\n${lb.output()}`);
            assert.ok(answers.length >= 20, `only ${answers.length} requests in 3 s`);
            assert.deepEqual([...new Set(answers)].sort(), ["master-0", "master-2"]);
        } finally {
            for (const s of started.reverse()) await s.stop();
            t.cleanup();
        }
    });
});
