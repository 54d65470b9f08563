// Pure tests of the edge benchmark's parsers: a broken run must never read as a fast one.
import * as assert from "node:assert/strict";
import { Sample, failedSubjects, perCpu, ratios, spread, summarize } from "../../tools/bench/edge/report";
import { parseChildCpu, parseSTime, parseWrk } from "../../tools/bench/edge/wrk";

const WRK = `Running 8s test @ https://127.0.0.1:41234/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms    3.10ms  61.18ms   91.02%
    Req/Sec    14.03k     1.52k   17.41k    71.25%
  Latency Distribution
     50%    1.63ms
     75%    2.66ms
     90%    5.42ms
     99%   15.87ms
  223285 requests in 8.00s, 42.59MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  27903.14
Transfer/sec:      5.32MB
`;

describe("tools/bench/edge parsers", () => {
    it("reads requests/s, p99 in ms and failures (socket errors plus non-2xx) from wrk", () => {
        assert.deepEqual(parseWrk(WRK), { rps: 27903.14, p99_ms: 15.87, failures: 12, requests: 223285 });
        const us = WRK.replace("99%   15.87ms", "99%  870.00us")
            .replace(/  Socket errors.*\n/, "")
            .replace(/  Non-2xx.*\n/, "");
        assert.deepEqual(parseWrk(us), { rps: 27903.14, p99_ms: 0.87, failures: 0, requests: 223285 });
        assert.equal(parseWrk(WRK.replace("99%   15.87ms", "99%    1.20s")).p99_ms, 1200);
    });

    it("refuses wrk output without the figures", () => {
        assert.throws(
            () => parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"),
            /unreadable wrk output/,
        );
    });

    it("reads the connection count from openssl s_time", () => {
        const out = [
            "Collecting connection statistics for 5 seconds",
            "tttttttttt",
            "",
            "2911 connections in 2.07s; 1406.28 connections/user sec, bytes read 0",
            "2911 connections in 6 real seconds, 0 bytes read per connection",
            "",
        ].join("\n");
        assert.equal(parseSTime(out), 2911);
        assert.throws(() => parseSTime("ERROR\n"), /unreadable openssl s_time output/);
    });

    it("reads the waited-for children's CPU (cutime + cstime) from /proc/<pid>/stat", () => {
        const stat = "4242 (sh) S 1 4242 4242 0 -1 4194304 120 300 0 0 1 2 137 25 20 0 1 0 99 2000 100";
        assert.equal(parseChildCpu(stat), 1.62);
    });
});

describe("tools/bench/edge report", () => {
    const sample = (
        subject: string,
        kind: Sample["kind"],
        round: number,
        requests: number,
        cpu: number,
    ): Sample => ({
        subject,
        kind,
        round,
        rps: requests / 8,
        requests,
        failures: 0,
        p99_ms: 10,
        proxy_cpu_s: cpu,
    });
    const samples = [1, 2, 3].flatMap((r) => [
        sample("tls-limit", "limit", r, 80000, 1),
        sample("keelson-nginx", "keelson", r, 60000 + r * 1000, 1),
        sample("caddy", "peer", r, 20000, 1),
        sample("ingress-nginx", "peer", r, r === 2 ? 70000 : 40000, 1),
    ]);

    it("takes the median and range, and refuses an empty list", () => {
        assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3 });
        assert.deepEqual(spread([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4 });
        assert.throws(() => spread([]), /spread of no values/);
        assert.ok(Number.isNaN(perCpu({ requests: 5, proxy_cpu_s: 0 })));
    });

    it("summarizes each subject over its rounds", () => {
        const nginx = summarize(samples).find((s) => s.subject === "keelson-nginx")!;
        assert.deepEqual(nginx.per_proxy_cpu_second, { median: 62000, min: 61000, max: 63000 });
        assert.equal(nginx.kind, "keelson");
    });

    it("compares each Keelson engine with the limit and the best peer of the same round", () => {
        const r = ratios(samples)["keelson-nginx"];
        assert.deepEqual(r.best_peers, ["ingress-nginx", "ingress-nginx", "ingress-nginx"]);
        assert.deepEqual(r.vs_tls_limit, { median: 0.775, min: 0.762, max: 0.787 });
        // Round 2's best peer did 70,000: that round's ratio is 62/70, the others 61/40 and 63/40.
        assert.deepEqual(r.vs_best_peer, { median: 1.525, min: 0.886, max: 1.575 });
    });

    it("names every subject with a failed request, peers included, so the bench exits 1", () => {
        assert.deepEqual(failedSubjects(summarize(samples)), []);
        const broken = [...samples, { ...sample("caddy", "peer", 4, 0, 1), failures: 4701 }];
        assert.deepEqual(failedSubjects(summarize(broken)), ["caddy (4701 failed requests)"]);
    });
});
