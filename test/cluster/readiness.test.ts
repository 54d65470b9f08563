// The readiness gate's provider against a real TLS server on loopback, and the kubeconfig renderer.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "tls";
import * as YAML from "yaml";
import { renderKubeconfig } from "../../components/cluster/kubeconfig";
import { ClusterReady, readinessProviderForTests as provider } from "../../components/cluster/readiness";
import { PROVIDER_CODE_MARKER } from "../../tools/plan/provider-code";
import { runUnderMocks } from "../../tools/plan/runtime";
import { freePort, makeTestCert, requireTool, tempDir, TestCert } from "../support/live";

// A fake API: /readyz answers `readyz`; kube-system answers 200 only to a client certificate.
// /api/v1/nodes and the etcd pods answer from `cluster` (a list the test changes between polls).
function fakeApi(
    cert: TestCert,
    port: number,
    readyz: number,
    kubeSystemWithCert: number,
    cluster: { nodes: unknown[]; etcd: unknown[]; polls: number } = { nodes: [], etcd: [], polls: 0 },
): Promise<https.Server> {
    const server = https.createServer(
        {
            cert: fs.readFileSync(cert.certFile),
            key: fs.readFileSync(cert.keyFile),
            requestCert: true,
            rejectUnauthorized: false,
        },
        (req, res) => {
            const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
            const hasCert = peer && Object.keys(peer).length > 0;
            if (req.url === "/api/v1/nodes" && hasCert) {
                cluster.polls++;
                res.writeHead(200).end(JSON.stringify({ items: cluster.nodes }));
                return;
            }
            if (req.url === "/api/v1/namespaces/kube-system/pods?labelSelector=component%3Detcd" && hasCert) {
                res.writeHead(200).end(JSON.stringify({ items: cluster.etcd }));
                return;
            }
            const status =
                req.url === "/readyz"
                    ? readyz
                    : req.url === "/api/v1/namespaces/kube-system"
                      ? hasCert
                          ? kubeSystemWithCert
                          : 401
                      : 404;
            res.writeHead(status).end();
        },
    );
    return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

const close = (s: https.Server) => new Promise<void>((r) => s.close(() => r()));

describe("cluster/readiness (live TLS on loopback)", function () {
    this.timeout(30000);
    let t: ReturnType<typeof tempDir>;
    let cert: TestCert;
    let inputs: (port: number, attempts: number) => Record<string, unknown>;

    before(function () {
        requireTool(this, "openssl");
        t = tempDir("readiness");
        cert = makeTestCert(t.dir, "api", ["127.0.0.1"]);
        inputs = (port, attempts) => ({
            url: `https://127.0.0.1:${port}`,
            caCertPem: fs.readFileSync(cert.caFile, "utf8"),
            clientCertPem: fs.readFileSync(cert.certFile, "utf8"),
            clientKeyPem: fs.readFileSync(cert.keyFile, "utf8"),
            attempts,
            intervalMs: 100,
        });
    });
    after(() => t?.cleanup());

    it("succeeds once /readyz and the admin's kube-system read answer 200", async () => {
        const port = await freePort();
        const server = await fakeApi(cert, port, 200, 200);
        try {
            const result = await provider.create(inputs(port, 3));
            assert.deepEqual(result, {
                id: `https://127.0.0.1:${port}`,
                outs: { url: `https://127.0.0.1:${port}`, caCertPem: inputs(port, 3).caCertPem, attempts: 1 },
            });
        } finally {
            await close(server);
        }
    });

    it("keeps polling while nothing listens, then succeeds", async () => {
        const port = await freePort();
        let server: https.Server | undefined;
        const late = new Promise<void>((r) =>
            setTimeout(async () => {
                server = await fakeApi(cert, port, 200, 200);
                r();
            }, 450),
        );
        try {
            const result = await provider.create(inputs(port, 30));
            const attempts = (result.outs as { attempts: number }).attempts;
            assert.ok(attempts >= 3 && attempts <= 10, `took ${attempts} attempts`);
        } finally {
            await late;
            if (server) await close(server);
        }
    });

    it("gives up after the bounded attempts with the last status in the message", async () => {
        const port = await freePort();
        const server = await fakeApi(cert, port, 200, 403);
        try {
            await assert.rejects(provider.create(inputs(port, 3)), {
                message:
                    `the Kubernetes API at https://127.0.0.1:${port} was not ready after 3 attempts ` +
                    "(last: /readyz 200, kube-system 403); see each node's state in SSM " +
                    "(<prefix>/state/nodes/<name>) and `journalctl -u keelson-bootstrap` over Session Manager",
            });
        } finally {
            await close(server);
        }
    });

    it("waits until every master slot runs its etcd member and every pool has its nodes", async () => {
        const node = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels } });
        const etcd = (nodeName: string, phase = "Running") => ({ spec: { nodeName }, status: { phase } });
        const cluster = {
            polls: 0,
            nodes: [
                node("ip-a", { "keelson.io/slot": "master-0" }),
                node("ip-w1", { "keelson.io/pool": "general" }),
            ],
            etcd: [etcd("ip-a")],
        };
        const port = await freePort();
        const server = await fakeApi(cert, port, 200, 200, cluster);
        const expect = {
            expectedMasters: ["master-0", "master-1", "master-2"],
            expectedPools: { general: 2 },
        };
        try {
            await assert.rejects(provider.create({ ...inputs(port, 2), ...expect }), {
                message:
                    `the Kubernetes API at https://127.0.0.1:${port} was not ready after 2 attempts (last: the API ` +
                    "answers but master-1 has not registered; master-2 has not registered; pool general: 1 of 2 " +
                    "nodes registered); see each node's state in SSM (<prefix>/state/nodes/<name>) and " +
                    "`journalctl -u keelson-bootstrap` over Session Manager",
            });
            // The other masters register, but master-2's etcd member is still starting: not ready.
            cluster.nodes.push(
                node("ip-b", { "keelson.io/slot": "master-1" }),
                node("ip-c", { "keelson.io/slot": "master-2" }),
                node("ip-w2", { "keelson.io/pool": "general" }),
            );
            cluster.etcd.push(etcd("ip-b"), etcd("ip-c", "Pending"));
            await assert.rejects(
                provider.create({ ...inputs(port, 1), ...expect }),
                /but master-2 \(ip-c\) runs no etcd member\)/,
            );
            cluster.etcd[2] = etcd("ip-c");
            cluster.polls = 0;
            const result = await provider.create({ ...inputs(port, 3), ...expect });
            assert.equal(result.outs.attempts, 1);
            assert.equal(cluster.polls, 1);
        } finally {
            await close(server);
        }
    });

    it("refuses a server that the generated CA did not sign", async () => {
        const port = await freePort();
        const other = makeTestCert(t.dir, "other", ["127.0.0.1"]);
        const server = await fakeApi(other, port, 200, 200);
        try {
            await assert.rejects(
                provider.create(inputs(port, 2)),
                /was not ready after 2 attempts \(last: .*certificate/,
            );
        } finally {
            await close(server);
        }
    });

    it("runs as the engine's dynamic-provider host runs it: serialized, then loaded alone", async () => {
        const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
        const { dir, cleanup } = tempDir("readiness-provider");
        try {
            fs.writeFileSync(path.join(dir, "provider.js"), sf.text);
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const loaded = require(path.join(dir, "provider.js"))[sf.exportName]() as typeof provider;
            const a = inputs(1, 3);
            assert.deepEqual(await loaded.diff!("x", a, { ...a, url: "https://elsewhere:6443" }), {
                changes: true,
                replaces: ["url"],
                deleteBeforeReplace: false,
            });
            const port = await freePort(); // nothing listens: the loaded provider's own poll must fail
            await assert.rejects(
                loaded.create({ ...inputs(port, 1), intervalMs: 1 }),
                /was not ready after 1 attempts/,
            );
        } finally {
            cleanup();
        }
    });

    it("replaces on a new endpoint or CA, not on a renewed client certificate", async () => {
        const a = inputs(1, 3);
        assert.deepEqual(await provider.diff!("x", a, { ...a, clientCertPem: "renewed" }), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
        });
        assert.deepEqual(await provider.diff!("x", a, { ...a, url: "https://elsewhere:6443" }), {
            changes: true,
            replaces: ["url"],
            deleteBeforeReplace: false,
        });
    });
});

