// What kube-bench would read on a Keelson node, built from the rendered configs: the profile's control list
// (cfg/cis-1.12 at aquasecurity/kube-bench f1807bb, which cfg/config.yaml maps Kubernetes 1.32-1.34 to), the
// flags kubeadm 1.33 writes into the static pod manifests before applying extraArgs, and the file modes kubeadm
// and the Debian packages create, overridden by the chmod/install lines of the rendered bootstrap.
import * as YAML from "yaml";
import { BOOTSTRAP_SCRIPT_PATH } from "../../components/cluster/render/bootstrap";
import { planNodes, renderNode } from "../../components/cluster/render/layout";
import { renderAuditPolicy, renderEncryptionConfigTemplate } from "../../components/cluster/render/policies";
import { environment, prodClusterConfig, ZONES } from "../cluster/fixtures";

type Doc = Record<string, unknown>;
const PKI = "/etc/kubernetes/pki";

/** Every control of master.yaml, etcd.yaml, controlplane.yaml and node.yaml (section 5 is the policy pack's). */
export const PROFILE_CONTROLS: readonly string[] = [
    ...range("1.1", 21),
    ...range("1.2", 30),
    ...range("1.3", 7),
    ...range("1.4", 2),
    ...Array.from({ length: 7 }, (_, i) => `2.${i + 1}`),
    ...range("3.1", 3),
    ...range("3.2", 2),
    ...range("4.1", 10),
    ...range("4.2", 14),
    ...range("4.3", 1),
];
function range(prefix: string, n: number): string[] {
    return Array.from({ length: n }, (_, i) => `${prefix}.${i + 1}`);
}

/** Flags kubeadm 1.33 puts into kube-apiserver.yaml before applying extraArgs. */
const KUBEADM_APISERVER: Record<string, string> = {
    "authorization-mode": "Node,RBAC",
    "client-ca-file": `${PKI}/ca.crt`,
    "enable-admission-plugins": "NodeRestriction",
    "etcd-cafile": `${PKI}/etcd/ca.crt`,
    "etcd-certfile": `${PKI}/apiserver-etcd-client.crt`,
    "etcd-keyfile": `${PKI}/apiserver-etcd-client.key`,
    "kubelet-client-certificate": `${PKI}/apiserver-kubelet-client.crt`,
    "kubelet-client-key": `${PKI}/apiserver-kubelet-client.key`,
    "service-account-key-file": `${PKI}/sa.pub`,
    "service-account-signing-key-file": `${PKI}/sa.key`,
    "tls-cert-file": `${PKI}/apiserver.crt`,
    "tls-private-key-file": `${PKI}/apiserver.key`,
};
const KUBEADM_CONTROLLER_MANAGER: Record<string, string> = {
    "bind-address": "127.0.0.1",
    "cluster-signing-cert-file": `${PKI}/ca.crt`,
    "cluster-signing-key-file": `${PKI}/ca.key`,
    "root-ca-file": `${PKI}/ca.crt`,
    "service-account-private-key-file": `${PKI}/sa.key`,
    "use-service-account-credentials": "true",
};
const KUBEADM_SCHEDULER: Record<string, string> = { "bind-address": "127.0.0.1" };
/** kubeadm's local etcd flags (phases/etcd/local.go getEtcdCommand). */
const KUBEADM_ETCD: Record<string, string> = {
    "cert-file": `${PKI}/etcd/server.crt`,
    "key-file": `${PKI}/etcd/server.key`,
    "trusted-ca-file": `${PKI}/etcd/ca.crt`,
    "client-cert-auth": "true",
    "peer-cert-file": `${PKI}/etcd/peer.crt`,
    "peer-key-file": `${PKI}/etcd/peer.key`,
    "peer-trusted-ca-file": `${PKI}/etcd/ca.crt`,
    "peer-client-cert-auth": "true",
    "data-dir": "/var/lib/etcd",
};

const KUBECONFIGS = ["admin", "super-admin", "scheduler", "controller-manager", "kubelet"].map(
    (n) => `/etc/kubernetes/${n}.conf`,
);
const CERTS = [
    "ca",
    "apiserver",
    "apiserver-kubelet-client",
    "apiserver-etcd-client",
    "front-proxy-ca",
    "front-proxy-client",
    "etcd/ca",
    "etcd/server",
    "etcd/peer",
    "etcd/healthcheck-client",
].map((n) => `${PKI}/${n}`);
/**
 * Modes of the files kube-bench inspects as kubeadm and the packages create them: static pod manifests 0600
 * (staticpod.WriteStaticPodToDisk), the etcd data directory 0700, kubeconfigs 0600 (clientcmd.WriteToFile),
 * certificates 0644 and keys 0600 (certutil/keyutil), the kubelet config 0644 (writeConfigBytesToDisk), the
 * kubelet unit and kubeadm drop-in 0644 (pkgs.k8s.io packages). Every one is written by root.
 */
