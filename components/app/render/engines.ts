// What each official data-service image needs: pinned tag, its own uid/gid, where it writes, how to probe
// it, its credentials and what a dependent receives. Checked against the images' Dockerfiles and entrypoints.
import { Probe, Resources } from "../types";
import { EnvVar, SecretSource, credentialsSecretName, secretEnv } from "./meta";

/** The data-service kinds. */
export type EngineKind = "postgres" | "mysql" | "redis" | "memcached" | "rabbitmq";

/** Settings a dependent or the renderer needs from an engine's args. */
export interface EngineContext {
    readonly service: string;
    readonly host: string;
    readonly database: string;
    readonly user: string;
    readonly memoryMb: number;
    /** The container's memory limit in bytes (engines size their own memory under it). */
    readonly memoryLimitBytes: number;
    /** Redis eviction policy at maxmemory. */
    readonly evictionPolicy: string;
}

/** Bytes of a Kubernetes memory quantity (`512Mi`, `1Gi`, `1G`, `1048576`). */
export function quantityBytes(q: string): number {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
    if (!m) return NaN;
    const unit: Record<string, number> = {
        Ki: 2 ** 10,
        Mi: 2 ** 20,
        Gi: 2 ** 30,
        Ti: 2 ** 40,
        k: 1e3,
        M: 1e6,
        G: 1e9,
        T: 1e12,
    };
    return Math.floor(Number(m[1]) * (m[2] ? unit[m[2]] : 1));
}

/** A file an engine reads, mounted from the ConfigMap `<service>-config`. */
export interface EngineFile {
    readonly path: string;
    readonly content: string;
}

/** Everything the StatefulSet renderer needs about one engine. */
export interface EngineSpec {
    /** Official upstream image, pinned. */
    readonly image: string;
    readonly port: number;
    /** uid = gid = fsGroup of the image's own user. */
    readonly uid: number;
    /** Where the PVC is mounted; undefined for a cache without a volume. */
    readonly dataPath?: string;
    /** Directories the image writes besides the data dir (emptyDir each, /tmp always). */
    readonly writable: readonly string[];
    readonly resources: Resources;
    readonly args?: (ctx: EngineContext) => string[];
    readonly env: (ctx: EngineContext) => EnvVar[];
    /** The engine-side check: ready when the server accepts work, not merely the port. */
    readonly readiness: (ctx: EngineContext) => Probe;
    /** Keys of the credentials Secret; none for memcached. */
    readonly secret?: (ctx: EngineContext) => Record<string, SecretSource>;
    /** Variables a dependent receives besides `<P>_HOST` and `<P>_PORT`. */
    readonly connectionEnv: (prefix: string, ctx: EngineContext) => EnvVar[];
    /** Files the engine reads (init scripts, conf.d), from a ConfigMap. Default none. */
    readonly files?: (ctx: EngineContext) => EngineFile[];
    /** Seconds between SIGTERM and SIGKILL: time for a clean shutdown (checkpoint, flush). */
    readonly grace?: number;
}

/**
 * Creates the application's Postgres role: not a superuser, owner of the application database (so it
 * may create tables in its public schema). Runs once, at first start, from /docker-entrypoint-initdb.d
 * (sourced by the official entrypoint, which has POSTGRES_USER, POSTGRES_DB and the pod's env).
 */
export const POSTGRES_APP_ROLE_SCRIPT = [
    "# Keelson: the role handed to dependents is not the superuser.",
    'psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\',
    '    --set app_user="$APP_USER" --set app_password="$APP_PASSWORD" --set app_db="$POSTGRES_DB" <<-\'EOSQL\'',
    "\tCREATE ROLE :\"app_user\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';",
    '\tALTER DATABASE :"app_db" OWNER TO :"app_user";',
    '\tALTER SCHEMA public OWNER TO :"app_user";',
    "EOSQL",
    "",
].join("\n");

const creds = (ctx: EngineContext) => credentialsSecretName(ctx.service);
const tcp = (port: number): Probe => ({ tcpSocket: { port } });

