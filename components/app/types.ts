// The typed service graph: service definitions are immutable objects, and a dependency is a reference to
// a service object that already exists. There is no API to add an edge later, so a cycle cannot be written.
import * as pulumi from "@pulumi/pulumi";

/** Every kind of service an Application can run. */
export type ServiceKind =
    | "container"
    | "worker"
    | "daemonset"
    | "cronjob"
    | "job"
    | "postgres"
    | "mysql"
    | "redis"
    | "memcached"
    | "rabbitmq"
    | "filestore"
    | "external";

/** CPU and memory quantities, e.g. `{ cpu: "100m", memory: "128Mi" }`. */
export interface ResourceQuantities {
    readonly cpu: string;
    readonly memory: string;
}

/** Requests and limits of a container. https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/ */
export interface Resources {
    readonly requests: ResourceQuantities;
    readonly limits: ResourceQuantities;
}

/** A probe as Kubernetes spells it (one of httpGet, tcpSocket, exec, grpc). https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/ */
export interface Probe {
    readonly httpGet?: { readonly path: string; readonly port: number; readonly scheme?: "HTTP" | "HTTPS" };
    readonly tcpSocket?: { readonly port: number };
    readonly exec?: { readonly command: readonly string[] };
    readonly grpc?: { readonly port: number; readonly service?: string };
    readonly initialDelaySeconds?: number;
    readonly periodSeconds?: number;
    readonly timeoutSeconds?: number;
    readonly failureThreshold?: number;
    readonly successThreshold?: number;
}

/** A toleration as Kubernetes spells it. */
export interface Toleration {
    readonly key?: string;
    readonly operator?: "Equal" | "Exists";
    readonly value?: string;
    readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
    readonly tolerationSeconds?: number;
}

/**
 * Where pods run. `pool` selects a Keelson worker pool by name (`keelson.io/pool=<pool>`) and tolerates that
 * pool's taints. Default: anywhere (data services prefer, never require, a pool named or labelled `data`).
 */
export interface Placement {
    readonly pool?: string;
    /** Extra node labels required. Default none. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    /** Extra tolerations. Default none (besides the pool's taints). */
    readonly tolerations?: readonly Toleration[];
}

/** An extra container: a native sidecar (runs beside the main container) or an init container (runs before). */
export interface ExtraContainer {
    readonly name: string;
    /** Pinned image reference. */
    readonly image: string;
    readonly command?: readonly string[];
    readonly args?: readonly string[];
    /** Plain environment variables (no credentials). */
    readonly env?: Readonly<Record<string, string>>;
    /** Default 50m/64Mi requested, 200m/128Mi limit. */
    readonly resources?: Resources;
}

/** A persistent volume of a container or worker: a ReadWriteOnce PVC, so the workload runs one pod. */
export interface VolumeSpec {
    /** Mount path in the main container. */
    readonly path: string;
    readonly sizeGb: number;
    /** StorageClass. Default the cluster default. */
    readonly storageClass?: string;
}

/** Where a container image comes from: a pinned reference (`repo:tag` or `repo@sha256:...`) or a build context. */
export type ImageSource =
    | string
    | {
          /** Directory with the Dockerfile; the tag is the SHA-256 of its files (content-addressed, immutable). */
          readonly context: string;
          /** Dockerfile path relative to the context. Default `Dockerfile`. */
          readonly dockerfile?: string;
          /** Target platform. Default `linux/amd64`. */
          readonly platform?: string;
      };

/** Publish an HTTP port through the edge load balancer: TLS on 443 at the edge, plain HTTP to the NodePort. */
export interface HttpRouteSpec {
    readonly kind: "http";
    /** Host names served (exact or one leading `*.` label). */
    readonly hosts: readonly string[];
    /** Path prefix. Default `/`. */
    readonly path?: string;
    /** Path the edge health-checks through the NodePort. Default the service's readiness path, else `/`. */
    readonly healthPath?: string;
    /** Allow websocket upgrades. Default false. */
    readonly websocket?: boolean;
}

/** Publish a raw TCP or UDP container port on an edge listen port. */
export interface StreamRouteSpec {
    readonly kind: "tcp" | "udp";
    /** Public port on the edge hosts (not 80 or 443). */
    readonly listenPort: number;
    /** Container port. Default the service's `port`. */
    readonly port?: number;
    /** Explicit NodePort. Default: allocated deterministically from 30000-32767. */
    readonly nodePort?: number;
}

