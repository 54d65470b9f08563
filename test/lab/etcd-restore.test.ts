// Issue 12.6: the etcd restore procedure of components/addons/README.md rehearsed against real etcd
// (Debian 13's etcd 3.5.16 from the lab image; the pinned registry.k8s.io/etcd:3.5.21-0 has the same
// `etcdctl snapshot restore` flags). Three members on 127.0.0.1-3, each on its own :2379 (TLS with client
// certificates, like kubeadm's stacked etcd) and :2380, like three masters. The snapshot is taken with the
// backup CronJob's exact command (components/addons/etcd-backup.ts, only the file paths and $(HOST_IP)
// substituted); the restore runs the README's documented command, read from the README's code block with
// its placeholders filled in. Nothing is mocked: the assertions read the restored cluster.
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderEtcdBackupCronJob } from "../../components/addons/etcd-backup";
import { makeCa, makeServerCert } from "../../tools/lab/pki";
import { LabRootfs, toolsPackageVersion } from "../../tools/lab/rootfs";
import { requireLabRootfs } from "../support/lab";

const MEMBERS = [
    { name: "master-0", ip: "127.0.0.1" },
    { name: "master-1", ip: "127.0.0.2" },
    { name: "master-2", ip: "127.0.0.3" },
];
const INITIAL_CLUSTER = MEMBERS.map((m) => `${m.name}=http://${m.ip}:2380`).join(",");
const README = path.join(__dirname, "../../components/addons/README.md");

/** The README's `etcdctl snapshot restore` command as argv (after `etcdctl`), placeholders filled. */
function documentedRestoreArgs(
    readme: string,
    fill: {
        name: string;
        ip: string;
        initialCluster: string;
        token: string;
        snapshot: string;
        dataDir: string;
    },
): string[] {
    const blocks = [...readme.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]);
    const block = blocks.find((b) => b.includes("etcdctl snapshot restore"));
    if (!block) throw new Error("components/addons/README.md has no `etcdctl snapshot restore` block");
    const joined = block.replace(/\\\n\s*/g, " ");
    const line = joined.split("\n").find((l) => l.trim().startsWith("etcdctl snapshot restore"));
    if (!line) throw new Error("no `etcdctl snapshot restore` line in the README's block");
    const filled = line
        .trim()
        .replace("/var/lib/snapshot.db", fill.snapshot)
        .replace("/var/lib/etcd", fill.dataDir)
        .replace("<this-master>", fill.name)
        // The lab's peers speak plain HTTP on loopback; the README's masters use https.
        .replace("https://<this-ip>:2380", `http://${fill.ip}:2380`)
        .replace(/--initial-cluster \S+/, `--initial-cluster ${fill.initialCluster}`)
        .replace('"$TOKEN"', fill.token);
    assert.doesNotMatch(filled, /[<>$]/, `unfilled placeholder in: ${filled}`);
    return filled.split(/\s+/).slice(1);
}

