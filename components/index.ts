// The public entry of the `keelson` package: the components, their args types and the service factories.
// Everything else under components/ is internal and may change without notice.

export { Network } from "./network/Network";
export type {
    NatGatewayMode,
    NetworkArgs,
    NetworkFirewallArgs,
    NetworkSecurityGroups,
    NetworkSpec,
} from "./network/Network";

export { Cluster } from "./cluster/Cluster";
export { WorkerPool } from "./cluster/WorkerPool";
export type { WorkerPoolComponentArgs } from "./cluster/WorkerPool";
export { WorkerIngress, ingressPorts } from "./cluster/WorkerIngress";
export type { IngressPort, WorkerIngressArgs } from "./cluster/WorkerIngress";
export type {
    ApiEndpointKind,
    ClusterArgs,
    ClusterShapeArgs,
    ClusterNetwork,
    ClusterSecurityGroups,
    ClusterSpec,
    ClusterWorker,
    CniName,
    ReadinessArgs,
    SecurityGroupRef,
    SpotAllocationStrategy,
    SpotArgs,
    Taint,
    TaintEffect,
    WorkerPoolArgs,
} from "./cluster/types";

export { Addons, AddonsError } from "./addons/Addons";
export type { AddonsArgs, AddonsSpec } from "./addons/Addons";

export { Edge } from "./edge/Edge";
export type {
    EdgeArgs,
    EdgeBackend,
    EdgeKeyAlgorithm,
    EdgeManagedCertificate,
    EdgeSettings,
    EdgeShapeArgs,
    EdgeTlsMode,
} from "./edge/Edge";
export type {
    EdgeCertificateInput,
    EdgeEngine,
    EdgeNetwork,
    EdgeRoute,
    EdgeSecurityGroups,
    HttpRoute,
    StreamRoute,
} from "./edge/types";

export { Application, ApplicationError } from "./app/Application";
export type { ApplicationArgs, ServiceConnection } from "./app/Application";
export type { WebIdentityIssuer } from "./cluster/irsa";
export type { PublishVia } from "./app/render/routes";
export { FileStore } from "./app/FileStore";
export { ImageBuild } from "./app/ImageBuild";
export type { ImageBuildArgs } from "./app/ImageBuild";
export {
    container,
    cronJob,
    daemonSet,
    externalService,
    fileStore,
    memcached,
    mysql,
    postgres,
    rabbitmq,
    redis,
    worker,
} from "./app/services";
export { Service } from "./app/types";
export type {
    ContainerArgs,
    CronJobArgs,
    DaemonSetArgs,
    DataServiceArgs,
    ExternalArgs,
    FileStoreArgs,
    MemcachedArgs,
    RouteSpec,
    ServiceKind,
    SqlArgs,
    WorkerArgs,
} from "./app/types";
export { referenceApp, REFERENCE_IMAGE } from "./app/reference-app";
export type { ReferenceAppArgs } from "./app/reference-app";

export type { Artifacts } from "./artifact-set";