/** A route through the edge load balancer. */
export type RouteSpec = HttpRouteSpec | StreamRouteSpec;

/**
 * Overrides of Keelson's safe defaults (design decision 7). Each override is visible to the StackScore.
 */
export interface WorkloadOverrides {
    /** Default per kind, e.g. containers request 100m/128Mi and are limited to 500m/256Mi. */
    readonly resources?: Resources;
    /** Default: HTTP GET on `readinessPath` when set, else a TCP check of the port, every 5 s. */
    readonly readinessProbe?: Probe;
    /** Default: HTTP GET on `livenessPath` when set, else a TCP check, every 10 s after 10 s, 6 failures. */
    readonly livenessProbe?: Probe;
    /** Run as this uid/gid/fsGroup. Default 10001 (kinds with an official image use that image's user). */
    readonly runAsUser?: number;
    /** Mount the root filesystem read-only. Default true (with an emptyDir on /tmp). */
    readonly readOnlyRootFilesystem?: boolean;
    /** Extra writable directories (emptyDir each) for a read-only root filesystem. Default none. */
    readonly writablePaths?: readonly string[];
    /** Mount the service account token. Default false. */
    readonly automountServiceAccountToken?: boolean;
    /** PodDisruptionBudget (maxUnavailable 1). Default true when replicas > 1. */
    readonly podDisruptionBudget?: boolean;
    /** Spread pods over zones and nodes. Default true when replicas > 1. */
    readonly topologySpread?: boolean;
    /** Rolling update maxUnavailable. Default 0: an update never drops below capacity. */
    readonly maxUnavailable?: number;
    /** Rolling update maxSurge. Default 1. */
    readonly maxSurge?: number;
    /** Startup probe: liveness and readiness wait until it passes. Default none. */
    readonly startupProbe?: Probe;
    /**
     * Before the container gets SIGTERM: sleep (the kubelet's own sleep action, no shell needed) or run a
     * command. Default none; services behind the edge (`routes`, no `expose`) sleep 15 s, longer than the
     * worker NLB takes to drop their node (two failed 5 s checks).
     */
    readonly preStop?: { readonly sleepSeconds?: number; readonly command?: readonly string[] };
    /** Seconds between SIGTERM and SIGKILL (after preStop). Default 30 (data services 60 to 120). */
    readonly terminationGracePeriodSeconds?: number;
    /** Where the pods run. Default anywhere. */
    readonly placement?: Placement;
    /** Native sidecars (init containers with restartPolicy Always, Kubernetes 1.29+). Default none. */
    readonly sidecars?: readonly ExtraContainer[];
    /** Init containers, run in order after the wait-for ones and before the main container. Default none. */
    readonly initContainers?: readonly ExtraContainer[];
    /** `Recreate` stops old pods first. Default `RollingUpdate` (Recreate when the workload has volumes). */
    readonly strategy?: "RollingUpdate" | "Recreate";
    /** Seconds a new pod must be ready before it counts as available. Default 0. */
    readonly minReadySeconds?: number;
    /** Seconds before a stuck rollout is reported as failed. Default 600. */
    readonly progressDeadlineSeconds?: number;
}

/** A dependency edge with an explicit environment-variable prefix (`{ to: db, as: "DATABASE" }` gives `DATABASE_URL`). */
export interface ConnectOptions {
    readonly to: Service;
    /** Prefix of the variables. Default the dependency's name upper-cased with `-` as `_` (`user-db` gives `USER_DB_URL`). */
    readonly as?: string;
}

/** A dependency: the service itself, or the service with options. */
export type Connect = Service | ConnectOptions;

/** Arguments every runnable service takes. */
export interface WorkloadArgs extends WorkloadOverrides {
    /** Image reference (pinned; `latest` and untagged are rejected) or build context. */
    readonly image: ImageSource;
    /** Container command (entrypoint). Default the image's. */
    readonly command?: readonly string[];
    /** Container args. Default the image's. */
    readonly args?: readonly string[];
    /** Plain environment variables. Names that look like credentials are rejected: use `secretEnv`. */
    readonly env?: Readonly<Record<string, string>>;
    /** Secret environment variables, stored in the Kubernetes Secret `<service>-env`. */
    readonly secretEnv?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Services this one uses. Each edge gives connection variables, start ordering and a network path. */
    readonly connects?: readonly Connect[];
    /**
     * Jobs (e.g. migrations) that must complete before this workload rolls: the workload `dependsOn` each
     * Job and the Kubernetes provider waits for the Job to complete, so a failed Job stops the rollout.
     */
    readonly after?: readonly Service<"job">[];
    /**
     * Files mounted read-only from a ConfigMap `<service>-files`: path to content. The pod template carries
     * `keelson.io/config-hash` of the content, so a change rolls the pods. Default none.
     */
    readonly files?: Readonly<Record<string, string>>;
    /** Persistent volumes (one PVC each). Default none. */
    readonly volumes?: readonly VolumeSpec[];
}

