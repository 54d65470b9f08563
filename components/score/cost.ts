// Monthly cost estimate of a plan, from the dated on-demand price table of the stage's region.
import { PlanResource } from "../core/graph";
import AP_SOUTHEAST_1 from "./prices-ap-southeast-1.json";
import EU_CENTRAL_1 from "./prices-eu-central-1.json";
import EU_WEST_1 from "./prices-eu-west-1.json";
import PRICES from "./prices-us-east-1.json";
import US_WEST_2 from "./prices-us-west-2.json";
import { GROUP_TYPE, groupSize, launchTemplateOf, nodeInputs } from "./groups";
import { arr, obj } from "./workloads";

/** One priced resource. */
export interface CostItem {
    readonly resource: string;
    readonly type: string;
    readonly name: string;
    /** What was priced, e.g. `t3.medium 730 h + 50 GiB gp3`. */
    readonly detail: string;
    /** Rounded to cents. */
    readonly monthlyUsd: number;
}

/** The stage's monthly estimate, with what it leaves out. */
export interface CostEstimate {
    /** Sum of the items' rounded amounts. */
    readonly monthlyUsd: number;
    /** Priced resources, most expensive first. */
    readonly items: readonly CostItem[];
    /** What an EKS control plane would cost per month, for comparison (not included in the total). */
    readonly eksControlPlaneMonthlyUsd: number;
    readonly region: string;
    readonly priceDate: string;
    readonly source: string;
    /** Assumptions and exclusions, e.g. data transfer. */
    readonly notes: readonly string[];
    /**
     * What the total could not price as asked, each naming the region or the instance type: a region
     * without a price table (priced with us-east-1's), an instance type without a price (its volumes only).
     * The text, markdown and JSON plans all show these.
     */
    readonly warnings: readonly string[];
}

/** The price table type (the JSON's shape), so tests can price with other figures. */
export type PriceTable = typeof PRICES;

/** The dated price tables by region; each file states its date and source. */
export const PRICE_TABLES: Readonly<Record<string, PriceTable>> = {
    "us-east-1": PRICES,
    "us-west-2": US_WEST_2,
    "eu-west-1": EU_WEST_1,
    "eu-central-1": EU_CENTRAL_1,
    "ap-southeast-1": AP_SOUTHEAST_1,
};

/**
 * The region a plan deploys to: the `region` of its AWS provider, else the zone of a subnet without
 * its letter; undefined when the plan has neither.
 */
export function planRegion(resources: readonly PlanResource[]): string | undefined {
    const provider = resources.find(
        (r) => r.type === "pulumi:providers:aws" && typeof r.inputs.region === "string",
    );
    if (provider) return provider.inputs.region as string;
    const subnet = resources.find(
        (r) => r.type === "aws:ec2/subnet:Subnet" && typeof r.inputs.availabilityZone === "string",
    );
    return subnet ? (subnet.inputs.availabilityZone as string).replace(/[a-z]$/, "") : undefined;
}

/** Gigabytes stored per bucket assumed by the S3 baseline. */
export const S3_BASELINE_GB = 10;

/** Default root volume when `rootBlockDevice.volumeSize` is not set (Debian 12 AMIs use 8 GiB). */
export const DEFAULT_ROOT_GB = 8;

const cents = (usd: number) => Math.round(usd * 100) / 100;

function ebs(prices: PriceTable, sizeGb: unknown, type: unknown): { usd: number; text: string } {
    const size = typeof sizeGb === "number" ? sizeGb : DEFAULT_ROOT_GB;
    const kind = typeof type === "string" && type in prices.ebsGbMonthUsd ? type : "gp3";
    return {
        usd: size * prices.ebsGbMonthUsd[kind as keyof PriceTable["ebsGbMonthUsd"]],
        text: `${size} GiB ${kind}`,
    };
}

/**
 * Prices every resource that costs money by the hour or by the gigabyte: EC2 instances (type,
 * root and extra EBS volumes, an auto-assigned public IPv4 unless an Elastic IP replaces it), Auto
 * Scaling Groups (desired capacity × their launch template's type and root volume), EBS
 * volumes, network/application load balancers (hourly plus one baseline LCU, plus one public IPv4
 * per subnet when internet-facing), NAT gateways
 * (hourly; data processing excluded), Elastic IPs (public IPv4 charge) and S3 buckets
 * ({@link S3_BASELINE_GB} GB each). Months are 730 hours.
 */
