// Factories of service definitions. Each returns a frozen Service; dependencies are passed at creation
// (`connects`), so a service can only depend on services that already exist and a cycle cannot be written.
import {
    ContainerArgs,
    CronJobArgs,
    DaemonSetArgs,
    DataServiceArgs,
    ExternalArgs,
    FileStoreArgs,
    JobArgs,
    MemcachedArgs,
    RedisArgs,
    Service,
    SqlArgs,
    WorkerArgs,
} from "./types";

/** A long-running container with a port: Deployment, Service, PDB/spread when replicated, optional HPA and routes. */
export function container(name: string, args: ContainerArgs): Service<"container"> {
    return new Service("container", name, args);
}

/** A background worker without a Service: Deployment only. */
export function worker(name: string, args: WorkerArgs): Service<"worker"> {
    return new Service("worker", name, args);
}

/** One pod per node: DaemonSet, and a Service when it has a port. */
export function daemonSet(name: string, args: DaemonSetArgs): Service<"daemonset"> {
    return new Service("daemonset", name, args);
}

/** A scheduled job: CronJob (concurrency Forbid). */
export function cronJob(name: string, args: CronJobArgs): Service<"cronjob"> {
    return new Service("cronjob", name, args);
}

/**
 * A one-off Job, e.g. a migration: `job("migrate", { image, command, connects: [db] })`, then
 * `container("web", { ..., after: [migrate] })` rolls web only once the Job has completed.
 */
export function job(name: string, args: JobArgs): Service<"job"> {
    return new Service("job", name, args);
}

/** Postgres from the official image (`postgres:17.6`), on a PVC, with generated credentials. */
export function postgres(name: string, args: SqlArgs = {}): Service<"postgres"> {
    return new Service("postgres", name, args);
}

/** MySQL from the official image (`mysql:8.4.6`), on a PVC, with generated credentials. */
export function mysql(name: string, args: SqlArgs = {}): Service<"mysql"> {
    return new Service("mysql", name, args);
}

/** Redis from the official image (`redis:8.2.1`), append-only file on a PVC, password required. */
export function redis(name: string, args: RedisArgs = {}): Service<"redis"> {
    return new Service("redis", name, args);
}

/** Memcached from the official image (`memcached:1.6.39`), no volume. */
export function memcached(name: string, args: MemcachedArgs = {}): Service<"memcached"> {
    return new Service("memcached", name, args);
}

/** RabbitMQ from the official image (`rabbitmq:4.1.4-management`), on a PVC, with generated credentials. */
export function rabbitmq(name: string, args: DataServiceArgs = {}): Service<"rabbitmq"> {
    return new Service("rabbitmq", name, args);
}

/** An S3 bucket (encrypted, public access blocked, versioned) and an IAM user allowed only on it. */
export function fileStore(name: string, args: FileStoreArgs = {}): Service<"filestore"> {
    return new Service("filestore", name, args);
}

/** A service outside the cluster under a cluster DNS name (ExternalName Service). */
export function externalService(name: string, args: ExternalArgs): Service<"external"> {
    return new Service("external", name, args);
}
