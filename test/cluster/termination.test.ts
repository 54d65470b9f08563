// Node termination handling: the rules, documents and chart values (pure), and the component's exact
// children under the mock engine.
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { NodeTermination } from "../../components/cluster/NodeTermination";
import {
    handlerIdentityPatch,
    handlerPolicyDocument,
    handlerValues,
    queuePolicyDocument,
    terminationRules,
} from "../../components/cluster/render/termination";
import { WorkerPool } from "../../components/cluster/WorkerPool";
import { runUnderMocks } from "../../tools/plan/runtime";
import { ofType } from "./graph-support";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const QUEUE = "arn:aws:sqs:eu-west-1:123456789012:q";
const HOST = "c-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com";
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${HOST}`;
const ROLE = "arn:aws:iam::123456789012:role/handler";

describe("cluster/NodeTermination", function () {
    this.timeout(120000);

    it("routes the lifecycle action of Keelson's groups only, and the EC2 events upstream lists", () => {
        assert.deepEqual(
            terminationRules(["g1", "g2"]).map((r) => [r.key, r.pattern]),
            [
                [
                    "asg-terminate",
                    {
                        source: ["aws.autoscaling"],
                        "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
                        detail: { AutoScalingGroupName: ["g1", "g2"] },
                    },
                ],
                [
                    "spot-interruption",
                    { source: ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"] },
                ],
                [
                    "rebalance",
                    { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
                ],
                [
                    "state-change",
                    { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
                ],
                [
                    "scheduled-change",
                    {
                        source: ["aws.health"],
                        "detail-type": ["AWS Health Event"],
                        detail: { service: ["EC2"], eventTypeCategory: ["scheduledChange"] },
                    },
                ],
            ],
        );
    });

    it("lets only the rules send to the queue, and the handler only read it and complete its groups' actions", () => {
        assert.deepEqual(queuePolicyDocument(QUEUE, ["arn:rule1"]).Statement, [
            {
                Sid: "EventBridgeRules",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: QUEUE,
                Condition: { ArnEquals: { "aws:SourceArn": ["arn:rule1"] } },
            },
        ]);
        const doc = handlerPolicyDocument(QUEUE, ["arn:asg1"]) as { Statement: Obj[] };
        assert.deepEqual(
            doc.Statement.map((s) => [s.Action, s.Resource]),
            [
                [["sqs:ReceiveMessage", "sqs:DeleteMessage"], QUEUE],
                ["autoscaling:CompleteLifecycleAction", ["arn:asg1"]],
                [
                    [
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeInstances",
                    ],
                    "*",
                ],
            ],
        );
    });

    it("runs the handler in queue mode, draining tagged nodes within the hook's heartbeat, off the masters", () => {
        const v = handlerValues("https://sqs/q", "eu-west-1", ROLE);
        // Its own role (IRSA): the env through the chart, the token through handlerIdentityPatch.
        assert.deepEqual(
            [v.fullnameOverride, v.serviceAccount, v.extraEnv],
            [
                "aws-node-termination-handler",
                { create: true, name: "aws-node-termination-handler" },
                [
                    { name: "AWS_ROLE_ARN", value: ROLE },
                    {
                        name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                        value: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
                    },
                    { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
                ],
            ],
        );
        assert.deepEqual(handlerIdentityPatch(), {
            metadata: { name: "aws-node-termination-handler", namespace: "kube-system" },
            spec: {
                template: {
                    spec: {
                        containers: [
                            {
                                name: "aws-node-termination-handler",
                                volumeMounts: [
                                    {
                                        name: "aws-web-identity-token",
                                        mountPath: "/var/run/secrets/sts.amazonaws.com/serviceaccount",
                                        readOnly: true,
                                    },
                                ],
                            },
                        ],
                        volumes: [
                            {
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
                            },
                        ],
                    },
                },
            },
        });
        assert.equal(v.enableSqsTerminationDraining, true);
        assert.equal(v.queueURL, "https://sqs/q");
        assert.equal(v.awsRegion, "eu-west-1");
        assert.deepEqual(
            [v.checkTagBeforeDraining, v.managedTag, v.useProviderId, v.deleteLocalData, v.ignoreDaemonSets],
            [true, "aws-node-termination-handler/managed", false, true, true],
        );
        assert.deepEqual(
            [v.podTerminationGracePeriod, v.nodeTerminationGracePeriod, v.replicas],
            [-1, 120, 2],
        );
        assert.deepEqual(
            (v.affinity as Obj).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
            [
                {
                    matchExpressions: [
                        { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                    ],
                },
            ],
        );
    });

    it("builds the queue, the rules and their targets, a hook per pool, the handler's access and its chart", async () => {
        const run = await runUnderMocks({ stack: "prod", config: { "aws:region": "eu-west-1" } }, () => {
            const pools = ["general", "data"].map(
                (p) =>
                    new WorkerPool(`c-${p}`, {
                        pool: p,
                        ami: "ami-1",
                        instanceType: "t3.medium",
                        minSize: 1,
                        maxSize: 3,
                        desiredCapacity: 2,
                        rootVolumeGb: 30,
                        userDataBase64: "",
                        subnetIds: ["subnet-a"],
                        securityGroupIds: ["sg-w"],
                        metadataHopLimit: 1,
                        instanceProfileName: "worker",
                        tags: {},
                    }),
            );
            new NodeTermination("c-termination", {
                workers: pools.map((p, i) => ({
                    pool: ["general", "data"][i],
                    groupName: p.group.name,
                    group: p.group,
                    launchTemplate: p.launchTemplate,
                })),
                webIdentity: { issuer: `https://${HOST}`, providerArn: PROVIDER },
                provider: new k8s.Provider("k8s", { kubeconfig: "test" }),
                region: "eu-west-1",
                tags: { "keelson:cluster": "c" },
            });
            return {
                groupNames: pulumi.all(pools.map((p) => p.group.name)),
                groupArns: pulumi.all(pools.map((p) => p.group.arn)),
            };
        });
        const [queue] = ofType(run.resources, "aws:sqs/queue:Queue");
        assert.deepEqual(
            [queue.name, queue.inputs.messageRetentionSeconds, queue.inputs.sqsManagedSseEnabled],
            ["c-termination", 300, true],
        );
        // By name: a rule whose pattern waits on the group names registers later.
        const byName = <T extends { name: string }>(l: T[]) =>
            [...l].sort((a, b) => a.name.localeCompare(b.name));
        const rules = byName(ofType(run.resources, "aws:cloudwatch/eventRule:EventRule"));
        assert.deepEqual(
            rules.map((r) => r.name),
            ["asg-terminate", "rebalance", "scheduled-change", "spot-interruption", "state-change"].map(
                (k) => `c-termination-${k}`,
            ),
        );
        const groups = run.outputs.groupNames as string[];
        assert.match(groups[0], /^c-general-[0-9a-z]{7}$/);
        assert.deepEqual(JSON.parse(String(rules[0].inputs.eventPattern)).detail, {
            AutoScalingGroupName: groups,
        });
        // Each rule's one target is the queue (physical names are autonamed `<name>-<7 characters>`).
        const targets = byName(ofType(run.resources, "aws:cloudwatch/eventTarget:EventTarget"));
        const queueArn = String(targets[0].inputs.arn);
        assert.match(queueArn, /^arn:aws:sqs:eu-west-1:123456789012:c-termination-[0-9a-z]{7}$/);
        const ruleNames = targets.map((t) => String(t.inputs.rule));
        assert.deepEqual(
            targets.map((t, i) => [t.name, t.inputs.arn, t.inputs.targetId, ruleNames[i].slice(0, -8)]),
            rules.map((r) => [r.name, queueArn, "termination-queue", r.name]),
        );
        const [policy] = ofType(run.resources, "aws:sqs/queuePolicy:QueuePolicy");
        assert.deepEqual(
            [
                ...JSON.parse(String(policy.inputs.policy)).Statement[0].Condition.ArnEquals["aws:SourceArn"],
            ].sort(),
            ruleNames.map((n) => `arn:aws:events:eu-west-1:123456789012:rule/${n}`),
        );
        assert.deepEqual(
            ofType(run.resources, "aws:autoscaling/lifecycleHook:LifecycleHook").map((h) => [
                h.name,
                h.inputs.autoscalingGroupName,
                h.inputs.lifecycleTransition,
                h.inputs.defaultResult,
                h.inputs.heartbeatTimeout,
            ]),
            [
                ["c-termination-general", groups[0], "autoscaling:EC2_INSTANCE_TERMINATING", "CONTINUE", 300],
                ["c-termination-data", groups[1], "autoscaling:EC2_INSTANCE_TERMINATING", "CONTINUE", 300],
            ],
        );
        const access = ofType(run.resources, "aws:iam/rolePolicy:RolePolicy").find(
            (p) => p.name === "c-termination-handler",
        )!;
        // CompleteLifecycleAction on exactly the two groups.
        assert.deepEqual(
            JSON.parse(String(access.inputs.policy)).Statement[1].Resource,
            run.outputs.groupArns,
        );
        assert.match((run.outputs.groupArns as string[])[1], /:autoScalingGroupName\/c-data-[0-9a-z]{7}$/);
        // On the handler's own role, which only its service account may assume.
        assert.match(String(access.inputs.role), /^c-termination-handler-[0-9a-z]{7}$/);
        const [role] = ofType(run.resources, "aws:iam/role:Role");
        assert.equal(role.name, "c-termination-handler");
        assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)).Statement[0].Condition, {
            StringEquals: {
                [`${HOST}:sub`]: "system:serviceaccount:kube-system:aws-node-termination-handler",
                [`${HOST}:aud`]: "sts.amazonaws.com",
            },
        });
        const [chart] = ofType(run.resources, "kubernetes:helm.sh/v4:Chart");
        assert.deepEqual(
            [chart.name, chart.inputs.chart, chart.inputs.version, chart.inputs.namespace],
            [
                "c-termination-handler",
                "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler",
                "0.27.6",
                "kube-system",
            ],
        );
        assert.deepEqual(
            chart.inputs.values,
            handlerValues(
                `https://sqs.eu-west-1.amazonaws.com/123456789012/${queueArn.split(":").pop()}`,
                "eu-west-1",
                `arn:aws:iam::123456789012:role/${String(access.inputs.role)}`,
            ),
        );
        assert.equal(chart.inputs.skipAwait, true);
        assert.ok(chart.dependencies.includes(access.urn), "the role's policy before the handler");
        const [patch] = ofType(run.resources, "kubernetes:apps/v1:DeploymentPatch");
        assert.equal(patch.name, "c-termination-handler-token");
        assert.deepEqual(
            { metadata: patch.inputs.metadata, spec: patch.inputs.spec },
            handlerIdentityPatch(),
        );
        assert.ok(patch.dependencies.includes(chart.urn));
        // The pools' instances carry the tag the handler requires before it drains them.
        for (const g of ofType(run.resources, "aws:autoscaling/group:Group")) {
            assert.ok(
                (g.inputs.tags as Obj[]).some(
                    (t) =>
                        t.key === "aws-node-termination-handler/managed" &&
                        t.value === "" &&
                        t.propagateAtLaunch,
                ),
                g.name,
            );
        }
    });
});
