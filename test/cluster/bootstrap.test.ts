// Pure tests of the node layout and the bootstrap script's bounds, pins and secret handling.
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { gunzipSync } from "zlib";
import { renderBootstrapScript, shellQuote } from "../../components/cluster/render/bootstrap";
import { INSTALL_FUNCTIONS, RETRY_FUNCTION } from "../../components/cluster/render/bootstrap-lib";
import { caCertHash } from "../../components/cluster/render/cahash";
import { USER_DATA_LIMIT_BYTES } from "../../components/cluster/render/cloudinit";
import { planNodes, renderNode } from "../../components/cluster/render/layout";
import { compressUserData } from "../../components/ec2/user-data";
import { requireTool, tempDir } from "../support/live";
import { clusterConfig, environment, prodClusterConfig, ZONES } from "./fixtures";

const base = {
    nodeName: "master-1",
    region: "eu-west-1",
    ssmPrefix: "/keelson/prod/keelson-prod",
    kubernetesVersion: "1.33.4",
    endpointHost: "api.keelson-prod.internal",
};

describe("cluster/render/layout", () => {
    it("spreads masters round-robin over the AZs and plans one launch template per pool, with stable names", () => {
        const nodes = planNodes(prodClusterConfig(), ZONES, "eu-west-1");
        assert.deepEqual(
            nodes.map((n) => `${n.name}@${n.azIndex}:${n.role}:${n.instanceType}:${n.rootVolumeGb}`),
            [
                "master-0@0:master:t3.medium:50",
                "master-1@1:master:t3.medium:50",
                "master-2@2:master:t3.medium:50",
                "general@0:worker:m6i.large:50",
                "batch@0:worker:c6i.xlarge:80",
            ],
        );
        // A pool's nodes learn their zone from IMDS at boot (its group spreads them).
        assert.deepEqual(
            nodes
                .filter((n) => n.role === "worker")
                .map((n) => [n.zone, n.labels["topology.kubernetes.io/zone"]]),
            [
                ["__ZONE__", "__ZONE__"],
                ["__ZONE__", "__ZONE__"],
            ],
        );
        assert.deepEqual(
            planNodes(prodClusterConfig({ masters: 3 }), ZONES.slice(0, 2), "eu-west-1").map(
                (n) => n.azIndex,
            ),
            [0, 1, 0, 0, 0],
        );
    });

    it("gives only master 0 an init template", () => {
        const env = environment(prodClusterConfig(), "prod");
        const rendered = planNodes(prodClusterConfig(), ZONES, "eu-west-1").map((n) => [
            n.name,
            renderNode(n, env).kubeadmInit !== undefined,
        ]);
        assert.deepEqual(rendered, [
            ["master-0", true],
            ["master-1", false],
            ["master-2", false],
            ["general", false],
            ["batch", false],
        ]);
    });

    it("compresses user-data under EC2's 16 KB limit, losslessly and deterministically", () => {
        const env = environment(prodClusterConfig(), "prod");
        const master0 = renderNode(planNodes(prodClusterConfig(), ZONES, "eu-west-1")[0], env).userData;
        const packed = compressUserData(master0);
        assert.equal(gunzipSync(Buffer.from(packed, "base64")).toString("utf8"), master0);
        assert.equal(compressUserData(master0), packed);
        // 8.7 KB with the maintenance timers and the slot logic: a quarter of the limit stays free.
        assert.ok(
            Buffer.from(packed, "base64").length < (USER_DATA_LIMIT_BYTES * 3) / 4,
            "compressed master-0 user-data fits",
        );
        // The largest: a public master (dev) also carries its own-serving-CSR script, 12.0 KB; a fifth stays free.
        const dev = clusterConfig();
        const publicMaster = planNodes(dev, ZONES, "eu-west-1")[0];
        assert.equal(publicMaster.publicMaster, true);
        const devPacked = compressUserData(renderNode(publicMaster, environment(dev)).userData);
        assert.ok(
            Buffer.from(devPacked, "base64").length < (USER_DATA_LIMIT_BYTES * 4) / 5,
            "compressed public master-0 user-data fits",
        );
    });
});

