// Pure tests of the kubeadm documents: the CIS flags, endpoint, SANs, taints and pool registration.
import assert from "node:assert/strict";
import * as YAML from "yaml";
import {
    CONTROL_PLANE_TAINT,
    renderInitConfig,
    renderJoinConfig,
    masterTaints,
} from "../../components/cluster/render/kubeadm";
import {
    renderAdmissionConfig,
    renderAuthenticationConfig,
    renderEncryptionConfigTemplate,
} from "../../components/cluster/render/policies";
import { planNodes, renderNode } from "../../components/cluster/render/layout";
import { CA_HASH, clusterConfig, environment, prodClusterConfig, ZONES } from "./fixtures";

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(text: string): Doc[] {
    return YAML.parseAllDocuments(text).map((d) => d.toJS() as Doc);
}

function kind(all: Doc[], k: string): Doc {
    const found = all.filter((d) => d.kind === k);
    assert.equal(found.length, 1, `exactly one ${k}`);
    return found[0];
}

const argMap = (list: { name: string; value: string }[]) =>
    Object.fromEntries(list.map((a) => [a.name, a.value]));

describe("cluster/render/kubeadm", () => {
    const prod = prodClusterConfig();
    const env = environment(prod, "prod");

    it("renders init config as exactly four documents, v1beta4 for 1.33", () => {
        const all = docs(renderInitConfig(env, { taints: masterTaints(true) }));
        assert.deepEqual(
            all.map((d) => `${d.apiVersion} ${d.kind}`),
            [
                "kubeadm.k8s.io/v1beta4 InitConfiguration",
                "kubeadm.k8s.io/v1beta4 ClusterConfiguration",
                "kubelet.config.k8s.io/v1beta1 KubeletConfiguration",
                "kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration",
            ],
        );
    });

    it("sets the CIS API server flags exactly", () => {
        const cc = kind(docs(renderInitConfig(env, { taints: [] })), "ClusterConfiguration");
        assert.deepEqual(argMap(cc.apiServer.extraArgs), {
            "authorization-mode": "Node,RBAC",
            "enable-admission-plugins": "NodeRestriction,DenyServiceExternalIPs,EventRateLimit",
            "admission-control-config-file": "/etc/kubernetes/keelson/admission-config.yaml",
            profiling: "false",
            "audit-policy-file": "/etc/kubernetes/keelson/audit-policy.yaml",
            "audit-log-path": "/var/log/kubernetes/audit/audit.log",
            "audit-log-maxage": "30",
            "audit-log-maxbackup": "10",
            "audit-log-maxsize": "100",
            "encryption-provider-config": "/etc/kubernetes/keelson/encryption-config.yaml",
            "kubelet-certificate-authority": "/etc/kubernetes/pki/ca.crt",
            "tls-min-version": "VersionTLS12",
            "tls-cipher-suites":
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
            "service-account-extend-token-expiration": "false",
            "authentication-config": "/etc/kubernetes/keelson/authentication-config.yaml",
        });
        assert.equal(argMap(cc.apiServer.extraArgs)["anonymous-auth"], undefined);
        assert.deepEqual(cc.apiServer.extraVolumes, [
            {
                name: "keelson-config",
                hostPath: "/etc/kubernetes/keelson",
                mountPath: "/etc/kubernetes/keelson",
                readOnly: true,
                pathType: "DirectoryOrCreate",
            },
            {
                name: "audit-log",
                hostPath: "/var/log/kubernetes/audit",
                mountPath: "/var/log/kubernetes/audit",
                readOnly: false,
                pathType: "DirectoryOrCreate",
            },
        ]);
        assert.equal(argMap(cc.controllerManager.extraArgs).profiling, "false");
        assert.equal(argMap(cc.scheduler.extraArgs).profiling, "false");
        assert.equal(argMap(cc.scheduler.extraArgs)["bind-address"], "127.0.0.1");
    });

    it("uses the stable endpoint name, the SANs and the networks", () => {
        const cc = kind(docs(renderInitConfig(env, { taints: [] })), "ClusterConfiguration");
        assert.equal(cc.controlPlaneEndpoint, "api.keelson-prod.internal:6443");
        assert.equal(cc.clusterName, "keelson-prod");
        assert.equal(cc.kubernetesVersion, "v1.33.4");
        assert.equal(cc.encryptionAlgorithm, "ECDSA-P256");
        assert.deepEqual(cc.apiServer.certSANs, [
            "api.keelson-prod.internal",
            "keelson-prod-api-0123456789.elb.eu-west-1.amazonaws.com",
            "localhost",
            "127.0.0.1",
        ]);
        assert.deepEqual(cc.networking, {
            podSubnet: "192.168.0.0/16",
            serviceSubnet: "10.96.0.0/12",
            dnsDomain: "cluster.local",
        });
    });

    it("sets the CIS kubelet settings", () => {
        const kc = kind(docs(renderInitConfig(env, { taints: [] })), "KubeletConfiguration");
        assert.equal(kc.readOnlyPort, 0);
        assert.deepEqual(kc.authentication.anonymous, { enabled: false });
        assert.deepEqual(kc.authentication.webhook, { enabled: true });
        assert.equal(kc.authorization.mode, "Webhook");
        assert.equal(kc.rotateCertificates, true);
        assert.equal(kc.serverTLSBootstrap, true);
        assert.equal(kc.protectKernelDefaults, true);
        assert.equal(kc.cgroupDriver, "systemd");
        assert.equal(kc.seccompDefault, true);
        assert.equal(kc.podPidsLimit, 4096);
        assert.deepEqual(kc.tlsCipherSuites, [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        ]);
        const kp = kind(docs(renderInitConfig(env, { taints: [] })), "KubeProxyConfiguration");
        assert.equal(kp.metricsBindAddress, "127.0.0.1:10249");
        assert.equal(kp.clusterCIDR, "192.168.0.0/16");
    });

    it("keeps the bootstrap token a placeholder that expires after 24 hours (the masters rotate it)", () => {
        const init = kind(docs(renderInitConfig(env, { taints: [] })), "InitConfiguration");
        assert.deepEqual(init.bootstrapTokens[0].token, "__BOOTSTRAP_TOKEN__");
        assert.equal(init.bootstrapTokens[0].ttl, "24h");
        assert.deepEqual(init.bootstrapTokens[0].usages, ["signing", "authentication"]);
    });

    it("taints dedicated masters and leaves shared masters untainted (explicit empty list)", () => {
        const dedicated = kind(
            docs(renderInitConfig(env, { taints: masterTaints(true) })),
            "InitConfiguration",
        );
        assert.deepEqual(dedicated.nodeRegistration.taints, [
            { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
        ]);
        const shared = kind(
            docs(renderInitConfig(env, { taints: masterTaints(false) })),
            "InitConfiguration",
        );
        assert.deepEqual(shared.nodeRegistration.taints, []);
        assert.equal(shared.nodeRegistration.criSocket, "unix:///run/containerd/containerd.sock");
        assert.deepEqual(masterTaints(true), [CONTROL_PLANE_TAINT]);
    });

    it("joins masters as control plane with the CA hash and the same taints", () => {
        const [join] = docs(renderJoinConfig(env, { taints: masterTaints(true) }, true));
        assert.equal(join.kind, "JoinConfiguration");
        assert.deepEqual(join.discovery, {
            bootstrapToken: {
                apiServerEndpoint: "api.keelson-prod.internal:6443",
                token: "__BOOTSTRAP_TOKEN__",
                caCertHashes: [CA_HASH],
            },
        });
        assert.deepEqual(join.controlPlane, { localAPIEndpoint: { bindPort: 6443 } });
        assert.deepEqual(join.nodeRegistration.taints, [
            { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
        ]);
    });

    // The AWS cloud controller; provider-id from IMDS; built images from ECR through the kubelet's image credential provider.
    const BASE_KUBELET_ARGS = [
        { name: "cloud-provider", value: "external" },
        { name: "provider-id", value: "__PROVIDER_ID__" },
        { name: "image-credential-provider-config", value: "/etc/kubernetes/image-credential-provider.yaml" },
        { name: "image-credential-provider-bin-dir", value: "/etc/kubernetes/credential-providers" },
    ];

    it("registers worker pool labels and taints through the kubelet", () => {
        const nodes = planNodes(prod, ZONES, "eu-west-1");
        const batch = nodes.find((n) => n.name === "batch")!;
        const [join] = docs(renderNode(batch, env).kubeadmJoin);
        assert.equal(join.controlPlane, undefined);
        assert.deepEqual(join.nodeRegistration.kubeletExtraArgs, [
            ...BASE_KUBELET_ARGS,
            {
                name: "node-labels",
                value: [
                    "topology.kubernetes.io/region=eu-west-1",
                    // Filled in from IMDS at boot: one template serves every zone of the pool.
                    "topology.kubernetes.io/zone=__ZONE__",
                    "node.kubernetes.io/instance-type=c6i.xlarge",
                    "keelson.io/pool=batch",
                    "workload.keelson.io/kind=batch",
                ].join(","),
            },
        ]);
        assert.deepEqual(join.nodeRegistration.taints, [
            { key: "workload.keelson.io/batch", value: "true", effect: "NoSchedule" },
        ]);
        const general = nodes.find((n) => n.name === "general")!;
        const [gjoin] = docs(renderNode(general, env).kubeadmJoin);
        assert.deepEqual(gjoin.nodeRegistration.taints, []);
        assert.deepEqual(gjoin.nodeRegistration.kubeletExtraArgs, [
            ...BASE_KUBELET_ARGS,
            {
                name: "node-labels",
                value: "topology.kubernetes.io/region=eu-west-1,topology.kubernetes.io/zone=__ZONE__,node.kubernetes.io/instance-type=m6i.large,keelson.io/pool=general",
            },
        ]);
        const [mjoin] = docs(
            renderNode(
                nodes.find((n) => n.name === "master-2")!,
                env,
            ).kubeadmJoin,
        );
        assert.deepEqual(mjoin.nodeRegistration.kubeletExtraArgs, [
            ...BASE_KUBELET_ARGS,
            {
                name: "node-labels",
                value: "topology.kubernetes.io/region=eu-west-1,topology.kubernetes.io/zone=eu-west-1c,node.kubernetes.io/instance-type=t3.medium,keelson.io/slot=master-2",
            },
        ]);
    });

    it("falls back to v1beta3 maps before 1.31 and keeps anonymous auth default before 1.32", () => {
        const old = environment(clusterConfig({ kubernetesVersion: "1.30.5" }));
        const all = docs(renderInitConfig(old, { taints: [] }));
        const cc = kind(all, "ClusterConfiguration");
        assert.equal(cc.apiVersion, "kubeadm.k8s.io/v1beta3");
        assert.equal(cc.apiServer.extraArgs.profiling, "false");
        assert.equal(cc.apiServer.extraArgs["authentication-config"], undefined);
        assert.equal(cc.encryptionAlgorithm, undefined);
        const v132 = kind(
            docs(
                renderInitConfig(environment(clusterConfig({ kubernetesVersion: "1.32.0" })), { taints: [] }),
            ),
            "ClusterConfiguration",
        );
        assert.equal(
            argMap(v132.apiServer.extraArgs)["authentication-config"],
            "/etc/kubernetes/keelson/authentication-config.yaml",
        );
    });

    it("rate-limits Events per namespace and cluster-wide, in a document the API server accepts", () => {
        const doc = YAML.parse(renderAdmissionConfig());
        assert.deepEqual(doc, {
            apiVersion: "apiserver.config.k8s.io/v1",
            kind: "AdmissionConfiguration",
            plugins: [
                {
                    name: "EventRateLimit",
                    configuration: {
                        apiVersion: "eventratelimit.admission.k8s.io/v1alpha1",
                        kind: "Configuration",
                        limits: [
                            { type: "Server", qps: 500, burst: 1000 },
                            { type: "Namespace", qps: 50, burst: 100, cacheSize: 4096 },
                        ],
                    },
                },
            ],
        });
        assert.deepEqual(eventRateLimitErrors(doc.plugins[0].configuration), []);
        // The port of upstream's validation refuses what the API server would refuse at start.
        assert.deepEqual(
            eventRateLimitErrors(
                YAML.parse(
                    renderAdmissionConfig([
                        { type: "Namespace", qps: 0, burst: 10, cacheSize: -1 },
                        { type: "Pod" as "User", qps: 1, burst: 1 },
                    ]),
                ).plugins[0].configuration,
            ),
            [
                "limits[0].qps: Invalid value: 0: must be positive",
                "limits[0].cacheSize: Invalid value: -1: must not be negative",
                'limits[1].type: Unsupported value: "Pod"',
            ],
        );
        assert.deepEqual(
            eventRateLimitErrors({
                apiVersion: "eventratelimit.admission.k8s.io/v1alpha1",
                kind: "Configuration",
                limits: [],
            }),
            ["limits: Invalid value: []: must not be empty"],
        );
    });

    it("lets anonymous requests reach only health checks and kubeadm's cluster-info", () => {
        assert.deepEqual(YAML.parse(renderAuthenticationConfig("apiserver.config.k8s.io/v1beta1")), {
            apiVersion: "apiserver.config.k8s.io/v1beta1",
            kind: "AuthenticationConfiguration",
            anonymous: {
                enabled: true,
                conditions: [
                    { path: "/livez" },
                    { path: "/readyz" },
                    { path: "/healthz" },
                    { path: "/api/v1/namespaces/kube-public/configmaps/cluster-info" },
                ],
            },
        });
    });

    it("encrypts Secrets with secretbox and a placeholder key", () => {
        assert.deepEqual(YAML.parse(renderEncryptionConfigTemplate()), {
            apiVersion: "apiserver.config.k8s.io/v1",
            kind: "EncryptionConfiguration",
            resources: [
                {
                    resources: ["secrets"],
                    providers: [
                        { secretbox: { keys: [{ name: "keelson-1", secret: "__ENCRYPTION_KEY__" }] } },
                        { identity: {} },
                    ],
                },
            ],
        });
    });
});

/**
 * kube-apiserver's checks of an EventRateLimit configuration, ported from kubernetes/kubernetes
 * plugin/pkg/admission/eventratelimit/apis/eventratelimit/validation/validation.go (ValidateConfiguration)
 * and the v1alpha1 types (qps, burst and cacheSize are int32; the four limit types): a failing document
 * stops the API server at start.
 */
function eventRateLimitErrors(config: {
    apiVersion: string;
    kind: string;
    limits: { type: string; qps: number; burst: number; cacheSize?: number }[];
}): string[] {
    const errors: string[] = [];
    if (config.apiVersion !== "eventratelimit.admission.k8s.io/v1alpha1" || config.kind !== "Configuration")
        errors.push(`unknown kind ${config.apiVersion} ${config.kind}`);
    if (config.limits.length === 0) errors.push("limits: Invalid value: []: must not be empty");
    const int32 = (n: unknown) => Number.isInteger(n) && Math.abs(n as number) < 2 ** 31;
    config.limits.forEach((l, i) => {
        for (const k of Object.keys(l))
            if (!["type", "qps", "burst", "cacheSize"].includes(k))
                errors.push(`limits[${i}].${k}: unknown field`);
        if (!["Server", "Namespace", "User", "SourceAndObject"].includes(l.type))
            errors.push(`limits[${i}].type: Unsupported value: ${JSON.stringify(l.type)}`);
        for (const k of ["qps", "burst", "cacheSize"] as const)
            if (l[k] !== undefined && !int32(l[k])) errors.push(`limits[${i}].${k}: not an int32: ${l[k]}`);
        if (!(l.burst > 0)) errors.push(`limits[${i}].burst: Invalid value: ${l.burst}: must be positive`);
        if (!(l.qps > 0)) errors.push(`limits[${i}].qps: Invalid value: ${l.qps}: must be positive`);
        if (l.type !== "Server" && (l.cacheSize ?? 0) < 0)
            errors.push(`limits[${i}].cacheSize: Invalid value: ${l.cacheSize}: must not be negative`);
    });
    return errors;
}
