// Live: both engines, rendered by Keelson, in front of backends that fail the way real nodes do: one
// that hangs (SIGSTOP), one that drops new connections (a node without a ready pod behind
// externalTrafficPolicy Local: its accept queue is full, the kernel drops SYNs), one that dies
// mid-request, one slow to answer; every backend resets keep-alive connections idle for 1.5 s. nginx
// runs with the host's health loop (render/bootstrap.ts), haproxy with its own checks.
import * as assert from "node:assert/strict";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import WebSocket from "ws";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeEngine, EdgeSpec } from "../../components/edge/types";
import { Started, freePort, makeTestCert, tempDir } from "../support/live";
import { EdgeBinary, requireEdge } from "./engines";
import {
    Call,
    call,
    dropNewConnections,
    launchEdge,
    loggedRequests,
    nginxTestPaths,
    startBackend,
    startHealthLoop,
    writeNginxConfigs,
    haproxyTestOptions,
} from "./harness";
import { httpRoute } from "./routes";

/** The configured upstream budget (seconds a silent backend is waited for); production uses 30. */
const BUDGET_S = 3;
const NODES = [
    { name: "b1", address: "127.0.0.2" },
    { name: "b2", address: "127.0.0.3" },
    { name: "b3", address: "127.0.0.4" },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
    readonly start: number;
    readonly ms: number;
    readonly status?: number;
    readonly error?: string;
    readonly node?: string;
    readonly retried?: boolean;
}

