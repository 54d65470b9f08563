// Live: haproxy rendered by Keelson in front of a backend given by DNS name, as the edge reaches the
// workers' internal NLB (one address per zone). A DNS server in the test (dns.ts) answers the name
// with two loopback addresses, each with its own backend process on the same port; the engine's
// /etc/hosts lists both too (libc, used at start). Keelson's rendering (server-template with
// resolvers) spreads requests over both, takes a dead one out on its checks, and follows DNS changes.
// The guard runs the old rendering (a plain `server` line on the name): libc's first address only,
// and failures when it dies.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { EdgeSpec } from "../../components/edge/types";
import { Started, freePort, makeTestCert, tempDir } from "../support/live";
import { DnsServer, startDnsServer } from "./dns";
import { EdgeBinary, requireEdge } from "./engines";
import { call, startBackend, startEdge, haproxyTestOptions } from "./harness";
import { httpRoute } from "./routes";

const NAME = "workers.keelson.test";
const ZONES = [
    { id: "z1", address: "127.0.0.2" },
    { id: "z2", address: "127.0.0.3" },
    { id: "z3", address: "127.0.0.4" },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
    readonly start: number;
    readonly status?: number;
    readonly node?: string;
    readonly error?: string;
    readonly method: string;
}

/**
 * Keelson's rendering before resolvers: the IP-literal path (one `server` line, `.writes` tracking it),
 * unchanged since, with the name written in place of the address.
 */
const PLACEHOLDER = "192.0.2.1";

