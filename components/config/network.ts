import { Cidr, contains, defaultSubnets, overlaps, parseCidr } from "../core/cidr";
import { ConfigProblem } from "./problems";
import { MAX_AVAILABILITY_ZONES, zonesOf } from "../core/regions";
import { Reader } from "./reader";
import { NetworkConfig } from "./types";

const KEYS = ["cidr", "availabilityZones", "natGateways", "publicSubnets", "privateSubnets"] as const;

/** Parses `keelson:network`, with defaults by stage, reporting every problem. */
export function parseNetwork(
    raw: unknown,
    ctx: { region: string; production: boolean; zonesByDefault: number },
    problems: ConfigProblem[],
): NetworkConfig {
    const r = new Reader("network", raw, problems, KEYS);
    const cidrText = r.string("cidr", "10.0.0.0/16");
    let vpc = parseCidr(cidrText);
    if (!vpc) {
        r.report(
            "network.cidr",
            cidrText,
            "is not an IPv4 CIDR block; use a network address such as 10.0.0.0/16",
        );
    } else if (vpc.prefix < 16 || vpc.prefix > 22) {
        r.report(
            "network.cidr",
            cidrText,
            "has a prefix outside /16 to /22; AWS VPCs are /16 or smaller and Keelson needs room for subnets",
        );
        vpc = undefined;
    }
    // The first zones of the region in the table (ap-northeast-1 has no "b" zone for new accounts).
    const fallbackZones = zonesOf(ctx.region).slice(0, ctx.zonesByDefault);
    const zones = r.list(
        "availabilityZones",
        fallbackZones,
        (path, z) => {
            if (typeof z === "string" && zonesOf(ctx.region).includes(z)) return z;
            r.report(
                path,
                z,
                `is not an availability zone of ${ctx.region}; use one of ${zonesOf(ctx.region).join(", ")}`,
            );
            return undefined;
        },
        MAX_AVAILABILITY_ZONES,
    );
    const rawZones = r.raw("availabilityZones");
    if (Array.isArray(rawZones) && rawZones.length === 0) {
        r.report("network.availabilityZones", r.raw("availabilityZones"), "is empty; list at least one zone");
    }
    if (new Set(zones).size !== zones.length) {
        r.report("network.availabilityZones", zones, "lists a zone twice; list each zone once");
    }
    const natGateways = r.oneOf(
        "natGateways",
        ["single", "perAz"] as const,
        ctx.production ? "perAz" : "single",
    );

    const defaults =
        vpc && zones.length <= MAX_AVAILABILITY_ZONES
            ? defaultSubnets(vpc, zones.length)
            : { publicSubnets: [], privateSubnets: [] };
    const publicSubnets = subnetList(r, "publicSubnets", defaults.publicSubnets, zones.length, vpc);
    const privateSubnets = subnetList(r, "privateSubnets", defaults.privateSubnets, zones.length, vpc);
    const all = [
        ...publicSubnets.map((c) => ["publicSubnets", c]),
        ...privateSubnets.map((c) => ["privateSubnets", c]),
    ];
    for (let i = 0; i < all.length; i++) {
        for (let j = i + 1; j < all.length; j++) {
            const [a, b] = [parseCidr(all[i][1]), parseCidr(all[j][1])];
            if (a && b && overlaps(a, b)) {
                r.report(
                    `network.${all[j][0]}`,
                    all[j][1],
                    `overlaps ${all[i][1]} (network.${all[i][0]}); give every subnet its own block`,
                );
            }
        }
    }
    return { cidr: cidrText, availabilityZones: zones, natGateways, publicSubnets, privateSubnets };
}

function subnetList(
    r: Reader,
    key: string,
    fallback: string[],
    zones: number,
    vpc: Cidr | undefined,
): string[] {
    if (!r.has(key)) return fallback;
    const list = r.list(key, fallback, (path, c) => {
        const parsed = typeof c === "string" ? parseCidr(c) : undefined;
        if (!parsed) {
            r.report(path, c, "is not an IPv4 CIDR block; use a network address such as 10.0.1.0/24");
            return undefined;
        }
        if (parsed.prefix < 16 || parsed.prefix > 28) {
            r.report(path, c, "has a prefix outside /16 to /28, which AWS subnets require; resize it");
        } else if (vpc && !contains(vpc, parsed)) {
            r.report(path, c, `is outside network.cidr; use a block inside the VPC`);
        }
        return c as string;
    });
    if (list.length !== zones) {
        r.report(
            r.at(key),
            list,
            `has ${list.length} subnets for ${zones} availability zones; list exactly one per zone`,
        );
    }
    return list;
}
