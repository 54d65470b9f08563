// The cluster-autoscaler (kubernetes/autoscaler), pure parts: the pinned chart and the image of each
// Kubernetes minor, the Auto Scaling Group tags it discovers the pools by, its chart values and IAM policy.
// Upstream: charts/cluster-autoscaler at tag cluster-autoscaler-chart-9.51.0 (Chart.yaml appVersion 1.33.0,
// values.yaml, templates/deployment.yaml); cluster-autoscaler/cloudprovider/aws/README.md (IAM policy,
// auto-discovery, node-template tags) and cluster-autoscaler/FAQ.md (flags and defaults) at that tag; image
// tags from the cluster-autoscaler-1.N.P release tags (version/version.go).
import type { Input } from "@pulumi/pulumi";
import { JOIN_HOOK_TIMEOUT_SECONDS } from "./join-gate";
import { ServiceAccountRef, WEB_IDENTITY_TOKEN_FILE, webIdentityMount, webIdentityVolume } from "./oidc";
import { releaseForMinor } from "./versions";

/** The chart, pinned (appVersion 1.33.0, the default Kubernetes minor's; the image is set per minor below). */
export const CA_CHART = {
    chart: "cluster-autoscaler",
    version: "9.51.0",
    repo: "https://kubernetes.github.io/autoscaler",
} as const;

/** The autoscaler's image repository (the chart's default). */
export const CA_IMAGE_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler";

/**
 * The latest cluster-autoscaler release of each Kubernetes minor Keelson supports: its minor must be the
 * cluster's (upstream releases one autoscaler minor per Kubernetes minor and tests only that pairing).
 */
export const CA_RELEASES: Readonly<Record<number, string>> = { 32: "v1.32.7", 33: "v1.33.6", 34: "v1.34.5" };

/** The chart's Deployment and ServiceAccount (`fullnameOverride`, `rbac.serviceAccount.name`). */
export const CA_NAME = "cluster-autoscaler";
/** The autoscaler's service account: its IRSA role trusts exactly this one. */
export const CA_SERVICE_ACCOUNT: ServiceAccountRef = { namespace: "kube-system", name: CA_NAME };

/** The auto-discovery tag every autoscaled group carries (any cluster). */
export const CA_ENABLED_TAG = "k8s.io/cluster-autoscaler/enabled";
/** The auto-discovery tag of one cluster's groups. */
export function caClusterTag(clusterName: string): string {
    return `k8s.io/cluster-autoscaler/${clusterName}`;
}
/** Prefix of the tags that describe a group's nodes when it is at zero (labels and taints). */
export const CA_NODE_TEMPLATE_PREFIX = "k8s.io/cluster-autoscaler/node-template";

/** The image tag for the cluster's Kubernetes version; a minor without a release is refused with the choices. */
export function caImageTag(kubernetesVersion: string): string {
    return releaseForMinor(CA_RELEASES, kubernetesVersion, "cluster-autoscaler");
}

/** A node label or taint of a pool, as the group's node-template tags describe it. */
export interface NodeTemplate {
    readonly labels: Readonly<Record<string, string>>;
    readonly taints: readonly { key: string; value?: string; effect: string }[];
}

/**
 * The tags of an autoscaled pool's group (not propagated to the instances): the two auto-discovery tags
 * (`enabled` and the cluster's, values `true` and `owned`: the policy's condition matches those values), and
 * one node-template tag per label and taint of the pool's nodes, so that a pool at zero nodes still scales up
 * for a pod that selects it or tolerates its taints (the autoscaler has no node to read them from).
 */
export function autoscalerGroupTags(clusterName: string, template: NodeTemplate): Record<string, string> {
    const tags: Record<string, string> = { [CA_ENABLED_TAG]: "true", [caClusterTag(clusterName)]: "owned" };
    for (const [k, v] of Object.entries(template.labels)) tags[`${CA_NODE_TEMPLATE_PREFIX}/label/${k}`] = v;
    for (const t of template.taints)
        tags[`${CA_NODE_TEMPLATE_PREFIX}/taint/${t.key}`] = `${t.value ?? ""}:${t.effect}`;
    return tags;
}

