// Spot pools and the cluster-autoscaler: the pure parts (mixed instances policy, discovery tags, chart values,
// policy), the role's policy under the lab's IAM evaluator, and the prod plan with a Spot pool and the
// autoscaler on (index.ts with Pulumi.prod.yaml, two keys changed, under the mock engine).
import assert from "node:assert/strict";
import * as path from "path";
import * as YAML from "yaml";
import { Cluster } from "../../components/cluster/Cluster";
import { planNodes, renderNode } from "../../components/cluster/render/layout";
import {
    autoscalerGroupTags,
    autoscalerPolicyDocument,
    autoscalerValues,
    caImageTag,
} from "../../components/cluster/render/autoscaler";
import { mixedInstancesPolicy, spotProblems } from "../../components/cluster/spot";
import { resolveClusterSpec } from "../../components/cluster/types";
import { evaluate, PolicyDocument } from "../../tools/lab/iam";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { RecordedResource } from "../../tools/plan/runtime";
import { stableHex } from "../../tools/plan/mock-state";
import { loadStackConfig } from "../../tools/plan/stack-config";
import { spotDrained } from "../../policy/rules/aws-spot";
import { runPolicies } from "../../policy/run";
import { validateManifest } from "../app/support/schema";
import { assertRefusedBeforeRegistering, fakeNetwork } from "./graph-support";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ASG = "aws:autoscaling/group:Group";
const ROLE = "arn:aws:iam::123456789012:role/ca";
const SPOT = {
    instanceTypes: ["r7i.large", "r6i.large", "r5.large"],
    onDemandBase: 1,
    onDemandPercentAboveBase: 0,
    allocationStrategy: "price-capacity-optimized" as const,
};
const TOKEN_VOLUME = {
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
const TOKEN_MOUNT = {
    name: "aws-web-identity-token",
    mountPath: "/var/run/secrets/sts.amazonaws.com/serviceaccount",
    readOnly: true,
};

describe("cluster: spot pools and the cluster-autoscaler (pure)", () => {
    it("renders the mixed instances policy: the template at its version, one override per type, the distribution", () => {
        assert.deepEqual(mixedInstancesPolicy("lt-1", "3", SPOT), {
            launchTemplate: {
                launchTemplateSpecification: { launchTemplateId: "lt-1", version: "3" },
                overrides: [
                    { instanceType: "r7i.large" },
                    { instanceType: "r6i.large" },
                    { instanceType: "r5.large" },
                ],
            },
            instancesDistribution: {
                onDemandAllocationStrategy: "prioritized",
                onDemandBaseCapacity: 1,
                onDemandPercentageAboveBaseCapacity: 0,
                spotAllocationStrategy: "price-capacity-optimized",
            },
        });
        assert.deepEqual(spotProblems("workerPools[0].spot", "r7i.large", SPOT, 4), []);
    });

    it("pins the autoscaler's image to the cluster's minor, and refuses a minor without a release", () => {
        assert.equal(caImageTag("1.32.3"), "v1.32.7");
        assert.equal(caImageTag("1.33.4"), "v1.33.6");
        assert.equal(caImageTag("1.34.0"), "v1.34.5");
        assert.throws(
            () => caImageTag("1.31.9"),
            /^Error: cluster\.kubernetesVersion: 1\.31\.9 has no pinned cluster-autoscaler release; use 1\.32, 1\.33, 1\.34$/,
        );
    });

    it("tags a group for discovery and describes its nodes' labels and taints for a scale-up from zero", () => {
        assert.deepEqual(
            autoscalerGroupTags("keelson-prod", {
                labels: { "keelson.io/pool": "batch", "workload.keelson.io/kind": "batch" },
                taints: [
                    { key: "workload.keelson.io/batch", value: "true", effect: "NoSchedule" },
                    { key: "keelson.io/spot", effect: "PreferNoSchedule" },
                ],
            }),
            {
                "k8s.io/cluster-autoscaler/enabled": "true",
                "k8s.io/cluster-autoscaler/keelson-prod": "owned",
                "k8s.io/cluster-autoscaler/node-template/label/keelson.io/pool": "batch",
                "k8s.io/cluster-autoscaler/node-template/label/workload.keelson.io/kind": "batch",
                "k8s.io/cluster-autoscaler/node-template/taint/workload.keelson.io/batch": "true:NoSchedule",
                "k8s.io/cluster-autoscaler/node-template/taint/keelson.io/spot": ":PreferNoSchedule",
            },
        );
    });

    it("renders exact chart values: auto-discovery, the minor's image, its own role, the masters, the flags", () => {
        assert.deepEqual(autoscalerValues("keelson-prod", "1.33.4", "us-east-1", ROLE), {
            fullnameOverride: "cluster-autoscaler",
            cloudProvider: "aws",
            awsRegion: "us-east-1",
            autoDiscovery: { clusterName: "keelson-prod" },
            image: { repository: "registry.k8s.io/autoscaling/cluster-autoscaler", tag: "v1.33.6" },
            rbac: { serviceAccount: { create: true, name: "cluster-autoscaler" } },
            extraArgs: {
                "balance-similar-node-groups": false,
                expander: "least-waste",
                "max-node-provision-time": "30m",
                "skip-nodes-with-local-storage": false,
                "skip-nodes-with-system-pods": true,
                v: 2,
            },
            extraEnv: {
                AWS_ROLE_ARN: ROLE,
                AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
                AWS_STS_REGIONAL_ENDPOINTS: "regional",
            },
            extraVolumes: [TOKEN_VOLUME],
            extraVolumeMounts: [TOKEN_MOUNT],
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
            securityContext: {
                runAsNonRoot: true,
                runAsUser: 65534,
                runAsGroup: 65534,
                fsGroup: 65534,
                seccompProfile: { type: "RuntimeDefault" },
            },
        });
    });

    it("puts the values where chart 9.51.0's deployment template does, into a schema-valid Deployment", () => {
        // templates/deployment.yaml at cluster-autoscaler-chart-9.51.0, reduced to the fields these values reach
        // (extraArgs become `--<key>=<value>` in key order, extraEnv `name: value` pairs after the chart's own).
        const v = autoscalerValues("keelson-prod", "1.33.4", "us-east-1", ROLE) as Obj;
        const args = Object.keys(v.extraArgs)
            .sort()
            .map((k) => `--${k}=${v.extraArgs[k]}`);
        const deployment = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: v.fullnameOverride, namespace: "kube-system" },
            spec: {
                replicas: v.replicaCount,
                selector: { matchLabels: { "app.kubernetes.io/name": "aws-cluster-autoscaler" } },
                template: {
                    metadata: { labels: { "app.kubernetes.io/name": "aws-cluster-autoscaler" } },
                    spec: {
                        priorityClassName: "system-cluster-critical",
                        containers: [
                            {
                                name: "aws-cluster-autoscaler",
                                image: `${v.image.repository}:${v.image.tag}`,
                                command: [
                                    "./cluster-autoscaler",
                                    `--cloud-provider=${v.cloudProvider}`,
                                    "--namespace=kube-system",
                                    `--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/${v.autoDiscovery.clusterName}`,
                                    "--logtostderr=true",
                                    "--stderrthreshold=info",
                                    ...args,
                                ],
                                env: [
                                    { name: "AWS_REGION", value: v.awsRegion },
                                    ...Object.entries(v.extraEnv).map(([name, value]) => ({ name, value })),
                                ],
                                livenessProbe: { httpGet: { path: "/health-check", port: 8085 } },
                                ports: [{ containerPort: 8085 }],
                                resources: v.resources,
                                securityContext: v.containerSecurityContext,
                                volumeMounts: v.extraVolumeMounts,
                            },
                        ],
                        nodeSelector: v.nodeSelector,
                        serviceAccountName: v.rbac.serviceAccount.name,
                        tolerations: v.tolerations,
                        securityContext: v.securityContext,
                        volumes: v.extraVolumes,
                    },
                },
            },
        };
        validateManifest(deployment, "cluster-autoscaler");
        assert.deepEqual(args, [
            "--balance-similar-node-groups=false",
            "--expander=least-waste",
            "--max-node-provision-time=30m",
            "--skip-nodes-with-local-storage=false",
            "--skip-nodes-with-system-pods=true",
            "--v=2",
        ]);
    });

    it("lets the role describe everything and resize or shrink only this cluster's tagged groups (lab IAM evaluator)", () => {
        const policy = autoscalerPolicyDocument("us-east-1", "keelson-prod");
        assert.deepEqual(policy, {
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
                    Action: [
                        "autoscaling:SetDesiredCapacity",
                        "autoscaling:TerminateInstanceInAutoScalingGroup",
                    ],
                    Resource: "arn:aws:autoscaling:us-east-1:*:autoScalingGroup:*:autoScalingGroupName/*",
                    Condition: {
                        StringEquals: {
                            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                            "aws:ResourceTag/k8s.io/cluster-autoscaler/keelson-prod": "owned",
                        },
                    },
                },
            ],
        });
        const docs = [policy as unknown as PolicyDocument];
        const group = (region: string, name: string) =>
            `arn:aws:autoscaling:${region}:123456789012:autoScalingGroup:6d6a3f3c-1111-2222-3333-444455556666:autoScalingGroupName/${name}`;
        const tags = (t: Record<string, string>) =>
            Object.fromEntries(Object.entries(t).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
        const ours = tags(autoscalerGroupTags("keelson-prod", { labels: {}, taints: [] }));
        const theirs = tags(autoscalerGroupTags("keelson-staging", { labels: {}, taints: [] }));
        for (const action of [
            "autoscaling:SetDesiredCapacity",
            "autoscaling:TerminateInstanceInAutoScalingGroup",
        ]) {
            assert.equal(
                evaluate(docs, action, group("us-east-1", "keelson-prod-general"), ours),
                "allow",
                action,
            );
            // Another cluster's group, a group without the tags, a group tagged "enabled" only, another region.
            assert.equal(
                evaluate(docs, action, group("us-east-1", "keelson-staging-general"), theirs),
                "implicit-deny",
            );
            assert.equal(evaluate(docs, action, group("us-east-1", "legacy"), {}), "implicit-deny");
            assert.equal(
                evaluate(docs, action, group("us-east-1", "half"), {
                    "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                }),
                "implicit-deny",
            );
            assert.equal(
                evaluate(docs, action, group("eu-west-1", "keelson-prod-general"), ours),
                "implicit-deny",
            );
        }
        assert.equal(evaluate(docs, "autoscaling:DescribeAutoScalingGroups", "*"), "allow");
        for (const action of [
            "autoscaling:UpdateAutoScalingGroup",
            "ec2:TerminateInstances",
            "autoscaling:CreateOrUpdateTags",
        ])
            assert.equal(
                evaluate(docs, action, group("us-east-1", "keelson-prod-general"), ours),
                "implicit-deny",
                action,
            );
    });

    it("leaves a mixed pool's instance-type label to the cloud controller (a single-type pool keeps it)", () => {
        const spec = resolveClusterSpec("c", {
            workerPools: [
                { name: "general", instanceType: "m7i.large" },
                { name: "spot", instanceType: "r7i.large", spot: { instanceTypes: SPOT.instanceTypes } },
                { name: "single", instanceType: "r7i.large", spot: {} },
            ],
        });
        const env = {
            clusterName: "c",
            kubernetesVersion: spec.kubernetesVersion,
            endpointHost: "api.c.internal",
            podCidr: spec.podCidr,
            serviceCidr: spec.serviceCidr,
            caCertHash: "sha256:00",
            region: "us-east-1",
            ssmPrefix: "/keelson/test/c",
            kmsKeyArn: "arn:aws:kms:us-east-1:1:key/k",
            masterCount: 1,
        };
        const labels = Object.fromEntries(
            planNodes(spec, ["us-east-1a"], "us-east-1")
                .filter((n) => n.role === "worker")
                .map((n) => {
                    const [join] = YAML.parseAllDocuments(renderNode(n, env).kubeadmJoin).map((d) =>
                        d.toJS(),
                    );
                    const args = join.nodeRegistration.kubeletExtraArgs as { name: string; value: string }[];
                    return [n.name, args.find((a) => a.name === "node-labels")!.value];
                }),
        );
        assert.match(labels.general, /node\.kubernetes\.io\/instance-type=m7i\.large/);
        assert.match(labels.single, /node\.kubernetes\.io\/instance-type=r7i\.large/);
        assert.doesNotMatch(labels.spot, /instance-type/);
        assert.match(labels.spot, /keelson\.io\/pool=spot/);
    });

    it("refuses a Spot pool of two architectures from a library caller before registering anything", () =>
        assertRefusedBeforeRegistering(
            () =>
                new Cluster("c", {
                    region: "us-east-1",
                    network: fakeNetwork(1),
                    workerPools: [
                        {
                            name: "general",
                            instanceType: "t3.large",
                            spot: { instanceTypes: ["t3.large", "t4g.large"] },
                        },
                    ],
                }),
            'Cluster c: workerPools[0].spot.instanceTypes[1]: "t4g.large" is arm64, but the pool\'s launch template boots the amd64 Debian image of t3.large; list instance types of one architecture (give the others a pool of their own)',
        ));
});

