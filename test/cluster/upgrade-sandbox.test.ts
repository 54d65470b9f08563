// Runs the real rendered upgrade script (components/cluster/render/upgrade.ts) in a private mount namespace
// (a throw-away copy of /etc) with stateful stubs for kubeadm, kubectl, etcdctl, apt and systemd: the order of
// kubeadm's documented procedure, the no-op rerun, and each refusal firing before anything changed.
// The stubs hold the cluster's state in files: the version kubeadm-config records, the local API server's
// manifest, the installed kube packages and the running kubelet (the lab's rehearsal runs the same script
// on real etcd and Debian nodes).
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderUpgradeScript, upgradeProblem } from "../../components/cluster/render/upgrade";
import { inCI, requireTool, tempDir } from "../support/live";

const PREFIX = "/keelson/prod/keelson-prod";
const NODE = "ip-10-30-1-5.eu-west-1.compute.internal";

const log = (name: string) => `echo "${name} $*" >>"$S/calls.log"`;
const STUBS: Record<string, string> = {
    // SSM: put-parameter journaled; get-parameter of a master's slot record: "<node> <instance> 10.30.1.1<i>".
    aws: `${log("aws")}
op=$2; name=""; value=""; while [ $# -gt 0 ]; do case "$1" in --name) name=$2 ;; --value) value=$2 ;; esac; shift; done
if [ "$op" = get-parameter ]; then i=\${name##*/master-}; echo "ip-node-$i i-000$i 10.30.1.1$i"; exit 0; fi
echo "$name=$value" >>"$S/ssm-writes.log"`,
    curl: `${log("curl")}
case "$*" in
*api/token*) printf TOKEN ;;
*placement/availability-zone*) printf eu-west-1b ;;
*meta-data/instance-id*) printf i-0123456789abcdef0 ;;
*meta-data/local-ipv4*) printf 10.30.1.5 ;;
*meta-data/local-hostname*) printf ${NODE} ;;
*Release.key*) printf KEY ;;
*) echo "unexpected curl $*" >&2; exit 99 ;;
esac`,
    gpg: `out=""; prev=""; for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done; cat >"$out"`,
    // apt-get install pkg=version: records the package as installed at that version.
    "apt-get": `${log("apt-get")}
for a in "$@"; do case "$a" in *=*-1.1) echo "\${a#*=}" >"$S/pkg-\${a%%=*}" ;; esac; done`,
    // kubeadm refuses what upstream refuses (cmd/kubeadm/app/phases/upgrade/policy.go): a target newer than
    // the kubeadm binary; apply records the cluster's version and rewrites the local manifest, node follows it.
    kubeadm: `${log("kubeadm")}
bin="v$(sed 's/-1.1$//' "$S/pkg-kubeadm")"
manifest() { sed -i "s|kube-apiserver:v.*|kube-apiserver:$1|" /etc/kubernetes/manifests/kube-apiserver.yaml; }
case "$1 $2" in
"upgrade plan") [ "$3" = "$bin" ] || { echo "kubeadm $bin cannot upgrade to $3" >&2; exit 1; } ;;
"upgrade apply") [ "$3" = "$bin" ] || { echo "kubeadm $bin cannot upgrade to $3" >&2; exit 1; }
    echo "$3" >"$S/cluster-version"; manifest "$3" ;;
"upgrade node") manifest "$(cat "$S/cluster-version")" ;;
*) exit 1 ;;
esac`,
    kubectl: `${log("kubectl")}
case "$*" in
*"get configmap kubeadm-config"*) printf 'apiServer: {}\\nkubernetesVersion: %s\\n' "$(cat "$S/cluster-version")" ;;
*nodeInfo.kubeletVersion*) printf 'v%s' "$(cat "$S/kubelet-running")" ;;
*"conditions"*) [ -e "$S/never-ready" ] && printf False || printf True ;;
*"get --raw /readyz"*) echo ok ;;
"--server https://10.30.1.1"?":6443 get --raw /version")
    # Each master's API server: the i-th version of api-servers (master-i at 10.30.1.1<i>).
    i=\${2#https://10.30.1.1}; i=\${i%%:*}; set -- $(cat "$S/api-servers") $(cat "$S/api-servers") $(cat "$S/api-servers")
    shift "$i"; printf '{\\n  "major": "1",\\n  "gitVersion": "v%s",\\n  "platform": "linux/amd64"\\n}\\n' "$1" ;;
"drain "*|"uncordon "*) ;;
*) echo "unexpected kubectl $*" >&2; exit 99 ;;
esac`,
    etcdctl: `${log("etcdctl")}
[ -e "$S/etcd-unhealthy" ] && { echo "https://10.30.2.7:2379 is unhealthy" >&2; exit 1; }; exit 0`,
    // systemctl restart kubelet runs the installed kubelet.
    systemctl: `${log("systemctl")}
[ "$*" = "restart kubelet" ] && sed 's/-1.1$//' "$S/pkg-kubelet" >"$S/kubelet-running"; exit 0`,
};
for (const name of ["apt-mark", "logger", "sleep"]) STUBS[name] = log(name);

