// Live: a POST or PATCH never rides a kept-alive connection to a node, in either engine. A node may close
// an idle keep-alive connection as the edge sends on it (a pod that stops closes its idle connections, an
// idle timeout expires); neither engine resends a non-idempotent request that reached a node, so the
// client would get a 502. The backends here (fixtures/backend.js `drop-reused`) close every connection
// the moment a second request arrives on it: the rare race made certain. Reads still ride kept-alive
// connections (and are resent when one breaks). The guard renders the config without the writes' own
// upstream (nginx: `$keelson_pool`; haproxy: the `.writes` backend's use_backend) and must see POSTs fail.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeEngine, EdgeSpec } from "../../components/edge/types";
import { Started, freePort, makeTestCert, tempDir } from "../support/live";
import { EdgeBinary, requireEdge } from "./engines";
import {
    call,
    launchEdge,
    loggedRequests,
    nginxTestPaths,
    startBackend,
    writeNginxConfigs,
    haproxyTestOptions,
} from "./harness";
import { httpRoute } from "./routes";

const NODES = [
    { name: "b1", address: "127.0.0.2" },
    { name: "b2", address: "127.0.0.3" },
];

interface Run {
    /** Each write's method and status (or client error), in order. */
    readonly writes: string[];
    /** Requests the nodes answered, and those they dropped because they came on a reused connection. */
    readonly answered: { method: string; testId: string }[];
    readonly dropped: { method: string; testId: string }[];
}

/** Sends 20 POSTs, 10 PATCHes, then 4 GETs, one after another on one kept-alive client connection. */
async function run(engine: EdgeEngine, bin: EdgeBinary, broken: boolean): Promise<Run> {
    const tmp = tempDir(`edge-writes-${engine}`);
    const nodes: Started[] = [];
    let edge: Started | undefined;
    try {
        const ca = [fs.readFileSync(makeTestCert(tmp.dir, "a", ["a.example.com"]).caFile, "utf8")];
        const nodePort = await freePort();
        for (const n of NODES)
            nodes.push(await startBackend(n.name, n.address, [`web=${nodePort}`, "drop-reused"]));
        const spec: EdgeSpec = {
            routes: [httpRoute("web", nodePort)],
            backends: NODES,
            certificates: [{ name: "a", hosts: ["a.example.com"] }],
        };
        const common = {
            listenAddress: "127.0.0.1",
            httpPort: await freePort(),
            httpsPort: await freePort(),
            certDir: tmp.dir,
        };
        if (engine === "nginx") {
            let config = renderNginxConfig(spec, {
                ...common,
                version: bin.renderVersion as NginxVersion,
                ...nginxTestPaths(tmp.dir),
            });
            if (broken) config = config.replace(/\$keelson_pool;/g, ";");
            const { live } = writeNginxConfigs(tmp.dir, config);
            edge = await launchEdge(bin, ["-c", live, "-g", "daemon off;"], [tmp.dir], common.httpsPort);
        } else {
            let config = renderHaproxyConfig(spec, {
                ...common,
                version: bin.renderVersion as HaproxyVersion,
                ...haproxyTestOptions(tmp.dir),
            });
            if (broken) config = config.replace(/^ *use_backend web\.writes .*\n/m, "");
            const file = path.join(tmp.dir, "haproxy.cfg");
            fs.writeFileSync(file, config);
            edge = await launchEdge(bin, ["-W", "-db", "-f", file], [tmp.dir], common.httpsPort);
        }
        const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
        const send = (method: string, i: number) =>
            call({
                port: common.httpsPort,
                host: "a.example.com",
                path: "/",
                tls: true,
                ca,
                agent,
                method,
                headers: { "x-test-id": `${method.toLowerCase()}-${i}` },
                ...(method === "GET" ? {} : { body: "order=1" }),
            }).then(
                (r) => `${method} ${r.status}`,
                (e: Error) => `${method} ${e.message}`,
            );
        const writes: string[] = [];
        for (let i = 1; i <= 20; i++) writes.push(await send("POST", i));
        for (let i = 1; i <= 10; i++) writes.push(await send("PATCH", i));
        for (let i = 1; i <= 4; i++) await send("GET", i);
        agent.destroy();
        const dropped = nodes.flatMap((n) =>
            [...n.output().matchAll(/^dropped \S+ (\S+) \S+ (\S+)$/gm)].map((m) => ({
                method: m[1],
                testId: m[2],
            })),
        );
        return { writes, answered: nodes.flatMap((n) => loggedRequests(n)), dropped };
    } catch (e) {
        if (edge) console.log(edge.output().slice(-3000));
        throw e;
    } finally {
        await edge?.stop();
        for (const n of nodes) await n.stop();
        tmp.cleanup();
    }
}

function describeWrites(engine: EdgeEngine): void {
    describe(`edge live: ${engine} sends writes on new connections`, function () {
        this.timeout(60000);
        let bin: EdgeBinary;
        before(function () {
            bin = requireEdge(this, engine);
        });

        it("answers every POST and PATCH although the nodes drop each reused connection", async () => {
            const r = await run(engine, bin, false);
            assert.deepEqual(r.writes, [...Array(20).fill("POST 200"), ...Array(10).fill("PATCH 200")]);
            // Each write reached a node exactly once, and none came on a reused connection.
            const writes = r.answered.filter((a) => a.method !== "GET").map((a) => a.testId);
            assert.equal(writes.length, 30);
            assert.equal(new Set(writes).size, 30);
            assert.deepEqual(
                r.dropped.filter((d) => d.method !== "GET"),
                [],
            );
        });

        it("guard: with the writes on the kept-alive upstream, POSTs fail", async () => {
            const r = await run(engine, bin, true);
            const failed = r.writes.filter((w) => !w.endsWith(" 200"));
            assert.ok(failed.length > 0, `every write answered: ${r.writes.join(", ")}`);
            assert.ok(
                r.dropped.some((d) => d.method === "POST"),
                `no POST reached a reused connection: ${JSON.stringify(r)}`,
            );
        });
    });
}

describeWrites("nginx");
describeWrites("haproxy");
