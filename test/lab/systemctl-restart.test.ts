// The lab's systemctl stub (tools/lab/node/bin/systemctl) restarts a failed Type=oneshot service as
// systemd 257 does (Restart=, RestartSec=, RestartSteps=, RestartMaxDelaySec=, the start limit): the
// bootstrap unit relies on it, and nothing else in the lab would notice if it did not. Runs the stub
// with bash in a temporary root (its directories overridden), the delays scaled down; no root needed.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderBootstrapUnit } from "../../components/cluster/render/units";
import { requireTool, tempDir } from "../support/live";

const STUB = path.join(__dirname, "../../tools/lab/node/bin/systemctl");

/** systemd 257's service_restart_usec_next() in seconds, for restart k (1-based). */
function systemdDelay(k: number, sec: number, steps: number, max: number): number {
    if (k <= 1 || steps === 0 || sec === 0 || sec >= max) return sec;
    if (k > steps) return max;
    return Math.trunc(sec * 1e6 * Math.pow(max / sec, (k - 1) / steps)) / 1e6;
}

interface Line {
    readonly at: number;
    readonly text: string;
}

class Root {
    readonly t = tempDir("systemctl");
    readonly env: NodeJS.ProcessEnv;

    constructor(scale: number) {
        for (const d of ["run", "log", "units"]) fs.mkdirSync(path.join(this.t.dir, d));
        this.env = {
            PATH: process.env.PATH,
            KEELSON_LAB_UNITS_RUN: path.join(this.t.dir, "run"),
            KEELSON_LAB_UNITS_LOG: path.join(this.t.dir, "log"),
            KEELSON_LAB_UNIT_PATH: path.join(this.t.dir, "units"),
            KEELSON_LAB_TIME_SCALE: String(scale),
        };
    }

    /** A unit whose ExecStart counts its runs in a file and fails until run `succeedAt` (0: never). */
    unit(name: string, settings: string, succeedAt = 0): void {
        const count = path.join(this.t.dir, `${name}.count`);
        const script = path.join(this.t.dir, `${name}.sh`);
        fs.writeFileSync(
            script,
            `#!/bin/bash\nn=$(($(cat ${count} 2>/dev/null || echo 0) + 1))\necho "$n" >${count}\necho "run $n"\n` +
                (succeedAt ? `[[ $n -ge ${succeedAt} ]]\n` : "exit 1\n"),
            { mode: 0o755 },
        );
        fs.writeFileSync(
            path.join(this.t.dir, "units", `${name}.service`),
            settings.replace("EXEC", script).replace(/^\s+/gm, ""),
        );
    }

    systemctl(...args: string[]): { code: number; out: string; err: string } {
        const r = spawnSync("bash", [STUB, ...args], { env: this.env, encoding: "utf8", timeout: 60000 });
        return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim() };
    }

    /** The stub's own lines in the unit's log (its command output left out), with their times. */
    lines(unit: string): Line[] {
        const f = path.join(this.t.dir, "log", `${unit}.log`);
        if (!fs.existsSync(f)) return [];
        return fs
            .readFileSync(f, "utf8")
            .split("\n")
            .map((l) => /^(\d+\.\d+) (\S+): (.*)$/.exec(l))
            .filter((m): m is RegExpExecArray => !!m && m[2] === unit)
            .map((m) => ({ at: Number(m[1]), text: m[3] }));
    }

    runs(name: string): number {
        const f = path.join(this.t.dir, `${name}.count`);
        return fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0;
    }

    async until(what: string, ok: () => boolean, ms = 30000): Promise<void> {
        const end = Date.now() + ms;
        while (!ok()) {
            if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 50));
        }
    }

    cleanup(): void {
        this.systemctl("stop", ...fs.readdirSync(path.join(this.t.dir, "units")));
        this.t.cleanup();
    }
}

