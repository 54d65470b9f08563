// `cluster.workerPools`: each pool (name, size, labels, taints, Spot), the pools together (names, node counts),
// and what the cluster-autoscaler's tags allow. Every problem reported, with key, value and fix.
import { MAX_SPOT_INSTANCE_TYPES, spotProblems } from "../cluster/spot";
import { autoscalerGroupTags, CA_NODE_TEMPLATE_PREFIX, CA_RELEASES } from "../cluster/render/autoscaler";
import { POOL_LABEL } from "../cluster/render/kubeadm";
import { ConfigProblem, show } from "./problems";
import { INSTANCE_TYPE_RULE, Reader, StringTest } from "./reader";
import { ClusterConfig, SpotConfig, Taint, WorkerPoolConfig } from "./types";

/** Most worker pools a stage may have (each is a launch template and an Auto Scaling Group). */
export const MAX_POOLS = 20;
/** Most worker nodes a stage may have in total. */
export const MAX_WORKERS = 500;
/** Node names are `<pool>-<index>`; these would collide with masters and API load balancer hosts. */
const RESERVED_POOL_NAMES = ["master", "api-lb"];
// The NodeRestriction admission plugin rejects self-set labels under kubernetes.io / k8s.io except these.
const KUBELET_RESTRICTED = /(^|\.)(kubernetes\.io|k8s\.io)\//;
const KUBELET_ALLOWED = /^(kubelet\.kubernetes\.io|node\.kubernetes\.io)\//;
const POOL_KEYS = [
    "name",
    "instanceType",
    "count",
    "minSize",
    "maxSize",
    "labels",
    "taints",
    "rootVolumeGb",
    "spot",
] as const;
const SPOT_KEYS = [
    "instanceTypes",
    "onDemandBase",
    "onDemandPercentAboveBase",
    "allocationStrategy",
] as const;
const SPOT_STRATEGIES = [
    "price-capacity-optimized",
    "capacity-optimized",
    "capacity-optimized-prioritized",
    "lowest-price",
] as const;
const TAINT_KEYS = ["key", "value", "effect"] as const;

const LABEL_KEY = {
    pattern: /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    fix: "is not a valid label key; use [prefix/]name with letters, digits, '-', '_' or '.'",
};

/** `cluster.workerPools` of the cluster reader `r`: each pool, then names, labels and node counts across them. */
export function parseWorkerPools(
    r: Reader,
    problems: ConfigProblem[],
    dnsRule: { pattern: StringTest; fix: string },
    dedicatedMasters: boolean,
): WorkerPoolConfig[] {
    const workerPools = r.list(
        "workerPools",
        [defaultPool()],
        (path, item) => parsePool(path, item, problems, dnsRule),
        MAX_POOLS,
    );
    const seen = new Set<string>();
    workerPools.forEach((p, i) => {
        if (RESERVED_POOL_NAMES.includes(p.name)) {
            r.report(
                `cluster.workerPools[${i}].name`,
                p.name,
                "is reserved for control-plane and API nodes; pick another pool name",
            );
        }
        for (const key of Object.keys(p.labels)) {
            if (KUBELET_RESTRICTED.test(key) && !KUBELET_ALLOWED.test(key)) {
                r.report(
                    `cluster.workerPools[${i}].labels.${key}`,
                    key,
                    "is in a namespace the kubelet may not set on its own node; use your own prefix such as keelson.io/ or node.kubernetes.io/",
                );
            }
        }
        if (seen.has(p.name))
            r.report(
                `cluster.workerPools[${i}].name`,
                p.name,
                "is used by another pool; give each pool its own name",
            );
        seen.add(p.name);
    });
    const workers = workerPools.reduce((n, p) => n + p.count, 0);
    if (workers > MAX_WORKERS) {
        r.report(
            "cluster.workerPools",
            workers,
            `has more than ${MAX_WORKERS} worker nodes in total; use at most ${MAX_WORKERS} (split the stage, or use larger instance types)`,
            `(${workers} nodes)`,
        );
    }
    if (workers === 0 && dedicatedMasters) {
        r.report(
            "cluster.workerPools",
            workerPools.map((p) => p.name),
            "has no nodes and the masters are dedicated, so nothing can run workloads; add workers or set cluster.dedicatedMasters: false",
        );
    }
    return workerPools;
}