/** How a service with a port is exposed inside or outside the cluster. */
export interface PublishArgs {
    /** Service type. Default `NodePort` when there are routes, else `ClusterIP`. */
    readonly expose?: "ClusterIP" | "NodePort" | "LoadBalancer";
    /** NodePort of the main port. Default: allocated deterministically from 30000-32767 when exposed. */
    readonly nodePort?: number;
    /** Routes through the edge load balancer. Default none. */
    readonly routes?: readonly RouteSpec[];
    /** Source CIDRs allowed to reach a NodePort/LoadBalancer service. Default the edge hosts' CIDRs. */
    readonly allowFrom?: readonly string[];
}

/** A long-running container with a port (Deployment + Service). */
export interface ContainerArgs extends WorkloadArgs, PublishArgs {
    /** Container port (TCP). */
    readonly port: number;
    /** Replicas. Default 1. */
    readonly replicas?: number;
    /** Path answering 200 when ready to serve. Default none (TCP check). */
    readonly readinessPath?: string;
    /** Path answering 200 while alive. Default none (TCP check). */
    readonly livenessPath?: string;
    /** HorizontalPodAutoscaler on CPU. Default none. */
    readonly autoscale?: {
        readonly minReplicas: number;
        readonly maxReplicas: number;
        /** Target CPU utilisation. Default 70 when memoryPercent is not set either. */
        readonly cpuPercent?: number;
        /** Target memory utilisation. Default none. */
        readonly memoryPercent?: number;
        /** HPA `behavior` (scaleUp/scaleDown policies and stabilization windows), as Kubernetes spells it. Default the HPA's. */
        readonly behavior?: Readonly<Record<string, unknown>>;
    };
}

/** A background worker: a Deployment with no Service. Needs a way to be probed. */
export interface WorkerArgs extends WorkloadArgs {
    /** Replicas. Default 1. */
    readonly replicas?: number;
    /** Port of an HTTP health endpoint that is not published. Default none. */
    readonly healthPort?: number;
    /** Readiness path on `healthPort`. Default `/`. */
    readonly readinessPath?: string;
    /** Liveness path on `healthPort`. Default `/`. */
    readonly livenessPath?: string;
    /** Command run as the liveness/readiness check when there is no health port. Default none. */
    readonly healthCommand?: readonly string[];
}

/** One pod per node (DaemonSet), with an optional port. */
export interface DaemonSetArgs extends WorkloadArgs, PublishArgs {
    /** Container port. Default none (no Service). */
    readonly port?: number;
    readonly readinessPath?: string;
    readonly livenessPath?: string;
    /** Command used as readiness/liveness check when there is no port. */
    readonly healthCommand?: readonly string[];
}

/** A scheduled job (CronJob). */
export interface CronJobArgs extends WorkloadArgs {
    /** Cron schedule, five fields, e.g. `"*\/5 * * * *"`. */
    readonly schedule: string;
    /** Deadline of one run in seconds. Default 3600. */
    readonly activeDeadlineSeconds?: number;
}

/** A one-off Job (e.g. a migration): named by a hash of its spec, so a change runs it again. */
export interface JobArgs extends WorkloadArgs {
    /** Retries before the Job fails. Default 1. */
    readonly backoffLimit?: number;
    /** Deadline in seconds. Default 600. */
    readonly activeDeadlineSeconds?: number;
}

/** A database or broker from its official image, on a PersistentVolumeClaim. */
export interface DataServiceArgs {
    /** Volume size in GiB. Default 10. */
    readonly storageGb?: number;
    /** StorageClass. Default the cluster default (Keelson's encrypted gp3). */
    readonly storageClass?: string;
    /** Image override (pinned). Default the engine's pinned official image. */
    readonly image?: string;
    /** Resources override. Default per engine. */
    readonly resources?: Resources;
    /** Where the pod runs. Default: prefer a pool named or labelled `data`, else anywhere. */
    readonly placement?: Placement;
    /** Seconds between SIGTERM and SIGKILL. Default per engine (60 to 120). */
    readonly terminationGracePeriodSeconds?: number;
}

