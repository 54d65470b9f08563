// Physical names as the providers assign them, with the limits AWS and Kubernetes enforce: the mock engine
// fails a plan where `pulumi up` would fail on a name.
//
// Sources (pinned providers: @pulumi/aws 7.x, @pulumi/kubernetes 4.x):
// - pulumi-aws autonames through the Terraform bridge, `tfbridge.AutoName("name", max, "-")`: the logical
//   name, "-", then 7 random hex characters (`resource.NewUniqueHex`), and fails, never truncates, past the
//   maximum ("name '%s' plus 7 random chars is longer than maximum length %d",
//   pulumi/pulumi sdk/go/common/resource/resource_id.go). Per-type maxima from the provider's resources.go
//   (aws_lb and aws_lb_target_group 32, aws_iam_role 64) and the AWS API limits (IAM instance profile and
//   policy 128, security group 255, S3 bucket 63, lowercase).
// - With `namePrefix`, Terraform's `id.PrefixedUniqueId` appends 26 characters (so a target group prefix
//   may have at most 6).
// - pulumi-kubernetes autonames `metadata.name` as the logical name, "-", 8 random characters.
import { stableHex } from "./mock-keys";

/** How a type's physical name is assigned and how long it may be. */
export interface NameRule {
    /** The input holding the physical name. */
    readonly field: string;
    readonly max: number;
    /** The provider lowercases the autoname (S3 buckets, ECR repositories). */
    readonly lower?: boolean;
}

/** Per-type autonaming rules of the AWS provider, for the types Keelson (and its tests) register. */
export const AWS_NAME_RULES: Record<string, NameRule> = {
    "aws:lb/loadBalancer:LoadBalancer": { field: "name", max: 32 },
    "aws:lb/targetGroup:TargetGroup": { field: "name", max: 32 },
    "aws:iam/role:Role": { field: "name", max: 64 },
    "aws:iam/user:User": { field: "name", max: 64 },
    "aws:iam/instanceProfile:InstanceProfile": { field: "name", max: 128 },
    "aws:iam/policy:Policy": { field: "name", max: 128 },
    "aws:iam/rolePolicy:RolePolicy": { field: "name", max: 128 },
    "aws:ec2/securityGroup:SecurityGroup": { field: "name", max: 255 },
    "aws:ec2/launchTemplate:LaunchTemplate": { field: "name", max: 128 },
    "aws:autoscaling/group:Group": { field: "name", max: 255 },
    "aws:sqs/queue:Queue": { field: "name", max: 80 },
    "aws:cloudwatch/eventRule:EventRule": { field: "name", max: 64 },
    "aws:s3/bucket:Bucket": { field: "bucket", max: 63, lower: true },
    "aws:s3/bucketV2:BucketV2": { field: "bucket", max: 63, lower: true },
    "aws:ecr/repository:Repository": { field: "name", max: 256, lower: true },
};

/** Random characters the AWS bridge appends after "-". */
export const AWS_SUFFIX = 7;
/** Characters Terraform appends to a `namePrefix`. */
export const PREFIX_SUFFIX = 26;
/** Kubernetes object names: DNS subdomains (253), Services and Namespaces DNS labels (63). */
const K8S_LABEL_KINDS = new Set(["Service", "Namespace"]);

/** A name the provider would refuse. */
export class NameLimitError extends Error {}

/**
 * The physical name the provider gives a resource: the explicit name, `namePrefix` plus 26 characters, or
 * the autoname `<name>-<7 hex>` (derived from `seed`, the URN, instead of random). Throws a
 * {@link NameLimitError} naming the resource, the name and the limit when the name is too long.
 * Returns undefined for types without a name rule.
 */
export function physicalName(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    seed: string,
): { field: string; value: string } | undefined {
    if (type.startsWith("kubernetes:")) return kubernetesName(type, name, inputs, seed);
    const rule = AWS_NAME_RULES[type];
    if (!rule) return undefined;
    const where = `${type} "${name}"`;
    const explicit = inputs[rule.field];
    if (typeof explicit === "string") {
        if (explicit.length > rule.max)
            throw new NameLimitError(
                `${where}: ${rule.field} "${explicit}" is ${explicit.length} characters; AWS allows ${rule.max} for this type`,
            );
        return { field: rule.field, value: explicit };
    }
    const prefixField = `${rule.field === "bucket" ? "bucket" : "name"}Prefix`;
    const prefix = inputs[prefixField];
    if (typeof prefix === "string") {
        const total = prefix.length + PREFIX_SUFFIX;
        if (total > rule.max)
            throw new NameLimitError(
                `${where}: ${prefixField} "${prefix}" plus ${PREFIX_SUFFIX} generated characters is ${total} characters; ` +
                    `AWS allows ${rule.max} for this type (a prefix of at most ${rule.max - PREFIX_SUFFIX})`,
            );
        return { field: rule.field, value: `${prefix}${stableHex(`prefix:${seed}`, PREFIX_SUFFIX)}` };
    }
    const base = rule.lower ? name.toLowerCase() : name;
    const total = base.length + 1 + AWS_SUFFIX;
    if (total > rule.max)
        throw new NameLimitError(
            `${where}: the autoname "${base}-" plus ${AWS_SUFFIX} random characters is ${total} characters; ` +
                `AWS allows ${rule.max} for this type, so pulumi up would fail: use a logical name of at most ` +
                `${rule.max - 1 - AWS_SUFFIX} characters or set ${rule.field}`,
        );
    return { field: rule.field, value: `${base}-${stableHex(`autoname:${seed}`, AWS_SUFFIX)}` };
}

function kubernetesName(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    seed: string,
): { field: string; value: string } | undefined {
    const metadata = inputs.metadata as { name?: unknown } | undefined;
    if (
        type.startsWith("kubernetes:helm") ||
        type.includes(":yaml") ||
        type === "pulumi:providers:kubernetes"
    )
        return undefined;
    const kind = type.split(":").pop() ?? "";
    const max = K8S_LABEL_KINDS.has(kind) ? 63 : 253;
    const value =
        typeof metadata?.name === "string" ? metadata.name : `${name}-${stableHex(`autoname:${seed}`, 8)}`;
    if (value.length > max)
        throw new NameLimitError(
            `${type} "${name}": metadata.name "${value}" is ${value.length} characters; Kubernetes allows ${max} for a ${kind}`,
        );
    return { field: "metadata.name", value };
}
