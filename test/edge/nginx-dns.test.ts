// Live: nginx rendered by Keelson in front of a backend given by DNS name (the workers' NLB), with the host's
// health loop (render/health.ts). nginx 1.26 resolves a server's name only when it loads its config; the loop
// resolves the names each round and reloads nginx when their addresses change, so an address the name gains
// (an NLB zone added) takes traffic and one it loses stops taking it, within a few seconds. The name is
// resolved through a hosts file bind-mounted over /etc/hosts for nginx and for the loop (libc's getaddrinfo
// for nginx, getent for the loop: what the VPC resolver answers on a host). The guard runs the loop without
// the resolution: nginx keeps the addresses of its last load.
import * as assert from "node:assert/strict";
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeSpec } from "../../components/edge/types";
import { Started, freePort, makeTestCert, tempDir } from "../support/live";
import { EdgeBinary, requireEdge } from "./engines";
import { call, nginxTestPaths, startBackend, startEdge, startHealthLoop, writeNginxConfigs } from "./harness";
import { httpRoute } from "./routes";

const NAME = "workers.keelson.test";
const ZONES = [
    { id: "z1", address: "127.0.0.2" },
    { id: "z2", address: "127.0.0.3" },
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeNginxDns(loop: "keelson" | "without resolution"): void {
    const guard = loop !== "keelson";
    describe(`edge nginx, a backend by DNS name: ${guard ? "guard: the health loop without name resolution" : "the health loop follows DNS"}`, function () {
        this.timeout(120000);
        let bin: EdgeBinary;
        let tmp: { dir: string; cleanup: () => void };
        let ca: string[];
        let httpsPort: number;
        let hosts: string;
        let edge: Started;
        let health: ChildProcess;
        let healthLog = "";
        const backends: Started[] = [];

        const setHosts = (addresses: string[]) =>
            fs.writeFileSync(
                hosts,
                `127.0.0.1 localhost\n${addresses.map((a) => `${a} ${NAME}\n`).join("")}`,
            );
        /** `n` requests, each on a new connection (a reload closes idle ones); the node of each, or its error. */
        const requests = async (n: number): Promise<string[]> => {
            const out: string[] = [];
            for (let i = 0; i < n; i++) {
                const agent = new https.Agent({ keepAlive: false });
                try {
                    const r = await call({
                        port: httpsPort,
                        host: "a.example.com",
                        path: "/",
                        tls: true,
                        ca,
                        agent,
                    });
                    out.push(r.status === 200 ? String(r.json?.id) : `status ${r.status}`);
                } catch (e) {
                    out.push(`error ${(e as Error).message}`);
                } finally {
                    agent.destroy();
                }
            }
            return out;
        };
        /** Seconds until a round of 10 requests satisfies `ok`, or undefined after `ms`; every answer is kept. */
        const until = async (ok: (round: string[]) => boolean, seen: string[], ms = 12000) => {
            const since = Date.now();
            while (Date.now() - since < ms) {
                const round = await requests(10);
                seen.push(...round);
                if (ok(round)) return (Date.now() - since) / 1000;
                await sleep(200);
            }
            return undefined;
        };

        before(async function () {
            bin = requireEdge(this, "nginx");
            tmp = tempDir(`edge-nginx-dns-${guard ? "guard" : "keelson"}`);
            ca = [fs.readFileSync(makeTestCert(tmp.dir, "a", ["a.example.com"]).caFile, "utf8")];
            httpsPort = await freePort();
            const nodePort = await freePort();
            for (const z of ZONES) backends.push(await startBackend(z.id, z.address, [`web=${nodePort}`]));
            hosts = path.join(tmp.dir, "hosts");
            setHosts([ZONES[0].address]);
            const spec: EdgeSpec = {
                routes: [httpRoute("web", nodePort)],
                backends: [{ name: "workers", address: NAME }],
                certificates: [{ name: "a", hosts: ["a.example.com"] }],
            };
            const config = renderNginxConfig(spec, {
                version: bin.renderVersion as NginxVersion,
                listenAddress: "127.0.0.1",
                httpPort: await freePort(),
                httpsPort,
                certDir: tmp.dir,
                ...nginxTestPaths(tmp.dir),
            });
            const { live, desired } = writeNginxConfigs(tmp.dir, config);
            const c = bin.command(["-c", live, "-g", "daemon off;"], [tmp.dir], { "/etc/hosts": hosts });
            edge = await startEdge(c.cmd, c.args, httpsPort);
            health = startHealthLoop(bin, tmp.dir, desired, live, edge.child.pid!, {
                hosts,
                // The guard: the loop as it was before it resolved names (a resolution that never answers).
                patch: guard
                    ? (s) => s.replace(/^health\s*$/m, "resolved_names() { return 1; }\nhealth")
                    : undefined,
            });
            health.stderr?.on("data", (d) => (healthLog += String(d)));
            await sleep(3000); // the loop records what the name resolves to as it starts
        });

        after(async () => {
            health?.kill("SIGTERM");
            await edge?.stop();
            for (const b of backends) await b.stop();
            tmp?.cleanup();
        });

        it(
            guard
                ? "keeps the address of nginx's last load: a second address gets no request"
                : "sends to an address the name gains within seconds, and none to one it loses; no request fails",
            async () => {
                const seen: string[] = [];
                assert.deepEqual([...new Set(await requests(10))], ["z1"]);
                setHosts([ZONES[0].address, ZONES[1].address]);
                const gained = await until((round) => round.includes("z2"), seen);
                if (guard) {
                    assert.equal(gained, undefined, `z2 answered ${gained} s after it was added`);
                    assert.deepEqual([...new Set(seen)], ["z1"]);
                    assert.doesNotMatch(healthLog, /upstream addresses changed/);
                    return;
                }
                assert.ok(gained !== undefined && gained < 8, `z2 took no request (${gained} s)`);
                assert.match(
                    healthLog,
                    new RegExp(
                        `upstream addresses changed \\(now: ${NAME.replace(/\./g, "\\.")} 127\\.0\\.0\\.2 127\\.0\\.0\\.3 \\): reloading nginx`,
                    ),
                );
                // Both addresses answer once both resolve.
                const both = await requests(30);
                assert.deepEqual([...new Set(both)].sort(), ["z1", "z2"]);
                // A name that does not resolve (a resolver outage) keeps what nginx has: no reload, both answer.
                const changes = (healthLog.match(/upstream addresses changed/g) ?? []).length;
                setHosts([]);
                await sleep(5000);
                const outage = await requests(30);
                assert.deepEqual([...new Set(outage)].sort(), ["z1", "z2"]);
                assert.equal((healthLog.match(/upstream addresses changed/g) ?? []).length, changes);
                both.push(...outage);
                setHosts([ZONES[1].address]);
                const lost = await until((round) => round.every((n) => n === "z2"), seen);
                assert.ok(lost !== undefined && lost < 8, `z1 still takes requests (${lost} s)`);
                console.log(
                    `      nginx by DNS name: a gained address answered after ${gained} s, a lost one stopped after ${lost} s, ${seen.length + both.length + 20} requests`,
                );
                const after = await requests(20);
                assert.deepEqual([...new Set(after)], ["z2"]);
                assert.deepEqual(
                    [...seen, ...both, ...after].filter((n) => !/^z[12]$/.test(n)),
                    [],
                    "failed requests",
                );
            },
        );
    });
}

describeNginxDns("keelson");
describeNginxDns("without resolution");