/** Redis: a data service with an eviction policy. */
export interface RedisArgs extends DataServiceArgs {
    /** What Redis does at `maxmemory` (70% of the memory limit). Default `allkeys-lru`; `noeviction` for queue-like use. */
    readonly evictionPolicy?: "allkeys-lru" | "allkeys-lfu" | "volatile-lru" | "noeviction";
}

/** Scheduled logical backups of a SQL database to an S3 file store. */
export interface BackupArgs {
    /** The file store the dumps go to, under `backups/<service>/`. */
    readonly to: Service<"filestore">;
    /** Cron schedule. Default hourly at minute 17 (`17 * * * *`). */
    readonly schedule?: string;
    /** Days a dump is kept (S3 lifecycle on `backups/<service>/`). Default 30. */
    readonly retentionDays?: number;
    /** Deadline of one dump in seconds. Default 3600. */
    readonly activeDeadlineSeconds?: number;
}

/** Postgres or MySQL. */
export interface SqlArgs extends DataServiceArgs {
    /** Dump the database to a file store on a schedule (CronJob `<service>-backup`). Default none. */
    readonly backup?: BackupArgs;
    /** Database created at first start. Default `app`. */
    readonly database?: string;
    /** Application user. Default `app`. */
    readonly user?: string;
}

/** Memcached: a StatefulSet so each pod has a stable DNS name clients hash keys over; no volume. */
export interface MemcachedArgs {
    /** Pods. Default 1. */
    readonly replicas?: number;
    /** Cache memory per pod in MiB. Default 64. */
    readonly memoryMb?: number;
    readonly image?: string;
    readonly resources?: Resources;
    readonly placement?: Placement;
}

/** An S3 bucket (encrypted, public access blocked, versioned) with its own IAM user and access key. */
export interface FileStoreArgs {
    /** Keep old object versions. Default true. */
    readonly versioning?: boolean;
    /** Let `pulumi destroy` delete a non-empty bucket. Default false. */
    readonly forceDestroy?: boolean;
}

/** A service outside the cluster, reachable under a cluster DNS name (ExternalName). */
export interface ExternalArgs {
    /** External DNS name. */
    readonly host: string;
    /** Port. */
    readonly port: number;
    /** URL scheme for `<PREFIX>_URL`, e.g. `https`. Default none (no URL variable). */
    readonly scheme?: string;
}

/** The args type of each kind. */
export interface ArgsByKind {
    container: ContainerArgs;
    worker: WorkerArgs;
    daemonset: DaemonSetArgs;
    cronjob: CronJobArgs;
    job: JobArgs;
    postgres: SqlArgs;
    mysql: SqlArgs;
    redis: RedisArgs;
    memcached: MemcachedArgs;
    rabbitmq: DataServiceArgs;
    filestore: FileStoreArgs;
    external: ExternalArgs;
}

/** A resolved dependency edge. */
export interface Connection {
    readonly to: Service;
    /** Environment variable prefix. */
    readonly prefix: string;
}

/** `user-db` becomes `USER_DB`. */
export function envPrefix(serviceName: string): string {
    return serviceName.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/**
 * A service definition: a plain, frozen value. Create it with the factories in `./services`
 * (`container`, `postgres`, ...) and hand it to an `Application`. Its dependencies are fixed at creation.
 */
export class Service<K extends ServiceKind = ServiceKind> {
    /** The service's dependencies, in declaration order. */
    readonly connections: readonly Connection[];

    /** Use the factories in `./services`; this constructor is public only for them. */
    constructor(
        readonly kind: K,
        readonly name: string,
        readonly args: Readonly<ArgsByKind[K]>,
    ) {
        const connects = (args as { connects?: readonly Connect[] }).connects ?? [];
        this.connections = Object.freeze(
            connects.map((c) =>
                c instanceof Service
                    ? { to: c, prefix: envPrefix(c.name) }
                    : { to: c.to, prefix: c.as ?? envPrefix(c.to?.name ?? "") },
            ),
        );
        Object.freeze(this);
    }
}
