// The Cluster as other Pulumi languages see it (`keelson:index:Cluster`): the TypeScript Cluster's args with
// the network given as a Network's outputs, and its results as plain outputs. The TypeScript component's own
// properties (its Kubernetes provider, its readiness gate, the Auto Scaling Groups as objects) have no schema
// type, so the schema is inferred from this class instead; it builds exactly the TypeScript Cluster.
import * as pulumi from "@pulumi/pulumi";
import { Cluster as KeelsonCluster, ClusterShapeArgs } from "../components";
import { NetworkOutputsArgs } from "./network-outputs";

/** The Cluster's args (each documented with its default), the network as a Network's outputs. */
export interface ClusterArgs extends ClusterShapeArgs {
    /** The network the cluster runs in. */
    readonly network: NetworkOutputsArgs;
}

/**
 * An HA kubeadm cluster on EC2 (the TypeScript `Cluster`, `keelson:cluster:Cluster`, as this component's only
 * child). Build a Kubernetes provider from `kubeconfig`; give IRSA roles `oidcIssuer` and `oidcProviderArn`.
 */
export class Cluster extends pulumi.ComponentResource {
    /** Admin kubeconfig (a secret). */
    readonly kubeconfig: pulumi.Output<string>;
    /** `https://<internet-facing host>:6443`. */
    readonly endpoint: pulumi.Output<string>;
    /** `https://api.<cluster>.internal:6443`, what the nodes use. */
    readonly internalEndpoint: pulumi.Output<string>;
    /** Cluster CA certificate (PEM). */
    readonly caCertPem: pulumi.Output<string>;
    /** The cluster's name (the `clusterName` arg, else the resource's name). */
    readonly clusterName: pulumi.Output<string>;
    /** `/keelson/<stage>/<cluster>`: the SSM prefix of its join material and node states. */
    readonly ssmPrefix: pulumi.Output<string>;
    /** ARN of the workers' role. */
    readonly nodeRoleArn: pulumi.Output<string>;
    /** ARN of the masters' role. */
    readonly masterRoleArn: pulumi.Output<string>;
    /** The service-account token issuer, `https://<bucket>.s3.<region>.amazonaws.com`. */
    readonly oidcIssuer: pulumi.Output<string>;
    /** ARN of the IAM OIDC provider of that issuer, which IRSA roles trust. */
    readonly oidcProviderArn: pulumi.Output<string>;
    /** Each worker pool's Auto Scaling Group name, in pool order. */
    readonly workerGroupNames: pulumi.Output<string>[];

    constructor(name: string, args: ClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:index:Cluster", name, {}, opts);
        const cluster = new KeelsonCluster(name, args, { parent: this });
        this.kubeconfig = cluster.kubeconfig;
        this.endpoint = cluster.endpoint;
        this.internalEndpoint = pulumi.output(cluster.internalEndpoint);
        this.caCertPem = cluster.caCertPem;
        this.clusterName = pulumi.output(cluster.clusterName);
        this.ssmPrefix = pulumi.output(cluster.ssmPrefix);
        this.nodeRoleArn = cluster.nodeRole.arn;
        this.masterRoleArn = cluster.masterRole.arn;
        this.oidcIssuer = pulumi.output(cluster.webIdentity.issuer);
        this.oidcProviderArn = pulumi.output(cluster.webIdentity.providerArn);
        this.workerGroupNames = cluster.workers.map((w) => w.groupName);
        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            endpoint: this.endpoint,
            internalEndpoint: this.internalEndpoint,
            caCertPem: this.caCertPem,
            clusterName: this.clusterName,
            ssmPrefix: this.ssmPrefix,
            nodeRoleArn: this.nodeRoleArn,
            masterRoleArn: this.masterRoleArn,
            oidcIssuer: this.oidcIssuer,
            oidcProviderArn: this.oidcProviderArn,
            workerGroupNames: this.workerGroupNames,
        });
    }
}
