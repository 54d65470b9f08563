// Keelson: one stage of the platform. Reads and validates the stage config (nothing is registered when it is
// invalid), then composes network, cluster, add-ons, the application and the edge, and exports the outputs.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Addons } from "./components/addons/Addons";
import { referenceApp } from "./components/app/reference-app";
import { CloudController } from "./components/cluster/CloudController";
import { Cluster } from "./components/cluster/Cluster";
import { ClusterAutoscaler } from "./components/cluster/ClusterAutoscaler";
import { NodeTermination } from "./components/cluster/NodeTermination";
import { WorkerIngress } from "./components/cluster/WorkerIngress";
import {
    addonsArgs,
    appArgs,
    awsProviderArgs,
    certificateSecretKeys,
    clusterArgs,
    edgeArgs,
    networkArgs,
    readStageConfig,
} from "./components/config";
import { Edge } from "./components/edge/Edge";
import { Network } from "./components/network/Network";

export = async () => {
    const cfg = readStageConfig();
    const keelson = new pulumi.Config("keelson");
    const name = `keelson-${cfg.stage}`;
    // One AWS provider for every component: its defaultTags put the stage tags on every taggable resource.
    const awsConfig = new pulumi.Config("aws");
    const awsProvider = new aws.Provider(
        `${name}-aws`,
        awsProviderArgs(cfg, (key) => awsConfig.requireSecret(key)),
    );
    const opts = { providers: [awsProvider] };

    // App-only mode: deploy the same application onto an existing cluster; no VPC, VM or edge host.
    if (cfg.existingCluster) {
        const provider = new k8s.Provider(`${name}-existing`, {
            kubeconfig: keelson.requireSecret("kubeconfig"),
        });
        const app = referenceApp(name, { ...appArgs(cfg), provider, edgeSourceCidrs: [] }, opts);
        return { stage: cfg.stage, appNamespace: app.namespace, routes: app.routes };
    }

    const network = new Network(name, networkArgs(cfg), opts);
    const cluster = new Cluster(name, { ...clusterArgs(cfg), network }, opts);
    const addons = new Addons(
        `${name}-addons`,
        {
            ...addonsArgs(cfg),
            provider: cluster.provider,
            webIdentity: cluster.webIdentity,
            dependsOn: [cluster.ready],
        },
        opts,
    );
    // The AWS cloud controller: Nodes follow their instances, zone labels, LoadBalancer Services as NLBs.
    new CloudController(
        `${name}-cloud-controller`,
        {
            clusterName: cluster.clusterName,
            kubernetesVersion: cluster.spec.kubernetesVersion,
            region: cfg.region,
            vpcId: network.vpcId,
            subnetId: network.privateSubnetIds[0],
            webIdentity: cluster.webIdentity,
            provider: cluster.provider,
            // Its image follows the cluster's minor: never newer than an API server it talks to.
            dependsOn: [addons.cni, cluster.upgraded],
            tags: { "keelson:cluster": cluster.clusterName },
        },
        opts,
    );
    // A leaving worker is drained first: lifecycle hooks, EventBridge, SQS, aws-node-termination-handler.
    new NodeTermination(
        `${name}-termination`,
        {
            workers: cluster.workers,
            webIdentity: cluster.webIdentity,
            provider: cluster.provider,
            region: cfg.region,
            // Its image follows the cluster's minor: never newer than an API server it talks to.
            dependsOn: [addons.cni, cluster.upgraded],
            tags: { "keelson:cluster": cluster.clusterName },
        },
        opts,
    );
    // Sizes the pools between their minSize and maxSize (off unless addons.clusterAutoscaler).
    if (cfg.addons.clusterAutoscaler) {
        new ClusterAutoscaler(
            `${name}-autoscaler`,
            {
                clusterName: cluster.clusterName,
                kubernetesVersion: cluster.spec.kubernetesVersion,
                region: cfg.region,
                webIdentity: cluster.webIdentity,
                provider: cluster.provider,
                // Its minor is the cluster's: never newer than an API server it talks to.
                dependsOn: [addons.cni, cluster.upgraded],
                tags: { "keelson:cluster": cluster.clusterName },
            },
            opts,
        );
    }
    const app = referenceApp(
        name,
        {
            ...appArgs(cfg),
            provider: cluster.provider,
            // The edge reaches the pods through the workers' internal NLB, which does not preserve client
            // addresses: the nodes see the NLB's own addresses, in the private subnets.
            edgeSourceCidrs: network.privateSubnetCidrs,
            dependsOn: addons.ready,
            // File-store consumers assume IRSA roles of their own: no IAM user, no long-lived key.
            webIdentity: cluster.webIdentity,
        },
        opts,
    );
    // Provided certificates come from secret config (validation has checked that both keys exist as secrets).
    const secret = (qualifiedKey: string) => keelson.requireSecret(qualifiedKey.slice("keelson:".length));
    const certificates =
        cfg.edge.tlsMode === "provided"
            ? cfg.edge.certificates.map((c) => {
                  const keys = certificateSecretKeys(c.name);
                  return {
                      name: c.name,
                      hosts: [...c.hosts],
                      certPem: secret(keys.cert),
                      keyPem: secret(keys.key),
                  };
              })
            : undefined;
    // Pool nodes come and go: the edge forwards to the pools' internal NLB, one listener per NodePort.
    const ingress = new WorkerIngress(
        `${name}-ingress`,
        {
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            securityGroupId: network.securityGroups.workerLb.id,
            groups: Object.fromEntries(cluster.workers.map((w) => [w.pool, w.groupName])),
            routes: app.routes,
            tags: { "keelson:cluster": cluster.clusterName },
        },
        opts,
    );
    const edge = new Edge(
        `${name}-edge`,
        {
            ...edgeArgs(cfg),
            network,
            backends: [{ name: "workers", address: ingress.dnsName }],
            routes: app.routes,
            certificates,
        },
        opts,
    );

    return {
        stage: cfg.stage,
        vpcId: network.vpcId,
        apiEndpoint: cluster.endpoint,
        kubeconfig: cluster.kubeconfig,
        appNamespace: app.namespace,
        routes: app.routes,
        url: edge.url,
        edgePublicIps: edge.publicIps,
        ...(edge.nlbDnsName ? { edgeNlbDnsName: edge.nlbDnsName } : {}),
        ...(addons.backupBucket ? { etcdBackupBucket: addons.backupBucket.bucket } : {}),
    };
};
