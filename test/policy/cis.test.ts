// The rendered kubeadm, kubelet, kube-proxy and etcd configs, the audit policy, the admin kubeconfig and the file
// modes the node bootstrap leaves, checked control by control against kube-bench's CIS profile for Kubernetes 1.33
// (cfg/cis-1.12 master.yaml, etcd.yaml, controlplane.yaml, node.yaml; see ./cis-profile.ts). Every control of
// sections 1-4 is either checked or listed as not decidable from Keelson's config, with the reason; the failing
// controls must be exactly the documented exceptions, and README lists both sets with the same IDs.
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { renderKubeconfig } from "../../components/cluster/kubeconfig";
import { auditLevel, fileModes, PROFILE_CONTROLS, rendered } from "./cis-profile";

type Doc = Record<string, unknown>;
type Config = ReturnType<typeof rendered>;
type Check = readonly [id: string, pass: (c: Config) => boolean];

/** Every CIS 1.12 control that fails, with the reason it is accepted (README "CIS exceptions" lists the same). */
export const CIS_EXCEPTIONS: Record<string, string> = {
    "1.1.12":
        "kubeadm runs etcd as root (RootlessControlPlane is alpha), so /var/lib/etcd is root:root and no etcd user exists",
    "1.2.1":
        "--anonymous-auth stays on: AuthenticationConfiguration limits anonymous requests to /livez, /readyz, /healthz (the load balancers' health checks) and kubeadm's cluster-info",
    "1.2.11":
        "AlwaysPullImages: images are pinned by tag and digest; pulling on every start makes the registry a restart dependency",
    "3.1.1":
        "the admin kubeconfig (stack output) holds a client certificate; it cannot be revoked, only unbound (delete the kubeadm:cluster-admins ClusterRoleBinding); no OIDC user login is set up",
    "4.2.9":
        "kubelet tlsCertFile unset: the serving certificate is issued by the cluster CA through serverTLSBootstrap (approved by kubelet-csr-approver) and rotates, so there is no static file to name",
};

/** Controls the rendered config cannot decide, with why (README "CIS, not decidable from config"). */
export const NOT_DECIDABLE: Record<string, string> = {
    ...Object.fromEntries(
        [
            "1.1.2",
            "1.1.4",
            "1.1.6",
            "1.1.8",
            "1.1.14",
            "1.1.16",
            "1.1.18",
            "1.1.19",
            "4.1.2",
            "4.1.6",
            "4.1.8",
            "4.1.10",
        ].map((id) => [
            id,
            "ownership: every file is created by root (kubeadm, dpkg, the root bootstrap unit) and nothing chowns it",
        ]),
    ),
    "1.1.9":
        "the CNI's own installer (Calico install-cni, Cilium agent) writes /etc/cni/net.d; Keelson renders no CNI file",
    "1.1.10": "as 1.1.9",
    "1.2.20": "manual, no test: --request-timeout keeps its 60 s default",
    "3.1.2": "manual: Keelson hands no service-account token to a user",
    "4.1.3":
        "no proxy kubeconfig file: kube-proxy is kubeadm's DaemonSet and reads it from the kube-proxy ConfigMap",
    "4.1.4": "as 4.1.3",
    "4.2.7":
        "kubeadm adds --hostname-override=<EC2 private DNS name> at boot only when the OS hostname differs; the rendered config sets none",
};

const has = (csv: string | undefined, item: string) => (csv ?? "").split(",").includes(item);
const num = (v: string | undefined) => (v === undefined ? NaN : Number(v));
const at = (o: unknown, ...keys: string[]) => keys.reduce<unknown>((x, k) => (x as Doc | undefined)?.[k], o);
const KUBE_BENCH_APISERVER_CIPHERS =
    "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".split(
        ",",
    );
const KUBE_BENCH_KUBELET_CIPHERS =
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".split(
        ",",
    );
