// Every rendered cloud-init document validates against cloud-init's own JSON schema (draft 04) and
// every rendered shell script is clean under the real shellcheck.
import assert from "node:assert/strict";
import Ajv from "ajv-draft-04";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { renderApiLbUserData } from "../../components/cluster/render/cloudinit";
import { inCI, requireTool, tempDir } from "../support/live";
import { renderMatrix } from "./fixtures";

const SCHEMA = "/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json";

interface WriteFile {
    path: string;
    content: string;
    permissions: string;
}

function userDataDocs(): { label: string; text: string }[] {
    const nodes = renderMatrix().map((m) => ({ label: m.label, text: m.rendered.userData }));
    const lb = renderApiLbUserData("eu-west-1", {
        backends: [
            { name: "master-0", address: "10.0.0.10" },
            { name: "master-1", address: "10.0.32.10" },
            { name: "master-2", address: "10.0.64.10" },
        ],
    });
    return [...nodes, { label: "api-lb", text: lb }];
}

function files(text: string): WriteFile[] {
    return (YAML.parse(text) as { write_files: WriteFile[] }).write_files;
}

describe("cluster/render/cloudinit", function () {
    const all = userDataDocs();

    it("renders 17 documents (1 and 3 masters, shared and dedicated, one per pool, API LB)", () => {
        assert.equal(all.length, 2 * (1 + 2) + 2 * (3 + 2) + 1);
    });

    it("validates every document against cloud-init's JSON schema", function () {
        if (!fs.existsSync(SCHEMA)) {
            if (inCI) throw new Error(`${SCHEMA} is missing; .ci/run must install cloud-init (CI=true)`);
            this.skip();
        }
        const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });
        const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, "utf8")));
        for (const { label, text } of all) {
            assert.ok(text.startsWith("#cloud-config\n"), `${label} starts with #cloud-config`);
            const ok = validate(YAML.parse(text));
            assert.ok(ok, `${label}: ${JSON.stringify(validate.errors)}`);
        }
        // The validator really rejects: an unknown write_files key and a non-list of packages.
        assert.equal(validate({ packages: "curl", write_files: [{ path: "/x", mode: "0600" }] }), false);
        assert.deepEqual(validate.errors!.map((e) => e.instancePath).sort(), ["/packages", "/write_files/0"]);
    });

    it("passes `cloud-init schema` for each kind of node", function () {
        const cloudInit = requireTool(this, "cloud-init");
        const t = tempDir("cloudinit");
        try {
            for (const { label, text } of all.filter((d) =>
                /^3m-dedicated-(master-0|master-1|batch)$|^api-lb$/.test(d.label),
            )) {
                const file = path.join(t.dir, `${label}.yaml`);
                fs.writeFileSync(file, text);
                const out = execFileSync(cloudInit, ["schema", "-c", file], { stdio: "pipe" }).toString();
                assert.equal(out.trim(), `Valid cloud-config: ${file}`);
            }
        } finally {
            t.cleanup();
        }
    });

    it("writes kubeadm templates and secrets-adjacent files mode 600 and the script 700", () => {
        const m0 = all.find((d) => d.label === "3m-dedicated-master-0")!;
        assert.deepEqual(
            files(m0.text).map((f) => `${f.permissions} ${f.path}`),
            [
                "0644 /etc/modules-load.d/keelson-kubernetes.conf",
                "0644 /etc/sysctl.d/90-keelson-kubernetes.conf",
                "0600 /etc/keelson/kubeadm-join.tmpl.yaml",
                "0644 /etc/keelson/containerd.toml",
                "0600 /etc/keelson/kubeadm-init.tmpl.yaml",
                "0600 /etc/keelson/encryption-config.tmpl.yaml",
                "0600 /etc/kubernetes/keelson/audit-policy.yaml",
                "0600 /etc/kubernetes/keelson/admission-config.yaml",
                "0600 /etc/kubernetes/keelson/authentication-config.yaml",
                "0700 /usr/local/sbin/keelson-rotate-token",
                "0644 /etc/systemd/system/keelson-token-rotate.service",
                "0644 /etc/systemd/system/keelson-token-rotate.timer",
                "0700 /usr/local/sbin/keelson-renew-certs",
                "0644 /etc/systemd/system/keelson-cert-renew.service",
                "0644 /etc/systemd/system/keelson-cert-renew.timer",
                "0700 /usr/local/sbin/keelson-bootstrap",
                "0644 /etc/systemd/system/keelson-bootstrap.service",
            ],
        );
        assert.deepEqual(YAML.parse(m0.text).runcmd, [
            ["systemctl", "daemon-reload"],
            [
                "systemctl",
                "enable",
                "keelson-bootstrap.service",
                "keelson-token-rotate.timer",
                "keelson-cert-renew.timer",
            ],
            [
                "systemctl",
                "start",
                "--no-block",
                "keelson-bootstrap.service",
                "keelson-token-rotate.timer",
                "keelson-cert-renew.timer",
            ],
        ]);
        const worker = all.find((d) => d.label === "3m-dedicated-general")!;
        assert.deepEqual(
            files(worker.text).map((f) => f.path),
            [
                "/etc/modules-load.d/keelson-kubernetes.conf",
                "/etc/sysctl.d/90-keelson-kubernetes.conf",
                "/etc/keelson/kubeadm-join.tmpl.yaml",
                "/etc/keelson/containerd.toml",
                "/usr/local/sbin/keelson-bootstrap",
                "/etc/systemd/system/keelson-bootstrap.service",
            ],
        );
        // No cloud-init `packages:` (one try, 30 s apt lock wait): the unit installs them with retries.
        assert.equal(YAML.parse(worker.text).packages, undefined);
        assert.deepEqual(YAML.parse(worker.text).runcmd, [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", "keelson-bootstrap.service"],
            ["systemctl", "start", "--no-block", "keelson-bootstrap.service"],
        ]);
    });

    it("gives only the public master (master-0 of a single endpoint) the own-serving-CSR timer, every minute", () => {
        const own = [
            "0700 /usr/local/sbin/keelson-approve-own-serving-csr",
            "0644 /etc/systemd/system/keelson-approve-own-serving-csr.service",
            "0644 /etc/systemd/system/keelson-approve-own-serving-csr.timer",
        ];
        const m0 = all.find((d) => d.label === "1m-shared-master-0")!;
        const listed = files(m0.text).map((f) => `${f.permissions} ${f.path}`);
        assert.deepEqual(
            listed.slice(listed.indexOf("0644 /etc/systemd/system/keelson-cert-renew.timer") + 1),
            [
                ...own,
                "0700 /usr/local/sbin/keelson-bootstrap",
                "0644 /etc/systemd/system/keelson-bootstrap.service",
            ],
        );
        const timers = [
            "keelson-bootstrap.service",
            "keelson-token-rotate.timer",
            "keelson-cert-renew.timer",
            "keelson-approve-own-serving-csr.timer",
        ];
        assert.deepEqual(YAML.parse(m0.text).runcmd, [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", ...timers],
            ["systemctl", "start", "--no-block", ...timers],
        ]);
        const content = (p: string) => files(m0.text).find((f) => f.path === p)!.content;
        assert.equal(
            content("/etc/systemd/system/keelson-approve-own-serving-csr.timer"),
            [
                "[Unit]",
                "Description=Keelson approval of this master's own kubelet serving CSR (schedule)",
                "",
                "[Timer]",
                "OnBootSec=1min",
                "OnUnitActiveSec=1min",
                "RandomizedDelaySec=0",
                "",
                "[Install]",
                "WantedBy=timers.target",
                "",
            ].join("\n"),
        );
        assert.equal(
            content("/etc/systemd/system/keelson-approve-own-serving-csr.service"),
            [
                "[Unit]",
                "Description=Keelson approval of this master's own kubelet serving CSR",
                "ConditionPathExists=/etc/kubernetes/admin.conf",
                "",
                "[Service]",
                "Type=oneshot",
                "ExecStart=/usr/local/sbin/keelson-approve-own-serving-csr",
                "",
            ].join("\n"),
        );
        // Every master behind an NLB (master-0 included) and every worker: none of it.
        for (const d of all.filter((x) => !/^1m-.*-master-0$/.test(x.label))) {
            assert.ok(!d.text.includes("keelson-approve-own-serving-csr"), d.label);
        }
    });

    it("keeps every bootstrap and setup script clean under shellcheck", function () {
        const shellcheck = requireTool(this, "shellcheck");
        const t = tempDir("shellcheck");
        try {
            const scripts: string[] = [];
            for (const { label, text } of all) {
                for (const f of files(text).filter((w) => w.content.startsWith("#!/usr/bin/env bash"))) {
                    const file = path.join(t.dir, `${label}-${path.basename(f.path)}.sh`);
                    fs.writeFileSync(file, f.content);
                    scripts.push(file);
                }
            }
            // Masters: bootstrap, token rotation, certificate renewal, and on a public master (1m-*-master-0,
            // single endpoint) the approval of its own serving CSR; workers and API LBs: one each.
            const masters = all.filter((d) => /master-\d$/.test(d.label)).length;
            const publicMasters = renderMatrix()
                .filter((m) => m.node.publicMaster)
                .map((m) => m.label);
            assert.deepEqual(publicMasters, ["1m-shared-master-0", "1m-dedicated-master-0"]);
            assert.equal(
                scripts.length,
                all.length + 2 * masters + publicMasters.length,
                "every script of every document",
            );
            assert.deepEqual(
                scripts
                    .filter((f) => f.endsWith("-keelson-approve-own-serving-csr.sh"))
                    .map((f) => path.basename(f)),
                publicMasters.map((l) => `${l}-keelson-approve-own-serving-csr.sh`),
            );
            const result = spawnSync(shellcheck, ["--severity=style", "--shell=bash", ...scripts], {
                encoding: "utf8",
            });
            assert.equal(result.stdout + result.stderr, "");
            assert.equal(result.status, 0);
        } finally {
            t.cleanup();
        }
    });
});
