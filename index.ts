// Keelson: one stage of the platform. Reads and validates the stage config (nothing is registered when it is
// invalid), then composes network, cluster, add-ons, the application and the edge, and exports the outputs.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Addons } from "./components/addons/Addons";
import { referenceApp } from "./components/app/reference-app";
import { Cluster } from "./components/cluster/Cluster";
import { certificateSecretKeys, readStageConfig } from "./components/config";
import { Edge } from "./components/edge/Edge";
import { Network } from "./components/network/Network";

export = async () => {
    const cfg = readStageConfig();
    const keelson = new pulumi.Config("keelson");
    const name = `keelson-${cfg.stage}`;

    // App-only mode: deploy the same application onto an existing cluster; no VPC, VM or edge host.
    if (cfg.existingCluster) {
        const provider = new k8s.Provider(`${name}-existing`, {
            kubeconfig: keelson.requireSecret("kubeconfig"),
        });
        const app = referenceApp(name, { config: cfg.app, provider, edgeSourceCidrs: [] });
        return { stage: cfg.stage, appNamespace: app.namespace, routes: app.routes };
    }

    const tags = { "keelson:stage": cfg.stage, "keelson:managed-by": "pulumi" };
    const network = new Network(name, {
        config: cfg.network,
        firewall: {
            cni: cfg.addons.cni,
            endpoint: cfg.cluster.endpoint,
            apiAllowedCidrs: cfg.cluster.apiAllowedCidrs,
        },
        tags,
    });
    const cluster = new Cluster(name, {
        stage: cfg.stage,
        region: cfg.region,
        config: cfg.cluster,
        cni: cfg.addons.cni,
        network,
        tags,
    });
    const addons = new Addons(`${name}-addons`, {
        config: cfg.addons,
        provider: cluster.provider,
        clusterName: cluster.clusterName,
        region: cfg.region,
        podCidr: cfg.cluster.podCidr,
        masterRole: cluster.masterRole,
        nodeRoles: { workers: cluster.nodeRole },
        dependsOn: [cluster.ready],
    });
    const app = referenceApp(name, {
        config: cfg.app,
        provider: cluster.provider,
        edgeSourceCidrs: network.publicSubnetCidrs,
        dependsOn: addons.ready,
    });
    // Provided certificates come from secret config (validation has checked that both keys exist as secrets).
    const secret = (qualifiedKey: string) => keelson.requireSecret(qualifiedKey.slice("keelson:".length));
    const certificates =
        cfg.edge.tlsMode === "provided"
            ? cfg.edge.certificates.map((c) => {
                  const keys = certificateSecretKeys(c.name);
                  return {
                      name: c.name,
                      hosts: c.hosts,
                      certPem: secret(keys.cert),
                      keyPem: secret(keys.key),
                  };
              })
            : undefined;
    const edge = new Edge(`${name}-edge`, {
        stage: cfg.stage,
        config: cfg.edge,
        network,
        backends: cluster.workers.map((w) => ({ name: w.name, address: w.privateIp })),
        routes: app.routes,
        certificates,
    });

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
