// What a dependent receives for each edge: environment variables (credentials only through secretKeyRef),
// the TCP port to wait for, and the network path to open.
import { ENGINES, EngineContext, isEngine, quantityBytes } from "./render/engines";
import { EnvVar, credentialsSecretName, secretEnv, serviceHost } from "./render/meta";
import { PolicyPort } from "./render/objects";
import {
    ContainerArgs,
    DaemonSetArgs,
    ExternalArgs,
    MemcachedArgs,
    RedisArgs,
    Service,
    SqlArgs,
} from "./types";

/** Defaults of the SQL engines' database and user. */
export const DEFAULT_DATABASE = "app";
/** Default application user of the data services. */
export const DEFAULT_USER = "app";

/** How a dependent reaches one dependency. */
export interface ConnectionPlan {
    readonly env: readonly EnvVar[];
    /** In-cluster TCP endpoint to wait for before the dependent starts; undefined for S3 and external services. */
    readonly waitFor?: { readonly host: string; readonly port: number };
    /** Ports to open from the dependent to the dependency. */
    readonly ports: readonly PolicyPort[];
    /** True when the dependency is outside the cluster (S3, external): egress to any address on `ports`. */
    readonly outside: boolean;
}

/** The port a dependent connects to, or undefined when the service has none (worker, cronjob). */
export function servicePort(s: Service): number | undefined {
    if (isEngine(s.kind)) return ENGINES[s.kind].port;
    if (s.kind === "container" || s.kind === "daemonset")
        return (s.args as ContainerArgs | DaemonSetArgs).port;
    if (s.kind === "external") return (s.args as ExternalArgs).port;
    if (s.kind === "filestore") return 443;
    return undefined;
}

/** The context the engine tables render with. */
export function engineContext(s: Service, namespace: string): EngineContext {
    const sql = s.args as SqlArgs & MemcachedArgs & RedisArgs;
    const limit =
        sql.resources?.limits.memory ?? (isEngine(s.kind) ? ENGINES[s.kind].resources.limits.memory : "0");
    return {
        service: s.name,
        host: serviceHost(s.name, namespace),
        database: sql.database ?? DEFAULT_DATABASE,
        user: sql.user ?? DEFAULT_USER,
        memoryMb: sql.memoryMb ?? 64,
        memoryLimitBytes: quantityBytes(limit),
        evictionPolicy: sql.evictionPolicy ?? "allkeys-lru",
    };
}

/**
 * Everything the dependent gets from an edge to `to` with variable prefix `p`. With `webIdentity`, a file
 * store hands out no access key: the dependent assumes a role of its own (see web-identity in plan.ts).
 */
export function planConnection(
    to: Service,
    p: string,
    namespace: string,
    webIdentity = false,
): ConnectionPlan {
    const host = serviceHost(to.name, namespace);
    const port = servicePort(to) ?? 0;
    const tcp: PolicyPort[] = [{ protocol: "TCP", port }];
    const base: EnvVar[] = [
        { name: `${p}_HOST`, value: host },
        { name: `${p}_PORT`, value: String(port) },
    ];
    if (to.kind === "filestore") {
        const secret = credentialsSecretName(to.name);
        return {
            env: [
                secretEnv(`${p}_BUCKET`, secret, "bucket"),
                secretEnv(`${p}_REGION`, secret, "region"),
                ...(webIdentity
                    ? []
                    : [
                          secretEnv(`${p}_ACCESS_KEY_ID`, secret, "access-key-id"),
                          secretEnv(`${p}_SECRET_ACCESS_KEY`, secret, "secret-access-key"),
                      ]),
                secretEnv(`${p}_URL`, secret, "url"),
            ],
            ports: tcp,
            outside: true,
        };
    }
    if (to.kind === "external") {
        const a = to.args as ExternalArgs;
        // The URL names the real host so that TLS clients verify the right certificate.
        const url = a.scheme ? [{ name: `${p}_URL`, value: `${a.scheme}://${a.host}:${a.port}` }] : [];
        return { env: [...base, ...url], ports: tcp, outside: true };
    }
    if (isEngine(to.kind)) {
        const ctx = engineContext(to, namespace);
        const extra =
            to.kind === "memcached"
                ? [{ name: `${p}_SERVERS`, value: memcachedServers(to, namespace).join(",") }]
                : ENGINES[to.kind].connectionEnv(p, ctx);
        return { env: [...base, ...extra], waitFor: { host, port }, ports: tcp, outside: false };
    }
    return {
        env: [...base, { name: `${p}_URL`, value: `http://${host}:${port}` }],
        waitFor: { host, port },
        ports: tcp,
        outside: false,
    };
}

/** Stable per-pod addresses of a memcached StatefulSet, which clients hash keys over. */
export function memcachedServers(s: Service, namespace: string): string[] {
    const replicas = (s.args as MemcachedArgs).replicas ?? 1;
    return Array.from(
        { length: replicas },
        (_, i) => `${s.name}-${i}.${s.name}-headless.${namespace}.svc:11211`,
    );
}

/** Credentials Secret keys of an S3 file store whose consumers assume roles of their own: where it is. */
export const FILE_STORE_LOCATION_KEYS = {
    bucket: { fileStore: "bucket" },
    region: { fileStore: "region" },
    url: { fileStore: "url" },
} as const;

/** Credentials Secret keys of an S3 file store with an IAM user's access key. */
export const FILE_STORE_SECRET_KEYS = {
    ...FILE_STORE_LOCATION_KEYS,
    "access-key-id": { fileStore: "accessKeyId" },
    "secret-access-key": { fileStore: "secretAccessKey" },
} as const;
