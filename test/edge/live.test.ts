// Live tests: Keelson's own nginx.conf and haproxy.cfg renderers, run by the real nginx 1.22 and
// haproxy 2.6 on loopback, in front of real backend processes, with certificates made by openssl.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http2 from "http2";
import * as https from "https";
import * as path from "path";
import WebSocket from "ws";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeEngine, EdgeSpec } from "../../components/edge/types";
import { validateCertificates, validateRoutes } from "../../components/edge/validate";
import { Started, freePort, makeTestCert, requireTool, tempDir } from "../support/live";
import {
    Reply,
    call,
    handshake,
    loadLoop,
    readIfExists,
    launchEdge,
    startBackend,
    tcpExchange,
    udpExchange,
} from "./harness";
import { INTERMEDIATE, parseSslscan, runSslscan } from "./sslscan";
import { EdgeBinary, requireEdge } from "./engines";
import { httpRoute } from "./routes";

const BACKENDS = [
    { name: "b1", address: "127.0.0.2" },
    { name: "b2", address: "127.0.0.3" },
    { name: "b3", address: "127.0.0.4" },
];

function describeEngine(engine: EdgeEngine): void {
    describe(`edge live: ${engine}`, function () {
        this.timeout(60000);
        let bin: EdgeBinary;
        let tmp: { dir: string; cleanup: () => void };
        let ca: string[];
        let ports: Record<
            "http" | "https" | "tcpListen" | "udpListen" | "web" | "api" | "blog" | "tcp" | "udp",
            number
        >;
        let configFile: string;
        let edge: Started | undefined;
        const backends = new Map<string, Started>();
        const a = (p: string, extra: Partial<Parameters<typeof call>[0]> = {}) =>
            call({ port: ports.https, host: "a.example.com", path: p, tls: true, ca, ...extra });

        before(async function () {
            bin = requireEdge(this, engine);
            requireTool(this, "openssl");
            tmp = tempDir(`edge-${engine}`);
            const certA = makeTestCert(tmp.dir, "a", ["a.example.com"]);
            const certB = makeTestCert(tmp.dir, "b", ["b.example.com"], true);
            ca = [fs.readFileSync(certA.caFile, "utf8"), fs.readFileSync(certB.caFile, "utf8")];
            ports = {
                http: await freePort(),
                https: await freePort(),
                tcpListen: await freePort(),
                udpListen: await freePort(),
                web: await freePort(),
                api: await freePort(),
                blog: await freePort(),
                tcp: await freePort(),
                udp: await freePort(),
            };
            const spec: EdgeSpec = {
                routes: [
                    httpRoute("web", ports.web),
                    httpRoute("api", ports.api, {
                        hosts: ["a.example.com", "b.example.com"],
                        path: "/api",
                        websocket: true,
                    }),
                    httpRoute("blog", ports.blog, { hosts: ["b.example.com"] }),
                    { kind: "tcp", name: "echo", listenPort: ports.tcpListen, nodePort: ports.tcp },
                    ...(engine === "nginx"
                        ? [
                              {
                                  kind: "udp" as const,
                                  name: "dns",
                                  listenPort: ports.udpListen,
                                  nodePort: ports.udp,
                              },
                          ]
                        : []),
                ],
                backends: BACKENDS,
                certificates: [
                    { name: "a", hosts: ["a.example.com"] },
                    { name: "b", hosts: ["b.example.com"] },
                ],
            };
            assert.deepEqual(
                [
                    ...validateRoutes(spec.routes, engine),
                    ...validateCertificates(spec.routes, spec.certificates),
                ],
                [],
            );
            for (const [i, b] of BACKENDS.entries()) {
                const blog = `blog=${ports.blog}${i === 2 ? ",sick" : ""}`;
                const specs = [
                    `web=${ports.web}`,
                    `api=${ports.api}`,
                    blog,
                    `tcp=${ports.tcp}`,
                    `udp=${ports.udp}`,
                ];
                backends.set(b.name, await startBackend(b.name, b.address, specs));
            }
            const common = {
                listenAddress: "127.0.0.1",
                httpPort: ports.http,
                httpsPort: ports.https,
                certDir: tmp.dir,
            };
            if (engine === "nginx") {
                fs.mkdirSync(path.join(tmp.dir, "temp"));
                configFile = path.join(tmp.dir, "nginx.conf");
                const config = renderNginxConfig(spec, {
                    ...common,
                    user: "root",
                    pidFile: path.join(tmp.dir, "nginx.pid"),
                    errorLog: path.join(tmp.dir, "error.log"),
                    accessLog: path.join(tmp.dir, "access.log"),
                    tempDir: path.join(tmp.dir, "temp"),
                    // Test certificates name no OCSP responder; production certificates do.
                    ocspStapling: false,
                    version: bin.renderVersion as NginxVersion,
                });
                fs.writeFileSync(configFile, config);
                const args = ["-p", tmp.dir, "-c", configFile, "-g", "daemon off;"];
                edge = await launchEdge(bin, args, [tmp.dir], ports.https);
            } else {
                configFile = path.join(tmp.dir, "haproxy.cfg");
                const config = renderHaproxyConfig(spec, {
                    ...common,
                    user: "",
                    log: "stdout format raw local0",
                    statsSocket: path.join(tmp.dir, "admin.sock"),
                    checkInterval: "300ms",
                    // The sandbox's hard file limit is 20000; production hosts have far more.
                    maxconn: 4000,
                    version: bin.renderVersion as HaproxyVersion,
                });
                fs.writeFileSync(configFile, config);
                edge = await launchEdge(bin, ["-db", "-f", configFile], [tmp.dir], ports.https);
            }
        });

        after(async function () {
            await edge?.stop();
            for (const b of backends.values()) await b.stop();
            if (this.currentTest?.state === "failed" && edge) console.log(edge.output().slice(-3000));
            tmp?.cleanup();
        });

        it("renders a configuration the engine accepts", function () {
            const args =
                engine === "nginx" ? ["-t", "-p", tmp.dir, "-c", configFile] : ["-c", "-V", "-f", configFile];
            const c = bin.command(args, [tmp.dir]);
            const out = execFileSync(c.cmd, c.args, { stdio: "pipe", encoding: "utf8" });
            if (engine === "haproxy") assert.match(out, /Configuration file is valid/);
        });

        it("answers HTTPS with a certificate the client verifies, over TLS 1.3 and TLS 1.2", async function () {
            const reply = await a("/hello");
            assert.equal(reply.status, 200);
            assert.equal(reply.json?.path, "/hello");
            assert.equal((await handshake(ports.https, "a.example.com")).protocol, "TLSv1.3");
            const tls12 = await handshake(ports.https, "a.example.com", { maxVersion: "TLSv1.2" });
            assert.equal(tls12.protocol, "TLSv1.2");
        });

        it("speaks HTTP/2 over ALPN and forwards the request as HTTP/1.1", async function () {
            const session = http2.connect(`https://127.0.0.1:${ports.https}`, {
                servername: "a.example.com",
                ca,
            });
            try {
                const reply = await new Promise<{ status: number; body: string; alpn?: string }>(
                    (resolve, reject) => {
                        const req = session.request({ ":path": "/h2", ":authority": "a.example.com" });
                        let body = "";
                        let status = 0;
                        req.on("response", (h) => (status = Number(h[":status"])));
                        req.setEncoding("utf8");
                        req.on("data", (d: string) => (body += d));
                        req.on("end", () => resolve({ status, body, alpn: session.alpnProtocol }));
                        req.on("error", reject);
                        req.end();
                    },
                );
                assert.equal(reply.alpn, "h2");
                assert.equal(reply.status, 200);
                const echo = JSON.parse(reply.body);
                assert.deepEqual(
                    [echo.pool, echo.path, echo.headers["x-forwarded-proto"]],
                    ["web", "/h2", "https"],
                );
            } finally {
                session.close();
            }
        });

        it("refuses TLS 1.0 and TLS 1.1 with a protocol_version alert", async function () {
            for (const version of ["TLSv1", "TLSv1.1"] as const) {
                // SECLEVEL=0 lets the client offer the old protocol at all, so the refusal is the server's.
                const opts = { minVersion: version, maxVersion: version, ciphers: "DEFAULT@SECLEVEL=0" };
                const result = await handshake(ports.https, "a.example.com", opts);
                assert.equal(result.protocol, undefined, `${version} was accepted`);
                assert.equal(result.errorCode, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", version);
            }
        });

        it("scans as Mozilla intermediate with sslscan: protocols, ciphers, groups, no client-order override", function () {
            requireTool(this, "sslscan");
            for (const [host, key] of [
                ["a.example.com", "ECDSA"],
                ["b.example.com", "RSA"],
            ] as const) {
                const xml = runSslscan(ports.https, host);
                if (process.env.KEELSON_DEBUG) console.log(xml);
                const scan = parseSslscan(xml);
                const tls12 = INTERMEDIATE.tls12.filter((c) => c.includes(key)).sort();
                assert.deepEqual(
                    {
                        protocols: scan.protocols,
                        ciphers: scan.ciphers,
                        groups: scan.groups,
                        insecureRenegotiation: scan.insecureRenegotiation,
                        compression: scan.compression,
                        heartbleed: scan.heartbleed,
                        // sslscan offers OpenSSL's default order, AES-256-GCM first: a server that honours the
                        // client's order picks it; one that enforces its own picks its first, AES-128-GCM.
                        preferred: scan.preferred["TLSv1.2"],
                    },
                    {
                        protocols: [...INTERMEDIATE.protocols],
                        ciphers: { "TLSv1.2": tls12, "TLSv1.3": [...INTERMEDIATE.tls13].sort() },
                        groups: [...INTERMEDIATE.groups].sort(),
                        insecureRenegotiation: false,
                        compression: false,
                        heartbleed: false,
                        preferred: `ECDHE-${key}-AES256-GCM-SHA384`,
                    },
                    `${host} (${key})`,
                );
            }
        });

        it("redirects HTTP to HTTPS with the path and query", async function () {
            const reply = await call({
                port: ports.http,
                host: "a.example.com",
                path: "/x/y?z=1",
                tls: false,
            });
            assert.equal(reply.status, 301);
            assert.equal(reply.headers.location, `https://a.example.com:${ports.https}/x/y?z=1`);
        });

        it("sends HSTS on routed responses and on 404s for unknown hosts", async function () {
            assert.equal((await a("/")).headers["strict-transport-security"], "max-age=63072000");
            // c.example.com is on no certificate: the default one is served, so skip name verification.
            const unknown = await call({
                port: ports.https,
                host: "c.example.com",
                path: "/",
                tls: true,
                insecure: true,
            });
            assert.equal(unknown.status, 404);
            assert.equal(unknown.headers["strict-transport-security"], "max-age=63072000");
        });

        it("tells the backend the client address and scheme, replacing spoofed forwarding headers", async function () {
            const reply = await a("/whoami", {
                headers: { "x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6" },
            });
            const h = reply.json!.headers;
            assert.equal(h["x-forwarded-for"], "127.0.0.5");
            assert.equal(h["x-real-ip"], "127.0.0.5");
            assert.equal(h["x-forwarded-proto"], "https");
            assert.equal(h["x-forwarded-host"], "a.example.com");
            assert.equal(h["x-forwarded-port"], String(ports.https));
            assert.equal(h.host, "a.example.com");
        });

        it("routes by host and path segment to the right pool", async function () {
            const pool = async (host: string, p: string) => {
                const r = await call({ port: ports.https, host, path: p, tls: true, ca });
                return r.json ? `${r.json.pool} ${r.json.path}` : `status ${r.status}`;
            };
            assert.equal(await pool("a.example.com", "/"), "web /");
            assert.equal(await pool("a.example.com", "/api"), "api /api");
            assert.equal(await pool("a.example.com", "/api/v1/users?x=1"), "api /api/v1/users?x=1");
            assert.equal(await pool("a.example.com", "/apix"), "web /apix");
            assert.equal(await pool("b.example.com", "/api/v1"), "api /api/v1");
            assert.equal(await pool("b.example.com", "/other"), "blog /other");
        });

        it("serves each SNI name its own certificate (ECDSA P-256 and RSA-2048)", async function () {
            const ecdsa = await handshake(ports.https, "a.example.com");
            assert.deepEqual([ecdsa.subjectCN, ecdsa.curve], ["a.example.com", "prime256v1"]);
            const rsa = await handshake(ports.https, "b.example.com");
            assert.deepEqual([rsa.subjectCN, rsa.curve, rsa.bits], ["b.example.com", undefined, 2048]);
        });

        it("spreads requests over every backend", async function () {
            const agent = new https.Agent({ keepAlive: true, maxSockets: 3 });
            const { replies, failures } = await loadLoop(
                30,
                3,
                () => a("/spread", { agent }),
                () => undefined,
            );
            agent.destroy();
            assert.deepEqual(failures, []);
            const counts = countIds(replies);
            assert.deepEqual(Object.keys(counts).sort(), ["b1", "b2", "b3"]);
            for (const [id, n] of Object.entries(counts))
                assert.ok(n >= 5 && n <= 15, `${id} served ${n} of 30`);
        });

        it("never lets a node without a ready pod answer a client", async function () {
            if (engine === "haproxy")
                await waitForHaproxyDown(path.join(tmp.dir, "admin.sock"), "blog", "b3");
            const { replies, failures } = await loadLoop(
                20,
                2,
                () => call({ port: ports.https, host: "b.example.com", path: "/post", tls: true, ca }),
                () => undefined,
            );
            assert.deepEqual(failures, []);
            assert.equal(countIds(replies).b3, undefined);
            assert.deepEqual(Object.keys(countIds(replies)).sort(), ["b1", "b2"]);
        });

        it("round-trips a websocket through the edge", async function () {
            // ws hands servername to tls.connect; its typings just do not list it.
            const options: WebSocket.ClientOptions & { servername: string } = {
                headers: { host: "a.example.com" },
                servername: "a.example.com",
                ca,
            };
            const ws = new WebSocket(`wss://127.0.0.1:${ports.https}/api/socket`, options);
            const message = await new Promise<string>((resolve, reject) => {
                ws.once("open", () => ws.send("ping"));
                ws.once("message", (data) => resolve(String(data)));
                ws.once("error", reject);
                ws.once("unexpected-response", (_req, res) =>
                    reject(new Error(`upgrade refused: ${res.statusCode}`)),
                );
            });
            ws.close();
            assert.match(message, /^b[123]:api:ping$/);
        });

        it("forwards a raw TCP route", async function () {
            const { greeting, echo } = await tcpExchange(ports.tcpListen, "hello over tcp");
            assert.match(greeting, /^b[123]$/);
            assert.equal(echo, "hello over tcp");
        });

        if (engine === "nginx") {
            it("forwards a raw UDP route", async function () {
                assert.match(await udpExchange(ports.udpListen, "ping"), /^b[123]:ping$/);
            });
        }

        it("writes access logs", async function () {
            // nginx buffers its access log (buffer=64k flush=1s): wait for the flush.
            const read = () =>
                engine === "nginx" ? readIfExists(path.join(tmp.dir, "access.log")) : edge!.output();
            for (let i = 0; i < 30 && !/\/whoami/.test(read()); i++)
                await new Promise((r) => setTimeout(r, 100));
            assert.match(read(), /\/whoami/);
        });

        it("loses no request when a backend is killed under load", async function () {
            const agent = new https.Agent({ keepAlive: true, maxSockets: 10 });
            let killedAt = -1;
            const { replies, failures } = await loadLoop(
                300,
                10,
                () => a("/load", { agent }),
                (done, sofar) => {
                    if (done === 100) {
                        killedAt = sofar.length;
                        backends.get("b2")!.child.kill("SIGKILL");
                    }
                },
            );
            agent.destroy();
            assert.deepEqual(failures, []);
            assert.equal(replies.length, 300);
            assert.ok(killedAt >= 100);
            assert.ok(countIds(replies.slice(0, killedAt)).b2! > 0, "b2 served nothing before it was killed");
            // Requests in flight at the kill may still have been answered by b2, and replies are kept in
            // the order they completed (2 haproxy threads, TLS to the client): later ones cannot.
            assert.equal(countIds(replies.slice(killedAt + 20)).b2, undefined);
        });
    });
}

function countIds(replies: Reply[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of replies) if (r.json) counts[r.json.id] = (counts[r.json.id] ?? 0) + 1;
    return counts;
}

/** Polls haproxy's admin socket until the server is DOWN in the backend (active health check). */
async function waitForHaproxyDown(socket: string, backend: string, server: string): Promise<void> {
    const net = await import("net");
    const deadline = Date.now() + 10000;
    for (;;) {
        const csv = await new Promise<string>((resolve, reject) => {
            const conn = net.createConnection(socket);
            let out = "";
            conn.on("data", (d) => (out += d));
            conn.on("end", () => resolve(out));
            conn.on("error", reject);
            conn.write("show stat\n");
        });
        const row = csv.split("\n").find((l) => l.startsWith(`${backend},${server},`));
        if (row?.split(",")[17] === "DOWN") return;
        if (Date.now() > deadline) throw new Error(`haproxy never marked ${backend}/${server} DOWN: ${row}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

describeEngine("nginx");
describeEngine("haproxy");