const DRIVER = `set -euo pipefail
root=$1; shift
cp -a /etc "$root/etc"
mount --bind "$root/etc" /etc
mkdir -p /etc/kubernetes/manifests /etc/apt/sources.list.d
echo admin >/etc/kubernetes/admin.conf; echo kubelet >/etc/kubernetes/kubelet.conf
# As kubeadm writes it: the image line follows the container's command list.
printf 'spec:\\n  containers:\\n  - command:\\n    - kube-apiserver\\n    image: registry.k8s.io/kube-apiserver:v%s\\n' \\
    "$(cat "$S/local-version")" \\
    >/etc/kubernetes/manifests/kube-apiserver.yaml
rc=0
bash "$root/upgrade.sh" "$@" >"$root/output" 2>&1 || rc=$?
cp /etc/apt/sources.list.d/kubernetes.list "$root/sources.list" 2>/dev/null || true
exit $rc
`;

interface World {
    /** What kubeadm-config records. Default 1.33.4. */
    cluster?: string;
    /** This master's API server manifest. Default: the cluster's. */
    local?: string;
    /** The installed and running kubelet. Default 1.33.4. */
    kubelet?: string;
    /** The versions masters 0, 1 and 2's API servers answer /version with, space-separated (one: all). Default: the cluster's. */
    apiServers?: string;
    etcdUnhealthy?: boolean;
    neverReady?: boolean;
}

interface Run {
    readonly status: number | null;
    readonly output: string;
    /** The calls that change or check something, in order (IMDS, logger and sleep left out). */
    readonly calls: string[];
    /** SSM writes, `<name>=<value>` with the time replaced by `<time>`. */
    readonly writes: string[];
    readonly sources: string;
    state(file: string): string;
}

function run(dir: string, args: string[], world: World = {}): Run {
    const root = fs.mkdtempSync(path.join(dir, "run-"));
    const s = path.join(root, "state");
    const bin = path.join(root, "bin");
    fs.mkdirSync(s, { recursive: true });
    fs.mkdirSync(bin);
    for (const [name, body] of Object.entries(STUBS))
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    const cluster = world.cluster ?? "1.33.4";
    const kubelet = world.kubelet ?? "1.33.4";
    fs.writeFileSync(path.join(s, "cluster-version"), `v${cluster}`);
    fs.writeFileSync(path.join(s, "local-version"), world.local ?? cluster);
    fs.writeFileSync(path.join(s, "kubelet-running"), kubelet);
    fs.writeFileSync(path.join(s, "api-servers"), world.apiServers ?? cluster);
    for (const p of ["kubeadm", "kubelet", "kubectl"])
        fs.writeFileSync(path.join(s, `pkg-${p}`), `${kubelet}-1.1`);
    if (world.etcdUnhealthy) fs.writeFileSync(path.join(s, "etcd-unhealthy"), "");
    if (world.neverReady) fs.writeFileSync(path.join(s, "never-ready"), "");
    fs.writeFileSync(
        path.join(root, "upgrade.sh"),
        renderUpgradeScript({ region: "eu-west-1", ssmPrefix: PREFIX, masters: 3 }),
    );
    fs.writeFileSync(path.join(root, "driver.sh"), DRIVER);
    const r = spawnSync(
        "unshare",
        ["--mount", "--fork", "bash", path.join(root, "driver.sh"), root, ...args],
        {
            env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, S: s },
            encoding: "utf8",
            timeout: 60000,
        },
    );
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    return {
        status: r.status,
        output: read(path.join(root, "output")) + r.stderr,
        calls: read(path.join(s, "calls.log"))
            .split("\n")
            .filter((c) => c && !/^(curl|logger|sleep|aws) /.test(c)),
        writes: read(path.join(s, "ssm-writes.log"))
            .split("\n")
            .filter(Boolean)
            .map((w) => w.replace(/ \d{4}-\d\d-\d\dT[\d:]+Z/, " <time>")),
        sources: read(path.join(root, "sources.list")),
        state: (f) => read(path.join(s, f)).trim(),
    };
}