export function computeCost(resources: readonly PlanResource[], table?: PriceTable): CostEstimate {
    const warnings: string[] = [];
    const region = planRegion(resources) ?? "us-east-1";
    let prices = table ?? PRICE_TABLES[region];
    if (!prices) {
        prices = PRICES;
        warnings.push(
            `No price table for region ${region}: priced with us-east-1 prices of ${PRICES.date} (tables: ${Object.keys(PRICE_TABLES).join(", ")}).`,
        );
    }
    const h = prices.hoursPerMonth;
    const items: CostItem[] = [];
    const notes = [
        `On-demand Linux prices for ${prices.region} as of ${prices.date}; ${h} hours per month.`,
        `NAT gateway data processing ($${prices.natGatewayGbProcessedUsd}/GB) and data transfer out are excluded.`,
        `Load balancers include one baseline LCU; S3 assumes ${S3_BASELINE_GB} GB stored per bucket, requests excluded.`,
    ];
    const add = (r: PlanResource, detail: string, usd: number) =>
        items.push({ resource: r.urn, type: r.type, name: r.name, detail, monthlyUsd: cents(usd) });
    // An instance whose public address is an Elastic IP pays for the EIP only (priced on its own),
    // whether the EIP names the instance or an EipAssociation joins them.
    const eipTargets = new Set(
        resources
            .filter((r) => r.type === "aws:ec2/eip:Eip" || r.type === "aws:ec2/eipAssociation:EipAssociation")
            .flatMap((r) => r.dependencies),
    );
    for (const r of resources) {
        const i = r.inputs;
        switch (r.type) {
            case "aws:ec2/instance:Instance": {
                const type = String(i.instanceType);
                const hourly = (prices.ec2HourlyUsd as Record<string, number>)[type];
                const root = obj(i.rootBlockDevice);
                const disks = [
                    ebs(prices, root.volumeSize, root.volumeType),
                    ...arr(i.ebsBlockDevices)
                        .map(obj)
                        .map((d) => ebs(prices, d.volumeSize, d.volumeType)),
                ];
                const publicIp = i.associatePublicIpAddress === true && !eipTargets.has(r.urn);
                const parts = [
                    hourly === undefined ? `${type} (price unknown)` : `${type} ${h} h`,
                    ...disks.map((d) => d.text),
                ];
                if (publicIp) parts.push("public IPv4");
                if (hourly === undefined)
                    warnings.push(
                        `No ${prices.region} price for instance type ${type} (${r.name}): only its volumes are in the total.`,
                    );
                add(
                    r,
                    parts.join(" + "),
                    (hourly ?? 0) * h +
                        disks.reduce((s, d) => s + d.usd, 0) +
                        (publicIp ? prices.publicIpv4HourlyUsd * h : 0),
                );
                break;
            }
            case GROUP_TYPE: {
                // A group costs its desired capacity of its template's instance type and root volume.
                const n = groupSize(r);
                const node = nodeInputs(r, launchTemplateOf(r, resources), 0);
                const type = String(node.instanceType);
                const hourly = (prices.ec2HourlyUsd as Record<string, number>)[type];
                const root = obj(node.rootBlockDevice);
                const disk = ebs(prices, root.volumeSize, root.volumeType);
                if (hourly === undefined)
                    warnings.push(
                        `No ${prices.region} price for instance type ${type} (${r.name}): only its volumes are in the total.`,
                    );
                add(
                    r,
                    `${n} × (${hourly === undefined ? `${type} (price unknown)` : `${type} ${h} h`} + ${disk.text})`,
                    n * ((hourly ?? 0) * h + disk.usd),
                );
                break;
            }
            case "aws:ebs/volume:Volume": {
                const d = ebs(prices, i.size, i.type);
                add(r, d.text, d.usd);
                break;
            }
            case "aws:lb/loadBalancer:LoadBalancer":
            case "aws:alb/loadBalancer:LoadBalancer": {
                const nlb = i.loadBalancerType === "network";
                const [hourly, lcu] = nlb
                    ? [prices.nlbHourlyUsd, prices.nlbLcuHourlyUsd]
                    : [prices.albHourlyUsd, prices.albLcuHourlyUsd];
                // An internet-facing load balancer holds one public IPv4 address per subnet.
                const ips =
                    i.internal === true ? 0 : Math.max(arr(i.subnets).length, arr(i.subnetMappings).length);
                const ipText = ips > 0 ? ` + ${ips} public IPv4` : "";
                add(
                    r,
                    `${nlb ? "NLB" : "ALB"} ${h} h + 1 LCU${ipText}`,
                    (hourly + lcu + ips * prices.publicIpv4HourlyUsd) * h,
                );
                break;
            }
            case "aws:ec2/natGateway:NatGateway":
                add(r, `NAT gateway ${h} h`, prices.natGatewayHourlyUsd * h);
                break;
            case "aws:ec2/eip:Eip":
                add(r, `public IPv4 ${h} h`, prices.publicIpv4HourlyUsd * h);
                break;
            case "aws:s3/bucket:Bucket":
            case "aws:s3/bucketV2:BucketV2":
                add(r, `S3 Standard ${S3_BASELINE_GB} GB`, prices.s3StandardGbMonthUsd * S3_BASELINE_GB);
                break;
        }
    }
    items.sort((a, b) => b.monthlyUsd - a.monthlyUsd || a.resource.localeCompare(b.resource));
    return {
        monthlyUsd: cents(items.reduce((s, x) => s + x.monthlyUsd, 0)),
        items,
        eksControlPlaneMonthlyUsd: cents(prices.eksControlPlaneHourlyUsd * h),
        region: prices.region,
        priceDate: prices.date,
        source: prices.source,
        notes: [...notes, ...warnings],
        warnings,
    };
}
