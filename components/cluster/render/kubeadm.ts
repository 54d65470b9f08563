// kubeadm configuration documents (InitConfiguration, ClusterConfiguration, JoinConfiguration,
// KubeletConfiguration, KubeProxyConfiguration) with the CIS settings. Pure: plain values in, YAML out.
// The bootstrap token is left as a placeholder; the node fills it in from SSM at boot.
import * as YAML from "yaml";
import { Taint } from "../types";
import {
    APISERVER_CONFIG_DIR,
    AUDIT_LOG_DIR,
    AUDIT_POLICY_PATH,
    ADMISSION_CONFIG_PATH,
    AUTHENTICATION_CONFIG_PATH,
    BOOTSTRAP_TOKEN_PLACEHOLDER,
    ENCRYPTION_CONFIG_PATH,
    NODE_NAME_PLACEHOLDER,
    PROVIDER_ID_PLACEHOLDER,
} from "./policies";
import { LEGACY_ISSUER } from "./oidc";
import { BOOTSTRAP_TOKEN_TTL } from "./units";
import { anonymousAuthConfigApiVersion, kubeadmApiVersion, parseKubernetesVersion } from "./versions";

/** Cluster-wide inputs of the kubeadm configuration, all plain values. */
export interface KubeadmClusterOptions {
    /** Cluster name (kubeadm `clusterName`, kubeconfig cluster name). */
    readonly clusterName: string;
    /** Kubernetes version `1.N.P`. */
    readonly kubernetesVersion: string;
    /** Stable DNS name of the API endpoint, e.g. `api.keelson-dev.internal`. */
    readonly endpointHost: string;
    /** API port on the endpoint and on the masters. Default 6443. */
    readonly endpointPort?: number;
    /** Extra API server certificate SANs (e.g. the NLB's DNS name). The endpoint name is always included. */
    readonly extraSans?: readonly string[];
    readonly podCidr: string;
    readonly serviceCidr: string;
    /** `sha256:<hex>` of the cluster CA public key (see ./cahash.ts). */
    readonly caCertHash: string;
    /**
     * The self-hosted service-account issuer (IRSA, see ../ServiceAccountIssuer.ts): the API server signs
     * tokens as `issuer` and advertises `jwksUri`; kubeadm's default issuer stays accepted. Default
     * none: kubeadm's defaults (`https://kubernetes.default.svc.cluster.local`).
     */
    readonly serviceAccountIssuer?: { readonly issuer: string; readonly jwksUri: string };
}

/** Where a node registers and how. */
export interface NodeRegistration {
    /** Node labels applied by the kubelet at registration. */
    readonly labels?: Readonly<Record<string, string>>;
    /** Node taints applied at registration; an empty list means no taint at all. */
    readonly taints: readonly Taint[];
}

/** The taint kubeadm puts on control-plane nodes; kept for dedicated masters, dropped for shared ones. */
export const CONTROL_PLANE_TAINT: Taint = {
    key: "node-role.kubernetes.io/control-plane",
    effect: "NoSchedule",
};
/** Label Keelson puts on every worker: its pool name. */
export const POOL_LABEL = "keelson.io/pool";
/** The kubelet's image credential provider for private ECR (built images); installed by the bootstrap script. */
export const ECR_CREDENTIAL_PROVIDER = {
    /** cloud-provider-aws release of the binary (the credentialprovider.kubelet.k8s.io/v1 API is stable). */
    version: "v1.31.0",
    binDir: "/etc/kubernetes/credential-providers",
    configPath: "/etc/kubernetes/image-credential-provider.yaml",
} as const;

/** The CredentialProviderConfig: ecr-credential-provider for every ECR registry host. */
export function renderCredentialProviderConfig(): string {
    return [
        "apiVersion: kubelet.config.k8s.io/v1",
        "kind: CredentialProviderConfig",
        "providers:",
        "  - name: ecr-credential-provider",
        "    matchImages:",
        '      - "*.dkr.ecr.*.amazonaws.com"',
        '      - "*.dkr.ecr.*.amazonaws.com.cn"',
        "    defaultCacheDuration: 12h",
        "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
        "",
    ].join("\n");
}

