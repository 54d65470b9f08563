// What node termination handling is made of, as data: the EventBridge rules that feed the queue, the
// queue's and the handler's IAM documents, and the aws-node-termination-handler chart in queue mode.
// Pure. Upstream: https://github.com/aws/aws-node-termination-handler (v1.25.6, chart 0.27.6),
// README "Queue Processor" infrastructure setup; values from config/helm/.../values.yaml at that tag.
import type { Input } from "@pulumi/pulumi";
import { ServiceAccountRef, webIdentityEnv, webIdentityMount, webIdentityVolume } from "./oidc";

/** The chart, pinned (appVersion 1.25.6), from its OCI registry. */
export const NTH_CHART = {
    chart: "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler",
    version: "0.27.6",
} as const;

/** The tag the handler requires on an instance before it drains it (the chart's `managedTag` default). */
export const NTH_MANAGED_TAG = "aws-node-termination-handler/managed";

/** The handler's Deployment and ServiceAccount (the chart's names with `fullnameOverride`). */
export const NTH_NAME = "aws-node-termination-handler";
/** The handler's service account: its IRSA role trusts exactly this one. */
export const NTH_SERVICE_ACCOUNT: ServiceAccountRef = { namespace: "kube-system", name: NTH_NAME };

/** Seconds a terminating node waits for its drain before the group terminates it anyway. */
export const TERMINATION_HEARTBEAT_SECONDS = 300;

/** Seconds the handler gives a node's pods to stop (the chart's `nodeTerminationGracePeriod`), below the heartbeat. */
export const NODE_TERMINATION_GRACE_SECONDS = 120;

/** One EventBridge rule: a stable key and its event pattern. */
export interface TerminationRule {
    readonly key: string;
    readonly description: string;
    readonly pattern: Record<string, unknown>;
}

/** The EventBridge detail-type of EC2's two-minute Spot interruption warning. */
export const SPOT_INTERRUPTION_WARNING = "EC2 Spot Instance Interruption Warning";

/**
 * The events the handler acts on, as the upstream README lists them: a pool group's terminate
 * lifecycle action (only Keelson's groups), Spot interruption warnings, rebalance recommendations,
 * instance state changes and AWS Health scheduled changes for EC2.
 */
export function terminationRules(groupNames: readonly string[]): TerminationRule[] {
    return [
        {
            key: "asg-terminate",
            description: "A worker pool's group is terminating a node (lifecycle hook)",
            pattern: {
                source: ["aws.autoscaling"],
                "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
                detail: { AutoScalingGroupName: [...groupNames] },
            },
        },
        {
            key: "spot-interruption",
            description: "EC2 is reclaiming a Spot instance in two minutes",
            pattern: { source: ["aws.ec2"], "detail-type": [SPOT_INTERRUPTION_WARNING] },
        },
        {
            key: "rebalance",
            description: "A Spot instance is at elevated risk of interruption",
            pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"] },
        },
        {
            key: "state-change",
            description: "An instance is stopping or terminating",
            pattern: { source: ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"] },
        },
        {
            key: "scheduled-change",
            description: "AWS Health scheduled maintenance of an instance",
            pattern: {
                source: ["aws.health"],
                "detail-type": ["AWS Health Event"],
                detail: { service: ["EC2"], eventTypeCategory: ["scheduledChange"] },
            },
        },
    ];
}

/** The queue policy: only EventBridge, and only from these rules, may send to the queue. */
export function queuePolicyDocument(queueArn: string, ruleArns: readonly string[]): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "EventBridgeRules",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: { ArnEquals: { "aws:SourceArn": [...ruleArns] } },
            },
        ],
    };
}

/**
 * What the handler may do (the upstream policy, narrowed): read and delete the queue's messages,
 * complete the lifecycle actions of Keelson's groups only, and describe instances, groups and tags.
 */
export function handlerPolicyDocument(
    queueArn: string,
    groupArns: readonly string[],
): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "TerminationQueue",
                Effect: "Allow",
                Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                Resource: queueArn,
            },
            {
                Sid: "CompleteLifecycleActions",
                Effect: "Allow",
                Action: "autoscaling:CompleteLifecycleAction",
                Resource: [...groupArns],
            },
            {
                Sid: "Describe",
                Effect: "Allow",
                Action: [
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeInstances",
                ],
                Resource: "*",
            },
        ],
    };
}

/**
 * The chart's values: queue-processor mode on the given queue, cordon and drain (DaemonSets ignored,
 * emptyDir data deleted, each pod's own grace period, {@link NODE_TERMINATION_GRACE_SECONDS} per node),
 * only instances tagged {@link NTH_MANAGED_TAG}, nodes found by their EC2 private DNS name (Keelson's
 * node names). Two replicas spread over nodes and kept off the masters. The handler assumes its own role
 * `roleArn` (IRSA): the chart takes the environment (`extraEnv`), and {@link handlerIdentityPatch} adds
 * the projected STS token, which the chart has no value for.
 */
export function handlerValues(
    queueUrl: string,
    region: string,
    roleArn: Input<string>,
): Record<string, unknown> {
    return {
        fullnameOverride: NTH_NAME,
        serviceAccount: { create: true, name: NTH_SERVICE_ACCOUNT.name },
        // awsRegion sets AWS_REGION already.
        extraEnv: webIdentityEnv(roleArn),
        enableSqsTerminationDraining: true,
        queueURL: queueUrl,
        awsRegion: region,
        checkTagBeforeDraining: true,
        managedTag: NTH_MANAGED_TAG,
        useProviderId: false,
        deleteLocalData: true,
        ignoreDaemonSets: true,
        podTerminationGracePeriod: -1,
        nodeTerminationGracePeriod: NODE_TERMINATION_GRACE_SECONDS,
        emitKubernetesEvents: true,
        replicas: 2,
        podDisruptionBudget: { maxUnavailable: 1 },
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
        affinity: {
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
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            topologyKey: "kubernetes.io/hostname",
                            labelSelector: {
                                matchLabels: { "app.kubernetes.io/name": "aws-node-termination-handler" },
                            },
                        },
                    },
                ],
            },
        },
    };
}

/**
 * The server-side-apply patch of the chart's Deployment that mounts the projected STS token (chart 0.27.6
 * has `extraEnv` but no extra volumes): the `aws-web-identity-token` volume and its mount in the handler
 * container, merged by name into what the chart owns.
 */
export function handlerIdentityPatch(): Record<string, unknown> {
    return {
        metadata: { name: NTH_NAME, namespace: NTH_SERVICE_ACCOUNT.namespace },
        spec: {
            template: {
                spec: {
                    containers: [{ name: NTH_NAME, volumeMounts: [webIdentityMount()] }],
                    volumes: [webIdentityVolume()],
                },
            },
        },
    };
}
