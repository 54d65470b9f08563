// The Elastic IP budget: AWS allows 5 per region and account by default, and Keelson's stages draw on
// the same pool when they share a region. Counted from the stage config alone. Pure.
import { StageConfig } from "./types";

/** AWS's default Elastic IP quota per region (Service Quotas `L-0263D0A3`, "EC2-VPC Elastic IPs"). */
export const DEFAULT_EIP_QUOTA = 5;

/** The Elastic IPs one stage allocates, by what holds them. */
export interface StageElasticIps {
    readonly stage: string;
    readonly region: string;
    /** One per NAT gateway: 1 (`single`) or one per zone (`perAz`). */
    readonly nat: number;
    /** One per edge host. */
    readonly edge: number;
    /** master 0's (`single` endpoint) or one per HAProxy API host; none behind an NLB. */
    readonly api: number;
    readonly total: number;
}

/** What `stage` allocates (an app-only stage on an existing cluster: none). */
export function stageElasticIps(c: StageConfig): StageElasticIps {
    if (c.existingCluster) return { stage: c.stage, region: c.region, nat: 0, edge: 0, api: 0, total: 0 };
    const nat = c.network.natGateways === "perAz" ? c.network.availabilityZones.length : 1;
    const edge = c.edge.count;
    const api =
        c.cluster.endpoint === "single"
            ? 1
            : c.cluster.endpoint === "haproxy"
              ? c.cluster.apiLoadBalancers
              : 0;
    return { stage: c.stage, region: c.region, nat, edge, api, total: nat + edge + api };
}

/**
 * One warning when the stages that share `current`'s region need more Elastic IPs than `quota`
 * (default {@link DEFAULT_EIP_QUOTA}), naming each stage's count (by stage name) and the fix; none otherwise.
 */
export function elasticIpWarnings(
    stages: readonly StageElasticIps[],
    current: string,
    quota = DEFAULT_EIP_QUOTA,
): string[] {
    const here = stages.find((s) => s.stage === current);
    if (!here) return [];
    const region = stages
        .filter((s) => s.region === here.region)
        .sort((a, b) => a.stage.localeCompare(b.stage));
    const total = region.reduce((n, s) => n + s.total, 0);
    if (total <= quota) return [];
    const parts = region.map((s) => `${s.stage} ${s.total} (${s.nat} NAT, ${s.edge} edge, ${s.api} API)`);
    return [
        `Elastic IPs: the stages in ${here.region} need ${total} (${parts.join(", ")}), more than the default quota of ${quota} per region: ` +
            `request an increase of "EC2-VPC Elastic IPs" (L-0263D0A3) in Service Quotas before pulumi up, or put the stages in different regions.`,
    ];
}
