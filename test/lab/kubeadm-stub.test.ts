// The lab's kubeadm stub validates `kubeadm token create` as kubeadm does (the token rotation timer
// runs it): the token format, usages, groups and the admin kubeconfig, with kubeadm's messages. Run
// with Debian 13's python3 from the lab image; the stub fails before it needs an API server or etcd.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { requireLabRootfs } from "../support/lab";

describe("lab: kubeadm stub, token create", function () {
    this.timeout(60000);
    const run = (img: { tools: string }, args: string[]) => {
        const dir = fs.mkdtempSync(path.join(img.tools, "tmp", "keelson-kubeadm-"));
        try {
            for (const f of ["kubeadm.py", "labk8s.py"])
                fs.copyFileSync(path.join(__dirname, "../../tools/lab/node", f), path.join(dir, f));
            const inside = "/" + path.relative(img.tools, dir);
            const r = spawnSync(
                "chroot",
                [img.tools, "python3", `${inside}/kubeadm.py`, "token", "create", ...args],
                {
                    encoding: "utf8",
                    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
                },
            );
            return { code: r.status, err: r.stderr.trim().split("\n")[0] };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    };

    it("refuses what kubeadm refuses, with kubeadm's messages", function () {
        const img = requireLabRootfs(this);
        const cases: [string[], string][] = [
            [
                ["ABCDEF.0123456789abcdef"],
                'error: the bootstrap token "ABCDEF..." was not of the form "[a-z0-9]{6}.[a-z0-9]{16}"',
            ],
            [
                ["--usages", "signing,encryption"],
                "error: invalid bootstrap token usage string: encryption, valid usage options: authentication, signing",
            ],
            [
                ["--groups", "system:nodes"],
                "error: bootstrap group 'system:nodes' is invalid (must match system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9])",
            ],
            [
                ["--kubeconfig", "/nonexistent/admin.conf", "--ttl", "24h"],
                "error: failed to load admin kubeconfig: open /nonexistent/admin.conf: no such file or directory",
            ],
            [["--colour", "x"], "error: unknown flag: --colour (lab stub)"],
        ];
        for (const [args, message] of cases) {
            const r = run(img, args);
            assert.equal(r.code, 1, args.join(" "));
            assert.equal(r.err, message, args.join(" "));
        }
    });
});

describe("lab: kubeadm stub, static pod manifests", function () {
    this.timeout(60000);

    it("moves each manifest into place whole, 0600, leaving no temporary file (the kubelet never reads half of one)", function () {
        const img = requireLabRootfs(this);
        const dir = fs.mkdtempSync(path.join(img.tools, "tmp", "keelson-manifest-"));
        try {
            fs.copyFileSync(
                path.join(__dirname, "../../tools/lab/node/labk8s.py"),
                path.join(dir, "labk8s.py"),
            );
            const inside = "/" + path.relative(img.tools, dir);
            fs.writeFileSync(path.join(dir, "etcd.yaml"), "old: manifest\n");
            const before = fs.statSync(path.join(dir, "etcd.yaml")).ino;
            const r = spawnSync(
                "chroot",
                [
                    img.tools,
                    "python3",
                    "-c",
                    `import sys; sys.dont_write_bytecode = True; sys.path.insert(0, "${inside}"); import labk8s; labk8s.write_manifest("${inside}/etcd.yaml", "kind: Pod\\n")`,
                ],
                { encoding: "utf8", env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" } },
            );
            assert.equal(r.status, 0, r.stderr);
            assert.equal(fs.readFileSync(path.join(dir, "etcd.yaml"), "utf8"), "kind: Pod\n");
            assert.equal(fs.statSync(path.join(dir, "etcd.yaml")).mode & 0o777, 0o600);
            // A new file renamed over the old one (a rewrite in place keeps the inode, and can be read half written).
            assert.notEqual(fs.statSync(path.join(dir, "etcd.yaml")).ino, before);
            assert.deepEqual(fs.readdirSync(dir).sort(), ["etcd.yaml", "labk8s.py"]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
