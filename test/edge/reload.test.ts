// Live: what the hosts' `sync` does when workers change (new config, then a reload) loses no request.
// nginx reloads on SIGHUP; haproxy in master-worker mode (as Debian's unit runs it) on SIGUSR2.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeEngine, EdgeSpec } from "../../components/edge/types";
import { Started, freePort, makeTestCert, requireTool, tempDir } from "../support/live";
import { requireEdge } from "./engines";
import { Reply, call, launchEdge, loadLoop, nginxTestPaths, startBackend } from "./harness";
import { httpRoute } from "./routes";

function describeReload(engine: EdgeEngine): void {
    describe(`edge live: ${engine} reload with a new worker`, function () {
        this.timeout(60000);
        let tmp: { dir: string; cleanup: () => void };
        const started: Started[] = [];

        before(function () {
            requireEdge(this, engine);
            requireTool(this, "openssl");
            tmp = tempDir(`edge-reload-${engine}`);
        });

        after(async () => {
            for (const p of started.reverse()) await p.stop();
            tmp?.cleanup();
        });

        it("keeps answering every request while the config changes under load", async function () {
            const bin = requireEdge(this, engine);
            const ca = [fs.readFileSync(makeTestCert(tmp.dir, "site", ["a.example.com"]).caFile, "utf8")];
            const nodePort = await freePort();
            started.push(await startBackend("b1", "127.0.0.2", [`web=${nodePort}`]));
            started.push(await startBackend("b2", "127.0.0.3", [`web=${nodePort}`]));
            const spec = (workers: number): EdgeSpec => ({
                routes: [httpRoute("web", nodePort)],
                backends: [
                    { name: "b1", address: "127.0.0.2" },
                    { name: "b2", address: "127.0.0.3" },
                ].slice(0, workers),
                certificates: [{ name: "site", hosts: ["a.example.com"] }],
            });
            const httpsPort = await freePort();
            const common = {
                listenAddress: "127.0.0.1",
                httpPort: await freePort(),
                httpsPort,
                certDir: tmp.dir,
            };
            const file = path.join(tmp.dir, engine === "nginx" ? "nginx.conf" : "haproxy.cfg");
            const render = (workers: number) =>
                engine === "nginx"
                    ? renderNginxConfig(spec(workers), {
                          ...common,
                          ...nginxTestPaths(tmp.dir),
                          version: bin.renderVersion as NginxVersion,
                      })
                    : renderHaproxyConfig(spec(workers), {
                          ...common,
                          user: "",
                          log: "stdout format raw local0",
                          statsSocket: path.join(tmp.dir, "admin.sock"),
                          maxconn: 1000,
                          version: bin.renderVersion as HaproxyVersion,
                      });
            fs.writeFileSync(file, render(1));
            const args =
                engine === "nginx"
                    ? ["-p", tmp.dir, "-c", file, "-g", "daemon off;"]
                    : ["-W", "-db", "-f", file];
            const edge = await launchEdge(bin, args, [tmp.dir], httpsPort);
            started.push(edge);

            let reloadedAt = -1;
            // A new TLS connection per request: a reload must never refuse or reset one.
            const send = () => call({ port: httpsPort, host: "a.example.com", path: "/", tls: true, ca });
            const { replies, failures } = await loadLoop(300, 8, send, (done, sofar) => {
                if (done !== 100) return;
                reloadedAt = sofar.length;
                fs.writeFileSync(file, render(2));
                edge.child.kill(engine === "nginx" ? "SIGHUP" : "SIGUSR2");
            });
            assert.deepEqual(failures, []);
            assert.equal(replies.length, 300);
            const ids = (rs: Reply[]) => [...new Set(rs.map((r) => r.json?.id))].sort();
            assert.deepEqual(ids(replies.slice(0, reloadedAt)), ["b1"]);
            // The last 100 requests start well after the reload: both workers serve them.
            assert.deepEqual(ids(replies.slice(200)), ["b1", "b2"]);
        });
    });
}

describeReload("nginx");
describeReload("haproxy");