const validElements = (csv: string | undefined, allowed: string[]) =>
    csv !== undefined && csv.split(",").every((c) => allowed.includes(c));
/** The file exists with at most `max`'s permission bits (kube-bench's "bitmask" comparison). */
const atMost = (modes: Record<string, number>, file: string, max: number) =>
    modes[file] !== undefined && (modes[file] & ~max) === 0;
const allAtMost = (modes: Record<string, number>, match: RegExp, max: number) => {
    const files = Object.keys(modes).filter((f) => match.test(f));
    return files.length > 0 && files.every((f) => atMost(modes, f, max));
};
const M = "/etc/kubernetes/manifests";
const audit = (c: Config, verb: string, group: string, resource: string) =>
    auditLevel(c.audit, { user: "alice", verb, group, resource, namespace: "app" });
const logged = (level: string) => ["Metadata", "Request", "RequestResponse"].includes(level);
const adminKubeconfig = () =>
    renderKubeconfig({
        clusterName: "c",
        server: "https://api:6443",
        caCertPem: "ca",
        clientCertPem: "cert",
        clientKeyPem: "key",
    });

/** kube-bench cis-1.12, every control the rendered config decides. */
const CHECKS: readonly Check[] = [
    ["1.1.1", (c) => atMost(c.masterModes, `${M}/kube-apiserver.yaml`, 0o600)],
    ["1.1.3", (c) => atMost(c.masterModes, `${M}/kube-controller-manager.yaml`, 0o600)],
    ["1.1.5", (c) => atMost(c.masterModes, `${M}/kube-scheduler.yaml`, 0o600)],
    ["1.1.7", (c) => atMost(c.masterModes, `${M}/etcd.yaml`, 0o600)],
    ["1.1.11", (c) => atMost(c.masterModes, c.etcd["data-dir"], 0o700)],
    ["1.1.12", (c) => c.etcdDataOwner === "etcd:etcd"],
    [
        "1.1.13",
        (c) =>
            atMost(c.masterModes, "/etc/kubernetes/admin.conf", 0o600) &&
            atMost(c.masterModes, "/etc/kubernetes/super-admin.conf", 0o600),
    ],
    ["1.1.15", (c) => atMost(c.masterModes, "/etc/kubernetes/scheduler.conf", 0o600)],
    ["1.1.17", (c) => atMost(c.masterModes, "/etc/kubernetes/controller-manager.conf", 0o600)],
    ["1.1.20", (c) => allAtMost(c.masterModes, /^\/etc\/kubernetes\/pki\/.*\.crt$/, 0o644)],
    ["1.1.21", (c) => allAtMost(c.masterModes, /^\/etc\/kubernetes\/pki\/.*\.key$/, 0o600)],
    ["1.2.1", (c) => c.api["anonymous-auth"] === "false"],
    ["1.2.2", (c) => c.api["token-auth-file"] === undefined],
    ["1.2.3", (c) => has(c.api["enable-admission-plugins"], "DenyServiceExternalIPs")],
    ["1.2.4", (c) => !!c.api["kubelet-client-certificate"] && !!c.api["kubelet-client-key"]],
    [
        // "As appropriate": the CA that signs the kubelets' serving certificates, which they must request.
        "1.2.5",
        (c) =>
            c.api["kubelet-certificate-authority"] === c.cm["cluster-signing-cert-file"] &&
            c.kubelet.serverTLSBootstrap === true,
    ],
    ["1.2.6", (c) => !has(c.api["authorization-mode"], "AlwaysAllow")],
    ["1.2.7", (c) => has(c.api["authorization-mode"], "Node")],
    ["1.2.8", (c) => has(c.api["authorization-mode"], "RBAC")],
    ["1.2.9", (c) => has(c.api["enable-admission-plugins"], "EventRateLimit")],
    ["1.2.10", (c) => !has(c.api["enable-admission-plugins"], "AlwaysAdmit")],
    ["1.2.11", (c) => has(c.api["enable-admission-plugins"], "AlwaysPullImages")],
    ["1.2.12", (c) => !has(c.api["disable-admission-plugins"], "ServiceAccount")],
    ["1.2.13", (c) => !has(c.api["disable-admission-plugins"], "NamespaceLifecycle")],
    ["1.2.14", (c) => has(c.api["enable-admission-plugins"], "NodeRestriction")],
    ["1.2.15", (c) => c.api.profiling === "false"],
    ["1.2.16", (c) => !!c.api["audit-log-path"]],
    ["1.2.17", (c) => num(c.api["audit-log-maxage"]) >= 30],
    ["1.2.18", (c) => num(c.api["audit-log-maxbackup"]) >= 10],
    ["1.2.19", (c) => num(c.api["audit-log-maxsize"]) >= 100],
    [
        "1.2.21",
        (c) => c.api["service-account-lookup"] === undefined || c.api["service-account-lookup"] === "true",
    ],
    ["1.2.22", (c) => !!c.api["service-account-key-file"]],
    ["1.2.23", (c) => !!c.api["etcd-certfile"] && !!c.api["etcd-keyfile"]],
    ["1.2.24", (c) => !!c.api["tls-cert-file"] && !!c.api["tls-private-key-file"]],
    ["1.2.25", (c) => !!c.api["client-ca-file"]],
    ["1.2.26", (c) => !!c.api["etcd-cafile"]],
    ["1.2.27", (c) => !!c.api["encryption-provider-config"]],
    [
        "1.2.28",
        (c) => {
            const providers = at(c.encryption, "resources", "0", "providers") as Doc[] | undefined;
            return ["aescbc", "kms", "secretbox"].includes(Object.keys(providers?.[0] ?? {})[0]);
        },
    ],
    ["1.2.29", (c) => validElements(c.api["tls-cipher-suites"], KUBE_BENCH_APISERVER_CIPHERS)],
    ["1.2.30", (c) => c.api["service-account-extend-token-expiration"] === "false"],
    ["1.3.1", (c) => !!c.cm["terminated-pod-gc-threshold"]],
    ["1.3.2", (c) => c.cm.profiling === "false"],
    ["1.3.3", (c) => c.cm["use-service-account-credentials"] === "true"],
    ["1.3.4", (c) => !!c.cm["service-account-private-key-file"]],
    ["1.3.5", (c) => !!c.cm["root-ca-file"]],
    ["1.3.6", (c) => !/RotateKubeletServerCertificate=false/.test(c.cm["feature-gates"] ?? "")],
    ["1.3.7", (c) => c.cm["bind-address"] === "127.0.0.1"],
    ["1.4.1", (c) => c.sched.profiling === "false"],
    ["1.4.2", (c) => c.sched["bind-address"] === "127.0.0.1"],
    ["2.1", (c) => !!c.etcd["cert-file"] && !!c.etcd["key-file"]],
    ["2.2", (c) => c.etcd["client-cert-auth"] === "true"],
    ["2.3", (c) => c.etcd["auto-tls"] !== "true"],
    ["2.4", (c) => !!c.etcd["peer-cert-file"] && !!c.etcd["peer-key-file"]],
    ["2.5", (c) => c.etcd["peer-client-cert-auth"] === "true"],
    ["2.6", (c) => c.etcd["peer-auto-tls"] !== "true"],
    ["2.7", (c) => !!c.etcd["trusted-ca-file"] && c.etcd["trusted-ca-file"] !== c.api["client-ca-file"]],
    [
        "3.1.1",
        () =>
            at(YAML.parse(adminKubeconfig()), "users", "0", "user", "client-certificate-data") === undefined,
    ],
    [
        "3.1.3",
        (c) =>
            c.bootstrapTokenGroups.length > 0 &&
            c.bootstrapTokenGroups.every((g) => g.startsWith("system:bootstrappers:")),
    ],
    ["3.2.1", (c) => !!c.api["audit-policy-file"]],
    [
        "3.2.2",
        (c) =>
            ["get", "list", "update"].every((v) => audit(c, v, "", "secrets") === "Metadata") &&
            audit(c, "update", "", "configmaps") === "Metadata" &&
            audit(c, "create", "authentication.k8s.io", "tokenreviews") === "Metadata" &&
            ["create", "patch", "delete"].every((v) => logged(audit(c, v, "", "pods"))) &&
            ["create", "patch", "delete"].every((v) => logged(audit(c, v, "apps", "deployments"))) &&
            ["pods/exec", "pods/portforward", "pods/proxy", "services/proxy"].every((r) =>
                logged(audit(c, "create", "", r)),
            ),
    ],
    [
        "4.1.1",
        (c) =>
            [c.masterModes, c.workerModes].every(
                (m) =>
                    atMost(m, "/lib/systemd/system/kubelet.service", 0o600) &&
                    atMost(m, "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf", 0o600),
            ),
    ],
    ["4.1.5", (c) => atMost(c.workerModes, "/etc/kubernetes/kubelet.conf", 0o600)],
    ["4.1.7", (c) => atMost(c.workerModes, "/etc/kubernetes/pki/ca.crt", 0o644)],
    [
        "4.1.9",
        (c) => [c.masterModes, c.workerModes].every((m) => atMost(m, "/var/lib/kubelet/config.yaml", 0o600)),
    ],
    ["4.2.1", (c) => at(c.kubelet, "authentication", "anonymous", "enabled") === false],
    ["4.2.2", (c) => at(c.kubelet, "authorization", "mode") !== "AlwaysAllow"],
    ["4.2.3", (c) => !!at(c.kubelet, "authentication", "x509", "clientCAFile")],
    ["4.2.4", (c) => c.kubelet.readOnlyPort === 0],
    [
        "4.2.5",
        (c) =>
            c.kubelet.streamingConnectionIdleTimeout !== 0 &&
            c.kubelet.streamingConnectionIdleTimeout !== "0",
    ],
    ["4.2.6", (c) => c.kubelet.makeIPTablesUtilChains === true],
    [
        "4.2.8",
        (c) => typeof c.kubelet.eventRecordQPS === "number" && (c.kubelet.eventRecordQPS as number) > 0,
    ],
    ["4.2.9", (c) => !!c.kubelet.tlsCertFile && !!c.kubelet.tlsPrivateKeyFile],
    ["4.2.10", (c) => c.kubelet.rotateCertificates !== false],
    ["4.2.11", (c) => at(c.kubelet, "featureGates", "RotateKubeletServerCertificate") !== false],
    [
        "4.2.12",
        (c) =>
            validElements(
                (c.kubelet.tlsCipherSuites as string[] | undefined)?.join(","),
                KUBE_BENCH_KUBELET_CIPHERS,
            ),
    ],
    ["4.2.13", (c) => typeof c.kubelet.podPidsLimit === "number" && (c.kubelet.podPidsLimit as number) > 0],
    ["4.2.14", (c) => c.kubelet.seccompDefault === true],
    ["4.3.1", (c) => String(c.proxy.metricsBindAddress ?? "").startsWith("127.0.0.1:")],
];

