// Keelson's safe defaults for workloads (design decision 7), and the pod plan of every runnable kind.
import * as pulumi from "@pulumi/pulumi";
import { ConnectionPlan } from "./connections";
import { ENGINES, EngineContext, EngineKind } from "./render/engines";
import { EnvVar, envSecretName, secretEnv } from "./render/meta";
import { PodPlan, PodPort } from "./render/pod";
import { PoolInfo, podPlacement } from "./placement";
import { CONFIG_HASH, fileKey, sha256 } from "./hash";
import {
    ContainerArgs,
    DaemonSetArgs,
    DataServiceArgs,
    MemcachedArgs,
    Probe,
    Resources,
    Service,
    WorkerArgs,
    WorkloadArgs,
} from "./types";

/** Requests and limits of a container when none are given. */
export const DEFAULT_RESOURCES: Resources = {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "500m", memory: "256Mi" },
};

/** uid/gid/fsGroup of user containers: non-root and outside the range images usually create users in. */
export const DEFAULT_UID = 10001;

/** Readiness: every 5 s, out of rotation after 3 failures. */
function readiness(handler: Probe): Probe {
    return { ...handler, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 };
}

/** Liveness: slower and more tolerant than readiness, so a busy pod is drained before it is killed. */
function liveness(handler: Probe): Probe {
    return { ...handler, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 6 };
}

function handler(path: string | undefined, port: number): Probe {
    return path ? { httpGet: { path, port } } : { tcpSocket: { port } };
}

/** The probes of a user workload: overrides, else HTTP paths, else a command, else TCP on the port. */
export function workloadProbes(
    a: WorkloadArgs & { readinessPath?: string; livenessPath?: string; healthCommand?: readonly string[] },
    port: number | undefined,
    pathDefault?: string,
): { readinessProbe?: Probe; livenessProbe?: Probe } {
    const command = a.healthCommand ? { exec: { command: a.healthCommand } } : undefined;
    const ready = port !== undefined ? handler(a.readinessPath ?? pathDefault, port) : command;
    const live = port !== undefined ? handler(a.livenessPath ?? pathDefault, port) : command;
    return {
        readinessProbe: a.readinessProbe ?? (ready ? readiness(ready) : undefined),
        livenessProbe: a.livenessProbe ?? (live ? liveness(live) : undefined),
    };
}

/** The environment of a workload: plain env, secretEnv through its Secret, then each connection's variables. */
export function workloadEnv(s: Service, connections: readonly ConnectionPlan[]): EnvVar[] {
    const a = s.args as WorkloadArgs;
    const env: EnvVar[] = Object.entries(a.env ?? {}).map(([name, value]) => ({ name, value }));
    for (const name of Object.keys(a.secretEnv ?? {})) env.push(secretEnv(name, envSecretName(s.name), name));
    for (const c of connections) env.push(...c.env);
    return env;
}

/** Inputs the pod plan of a user workload takes besides the service. */
export interface WorkloadContext {
    readonly app: string;
    readonly image: pulumi.Input<string>;
    readonly connections: readonly ConnectionPlan[];
    /** Extra container ports (stream routes). */
    readonly extraPorts: readonly PodPort[];
    readonly replicas: number;
    /** Worker pools of the cluster (for placement by pool name). Default none known. */
    readonly pools?: readonly PoolInfo[];
    /** Mounted files and claims, and the pod template annotations (hashes). */
    readonly files?: PodPlan["files"];
    readonly claims?: PodPlan["claims"];
    readonly annotations?: PodPlan["annotations"];
    /** preStop applied when the service sets none (published services drain). Default none. */
    readonly preStopDefault?: PodPlan["preStop"];
}

