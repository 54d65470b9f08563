// Runs the real rendered bootstrap script in a private mount namespace (a throw-away copy of /etc),
// with stub programs for aws, curl, kubeadm, apt and systemd: checks what it writes (kubeadm config
// with the SSM secrets filled in, PKI and config modes), which path it takes, and its retry bounds.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { BootstrapOptions } from "../../components/cluster/render/bootstrap";
import { renderNodeUserData } from "../../components/cluster/render/cloudinit";
import { planNodes, renderNode } from "../../components/cluster/render/layout";
import { inCI, requireTool, tempDir } from "../support/live";
import { environment, KMS_KEY_ARN, prodClusterConfig, ZONES } from "./fixtures";

const PREFIX = "/keelson/prod/keelson-prod";
const SECRETS: Record<string, string> = {
    "join/ca-crt": "-----BEGIN CERTIFICATE-----\nQ0EtQ0VSVA==\n-----END CERTIFICATE-----",
    "join/bootstrap-token": "abc123.0123456789abcdef",
    "control-plane/ca-key":
        "-----BEGIN EC PRIVATE KEY-----\nU0VDUkVULUNBLUtFWQ==\n-----END EC PRIVATE KEY-----",
    "control-plane/etcd-ca-crt": "-----BEGIN CERTIFICATE-----\nRVRDRA==\n-----END CERTIFICATE-----",
    "control-plane/etcd-ca-key":
        "-----BEGIN EC PRIVATE KEY-----\nU0VDUkVULUVUQ0Q=\n-----END EC PRIVATE KEY-----",
    "control-plane/front-proxy-ca-crt": "-----BEGIN CERTIFICATE-----\nRlA=\n-----END CERTIFICATE-----",
    "control-plane/front-proxy-ca-key":
        "-----BEGIN EC PRIVATE KEY-----\nU0VDUkVULUZQ\n-----END EC PRIVATE KEY-----",
    "control-plane/sa-key": "-----BEGIN EC PRIVATE KEY-----\nU0VDUkVULVNB\n-----END EC PRIVATE KEY-----",
    "control-plane/sa-pub": "-----BEGIN PUBLIC KEY-----\nU0EtUFVC\n-----END PUBLIC KEY-----",
    "control-plane/encryption-key": "c2VjcmV0Ym94LWtleS0zMi1ieXRlcy1sb25nLi4uLi4=",
};

const INSTANCE = "i-0123456789abcdef0";
const NODE = "ip-10-30-1-5.eu-west-1.compute.internal";
const OLD_NODE = "ip-10-30-1-9.eu-west-1.compute.internal";

/** A real cluster CA and etcd CA (the replacement mints client certificates from them). */
function makeCas(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, cn] of [
        ["", "kubernetes"],
        ["etcd-", "etcd-ca"],
    ]) {
        const key = path.join(dir, `${name}ca.key`);
        const crt = path.join(dir, `${name}ca.crt`);
        spawnSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
        spawnSync("openssl", [
            "req",
            "-x509",
            "-new",
            "-key",
            key,
            "-subj",
            `/CN=${cn}`,
            "-days",
            "2",
            "-out",
            crt,
        ]);
        const prefix = name === "" ? "" : "control-plane/etcd-";
        out[name === "" ? "join/ca-crt" : `${prefix}ca-crt`] = fs.readFileSync(crt, "utf8").trim();
        out[name === "" ? "control-plane/ca-key" : `${prefix}ca-key`] = fs.readFileSync(key, "utf8").trim();
    }
    return out;
}

