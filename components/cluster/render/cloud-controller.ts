// The AWS cloud controller (kubernetes/cloud-provider-aws), pure parts: the pinned chart and image, its
// cloud config, chart values and IAM policy, and the cluster tag it finds Keelson's resources by.
// Upstream: charts/aws-cloud-controller-manager at tag helm-chart-aws-cloud-controller-manager-0.0.9
// (values.yaml, templates/daemonset.yaml) and docs/prerequisites.md at v1.33.4.
import type { Input } from "@pulumi/pulumi";
import { ServiceAccountRef, webIdentityEnv, webIdentityMount, webIdentityVolume } from "./oidc";
import { releaseForMinor } from "./versions";

/** The chart, pinned (appVersion v1.33.0; the image tag is set per Kubernetes minor below). */
export const CCM_CHART = {
    chart: "aws-cloud-controller-manager",
    version: "0.0.9",
    repo: "https://kubernetes.github.io/cloud-provider-aws",
} as const;

/** The controller's image repository (the chart's default). */
export const CCM_IMAGE_REPOSITORY = "registry.k8s.io/provider-aws/cloud-controller-manager";

/** The latest cloud-provider-aws release of each Kubernetes minor Keelson supports (the controller follows the minor). */
export const CCM_RELEASES: Readonly<Record<number, string>> = { 32: "v1.32.8", 33: "v1.33.4", 34: "v1.34.3" };

/** The chart's service account: the controller's IRSA role trusts exactly this one. */
export const CCM_SERVICE_ACCOUNT: ServiceAccountRef = {
    namespace: "kube-system",
    name: "cloud-controller-manager",
};

/** The tag the controller finds the cluster's subnets, security groups and instances by (value `owned`). */
export function clusterTag(clusterName: string): Record<string, string> {
    return { [`kubernetes.io/cluster/${clusterName}`]: "owned" };
}

/** The image tag for the cluster's Kubernetes version; a minor without a release is refused with the choices. */
export function ccmImageTag(kubernetesVersion: string): string {
    return releaseForMinor(CCM_RELEASES, kubernetesVersion, "aws-cloud-controller-manager");
}

/** Where the controller reads its cloud config (a ConfigMap mounted read-only). */
export const CLOUD_CONFIG_DIR = "/etc/kubernetes/aws";
export const CLOUD_CONFIG_NAME = "aws-cloud-config";

/** What the cloud config says about the cluster. */
export interface CloudConfigInputs {
    readonly clusterName: string;
    readonly region: string;
    readonly vpcId: string;
    /** A private subnet, for load balancers whose subnets the tags do not decide. */
    readonly subnetId: string;
}

/**
 * The cloud config (gcfg). Region, VPC, subnet and cluster id are given, so the controller never asks IMDS
 * (upstream's "master runs elsewhere" path): it runs on the pod network, where hop limit 1 keeps IMDS away.
 */
export function renderCloudConfig(c: CloudConfigInputs): string {
    return [
        "[Global]",
        `Region = ${c.region}`,
        `VPC = ${c.vpcId}`,
        `SubnetID = ${c.subnetId}`,
        `KubernetesClusterID = ${c.clusterName}`,
        "",
    ].join("\n");
}

/**
 * The chart's values: the controller on the masters (the chart's nodeSelector and tolerations, including
 * the uninitialized taint that kubelets with `--cloud-provider=external` start with), on the pod network,
 * its own role (`roleArn`, IRSA env and projected token), the cloud config, no cloud routes (the CNI
 * encapsulates), and the cluster name for the load balancers it creates.
 */
export function ccmValues(
    clusterName: string,
    kubernetesVersion: string,
    region: string,
    roleArn: Input<string>,
): Record<string, unknown> {
    return {
        image: { repository: CCM_IMAGE_REPOSITORY, tag: ccmImageTag(kubernetesVersion) },
        args: [
            "--v=2",
            "--cloud-provider=aws",
            `--cloud-config=${CLOUD_CONFIG_DIR}/cloud.conf`,
            `--cluster-name=${clusterName}`,
            "--configure-cloud-routes=false",
        ],
        serviceAccountName: CCM_SERVICE_ACCOUNT.name,
        env: webIdentityEnv(roleArn, region),
        extraVolumes: [webIdentityVolume(), { name: "cloud-config", configMap: { name: CLOUD_CONFIG_NAME } }],
        extraVolumeMounts: [
            webIdentityMount(),
            { name: "cloud-config", mountPath: CLOUD_CONFIG_DIR, readOnly: true },
        ],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
        },
        // Pod-level user: the kubelet then hands the projected token to that user.
        podSecurityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
        },
    };
}

/**
 * The controller's policy: upstream's control-plane policy (docs/prerequisites.md) without the in-tree
 * volume actions (the EBS CSI driver owns volumes) and the route actions (no cloud routes).
 */
export function ccmPolicyDocument(): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "CloudController",
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeInstances",
                    "ec2:DescribeRegions",
                    "ec2:DescribeRouteTables",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeInstanceTopology",
                    "ec2:CreateSecurityGroup",
                    "ec2:CreateTags",
                    "ec2:ModifyInstanceAttribute",
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup",
                    "ec2:RevokeSecurityGroupIngress",
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:AttachLoadBalancerToSubnets",
                    "elasticloadbalancing:ApplySecurityGroupsToLoadBalancer",
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateLoadBalancerPolicy",
                    "elasticloadbalancing:CreateLoadBalancerListeners",
                    "elasticloadbalancing:ConfigureHealthCheck",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:DeleteLoadBalancerListeners",
                    "elasticloadbalancing:DescribeLoadBalancers",
                    "elasticloadbalancing:DescribeLoadBalancerAttributes",
                    "elasticloadbalancing:DetachLoadBalancerFromSubnets",
                    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:RegisterInstancesWithLoadBalancer",
                    "elasticloadbalancing:SetLoadBalancerPoliciesForBackendServer",
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:CreateTargetGroup",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:DeleteTargetGroup",
                    "elasticloadbalancing:DescribeListeners",
                    "elasticloadbalancing:DescribeLoadBalancerPolicies",
                    "elasticloadbalancing:DescribeTargetGroups",
                    "elasticloadbalancing:DescribeTargetHealth",
                    "elasticloadbalancing:ModifyListener",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:RegisterTargets",
                    "elasticloadbalancing:DeregisterTargets",
                    "elasticloadbalancing:SetLoadBalancerPoliciesOfListener",
                    "iam:CreateServiceLinkedRole",
                    "kms:DescribeKey",
                ],
                Resource: "*",
            },
        ],
    };
}
