// The AWS cloud controller: chart values, cloud config and policy (pure), the kubelet flag in the rendered
// kubeadm configs, the component under mocks, and the cluster tags in the prod plan.
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as YAML from "yaml";
import { CloudController } from "../../components/cluster/CloudController";
import {
    ccmImageTag,
    ccmPolicyDocument,
    ccmValues,
    clusterTag,
    renderCloudConfig,
} from "../../components/cluster/render/cloud-controller";
import { planNodes, renderNode } from "../../components/cluster/render/layout";
import { resolveClusterSpec } from "../../components/cluster/types";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { runUnderMocks } from "../../tools/plan/runtime";

const ROLE = "arn:aws:iam::123456789012:role/ccm";
const TOKEN = {
    name: "aws-web-identity-token",
    projected: {
        sources: [
            {
                serviceAccountToken: {
                    audience: "sts.amazonaws.com",
                    expirationSeconds: 86400,
                    path: "token",
                },
            },
        ],
    },
};

describe("cluster/CloudController", function () {
    this.timeout(300000);

    it("pins the chart's image to the cluster's Kubernetes minor, and refuses a minor without a release", () => {
        assert.equal(ccmImageTag("1.33.4"), "v1.33.4");
        assert.equal(ccmImageTag("1.32.1"), "v1.32.8");
        assert.equal(ccmImageTag("1.34.0"), "v1.34.3");
        assert.throws(
            () => ccmImageTag("1.30.2"),
            /^Error: cluster\.kubernetesVersion: 1\.30\.2 has no pinned aws-cloud-controller-manager release; use 1\.32, 1\.33, 1\.34$/,
        );
    });

    it("renders exact chart values: masters (chart default), pod network, its own role, the cloud config", () => {
        assert.deepEqual(ccmValues("keelson-prod", "1.33.4", "eu-west-1", ROLE), {
            image: { repository: "registry.k8s.io/provider-aws/cloud-controller-manager", tag: "v1.33.4" },
            args: [
                "--v=2",
                "--cloud-provider=aws",
                "--cloud-config=/etc/kubernetes/aws/cloud.conf",
                "--cluster-name=keelson-prod",
                "--configure-cloud-routes=false",
            ],
            serviceAccountName: "cloud-controller-manager",
            env: [
                { name: "AWS_ROLE_ARN", value: ROLE },
                {
                    name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                    value: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
                },
                { name: "AWS_REGION", value: "eu-west-1" },
                { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
                { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
            ],
            extraVolumes: [TOKEN, { name: "cloud-config", configMap: { name: "aws-cloud-config" } }],
            extraVolumeMounts: [
                {
                    name: "aws-web-identity-token",
                    mountPath: "/var/run/secrets/sts.amazonaws.com/serviceaccount",
                    readOnly: true,
                },
                { name: "cloud-config", mountPath: "/etc/kubernetes/aws", readOnly: true },
            ],
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
            securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
            },
            podSecurityContext: {
                runAsNonRoot: true,
                runAsUser: 65532,
                runAsGroup: 65532,
                fsGroup: 65532,
                seccompProfile: { type: "RuntimeDefault" },
            },
        });
    });

    it("gives the controller region, VPC, subnet and cluster id, so it never asks IMDS", () => {
        assert.equal(
            renderCloudConfig({
                clusterName: "keelson-prod",
                region: "eu-west-1",
                vpcId: "vpc-1",
                subnetId: "subnet-a",
            }),
            "[Global]\nRegion = eu-west-1\nVPC = vpc-1\nSubnetID = subnet-a\nKubernetesClusterID = keelson-prod\n",
        );
    });

    it("lets it manage load balancers and node security groups, not volumes or routes", () => {
        const [statement] = (ccmPolicyDocument() as { Statement: { Action: string[] }[] }).Statement;
        assert.equal(statement.Action.length, 48);
        for (const a of [
            "ec2:DescribeInstances",
            "elasticloadbalancing:CreateTargetGroup",
            "ec2:AuthorizeSecurityGroupIngress",
        ])
            assert.ok(statement.Action.includes(a), a);
        assert.deepEqual(
            statement.Action.filter(
                (a) => /Volume|Route$/.test(a) && !a.startsWith("ec2:DescribeRouteTables"),
            ),
            [],
        );
    });

    it("runs every kubelet with --cloud-provider=external (init, control-plane join and worker join)", () => {
        const spec = resolveClusterSpec("c", { masters: 3, workerPools: [{ name: "general" }] });
        const env = {
            clusterName: "c",
            kubernetesVersion: spec.kubernetesVersion,
            endpointHost: "api.c.internal",
            podCidr: spec.podCidr,
            serviceCidr: spec.serviceCidr,
            caCertHash: "sha256:00",
            region: "eu-west-1",
            ssmPrefix: "/keelson/test/c",
            kmsKeyArn: "arn:aws:kms:eu-west-1:1:key/k",
            masterCount: 3,
        };
        const nodes = planNodes(spec, ["eu-west-1a", "eu-west-1b", "eu-west-1c"], "eu-west-1");
        const rendered = [
            renderNode(nodes[0], env).kubeadmInit!,
            renderNode(nodes[1], env).kubeadmJoin,
            renderNode(
                nodes.find((n) => n.role === "worker")!,
                env,
            ).kubeadmJoin,
        ];
        for (const text of rendered) {
            const [first] = YAML.parseAllDocuments(text).map((d) => d.toJS());
            const args = first.nodeRegistration.kubeletExtraArgs as { name: string; value: string }[];
            assert.deepEqual(
                args.filter((a) => a.name === "cloud-provider"),
                [{ name: "cloud-provider", value: "external" }],
                first.kind,
            );
            // The Node's name is the EC2 private DNS name (filled in from IMDS at boot), as the controller requires.
            assert.equal(first.nodeRegistration.name, "__NODE_NAME__");
        }
    });

    it("registers its role, cloud config and chart with exact inputs (mocked)", async () => {
        const run = await runUnderMocks({ stack: "prod", config: { "aws:region": "eu-west-1" } }, () => {
            new CloudController("c-ccm", {
                clusterName: "c",
                kubernetesVersion: "1.33.4",
                region: "eu-west-1",
                vpcId: "vpc-1",
                subnetId: "subnet-a",
                webIdentity: {
                    issuer: "https://oidc.s3.eu-west-1.amazonaws.com",
                    providerArn: "arn:aws:iam::123456789012:oidc-provider/oidc.s3.eu-west-1.amazonaws.com",
                },
                provider: new k8s.Provider("k8s", { kubeconfig: "test" }),
                tags: { "keelson:cluster": "c" },
            });
            return {};
        });
        const [component] = run.resources.filter((r) => r.type === "keelson:cluster:CloudController");
        assert.deepEqual(
            run.resources
                .filter((r) => r.parent === component.urn)
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
            [
                "aws:iam/role:Role c-ccm",
                "aws:iam/rolePolicy:RolePolicy c-ccm",
                "kubernetes:core/v1:ConfigMap c-ccm-config",
                "kubernetes:helm.sh/v4:Chart c-ccm",
            ],
        );
        const get = (type: string) =>
            run.resources.find((r) => r.type === type && r.parent === component.urn)!;
        const role = get("aws:iam/role:Role");
        assert.deepEqual(
            JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Condition.StringEquals,
            {
                "oidc.s3.eu-west-1.amazonaws.com:sub":
                    "system:serviceaccount:kube-system:cloud-controller-manager",
                "oidc.s3.eu-west-1.amazonaws.com:aud": "sts.amazonaws.com",
            },
        );
        assert.deepEqual(
            JSON.parse(String(get("aws:iam/rolePolicy:RolePolicy").inputs.policy)),
            ccmPolicyDocument(),
        );
        const config = get("kubernetes:core/v1:ConfigMap");
        assert.deepEqual(config.inputs.metadata, { name: "aws-cloud-config", namespace: "kube-system" });
        assert.deepEqual(config.inputs.data, {
            "cloud.conf":
                "[Global]\nRegion = eu-west-1\nVPC = vpc-1\nSubnetID = subnet-a\nKubernetesClusterID = c\n",
        });
        const chart = get("kubernetes:helm.sh/v4:Chart");
        assert.deepEqual(
            [chart.inputs.chart, chart.inputs.version, chart.inputs.repositoryOpts, chart.inputs.namespace],
            [
                "aws-cloud-controller-manager",
                "0.0.9",
                { repo: "https://kubernetes.github.io/cloud-provider-aws" },
                "kube-system",
            ],
        );
        const roleName = String(JSON.parse(JSON.stringify(chart.inputs.values)).env[0].value)
            .split("/")
            .pop();
        assert.match(String(roleName), /^c-ccm-[0-9a-f]{7}$/);
        assert.deepEqual(
            chart.inputs.values,
            ccmValues("c", "1.33.4", "eu-west-1", `arn:aws:iam::123456789012:role/${roleName}`),
        );
        assert.ok(chart.dependencies.includes(config.urn));
        assert.ok(chart.dependencies.includes(get("aws:iam/rolePolicy:RolePolicy").urn));
    });

    describe("in the prod plan", () => {
        let plan: FullPlan;
        before(async () => {
            plan = await planStage({ stack: "prod" });
        });
        const tag = clusterTag("keelson-prod");

        it("tags the subnets, the node security groups and every node with kubernetes.io/cluster/<name>", () => {
            assert.deepEqual(tag, { "kubernetes.io/cluster/keelson-prod": "owned" });
            const tagged = (type: string) =>
                plan.recorded
                    .filter((r) => r.type === type)
                    .map((r) => [
                        r.name,
                        (r.inputs.tags as Record<string, string>)["kubernetes.io/cluster/keelson-prod"],
                    ]);
            assert.deepEqual(
                tagged("aws:ec2/subnet:Subnet").map(([, v]) => v),
                ["owned", "owned", "owned", "owned", "owned", "owned"],
            );
            assert.deepEqual(
                tagged("aws:ec2/securityGroup:SecurityGroup")
                    .filter(([, v]) => v === "owned")
                    .map(([n]) => n),
                ["keelson-prod-masters", "keelson-prod-workers"],
            );
            // prod's masters are slots (groups of one): the tag reaches them through the groups below.
            // Only the edge VMs remain plain instances, and they are not the cluster's nodes.
            assert.deepEqual(tagged("aws:ec2/instance:Instance"), [
                ["keelson-prod-edge-0", undefined],
                ["keelson-prod-edge-1", undefined],
            ]);
            assert.deepEqual(
                plan.recorded
                    .filter((r) => r.type === "aws:autoscaling/group:Group")
                    .map((r) => r.name)
                    .filter((n) => /master-\d$/.test(n)),
                ["keelson-prod-master-0", "keelson-prod-master-1", "keelson-prod-master-2"],
            );
            for (const g of plan.recorded.filter((r) => r.type === "aws:autoscaling/group:Group")) {
                const tags = g.inputs.tags as { key: string; value: string; propagateAtLaunch: boolean }[];
                assert.deepEqual(
                    tags.filter((t) => t.key === "kubernetes.io/cluster/keelson-prod"),
                    [{ key: "kubernetes.io/cluster/keelson-prod", value: "owned", propagateAtLaunch: true }],
                    g.name,
                );
            }
        });

        it("installs the controller after the CNI with the cluster's minor", () => {
            const chart = plan.recorded.find(
                (r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name === "keelson-prod-cloud-controller",
            )!;
            const values = chart.inputs.values as { image: { tag: string }; args: string[] };
            assert.equal(values.image.tag, "v1.33.4");
            assert.ok(values.args.includes("--cluster-name=keelson-prod"));
            const cni = plan.recorded.find((r) => r.name === "keelson-prod-addons-calico")!;
            assert.ok(chart.dependencies.includes(cni.urn));
        });
    });
});