const log = (name: string) => `echo "${name} $*" >>"$KEELSON_STATE/calls.log"`;
const counter = (file: string) => `n=$(cat "$KEELSON_STATE/${file}" 2>/dev/null || echo 0)`;
const STUBS: Record<string, string> = {
    // SSM: get-parameter (AccessDenied for the first aws-failures reads, as while a role propagates)
    // and put-parameter (--overwrite), over files under $KEELSON_STATE/ssm; every write is journaled.
    aws: `${log("aws")}
# Auto Scaling: the instance's group and lifecycle state from $KEELSON_STATE/asg ("<group> <state>").
if [ "$1" = autoscaling ]; then
    case "$2" in
    describe-auto-scaling-instances) tr ' ' '\t' <"$KEELSON_STATE/asg" ;;
    complete-lifecycle-action) echo "$*" >>"$KEELSON_STATE/completed.log" ;;
    esac
    exit 0
fi
op=$2; name=""; value=""; while [ $# -gt 0 ]; do case "$1" in --name) name=$2 ;; --value) value=$2 ;; esac; shift; done
if [ "$op" = put-parameter ]; then
    ${counter("put-failures")}
    if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$KEELSON_STATE/put-failures"; echo "InternalServerError" >&2; exit 254; fi
    mkdir -p "$(dirname "$KEELSON_STATE/ssm$name")" && printf '%s' "$value" >"$KEELSON_STATE/ssm$name"
    echo "$name=$value" >>"$KEELSON_STATE/ssm-writes.log"; exit 0
fi
${counter("aws-failures")}
if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$KEELSON_STATE/aws-failures"; echo "AccessDeniedException" >&2; exit 254; fi
[ -f "$KEELSON_STATE/ssm$name" ] || { echo "An error occurred (ParameterNotFound): $name" >&2; exit 254; }
cat "$KEELSON_STATE/ssm$name"`,
    // etcd: the member list from $KEELSON_STATE/etcd-members, health failing etcd-unhealthy times.
    etcdctl: `${log("etcdctl")}
case "$*" in
*"endpoint health"*) ${counter("etcd-unhealthy")}
    if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$KEELSON_STATE/etcd-unhealthy"; exit 1; fi ;;
*"member list"*) cat "$KEELSON_STATE/etcd-members" ;;
*"member remove"*) id=\${*: -1}; grep -v "^$id, " "$KEELSON_STATE/etcd-members" >"$KEELSON_STATE/m" || true
    mv "$KEELSON_STATE/m" "$KEELSON_STATE/etcd-members" ;;
esac`,
    kubectl: `${log("kubectl")}
prev=""; for a in "$@"; do [ "$prev" = --client-certificate ] && cp "$a" "$KEELSON_STATE/admin-client.crt"; prev=$a; done
case "$*" in *"get node"*"Ready"*) [ -e "$KEELSON_STATE/node-ready" ] && printf True || printf False ;; esac`,
    curl: `${log("curl")}
case "$*" in
*api/token*) printf TOKEN ;;
*placement/availability-zone*) printf eu-west-1b ;;
*meta-data/instance-id*) printf i-0123456789abcdef0 ;;
*meta-data/local-ipv4*) printf 10.30.1.5 ;;
*meta-data/local-hostname*) printf ip-10-30-1-5.eu-west-1.compute.internal ;;
*meta-data/autoscaling/target-lifecycle-state*) [ -e "$KEELSON_STATE/asg" ] || exit 22; printf InService ;;
*Release.key*) printf KEY ;;
*amazon-ssm-agent*) exit 0 ;;
*ecr-credential-provider*) prev=""; for a in "$@"; do [ "$prev" = -o ] && printf BIN >"$a"; prev=$a; done ;;
*/readyz*)
    ${counter("api-failures")}
    if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$KEELSON_STATE/api-failures"; exit 7; fi ;;
*) echo "unexpected curl $*" >&2; exit 99 ;;
esac`,
    kubeadm: `${log("kubeadm")}
[ "$1" = reset ] && exit 0
${counter("kubeadm-count")}; n=$((n + 1)); echo $n >"$KEELSON_STATE/kubeadm-count"
cfg=""; prev=""; for a in "$@"; do [ "$prev" = --config ] && cfg=$a; prev=$a; done
cp "$cfg" "$KEELSON_STATE/kubeadm-config-$n.yaml"
stat -c %a "$cfg" >"$KEELSON_STATE/kubeadm-config-$n.mode"
if [ "$n" -le "$(cat "$KEELSON_STATE/kubeadm-failures" 2>/dev/null || echo 0)" ]; then echo "simulated failure" >&2; exit 1; fi
mkdir -p /etc/kubernetes && echo admin >/etc/kubernetes/admin.conf && chmod 644 /etc/kubernetes/admin.conf`,
    gpg: `${log("gpg")}
out=""; prev=""; for a in "$@"; do [ "$prev" = -o ] && out=$a; prev=$a; done
cat >"$out"`,
    // apt-get: fails apt-failures times (a dpkg lock held past apt's own wait, or no route yet).
    "apt-get": `${log("apt-get")}
${counter("apt-failures")}
if [ "$n" -gt 0 ]; then echo $((n - 1)) >"$KEELSON_STATE/apt-failures"; echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2; exit 100; fi`,
    containerd: `${log("containerd")}
printf '    SystemdCgroup = false\\n    sandbox_image = "registry.k8s.io/pause:3.6"\\n'`,
};
for (const name of ["apt-mark", "systemctl", "dpkg", "modprobe", "sysctl", "logger", "sleep"]) {
    STUBS[name] = log(name);
}