describe("lab: the etcd restore procedure against real etcd (three members)", function () {
    this.timeout(120000);
    let img: LabRootfs;
    let dir: string;
    const procs = new Map<string, ChildProcess>();

    before(function () {
        img = requireLabRootfs(this);
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-etcd-restore-"));
        makeCa(dir, "ca", "etcd-ca");
        makeServerCert(
            dir,
            "ca",
            "server",
            MEMBERS.map((m) => m.ip),
        );
        makeServerCert(dir, "ca", "healthcheck-client", ["kube-etcd-healthcheck-client"], "clientAuth");
    });
    after(async () => {
        for (const name of [...procs.keys()]) await stop(name);
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const bin = (tool: string) => path.join(img.tools, "usr/bin", tool);
    const tls = () => [
        `--cacert=${dir}/ca.crt`,
        `--cert=${dir}/healthcheck-client.crt`,
        `--key=${dir}/healthcheck-client.key`,
    ];
    let members = MEMBERS;
    const endpoints = () => `--endpoints=${members.map((m) => `https://${m.ip}:2379`).join(",")}`;
    function etcdctl(...args: string[]): { status: number | null; stdout: string; stderr: string } {
        const r = spawnSync(bin("etcdctl"), [endpoints(), ...tls(), ...args], {
            encoding: "utf8",
            env: { ...process.env, ETCDCTL_API: "3" },
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }
    /** `etcdctl` without endpoints or client certificates (`snapshot save` brings its own, `restore` needs none). */
    function local(args: string[]): { status: number | null; stderr: string } {
        return spawnSync(bin("etcdctl"), args, {
            encoding: "utf8",
            env: { ...process.env, ETCDCTL_API: "3" },
        });
    }
    const count = (prefix: string) =>
        ok("get", "--prefix", prefix, "--count-only", "-w", "fields").match(/"Count" : (\d+)/)?.[1];
    function ok(...args: string[]): string {
        const r = etcdctl(...args);
        assert.equal(r.status, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
    }

    function start(
        m: { name: string; ip: string },
        dataDir: string,
        token: string,
        initialCluster = INITIAL_CLUSTER,
    ): void {
        const log = fs.openSync(path.join(dir, `${m.name}.log`), "a");
        const p = spawn(
            bin("etcd"),
            [
                `--name=${m.name}`,
                `--data-dir=${dataDir}`,
                `--listen-client-urls=https://${m.ip}:2379`,
                `--advertise-client-urls=https://${m.ip}:2379`,
                `--listen-peer-urls=http://${m.ip}:2380`,
                `--initial-advertise-peer-urls=http://${m.ip}:2380`,
                `--initial-cluster=${initialCluster}`,
                `--initial-cluster-token=${token}`,
                "--initial-cluster-state=new",
                "--client-cert-auth=true",
                `--trusted-ca-file=${dir}/ca.crt`,
                `--cert-file=${dir}/server.crt`,
                `--key-file=${dir}/server.key`,
            ],
            { stdio: ["ignore", log, log] },
        );
        procs.set(m.name, p);
    }
    /** Stops a member and waits until the process has exited (the README's wait for :2379/:2380). */
    async function stop(name: string): Promise<void> {
        const p = procs.get(name);
        procs.delete(name);
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        await new Promise<void>((resolve) => {
            p.once("exit", () => resolve());
            p.kill("SIGTERM");
        });
    }
    async function healthy(): Promise<void> {
        const deadline = Date.now() + 60000;
        for (;;) {
            const r = etcdctl("endpoint", "health");
            if (r.status === 0) return;
            if (Date.now() > deadline) {
                const logs = members.map((m) =>
                    fs.readFileSync(path.join(dir, `${m.name}.log`), "utf8").slice(-2000),
                );
                throw new Error(`etcd not healthy: ${r.stderr}\n${logs.join("\n---\n")}`);
            }
            await new Promise((r) => setTimeout(r, 300));
        }
    }
    const revision = () =>
        JSON.parse(ok("endpoint", "status", "-w", "json"))[0].Status.header.revision as number;
    const memberIds = () =>
        (JSON.parse(ok("member", "list", "-w", "json")).members as { ID: number; name: string }[])
            .map((m) => `${m.name}:${BigInt.asUintN(64, BigInt(m.ID)).toString(16)}`)
            .sort();

    it("restores the snapshot on every master: keys before it present, later ones gone, revisions bumped and compacted, writes accepted, old members gone", async () => {
        assert.match(toolsPackageVersion(img, "etcd-server"), /^3\.5\./);
        for (const m of MEMBERS) start(m, path.join(dir, `${m.name}.etcd`), "keelson-lab-original");
        await healthy();
        for (let i = 0; i < 20; i++) ok("put", `/registry/before/${i}`, `value-${i}`);
        const oldMembers = memberIds();
        assert.equal(oldMembers.length, 3);

        // The backup CronJob's snapshot command, as rendered, on master-0 (HOST_IP = 127.0.0.1).
        const job = renderEtcdBackupCronJob(
            "bucket",
            "us-east-1",
            "lab",
            "arn:aws:iam::1:role/backup",
        ) as unknown as {
            spec: {
                jobTemplate: { spec: { template: { spec: { initContainers: { command: string[] }[] } } } };
            };
        };
        const init = job.spec.jobTemplate.spec.template.spec.initContainers[0];
        const snapshot = path.join(dir, "snapshot.db");
        const argv = init.command.map((a) =>
            a
                .replace("$(HOST_IP)", MEMBERS[0].ip)
                .replace("/etc/etcd-client/", `${dir}/`)
                .replace("/backup/snapshot.db", snapshot),
        );
        assert.equal(argv[0], "etcdctl");
        const saved = local(argv.slice(1));
        assert.equal(saved.status, 0, saved.stderr);
        const snapRevision = revision();

        for (let i = 0; i < 5; i++) ok("put", `/registry/after/${i}`, `late-${i}`);
        assert.equal(count("/registry/after/"), "5");

        // README step 2: stop the control plane on every master and wait until etcd has exited.
        for (const m of MEMBERS) await stop(m.name);
        // Steps 4: one token for every master, the documented restore into a fresh data dir.
        const readme = fs.readFileSync(README, "utf8");
        const token = "keelson-restore-20261202-1";
        for (const m of MEMBERS) {
            const dataDir = path.join(dir, `${m.name}.etcd`);
            fs.renameSync(dataDir, `${dataDir}.broken`);
            const args = documentedRestoreArgs(readme, {
                name: m.name,
                ip: m.ip,
                initialCluster: INITIAL_CLUSTER,
                token,
                snapshot,
                dataDir,
            });
            assert.deepEqual(args.slice(0, 2), ["snapshot", "restore"]);
            assert.ok(args.includes("--mark-compacted") && args.includes("--bump-revision"), args.join(" "));
            const r = local(args);
            assert.equal(r.status, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
        }
        // Step 5: start again.
        for (const m of MEMBERS) start(m, path.join(dir, `${m.name}.etcd`), token);
        await healthy();

        const before = ok("get", "--prefix", "/registry/before/", "--print-value-only").trim().split("\n");
        assert.deepEqual(before.sort(), Array.from({ length: 20 }, (_, i) => `value-${i}`).sort());
        assert.equal(count("/registry/after/"), "0");
        // Revisions continue far above the snapshot's, and everything below is compacted: a watcher or
        // informer resuming from an old resourceVersion is told so instead of reading another object.
        assert.ok(revision() >= snapRevision + 1_000_000_000, `revision ${revision()} after restore`);
        const old = etcdctl("get", "/registry/before/0", `--rev=${snapRevision}`);
        assert.notEqual(old.status, 0);
        assert.match(old.stderr, /required revision has been compacted/);
        ok("put", "/registry/after-restore", "accepted");
        assert.equal(ok("get", "/registry/after-restore", "--print-value-only").trim(), "accepted");
        // The old members are gone: three members, same names, new IDs.
        const newMembers = memberIds();
        assert.deepEqual(
            newMembers.map((m) => m.split(":")[0]),
            MEMBERS.map((m) => m.name),
        );
        for (const id of oldMembers) assert.ok(!newMembers.includes(id), `old member ${id} still listed`);
        snapshotRevision = snapRevision;
        for (const m of MEMBERS) await stop(m.name);
    });

    let snapshotRevision = 0;
    it("the guard: the same snapshot restored without --bump-revision reuses the snapshot's revisions, and an old resourceVersion reads again", async function () {
        if (!snapshotRevision) this.skip();
        members = [MEMBERS[0]];
        const dataDir = path.join(dir, "unbumped.etcd");
        // The README's command for a one-master cluster, without `--bump-revision <n> --mark-compacted`.
        const single = `${MEMBERS[0].name}=http://${MEMBERS[0].ip}:2380`;
        const documented = documentedRestoreArgs(fs.readFileSync(README, "utf8"), {
            ...MEMBERS[0],
            initialCluster: single,
            token: "unbumped",
            snapshot: path.join(dir, "snapshot.db"),
            dataDir,
        });
        const bump = documented.indexOf("--bump-revision");
        const args = documented.filter((a, k) => k !== bump && k !== bump + 1 && a !== "--mark-compacted");
        assert.equal(args.length, documented.length - 3);
        const r = local(args);
        assert.equal(r.status, 0, r.stderr);
        start(MEMBERS[0], dataDir, "unbumped", single);
        await healthy();
        assert.ok(revision() < snapshotRevision + 1_000_000_000, `revision ${revision()}`);
        assert.equal(
            ok("get", "/registry/before/0", `--rev=${snapshotRevision}`, "--print-value-only").trim(),
            "value-0",
        );
        // The next write reuses a revision the lost writes after the snapshot had: a client holding it
        // would resume from a different object. This is what the documented bump prevents.
        ok("put", "/registry/reused", "x");
        assert.ok(revision() <= snapshotRevision + 5, `revision ${revision()} reuses the lost range`);
    });
});
