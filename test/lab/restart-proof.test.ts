// The restart proof's judge (tools/lab/restart.ts), without the lab: the bound it reads from the
// rendered bootstrap, the stub's attempt log it parses, and what it accepts and refuses.
import assert from "node:assert/strict";
import * as YAML from "yaml";
import { BOOTSTRAP_UNIT } from "../../components/cluster/render/units";
import {
    bootstrapUnitSetting,
    restartChecks,
    RestartObservation,
    spanSeconds,
    ssmReadBound,
    unitEvents,
} from "../../tools/lab/restart";
import { renderMatrix } from "../cluster/fixtures";

const worker = renderMatrix().find((m) => m.node.role === "worker")!.rendered.userData;
const U = BOOTSTRAP_UNIT;
const ok = [
    "1796216000.100 keelson-bootstrap.service: attempt 1 starting",
    "2026-12-02T13:00:00Z keelson-bootstrap[general/worker]: read /keelson/x from SSM: attempt 30/30 failed; next in 10s",
    "1796216400.000 keelson-bootstrap.service: attempt 1 failed (exit status 1)",
    "1796216400.050 keelson-bootstrap.service: failed; restart 1 in 10s (lab time scale 1: 10s)",
    "1796216410.200 keelson-bootstrap.service: attempt 2 starting",
    "1796216500.000 keelson-bootstrap.service: attempt 2 finished",
].join("\n");
const history = (...values: string[]) =>
    values.map((value, i) => ({
        version: i + 1,
        writtenBy: "w",
        at: i,
        value: `${value} 2026-12-02T13:00:00Z i-1`,
    }));
const base: RestartObservation = {
    label: "w",
    userData: worker,
    log: ok,
    deniedReads: 30,
    deniedForMs: 301_000,
    report: {
        value: "ready",
        type: "String",
        history: history("installing", "failed", "installing", "joining", "ready"),
    },
    timeScale: 1,
};
const failing = (o: Partial<RestartObservation>) =>
    restartChecks({ ...base, ...o })
        .filter((c) => !c.ok)
        .map((c) => c.check);

describe("lab: the restart proof's checks", () => {
    it("reads the bounds from the rendered worker: 30 SSM reads 10 s apart, RestartSec=10s", () => {
        assert.deepEqual(ssmReadBound(worker), { attempts: 30, intervalSeconds: 10 });
        assert.equal(bootstrapUnitSetting(worker, "RestartSec"), "10s");
        assert.equal(bootstrapUnitSetting(worker, "Restart"), "on-failure");
        const files = YAML.parse(worker).write_files as { path: string }[];
        assert.ok(files.some((f) => f.path === `/etc/systemd/system/${U}`));
        assert.deepEqual(["10s", "10", "100ms", "10min", "1min 30s", "x"].map(spanSeconds), [
            10,
            10,
            0.1,
            600,
            90,
            NaN,
        ]);
    });

    it("parses the stub's lines and skips the script's", () => {
        assert.deepEqual(
            unitEvents(ok, U).map((e) => [e.kind, e.n, e.delaySeconds]),
            [
                ["starting", 1, undefined],
                ["failed", 1, undefined],
                ["restart", 1, 10],
                ["starting", 2, undefined],
                ["finished", 2, undefined],
            ],
        );
    });

    it("passes a failed first attempt restarted by systemd to ready, and nothing less", () => {
        assert.deepEqual(failing({}), []);
        // One attempt only (no Restart=): three checks fail.
        const once = ok.split("\n").slice(0, 3).join("\n");
        assert.deepEqual(
            failing({ log: once, report: { ...base.report!, history: history("installing", "failed") } })
                .length,
            4,
        );
        // Restarted too early for the scale, or by another delay than RestartSec.
        assert.match(
            failing({ log: ok.replace("1796216410.200", "1796216405.000") })[0],
            /restarted it after RestartSec=10s/,
        );
        assert.match(
            failing({ log: ok.replace("restart 1 in 10s", "restart 1 in 16.6828s") })[0],
            /RestartSec/,
        );
        // With a time scale the scaled delay is the bound.
        assert.deepEqual(
            failing({ log: ok.replace("1796216410.200", "1796216401.100"), timeScale: 0.1 }),
            [],
        );
        // The script's last read did not fail, no read was denied, or denied for less than 300 s: the first
        // attempt did not exhaust its bound under the fault.
        assert.match(
            failing({ log: ok.replace("attempt 30/30", "attempt 29/30") })[0],
            /own bound, 30 reads 10 s apart/,
        );
        assert.match(failing({ deniedReads: 0 })[0], /own bound, 30 reads 10 s apart/);
        assert.match(failing({ deniedReads: 31 })[0], /own bound/);
        assert.deepEqual(failing({ deniedReads: 28 }), []);
        assert.match(failing({ deniedForMs: 299_000 })[0], /own bound/);
        // Never failed in SSM, or not ready at the end.
        assert.match(
            failing({ report: { ...base.report!, history: history("installing", "ready") } })[0],
            /failed, then ready/,
        );
        assert.match(
            failing({ report: { ...base.report!, history: history("failed", "ready", "failed") } })[0],
            /failed, then ready/,
        );
    });
});