/** containerd's CRI socket. */
export const CRI_SOCKET = "unix:///run/containerd/containerd.sock";

/** Taints of a master: the control-plane taint when dedicated, none when shared. */
export function masterTaints(dedicated: boolean): Taint[] {
    return dedicated ? [CONTROL_PLANE_TAINT] : [];
}

type Args = Record<string, string>;

// v1beta4 made extraArgs a list of {name, value} so that a flag can repeat; v1beta3 is a map.
function extraArgs(apiVersion: string, args: Args): unknown {
    if (apiVersion.endsWith("v1beta3")) return { ...args };
    return Object.entries(args).map(([name, value]) => ({ name, value }));
}

function registration(apiVersion: string, reg: NodeRegistration): Record<string, unknown> {
    const out: Record<string, unknown> = {
        // The EC2 private DNS name (from IMDS at boot): what the AWS cloud controller expects.
        name: NODE_NAME_PLACEHOLDER,
        criSocket: CRI_SOCKET,
        // An explicit list, even empty: an omitted list makes kubeadm add the control-plane taint.
        taints: reg.taints.map((t) =>
            t.value === undefined ? { ...t } : { key: t.key, value: t.value, effect: t.effect },
        ),
    };
    // provider-id (aws:///<zone>/<instance-id>, filled in from IMDS at boot) lets tools that read
    // node metadata from the API (the EBS CSI node plugin's fallback) find the instance.
    const args: Args = {
        // The AWS cloud controller initialises the Node (addresses, zone, deletion with its instance).
        "cloud-provider": "external",
        "provider-id": PROVIDER_ID_PLACEHOLDER,
        // Private ECR images (image builds) are pulled with the node role through this provider.
        "image-credential-provider-config": ECR_CREDENTIAL_PROVIDER.configPath,
        "image-credential-provider-bin-dir": ECR_CREDENTIAL_PROVIDER.binDir,
    };
    const labels = Object.entries(reg.labels ?? {});
    if (labels.length > 0) args["node-labels"] = labels.map(([k, v]) => `${k}=${v}`).join(",");
    out.kubeletExtraArgs = extraArgs(apiVersion, args);
    return out;
}

function endpoint(o: KubeadmClusterOptions): string {
    return `${o.endpointHost}:${o.endpointPort ?? 6443}`;
}

/**
 * TLS 1.2 suites of the API server and the kubelet: ECDHE with AEAD only, the intersection of Mozilla's
 * intermediate profile and CIS 1.2.29 / 4.2.12 (TLS 1.3 suites are not configurable in Go and all strong).
 */
export const TLS_CIPHER_SUITES: readonly string[] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
];

/** The CA that signs kubelet serving certificates: kube-controller-manager's kubelet-serving signer uses the cluster CA. */
export const KUBELET_SERVING_CA = "/etc/kubernetes/pki/ca.crt";

/** The most processes one pod may run (CIS 4.2.13): a fork bomb stays inside its pod. */
export const POD_PIDS_LIMIT = 4096;

