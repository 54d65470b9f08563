// Pure tests of the edge benchmark's parsers: a broken run must never read as a fast one.
import * as assert from "node:assert/strict";
import { parseSTime, parseWrk } from "../../tools/bench/edge/wrk";

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
});
