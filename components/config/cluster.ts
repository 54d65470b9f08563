import { DEFAULT_KUBERNETES_VERSION, UPGRADE_TIMEOUT_BOUNDS } from "../cluster/types";
import { overlaps, parseCidr } from "../core/cidr";
import {
    isReleasedKubernetesVersion,
    KUBERNETES_VERSIONS_AS_OF,
    releasedRanges,
} from "../core/kubernetes-versions";
import { INSTANCE_SIZES } from "../score/instance-types";
import { ConfigProblem, show } from "./problems";
import { DNS_LABEL, INSTANCE_TYPE, Reader, StringTest } from "./reader";
import { MAX_SPOT_INSTANCE_TYPES, spotProblems } from "../cluster/spot";
import { autoscalerGroupTags, CA_NODE_TEMPLATE_PREFIX, CA_RELEASES } from "../cluster/render/autoscaler";
import { POOL_LABEL } from "../cluster/render/kubeadm";
import { ClusterConfig, NetworkConfig, SpotConfig, Taint, UpgradeConfig, WorkerPoolConfig } from "./types";

const KEYS = [
    "name",
    "kubernetesVersion",
    "masters",
    "masterInstanceType",
    "masterRootVolumeGb",
    "dedicatedMasters",
    "endpoint",
    "apiLoadBalancers",
    "apiAllowedCidrs",
    "podCidr",
    "serviceCidr",
    "workerPools",
    "upgrade",
] as const;
const UPGRADE_KEYS = ["healthTimeoutSeconds", "drainTimeoutSeconds"] as const;
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

/** The default Kubernetes version (the Cluster component's). */
export { DEFAULT_KUBERNETES_VERSION };
/** Oldest minor Keelson renders kubeadm v1beta4 configuration for. */
export const MIN_KUBERNETES_MINOR = 31;
/** Most worker pools a stage may have (each is a launch template and an Auto Scaling Group). */
export const MAX_POOLS = 20;
/** Most worker nodes a stage may have in total. */
export const MAX_WORKERS = 500;
/** Most `cluster.apiAllowedCidrs` entries (each is a security group rule; AWS allows 60 per group). */
export const MAX_API_CIDRS = 50;

/**
 * Instance types: the instance-type table the capacity and cost figures use
 * (components/score/instance-types.ts); a type outside it is refused rather than left unpriced.
 */
export const INSTANCE_TYPE_RULE = {
    pattern: { test: (v: string) => INSTANCE_TYPE.test(v) && Object.hasOwn(INSTANCE_SIZES, v) },
    fix: "is not an EC2 instance type Keelson knows; use a type from components/score/instance-types.ts such as t3.medium or m7i.large (or add yours there with its size and prices)",
};
const LABEL_KEY = {
    pattern: /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    fix: "is not a valid label key; use [prefix/]name with letters, digits, '-', '_' or '.'",
};