/** The API server flags Keelson sets, as a flat map (the CIS settings live here). */
export function apiServerArgs(kubernetesVersion: string): Args {
    const v = parseKubernetesVersion(kubernetesVersion);
    const args: Args = {
        "authorization-mode": "Node,RBAC",
        // CIS 1.2.3: no Service may claim arbitrary external IPs (Keelson publishes through NodePorts).
        // CIS 1.2.9: Events are rate limited (EVENT_RATE_LIMITS, in the admission configuration file).
        "enable-admission-plugins": "NodeRestriction,DenyServiceExternalIPs,EventRateLimit",
        "admission-control-config-file": ADMISSION_CONFIG_PATH,
        profiling: "false",
        "audit-policy-file": AUDIT_POLICY_PATH,
        "audit-log-path": `${AUDIT_LOG_DIR}/audit.log`,
        "audit-log-maxage": "30",
        "audit-log-maxbackup": "10",
        "audit-log-maxsize": "100",
        "encryption-provider-config": ENCRYPTION_CONFIG_PATH,
        // CIS 1.2.5: logs, exec and port-forward verify the kubelet's serving certificate (serverTLSBootstrap).
        "kubelet-certificate-authority": KUBELET_SERVING_CA,
        "tls-min-version": "VersionTLS12",
        "tls-cipher-suites": TLS_CIPHER_SUITES.join(","),
        // CIS 1.2.30: projected tokens expire when they say, not a year later.
        "service-account-extend-token-expiration": "false",
    };
    // Anonymous requests limited to ANONYMOUS_PATHS where the API server supports it; before 1.32
    // the flag's default (on, with RBAC granting only the public health/version endpoints) stays.
    if (anonymousAuthConfigApiVersion(v) !== undefined)
        args["authentication-config"] = AUTHENTICATION_CONFIG_PATH;
    return args;
}

/**
 * Adds the service-account issuer flags. v1beta4's list form repeats `service-account-issuer` (the
 * first one signs, both are accepted, so tokens of the old issuer stay valid); v1beta3's map holds one.
 */
function withIssuer(args: unknown, o: KubeadmClusterOptions): unknown {
    const sa = o.serviceAccountIssuer;
    if (!sa) return args;
    if (!Array.isArray(args)) {
        return {
            ...(args as Args),
            "service-account-issuer": sa.issuer,
            "service-account-jwks-uri": sa.jwksUri,
        };
    }
    return [
        ...args,
        { name: "service-account-issuer", value: sa.issuer },
        { name: "service-account-issuer", value: LEGACY_ISSUER },
        { name: "service-account-jwks-uri", value: sa.jwksUri },
    ];
}

/** ClusterConfiguration: endpoint, SANs, networking and the control-plane flags. */
export function clusterConfiguration(o: KubeadmClusterOptions): Record<string, unknown> {
    const v = parseKubernetesVersion(o.kubernetesVersion);
    const apiVersion = kubeadmApiVersion(v);
    const sans = [o.endpointHost, ...(o.extraSans ?? []), "localhost", "127.0.0.1"];
    const doc: Record<string, unknown> = {
        apiVersion,
        kind: "ClusterConfiguration",
        clusterName: o.clusterName,
        kubernetesVersion: `v${o.kubernetesVersion}`,
        controlPlaneEndpoint: endpoint(o),
        networking: { podSubnet: o.podCidr, serviceSubnet: o.serviceCidr, dnsDomain: "cluster.local" },
        apiServer: {
            certSANs: [...new Set(sans)],
            extraArgs: withIssuer(extraArgs(apiVersion, apiServerArgs(o.kubernetesVersion)), o),
            extraVolumes: [
                {
                    name: "keelson-config",
                    hostPath: APISERVER_CONFIG_DIR,
                    mountPath: APISERVER_CONFIG_DIR,
                    readOnly: true,
                    pathType: "DirectoryOrCreate",
                },
                {
                    name: "audit-log",
                    hostPath: AUDIT_LOG_DIR,
                    mountPath: AUDIT_LOG_DIR,
                    readOnly: false,
                    pathType: "DirectoryOrCreate",
                },
            ],
        },
        controllerManager: {
            extraArgs: extraArgs(apiVersion, {
                profiling: "false",
                "bind-address": "127.0.0.1",
                "use-service-account-credentials": "true",
                "terminated-pod-gc-threshold": "1000",
            }),
        },
        scheduler: { extraArgs: extraArgs(apiVersion, { profiling: "false", "bind-address": "127.0.0.1" }) },
    };
    // The CAs Keelson generates are ECDSA P-256; kubeadm's own leaf certificates follow (v1beta4 only).
    if (apiVersion.endsWith("v1beta4")) doc.encryptionAlgorithm = "ECDSA-P256";
    return doc;
}