/** The control IDs of a README table between `<!-- name -->` markers (first column). */
const README = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
function readmeIds(marker: string, readme = README): string[] {
    const m = new RegExp(`<!-- ${marker} -->([\\s\\S]*?)<!-- /${marker} -->`).exec(readme);
    assert.ok(m, `README.md: the markers <!-- ${marker} --> and <!-- /${marker} --> are missing`);
    return [...m[1].matchAll(/^\s*\| ([\d.]+(?:, [\d.]+)*) \|/gm)].flatMap((r) => r[1].split(", "));
}

const failingOf = (c: Config) => CHECKS.filter(([, pass]) => !pass(c)).map(([id]) => id);

describe("CIS Kubernetes 1.12 (kube-bench) over the rendered prod configs", () => {
    const c = rendered();

    it("fails exactly the documented exceptions, control by control", () => {
        assert.deepEqual(failingOf(c), Object.keys(CIS_EXCEPTIONS));
    });

    it("checks every control of sections 1-4 once, or says why the config cannot decide it", () => {
        const ids = CHECKS.map(([id]) => id);
        assert.equal(new Set(ids).size, ids.length);
        assert.deepEqual(
            ids.filter((id) => id in NOT_DECIDABLE),
            [],
        );
        const sorted = (xs: string[]) => [...xs].sort();
        assert.deepEqual(sorted([...ids, ...Object.keys(NOT_DECIDABLE)]), sorted([...PROFILE_CONTROLS]));
    });

    it("README lists every exception and every undecidable control, nothing more", () => {
        assert.deepEqual(readmeIds("cis:exceptions").sort(), Object.keys(CIS_EXCEPTIONS).sort());
        assert.deepEqual(readmeIds("cis:not-decidable").sort(), Object.keys(NOT_DECIDABLE).sort());
        const dropped = README.replace(/^\s*\| 3\.1\.1 \|.*\n/m, "");
        assert.notDeepEqual(readmeIds("cis:exceptions", dropped).sort(), Object.keys(CIS_EXCEPTIONS).sort());
    });

    it("notices a weakened config: each passing control fails when its setting is removed", () => {
        const broken = structuredClone(c);
        delete broken.api["service-account-extend-token-expiration"];
        broken.api["tls-cipher-suites"] = "TLS_RSA_WITH_AES_128_CBC_SHA";
        broken.kubelet.seccompDefault = false;
        broken.kubelet.serverTLSBootstrap = false;
        delete broken.kubelet.podPidsLimit;
        broken.etcd["client-cert-auth"] = "false";
        broken.etcd["trusted-ca-file"] = broken.api["client-ca-file"];
        broken.audit.rules = broken.audit.rules.filter((r) => r.level !== "Metadata" || !r.resources);
        broken.api["enable-admission-plugins"] = "NodeRestriction,DenyServiceExternalIPs";
        assert.deepEqual(
            failingOf(broken).filter((id) => !(id in CIS_EXCEPTIONS)),
            ["1.2.5", "1.2.9", "1.2.29", "1.2.30", "2.2", "2.7", "3.2.2", "4.2.13", "4.2.14"],
        );
    });

    it("notices a bootstrap that no longer tightens file modes (the kubeadm and package defaults fail)", () => {
        const noChmod = (text: string) => text.replace(/^\s*chmod .*$/gm, "");
        const weak = {
            ...c,
            masterModes: fileModes(noChmod(c.bootstraps.master)),
            workerModes: fileModes(noChmod(c.bootstraps.worker)),
        };
        assert.deepEqual(
            failingOf(weak).filter((id) => !(id in CIS_EXCEPTIONS)),
            ["4.1.1", "4.1.9"],
        );
        const notCalled = (text: string) => text.replace(/^(\s+)harden_files$/m, "$1:");
        assert.notEqual(notCalled(c.bootstraps.worker), c.bootstraps.worker);
        assert.deepEqual(
            failingOf({ ...c, workerModes: fileModes(notCalled(c.bootstraps.worker)) }).filter(
                (id) => !(id in CIS_EXCEPTIONS),
            ),
            ["4.1.1", "4.1.9"],
        );
        const noInstallMode = (text: string) =>
            text.replace(/install -m 0600 "\$SECRETS_DIR/g, 'install -m 0644 "$SECRETS_DIR');
        assert.deepEqual(
            failingOf({ ...c, masterModes: fileModes(noInstallMode(c.bootstraps.master)) }).filter(
                (id) => !(id in CIS_EXCEPTIONS),
            ),
            ["1.1.21"],
        );
    });
});
