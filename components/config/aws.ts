// The `aws:*` keys of a stage: the AWS provider's settings. Typos are caught (a misspelt key is
// silently ignored by the provider) and credentials must be Pulumi secrets.
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { didYouMean, show } from "../core/problems";
import { AWS_REGIONS, isAwsRegion, REGIONS_AS_OF } from "../core/regions";
import { stageTags } from "./args";
import { ConfigProblem } from "./problems";
import type { StageConfig } from "./types";

/** The settings of the AWS provider (`@pulumi/aws` ProviderArgs), each usable as `aws:<key>`. */
export const AWS_KEYS = [
    "accessKey",
    "allowedAccountIds",
    "assumeRoleWithWebIdentity",
    "assumeRoles",
    "customCaBundle",
    "defaultTags",
    "ec2MetadataServiceEndpoint",
    "ec2MetadataServiceEndpointMode",
    "endpoints",
    "forbiddenAccountIds",
    "httpProxy",
    "httpsProxy",
    "ignoreTags",
    "insecure",
    "maxRetries",
    "noProxy",
    "profile",
    "region",
    "retryMode",
    "s3UsEast1RegionalEndpoint",
    "s3UsePathStyle",
    "secretKey",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "skipCredentialsValidation",
    "skipMetadataApiCheck",
    "skipRegionValidation",
    "skipRequestingAccountId",
    "stsRegion",
    "tagPolicyCompliance",
    "token",
    "tokenBucketRateLimiterCapacity",
    "useDualstackEndpoint",
    "useFipsEndpoint",
    "userAgents",
] as const;

/** Keys that hold credentials: only ever as Pulumi secrets. */
export const AWS_SECRET_KEYS = ["accessKey", "secretKey", "token"] as const;

/** Shown instead of a value stored in plain text that must be secret. */
export const PLAIN = "(plain text)";

/**
 * Checks every `aws:*` key: known to the provider (with a did-you-mean), credentials secret, the
 * region in the region table. Returns the region to use (us-east-1 when it is missing or wrong, so the
 * other checks still run).
 */
export function checkAwsKeys(
    values: Readonly<Record<string, unknown>>,
    secret: ReadonlySet<string>,
    problems: ConfigProblem[],
): string {
    const report = (key: string, value: unknown, shown: string, text: string) =>
        problems.push({ key, value, message: `${key}: ${shown} ${text}` });
    for (const key of Object.keys(values)) {
        if (!key.startsWith("aws:")) continue;
        const name = key.slice(4);
        const shown = secret.has(key) ? "[secret]" : PLAIN;
        if (!(AWS_KEYS as readonly string[]).includes(name)) {
            const guess = didYouMean(name, AWS_KEYS);
            report(
                key,
                undefined,
                shown,
                guess
                    ? `is not a setting of the AWS provider; did you mean aws:${guess}?`
                    : "is not a setting of the AWS provider; remove it (see the aws provider's configuration reference)",
            );
        } else if ((AWS_SECRET_KEYS as readonly string[]).includes(name) && !secret.has(key)) {
            report(
                key,
                undefined,
                PLAIN,
                `is a credential stored in plain text; run \`pulumi config set --secret ${key} <value>\` (or use aws:profile or the environment)`,
            );
        }
    }
    const region = values["aws:region"];
    if (region === undefined) {
        report(
            "aws:region",
            undefined,
            "(missing)",
            "is required; run `pulumi config set aws:region us-east-1` (or your region)",
        );
    } else if (secret.has("aws:region")) {
        report(
            "aws:region",
            undefined,
            "[secret]",
            "is a secret, but it is plain configuration; run `pulumi config set aws:region <region>` without --secret",
        );
    } else if (!isAwsRegion(region)) {
        const guess = typeof region === "string" ? didYouMean(region, Object.keys(AWS_REGIONS)) : undefined;
        problems.push({
            key: "aws:region",
            value: region,
            message: `aws:region: ${show(region)} is not an AWS region (regions known as of ${REGIONS_AS_OF}); ${guess ? `did you mean ${guess}?` : "use a region name such as us-east-1 or eu-west-1"}`,
        });
    }
    return isAwsRegion(region) && !secret.has("aws:region") ? region : "us-east-1";
}

/** The `aws:*` settings of a stage: plain values by provider key, and which keys are secrets. */
export function awsSettings(
    values: Readonly<Record<string, unknown>>,
    secret: ReadonlySet<string>,
): { settings: Record<string, unknown>; secretKeys: string[] } {
    const settings: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        if (!key.startsWith("aws:")) continue;
        if (secret.has(key)) secretKeys.push(key.slice(4));
        else settings[key.slice(4)] = value;
    }
    return { settings, secretKeys };
}

/**
 * Arguments of the stage's explicit AWS provider: every `aws:*` setting of the stack (an explicit
 * provider does not read them itself), secrets through `secret`, and `defaultTags` = the stack's own
 * `aws:defaultTags` plus the stage tags, so that every taggable resource of every component is tagged.
 */
export function awsProviderArgs(
    config: Pick<StageConfig, "stage" | "region" | "aws">,
    secret: (key: string) => pulumi.Output<string>,
): aws.ProviderArgs {
    const settings = config.aws?.settings ?? {};
    const own = (settings.defaultTags as { tags?: Record<string, string> } | undefined)?.tags ?? {};
    const args: Record<string, unknown> = { ...settings, region: config.region };
    for (const key of config.aws?.secretKeys ?? []) args[key] = secret(key);
    args.defaultTags = { tags: { ...own, ...stageTags(config) } };
    return args as aws.ProviderArgs;
}
