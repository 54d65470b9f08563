// The upstream Helm charts Keelson installs, pinned, with the values that fit a kubeadm cluster on EC2.
// Pure: tested without mocks, and the Addons component passes each spec to k8s.helm.v4.Chart unchanged.
import type { Input } from "@pulumi/pulumi";
import {
    ServiceAccountRef,
    webIdentityEnv,
    webIdentityMount,
    webIdentityVolume,
} from "../cluster/render/oidc";
import { AddonsSpec } from "./args";
import { logGroupName } from "./identities";

/** One Helm release. */
export interface ChartSpec {
    /** Stable key; the resource is `<addons name>-<key>`. */
    readonly key: string;
    readonly chart: string;
    /** Pinned chart version. */
    readonly version: string;
    readonly repo: string;
    readonly namespace: string;
    readonly values: Record<string, unknown>;
}

/** Pinned chart versions and repositories (upstream, checked September 2025). */
export const CHARTS = {
    calico: { chart: "tigera-operator", version: "v3.30.3", repo: "https://docs.tigera.io/calico/charts" },
    cilium: { chart: "cilium", version: "1.18.1", repo: "https://helm.cilium.io" },
    ebsCsi: {
        chart: "aws-ebs-csi-driver",
        version: "2.48.0",
        repo: "https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
    },
    metricsServer: {
        chart: "metrics-server",
        version: "3.13.0",
        repo: "https://kubernetes-sigs.github.io/metrics-server",
    },
    fluentBit: { chart: "fluent-bit", version: "0.50.0", repo: "https://fluent.github.io/helm-charts" },
    nodeExporter: {
        chart: "prometheus-node-exporter",
        version: "4.47.3",
        repo: "https://prometheus-community.github.io/helm-charts",
    },
} as const;

/** Schedules a pod on control-plane nodes, tainted (dedicated masters) or not. */
export const CONTROL_PLANE_PLACEMENT = {
    nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
    tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
};

/** The service accounts whose IRSA roles the charts' pods assume (names pinned in the values below). */
export const EBS_CSI_SERVICE_ACCOUNT: ServiceAccountRef = {
    namespace: "kube-system",
    name: "ebs-csi-controller-sa",
};
export const FLUENT_BIT_SERVICE_ACCOUNT: ServiceAccountRef = { namespace: "logging", name: "fluent-bit" };

/** ARNs of the add-ons' own roles (IRSA); an Output is fine, chart values resolve nested inputs. */
export interface AddonRoleArns {
    readonly ebsCsi: Input<string>;
    /** Only with logging. */
    readonly fluentBit?: Input<string>;
}

/** What the charts need to know about the cluster. */
export interface ClusterFacts {
    readonly clusterName: string;
    readonly region: string;
    readonly podCidr: string;
}

/** The CNI release: Calico (tigera-operator, VXLAN on UDP 4789) or Cilium (VXLAN on UDP 8472). */
export function cniChart(cni: AddonsSpec["cni"], facts: ClusterFacts): ChartSpec {
    if (cni === "cilium") {
        return {
            key: "cilium",
            ...CHARTS.cilium,
            namespace: "kube-system",
            values: {
                ipam: { mode: "cluster-pool", operator: { clusterPoolIPv4PodCIDRList: [facts.podCidr] } },
                // Encapsulation: EC2's source/destination check drops unencapsulated pod traffic between nodes.
                routingMode: "tunnel",
                tunnelProtocol: "vxlan",
                kubeProxyReplacement: false,
                policyEnforcementMode: "default",
                cluster: { name: facts.clusterName },
            },
        };
    }
    return {
        key: "calico",
        ...CHARTS.calico,
        namespace: "tigera-operator",
        values: {
            installation: {
                cni: { type: "Calico" },
                calicoNetwork: {
                    bgp: "Disabled",
                    ipPools: [
                        {
                            cidr: facts.podCidr,
                            encapsulation: "VXLAN",
                            natOutgoing: "Enabled",
                            nodeSelector: "all()",
                            blockSize: 26,
                        },
                    ],
                },
            },
        },
    };
}

/** Keeps a pod off control-plane nodes. */
export const NOT_ON_CONTROL_PLANE = {
    nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
                {
                    matchExpressions: [
                        { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                    ],
                },
            ],
        },
    },
};

/**
 * The EBS CSI driver on the workers. The controller assumes its own role (`roleArn`, IRSA: the env and the
 * projected STS token set here, no webhook); the node plugin calls no AWS API and reads its instance id
 * and zone from the Node (provider id and topology labels), since IMDS is one hop away from pods on
 * every node (hop limit 1). Volume-backed pods are kept off masters as before.
 */
