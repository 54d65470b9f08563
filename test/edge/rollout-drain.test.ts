// Live: a rolling replacement of a published web service under load loses no request. Both engines,
// rendered by Keelson (production settings but for paths and ports; nginx with its host's health loop),
// forward to a stand-in of the workers' NLB (nlb.ts: the real haproxy in TCP mode, two zones, set up
// from WorkerIngress's target-group settings; the edge lists the zones' addresses, as nginx does once it
// resolves the NLB's name), in front of six worker nodes, each a backend process with kube-proxy's
// health-check NodePort for its pod (fixtures/backend.js `kubeproxy=`, `drain`).
// The rollout is the Deployment's default (maxSurge 1, maxUnavailable 0), one pod a node: a new pod
// starts on a node that had none and, once Ready, an old one starts terminating, so the next new one is
// created at once (the controller does not count terminating pods). A terminating pod's node answers 503
// on /healthz at once (KEP-1669) while the pod sleeps EDGE_DRAIN_SECONDS in preStop (the kubelet's sleep
// action, here the test's) and keeps serving; then it gets SIGTERM, closes its listener, answers what is
// in flight, and exits. The NLB's checks take 5 to 10 s to see an old node fail and as long to see a new
// one pass, so the old pods serve new flows for a while, and the edge's kept-alive connections until
// SIGTERM. The timings are real: none of them is a parameter of the code. The guards break the drain
// (no preStop sleep; the NLB resetting an unhealthy node's connections, AWS's default) and must see
// requests fail, so that the passing run cannot be vacuous.
import * as assert from "node:assert/strict";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { EDGE_DRAIN_SECONDS } from "../../components/app/publish";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeEngine, EdgeSpec } from "../../components/edge/types";
import { Started, freePort, makeTestCert, requireTool, tempDir } from "../support/live";
import { EdgeBinary, requireEdge } from "./engines";
import {
    call,
    launchEdge,
    loggedRequests,
    nginxTestPaths,
    readIfExists,
    startBackend,
    startHealthLoop,
    writeNginxConfigs,
    haproxyTestOptions,
} from "./harness";
import { Nlb, NlbTransition, startNlb } from "./nlb";
import { httpRoute } from "./routes";

const NODES = [1, 2, 3, 4, 5, 6].map((i) => ({ name: `w${i}`, address: `127.0.0.${10 + i}` }));
const OLD = NODES.slice(0, 3);
const NEW = NODES.slice(3);
const ZONES = [
    { name: "zone-a", address: "127.0.0.21" },
    { name: "zone-b", address: "127.0.0.22" },
];
/** How long each request takes on a pod: some are always in flight on a pod when it gets SIGTERM. */
const REQUEST_MS = 200;
/** Clients of each method, each sending its next request when the last one is answered. */
const CLIENTS = 6;
/** Requests answered while each old pod terminates (the machine serves about 50 a second). */
const MIN_PER_REPLACEMENT = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
    readonly method: "GET" | "POST";
    readonly testId: string;
    readonly start: number;
    readonly end: number;
    readonly status?: number;
    readonly error?: string;
    readonly node?: string;
}

interface Replacement {
    readonly old: string;
    readonly new: string;
    /** When the old pod started terminating (its node's /healthz answers 503). */
    readonly terminating: number;
    readonly term: number;
    readonly exit: number;
    readonly exitCode: number | null;
    /** Requests in flight on the old pod when it got SIGTERM, and those it took after (fixtures/backend.js). */
    readonly inflightAtTerm: number;
    readonly servedAfterTerm: number;
}

interface Rollout {
    readonly outcomes: Outcome[];
    readonly replacements: Replacement[];
    readonly transitions: NlbTransition[];
    readonly failedConnects: number;
    readonly failOpenFlows: number;
    /** Whether each old node's NodePort still accepted connections after its pod exited. */
    readonly listening: Record<string, boolean>;
    readonly postsSeenTwice: string[];
    readonly ms: number;
    /** The edge's last warnings and errors (nginx's error log, haproxy's output), for a failure's report. */
    readonly edgeLog: string;
}

/** Does anything accept a connection on address:port? */
function accepts(address: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect(port, address);
        s.once("connect", () => {
            s.destroy();
            resolve(true);
        });
        s.once("error", () => resolve(false));
    });
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ok()) {
        if (Date.now() > deadline) throw new Error(`${what} after ${ms} ms`);
        await sleep(100);
    }
}

