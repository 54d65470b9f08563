// Maps the validated stage config (Pulumi.<stage>.yaml) to the components' args: the only place that knows
// both shapes. The components resolve their own defaults; the stage config gives every value explicitly.
import { AddonsArgs } from "../addons/args";
import { ReferenceAppArgs } from "../app/reference-app";
import { hasPublicMaster } from "../cluster/render/layout";
import { ClusterArgs, ClusterShapeArgs } from "../cluster/types";
import { EdgeArgs } from "../edge/args";
import { NetworkArgs } from "../network/args";
import { AddonsConfig, ClusterConfig, EdgeConfig, NetworkConfig, StageConfig } from "./types";

/** The tags every AWS resource of a stage carries. */
export function stageTags(cfg: Pick<StageConfig, "stage">): Record<string, string> {
    return { "keelson:stage": cfg.stage, "keelson:managed-by": "pulumi" };
}

/** `keelson:network` plus the firewall shape from `keelson:cluster` and `keelson:addons`. */
export function networkArgs(cfg: StageConfig): NetworkArgs {
    return {
        ...networkConfigArgs(cfg.network),
        firewall: {
            cni: cfg.addons.cni,
            endpoint: cfg.cluster.endpoint,
            apiAllowedCidrs: [...cfg.cluster.apiAllowedCidrs],
        },
        tags: stageTags(cfg),
        clusterName: cfg.cluster.name,
    };
}

/** The `keelson:network` section as Network args (without the firewall). */
export function networkConfigArgs(n: NetworkConfig): Omit<NetworkArgs, "firewall" | "tags"> {
    return {
        cidr: n.cidr,
        availabilityZones: [...n.availabilityZones],
        natGateways: n.natGateways,
        publicSubnets: [...n.publicSubnets],
        privateSubnets: [...n.privateSubnets],
    };
}

/** `keelson:cluster` (everything but the network, which the program wires). */
export function clusterArgs(cfg: StageConfig): ClusterShapeArgs {
    return {
        ...clusterConfigArgs(cfg.cluster),
        stage: cfg.stage,
        region: cfg.region,
        cni: cfg.addons.cni,
        tags: stageTags(cfg),
        ...(cfg.addons.clusterAutoscaler ? { clusterAutoscaler: true } : {}),
    };
}

/** The `keelson:cluster` section as Cluster args (`apiAllowedCidrs` goes to the Network's firewall). */
export function clusterConfigArgs(
    c: ClusterConfig,
): Omit<ClusterArgs, "network" | "stage" | "region" | "cni" | "tags" | "readiness" | "clusterAutoscaler"> {
    return {
        clusterName: c.name,
        kubernetesVersion: c.kubernetesVersion,
        masters: c.masters,
        masterInstanceType: c.masterInstanceType,
        masterRootVolumeGb: c.masterRootVolumeGb,
        dedicatedMasters: c.dedicatedMasters,
        endpoint: c.endpoint,
        apiLoadBalancers: c.apiLoadBalancers,
        podCidr: c.podCidr,
        serviceCidr: c.serviceCidr,
        workerPools: c.workerPools.map((p) => ({
            name: p.name,
            instanceType: p.instanceType,
            count: p.count,
            minSize: p.minSize,
            maxSize: p.maxSize,
            labels: { ...p.labels },
            taints: p.taints.map((t) => ({ ...t })),
            rootVolumeGb: p.rootVolumeGb,
            ...(p.spot ? { spot: { ...p.spot, instanceTypes: [...p.spot.instanceTypes] } } : {}),
        })),
        upgrade: { ...c.upgrade },
    };
}

/** `keelson:addons` plus the cluster facts they need (the roles and the provider are wired by the program). */
export function addonsArgs(
    cfg: StageConfig,
): Pick<
    AddonsArgs,
    | "clusterName"
    | "region"
    | "vpcCidr"
    | "publicMasters"
    | "podCidr"
    | "cni"
    | "metricsServer"
    | "logging"
    | "nodeMetrics"
    | "etcdBackups"
> {
    return {
        clusterName: cfg.cluster.name,
        region: cfg.region,
        vpcCidr: cfg.network.cidr,
        publicMasters: hasPublicMaster(cfg.cluster),
        podCidr: cfg.cluster.podCidr,
        ...addonsConfigArgs(cfg.addons),
    };
}

/** The `keelson:addons` section as Addons args. */
export function addonsConfigArgs(
    a: AddonsConfig,
): Pick<AddonsArgs, "cni" | "metricsServer" | "logging" | "nodeMetrics" | "etcdBackups"> {
    return {
        cni: a.cni,
        metricsServer: a.metricsServer,
        logging: a.logging,
        nodeMetrics: a.nodeMetrics,
        etcdBackups: a.etcdBackups,
    };
}

/** `keelson:edge` (the network, backends, routes and provided certificates are wired by the program). */
export function edgeArgs(
    cfg: StageConfig,
): Omit<EdgeArgs, "network" | "backends" | "routes" | "certificates"> {
    return { stage: cfg.stage, ...edgeConfigArgs(cfg.edge) };
}

/** The `keelson:edge` section as Edge args. */
export function edgeConfigArgs(
    e: EdgeConfig,
): Omit<EdgeArgs, "network" | "backends" | "routes" | "certificates" | "stage"> {
    return {
        engine: e.engine,
        count: e.count,
        instanceType: e.instanceType,
        nlb: e.nlb,
        tlsMode: e.tlsMode,
        keyAlgorithm: e.keyAlgorithm,
        managedCertificates: e.certificates.map((c) => ({ name: c.name, hosts: [...c.hosts] })),
        ...(e.acmeEmail !== undefined ? { acmeEmail: e.acmeEmail } : {}),
    };
}

/** `keelson:app`: the application (the services the stage config loaded) and the reference app's sizing. */
export function appArgs(
    cfg: StageConfig,
): Omit<ReferenceAppArgs, "provider" | "edgeSourceCidrs" | "dependsOn" | "webIdentity"> {
    const a = cfg.app;
    return {
        hostname: a.hostname,
        webReplicas: a.webReplicas,
        workerReplicas: a.workerReplicas,
        databaseStorageGb: a.databaseStorageGb,
        namespace: a.namespace,
        services: a.roots,
        ...(a.publish ? { publish: a.publish } : {}),
        // Placement by pool name is checked against the stage's pools; an existing cluster's are unknown.
        ...(cfg.existingCluster ? {} : { pools: cfg.cluster.workerPools }),
    };
}