// Inside the namespace: a private copy of /etc, cloud-init's write_files, the script, a snapshot.
const DRIVER = `set -euo pipefail
root=$1
cp -a /etc "$root/etc"
mount --bind "$root/etc" /etc
while read -r mode file src; do
    [[ "$file" == /etc/* ]] || continue
    install -D -m "$mode" "$src" "$file"
done <"$root/files"
rc=0
bash "$root/bootstrap.sh" >"$root/output" 2>&1 || rc=$?
mkdir -p "$root/out"
find /etc/keelson /etc/kubernetes /etc/containerd -exec stat -c '%a %n' {} + >"$root/out/modes" 2>/dev/null || true
grep -F ".internal" /etc/hosts >"$root/out/hosts" || true
cp /etc/containerd/config.toml "$root/out/config.toml" 2>/dev/null || true
for f in /etc/kubernetes/keelson/encryption-config.yaml /etc/kubernetes/pki/ca.key; do
    [ -f "$f" ] && cp "$f" "$root/out/$(basename "$f")"
done
exit $rc
`;

interface Sandbox {
    readonly status: number | null;
    readonly output: string;
    readonly calls: string[];
    /** SSM writes in order, `<name>=<value>` with the time replaced by `<time>`. */
    readonly writes: string[];
    state(file: string): string;
    readonly modes: Map<string, string>;
    readonly hosts: string;
    kubeadmConfigs(): { text: string; mode: string }[];
    out(file: string): string;
}

