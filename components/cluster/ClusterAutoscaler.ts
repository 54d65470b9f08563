// The cluster-autoscaler: grows a pool when pods cannot be scheduled and shrinks it when a node has been
// unneeded for 10 minutes, within each pool's minSize and maxSize, with a role of its own (IRSA).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createServiceAccountRole, WebIdentityIssuer } from "./irsa";
import {
    autoscalerPolicyDocument,
    autoscalerValues,
    CA_CHART,
    CA_SERVICE_ACCOUNT,
} from "./render/autoscaler";

/** Inputs of a {@link ClusterAutoscaler}. */
export interface ClusterAutoscalerArgs {
    /** The cluster's name: the discovery tag `k8s.io/cluster-autoscaler/<name>` and the policy's condition. */
    readonly clusterName: string;
    /** The cluster's Kubernetes version `1.N.P`: the autoscaler's release follows its minor. */
    readonly kubernetesVersion: string;
    readonly region: string;
    /** The cluster's service-account issuer (`cluster.webIdentity`). */
    readonly webIdentity: WebIdentityIssuer;
    /** The cluster's Kubernetes provider. */
    readonly provider: k8s.Provider;
    /** What the chart waits for (the CNI, the control plane's upgrade). Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
    readonly tags: Record<string, string>;
}

/**
 * cluster-autoscaler (`keelson:cluster:ClusterAutoscaler`) from its upstream chart 9.51.0 with the image of
 * the cluster's Kubernetes minor, one replica on the masters in kube-system. It discovers the pools' groups by
 * their tags (the Cluster tags them when `clusterAutoscaler` is on) and only changes their desired capacity
 * or terminates one of their instances, through its role `<name>` (assumable only by
 * `kube-system/cluster-autoscaler`), whose writes are conditioned on those tags.
 */
export class ClusterAutoscaler extends pulumi.ComponentResource {
    readonly chart: k8s.helm.v4.Chart;

    constructor(name: string, args: ClusterAutoscalerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:ClusterAutoscaler", name, {}, opts);
        const identity = createServiceAccountRole(
            name,
            {
                issuer: args.webIdentity,
                serviceAccount: CA_SERVICE_ACCOUNT,
                policy: JSON.stringify(autoscalerPolicyDocument(args.region, args.clusterName)),
                tags: args.tags,
            },
            this,
        );
        this.chart = new k8s.helm.v4.Chart(
            name,
            {
                chart: CA_CHART.chart,
                version: CA_CHART.version,
                repositoryOpts: { repo: CA_CHART.repo },
                namespace: CA_SERVICE_ACCOUNT.namespace,
                values: autoscalerValues(
                    args.clusterName,
                    args.kubernetesVersion,
                    args.region,
                    identity.role.arn,
                ),
            },
            {
                parent: this,
                provider: args.provider,
                dependsOn: [...(args.dependsOn ?? []), ...identity.policies],
            },
        );
        this.registerOutputs({ roleArn: identity.role.arn });
    }
}
