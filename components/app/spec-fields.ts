// The fields of a declarative service, per kind: the same names and shapes as the TypeScript args in
// ./types (a service file is those args as data, with service names where the API takes service objects).
import { FieldType } from "./spec-check";
import { ServiceKind } from "./types";

const str: FieldType = "string";
const int: FieldType = "int";
const bool: FieldType = "bool";
const strings: FieldType = { list: "string" };
const strMap: FieldType = { map: "string" };

const quantities: FieldType = { object: { cpu: str, memory: str }, required: ["cpu", "memory"] };
const resources: FieldType = {
    object: { requests: quantities, limits: quantities },
    required: ["requests", "limits"],
};
const probe: FieldType = {
    object: {
        httpGet: {
            object: { path: str, port: int, scheme: { oneOf: ["HTTP", "HTTPS"] } },
            required: ["path", "port"],
        },
        tcpSocket: { object: { port: int }, required: ["port"] },
        exec: { object: { command: strings }, required: ["command"] },
        grpc: { object: { port: int, service: str }, required: ["port"] },
        initialDelaySeconds: int,
        periodSeconds: int,
        timeoutSeconds: int,
        failureThreshold: int,
        successThreshold: int,
    },
};
const image: FieldType = {
    anyOf: [str, { object: { context: str, dockerfile: str, platform: str }, required: ["context"] }],
    describe: 'an image reference ("repo:tag") or a build context ({ context: ./dir })',
};
const connect: FieldType = {
    anyOf: [str, { object: { to: str, as: str }, required: ["to"] }],
    describe: "a service name, or { to: <service>, as: <ENV_PREFIX> }",
};
const toleration: FieldType = {
    object: {
        key: str,
        operator: { oneOf: ["Equal", "Exists"] },
        value: str,
        effect: { oneOf: ["NoSchedule", "PreferNoSchedule", "NoExecute"] },
        tolerationSeconds: int,
    },
};
const placement: FieldType = {
    object: { pool: str, nodeSelector: strMap, tolerations: { list: toleration } },
};
const extraContainer: FieldType = {
    object: { name: str, image: str, command: strings, args: strings, env: strMap, resources },
    required: ["name", "image"],
};
const route: FieldType = {
    object: {
        kind: { oneOf: ["http", "tcp", "udp"] },
        hosts: strings,
        path: str,
        healthPath: str,
        websocket: bool,
        listenPort: int,
        port: int,
        nodePort: int,
    },
    required: ["kind"],
};

/** Fields every runnable kind (container, worker, daemonset, cronjob, job) takes. */
const WORKLOAD: Record<string, FieldType> = {
    image,
    command: strings,
    args: strings,
    env: strMap,
    // Values name secret config keys (`keelson:secret-<name>`), never the secret itself.
    secretEnv: strMap,
    connects: { list: connect },
    after: strings,
    files: strMap,
    volumes: {
        list: { object: { path: str, sizeGb: int, storageClass: str }, required: ["path", "sizeGb"] },
    },
    resources,
    readinessProbe: probe,
    livenessProbe: probe,
    startupProbe: probe,
    runAsUser: int,
    readOnlyRootFilesystem: bool,
    writablePaths: strings,
    automountServiceAccountToken: bool,
    podDisruptionBudget: bool,
    topologySpread: bool,
    maxUnavailable: int,
    maxSurge: int,
    strategy: { oneOf: ["RollingUpdate", "Recreate"] },
    minReadySeconds: int,
    progressDeadlineSeconds: int,
    preStop: { object: { sleepSeconds: int, command: strings } },
    terminationGracePeriodSeconds: int,
    placement,
    sidecars: { list: extraContainer },
    initContainers: { list: extraContainer },
};

const PUBLISH: Record<string, FieldType> = {
    expose: { oneOf: ["ClusterIP", "NodePort", "LoadBalancer"] },
    nodePort: int,
    routes: { list: route },
    allowFrom: strings,
};

const DATA: Record<string, FieldType> = {
    storageGb: int,
    storageClass: str,
    image: str,
    resources,
    placement,
    terminationGracePeriodSeconds: int,
};

/** The fields of each kind, besides `kind` itself. */
export const KIND_FIELDS: Readonly<Record<ServiceKind, Readonly<Record<string, FieldType>>>> = {
    container: {
        ...WORKLOAD,
        ...PUBLISH,
        port: int,
        replicas: int,
        readinessPath: str,
        livenessPath: str,
        autoscale: {
            object: {
                minReplicas: int,
                maxReplicas: int,
                cpuPercent: int,
                memoryPercent: int,
                behavior: "json",
            },
            required: ["minReplicas", "maxReplicas"],
        },
    },
    worker: {
        ...WORKLOAD,
        replicas: int,
        healthPort: int,
        readinessPath: str,
        livenessPath: str,
        healthCommand: strings,
    },
    daemonset: {
        ...WORKLOAD,
        ...PUBLISH,
        port: int,
        readinessPath: str,
        livenessPath: str,
        healthCommand: strings,
    },
    cronjob: { ...WORKLOAD, schedule: str, activeDeadlineSeconds: int },
    job: { ...WORKLOAD, backoffLimit: int, activeDeadlineSeconds: int },
    postgres: {
        ...DATA,
        database: str,
        user: str,
        backup: {
            object: { to: str, schedule: str, retentionDays: int, activeDeadlineSeconds: int },
            required: ["to"],
        },
    },
    mysql: {
        ...DATA,
        database: str,
        user: str,
        backup: {
            object: { to: str, schedule: str, retentionDays: int, activeDeadlineSeconds: int },
            required: ["to"],
        },
    },
    redis: {
        ...DATA,
        evictionPolicy: { oneOf: ["allkeys-lru", "allkeys-lfu", "volatile-lru", "noeviction"] },
    },
    rabbitmq: DATA,
    memcached: { replicas: int, memoryMb: int, image: str, resources, placement },
    filestore: { versioning: bool, forceDestroy: bool },
    external: { host: str, port: int, scheme: str },
};

/** Keys that are required per kind (checked before the graph is built). */
export const KIND_REQUIRED: Readonly<Partial<Record<ServiceKind, readonly string[]>>> = {
    container: ["image", "port"],
    worker: ["image"],
    daemonset: ["image"],
    cronjob: ["image", "schedule"],
    job: ["image"],
    external: ["host", "port"],
};
