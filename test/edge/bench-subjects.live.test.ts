// Live: every subject of the edge benchmark answers the load the benchmark gives it (wrk over TLS to
// 127.0.0.1 with the site's Host header) without one failed request, so that no peer sits in the
// table as "slow" while it really fails every request (Caddy did, until its site named the address
// wrk sends as SNI).
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { renderCaddyfile } from "../../tools/bench/edge/peers";
import { BenchRig, openRig } from "../../tools/bench/edge/subjects";
import { runWrk } from "../../tools/bench/edge/wrk";
import { requireTool, startProcess, tempDir } from "../support/live";
import { waitForAddress } from "../../tools/bench/edge/host";
import { requireEdge } from "./engines";

describe("live: the edge benchmark's subjects", function () {
    this.timeout(180000);
    let rig: BenchRig;
    let caddy: string;

    before(async function () {
        const nginx = requireEdge(this, "nginx");
        const haproxy = requireEdge(this, "haproxy");
        caddy = requireTool(this, "caddy");
        requireTool(this, "wrk");
        rig = await openRig({ nginx, haproxy, caddy });
    });
    after(async () => rig?.close());
    /** A short load as the bench gives it: TLS to the rig's address with the site's Host header. */
    const wrkOneSecond = () =>
        runWrk({ url: rig.url, headers: rig.headers, seconds: 1, connections: 4, threads: 1 });

    for (const name of [
        "tls-limit",
        "keelson-nginx",
        "keelson-haproxy",
        "ingress-nginx",
        "haproxy-guided",
        "caddy",
        "naive-nginx",
    ]) {
        it(`${name} answers wrk over TLS with no failed request`, async () => {
            const subject = rig.subjects.find((s) => s.name === name)!;
            const p = await subject.start("ecdsa");
            try {
                const r = await wrkOneSecond();
                assert.ok(r.requests > 50, `${name}: only ${r.requests} requests in 1 s`);
                assert.equal(r.failures, 0, `${name}: ${r.failures} of ${r.requests} requests failed`);
            } finally {
                await rig.stop(p);
            }
        });
    }

    it("the check fires: a Caddyfile whose site lacks the listen address fails every wrk request", async () => {
        const tmp = tempDir("bench-caddy-broken");
        const text = renderCaddyfile(rig.site("ecdsa", ""));
        const broken = text.replace(`, https://127.0.0.1:${rig.httpsPort} {`, " {");
        assert.notEqual(broken, text);
        const file = path.join(tmp.dir, "Caddyfile");
        fs.writeFileSync(file, broken);
        const env = [`HOME=${tmp.dir}`, `XDG_DATA_HOME=${tmp.dir}`, `XDG_CONFIG_HOME=${tmp.dir}`];
        const p = startProcess("env", [...env, caddy, "run", "--config", file, "--adapter", "caddyfile"]);
        try {
            await waitForAddress("127.0.0.1", rig.httpsPort, 20000);
            const r = await wrkOneSecond();
            assert.equal(r.requests, 0, `expected no answered request, got ${JSON.stringify(r)}`);
            assert.ok(r.failures > 0, `expected TLS failures, got ${JSON.stringify(r)}`);
        } finally {
            await p.stop();
            tmp.cleanup();
        }
    });
});
