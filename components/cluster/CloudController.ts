// The AWS cloud controller manager: node lifecycle (Nodes of terminated instances deleted, zone and
// instance-type labels, addresses) and `type: LoadBalancer` Services, with a role of its own (IRSA).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createServiceAccountRole, WebIdentityIssuer } from "./irsa";
import {
    CCM_CHART,
    CCM_SERVICE_ACCOUNT,
    ccmPolicyDocument,
    ccmValues,
    CLOUD_CONFIG_NAME,
    renderCloudConfig,
} from "./render/cloud-controller";

/** Inputs of a {@link CloudController}. */
export interface CloudControllerArgs {
    /** The cluster's name (cluster tag `kubernetes.io/cluster/<name>`, load balancer names). */
    readonly clusterName: string;
    /** The cluster's Kubernetes version `1.N.P`: the controller's release follows its minor. */
    readonly kubernetesVersion: string;
    readonly region: string;
    readonly vpcId: pulumi.Input<string>;
    /** A private subnet (the cloud config's fallback for load balancers). */
    readonly subnetId: pulumi.Input<string>;
    /** The cluster's service-account issuer (`cluster.webIdentity`). */
    readonly webIdentity: WebIdentityIssuer;
    /** The cluster's Kubernetes provider. */
    readonly provider: k8s.Provider;
    /** What the chart waits for (the CNI: the controller runs on the pod network). Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
    readonly tags: Record<string, string>;
}

/**
 * aws-cloud-controller-manager (`keelson:cluster:CloudController`) from its upstream chart 0.0.9, the
 * image of the cluster's Kubernetes minor, as a DaemonSet on the masters on the pod network. Its role
 * `<name>` (upstream's control-plane policy without volume and route actions) is assumable only by
 * `kube-system/cloud-controller-manager`; the cloud config (ConfigMap `aws-cloud-config`) gives region,
 * VPC, subnet and cluster id, so it never needs IMDS. Kubelets run with `--cloud-provider=external`
 * and wait (tainted uninitialized) until it has initialised their Node.
 */
export class CloudController extends pulumi.ComponentResource {
    readonly chart: k8s.helm.v4.Chart;
    readonly config: k8s.core.v1.ConfigMap;

    constructor(name: string, args: CloudControllerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:CloudController", name, {}, opts);
        const k8sOpts = { parent: this, provider: args.provider };
        const identity = createServiceAccountRole(
            name,
            {
                issuer: args.webIdentity,
                serviceAccount: CCM_SERVICE_ACCOUNT,
                policy: JSON.stringify(ccmPolicyDocument()),
                tags: args.tags,
            },
            this,
        );
        this.config = new k8s.core.v1.ConfigMap(
            `${name}-config`,
            {
                metadata: { name: CLOUD_CONFIG_NAME, namespace: CCM_SERVICE_ACCOUNT.namespace },
                data: {
                    "cloud.conf": pulumi.all([args.vpcId, args.subnetId]).apply(([vpcId, subnetId]) =>
                        renderCloudConfig({
                            clusterName: args.clusterName,
                            region: args.region,
                            vpcId,
                            subnetId,
                        }),
                    ),
                },
            },
            { ...k8sOpts, dependsOn: [...(args.dependsOn ?? [])] },
        );
        this.chart = new k8s.helm.v4.Chart(
            name,
            {
                chart: CCM_CHART.chart,
                version: CCM_CHART.version,
                repositoryOpts: { repo: CCM_CHART.repo },
                namespace: CCM_SERVICE_ACCOUNT.namespace,
                values: ccmValues(args.clusterName, args.kubernetesVersion, args.region, identity.role.arn),
            },
            { ...k8sOpts, dependsOn: [...(args.dependsOn ?? []), this.config, ...identity.policies] },
        );
        this.registerOutputs({ roleArn: identity.role.arn });
    }
}