export function ebsCsiChart(facts: ClusterFacts, roleArn: Input<string>): ChartSpec {
    return {
        key: "ebs-csi",
        ...CHARTS.ebsCsi,
        namespace: "kube-system",
        values: {
            controller: {
                region: facts.region,
                k8sTagClusterId: facts.clusterName,
                extraVolumeTags: { "keelson/cluster": facts.clusterName },
                affinity: NOT_ON_CONTROL_PLANE,
                serviceAccount: { create: true, name: EBS_CSI_SERVICE_ACCOUNT.name },
                // controller.region sets AWS_REGION already.
                env: webIdentityEnv(roleArn),
                volumes: [webIdentityVolume()],
                volumeMounts: [webIdentityMount()],
            },
            // IMDS is out of reach of pods (hop limit 1): instance id and zone come from the Node object.
            node: { affinity: NOT_ON_CONTROL_PLANE, metadataSources: "kubernetes" },
            // Keelson writes its own encrypted gp3 default class.
            storageClasses: [],
        },
    };
}

/**
 * metrics-server on the masters: kubelets accept port 10250 only from the masters, and a pod there
 * reaches them with the master's address (the CNI masquerades pod traffic to node IPs). Pod networking,
 * not the host network, so every API server reaches it over the pod network without a firewall rule.
 * Kubelet serving certificates are signed by the cluster CA (serverTLSBootstrap, addons/csr-approver.ts), which
 * metrics-server trusts by default (its in-cluster service-account CA), so it verifies every kubelet.
 */
export function metricsServerChart(): ChartSpec {
    return {
        key: "metrics-server",
        ...CHARTS.metricsServer,
        namespace: "kube-system",
        values: {
            ...CONTROL_PLANE_PLACEMENT,
            args: ["--kubelet-preferred-address-types=InternalIP"],
        },
    };
}

/**
 * Keeps a node agent off the masters: third-party code parsing untrusted input must not share a host with
 * the master role, which reads the cluster's CA keys (hop limit 1 stops pods, not host processes).
 */
export const OFF_MASTERS = {
    nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
                {
                    matchExpressions: [
                        { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                    ],
                },
            ],
        },
    },
} as const;

/**
 * fluent-bit on every worker (not on masters: {@link OFF_MASTERS}), on the pod network, shipping container
 * logs to CloudWatch Logs group `/keelson/<cluster>/containers` with its own role (`roleArn`, IRSA).
 */
export function fluentBitChart(facts: ClusterFacts, roleArn: Input<string>): ChartSpec {
    return {
        key: "fluent-bit",
        ...CHARTS.fluentBit,
        namespace: "logging",
        values: {
            tolerations: [],
            affinity: OFF_MASTERS,
            hostNetwork: false,
            serviceAccount: { create: true, name: FLUENT_BIT_SERVICE_ACCOUNT.name },
            env: webIdentityEnv(roleArn, facts.region),
            extraVolumes: [webIdentityVolume()],
            extraVolumeMounts: [webIdentityMount()],
            config: {
                outputs: [
                    "[OUTPUT]",
                    "    Name cloudwatch_logs",
                    "    Match kube.*",
                    `    region ${facts.region}`,
                    `    log_group_name ${logGroupName(facts.clusterName)}`,
                    "    log_stream_prefix node-",
                    "    auto_create_group On",
                    "",
                ].join("\n"),
            },
        },
    };
}

/** prometheus-node-exporter on every worker (host network, port 9100; not on masters: {@link OFF_MASTERS}). */
export function nodeExporterChart(): ChartSpec {
    return {
        key: "node-exporter",
        ...CHARTS.nodeExporter,
        namespace: "monitoring",
        values: { tolerations: [], affinity: OFF_MASTERS },
    };
}

/** Every release the config asks for, CNI first. */
export function addonCharts(config: AddonsSpec, facts: ClusterFacts, roles: AddonRoleArns): ChartSpec[] {
    const charts = [cniChart(config.cni, facts), ebsCsiChart(facts, roles.ebsCsi)];
    if (config.metricsServer) charts.push(metricsServerChart());
    if (config.logging) {
        if (roles.fluentBit === undefined) throw new Error("addonCharts: logging needs roles.fluentBit");
        charts.push(fluentBitChart(facts, roles.fluentBit));
    }
    if (config.nodeMetrics) charts.push(nodeExporterChart());
    return charts;
}