const RECORD = (slot: string) => `${PREFIX}/state/upgrade/${slot}`;
const APT = "apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3";
/** The calls that change the node: packages, kubeadm, drain, kubelet, uncordon. */
const changes = (r: Run) =>
    r.calls.filter((c) => /^(apt-get|kubeadm|kubectl (drain|uncordon)|systemctl)/.test(c));

describe("cluster/render/upgrade in a sandbox (real bash, stateful stubs)", function () {
    this.timeout(120000);
    let t: ReturnType<typeof tempDir>;

    before(function () {
        requireTool(this, "unshare");
        if (process.getuid?.() !== 0) {
            if (inCI)
                throw new Error("the upgrade sandbox needs root for a private mount namespace (CI=true)");
            this.skip();
        }
        t = tempDir("upgrade-sandbox");
    });
    after(() => t?.cleanup());

    it("the first master's control plane: health first, then kubeadm from the target minor's repository", () => {
        const r = run(t.dir, ["1.34.3", "master-0", "yes", "control-plane"]);
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(changes(r), [
            `${APT} update -q`,
            `${APT} install -y -q --allow-change-held-packages kubeadm=1.34.3-1.1`,
            "kubeadm upgrade plan v1.34.3",
            "kubeadm upgrade apply v1.34.3 --yes",
        ]);
        // etcd and the API are checked before kubeadm and again after it.
        const first = (p: RegExp) => r.calls.findIndex((c) => p.test(c));
        assert.ok(first(/^etcdctl .*endpoint health --cluster/) < first(/^apt-get/), r.calls.join("\n"));
        assert.equal(r.calls.filter((c) => /^etcdctl /.test(c)).length, 2);
        assert.match(r.sources, /https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.34\/deb\/ \//);
        assert.equal(r.state("cluster-version"), "v1.34.3");
        // The kubelet waits for its own phase, after every master's control plane.
        assert.equal(r.state("kubelet-running"), "1.33.4");
        assert.deepEqual(r.writes, [
            `${RECORD("master-0")}=upgrading <time> 1.34.3 control plane from 1.33.4`,
            `${RECORD("master-0")}=control-plane-upgraded <time> 1.34.3 ${NODE}'s control plane at 1.34.3`,
        ]);
    });

    it("a master's kubelet once every API server runs the target: drain, kubelet and kubectl, Ready, uncordon", () => {
        const r = run(t.dir, ["1.34.3", "master-0", "yes", "kubelet"], {
            cluster: "1.34.3",
            apiServers: "1.34.3",
        });
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(changes(r), [
            `kubectl drain ${NODE} --ignore-daemonsets --delete-emptydir-data --timeout=600s`,
            `${APT} update -q`,
            `${APT} install -y -q --allow-change-held-packages kubelet=1.34.3-1.1 kubectl=1.34.3-1.1`,
            "systemctl daemon-reload",
            "systemctl restart kubelet",
            `kubectl uncordon ${NODE}`,
        ]);
        assert.equal(r.state("kubelet-running"), "1.34.3");
        assert.deepEqual(r.writes, [
            `${RECORD("master-0")}=upgrading <time> 1.34.3 kubelet from v1.33.4`,
            `${RECORD("master-0")}=upgraded <time> 1.34.3 ${NODE} at 1.34.3`,
        ]);
    });

    it("no kubelet moves while an API server still runs the old version (the version skew policy)", () => {
        const r = run(t.dir, ["1.34.3", "master-0", "yes", "kubelet"], {
            cluster: "1.34.3",
            apiServers: "1.34.3 1.33.4 1.34.3",
        });
        assert.equal(r.status, 1, r.output);
        assert.deepEqual(changes(r), []);
        assert.deepEqual(r.writes, [
            `${RECORD("master-0")}=failed <time> 1.34.3 preflight: an API server does not run 1.34.3 yet; the kubelets ` +
                "upgrade after every master's control plane",
        ]);
    });

    it("another master after the first: kubeadm upgrade node, never apply", () => {
        const r = run(t.dir, ["1.34.3", "master-1", "no", "control-plane"], {
            cluster: "1.34.3",
            local: "1.33.4",
        });
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(
            changes(r).filter((c) => c.startsWith("kubeadm")),
            ["kubeadm upgrade node"],
        );
    });

    it("a rerun of either phase on an upgraded master changes nothing", () => {
        const world = { cluster: "1.34.3", kubelet: "1.34.3", apiServers: "1.34.3" };
        const cp = run(t.dir, ["1.34.3", "master-1", "no", "control-plane"], world);
        assert.equal(cp.status, 0, cp.output);
        assert.deepEqual(changes(cp), []);
        assert.deepEqual(cp.writes, [
            `${RECORD("master-1")}=control-plane-upgraded <time> 1.34.3 already at 1.34.3`,
        ]);
        const k = run(t.dir, ["1.34.3", "master-1", "no", "kubelet"], world);
        assert.equal(k.status, 0, k.output);
        assert.deepEqual(changes(k), []);
        assert.match(k.output, /master-1's kubelet already runs 1\.34\.3: nothing to do/);
        assert.deepEqual(k.writes, [`${RECORD("master-1")}=upgraded <time> 1.34.3 already at 1.34.3`]);
    });

    it("refuses a skipped minor and a downgrade at preflight, before anything changed", () => {
        for (const [from, to] of [
            ["1.33.4", "1.35.1"],
            ["1.34.3", "1.33.8"],
        ]) {
            const r = run(t.dir, [to, "master-0", "yes", "control-plane"], { cluster: from, kubelet: from });
            assert.equal(r.status, 1, r.output);
            const problem = upgradeProblem(from, to)!;
            assert.ok(problem);
            assert.deepEqual(changes(r), []);
            assert.deepEqual(r.writes, [`${RECORD("master-0")}=failed <time> ${to} preflight: ${problem}`]);
            assert.ok(r.output.includes(`FAILED at step preflight: ${problem}`), r.output);
        }
    });

    it("another master refuses to go before the first one has upgraded the cluster", () => {
        const r = run(t.dir, ["1.34.3", "master-1", "no", "control-plane"]);
        assert.equal(r.status, 1, r.output);
        assert.deepEqual(changes(r), []);
        assert.deepEqual(r.writes, [
            `${RECORD("master-1")}=failed <time> 1.34.3 preflight: the first master has not upgraded the cluster to ` +
                "1.34.3 (kubeadm-config says 1.33.4); upgrade-master-0 runs first",
        ]);
    });

    it("stops before any change while an etcd member is unhealthy", () => {
        const r = run(t.dir, ["1.34.3", "master-0", "yes", "control-plane"], { etcdUnhealthy: true });
        assert.equal(r.status, 1, r.output);
        assert.deepEqual(changes(r), []);
        assert.equal(r.calls.filter((c) => /^etcdctl /.test(c)).length, 6); // the preflight's 6 checks, then refused
        assert.deepEqual(r.writes.slice(-1), [
            `${RECORD("master-0")}=failed <time> 1.34.3 preflight: an etcd member is unhealthy (etcdctl endpoint health --cluster)`,
        ]);
    });

    it("stops at the step that fails, naming it, and leaves the node cordoned", () => {
        const r = run(t.dir, ["1.34.3", "master-0", "yes", "kubelet"], {
            cluster: "1.34.3",
            apiServers: "1.34.3",
            neverReady: true,
        });
        assert.equal(r.status, 1, r.output);
        assert.ok(!r.calls.some((c) => c.startsWith("kubectl uncordon")), r.calls.join("\n"));
        assert.deepEqual(r.writes.slice(-1), [
            `${RECORD("master-0")}=failed <time> 1.34.3 ready: Node ${NODE} is not Ready at v1.34.3 (kubelet: v1.34.3); it stays cordoned`,
        ]);
    });
});