describe("cluster/readiness under mocks", function () {
    this.timeout(60000);
    for (const preview of [true, false]) {
        it(`registers without polling, client key secret (${preview ? "preview" : "update"})`, async () => {
            const port = await freePort(); // nothing listens: a poll would fail the run
            const started = Date.now();
            const run = await runUnderMocks({ preview }, () => {
                const gate = new ClusterReady("gate", {
                    url: `https://127.0.0.1:${port}`,
                    caCertPem: "CA",
                    clientCertPem: "CERT",
                    clientKeyPem: "KEY",
                    attempts: 1,
                    intervalMs: 1,
                });
                return { url: gate.urn };
            });
            assert.ok(Date.now() - started < 30000);
            const [gate] = run.resources;
            assert.equal(gate.type, "pulumi-nodejs:dynamic/keelson:ClusterReady");
            assert.equal(gate.inputs.clientKeyPem, "[secret]");
            assert.equal(gate.inputs.url, `https://127.0.0.1:${port}`);
            // The plan does not serialize provider code it never shows (tools/plan/provider-code.ts).
            assert.equal(gate.rawInputs.__provider, PROVIDER_CODE_MARKER);
        });
    }
});

describe("cluster/kubeconfig", () => {
    it("embeds the CA, certificate and key as base64 with one context", () => {
        const kc = YAML.parse(
            renderKubeconfig({
                clusterName: "keelson-dev",
                server: "https://203.0.113.7:6443",
                caCertPem: "CA",
                clientCertPem: "CERT",
                clientKeyPem: "KEY",
            }),
        );
        assert.deepEqual(kc, {
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                {
                    name: "keelson-dev",
                    cluster: { server: "https://203.0.113.7:6443", "certificate-authority-data": "Q0E=" },
                },
            ],
            users: [
                {
                    name: "keelson-admin",
                    user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" },
                },
            ],
            contexts: [
                {
                    name: "keelson-admin@keelson-dev",
                    context: { cluster: "keelson-dev", user: "keelson-admin" },
                },
            ],
            "current-context": "keelson-admin@keelson-dev",
            preferences: {},
        });
    });
});