describe("cluster/render/bootstrap", () => {
    const master = renderBootstrapScript({ ...base, role: "master", masterIndex: 1 });
    const worker = renderBootstrapScript({ ...base, role: "worker", nodeName: "general" });

    it("bounds the wait for the API and the kubeadm attempts", () => {
        assert.match(master, /^readonly API_WAIT_ATTEMPTS=60$/m);
        assert.match(master, /^readonly RETRY_INTERVAL=10$/m);
        assert.match(master, /^readonly KUBEADM_ATTEMPTS=5$/m);
        assert.match(master, /^readonly JOIN_STAGGER=45$/m);
        assert.match(
            master,
            /retry "\$API_WAIT_ATTEMPTS" "\$RETRY_INTERVAL" "wait for https:\/\/\$API_ENDPOINT\/readyz" api_ready/,
        );
        assert.match(master, /for \(\(i = 1; i <= KUBEADM_ATTEMPTS; i\+\+\)\); do/);
        assert.match(master, /kubeadm reset --force \|\| true/);
        const custom = renderBootstrapScript({
            ...base,
            role: "worker",
            apiWaitAttempts: 7,
            retryIntervalSeconds: 3,
            kubeadmAttempts: 2,
        });
        assert.match(custom, /^readonly API_WAIT_ATTEMPTS=7$/m);
        assert.match(custom, /^readonly RETRY_INTERVAL=3$/m);
        assert.match(custom, /^readonly KUBEADM_ATTEMPTS=2$/m);
    });

    it("pins and holds kubelet, kubeadm and kubectl from pkgs.k8s.io", () => {
        assert.match(master, /^readonly PKG_VERSION='1\.33\.4-1\.1'$/m);
        assert.match(master, /^readonly K8S_SERIES='1\.33'$/m);
        assert.match(
            master,
            /^install_kubernetes\(\) \{\n {4}kubernetes_repository\n {4}install_kube_packages kubelet kubeadm kubectl\n/m,
        );
        assert.match(master, /https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v\$K8S_SERIES\/deb\//);
        // What install_kube_packages runs, with apt-get and apt-mark recording their arguments.
        const { dir: t, cleanup } = tempDir("kube-packages");
        for (const tool of ["apt-get", "apt-mark"]) {
            fs.writeFileSync(path.join(t, tool), `#!/bin/sh\necho "${tool} $*" >>"${t}/calls"\n`, {
                mode: 0o755,
            });
        }
        execFileSync(
            "bash",
            [
                "-c",
                `set -euo pipefail; log() { :; }; ${RETRY_FUNCTION}${INSTALL_FUNCTIONS}` +
                    "PKG_VERSION=1.33.4-1.1 APT_LOCK_TIMEOUT=300; install_kube_packages kubelet kubeadm kubectl",
            ],
            { env: { ...process.env, PATH: `${t}:${process.env.PATH}` } },
        );
        assert.deepEqual(fs.readFileSync(path.join(t, "calls"), "utf8").trim().split("\n"), [
            "apt-mark unhold kubelet kubeadm kubectl",
            "apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3 install -y -q --allow-change-held-packages " +
                "kubelet=1.33.4-1.1 kubeadm=1.33.4-1.1 kubectl=1.33.4-1.1",
            "apt-mark hold kubelet kubeadm kubectl",
        ]);
        cleanup();
    });

    it("lets workers read only the join parameters and masters the CA keys too", () => {
        const fetched = (s: string) =>
            [...s.matchAll(/^ {4}fetch_parameter '([^']+)' '([^']+)'$/gm)].map((m) => m[1]);
        assert.deepEqual(fetched(worker), ["join/ca-crt", "join/bootstrap-token"]);
        assert.deepEqual(fetched(master), [
            "join/ca-crt",
            "join/bootstrap-token",
            "control-plane/ca-key",
            "control-plane/etcd-ca-crt",
            "control-plane/etcd-ca-key",
            "control-plane/front-proxy-ca-crt",
            "control-plane/front-proxy-ca-key",
            "control-plane/sa-key",
            "control-plane/sa-pub",
            "control-plane/encryption-key",
        ]);
        assert.match(master, /install -m 0600 "\$SECRETS_DIR\/ca-key" "\$PKI_DIR\/ca.key"/);
        assert.match(master, /install -m 0600 "\$SECRETS_DIR\/etcd-ca-key" "\$PKI_DIR\/etcd\/ca.key"/);
        assert.doesNotMatch(worker, /PKI_DIR/);
        assert.doesNotMatch(worker, /init_cluster/);
    });

    it("initialises only from slot 0, only with the marker unset and no API after the probes", () => {
        const m0 = renderBootstrapScript({ ...base, role: "master", masterIndex: 0, masterCount: 3 });
        assert.match(m0, /^ {4}decide_and_bootstrap$/m);
        assert.match(
            m0,
            /if \[\[ "\$STATE_VALUE" == yes\* \]\]; then\n.*\n {8}join_cluster "\$JOIN_TEMPLATE"\n {4}elif retry "\$INIT_PROBE_ATTEMPTS" "\$RETRY_INTERVAL" "probe https:\/\/\$API_ENDPOINT\/readyz" api_ready; then\n.*\n {8}join_cluster "\$JOIN_TEMPLATE"\n {4}else\n {8}init_cluster\n {4}fi\n {4}mark_initialised/,
        );
        assert.match(m0, /^readonly INIT_PROBE_ATTEMPTS=3$/m);
        assert.match(m0, /^readonly MASTER_INDEX=0$/m);
        assert.match(m0, /^readonly STATE_PREFIX='\/keelson\/prod\/keelson-prod\/state'$/m);
        // The others slots' records are where the replacement finds the etcd peers.
        assert.match(m0, /for slot in 'master-1' 'master-2'; do/);
        assert.doesNotMatch(master, /init_cluster|decide_and_bootstrap|mark_initialised|INIT_TEMPLATE/);
        assert.match(master, /for slot in 'master-0'; do/);
        assert.match(master, /^ {4}remove_stale_member$/m);
        assert.match(worker, /^readonly MASTER_INDEX=-1$/m);
        assert.match(worker, /^ {4}join_cluster "\$JOIN_TEMPLATE"$/m);
        assert.doesNotMatch(worker, /remove_stale_member|record_slot|etcdctl/);
    });

    it("installs the Debian packages itself, waiting for the dpkg lock, and etcdctl on masters only", () => {
        assert.match(
            worker,
            /^readonly DEBIAN_PACKAGES=\(apt-transport-https ca-certificates curl gpg awscli containerd conntrack socat iptables openssl\)$/m,
        );
        assert.match(master, /^readonly DEBIAN_PACKAGES=\(.* openssl etcd-client\)$/m);
        assert.match(master, /^readonly APT_LOCK_TIMEOUT=300$/m);
        assert.match(
            master,
            /apt-get -o DPkg::Lock::Timeout="\$APT_LOCK_TIMEOUT" -o Acquire::Retries=3 "\$@"/,
        );
        assert.match(master, /retry 10 15 "install \$\{DEBIAN_PACKAGES\[\*\]\}" apt_get install -y -q/);
        assert.match(master, /latest\/debian_\$arch\/amazon-ssm-agent\.deb/);
    });

    it("fills the provider id from IMDSv2 and the secrets from SSM into the kubeadm config", () => {
        assert.match(master, /-X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300'/);
        assert.match(master, /PROVIDER_ID="aws:\/\/\/\$ZONE\/\$INSTANCE_ID"/);
        assert.match(master, /KUBE_NODE_NAME="\$\(imds local-hostname\)"/);
        assert.match(worker, /^ {4}text="\$\{text\/\/__NODE_NAME__\/\$KUBE_NODE_NAME\}"$/m);
        assert.match(worker, /^ {4}text="\$\{text\/\/__PROVIDER_ID__\/\$PROVIDER_ID\}"$/m);
        assert.match(
            worker,
            /^ {4}text="\$\{text\/\/__BOOTSTRAP_TOKEN__\/\$\(<"\$SECRETS_DIR\/bootstrap-token"\)\}"$/m,
        );
        assert.doesNotMatch(worker, /__ENCRYPTION_KEY__/);
        assert.match(
            master,
            /^ {4}text="\$\{text\/\/__ENCRYPTION_KEY__\/\$\(<"\$SECRETS_DIR\/encryption-key"\)\}"$/m,
        );
    });

    it("quotes every value for the shell", () => {
        assert.equal(shellQuote("it's"), `'it'\\''s'`);
        assert.equal(shellQuote("/keelson/dev/x"), "'/keelson/dev/x'");
        const weird = renderBootstrapScript({ ...base, role: "worker", nodeName: "a'b $(reboot)" });
        // A worker's name is its pool's, with the instance id appended once IMDS answers.
        assert.match(weird, /^NODE_NAME='a'\\''b \$\(reboot\)'$/m);
        assert.match(weird, /^ {4}NODE_NAME="\$NODE_NAME-\$INSTANCE_ID"\n {4}readonly NODE_NAME$/m);
        const master = renderBootstrapScript({ ...base, role: "master", nodeName: "a'b $(reboot)" });
        assert.match(master, /^readonly NODE_NAME='a'\\''b \$\(reboot\)'$/m);
    });
});

describe("cluster/render/cahash", function () {
    it("matches openssl's sha256 of the DER SubjectPublicKeyInfo", function () {
        const openssl = requireTool(this, "openssl");
        const t = tempDir("cahash");
        try {
            const key = path.join(t.dir, "ca.key");
            execFileSync(openssl, ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
            const pub = execFileSync(openssl, ["pkey", "-in", key, "-pubout"]).toString();
            const der = execFileSync(openssl, ["pkey", "-in", key, "-pubout", "-outform", "DER"]);
            fs.writeFileSync(path.join(t.dir, "pub.der"), der);
            const digest = execFileSync(openssl, ["dgst", "-sha256", "-r", path.join(t.dir, "pub.der")])
                .toString()
                .split(" ")[0];
            assert.equal(caCertHash(pub), `sha256:${digest}`);
        } finally {
            t.cleanup();
        }
    });

    it("rejects text without a PUBLIC KEY block", () => {
        assert.throws(() => caCertHash("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"), {
            message: "caCertHash: expected a PEM block 'BEGIN PUBLIC KEY' (SubjectPublicKeyInfo)",
        });
    });
});