function describeFaults(engine: EdgeEngine): void {
    describe(`edge faults: ${engine}`, function () {
        this.timeout(120000);
        let bin: EdgeBinary;
        let tmp: { dir: string; cleanup: () => void };
        let ca: string[];
        let httpsPort: number;
        let nodePort: number;
        let configFile: string;
        let edge: Started;
        let healthLoop: ChildProcess | undefined;
        const backends = new Map<string, Started>();
        let seq = 0;

        const startNode = async (name: string) => {
            const node = NODES.find((n) => n.name === name)!;
            const b = await startBackend(name, node.address, [`web=${nodePort}`, "backlog=2", "idle=1500"]);
            backends.set(name, b);
            return b;
        };
        const request = async (c: Partial<Call> = {}): Promise<Outcome> => {
            const start = Date.now();
            const testId = `t${++seq}`;
            try {
                const r = await call({
                    port: httpsPort,
                    host: "a.example.com",
                    path: "/",
                    tls: true,
                    ca,
                    timeoutMs: 30000,
                    // nginx closes idle client connections when the health loop reloads it.
                    retryReused: true,
                    ...c,
                    headers: { "x-test-id": testId, ...c.headers },
                });
                return {
                    start,
                    ms: Date.now() - start,
                    status: r.status,
                    node: r.json?.id,
                    retried: r.retried,
                };
            } catch (e) {
                return { start, ms: Date.now() - start, error: (e as Error).message };
            }
        };
        /** `concurrency` clients sending requests until `ms` have passed. */
        const load = async (ms: number, concurrency: number, c: Partial<Call> = {}) => {
            const until = Date.now() + ms;
            const out: Outcome[] = [];
            const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency });
            await Promise.all(
                Array.from({ length: concurrency }, async () => {
                    while (Date.now() < until) out.push(await request({ agent, ...c }));
                }),
            );
            agent.destroy();
            return out;
        };
        /** Resolves once `node` answers again, with the seconds it took. */
        const rejoins = async (node: string, since: number) => {
            while (Date.now() - since < 20000) {
                const round = await Promise.all(Array.from({ length: 6 }, () => request()));
                if (round.some((o) => o.node === node)) return (Date.now() - since) / 1000;
                await sleep(200);
            }
            throw new Error(`${node} never came back into rotation`);
        };
        const failed = (os: Outcome[]) => os.filter((o) => o.status !== 200);
        const seenTwice = () => {
            const all = [...backends.values()].flatMap(loggedRequests).filter((l) => l.method === "POST");
            const count = new Map<string, string[]>();
            for (const l of all) count.set(l.testId, [...(count.get(l.testId) ?? []), l.id]);
            return [...count.entries()].filter(([, ids]) => ids.length > 1);
        };

        before(async function () {
            bin = requireEdge(this, engine);
            tmp = tempDir(`edge-faults-${engine}`);
            ca = [fs.readFileSync(makeTestCert(tmp.dir, "a", ["a.example.com"]).caFile, "utf8")];
            httpsPort = await freePort();
            nodePort = await freePort();
            for (const n of NODES) await startNode(n.name);
            const spec: EdgeSpec = {
                routes: [httpRoute("web", nodePort, { websocket: true })],
                backends: NODES,
                certificates: [{ name: "a", hosts: ["a.example.com"] }],
            };
            const common = {
                listenAddress: "127.0.0.1",
                httpPort: await freePort(),
                httpsPort,
                certDir: tmp.dir,
                upstreamTimeout: BUDGET_S,
            };
            const dirs = [tmp.dir];
            if (engine === "nginx") {
                const config = renderNginxConfig(spec, {
                    ...common,
                    version: bin.renderVersion as NginxVersion,
                    ...nginxTestPaths(tmp.dir),
                    // The backends reset connections idle for 1.5 s: the edge lets go first.
                    upstreamIdleTimeout: 1,
                });
                const { live, desired } = writeNginxConfigs(tmp.dir, config);
                configFile = live;
                edge = await launchEdge(bin, ["-c", configFile, "-g", "daemon off;"], dirs, httpsPort);
                healthLoop = startHealthLoop(bin, tmp.dir, desired, configFile, edge.child.pid!);
            } else {
                const config = renderHaproxyConfig(spec, {
                    ...common,
                    version: bin.renderVersion as HaproxyVersion,
                    ...haproxyTestOptions(tmp.dir),
                });
                configFile = path.join(tmp.dir, "haproxy.cfg");
                fs.writeFileSync(configFile, config);
                edge = await launchEdge(bin, ["-W", "-db", "-f", configFile], dirs, httpsPort);
            }
            await rejoins("b3", Date.now());
        });

        afterEach(async function () {
            // Every node healthy again before the next test.
            for (const [name, b] of backends) {
                if (b.child.exitCode !== null || b.child.signalCode === "SIGKILL") await startNode(name);
                else b.child.kill("SIGCONT");
            }
            for (const n of NODES) await rejoins(n.name, Date.now());
            if (this.currentTest?.state === "failed") console.log(edge.output().slice(-3000));
        });

        after(async () => {
            healthLoop?.kill("SIGTERM");
            await edge?.stop();
            for (const b of backends.values()) {
                b.child.kill("SIGCONT");
                await b.stop();
            }
            tmp?.cleanup();
        });

        it(`loses no GET to a hung node, none waits 2x the ${BUDGET_S}s budget, and the node leaves and rejoins`, async function () {
            const hung = backends.get("b2")!;
            const t0 = Date.now() + 1000;
            setTimeout(() => hung.child.kill("SIGSTOP"), 1000);
            const outcomes = await load(12000, 6);
            assert.deepEqual(failed(outcomes), []);
            const worst = Math.max(...outcomes.map((o) => o.ms));
            assert.ok(worst < 2 * BUDGET_S * 1000, `slowest request ${worst} ms`);
            // Out of rotation within seconds: nothing started 8 s after the hang waits for it.
            const late = outcomes.filter((o) => o.start > t0 + 8000);
            assert.ok(late.length > 50, `${late.length} late requests`);
            // A request sent to the hung node waits at least the 3 s budget before it is retried; a third of
            // it tells that apart from a loaded machine's scheduling delays (which exceeded the old 500 ms at load 9).
            const slowestLate = Math.max(...late.map((o) => o.ms));
            assert.ok(
                slowestLate < (BUDGET_S * 1000) / 3,
                `requests still wait for the hung node (slowest late request ${slowestLate} ms)`,
            );
            const since = Date.now();
            hung.child.kill("SIGCONT");
            assert.ok((await rejoins("b2", since)) < 10);
        });

        it("loses no GET to a node that drops new connections; it leaves within seconds and rejoins", async function () {
            // A fresh process, so that the edge holds no connection to it: only new SYNs, dropped.
            await backends.get("b3")!.stop();
            const dropping = await startNode("b3");
            dropping.child.kill("SIGSTOP");
            const filler = await dropNewConnections("127.0.0.4", nodePort);
            const t0 = Date.now();
            const outcomes = await load(10000, 6);
            assert.deepEqual(failed(outcomes), []);
            const worst = Math.max(...outcomes.map((o) => o.ms));
            // Each dropped SYN costs the 1 s connect timeout, then the next node answers.
            assert.ok(worst < 2 * 1000, `slowest request ${worst} ms`);
            const late = outcomes.filter((o) => o.start > t0 + 8000);
            assert.ok(Math.max(...late.map((o) => o.ms)) < 500, "requests still try the dropping node");
            assert.equal(outcomes.filter((o) => o.node === "b3").length, 0);
            const since = Date.now();
            filler.release();
            dropping.child.kill("SIGCONT");
            assert.ok((await rejoins("b3", since)) < 10);
        });

        it("answers a POST to a hung node with a 504 after the budget and never sends it to another node", async function () {
            backends.get("b1")!.child.kill("SIGSTOP");
            const posts = await Promise.all(
                Array.from({ length: 9 }, () => request({ method: "POST", path: "/order", body: "x=1" })),
            );
            backends.get("b1")!.child.kill("SIGCONT");
            await sleep(500); // b1 reads what waited in its socket buffers, and logs it
            assert.deepEqual(
                posts.filter((o) => o.error),
                [],
            );
            assert.deepEqual([...new Set(posts.map((o) => o.status))].sort(), [200, 504]);
            for (const o of posts.filter((p) => p.status === 504)) assert.ok(o.ms < 2 * BUDGET_S * 1000);
            assert.deepEqual(seenTwice(), []);
        });

        it("answers POSTs in flight on a node killed mid-request with a 502, resends GETs, replays nothing", async function () {
            // Killed the moment it has taken a POST (after 1 s of load): one is surely in flight there, as
            // each POST takes 1 s, longer than this process can lag behind b2's log on a loaded machine.
            const b2 = backends.get("b2")!;
            const posted = () => loggedRequests(b2).filter((l) => l.method === "POST").length;
            let killer: NodeJS.Timeout | undefined;
            let killedAt: number | undefined;
            setTimeout(() => {
                const seen = posted();
                killer = setInterval(() => {
                    if (posted() === seen) return;
                    b2.child.kill("SIGKILL");
                    killedAt = posted();
                    clearInterval(killer);
                }, 20);
            }, 1000);
            const [posts, gets] = await Promise.all([
                // New connections: a POST on an idle keep-alive connection that a reload closes fails
                // before it is sent, which no client resends, and is not what this test is about.
                load(4000, 4, { method: "POST", path: "/slow?ms=1000", body: "x=1", agent: false }),
                load(4000, 4, { path: "/slow?ms=300" }),
            ]);
            clearInterval(killer);
            assert.ok(killedAt !== undefined, "b2 took no POST after the first second: it was never killed");
            assert.deepEqual(failed(gets), []);
            const postFailures = failed(posts);
            const onKilled = loggedRequests(backends.get("b2")!).filter((l) => l.method === "POST").length;
            assert.ok(
                postFailures.length > 0,
                `no POST was in flight on the killed node (${onKilled} POSTs reached it, ${posts.length} sent)`,
            );
            assert.deepEqual(
                postFailures.map((o) => o.status ?? o.error),
                postFailures.map(() => 502),
            );
            assert.deepEqual(seenTwice(), []);
        });

        it("waits for a slow node instead of resending to another one", async function () {
            const slow = await Promise.all(
                Array.from({ length: 6 }, () => request({ method: "GET", path: "/slow?ms=2000" })),
            );
            assert.deepEqual(failed(slow), []);
            for (const o of slow) assert.ok(o.ms >= 2000 && o.ms < 2900, `${o.ms} ms`);
            const gets = [...backends.values()]
                .flatMap(loggedRequests)
                .filter((l) => l.path === "/slow?ms=2000");
            assert.equal(gets.length, 6, "a slow request was sent twice");
        });

        it("never sends a POST on a keep-alive connection the backend is resetting", async function () {
            // Each client pauses about as long as the backends' idle timeout between its requests.
            const agent = new https.Agent({ keepAlive: true, maxSockets: 4 });
            const outcomes = (
                await Promise.all(
                    Array.from({ length: 4 }, async (_, client) => {
                        const out: Outcome[] = [];
                        for (let i = 0; i < 4; i++) {
                            out.push(await request({ agent, method: "POST", path: "/form", body: "x=1" }));
                            await sleep(1400 + client * 50 + i * 20);
                        }
                        return out;
                    }),
                )
            ).flat();
            agent.destroy();
            assert.deepEqual(failed(outcomes), []);
        });

        it("loses no GET across a reload every 150 ms (a reused keep-alive connection is resent once)", async function () {
            const reload = setInterval(() => edge.child.kill(engine === "nginx" ? "SIGHUP" : "SIGUSR2"), 150);
            const outcomes = await load(6000, 6);
            clearInterval(reload);
            assert.deepEqual(failed(outcomes), []);
            assert.ok(outcomes.length > 200, `${outcomes.length} requests`);
            console.log(
                `      ${engine}: ${outcomes.length} GETs, ${outcomes.filter((o) => o.retried).length} resent`,
            );
        });

        it("keeps long requests and websockets in flight across a reload", async function () {
            const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/socket`, {
                headers: { host: "a.example.com" },
                servername: "a.example.com",
                ca,
            } as WebSocket.ClientOptions);
            const echo = (text: string) =>
                new Promise<string>((resolve, reject) => {
                    ws.once("message", (d) => resolve(String(d)));
                    ws.once("error", reject);
                    ws.send(text);
                });
            await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
            assert.match(await echo("before"), /^b[123]:web:before$/);
            const long = request({ path: "/slow?ms=2500" });
            const longPost = request({ method: "POST", path: "/slow?ms=2500", body: "x=1" });
            await sleep(500);
            edge.child.kill(engine === "nginx" ? "SIGHUP" : "SIGUSR2");
            await sleep(1000);
            assert.equal((await request()).status, 200);
            assert.match(await echo("after"), /^b[123]:web:after$/);
            assert.deepEqual([(await long).status, (await longPost).status], [200, 200]);
            ws.close();
        });
    });
}

describeFaults("nginx");
describeFaults("haproxy");