/** KubeletConfiguration with the CIS kubelet settings (uploaded by `kubeadm init` for every node). */
export function kubeletConfiguration(): Record<string, unknown> {
    return {
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        cgroupDriver: "systemd",
        authentication: {
            anonymous: { enabled: false },
            webhook: { enabled: true },
            x509: { clientCAFile: "/etc/kubernetes/pki/ca.crt" },
        },
        authorization: { mode: "Webhook" },
        readOnlyPort: 0,
        // Client certificates rotate through the CSR API (auto-approved by kubeadm's RBAC).
        rotateCertificates: true,
        // Serving certificates come from the cluster CA through the CSR API, approved by kubelet-csr-approver
        // only for the node's own private DNS name and VPC address (addons/csr-approver.ts), and rotate.
        serverTLSBootstrap: true,
        protectKernelDefaults: true,
        makeIPTablesUtilChains: true,
        streamingConnectionIdleTimeout: "5m",
        eventRecordQPS: 5,
        tlsMinVersion: "VersionTLS12",
        tlsCipherSuites: [...TLS_CIPHER_SUITES],
        // Every container without its own profile runs under the runtime's default seccomp profile.
        seccompDefault: true,
        podPidsLimit: POD_PIDS_LIMIT,
    };
}

/** KubeProxyConfiguration: iptables mode, metrics on loopback only. */
export function kubeProxyConfiguration(podCidr: string): Record<string, unknown> {
    return {
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        mode: "iptables",
        clusterCIDR: podCidr,
        metricsBindAddress: "127.0.0.1:10249",
    };
}

function stringifyAll(docs: unknown[]): string {
    return docs.map((d) => YAML.stringify(d)).join("---\n");
}

/**
 * `kubeadm init` config for master 0: InitConfiguration (the first bootstrap token, valid
 * {@link BOOTSTRAP_TOKEN_TTL}; the masters rotate a fresh one into SSM every few hours, so a node
 * joining months later still joins), ClusterConfiguration, KubeletConfiguration and KubeProxyConfiguration.
 */
export function renderInitConfig(o: KubeadmClusterOptions, reg: NodeRegistration): string {
    const apiVersion = kubeadmApiVersion(parseKubernetesVersion(o.kubernetesVersion));
    const init = {
        apiVersion,
        kind: "InitConfiguration",
        bootstrapTokens: [
            {
                token: BOOTSTRAP_TOKEN_PLACEHOLDER,
                // Short-lived: the masters' keelson-token-rotate timer mints the next one into SSM.
                ttl: BOOTSTRAP_TOKEN_TTL,
                usages: ["signing", "authentication"],
                groups: ["system:bootstrappers:kubeadm:default-node-token"],
                description: "Keelson node bootstrap token (value in SSM Parameter Store)",
            },
        ],
        nodeRegistration: registration(apiVersion, reg),
    };
    return stringifyAll([
        init,
        clusterConfiguration(o),
        kubeletConfiguration(),
        kubeProxyConfiguration(o.podCidr),
    ]);
}

/**
 * `kubeadm join` config. With `controlPlane`, the node joins as a master using the CA keys already
 * on disk (read from SSM), so no `kubeadm-certs` Secret and no certificate key are involved and a
 * replacement master can join at any time.
 */
export function renderJoinConfig(
    o: KubeadmClusterOptions,
    reg: NodeRegistration,
    controlPlane: boolean,
): string {
    const apiVersion = kubeadmApiVersion(parseKubernetesVersion(o.kubernetesVersion));
    const join: Record<string, unknown> = {
        apiVersion,
        kind: "JoinConfiguration",
        discovery: {
            bootstrapToken: {
                apiServerEndpoint: endpoint(o),
                token: BOOTSTRAP_TOKEN_PLACEHOLDER,
                caCertHashes: [o.caCertHash],
            },
        },
        nodeRegistration: registration(apiVersion, reg),
    };
    if (controlPlane) join.controlPlane = { localAPIEndpoint: { bindPort: o.endpointPort ?? 6443 } };
    return stringifyAll([join]);
}