/** The engines. Image tags are pinned to official images (never bitnami, never latest). */
export const ENGINES: Readonly<Record<EngineKind, EngineSpec>> = {
    postgres: {
        image: "postgres:17.6",
        port: 5432,
        uid: 999,
        // PGDATA in a sub directory: initdb refuses a mount point that holds lost+found.
        dataPath: "/var/lib/postgresql/data",
        writable: ["/var/run/postgresql"],
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        env: (ctx) => [
            { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
            { name: "POSTGRES_DB", value: ctx.database },
            // The superuser keeps the image's name and its own password; dependents get APP_USER.
            { name: "POSTGRES_USER", value: "postgres" },
            secretEnv("POSTGRES_PASSWORD", creds(ctx), "superuser-password"),
            { name: "APP_USER", value: ctx.user },
            secretEnv("APP_PASSWORD", creds(ctx), "password"),
        ],
        files: () => [
            { path: "/docker-entrypoint-initdb.d/10-app-role.sh", content: POSTGRES_APP_ROLE_SCRIPT },
        ],
        grace: 120,
        readiness: (ctx) => ({
            exec: {
                command: ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", ctx.user, "-d", ctx.database],
            },
        }),
        secret: (ctx) => ({
            username: { template: ctx.user },
            password: { generate: "password" },
            "superuser-password": { generate: "password" },
            url: { template: `postgres://${ctx.user}:{password}@${ctx.host}:5432/${ctx.database}` },
        }),
        connectionEnv: (p, ctx) => [
            { name: `${p}_NAME`, value: ctx.database },
            { name: `${p}_USER`, value: ctx.user },
            secretEnv(`${p}_PASSWORD`, creds(ctx), "password"),
            secretEnv(`${p}_URL`, creds(ctx), "url"),
        ],
    },
    mysql: {
        image: "mysql:8.4.6",
        port: 3306,
        uid: 999,
        // mysqld --initialize refuses a data dir that is not empty (the volume's lost+found), so the data
        // lives in a sub directory that mysqld creates itself (a kubelet-made subPath would be root-owned).
        dataPath: "/var/lib/mysql",
        // The socket and pid file, and secure_file_priv, which mysqld checks at start.
        writable: ["/var/run/mysqld", "/var/lib/mysql-files"],
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        args: () => ["mysqld", "--datadir=/var/lib/mysql/data"],
        env: (ctx) => [
            { name: "MYSQL_DATABASE", value: ctx.database },
            { name: "MYSQL_USER", value: ctx.user },
            secretEnv("MYSQL_PASSWORD", creds(ctx), "password"),
            secretEnv("MYSQL_ROOT_PASSWORD", creds(ctx), "root-password"),
        ],
        // The entrypoint's temporary server listens on the socket only, so this fails until init is done.
        readiness: () => ({ exec: { command: ["mysqladmin", "ping", "-h", "127.0.0.1", "--silent"] } }),
        grace: 120,
        secret: (ctx) => ({
            username: { template: ctx.user },
            password: { generate: "password" },
            "root-password": { generate: "password" },
            url: { template: `mysql://${ctx.user}:{password}@${ctx.host}:3306/${ctx.database}` },
        }),
        connectionEnv: (p, ctx) => [
            { name: `${p}_NAME`, value: ctx.database },
            { name: `${p}_USER`, value: ctx.user },
            secretEnv(`${p}_PASSWORD`, creds(ctx), "password"),
            secretEnv(`${p}_URL`, creds(ctx), "url"),
        ],
    },
    redis: {
        image: "redis:8.2.1",
        port: 6379,
        uid: 999,
        dataPath: "/data",
        writable: [],
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        // Kubernetes expands $(REDIS_PASSWORD) from the container's env, so no shell is needed.
        // maxmemory at 70% of the limit leaves room for the AOF-rewrite fork's copy-on-write pages.
        args: (ctx) => [
            "redis-server",
            "--appendonly",
            "yes",
            "--dir",
            "/data",
            "--maxmemory",
            String(Math.floor(ctx.memoryLimitBytes * 0.7)),
            "--maxmemory-policy",
            ctx.evictionPolicy,
            "--requirepass",
            "$(REDIS_PASSWORD)",
        ],
        grace: 60,
        env: (ctx) => [secretEnv("REDIS_PASSWORD", creds(ctx), "password")],
        readiness: () => ({
            exec: {
                command: ["sh", "-c", 'redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG'],
            },
        }),
        secret: (ctx) => ({
            password: { generate: "password" },
            url: { template: `redis://:{password}@${ctx.host}:6379/0` },
        }),
        connectionEnv: (p, ctx) => [
            secretEnv(`${p}_PASSWORD`, creds(ctx), "password"),
            secretEnv(`${p}_URL`, creds(ctx), "url"),
        ],
    },
    memcached: {
        image: "memcached:1.6.39",
        port: 11211,
        uid: 11211,
        writable: [],
        resources: { requests: { cpu: "100m", memory: "96Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
        args: (ctx) => ["memcached", "-m", String(ctx.memoryMb), "-c", "1024"],
        env: () => [],
        readiness: () => tcp(11211),
        connectionEnv: () => [],
    },
    rabbitmq: {
        image: "rabbitmq:4.1.4-management",
        port: 5672,
        uid: 999,
        // Also HOME: the Erlang cookie lives here, so the node keeps its identity across restarts.
        dataPath: "/var/lib/rabbitmq",
        // Console logging is the image's default; the log directory is still created at start.
        writable: ["/var/log/rabbitmq"],
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
        env: (ctx) => [
            { name: "RABBITMQ_DEFAULT_USER", value: ctx.user },
            secretEnv("RABBITMQ_DEFAULT_PASS", creds(ctx), "password"),
        ],
        readiness: () => ({ exec: { command: ["rabbitmq-diagnostics", "-q", "check_port_connectivity"] } }),
        // RabbitMQ does not always see the cgroup limit: the alarm is absolute, at 60% of the limit
        // (RABBITMQ_VM_MEMORY_HIGH_WATERMARK makes the entrypoint exit, so a conf.d file it is).
        files: (ctx) => [
            {
                path: "/etc/rabbitmq/conf.d/30-keelson.conf",
                content: `vm_memory_high_watermark.absolute = ${Math.floor(ctx.memoryLimitBytes * 0.6)}\n`,
            },
        ],
        grace: 120,
        secret: (ctx) => ({
            username: { template: ctx.user },
            password: { generate: "password" },
            url: { template: `amqp://${ctx.user}:{password}@${ctx.host}:5672/` },
        }),
        connectionEnv: (p, ctx) => [
            { name: `${p}_USER`, value: ctx.user },
            secretEnv(`${p}_PASSWORD`, creds(ctx), "password"),
            secretEnv(`${p}_URL`, creds(ctx), "url"),
        ],
    },
};

/** True for the kinds rendered from ENGINES. */
export function isEngine(kind: string): kind is EngineKind {
    return kind in ENGINES;
}