function runBootstrap(
    dir: string,
    nodeName: string,
    overrides: Partial<BootstrapOptions>,
    state: {
        apiFailures?: number;
        kubeadmFailures?: number;
        awsFailures?: number;
        /** put-parameter calls that fail first (the CLI's own retries already spent). */
        putFailures?: number;
        aptFailures?: number;
        etcdUnhealthy?: number;
        etcdMembers?: string;
        ssm?: Record<string, string>;
        /** No aws on PATH: Debian's image before the bootstrap has installed awscli. */
        noAws?: boolean;
        /** In an Auto Scaling group: `<group> <lifecycle state>`. Default: a plain instance. */
        asg?: string;
        /** The node's own Node object is Ready. */
        nodeReady?: boolean;
    },
): Sandbox {
    const root = fs.mkdtempSync(path.join(dir, `${nodeName}-`));
    const stateDir = path.join(root, "state");
    const bin = path.join(root, "bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const [name, body] of Object.entries(STUBS)) {
        if (name === "aws" && state.noAws) continue;
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    }
    for (const [param, value] of Object.entries({ ...SECRETS, ...state.ssm })) {
        const file = path.join(stateDir, "ssm", PREFIX, param);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, value);
    }
    fs.writeFileSync(path.join(stateDir, "api-failures"), String(state.apiFailures ?? 0));
    fs.writeFileSync(path.join(stateDir, "kubeadm-failures"), String(state.kubeadmFailures ?? 0));
    fs.writeFileSync(path.join(stateDir, "aws-failures"), String(state.awsFailures ?? 0));
    fs.writeFileSync(path.join(stateDir, "put-failures"), String(state.putFailures ?? 0));
    fs.writeFileSync(path.join(stateDir, "apt-failures"), String(state.aptFailures ?? 0));
    fs.writeFileSync(path.join(stateDir, "etcd-unhealthy"), String(state.etcdUnhealthy ?? 0));
    fs.writeFileSync(path.join(stateDir, "etcd-members"), state.etcdMembers ?? "");
    if (state.asg) fs.writeFileSync(path.join(stateDir, "asg"), state.asg);
    if (state.nodeReady) fs.writeFileSync(path.join(stateDir, "node-ready"), "");

    const config = prodClusterConfig();
    const node = planNodes(config, ZONES, "eu-west-1").find((n) => n.name === nodeName)!;
    const rendered = renderNode(node, environment(config, "prod"));
    const userData = renderNodeUserData({
        bootstrap: {
            role: node.role,
            masterIndex: node.role === "master" ? node.index : undefined,
            masterCount: node.role === "master" ? config.masters : undefined,
            nodeName,
            region: "eu-west-1",
            ssmPrefix: PREFIX,
            kubernetesVersion: config.kubernetesVersion,
            endpointHost: "api.keelson-prod.internal",
            ...overrides,
        },
        kubeadmInit: rendered.kubeadmInit,
        kubeadmJoin: rendered.kubeadmJoin,
        kmsKeyArn: KMS_KEY_ARN,
    });
    const files = (
        YAML.parse(userData).write_files as { path: string; content: string; permissions: string }[]
    ).map((f, i) => {
        const src = path.join(root, `file-${i}`);
        fs.writeFileSync(src, f.content);
        if (f.path === "/usr/local/sbin/keelson-bootstrap")
            fs.writeFileSync(path.join(root, "bootstrap.sh"), f.content);
        return `${f.permissions} ${f.path} ${src}`;
    });
    fs.writeFileSync(path.join(root, "files"), files.join("\n") + "\n");
    fs.writeFileSync(path.join(root, "driver.sh"), DRIVER);
    const r = spawnSync("unshare", ["--mount", "--fork", "bash", path.join(root, "driver.sh"), root], {
        env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`, KEELSON_STATE: stateDir },
        encoding: "utf8",
        timeout: 60000,
    });
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    const modes = new Map(
        read(path.join(root, "out", "modes"))
            .split("\n")
            .filter(Boolean)
            .map((l) => [l.split(" ")[1], l.split(" ")[0]] as [string, string]),
    );
    return {
        status: r.status,
        output: read(path.join(root, "output")) + r.stderr,
        calls: read(path.join(stateDir, "calls.log")).split("\n").filter(Boolean),
        writes: read(path.join(stateDir, "ssm-writes.log"))
            .split("\n")
            .filter(Boolean)
            .map((w) => w.replace(/ \d{4}-\d\d-\d\dT[\d:]+Z/, " <time>")),
        state: (file) => read(path.join(stateDir, file)),
        modes,
        hosts: read(path.join(root, "out", "hosts")),
        kubeadmConfigs: () =>
            fs
                .readdirSync(stateDir)
                .filter((f) => /^kubeadm-config-\d+\.yaml$/.test(f))
                .sort()
                .map((f) => ({
                    text: read(path.join(stateDir, f)),
                    mode: read(path.join(stateDir, f.replace(".yaml", ".mode"))).trim(),
                })),
        out: (file) => read(path.join(root, "out", file)),
    };
}

describe("cluster/render/bootstrap in a sandbox (real bash, stub programs)", function () {
    this.timeout(120000);
    let t: ReturnType<typeof tempDir>;
    let realCas: Record<string, string> = {};

    before(function () {
        requireTool(this, "unshare");
        if (process.getuid?.() !== 0) {
            if (inCI)
                throw new Error("the bootstrap sandbox needs root for a private mount namespace (CI=true)");
            this.skip();
        }
        t = tempDir("bootstrap-sandbox");
        realCas = makeCas(t.dir);
    });
    after(() => t?.cleanup());

    it("master 0 on a fresh cluster: init with the SSM secrets filled in, files mode 600", () => {
        const s = runBootstrap(t.dir, "master-0", {}, { apiFailures: 3, awsFailures: 2 });
        assert.equal(s.status, 0, s.output);
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("kubeadm")),
            ["kubeadm init --skip-token-print --config /etc/keelson/kubeadm.yaml"],
        );
        const [cfg] = s.kubeadmConfigs();
        assert.equal(cfg.mode, "600");
        const docs = YAML.parseAllDocuments(cfg.text).map((d) => d.toJS());
        assert.equal(docs[0].bootstrapTokens[0].token, "abc123.0123456789abcdef");
        assert.deepEqual(docs[0].nodeRegistration.kubeletExtraArgs[1], {
            name: "provider-id",
            value: "aws:///eu-west-1b/i-0123456789abcdef0",
        });
        assert.equal(s.hosts.trim(), "127.0.0.1 api.keelson-prod.internal");
        const enc = YAML.parse(s.out("encryption-config.yaml"));
        assert.equal(
            enc.resources[0].providers[0].secretbox.keys[0].secret,
            SECRETS["control-plane/encryption-key"],
        );
        assert.equal(s.out("ca.key").trim(), SECRETS["control-plane/ca-key"]);
        for (const file of [
            "/etc/kubernetes/pki/ca.crt",
            "/etc/kubernetes/pki/ca.key",
            "/etc/kubernetes/pki/etcd/ca.key",
            "/etc/kubernetes/pki/front-proxy-ca.key",
            "/etc/kubernetes/pki/sa.key",
            "/etc/kubernetes/pki/sa.pub",
            "/etc/kubernetes/keelson/encryption-config.yaml",
            "/etc/kubernetes/admin.conf",
            "/etc/keelson/secrets/bootstrap-token",
            "/etc/keelson/kubeadm.yaml",
        ]) {
            assert.equal(s.modes.get(file), "600", file);
        }
        assert.equal(s.modes.get("/etc/keelson/secrets"), "700");
        assert.match(s.out("config.toml"), /SystemdCgroup = true/);
        assert.match(s.out("config.toml"), /sandbox_image = "registry.k8s.io\/pause:3.10"/);
        // Two denied SSM reads were retried 10 s apart, then every parameter was read with decryption;
        // with no marker, three failed probes of the API (10 s apart) came before the init.
        assert.equal(s.calls.filter((c) => c === "sleep 10").length, 2 + 3);
        assert.equal(s.calls.filter((c) => c.startsWith("curl") && c.includes("/readyz")).length, 3);
        assert.equal(
            s.calls.filter((c) => c.startsWith("aws ssm get-parameter") && c.includes("--with-decryption"))
                .length,
            12,
        );
        assert.ok(
            s.calls.includes(
                "apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 install -y -q --allow-change-held-packages kubelet=1.33.4-1.1 kubeadm=1.33.4-1.1 kubectl=1.33.4-1.1",
            ),
        );
        assert.ok(s.calls.includes("apt-mark hold kubelet kubeadm kubectl"));
        for (const value of Object.values(SECRETS).filter((v) => !v.includes("CERTIFICATE"))) {
            assert.ok(!s.output.includes(value.split("\n")[1] ?? value), "no secret in the log");
        }
        assert.match(
            s.output,
            /keelson-bootstrap\[master-0\/master\]: done: node registered as ip-10-30-1-5\.eu-west-1\.compute\.internal/,
        );
        // Its state, the durable marker right after the init, then its slot record, in this order.
        assert.deepEqual(s.writes, [
            `${PREFIX}/state/nodes/master-0=installing <time> ${INSTANCE} containerd and kubernetes 1.33.4`,
            `${PREFIX}/state/nodes/master-0=initialising <time> ${INSTANCE} `,
            `${PREFIX}/state/initialised=yes <time> ${INSTANCE}`,
            `${PREFIX}/state/masters/master-0=${NODE} ${INSTANCE} 10.30.1.5`,
            `${PREFIX}/state/nodes/master-0=ready <time> ${INSTANCE} ${NODE}`,
        ]);
        assert.equal(docs[0].nodeRegistration.name, NODE);
    });

    it("master 0 when the API already answers (a replacement): joins as control plane, no pin", () => {
        const s = runBootstrap(t.dir, "master-0", {}, {});
        assert.equal(s.status, 0, s.output);
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("kubeadm")),
            ["kubeadm join --config /etc/keelson/kubeadm.yaml"],
        );
        const [join] = YAML.parseAllDocuments(s.kubeadmConfigs()[0].text).map((d) => d.toJS());
        assert.equal(join.kind, "JoinConfiguration");
        assert.equal(join.discovery.bootstrapToken.token, "abc123.0123456789abcdef");
        assert.deepEqual(join.controlPlane, { localAPIEndpoint: { bindPort: 6443 } });
        assert.equal(s.hosts, "");
        assert.ok(
            s.writes.some((w) => w.startsWith(`${PREFIX}/state/initialised=yes`)),
            "marker set",
        );
    });

    it("a replacement master 0 with the marker set never inits: it outwaits lost probes, cleans its slot, joins", () => {
        const s = runBootstrap(
            t.dir,
            "master-0",
            {},
            {
                apiFailures: 8,
                etcdUnhealthy: 2,
                etcdMembers: [
                    `8e9e05c52164694d, started, ${OLD_NODE}, https://10.30.1.9:2380, https://10.30.1.9:2379, false`,
                    "91bc3c398fb3c146, started, ip-10-30-2-7.eu-west-1.compute.internal, https://10.30.2.7:2380, https://10.30.2.7:2379, false",
                    "fd422379fda50e48, started, ip-10-30-3-7.eu-west-1.compute.internal, https://10.30.3.7:2380, https://10.30.3.7:2379, false",
                ].join("\n"),
                ssm: {
                    ...realCas,
                    "state/initialised": "yes 2026-11-01T10:00:00Z i-0aaaaaaaaaaaaaaaa",
                    "state/masters/master-0": `${OLD_NODE} i-0aaaaaaaaaaaaaaaa 10.30.1.9`,
                    "state/masters/master-1":
                        "ip-10-30-2-7.eu-west-1.compute.internal i-0bbbbbbbbbbbbbbbb 10.30.2.7",
                    "state/masters/master-2":
                        "ip-10-30-3-7.eu-west-1.compute.internal i-0cccccccccccccccc 10.30.3.7",
                },
            },
        );
        assert.equal(s.status, 0, s.output);
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("kubeadm")),
            ["kubeadm join --config /etc/keelson/kubeadm.yaml"],
        );
        assert.equal(s.hosts, "", "no /etc/hosts pin: this master never initialises");
        assert.match(s.output, /the cluster exists \(marker: yes 2026-11-01T10:00:00Z i-0aaaaaaaaaaaaaaaa\)/);
        // The peers come from the other slots' records; the stale member goes only once they are healthy.
        const etcd = s.calls.filter((c) => c.startsWith("etcdctl"));
        assert.ok(etcd.every((c) => c.includes("--endpoints https://10.30.2.7:2379,https://10.30.3.7:2379")));
        assert.deepEqual(
            etcd.map((c) => c.replace(/^etcdctl .* --command-timeout=10s /, "")),
            [
                "endpoint health",
                "endpoint health",
                "endpoint health",
                "member list -w simple",
                "member remove 8e9e05c52164694d",
            ],
        );
        assert.doesNotMatch(s.state("etcd-members"), /8e9e05c52164694d/);
        const kubectl = s.calls.filter((c) => c.startsWith("kubectl"));
        assert.equal(kubectl.length, 1);
        assert.match(kubectl[0], new RegExp(`delete node ${OLD_NODE} --ignore-not-found --wait=false$`));
        // The cleanup ran before the join, and with a one-day admin certificate signed by the cluster CA.
        const order = s.calls.map((c) => c.split(" ").slice(0, 2).join(" "));
        assert.ok(order.indexOf("kubectl --server") < order.indexOf("kubeadm join"));
        const ca = path.join(t.dir, "ca.crt");
        const client = path.join(t.dir, "admin-client.crt");
        fs.writeFileSync(ca, realCas["join/ca-crt"]);
        fs.writeFileSync(client, s.state("admin-client.crt"));
        const verify = spawnSync("openssl", ["verify", "-CAfile", ca, client], { encoding: "utf8" });
        assert.equal(verify.stdout.trim(), `${client}: OK`, verify.stderr);
        const subject = spawnSync("openssl", ["x509", "-noout", "-subject"], {
            input: s.state("admin-client.crt"),
            encoding: "utf8",
        }).stdout;
        assert.match(subject, /O ?= ?kubeadm:cluster-admins, CN ?= ?keelson-master-0/);
        assert.deepEqual(
            s.writes.filter((w) => w.includes("/state/masters/") || w.includes("/state/initialised")),
            [`${PREFIX}/state/masters/master-0=${NODE} ${INSTANCE} 10.30.1.5`],
        );
    });

    it("a second master is never initialised by a lost probe, and reports waiting, joining, ready", () => {
        const s = runBootstrap(t.dir, "master-1", {}, { apiFailures: 2 });
        assert.equal(s.status, 0, s.output);
        assert.ok(!s.calls.some((c) => c.startsWith("kubeadm init")));
        assert.deepEqual(
            s.writes.map((w) => w.replace(/=(\w+) .*/, "=$1")),
            [
                `${PREFIX}/state/nodes/master-1=installing`,
                `${PREFIX}/state/nodes/master-1=waiting`,
                `${PREFIX}/state/nodes/master-1=joining`,
                `${PREFIX}/state/masters/master-1=${NODE} ${INSTANCE} 10.30.1.5`,
                `${PREFIX}/state/nodes/master-1=ready`,
            ],
        );
        assert.match(s.output, /slot master-1: no previous master to clean up/);
    });

    it("outlasts a held dpkg lock and a denied instance role with bounded retries", () => {
        const s = runBootstrap(t.dir, "general", {}, { aptFailures: 3, awsFailures: 4 });
        assert.equal(s.status, 0, s.output);
        assert.equal(s.calls.filter((c) => c.startsWith("apt-get") && c.includes(" update ")).length, 2 + 3);
        assert.ok(
            s.calls.includes(
                "apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 install -y -q apt-transport-https ca-certificates curl gpg awscli containerd conntrack socat iptables openssl",
            ),
        );
        assert.equal(s.calls.filter((c) => c === "sleep 15").length, 3);
        assert.equal(s.calls.filter((c) => c === "sleep 10").length, 4);
        assert.match(s.output, /apt-get update: attempt 3\/10 failed; next in 15s/);
        assert.match(s.output, /done: node registered/);
    });

    it("reports the failure to SSM and exits non-zero for the unit to retry", () => {
        const s = runBootstrap(t.dir, "general", { kubeadmAttempts: 1 }, { kubeadmFailures: 100 });
        assert.equal(s.status, 1);
        assert.equal(
            s.writes.at(-1),
            // A pool's node reports under `<pool>-<instance id>`: its group names no instance in advance.
            `${PREFIX}/state/nodes/general-${INSTANCE}=failed <time> ${INSTANCE} kubeadm join failed 1 times`,
        );
    });

    it("tries a state report three times, 2 s apart, and only then logs it as not reported", () => {
        const flaky = runBootstrap(t.dir, "general", {}, { putFailures: 2 });
        assert.equal(flaky.status, 0, flaky.output);
        assert.match(flaky.writes[0], /=installing /);
        assert.equal(flaky.calls.filter((c) => c === "sleep 2").length, 2);
        assert.doesNotMatch(flaky.output, /could not report state/);
        assert.match(flaky.writes.at(-1)!, new RegExp(`^${PREFIX}/state/nodes/general-${INSTANCE}=ready `));
        const down = runBootstrap(t.dir, "general", {}, { putFailures: 1000 });
        // Best effort: the node still bootstraps, and each state it could not report says so once.
        assert.equal(down.status, 0, down.output);
        assert.deepEqual(down.writes, []);
        assert.match(down.output, /done: node registered/);
        assert.match(
            down.output,
            new RegExp(
                `WARNING: could not report state 'ready' to ${PREFIX}/state/nodes/general-${INSTANCE}`,
            ),
        );
        const puts = down.calls.filter((c) => c.startsWith("aws ssm put-parameter")).length;
        const warnings = down.output.match(/WARNING: could not report state/g)?.length ?? 0;
        assert.equal(puts, 3 * warnings);
    });

    it("a failure before awscli is installed is logged as not reported, not as 'aws: command not found'", () => {
        // What the boot lab's dev-boot showed: the install failing on a node whose image has no awscli.
        const s = runBootstrap(t.dir, "general", {}, { aptFailures: 100, noAws: true });
        assert.equal(s.status, 1);
        assert.ok(!s.calls.some((c) => c.startsWith("aws ")), s.calls.join("\n"));
        assert.doesNotMatch(s.output, /command not found/);
        assert.match(s.output, /apt-get update: giving up after 10 attempts/);
        assert.match(
            s.output,
            new RegExp(
                `state 'failed' not reported to ${PREFIX}/state/nodes/general-${INSTANCE}: the AWS CLI is not installed yet`,
            ),
        );
    });

    it("master 2 waits its turn after the API answers, then joins", () => {
        const s = runBootstrap(t.dir, "master-2", {}, { apiFailures: 3 });
        assert.equal(s.status, 0, s.output);
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("sleep")),
            ["sleep 10", "sleep 10", "sleep 10", "sleep 45"],
        );
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("kubeadm")),
            ["kubeadm join --config /etc/keelson/kubeadm.yaml"],
        );
    });

    it("a worker held by its pool's launch hook completes it once its Node is Ready, and only then", () => {
        const complete =
            "autoscaling complete-lifecycle-action --region eu-west-1 --auto-scaling-group-name keelson-prod-general-1a2b3c4 " +
            `--lifecycle-hook-name keelson-join --instance-id ${INSTANCE} --lifecycle-action-result CONTINUE`;
        const held = runBootstrap(
            t.dir,
            "general",
            {},
            { asg: "keelson-prod-general-1a2b3c4 Pending:Wait", nodeReady: true },
        );
        assert.equal(held.status, 0, held.output);
        assert.equal(held.state("completed.log").trim(), complete);
        // The kubelet's own credentials read the Node; ready is reported after the group let it in.
        assert.ok(
            held.calls.includes(
                `kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node ${NODE} -o jsonpath={.status.conditions[?(@.type=="Ready")].status}`,
            ),
            held.calls.join("\n"),
        );
        assert.match(
            held.writes[held.writes.length - 1],
            /\/state\/nodes\/general-i-0123456789abcdef0=ready /,
        );

        // The guard: a Node that never gets Ready completes nothing and fails, for the hook to abandon it.
        const never = runBootstrap(
            t.dir,
            "general",
            {},
            { asg: "keelson-prod-general-1a2b3c4 Pending:Wait" },
        );
        assert.equal(never.status, 1);
        assert.equal(never.state("completed.log"), "");
        assert.ok(
            never.output.includes(
                `FATAL: Node ${NODE} is not Ready; its group abandons the instance when the keelson-join hook times out`,
            ),
            never.output,
        );
        // In service already (launched before the hook existed, or completed by an earlier run): nothing to do.
        const inService = runBootstrap(
            t.dir,
            "general",
            {},
            { asg: "keelson-prod-general-1a2b3c4 InService", nodeReady: true },
        );
        assert.equal(inService.status, 0, inService.output);
        assert.equal(inService.state("completed.log"), "");
        // Not in a group at all (the other tests): no Auto Scaling call.
        const plain = runBootstrap(t.dir, "general", {}, {});
        assert.equal(plain.status, 0, plain.output);
        assert.ok(!plain.calls.some((c) => c.startsWith("aws autoscaling")), plain.calls.join("\n"));
    });

    it("a worker retries a failed join after kubeadm reset, and never writes the CA into /etc/kubernetes/pki", () => {
        const s = runBootstrap(t.dir, "batch", {}, { kubeadmFailures: 2 });
        assert.equal(s.status, 0, s.output);
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("kubeadm")),
            [
                "kubeadm join --config /etc/keelson/kubeadm.yaml",
                "kubeadm reset --force",
                "kubeadm join --config /etc/keelson/kubeadm.yaml",
                "kubeadm reset --force",
                "kubeadm join --config /etc/keelson/kubeadm.yaml",
            ],
        );
        assert.equal(s.modes.get("/etc/kubernetes/pki/ca.crt"), undefined);
        assert.equal(
            s.calls.filter((c) => c.includes("control-plane/")).length,
            0,
            "workers read only join/*",
        );
        const [join] = YAML.parseAllDocuments(s.kubeadmConfigs()[2].text).map((d) => d.toJS());
        assert.deepEqual(join.nodeRegistration.taints, [
            { key: "workload.keelson.io/batch", value: "true", effect: "NoSchedule" },
        ]);
        // The pool's one template serves every zone: the zone label comes from IMDS (eu-west-1b here).
        assert.deepEqual(join.nodeRegistration.kubeletExtraArgs, [
            { name: "cloud-provider", value: "external" },
            { name: "provider-id", value: `aws:///eu-west-1b/${INSTANCE}` },
            {
                name: "image-credential-provider-config",
                value: "/etc/kubernetes/image-credential-provider.yaml",
            },
            { name: "image-credential-provider-bin-dir", value: "/etc/kubernetes/credential-providers" },
            {
                name: "node-labels",
                value: "topology.kubernetes.io/region=eu-west-1,topology.kubernetes.io/zone=eu-west-1b,node.kubernetes.io/instance-type=c6i.xlarge,keelson.io/pool=batch,workload.keelson.io/kind=batch",
            },
        ]);
    });

    it("gives up after the bounded waits when the API never answers", () => {
        const s = runBootstrap(t.dir, "general", { apiWaitAttempts: 4 }, { apiFailures: 1000 });
        assert.equal(s.status, 1);
        assert.equal(s.calls.filter((c) => c.startsWith("curl") && c.includes("/readyz")).length, 4);
        assert.deepEqual(
            s.calls.filter((c) => c.startsWith("kubeadm")),
            [],
        );
        assert.match(
            s.output,
            /wait for https:\/\/api\.keelson-prod\.internal:6443\/readyz: giving up after 4 attempts/,
        );
        assert.match(s.output, /FATAL: the API at api\.keelson-prod\.internal:6443 never answered/);
    });

    it("gives up after KUBEADM_ATTEMPTS failed joins", () => {
        const s = runBootstrap(t.dir, "general", { kubeadmAttempts: 2 }, { kubeadmFailures: 100 });
        assert.equal(s.status, 1);
        assert.equal(s.calls.filter((c) => c.startsWith("kubeadm join")).length, 2);
        assert.match(s.output, /FATAL: kubeadm join failed 2 times/);
    });
});