/**
 * One rolling replacement of OLD by NEW under load through `engine`, the pods sleeping
 * `preStopSeconds` in preStop, the NLB resetting connections to unhealthy targets when
 * `connectionTermination` (default: as WorkerIngress configures it).
 */
async function rollout(
    engine: EdgeEngine,
    bin: EdgeBinary,
    nlbBin: EdgeBinary,
    o: { preStopSeconds: number; connectionTermination?: boolean },
): Promise<Rollout> {
    const t0 = Date.now();
    const tmp = tempDir(`edge-rollout-${engine}`);
    const stops: (() => Promise<void> | void)[] = [];
    const pods = new Map<string, Started>();
    let nlb: Nlb | undefined;
    let edge: Started | undefined;
    try {
        const ca = [fs.readFileSync(makeTestCert(tmp.dir, "a", ["a.example.com"]).caFile, "utf8")];
        const httpsPort = await freePort();
        const nodePort = await freePort();
        const healthCheckNodePort = await freePort();
        const startPod = async (node: (typeof NODES)[number]) => {
            const pod = await startBackend(node.name, node.address, [
                `web=${nodePort}`,
                `kubeproxy=${healthCheckNodePort}`,
                "drain",
            ]);
            pods.set(node.name, pod);
            stops.push(() => pod.stop());
            return pod;
        };
        for (const n of OLD) await startPod(n);
        nlb = await startNlb(nlbBin, {
            zones: ZONES,
            targets: NODES,
            nodePort,
            healthCheckNodePort,
            dir: tmp.dir,
            ...(o.connectionTermination === undefined
                ? {}
                : { connectionTermination: o.connectionTermination }),
        });
        stops.push(() => nlb?.stop());
        // The nodes without a pod of the service fail kube-proxy's check from the start.
        await until("the NLB stand-in never settled", 15000, () =>
            NODES.every((n) => nlb!.up(n.name).every((up) => up === OLD.includes(n))),
        );

        const spec: EdgeSpec = {
            routes: [{ ...httpRoute("web", nodePort), healthCheckNodePort }],
            backends: ZONES,
            certificates: [{ name: "a", hosts: ["a.example.com"] }],
        };
        const common = {
            listenAddress: "127.0.0.1",
            httpPort: await freePort(),
            httpsPort,
            certDir: tmp.dir,
        };
        if (engine === "nginx") {
            const config = renderNginxConfig(spec, {
                ...common,
                version: bin.renderVersion as NginxVersion,
                ...nginxTestPaths(tmp.dir),
            });
            const { live, desired } = writeNginxConfigs(tmp.dir, config);
            edge = await launchEdge(bin, ["-c", live, "-g", "daemon off;"], [tmp.dir], httpsPort);
            const loop: ChildProcess = startHealthLoop(bin, tmp.dir, desired, live, edge.child.pid!);
            stops.push(() => void loop.kill("SIGTERM"));
        } else {
            const file = path.join(tmp.dir, "haproxy.cfg");
            fs.writeFileSync(
                file,
                renderHaproxyConfig(spec, {
                    ...common,
                    version: bin.renderVersion as HaproxyVersion,
                    ...haproxyTestOptions(tmp.dir),
                }),
            );
            edge = await launchEdge(bin, ["-W", "-db", "-f", file], [tmp.dir], httpsPort);
        }
        stops.push(() => edge?.stop());

        // The load: GETs and POSTs on kept-alive connections to the edge, never resent by the client.
        const outcomes: Outcome[] = [];
        const agent = new https.Agent({ keepAlive: true, maxSockets: 2 * CLIENTS });
        let loading = true;
        let seq = 0;
        const client = async (method: "GET" | "POST") => {
            while (loading) {
                const testId = `${method.toLowerCase()}-${++seq}`;
                const start = Date.now();
                try {
                    const r = await call({
                        port: httpsPort,
                        host: "a.example.com",
                        path: `/slow?ms=${REQUEST_MS}`,
                        tls: true,
                        ca,
                        agent,
                        method,
                        headers: { "x-test-id": testId },
                        ...(method === "POST" ? { body: "order=1" } : {}),
                        timeoutMs: 60000,
                    });
                    outcomes.push({
                        method,
                        testId,
                        start,
                        end: Date.now(),
                        status: r.status,
                        node: r.json?.id,
                    });
                } catch (e) {
                    outcomes.push({ method, testId, start, end: Date.now(), error: (e as Error).message });
                }
            }
        };
        const load = Promise.all([...Array(CLIENTS)].flatMap(() => [client("GET"), client("POST")]));
        await until("the edge answered no request", 10000, () => outcomes.some((x) => x.status === 200));
        await sleep(2000);

        // The rollout.
        const replacements: Promise<Replacement>[] = [];
        for (const [i, oldNode] of OLD.entries()) {
            const newNode = NEW[i];
            await startPod(newNode); // resolves once it listens: Ready
            const old = pods.get(oldNode.name)!;
            const exited = new Promise<number | null>((resolve) =>
                old.child.exitCode !== null ? resolve(old.child.exitCode) : old.child.once("exit", resolve),
            );
            const terminating = Date.now();
            old.child.kill("SIGUSR2");
            replacements.push(
                (async () => {
                    await sleep(o.preStopSeconds * 1000);
                    const term = Date.now();
                    old.child.kill("SIGTERM");
                    const exitCode = await exited;
                    const out = old.output();
                    return {
                        old: oldNode.name,
                        new: newNode.name,
                        terminating,
                        term,
                        exit: Date.now(),
                        exitCode,
                        inflightAtTerm: Number(/^term \S+ inflight=(\d+)$/m.exec(out)?.[1] ?? NaN),
                        servedAfterTerm: Number(/^exit \S+ served-after-term=(\d+)$/m.exec(out)?.[1] ?? NaN),
                    };
                })(),
            );
        }
        const done = await Promise.all(replacements);
        await sleep(3000);
        loading = false;
        await load;
        agent.destroy();

        const listening: Record<string, boolean> = {};
        for (const n of OLD) listening[n.name] = await accepts(n.address, nodePort);
        const posts = new Map<string, number>();
        for (const pod of pods.values())
            for (const l of loggedRequests(pod).filter((l) => l.method === "POST"))
                posts.set(l.testId, (posts.get(l.testId) ?? 0) + 1);
        return {
            outcomes,
            replacements: done,
            transitions: [...nlb.transitions],
            ...(await nlb.counters()),
            listening,
            postsSeenTwice: [...posts].filter(([, n]) => n > 1).map(([id]) => id),
            ms: Date.now() - t0,
            edgeLog: (engine === "nginx" ? readIfExists(path.join(tmp.dir, "error.log")) : edge.output())
                .split("\n")
                .filter((l) => l && !/\[(notice|alert)\]|setrlimit/.test(l))
                .slice(-20)
                .join("\n"),
        };
    } catch (e) {
        if (nlb) console.log(nlb.process.output().slice(-3000));
        if (edge) console.log(edge.output().slice(-3000));
        throw e;
    } finally {
        for (const stop of stops.reverse()) await stop();
        tmp.cleanup();
    }
}