/** Parses `keelson:cluster`, with defaults by stage, reporting every problem. */
export function parseCluster(
    raw: unknown,
    ctx: { stage: string; production: boolean; network: NetworkConfig },
    problems: ConfigProblem[],
): ClusterConfig {
    const r = new Reader("cluster", raw, problems, KEYS);
    const dnsRule = {
        pattern: DNS_LABEL,
        fix: "is not DNS-safe; use lowercase letters, digits and '-', starting with a letter",
    };
    const name = r.string("name", `keelson-${ctx.stage}`.toLowerCase().replace(/[^a-z0-9-]/g, "-"), dnsRule);
    const kubernetesVersion = r.string("kubernetesVersion", DEFAULT_KUBERNETES_VERSION, {
        pattern: /^1\.\d+\.\d+$/,
        fix: `is not of the form 1.N.P; use a full version such as ${DEFAULT_KUBERNETES_VERSION}`,
    });
    const minor = Number(kubernetesVersion.split(".")[1]);
    if (minor < MIN_KUBERNETES_MINOR) {
        r.report(
            "cluster.kubernetesVersion",
            kubernetesVersion,
            `is older than 1.${MIN_KUBERNETES_MINOR}; use 1.${MIN_KUBERNETES_MINOR}.0 or newer`,
        );
    } else if (!isReleasedKubernetesVersion(kubernetesVersion)) {
        r.report(
            "cluster.kubernetesVersion",
            kubernetesVersion,
            `is not a released version with pkgs.k8s.io packages (known as of ${KUBERNETES_VERSIONS_AS_OF}: ${releasedRanges()}); use one of those`,
        );
    }
    const masters = readMasters(r, ctx.production ? 3 : 1);
    const masterInstanceType = r.string("masterInstanceType", "t3.medium", INSTANCE_TYPE_RULE);
    const masterRootVolumeGb = r.int("masterRootVolumeGb", 50, 20, 16384);
    const dedicatedMasters = r.bool("dedicatedMasters", ctx.production);
    const endpoint = r.oneOf(
        "endpoint",
        ["single", "nlb", "haproxy"] as const,
        masters === 1 ? "single" : "nlb",
    );
    if (endpoint === "single" && masters > 1) {
        r.report(
            "cluster.endpoint",
            endpoint,
            `cannot spread the API over ${masters} masters; use "nlb" or "haproxy"`,
        );
    }
    const apiLoadBalancers = r.int("apiLoadBalancers", 2, 1, 5);
    if (ctx.production && !r.has("apiAllowedCidrs") && r.raw("apiAllowedCidrs") !== null) {
        r.report(
            "cluster.apiAllowedCidrs",
            undefined,
            "is required in a production stage; list the CIDRs of your operators and CI, e.g. [203.0.113.0/24]",
        );
    }
    const seenCidrs = new Set<string>();
    const apiAllowedCidrs = r.list<string>(
        "apiAllowedCidrs",
        ["0.0.0.0/0"],
        (path, c) => {
            if (typeof c !== "string" || !parseCidr(c)) {
                r.report(path, c, "is not an IPv4 CIDR block; use a network address such as 203.0.113.0/24");
            } else if (seenCidrs.has(c)) {
                // Two identical security group rules: AWS refuses the second.
                r.report(path, c, "is listed twice; list each CIDR once");
            } else if (ctx.production && parseCidr(c)?.prefix === 0) {
                r.report(
                    path,
                    c,
                    "opens the Kubernetes API to the whole internet in a production stage; list the CIDRs of your operators and CI",
                );
            } else {
                seenCidrs.add(c);
                return c;
            }
            return undefined;
        },
        MAX_API_CIDRS,
    );
    if (ctx.production && Array.isArray(r.raw("apiAllowedCidrs")) && apiAllowedCidrs.length === 0) {
        const raw = r.raw("apiAllowedCidrs") as unknown[];
        if (raw.length === 0)
            r.report(
                "cluster.apiAllowedCidrs",
                raw,
                "is empty in a production stage; list the CIDRs of your operators and CI, e.g. [203.0.113.0/24]",
            );
    }
    if (masters >= 3 && ctx.network.availabilityZones.length < 3 && ctx.production) {
        r.report(
            "network.availabilityZones",
            ctx.network.availabilityZones,
            `has ${ctx.network.availabilityZones.length} zones for ${masters} masters; list 3 zones so that etcd keeps quorum when one zone fails`,
        );
    }

    const cidrRule = (key: string, fallback: string) => {
        const text = r.string(key, fallback);
        const parsed = parseCidr(text);
        if (!parsed)
            r.report(
                r.at(key),
                text,
                "is not an IPv4 CIDR block; use a network address such as 10.96.0.0/12",
            );
        return { text, parsed };
    };
    const pod = cidrRule("podCidr", "192.168.0.0/16");
    const svc = cidrRule("serviceCidr", "10.96.0.0/12");
    const vpc = parseCidr(ctx.network.cidr);
    for (const [key, c] of [
        ["podCidr", pod],
        ["serviceCidr", svc],
    ] as const) {
        if (c.parsed && vpc && overlaps(c.parsed, vpc)) {
            r.report(
                r.at(key),
                c.text,
                `overlaps network.cidr ${ctx.network.cidr}; pick a block outside the VPC`,
            );
        }
    }
    if (pod.parsed && svc.parsed && overlaps(pod.parsed, svc.parsed)) {
        r.report(
            "cluster.serviceCidr",
            svc.text,
            `overlaps cluster.podCidr ${pod.text}; pick separate blocks`,
        );
    }

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
    return {
        name,
        kubernetesVersion,
        masters,
        masterInstanceType,
        masterRootVolumeGb,
        dedicatedMasters,
        endpoint,
        apiLoadBalancers,
        apiAllowedCidrs,
        podCidr: pod.text,
        serviceCidr: svc.text,
        workerPools,
        upgrade: parseUpgrade(r, problems),
    };
}

/** `cluster.upgrade`: the waits of each master's in-place upgrade, each within {@link UPGRADE_TIMEOUT_BOUNDS}. */
function parseUpgrade(cluster: Reader, problems: ConfigProblem[]): UpgradeConfig {
    const r = new Reader(cluster.at("upgrade"), cluster.raw("upgrade"), problems, UPGRADE_KEYS);
    const { min, max } = UPGRADE_TIMEOUT_BOUNDS;
    return {
        healthTimeoutSeconds: r.int("healthTimeoutSeconds", 600, min, max),
        drainTimeoutSeconds: r.int("drainTimeoutSeconds", 600, min, max),
    };
}

function readMasters(r: Reader, fallback: number): number {
    const v = r.raw("masters");
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v)) {
        r.report("cluster.masters", v, "is not a whole number; use 1 or an odd number >= 3");
    } else if (v <= 0) {
        r.report("cluster.masters", v, "leaves no control plane; use 1 or an odd number >= 3");
    } else if (v % 2 === 0) {
        r.report("cluster.masters", v, "is even; use 1 or an odd number >= 3");
    } else if (v > 7) {
        r.report("cluster.masters", v, "is more than 7; etcd slows down with every member, use 3, 5 or 7");
    } else {
        return v;
    }
    return fallback;
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
