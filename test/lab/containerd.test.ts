// Issue 14.1: the containerd configuration every node gets is read by Debian 13's real containerd
// (1.7, from the lab image) with the settings Kubernetes needs, where the patched `config default`
// of Debian 13 left CNI plugins in Debian's /usr/lib/cni; and a broken file is refused by the same
// check the bootstrap runs before it restarts containerd.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import {
    CNI_BIN_DIR,
    CONTAINERD_CONFIG_TEMPLATE_PATH,
    renderContainerdConfig,
    SANDBOX_IMAGE,
} from "../../components/cluster/render/containerd";
import { LabRootfs, toolsPackageVersion } from "../../tools/lab/rootfs";
import { renderMatrix } from "../cluster/fixtures";
import { requireLabRootfs } from "../support/lab";

/** `containerd --config <file> config dump` inside the image: the merged configuration containerd would run. */
function dump(img: LabRootfs, toml: string): { status: number | null; stdout: string; stderr: string } {
    const dir = fs.mkdtempSync(path.join(img.tools, "tmp", "keelson-containerd-"));
    try {
        fs.writeFileSync(path.join(dir, "config.toml"), toml);
        const inside = "/" + path.relative(img.tools, dir) + "/config.toml";
        const r = spawnSync("chroot", [img.tools, "containerd", "--config", inside, "config", "dump"], {
            encoding: "utf8",
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(inside, "<file>") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** The value of `key` in the `[section]` table of a dumped configuration. */
function setting(text: string, section: string, key: string): string | undefined {
    const start = text.indexOf(`[${section}]\n`);
    if (start < 0) return undefined;
    const body = text.slice(start).split("\n").slice(1);
    const end = body.findIndex((l) => /^\s*\[/.test(l));
    const line = body.slice(0, end < 0 ? undefined : end).find((l) => l.trim().startsWith(`${key} =`));
    return line?.split("=").slice(1).join("=").trim();
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

describe("lab: containerd configuration with Debian 13's containerd", function () {
    this.timeout(120000);
    let img: LabRootfs;
    before(function () {
        img = requireLabRootfs(this);
    });

    it("is containerd 1.7 from Debian 13 (config version 2 is its format)", () => {
        assert.match(toolsPackageVersion(img, "containerd"), /^1\.7\./);
    });

    it("loads the rendered file with the systemd cgroup driver, the pause image and /opt/cni/bin", () => {
        const r = dump(img, renderContainerdConfig());
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^version = 2$/m);
        assert.equal(setting(r.stdout, `${CRI}`, "sandbox_image"), `"${SANDBOX_IMAGE}"`);
        assert.equal(setting(r.stdout, `${CRI}.cni`, "bin_dir"), `"${CNI_BIN_DIR}"`);
        assert.equal(setting(r.stdout, `${CRI}.cni`, "conf_dir"), '"/etc/cni/net.d"');
        assert.equal(setting(r.stdout, `${CRI}.containerd`, "default_runtime_name"), '"runc"');
        assert.equal(
            setting(r.stdout, `${CRI}.containerd.runtimes.runc`, "runtime_type"),
            '"io.containerd.runc.v2"',
        );
        assert.equal(setting(r.stdout, `${CRI}.containerd.runtimes.runc.options`, "SystemdCgroup"), "true");
    });

    it("differs from Debian's own default where it must (why the file is rendered whole)", () => {
        const r = spawnSync("chroot", [img.tools, "containerd", "config", "default"], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(setting(r.stdout, `${CRI}.cni`, "bin_dir"), '"/usr/lib/cni"');
        assert.equal(setting(r.stdout, `${CRI}.containerd.runtimes.runc.options`, "SystemdCgroup"), "false");
        assert.notEqual(setting(r.stdout, `${CRI}`, "sandbox_image"), `"${SANDBOX_IMAGE}"`);
    });

    it("is refused, with containerd's message, when a value is broken", () => {
        const r = dump(img, renderContainerdConfig().replace("SystemdCgroup = true", "SystemdCgroup = yes"));
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /failed to load TOML: <file>: \(\d+, \d+\): no value can start with y/);
    });

    it("is the file every master and worker's user-data carries, mode 644", () => {
        for (const m of renderMatrix()) {
            const files = YAML.parse(m.rendered.userData).write_files as {
                path: string;
                content: string;
                permissions: string;
            }[];
            const f = files.find((x) => x.path === CONTAINERD_CONFIG_TEMPLATE_PATH);
            assert.ok(f, `${m.label}: no ${CONTAINERD_CONFIG_TEMPLATE_PATH}`);
            assert.equal(f.content, renderContainerdConfig(), m.label);
            assert.equal(f.permissions, "0644", m.label);
        }
    });
});
