// `keelson:cluster`: the control plane (version, masters, endpoint, API access), the pod and service networks and
// the upgrade's waits; the worker pools are ./pools.ts. Every problem reported, with key, value and fix.
import { DEFAULT_KUBERNETES_VERSION, UPGRADE_TIMEOUT_BOUNDS } from "../cluster/types";
import { overlaps, parseCidr } from "../core/cidr";
import {
    isReleasedKubernetesVersion,
    KUBERNETES_VERSIONS_AS_OF,
    releasedRanges,
} from "../core/kubernetes-versions";
import { parseWorkerPools } from "./pools";
import { ConfigProblem } from "./problems";
import { DNS_LABEL, INSTANCE_TYPE_RULE, Reader } from "./reader";
import { ClusterConfig, NetworkConfig, UpgradeConfig } from "./types";

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
/** The default Kubernetes version (the Cluster component's). */
export { DEFAULT_KUBERNETES_VERSION };
/** Oldest minor Keelson renders kubeadm v1beta4 configuration for. */
export const MIN_KUBERNETES_MINOR = 31;
/** Most `cluster.apiAllowedCidrs` entries (each is a security group rule; AWS allows 60 per group). */
export const MAX_API_CIDRS = 50;

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

    const workerPools = parseWorkerPools(r, problems, dnsRule, dedicatedMasters);
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