const failures = (r: Rollout) =>
    r.outcomes.filter((x) => x.status !== 200).map((x) => `${x.method} ${x.status ?? x.error}`);

/** When every zone of the NLB had `target` out (`up` false) or in, at or after `since`; NaN if never. */
function inEveryZone(r: Rollout, target: string, up: boolean, since: number): number {
    return Math.max(
        ...ZONES.map(
            (z) =>
                r.transitions.find(
                    (t) => t.zone === z.name && t.target === target && t.up === up && t.at >= since,
                )?.at ?? NaN,
        ),
    );
}

/** The figures of a rollout, for the README and the report. */
function summary(label: string, r: Rollout): string {
    const ok = r.outcomes.filter((x) => x.status === 200);
    const secs = (ms: number) => (Number.isNaN(ms) ? "never" : `${(ms / 1000).toFixed(1)} s`);
    const per = r.replacements.map((p) => {
        const during = ok.filter((x) => x.end >= p.terminating && x.end <= p.exit).length;
        const out = inEveryZone(r, p.old, false, p.terminating) - p.terminating;
        const inService = inEveryZone(r, p.new, true, p.terminating) - p.terminating;
        const kept = ok.filter((x) => x.node === p.old && x.start > p.terminating + out).length;
        return (
            `${p.old}->${p.new}: ${during} answered while ${p.old} terminated, ${p.old} out of the NLB after ` +
            `${secs(out)} (then ${kept} more on its kept flows) and ${p.new} in after ${secs(inService)}, ` +
            `${p.inflightAtTerm} in flight at SIGTERM`
        );
    });
    const kinds = new Map<string, number>();
    for (const f of failures(r)) kinds.set(f, (kinds.get(f) ?? 0) + 1);
    const failed = [...kinds].map(([k, n]) => `${n} ${k}`).join(", ") || "none";
    return [
        `${label}: ${r.outcomes.length} requests (${ok.filter((x) => x.method === "POST").length} POSTs answered) in ${secs(r.ms)}; failed: ${failed}`,
        ...per,
        `NLB: ${r.failOpenFlows} flows while no target was healthy, ${r.failedConnects} failed connects`,
    ].join("\n        ");
}