function describeDns(rendering: "keelson" | "old"): void {
    describe(`edge haproxy, a backend by DNS name: ${rendering === "keelson" ? "server-template with resolvers" : "guard: the old plain server line"}`, function () {
        this.timeout(120000);
        let bin: EdgeBinary;
        let tmp: { dir: string; cleanup: () => void };
        let ca: string[];
        let httpsPort: number;
        let nodePort: number;
        let dns: DnsServer;
        let edge: Started;
        const backends = new Map<string, Started>();

        const startZone = async (id: string) => {
            const zone = ZONES.find((z) => z.id === id)!;
            backends.set(id, await startBackend(id, zone.address, [`web=${nodePort}`]));
        };
        const request = async (agent: https.Agent, method = "GET"): Promise<Outcome> => {
            const start = Date.now();
            try {
                const r = await call({
                    port: httpsPort,
                    host: "a.example.com",
                    path: "/",
                    tls: true,
                    ca,
                    agent,
                    method,
                    body: method === "POST" ? "x=1" : undefined,
                });
                return { start, status: r.status, node: r.json?.id, method };
            } catch (e) {
                return { start, error: (e as Error).message, method };
            }
        };
        /** Four GET clients and one POST client until `ms` have passed. */
        const load = async (ms: number) => {
            const until = Date.now() + ms;
            const out: Outcome[] = [];
            const agent = new https.Agent({ keepAlive: true, maxSockets: 5 });
            await Promise.all(
                ["GET", "GET", "GET", "GET", "POST"].map(async (method) => {
                    while (Date.now() < until) out.push(await request(agent, method));
                }),
            );
            agent.destroy();
            return out;
        };
        const byNode = (os: Outcome[]) => {
            const counts: Record<string, number> = {};
            for (const o of os) if (o.node) counts[o.node] = (counts[o.node] ?? 0) + 1;
            return counts;
        };
        const failed = (os: Outcome[]) => os.filter((o) => o.status !== 200);
        /** Seconds from `since` until a line matching `re` appears in the engine's output. */
        const logged = async (re: RegExp, since: number, ms = 15000) => {
            while (!re.test(edge.output())) {
                if (Date.now() - since > ms) throw new Error(`no ${re} in the engine's output`);
                await sleep(50);
            }
            return (Date.now() - since) / 1000;
        };

        before(async function () {
            bin = requireEdge(this, "haproxy");
            tmp = tempDir(`edge-dns-${rendering}`);
            ca = [fs.readFileSync(makeTestCert(tmp.dir, "a", ["a.example.com"]).caFile, "utf8")];
            httpsPort = await freePort();
            nodePort = await freePort();
            for (const z of ZONES) await startZone(z.id);
            dns = await startDnsServer({ [NAME]: [ZONES[0].address, ZONES[1].address] });
            const hosts = path.join(tmp.dir, "hosts");
            fs.writeFileSync(
                hosts,
                `127.0.0.1 localhost\n${ZONES[0].address} ${NAME}\n${ZONES[1].address} ${NAME}\n`,
            );
            const spec: EdgeSpec = {
                routes: [httpRoute("web", nodePort)],
                backends: [{ name: "workers", address: NAME }],
                certificates: [{ name: "a", hosts: ["a.example.com"] }],
            };
            const options = {
                version: bin.renderVersion as HaproxyVersion,
                listenAddress: "127.0.0.1",
                httpPort: await freePort(),
                httpsPort,
                certDir: tmp.dir,
                ...haproxyTestOptions(tmp.dir),
                nameservers: [`127.0.0.1:${dns.port}`],
            };
            const config =
                rendering === "keelson"
                    ? renderHaproxyConfig(spec, options)
                    : renderHaproxyConfig(
                          { ...spec, backends: [{ name: "workers", address: PLACEHOLDER }] },
                          options,
                      )
                          .split(PLACEHOLDER)
                          .join(NAME);
            const file = path.join(tmp.dir, "haproxy.cfg");
            fs.writeFileSync(file, config);
            const c = bin.command(["-W", "-db", "-f", file], [tmp.dir], { "/etc/hosts": hosts });
            edge = await startEdge(c.cmd, c.args, httpsPort);
            await sleep(3000); // the first answers and checks
        });

        afterEach(function () {
            if (this.currentTest?.state === "failed") console.log(edge.output().slice(-4000));
        });

        after(async () => {
            await edge?.stop();
            for (const b of backends.values()) await b.stop();
            await dns?.close();
            tmp?.cleanup();
        });

        if (rendering === "keelson") {
            it("spreads requests over every address of the name and loses none when one address dies", async function () {
                const before = await load(4000);
                const spread = byNode(before);
                assert.deepEqual(failed(before), []);
                assert.ok(
                    spread.z1 > before.length / 4 && spread.z2 > before.length / 4,
                    JSON.stringify(spread),
                );
                const killed = Date.now();
                backends.get("z1")!.child.kill("SIGKILL");
                const [after, down] = await Promise.all([
                    load(8000),
                    // fall 2 of inter 2s / fastinter 500ms: both backends' slots of the address leave.
                    Promise.all([
                        logged(/Server web\/workers\d is DOWN/, killed),
                        logged(/Server web\.writes\/workers\d is DOWN/, killed),
                    ]),
                ]);
                assert.deepEqual(failed(after), []);
                assert.equal(byNode(after).z1 ?? 0, 0);
                assert.ok(Math.max(...down) < 6, `down after ${down.join(", ")} s`);
                console.log(
                    `      spread ${JSON.stringify(spread)} of ${before.length}; after the kill ${JSON.stringify(byNode(after))} of ${after.length}, ` +
                        `${failed(after).length} failed, slots down after ${down.map((d) => d.toFixed(1)).join(" / ")} s`,
                );
                await startZone("z1");
            });

            it("follows the DNS answer: a dropped address leaves and an added one joins", async function () {
                // z1 restarted: back on its checks (rise 2) before the answer changes.
                const back = Date.now();
                while (!byNode(await load(500)).z1) {
                    if (Date.now() - back > 15000) throw new Error("z1 never came back into rotation");
                }
                const rejoined = (Date.now() - back) / 1000;
                const since = Date.now();
                dns.set(NAME, [ZONES[1].address, ZONES[2].address]);
                let joined: number | undefined;
                let left: number | undefined;
                while (Date.now() - since < 20000 && (joined === undefined || left === undefined)) {
                    const round = byNode(await load(500));
                    const t = (Date.now() - since) / 1000;
                    if (joined === undefined && round.z3) joined = t;
                    if (left === undefined && !round.z1) left = t;
                }
                assert.ok(joined !== undefined && joined < 10, `z3 joined after ${joined} s`);
                assert.ok(left !== undefined && left < 10, `z1 left after ${left} s`);
                const settled = await load(3000);
                assert.deepEqual(failed(settled), []);
                const counts = byNode(settled);
                assert.equal(counts.z1 ?? 0, 0);
                assert.ok(
                    counts.z2 > settled.length / 4 && counts.z3 > settled.length / 4,
                    JSON.stringify(counts),
                );
                console.log(
                    `      z1 back after ${rejoined.toFixed(1)} s; DNS change: the added address served after ${joined.toFixed(1)} s, the dropped one gone after ` +
                        `${left.toFixed(1)} s; then ${JSON.stringify(counts)} of ${settled.length}; ${dns.queries()} DNS queries`,
                );
            });
        } else {
            it("sends everything to the name's first address and fails when it dies", async function () {
                const before = await load(3000);
                assert.deepEqual(failed(before), []);
                assert.deepEqual(byNode(before), { z1: before.length });
                backends.get("z1")!.child.kill("SIGKILL");
                const after = await load(6000);
                assert.ok(failed(after).length > 0);
                assert.equal(byNode(after).z2 ?? 0, 0);
                console.log(
                    `      guard: ${JSON.stringify(byNode(before))} of ${before.length}; after the kill ` +
                        `${failed(after).length} of ${after.length} failed, ${byNode(after).z2 ?? 0} reached z2`,
                );
                await startZone("z1");
            });
        }
    });
}

describeDns("keelson");
describeDns("old");
