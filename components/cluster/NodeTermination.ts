// No pod is killed undrained: a terminate lifecycle hook on every worker pool holds a leaving node,
// EventBridge puts the event (and Spot, rebalance, state-change and scheduled-change events) on an
// SQS queue, and aws-node-termination-handler in queue mode cordons and drains the node, then lets
// the group terminate it.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createServiceAccountRole, WebIdentityIssuer } from "./irsa";
import {
    handlerIdentityPatch,
    handlerPolicyDocument,
    handlerValues,
    NTH_CHART,
    NTH_SERVICE_ACCOUNT,
    queuePolicyDocument,
    TERMINATION_HEARTBEAT_SECONDS,
    terminationRules,
} from "./render/termination";
import { ClusterWorker } from "./types";

/** Inputs of a {@link NodeTermination}. */
export interface NodeTerminationArgs {
    /** The cluster's worker pools (their groups get the hook, their nodes the drain). */
    readonly workers: readonly ClusterWorker[];
    /** The cluster's service-account issuer (`cluster.webIdentity`): the handler gets a role of its own. */
    readonly webIdentity: WebIdentityIssuer;
    /** The cluster's Kubernetes provider. */
    readonly provider: k8s.Provider;
    readonly region: string;
    /** What the chart waits for (the add-ons' CNI). Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
    readonly tags: Record<string, string>;
}

/**
 * Termination handling (`keelson:cluster:NodeTermination`): an SQS queue (SSE-SQS, messages kept
 * 300 s) that only the rules below may send to; five EventBridge rules with the queue as target
 * (see ./render/termination.ts); on each pool's group a `autoscaling:EC2_INSTANCE_TERMINATING`
 * hook that holds the node up to 300 s and then continues; the handler's own role `<name>-handler`
 * (IRSA, service account `kube-system/aws-node-termination-handler`); and aws-node-termination-handler 1.25.6 (chart 0.27.6) in queue-processor mode in
 * kube-system. A node leaving by scale-in, instance refresh, Spot interruption or an operator's
 * terminate is cordoned and drained (PodDisruptionBudgets respected) before it goes.
 */
export class NodeTermination extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly rules: aws.cloudwatch.EventRule[];
    readonly hooks: aws.autoscaling.LifecycleHook[];
    readonly chart: k8s.helm.v4.Chart;
    /** Mounts the handler's projected STS token into the chart's Deployment. */
    readonly identityPatch: k8s.apps.v1.DeploymentPatch;

    constructor(name: string, args: NodeTerminationArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:NodeTermination", name, {}, opts);
        const parent = { parent: this };
        this.queue = new aws.sqs.Queue(
            name,
            { messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags: { ...args.tags, Name: name } },
            parent,
        );
        const groupNames = pulumi.all(args.workers.map((w) => w.groupName));
        this.rules = terminationRules([]).map((r) => {
            const rule = new aws.cloudwatch.EventRule(
                `${name}-${r.key}`,
                {
                    description: `Keelson: ${r.description}`,
                    // The lifecycle rule matches Keelson's own groups only.
                    eventPattern:
                        r.key === "asg-terminate"
                            ? groupNames.apply((names) =>
                                  JSON.stringify(
                                      terminationRules(names).find((x) => x.key === r.key)!.pattern,
                                  ),
                              )
                            : JSON.stringify(r.pattern),
                    tags: args.tags,
                },
                parent,
            );
            new aws.cloudwatch.EventTarget(
                `${name}-${r.key}`,
                { rule: rule.name, arn: this.queue.arn, targetId: "termination-queue" },
                parent,
            );
            return rule;
        });
        const policy = new aws.sqs.QueuePolicy(
            name,
            {
                queueUrl: this.queue.url,
                policy: pulumi
                    .all([this.queue.arn, ...this.rules.map((r) => r.arn)])
                    .apply(([queueArn, ...ruleArns]) =>
                        JSON.stringify(queuePolicyDocument(queueArn, ruleArns)),
                    ),
            },
            parent,
        );
        this.hooks = args.workers.map(
            (w) =>
                new aws.autoscaling.LifecycleHook(
                    `${name}-${w.pool}`,
                    {
                        name: "keelson-drain",
                        autoscalingGroupName: w.groupName,
                        lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
                        defaultResult: "CONTINUE",
                        heartbeatTimeout: TERMINATION_HEARTBEAT_SECONDS,
                    },
                    parent,
                ),
        );
        const identity = createServiceAccountRole(
            `${name}-handler`,
            {
                issuer: args.webIdentity,
                serviceAccount: NTH_SERVICE_ACCOUNT,
                policy: pulumi
                    .all([this.queue.arn, ...args.workers.map((w) => w.group.arn)])
                    .apply(([queueArn, ...groupArns]) =>
                        JSON.stringify(handlerPolicyDocument(queueArn, groupArns)),
                    ),
                tags: args.tags,
            },
            this,
        );
        this.chart = new k8s.helm.v4.Chart(
            `${name}-handler`,
            {
                chart: NTH_CHART.chart,
                version: NTH_CHART.version,
                namespace: "kube-system",
                values: pulumi
                    .all([this.queue.url, identity.role.arn])
                    .apply(([url, arn]) => handlerValues(url, args.region, arn)),
                // The pods come up without their token until the patch below lands: wait on the patch.
                skipAwait: true,
            },
            {
                parent: this,
                provider: args.provider,
                dependsOn: [...(args.dependsOn ?? []), policy, ...identity.policies, ...this.hooks],
            },
        );
        this.identityPatch = new k8s.apps.v1.DeploymentPatch(
            `${name}-handler-token`,
            handlerIdentityPatch() as k8s.apps.v1.DeploymentPatchArgs,
            { parent: this, provider: args.provider, dependsOn: [this.chart] },
        );
        this.registerOutputs({ queueUrl: this.queue.url });
    }
}
