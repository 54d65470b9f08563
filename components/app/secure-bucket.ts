// A private S3 bucket with the controls Keelson always wants: SSE (AES256), every public access block on,
// bucket-owner-enforced ownership (no ACLs), TLS-only bucket policy, and versioning unless turned off.
// Used by the file store and the etcd backups; children are parented to the calling component.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Options of a secure bucket. */
export interface SecureBucketOptions {
    /** Keep old object versions. Default true. */
    readonly versioning?: boolean;
    /** Let `pulumi destroy` delete a non-empty bucket. Default false. */
    readonly forceDestroy?: boolean;
    /** Tags on the bucket. Default none. */
    readonly tags?: Record<string, string>;
}

/** The bucket and the configuration resources that later resources should wait for. */
export interface SecureBucket {
    readonly bucket: aws.s3.Bucket;
    /** Resources that must exist before the bucket is used (encryption, access block, policy). */
    readonly controls: pulumi.Resource[];
}

/** Creates `<name>` and its controls (`<name>-sse`, `<name>-public-access`, `<name>-ownership`, `<name>-tls-only`, `<name>-versioning`). */
export function secureBucket(
    name: string,
    parent: pulumi.Resource,
    options: SecureBucketOptions = {},
): SecureBucket {
    const opts = { parent };
    const bucket = new aws.s3.Bucket(
        name,
        { forceDestroy: options.forceDestroy ?? false, tags: options.tags },
        opts,
    );
    const sse = new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-sse`,
        {
            bucket: bucket.id,
            rules: [
                { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
            ],
        },
        opts,
    );
    const pab = new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        opts,
    );
    const ownership = new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        opts,
    );
    const policy = new aws.s3.BucketPolicy(
        `${name}-tls-only`,
        {
            bucket: bucket.id,
            policy: pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "DenyInsecureTransport",
                        Effect: "Deny",
                        Principal: "*",
                        Action: "s3:*",
                        Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
                        Condition: { Bool: { "aws:SecureTransport": "false" } },
                    },
                ],
            }),
        },
        // The access block must be in place first, or S3 may evaluate the policy as public.
        { parent, dependsOn: [pab] },
    );
    const controls: pulumi.Resource[] = [sse, pab, ownership, policy];
    if (options.versioning ?? true) {
        controls.push(
            new aws.s3.BucketVersioning(
                `${name}-versioning`,
                { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
                opts,
            ),
        );
    }
    return { bucket, controls };
}