function describeRollout(engine: EdgeEngine): void {
    describe(`edge live: ${engine} through the worker NLB during a rolling replacement`, function () {
        this.timeout(180000);
        let bin: EdgeBinary;
        let nlbBin: EdgeBinary;

        before(function () {
            bin = requireEdge(this, engine);
            nlbBin = requireEdge(this, "haproxy");
            requireTool(this, "openssl");
            requireTool(this, "curl");
        });

        it(`loses no GET or POST while every pod is replaced (preStop ${EDGE_DRAIN_SECONDS} s, WorkerIngress's NLB settings)`, async function () {
            const r = await rollout(engine, bin, nlbBin, { preStopSeconds: EDGE_DRAIN_SECONDS });
            console.log(`      ${summary(engine, r)}`);
            // The report in the message: a run's output may be cut before the test's log line.
            assert.equal(failures(r).length, 0, `${summary(engine, r)}\n${r.edgeLog}`);
            assert.deepEqual(r.postsSeenTwice, []);
            // No new flow reached a pod that was not listening (the stand-in's one deviation never applied).
            assert.equal(r.failedConnects, 0);
            const ok = r.outcomes.filter((x) => x.status === 200);
            for (const p of r.replacements) {
                const during = ok.filter((x) => x.end >= p.terminating && x.end <= p.exit);
                assert.ok(
                    during.length >= MIN_PER_REPLACEMENT,
                    `${p.old}: ${during.length} answered meanwhile`,
                );
                assert.ok(
                    during.some((x) => x.node === p.old && x.start > p.terminating),
                    `${p.old} served nothing while it terminated`,
                );
                // The NLB took the old node out in every zone before its pod stopped listening, and the new in.
                assert.ok(
                    inEveryZone(r, p.old, false, p.terminating) < p.term,
                    `${p.old} still in the NLB at SIGTERM`,
                );
                assert.ok(
                    inEveryZone(r, p.new, true, p.terminating) < p.exit + 3000,
                    `${p.new} never in the NLB`,
                );
                // Its established flows stayed (unhealthy.draining): the edge's kept-alive connections.
                const out = inEveryZone(r, p.old, false, p.terminating);
                assert.ok(
                    ok.some((x) => x.node === p.old && x.start > out),
                    `${p.old} served nothing once out of the NLB`,
                );
                assert.equal(p.exitCode, 0, `${p.old} did not stop by itself`);
                assert.equal(r.listening[p.old], false, `${p.old} still listens after its exit`);
                assert.ok(
                    ok.some((x) => x.node === p.new && x.start > p.exit),
                    `${p.new} served nothing`,
                );
            }
            // Requests were in flight on the old pods at SIGTERM, and were answered (no failure above).
            const inflight = r.replacements.reduce((n, p) => n + p.inflightAtTerm, 0);
            assert.ok(inflight > 0, "no request was in flight on an old pod at SIGTERM");
            assert.ok(ok.some((x) => x.method === "POST" && NEW.some((n) => n.name === x.node)));
        });

        it("guard: without the preStop sleep, requests fail", async function () {
            const r = await rollout(engine, bin, nlbBin, { preStopSeconds: 0 });
            console.log(`      ${summary(`${engine} preStop 0 s`, r)}`);
            assert.ok(
                failures(r).length > 0,
                "no request failed: the rollout test cannot tell a drain from none",
            );
        });

        it("guard: with the NLB resetting connections to unhealthy targets (AWS's default), requests fail", async function () {
            const r = await rollout(engine, bin, nlbBin, {
                preStopSeconds: EDGE_DRAIN_SECONDS,
                connectionTermination: true,
            });
            console.log(`      ${summary(`${engine} connection termination on`, r)}`);
            assert.ok(
                failures(r).length > 0,
                "no request failed although the NLB reset the old nodes' flows",
            );
        });
    });
}

describeRollout("nginx");
describeRollout("haproxy");