/**
 * The chart's flags (`extraArgs`, rendered `--<key>=<value>` in key order; the chart's own `logtostderr` and
 * `stderrthreshold` stay). Decided from FAQ.md and the AWS README:
 * - `expander: least-waste`: among the pools a pending pod fits, grow the one that leaves the least CPU and
 *   memory idle (upstream's default since 1.31; set so it does not move under us);
 * - `balance-similar-node-groups: false`: balancing is for one group per zone; a Keelson pool is one group over
 *   every zone (the group balances the zones) and pools differ by their `keelson.io/pool` label, so no two are
 *   similar;
 * - `skip-nodes-with-system-pods: true` (the default): kubeadm's CoreDNS has no PodDisruptionBudget, and
 *   evicting both replicas at once would stop the cluster's DNS; kube-system pods with a budget (the
 *   termination handler, the EBS CSI controller) do not hold a node;
 * - `skip-nodes-with-local-storage: false`: Keelson's pods mount emptyDirs for their read-only root filesystems
 *   (scratch, like the termination handler's `deleteLocalData`), which would otherwise keep every node;
 * - `max-node-provision-time`: as long as the pools' launch hook holds a node that has not joined (30 minutes,
 *   ./join-gate.ts; upstream's default is 15), so a slow bootstrap is not given up while the group still waits;
 * - `v: 2`: scale decisions without the chart's per-loop detail (v4), which fluent-bit would ship.
 */
export const CA_ARGS: Readonly<Record<string, string | number | boolean>> = {
    "balance-similar-node-groups": false,
    expander: "least-waste",
    "max-node-provision-time": `${JOIN_HOOK_TIMEOUT_SECONDS / 60}m`,
    "skip-nodes-with-local-storage": false,
    "skip-nodes-with-system-pods": true,
    v: 2,
};

/**
 * The chart's values: AWS auto-discovery of the groups tagged {@link CA_ENABLED_TAG} and the cluster's tag
 * (the chart's default `autoDiscovery.tags` with `autoDiscovery.clusterName`), the image of the cluster's
 * minor, its own role (`roleArn`, IRSA: environment, projected token), one replica on the masters as the
 * cloud controller and metrics-server run (never on a node it may remove; leader election is on by default),
 * the restricted security context, and {@link CA_ARGS}.
 */
export function autoscalerValues(
    clusterName: string,
    kubernetesVersion: string,
    region: string,
    roleArn: Input<string>,
): Record<string, unknown> {
    return {
        fullnameOverride: CA_NAME,
        cloudProvider: "aws",
        // Sets AWS_REGION.
        awsRegion: region,
        autoDiscovery: { clusterName },
        image: { repository: CA_IMAGE_REPOSITORY, tag: caImageTag(kubernetesVersion) },
        rbac: { serviceAccount: { create: true, name: CA_SERVICE_ACCOUNT.name } },
        extraArgs: { ...CA_ARGS },
        // The chart's extraEnv is a map (name: value).
        extraEnv: {
            AWS_ROLE_ARN: roleArn,
            AWS_WEB_IDENTITY_TOKEN_FILE: WEB_IDENTITY_TOKEN_FILE,
            AWS_STS_REGIONAL_ENDPOINTS: "regional",
        },
        extraVolumes: [webIdentityVolume()],
        extraVolumeMounts: [webIdentityMount()],
        nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
        tolerations: [
            { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
        ],
        replicaCount: 1,
        resources: { requests: { cpu: "100m", memory: "300Mi" }, limits: { memory: "600Mi" } },
        containerSecurityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        // Pod-level user: the kubelet then hands the projected token to that user.
        securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            fsGroup: 65534,
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/**
 * The autoscaler's policy: the AWS README's "full features" policy without `eks:DescribeNodegroup` (no EKS),
 * the reads on `*` (describe calls take no resource), and the two writes only on the groups of this region
 * that carry both discovery tags with this cluster's name (`aws:ResourceTag`): another cluster's groups, or a
 * group without the tags, cannot be resized or have an instance terminated.
 */
export function autoscalerPolicyDocument(region: string, clusterName: string): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "Describe",
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                ],
                Resource: "*",
            },
            {
                Sid: "ScaleThisClustersGroups",
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: `arn:aws:autoscaling:${region}:*:autoScalingGroup:*:autoScalingGroupName/*`,
                Condition: {
                    StringEquals: {
                        [`aws:ResourceTag/${CA_ENABLED_TAG}`]: "true",
                        [`aws:ResourceTag/${caClusterTag(clusterName)}`]: "owned",
                    },
                },
            },
        ],
    };
}