function defaultPool(): WorkerPoolConfig {
    return {
        name: "general",
        instanceType: "t3.medium",
        count: 1,
        minSize: 1,
        maxSize: 1,
        labels: {},
        taints: [],
        rootVolumeGb: 30,
    };
}

function parsePool(
    path: string,
    raw: unknown,
    problems: ConfigProblem[],
    dnsRule: { pattern: StringTest; fix: string },
): WorkerPoolConfig {
    const r = new Reader(path, raw, problems, POOL_KEYS);
    if (!r.has("name")) r.report(r.at("name"), undefined, "is required; name the pool, e.g. general");
    const taints = r.list<Taint>("taints", [], (tpath, t) => {
        const tr = new Reader(tpath, t, problems, TAINT_KEYS);
        const key = tr.string("key", "", LABEL_KEY);
        if (!key) tr.report(tr.at("key"), undefined, "is required; name the taint key");
        const value = tr.optionalString("value");
        const effect = tr.oneOf(
            "effect",
            ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const,
            "NoSchedule",
        );
        return value === undefined ? { key, effect } : { key, value, effect };
    });
    const count = r.int("count", 1, 0, 100);
    const minSize = r.int("minSize", count, 0, 100);
    const maxSize = r.int("maxSize", count, 0, 100);
    if (minSize > count) {
        r.report(
            r.at("minSize"),
            minSize,
            `is more than count ${count}; the group would start below its minimum: lower minSize to ${count} or less, or raise count`,
        );
    }
    if (maxSize < count) {
        r.report(
            r.at("maxSize"),
            maxSize,
            `is less than count ${count}; the group could not run that many nodes: raise maxSize to ${count} or more, or lower count`,
        );
    }
    const spotRaw = r.raw("spot");
    const spotTypes =
        spotRaw && typeof spotRaw === "object" && !Array.isArray(spotRaw)
            ? (spotRaw as Record<string, unknown>).instanceTypes
            : undefined;
    // Without instanceType, a Spot pool's first listed type is its instanceType.
    const firstSpotType =
        Array.isArray(spotTypes) &&
        typeof spotTypes[0] === "string" &&
        INSTANCE_TYPE_RULE.pattern.test(spotTypes[0])
            ? spotTypes[0]
            : undefined;
    const instanceType = r.string("instanceType", firstSpotType ?? "t3.medium", INSTANCE_TYPE_RULE);
    const spot = parseSpot(r, instanceType, maxSize, problems);
    return {
        name: r.string("name", "general", dnsRule),
        instanceType,
        count,
        minSize,
        maxSize,
        labels: r.stringMap("labels", LABEL_KEY),
        taints,
        rootVolumeGb: r.int("rootVolumeGb", 30, 20, 16384),
        ...(spot ? { spot } : {}),
    };
}

