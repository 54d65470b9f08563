// The typed service graph: service definitions are immutable objects, and a dependency is a reference to
// a service object that already exists. There is no API to add an edge later, so a cycle cannot be written.
import * as pulumi from "@pulumi/pulumi";

/** Every kind of service an Application can run. */
export type ServiceKind =
    | "container"
    | "worker"
    | "daemonset"
    | "cronjob"
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

/** A probe as Kubernetes spells it (one of httpGet, tcpSocket, exec). https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/ */
export interface Probe {
    readonly httpGet?: { readonly path: string; readonly port: number };
    readonly tcpSocket?: { readonly port: number };
    readonly exec?: { readonly command: readonly string[] };
    readonly initialDelaySeconds?: number;
    readonly periodSeconds?: number;
    readonly timeoutSeconds?: number;
    readonly failureThreshold?: number;
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
        readonly cpuPercent?: number;
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
}

/** Scheduled logical backups of a SQL database to an S3 file store. */
export interface BackupArgs {
    /** The file store the dumps go to, under `backups/<service>/`. */
    readonly to: Service<"filestore">;
    /** Cron schedule. Default hourly at minute 17 (`17 * * * *`). */
    readonly schedule?: string;
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
    postgres: SqlArgs;
    mysql: SqlArgs;
    redis: DataServiceArgs;
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