/** The pod plan of a container, worker, DaemonSet or CronJob. */
export function userPodPlan(s: Service, ctx: WorkloadContext): PodPlan {
    const a = s.args as ContainerArgs & WorkerArgs & DaemonSetArgs;
    const port =
        s.kind === "worker" ? a.healthPort : s.kind === "cronjob" || s.kind === "job" ? undefined : a.port;
    const ports: PodPort[] = [];
    if (port !== undefined)
        ports.push({ name: s.kind === "worker" ? "health" : "main", containerPort: port, protocol: "TCP" });
    ports.push(...ctx.extraPorts);
    const probes =
        s.kind === "cronjob" || s.kind === "job"
            ? {}
            : workloadProbes(a, port, s.kind === "worker" ? "/" : undefined);
    return {
        app: ctx.app,
        service: s.name,
        component: s.kind,
        image: ctx.image,
        command: a.command,
        args: a.args,
        env: workloadEnv(s, ctx.connections),
        ports,
        resources: a.resources ?? DEFAULT_RESOURCES,
        ...probes,
        uid: a.runAsUser ?? DEFAULT_UID,
        readOnlyRootFilesystem: a.readOnlyRootFilesystem ?? true,
        writablePaths: a.writablePaths ?? [],
        automountServiceAccountToken: a.automountServiceAccountToken ?? false,
        waitFor: waitList(ctx.connections, s),
        topologySpread: a.topologySpread ?? ctx.replicas > 1,
        restartPolicy: s.kind === "cronjob" ? "OnFailure" : s.kind === "job" ? "Never" : undefined,
        ...(a.startupProbe ? { startupProbe: a.startupProbe } : {}),
        ...(a.preStop || ctx.preStopDefault ? { preStop: a.preStop ?? ctx.preStopDefault } : {}),
        ...(a.terminationGracePeriodSeconds !== undefined
            ? { terminationGracePeriodSeconds: a.terminationGracePeriodSeconds }
            : {}),
        ...podPlacement(a.placement, ctx.pools ?? [], false),
        ...(a.sidecars ? { sidecars: a.sidecars } : {}),
        ...(a.initContainers ? { userInitContainers: a.initContainers } : {}),
        ...(ctx.files ? { files: ctx.files } : {}),
        ...(ctx.claims ? { claims: ctx.claims } : {}),
        ...(ctx.annotations ? { annotations: ctx.annotations } : {}),
    };
}

function waitList(connections: readonly ConnectionPlan[], s: Service) {
    const out: { service: string; host: string; port: number }[] = [];
    connections.forEach((c, i) => {
        if (c.waitFor) out.push({ service: s.connections[i].to.name, ...c.waitFor });
    });
    return out;
}

/** The pod plan of a data service from its engine table. */
export function enginePodPlan(
    s: Service<EngineKind>,
    app: string,
    ctx: EngineContext,
    pools: readonly PoolInfo[] = [],
): PodPlan {
    const spec = ENGINES[s.kind];
    const a = s.args as DataServiceArgs & MemcachedArgs;
    const files = spec.files?.(ctx) ?? [];
    const replicas = s.kind === "memcached" ? (a.replicas ?? 1) : 1;
    const port = spec.port;
    return {
        app,
        service: s.name,
        component: s.kind,
        image: a.image ?? spec.image,
        args: spec.args?.(ctx),
        env: spec.env(ctx),
        ports: [{ name: s.kind === "rabbitmq" ? "amqp" : s.kind, containerPort: port, protocol: "TCP" }],
        resources: a.resources ?? memcachedResources(s, spec.resources, ctx.memoryMb),
        // Startup covers first-boot initialisation (initdb, mysqld --initialize) before liveness applies.
        startupProbe: { tcpSocket: { port }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 30 },
        // rabbitmq-diagnostics starts an Erlang node: under a 1-CPU limit it needs more than 5 s.
        readinessProbe: {
            ...spec.readiness(ctx),
            periodSeconds: 10,
            timeoutSeconds: s.kind === "rabbitmq" ? 10 : 5,
            failureThreshold: 3,
        },
        livenessProbe: { tcpSocket: { port }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
        uid: spec.uid,
        readOnlyRootFilesystem: true,
        writablePaths: spec.writable,
        dataMount: spec.dataPath ? { mountPath: spec.dataPath } : undefined,
        avoidControlPlane: spec.dataPath !== undefined,
        automountServiceAccountToken: false,
        waitFor: [],
        topologySpread: replicas > 1,
        ...podPlacement(a.placement, pools, spec.dataPath !== undefined),
        ...((a.terminationGracePeriodSeconds ?? spec.grace)
            ? { terminationGracePeriodSeconds: a.terminationGracePeriodSeconds ?? spec.grace }
            : {}),
        ...(files.length > 0
            ? {
                  files: {
                      configMap: `${s.name}-config`,
                      mounts: files.map((f) => ({ key: fileKey(f.path), path: f.path })),
                  },
                  annotations: { [CONFIG_HASH]: sha256(files) },
              }
            : {}),
    };
}

/** Memcached's memory limit follows its cache size (plus 64 MiB of overhead). */
function memcachedResources(s: Service, base: Resources, memoryMb: number): Resources {
    if (s.kind !== "memcached") return base;
    return {
        requests: { cpu: base.requests.cpu, memory: `${memoryMb + 32}Mi` },
        limits: { cpu: base.limits.cpu, memory: `${memoryMb + 64}Mi` },
    };
}