/** A pool's `spot`: `true` (every default), `false` (none) or a mapping; every problem reported. */
function parseSpot(
    pool: Reader,
    instanceType: string,
    maxSize: number,
    problems: ConfigProblem[],
): SpotConfig | undefined {
    const raw = pool.raw("spot");
    if (raw === undefined || raw === null || raw === false) return undefined;
    const path = pool.at("spot");
    const r = new Reader(path, raw === true ? {} : raw, problems, SPOT_KEYS);
    let typesOk = true;
    const instanceTypes = r.list<string>(
        "instanceTypes",
        [instanceType],
        (p, t) => {
            if (typeof t === "string" && INSTANCE_TYPE_RULE.pattern.test(t)) return t;
            r.report(p, t, INSTANCE_TYPE_RULE.fix);
            typesOk = false;
            return undefined;
        },
        MAX_SPOT_INSTANCE_TYPES,
    );
    if (
        Array.isArray(r.raw("instanceTypes")) &&
        (r.raw("instanceTypes") as unknown[]).length > MAX_SPOT_INSTANCE_TYPES
    )
        typesOk = false;
    const spot: SpotConfig = {
        instanceTypes,
        onDemandBase: r.int("onDemandBase", 0, 0, 100),
        onDemandPercentAboveBase: r.int("onDemandPercentAboveBase", 0, 0, 100),
        allocationStrategy: r.oneOf("allocationStrategy", SPOT_STRATEGIES, "price-capacity-optimized"),
    };
    // The set as a whole (order, architecture, size, base), once every listed type is readable.
    if (typesOk)
        for (const p of spotProblems(path, instanceType, spot, maxSize)) r.report(p.key, p.value, p.fix);
    return spot;
}

/** Tags a pool's group carries besides its node-template tags (stage, cluster, role, pool, drain, Name, discovery). */
const GROUP_BASE_TAGS = 10;
/** EC2 Auto Scaling's limits: 50 tags per group, 128 characters per tag key. */
const MAX_GROUP_TAGS = 50;
const MAX_TAG_KEY = 128;

/**
 * `addons.clusterAutoscaler: true` against the cluster: a pool it can size (minSize below maxSize), a pinned
 * autoscaler release for the cluster's minor, and node-template tags that fit EC2 Auto Scaling's limits (one
 * per label and taint of each pool).
 */
export function checkClusterAutoscaler(cluster: ClusterConfig, problems: ConfigProblem[]): void {
    const report = (key: string, value: unknown, fix: string) =>
        problems.push({ key, value, message: `${key}: ${show(value)} ${fix}` });
    if (!cluster.workerPools.some((p) => p.minSize < p.maxSize)) {
        report(
            "addons.clusterAutoscaler",
            true,
            "has no pool to size: every pool's minSize equals its maxSize; give a pool room (e.g. minSize: 1, maxSize: 6) or remove addons.clusterAutoscaler",
        );
    }
    const minor = Number(cluster.kubernetesVersion.split(".")[1]);
    if (!CA_RELEASES[minor]) {
        report(
            "addons.clusterAutoscaler",
            true,
            `has no pinned cluster-autoscaler release for Kubernetes ${cluster.kubernetesVersion} (its minor must be the cluster's); use cluster.kubernetesVersion 1.${Object.keys(CA_RELEASES).join(", 1.")}, or remove addons.clusterAutoscaler`,
        );
    }
    cluster.workerPools.forEach((p, i) => {
        const path = `cluster.workerPools[${i}]`;
        const template = autoscalerGroupTags(cluster.name, {
            labels: { [POOL_LABEL]: p.name, ...p.labels },
            taints: p.taints,
        });
        const tooLong = (key: string, name: string, value: unknown) => {
            const length = `${CA_NODE_TEMPLATE_PREFIX}/label/${name}`.length;
            if (length > MAX_TAG_KEY)
                report(
                    key,
                    value,
                    `makes the cluster-autoscaler's node-template tag key ${length} characters long, past EC2 Auto Scaling's ${MAX_TAG_KEY}; use a key of at most ${MAX_TAG_KEY - (length - name.length)} characters`,
                );
        };
        for (const k of Object.keys(p.labels)) tooLong(`${path}.labels.${k}`, k, k);
        p.taints.forEach((t, j) => tooLong(`${path}.taints[${j}].key`, t.key, t.key));
        const count = GROUP_BASE_TAGS + Object.keys(template).length - 2;
        if (count > MAX_GROUP_TAGS) {
            report(
                path,
                p.name,
                `needs ${count} tags on its group with the cluster-autoscaler (one per label and taint), past EC2 Auto Scaling's ${MAX_GROUP_TAGS}; use at most ${MAX_GROUP_TAGS - GROUP_BASE_TAGS - 1} labels and taints together`,
            );
        }
    });
}