describe("cluster: the prod plan with a Spot pool and the cluster-autoscaler", function () {
    this.timeout(300000);
    let plan: FullPlan;
    const get = (type: string, name: string): RecordedResource => {
        const found = plan.recorded.filter((r) => r.type === type && r.name === name);
        assert.equal(found.length, 1, `${type} ${name}`);
        return found[0];
    };
    before(async () => {
        const prod = loadStackConfig(path.join(__dirname, "../../Pulumi.prod.yaml"));
        const cluster = prod.values["keelson:cluster"] as Obj;
        const [general, data] = cluster.workerPools as Obj[];
        plan = await planStage({
            stack: "prod",
            config: {
                secretKeys: prod.secretKeys,
                values: {
                    ...prod.values,
                    "keelson:cluster": {
                        ...cluster,
                        workerPools: [
                            { ...general, minSize: 2, maxSize: 6 },
                            {
                                ...data,
                                instanceType: undefined,
                                maxSize: 6,
                                spot: { instanceTypes: SPOT.instanceTypes, onDemandBase: 1 },
                            },
                        ],
                    },
                    "keelson:addons": { ...(prod.values["keelson:addons"] as Obj), clusterAutoscaler: true },
                },
            },
        });
    });

    it("gives the Spot pool's group a mixed instances policy and no launchTemplate, the other pool its template", () => {
        const data = get(ASG, "keelson-prod-data");
        const template = get("aws:ec2/launchTemplate:LaunchTemplate", "keelson-prod-data");
        assert.equal(template.inputs.instanceType, "r7i.large");
        assert.equal(data.inputs.launchTemplate, undefined);
        assert.deepEqual(data.inputs.mixedInstancesPolicy, {
            launchTemplate: {
                // The template's version number: "$Latest" would never start a refresh.
                launchTemplateSpecification: {
                    launchTemplateId: `lt-${stableHex("keelson-prod-data", 17)}`,
                    version: "1",
                },
                overrides: [
                    { instanceType: "r7i.large" },
                    { instanceType: "r6i.large" },
                    { instanceType: "r5.large" },
                ],
            },
            instancesDistribution: {
                onDemandAllocationStrategy: "prioritized",
                onDemandBaseCapacity: 1,
                onDemandPercentageAboveBaseCapacity: 0,
                spotAllocationStrategy: "price-capacity-optimized",
            },
        });
        assert.equal(data.inputs.capacityRebalance, true);
        // The refresh still rolls the pool on a new template version or a new set of types.
        assert.deepEqual((data.inputs.instanceRefresh as Obj).preferences.skipMatching, true);
        const general = get(ASG, "keelson-prod-general");
        assert.equal(general.inputs.mixedInstancesPolicy, undefined);
        assert.equal(general.inputs.capacityRebalance, undefined);
        assert.equal((general.inputs.launchTemplate as Obj).version, "1");
    });

    it("tags every pool's group (not its instances) for discovery, and leaves the desired capacity to the autoscaler", () => {
        for (const [name, pool] of [
            ["keelson-prod-general", "general"],
            ["keelson-prod-data", "data"],
        ] as const) {
            const g = get(ASG, name);
            const tags = g.inputs.tags as { key: string; value: string; propagateAtLaunch: boolean }[];
            assert.deepEqual(
                tags.filter((t) => t.key.startsWith("k8s.io/cluster-autoscaler/")),
                [
                    { key: "k8s.io/cluster-autoscaler/enabled", value: "true", propagateAtLaunch: false },
                    {
                        key: "k8s.io/cluster-autoscaler/keelson-prod",
                        value: "owned",
                        propagateAtLaunch: false,
                    },
                    {
                        key: "k8s.io/cluster-autoscaler/node-template/label/keelson.io/pool",
                        value: pool,
                        propagateAtLaunch: false,
                    },
                ],
                name,
            );
            assert.deepEqual((g as Obj).options?.ignoreChanges, ["desiredCapacity"], name);
        }
        assert.deepEqual(
            [get(ASG, "keelson-prod-general"), get(ASG, "keelson-prod-data")].map((g) => [
                g.inputs.minSize,
                g.inputs.maxSize,
                g.inputs.desiredCapacity,
            ]),
            [
                [2, 6, 3],
                [3, 6, 3],
            ],
        );
    });

    it("installs the autoscaler's chart after the CNI and the control plane's upgrade, with its own role", () => {
        const chart = get("kubernetes:helm.sh/v4:Chart", "keelson-prod-autoscaler");
        assert.deepEqual(
            [chart.inputs.chart, chart.inputs.version, chart.inputs.repositoryOpts, chart.inputs.namespace],
            [
                "cluster-autoscaler",
                "9.51.0",
                { repo: "https://kubernetes.github.io/autoscaler" },
                "kube-system",
            ],
        );
        const roleArn = String((chart.inputs.values as Obj).extraEnv.AWS_ROLE_ARN);
        const roleName = roleArn.split("/").pop()!;
        assert.match(roleName, /^keelson-prod-autoscaler-[0-9a-f]{7}$/);
        assert.deepEqual(
            chart.inputs.values,
            autoscalerValues("keelson-prod", "1.33.4", "us-east-1", roleArn),
        );
        const role = get("aws:iam/role:Role", "keelson-prod-autoscaler");
        assert.deepEqual(
            JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Condition.StringEquals,
            {
                [`${issuerHost(role)}:sub`]: "system:serviceaccount:kube-system:cluster-autoscaler",
                [`${issuerHost(role)}:aud`]: "sts.amazonaws.com",
            },
        );
        const policy = get("aws:iam/rolePolicy:RolePolicy", "keelson-prod-autoscaler");
        assert.deepEqual(
            JSON.parse(String(policy.inputs.policy)),
            autoscalerPolicyDocument("us-east-1", "keelson-prod"),
        );
        for (const dep of [
            get("kubernetes:helm.sh/v4:Chart", "keelson-prod-addons-calico"),
            policy,
            // The upgrade's last step (the last master's kubelet): the autoscaler's minor never runs ahead of an
            // API server.
            get("aws:ssm/association:Association", "keelson-prod-upgrade-kubelet-master-2"),
        ])
            assert.ok(chart.dependencies.includes(dep.urn), dep.name);
    });

    it("passes the policy pack's aws-asg-spot-drained, which fires when its rebalancing, hook or warning rule is gone", async () => {
        const spot = (resources: FullPlan["resources"]) =>
            runPolicies(resources, [spotDrained]).then((v) => v.map((x) => x.message.split(":")[0]));
        assert.deepEqual(await spot(plan.resources), []);
        const data = get(ASG, "keelson-prod-data").urn;
        const hook = get("aws:autoscaling/lifecycleHook:LifecycleHook", "keelson-prod-termination-data").urn;
        const warning = get(
            "aws:cloudwatch/eventRule:EventRule",
            "keelson-prod-termination-spot-interruption",
        ).urn;
        const without = (urn: string) => plan.resources.filter((r) => r.urn !== urn);
        assert.deepEqual(
            await spot(
                plan.resources.map((r) =>
                    r.urn === data ? { ...r, inputs: { ...r.inputs, capacityRebalance: undefined } } : r,
                ),
            ),
            ["keelson-prod-data launches Spot instances without Capacity Rebalancing"],
        );
        assert.deepEqual(await spot(without(hook)), [
            "keelson-prod-data launches Spot instances without a termination lifecycle hook",
        ]);
        assert.deepEqual(await spot(without(warning)), [
            'keelson-prod-data launches Spot instances, but no EventBridge rule matches "EC2 Spot Instance Interruption Warning"',
        ]);
    });
});

/** The issuer host in a role's trust policy condition keys. */
function issuerHost(role: RecordedResource): string {
    const keys = Object.keys(
        JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Condition.StringEquals,
    );
    return keys[0].replace(/:sub$|:aud$/, "");
}
