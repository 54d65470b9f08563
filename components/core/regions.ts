// The AWS regions and availability zones Keelson accepts. A dated table: a region or zone AWS adds
// later is refused until it is added here (the message says so), which beats a plan that passes and a
// `pulumi up` that fails.

/** When the table was written and from what. */
export const REGIONS_AS_OF = "2026-12-01";
/**
 * Source: the AWS Regions and Availability Zones page of the AWS documentation
 * (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html), transcribed by hand
 * (no AWS API is reachable from where Keelson is built). Zone letters are the union of what accounts
 * see: AWS maps letters per account, and an account may see only some of them (us-west-1 shows two of
 * a, b, c; ap-northeast-1b is closed to new accounts and left out).
 */
export const REGIONS_SOURCE =
    "AWS documentation, Regions and Availability Zones (docs.aws.amazon.com/global-infrastructure), transcribed by hand";

/**
 * The most availability zones a Keelson network spans (`keelson:network.availabilityZones`; us-east-1
 * has six). The workers' NLB has one address per zone, so the edge sizes its haproxy server slots by it.
 */
export const MAX_AVAILABILITY_ZONES = 6;

/** Commercial and GovCloud regions with the letters of their availability zones. */
export const AWS_REGIONS: Readonly<Record<string, string>> = {
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-west-1": "abc",
    "us-west-2": "abcd",
    "ca-central-1": "abd",
    "ca-west-1": "abc",
    "mx-central-1": "abc",
    "sa-east-1": "abc",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "il-central-1": "abc",
    "me-south-1": "abc",
    "me-central-1": "abc",
    "af-south-1": "abc",
    "ap-east-1": "abc",
    "ap-east-2": "abc",
    "ap-south-1": "abc",
    "ap-south-2": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "ap-southeast-3": "abc",
    "ap-southeast-4": "abc",
    "ap-southeast-5": "abc",
    "ap-southeast-7": "abc",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ap-northeast-3": "abc",
    "us-gov-west-1": "abc",
    "us-gov-east-1": "abc",
};

/** True for a region in {@link AWS_REGIONS}. */
export function isAwsRegion(value: unknown): value is string {
    return typeof value === "string" && Object.prototype.hasOwnProperty.call(AWS_REGIONS, value);
}

/** The availability zones of a region, e.g. `["eu-west-1a", "eu-west-1b", "eu-west-1c"]`. */
export function zonesOf(region: string): string[] {
    return isAwsRegion(region) ? [...AWS_REGIONS[region]].map((l) => `${region}${l}`) : [];
}