describe("lab: systemctl stub, Restart= of a oneshot service (systemd 257)", function () {
    this.timeout(120000);
    let root: Root | undefined;
    afterEach(() => {
        root?.cleanup();
        root = undefined;
    });

    it("restarts the bootstrap unit after each failure with systemd's delays until an attempt succeeds", async () => {
        const scale = 0.01;
        root = new Root(scale);
        // The unit as Keelson renders it, with a script that fails twice.
        root.unit("boot", renderBootstrapUnit("EXEC"), 3);
        assert.equal(root.systemctl("start", "--no-block", "boot.service").code, 0);
        const active = root.systemctl("is-active", "boot.service");
        assert.deepEqual([active.out, active.code], ["activating", 3]);
        await root.until("the third attempt", () =>
            root!.lines("boot.service").some((l) => /finished/.test(l.text)),
        );
        const lines = root.lines("boot.service");
        assert.deepEqual(
            lines.map((l) => l.text.replace(/\(exit status \d+\)/, "(exit)")),
            [
                "attempt 1 starting",
                "attempt 1 failed (exit)",
                "failed; restart 1 in 10s (lab time scale 0.01: 0.1s)",
                "attempt 2 starting",
                "attempt 2 failed (exit)",
                "failed; restart 2 in 16.6828s (lab time scale 0.01: 0.166828s)",
                "attempt 3 starting",
                "attempt 3 finished",
            ],
        );
        // Each next attempt starts no sooner than the scaled delay after the failure.
        const at = (t: string) => lines.find((l) => l.text === t)!.at;
        const failedAt = (n: number) => lines.find((l) => l.text.startsWith(`attempt ${n} failed`))!.at;
        assert.ok(at("attempt 2 starting") - failedAt(1) >= 10 * scale, "restart 1 waited RestartSec");
        assert.ok(at("attempt 3 starting") - failedAt(2) >= 16.6828 * scale, "restart 2 waited longer");
        assert.equal(root.runs("boot"), 3);
        // RemainAfterExit=yes: active once an attempt succeeded; a start then runs nothing.
        assert.deepEqual(root.systemctl("is-active", "boot").out, "active");
        assert.equal(root.systemctl("start", "boot").code, 0);
        assert.equal(root.runs("boot"), 3);
    });

    it("waits as systemd 257 computes it: RestartSec grown to RestartMaxDelaySec over RestartSteps", async () => {
        root = new Root(0.0001);
        root.unit(
            "steps",
            `[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=EXEC\nRestart=on-failure\nRestartSec=10s\nRestartSteps=8\nRestartMaxDelaySec=10min\n`,
            11,
        );
        assert.equal(root.systemctl("start", "--no-block", "steps").code, 0);
        await root.until("the 11th attempt", () =>
            root!.lines("steps.service").some((l) => /finished/.test(l.text)),
        );
        const delays = root
            .lines("steps.service")
            .map((l) => /^failed; restart (\d+) in ([\d.]+)s/.exec(l.text))
            .filter((m): m is RegExpExecArray => !!m)
            .map((m) => [Number(m[1]), Number(m[2])]);
        assert.deepEqual(
            delays.map(([k]) => k),
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        for (const [k, d] of delays) {
            const want = systemdDelay(k, 10, 8, 600);
            assert.ok(Math.abs(d - want) <= want * 1e-5, `restart ${k}: ${d}s, systemd waits ${want}s`);
        }
        // 10s, 16.7s ... 359.7s, then RestartMaxDelaySec from restart RestartSteps+1 on.
        assert.deepEqual(
            delays.map(([, d]) => Math.round(d * 10) / 10),
            [10, 16.7, 27.8, 46.4, 77.5, 129.2, 215.6, 359.7, 600, 600],
        );
    });

    it("ends the restart loop on stop, in the delay or in an attempt", async () => {
        root = new Root(0.1);
        root.unit(
            "loop",
            `[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=EXEC\nRestart=on-failure\nRestartSec=10s\n`,
        );
        root.systemctl("start", "--no-block", "loop");
        await root.until("the first restart", () =>
            root!.lines("loop.service").some((l) => l.text.startsWith("failed; restart 1")),
        );
        assert.equal(root.systemctl("is-active", "loop").out, "activating");
        assert.equal(root.systemctl("stop", "loop").code, 0);
        assert.deepEqual(
            [root.systemctl("is-active", "loop").out, root.systemctl("is-active", "loop").code],
            ["inactive", 3],
        );
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal(root.runs("loop"), 1, "no attempt after the stop (the delay was 1 s)");
        assert.equal(root.lines("loop.service").at(-1)?.text, "stopped");
        // A stop during an attempt ends it too (its process group), and nothing restarts.
        fs.writeFileSync(
            path.join(root.t.dir, "loop.sh"),
            "#!/bin/bash\necho run >>" + path.join(root.t.dir, "slow.count") + "\nsleep 30\n",
        );
        root.systemctl("start", "--no-block", "loop");
        await root.until("the slow attempt", () => fs.existsSync(path.join(root!.t.dir, "slow.count")));
        root.systemctl("stop", "loop");
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(fs.readFileSync(path.join(root.t.dir, "slow.count"), "utf8"), "run\n");
        assert.equal(root.systemctl("is-active", "loop").out, "inactive");
        const ps = spawnSync("pgrep", ["-f", path.join(root.t.dir, "loop.sh")], { encoding: "utf8" });
        assert.equal(ps.stdout.trim(), "", "the attempt's processes are gone");
    });

    it("hits the default start limit (5 starts within 10 s) when StartLimitIntervalSec= is not set", async () => {
        root = new Root(1);
        // RestartSec= unset: systemd's default 100ms.
        root.unit("limited", `[Service]\nType=oneshot\nExecStart=EXEC\nRestart=on-failure\n`);
        root.systemctl("start", "--no-block", "limited");
        await root.until("the start limit", () =>
            root!.lines("limited.service").some((l) => /start-limit-hit/.test(l.text)),
        );
        const lines = root.lines("limited.service");
        assert.equal(lines.filter((l) => / starting$/.test(l.text)).length, 5);
        assert.equal(lines.filter((l) => /^failed; restart \d+ in 0\.1s/.test(l.text)).length, 5);
        assert.match(
            lines.at(-1)!.text,
            /^start request repeated too quickly \(StartLimitBurst=5 within StartLimitIntervalSec=10s\): failed with result start-limit-hit$/,
        );
        assert.ok(lines.at(-1)!.at - lines[0].at < 10, "all within the 10 s window");
        assert.equal(root.runs("limited"), 5);
        assert.deepEqual(
            [root.systemctl("is-active", "limited").out, root.systemctl("is-active", "limited").code],
            ["failed", 3],
        );
        // A manual start inside the window is refused too; reset-failed clears the limit.
        const again = root.systemctl("start", "limited");
        assert.deepEqual(
            [again.code, again.err],
            [1, "Job for limited.service failed because start of the service was attempted too often."],
        );
        assert.equal(root.runs("limited"), 5);
        root.systemctl("reset-failed", "limited");
        assert.equal(root.systemctl("is-active", "limited").out, "inactive");
        const after = root.systemctl("start", "limited");
        assert.equal(after.code, 1, "the first attempt fails the start job");
        assert.ok(root.runs("limited") >= 6);
    });

    it("never hits a limit with StartLimitIntervalSec=0", async () => {
        root = new Root(1);
        root.unit(
            "unlimited",
            `[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=EXEC\nRestart=on-failure\nRestartSec=0\n`,
        );
        root.systemctl("start", "--no-block", "unlimited");
        await root.until("8 attempts", () => root!.runs("unlimited") >= 8);
        root.systemctl("stop", "unlimited");
        assert.ok(!root.lines("unlimited.service").some((l) => /start-limit-hit/.test(l.text)));
    });

    it("fails a blocking start with the attempt, still restarts, and refuses Restart=always on a oneshot", async () => {
        root = new Root(0.01);
        root.unit(
            "blocking",
            `[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=EXEC\nRestart=on-failure\nRestartSec=10s\n`,
            2,
        );
        const r = root.systemctl("start", "blocking");
        assert.deepEqual(
            [r.code, r.err],
            [1, "Job for blocking.service failed because the control process exited with error code."],
        );
        await root.until("the restart", () =>
            root!.lines("blocking.service").some((l) => /finished/.test(l.text)),
        );
        // No RemainAfterExit=: inactive after the successful attempt.
        assert.equal(root.systemctl("is-active", "blocking").out, "inactive");
        // Restart=no (the default): a failed oneshot stays failed.
        root.unit("once", `[Service]\nType=oneshot\nExecStart=EXEC\n`);
        assert.equal(root.systemctl("start", "once").code, 1);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(root.runs("once"), 1);
        assert.equal(root.systemctl("is-active", "once").out, "failed");
        root.unit("always", `[Service]\nType=oneshot\nExecStart=EXEC\nRestart=always\n`);
        const bad = root.systemctl("start", "always");
        assert.equal(bad.code, 1);
        assert.match(
            bad.err,
            /^Failed to start always\.service: Unit always\.service has a bad unit file setting\./,
        );
        assert.equal(root.runs("always"), 0);
    });

    it("is clean under shellcheck", function () {
        const shellcheck = requireTool(this, "shellcheck");
        const r = spawnSync(shellcheck, ["--severity=style", STUB], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stdout);
    });
});