export const KUBEADM_FILE_MODES: Readonly<Record<string, number>> = {
    ...Object.fromEntries(
        ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"].map((c) => [
            `/etc/kubernetes/manifests/${c}.yaml`,
            0o600,
        ]),
    ),
    "/var/lib/etcd": 0o700,
    ...Object.fromEntries(KUBECONFIGS.map((k) => [k, 0o600])),
    ...Object.fromEntries(
        CERTS.flatMap((c) => [
            [`${c}.crt`, 0o644],
            [`${c}.key`, 0o600],
        ]),
    ),
    "/var/lib/kubelet/config.yaml": 0o644,
    "/lib/systemd/system/kubelet.service": 0o644,
    "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": 0o644,
};

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/\*/g, "[^/]*")}$`);

/** The final mode of each file: kubeadm's, then each `chmod`/`install -m` of the bootstrap in order. */
export function fileModes(bootstrap: string): Record<string, number> {
    const modes: Record<string, number> = { ...KUBEADM_FILE_MODES };
    const set = (mode: string, pattern: string) => {
        for (const f of Object.keys(modes)) if (glob(pattern).test(f)) modes[f] = parseInt(mode, 8);
    };
    // A chmod inside a shell function counts only when the script calls that function.
    let fn: string | undefined;
    const called = (name: string) => new RegExp(`^\\s+${name}(\\s|$)`, "m").test(bootstrap);
    for (const line of bootstrap.split("\n")) {
        fn = /^(\w+)\(\) \{$/.exec(line)?.[1] ?? (line === "}" ? undefined : fn);
        if (fn !== undefined && !called(fn)) continue;
        const chmod = /^\s*chmod (\d{3,4}) (.+?)(?: 2>\/dev\/null)?(?: \|\| true)?$/.exec(line);
        if (chmod) for (const p of chmod[2].split(/\s+/)) set(chmod[1], p);
        const install = /^\s*install -m (\d{4}) "\$SECRETS_DIR\/[^"]+" "\$PKI_DIR\/([^"]+)"$/.exec(line);
        if (install) set(install[1], `${PKI}/${install[2]}`);
    }
    return modes;
}

const flagMap = (list: unknown): Record<string, string> =>
    Array.isArray(list)
        ? Object.fromEntries(list.map((a: { name: string; value: string }) => [a.name, a.value]))
        : Object.fromEntries(Object.entries((list ?? {}) as Doc).map(([k, v]) => [k, String(v)]));

/** The node bootstrap script out of a node's cloud-config (write_files). */
export function bootstrapScript(userData: string): string {
    const files = (YAML.parse(userData) as { write_files: { path: string; content: string }[] }).write_files;
    const script = files.find((f) => f.path === BOOTSTRAP_SCRIPT_PATH);
    if (!script) throw new Error(`no ${BOOTSTRAP_SCRIPT_PATH} in the user-data`);
    return script.content;
}

/** The rendered configuration of a prod cluster, as kube-bench would see it on its nodes. */
export function rendered() {
    const env = environment(prodClusterConfig(), "prod");
    const nodes = planNodes(prodClusterConfig(), ZONES, "eu-west-1");
    const master = renderNode(
        nodes.find((n) => n.role === "master" && n.index === 0)!,
        env,
    );
    const worker = renderNode(
        nodes.find((n) => n.role === "worker")!,
        env,
    );
    const docs = YAML.parseAllDocuments(master.kubeadmInit!).map((d) => d.toJS() as Doc);
    const of = (k: string) => docs.find((d) => d.kind === k) as Doc;
    const cc = of("ClusterConfiguration") as Record<string, Doc>;
    const etcdArgs = ((cc.etcd ?? {}) as Record<string, Doc>).local?.extraArgs;
    const tokens = (of("InitConfiguration").bootstrapTokens ?? []) as { groups?: string[] }[];
    return {
        api: { ...KUBEADM_APISERVER, ...flagMap(cc.apiServer.extraArgs) },
        cm: { ...KUBEADM_CONTROLLER_MANAGER, ...flagMap(cc.controllerManager.extraArgs) },
        sched: { ...KUBEADM_SCHEDULER, ...flagMap(cc.scheduler.extraArgs) },
        etcd: { ...KUBEADM_ETCD, ...flagMap(etcdArgs) },
        kubelet: of("KubeletConfiguration") as Record<string, unknown>,
        kubeletArgs: flagMap(((of("InitConfiguration").nodeRegistration ?? {}) as Doc).kubeletExtraArgs),
        proxy: of("KubeProxyConfiguration"),
        encryption: YAML.parse(renderEncryptionConfigTemplate()) as Doc,
        audit: YAML.parse(renderAuditPolicy()) as AuditPolicy,
        // kubeadm creates the data directory as root and runs etcd as root unless RootlessControlPlane is on.
        etcdDataOwner:
            ((cc.featureGates ?? {}) as Doc).RootlessControlPlane === true
                ? "kubeadm-etcd:kubeadm-etcd"
                : "root:root",
        bootstrapTokenGroups: tokens.flatMap((t) => t.groups ?? []),
        bootstraps: { master: bootstrapScript(master.userData), worker: bootstrapScript(worker.userData) },
        masterModes: fileModes(bootstrapScript(master.userData)),
        workerModes: fileModes(bootstrapScript(worker.userData)),
    };
}

/** An audit policy as rendered. */
export interface AuditPolicy {
    rules: {
        level: string;
        users?: string[];
        userGroups?: string[];
        verbs?: string[];
        namespaces?: string[];
        nonResourceURLs?: string[];
        resources?: { group: string; resources?: string[] }[];
    }[];
}

/** The level the first matching rule gives a resource request (audit.k8s.io policy semantics). */
export function auditLevel(
    policy: AuditPolicy,
    req: {
        user: string;
        groups?: string[];
        verb: string;
        group: string;
        resource: string;
        namespace?: string;
    },
): string {
    for (const r of policy.rules) {
        if (r.nonResourceURLs) continue;
        if (r.users && !r.users.includes(req.user)) continue;
        if (r.userGroups && !r.userGroups.some((g) => req.groups?.includes(g))) continue;
        if (r.verbs && !r.verbs.includes(req.verb)) continue;
        if (r.namespaces && !r.namespaces.includes(req.namespace ?? "")) continue;
        if (
            r.resources &&
            !r.resources.some(
                (g) =>
                    g.group === req.group && (g.resources ?? []).some((x) => x === req.resource || x === "*"),
            )
        )
            continue;
        return r.level;
    }
    return "None";
}
