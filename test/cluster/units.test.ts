// The systemd units (checked by the real systemd-analyze) and the masters' token rotation script
// (run under real bash with stub kubeadm and aws): what reaches SSM, and how.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    renderBootstrapUnit,
    renderTimerUnits,
    renderTokenRotateScript,
} from "../../components/cluster/render/units";
import { OWN_SERVING_CSR_SCHEDULE } from "../../components/cluster/render/own-serving-csr";
import { requireTool, tempDir } from "../support/live";
import { KMS_KEY_ARN } from "./fixtures";

// Keys systemd 254 added (Debian 13 ships 257); an older systemd-analyze warns about them.
const NEWER_KEYS = /Unknown key '(RestartSteps|RestartMaxDelaySec)' in section \[Service\], ignoring\./;

describe("cluster/render/units", function () {
    this.timeout(60000);

    it("restarts the bootstrap on failure with a growing delay and no start limit", () => {
        const unit = renderBootstrapUnit("/usr/local/sbin/keelson-bootstrap");
        for (const line of [
            "StartLimitIntervalSec=0",
            "Type=oneshot",
            "Restart=on-failure",
            "RestartSec=10s",
            "RestartSteps=8",
            "RestartMaxDelaySec=10min",
            "After=network-online.target",
            "WantedBy=multi-user.target",
        ]) {
            assert.ok(unit.split("\n").includes(line), line);
        }
    });

    it("passes systemd-analyze verify (bootstrap unit, rotation and own-serving-CSR services and timers)", function () {
        const analyze = requireTool(this, "systemd-analyze");
        const t = tempDir("units");
        try {
            const script = path.join(t.dir, "script");
            fs.writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
            const rotate = renderTimerUnits("rotation", script, {
                onBoot: "10min",
                every: "6h",
                randomDelay: "30min",
            });
            const own = renderTimerUnits("own serving CSR", script, OWN_SERVING_CSR_SCHEDULE);
            const files: Record<string, string> = {
                "keelson-bootstrap.service": renderBootstrapUnit(script),
                "keelson-token-rotate.service": rotate.service,
                "keelson-token-rotate.timer": rotate.timer,
                "keelson-approve-own-serving-csr.service": own.service,
                "keelson-approve-own-serving-csr.timer": own.timer,
            };
            for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(t.dir, name), text);
            const r = spawnSync(analyze, ["verify", ...Object.keys(files).map((f) => path.join(t.dir, f))], {
                encoding: "utf8",
            });
            const problems = (r.stdout + r.stderr)
                .split("\n")
                .filter((l) => l.trim() !== "" && !NEWER_KEYS.test(l));
            assert.deepEqual(problems, []);
            assert.equal(r.status, 0);
            // The check really rejects: a unit whose program does not exist.
            fs.writeFileSync(
                path.join(t.dir, "bad.service"),
                renderBootstrapUnit(path.join(t.dir, "missing")),
            );
            const bad = spawnSync(analyze, ["verify", path.join(t.dir, "bad.service")], { encoding: "utf8" });
            assert.notEqual(bad.status, 0);
        } finally {
            t.cleanup();
        }
    });

    it("rotates the token into SSM with the cluster key, through a mode-600 file and never argv", function () {
        requireTool(this, "bash");
        const t = tempDir("rotate");
        try {
            const bin = path.join(t.dir, "bin");
            fs.mkdirSync(bin);
            const stub = (name: string, body: string) =>
                fs.writeFileSync(
                    path.join(bin, name),
                    `#!/bin/bash\necho "${name} $*" >>"$STATE/calls"\n${body}\n`,
                    {
                        mode: 0o755,
                    },
                );
            stub("kubeadm", "echo 'k3ytkn.0123456789abcdef'");
            stub(
                "aws",
                'f=${*: -1}; f=${f#file://}; cp "$f" "$STATE/put.json"; stat -c %a "$f" >"$STATE/put.mode"',
            );
            stub("logger", "");
            const script = path.join(t.dir, "rotate.sh");
            fs.writeFileSync(
                script,
                renderTokenRotateScript({
                    region: "eu-west-1",
                    ssmPrefix: "/keelson/prod/keelson-prod",
                    kmsKeyArn: KMS_KEY_ARN,
                }),
            );
            const r = spawnSync("bash", [script], {
                env: { PATH: `${bin}:/usr/bin:/bin`, STATE: t.dir },
                encoding: "utf8",
            });
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(JSON.parse(fs.readFileSync(path.join(t.dir, "put.json"), "utf8")), {
                Name: "/keelson/prod/keelson-prod/join/bootstrap-token",
                Type: "SecureString",
                KeyId: KMS_KEY_ARN,
                Overwrite: true,
                Value: "k3ytkn.0123456789abcdef",
            });
            assert.equal(fs.readFileSync(path.join(t.dir, "put.mode"), "utf8").trim(), "600");
            const calls = fs.readFileSync(path.join(t.dir, "calls"), "utf8");
            assert.match(
                calls,
                /^kubeadm token create --kubeconfig \/etc\/kubernetes\/admin\.conf --ttl 24h --usages signing,authentication --groups system:bootstrappers:kubeadm:default-node-token /m,
            );
            assert.match(
                calls,
                /^aws ssm put-parameter --region eu-west-1 --cli-input-json file:\/\/\S+\/put\.json$/m,
            );
            assert.doesNotMatch(calls, /0123456789abcdef/, "the token never appears on a command line");
        } finally {
            t.cleanup();
        }
    });
});
