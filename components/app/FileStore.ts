import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { secureBucket } from "./secure-bucket";

/** Arguments of a FileStore. */
export interface FileStoreArgs {
    /** Keep old object versions. Default true. */
    readonly versioning?: boolean;
    /** Let `pulumi destroy` delete a non-empty bucket. Default false. */
    readonly forceDestroy?: boolean;
    /**
     * Prefixes that hold backups: kept `days` (current and overwritten versions), and the store's own
     * credentials may add to them but never delete from them. Default none.
     */
    readonly backups?: readonly { readonly prefix: string; readonly days: number }[];
}

/**
 * An S3 file store for one application service: a private, encrypted, versioned bucket and an IAM user
 * whose only permissions are object read/write/delete and list on that bucket, with an access key.
 * Works without the VM layer: the credentials are static, so any cluster can use them.
 */
export class FileStore extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    readonly user: aws.iam.User;
    readonly accessKey: aws.iam.AccessKey;
    /** Bucket name. */
    readonly bucketName: pulumi.Output<string>;
    /** Region of the bucket. */
    readonly region: pulumi.Output<string>;
    /** `s3://<bucket>`. */
    readonly url: pulumi.Output<string>;
    /** Access key id (secret). */
    readonly accessKeyId: pulumi.Output<string>;
    /** Secret access key (secret). */
    readonly secretAccessKey: pulumi.Output<string>;

    constructor(name: string, args: FileStoreArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:app:FileStore", name, {}, opts);
        const { bucket, controls } = secureBucket(`${name}-bucket`, this, args);
        this.bucket = bucket;
        // Versioning keeps overwritten objects; they expire after 30 days, failed multipart uploads after 7.
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-bucket-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-old-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: 30 },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                    ...(args.backups ?? []).map((b) => ({
                        id: `expire-${b.prefix.replace(/[^a-z0-9]+/gi, "-").replace(/-+$/, "")}`,
                        status: "Enabled",
                        filter: { prefix: b.prefix },
                        expiration: { days: b.days },
                        noncurrentVersionExpiration: { noncurrentDays: b.days },
                    })),
                ],
            },
            { parent: this, dependsOn: controls },
        );
        this.user = new aws.iam.User(`${name}-user`, { path: "/keelson/" }, { parent: this });
        new aws.iam.UserPolicy(
            `${name}-user-policy`,
            {
                user: this.user.name,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["s3:ListBucket", "s3:GetBucketLocation"],
                            Resource: [bucket.arn],
                        },
                        {
                            Effect: "Allow",
                            Action: [
                                "s3:GetObject",
                                "s3:PutObject",
                                "s3:DeleteObject",
                                "s3:AbortMultipartUpload",
                            ],
                            Resource: [pulumi.interpolate`${bucket.arn}/*`],
                        },
                        // Backups are written with these credentials but never deleted with them: only
                        // the lifecycle rule expires them.
                        ...((args.backups ?? []).length > 0
                            ? [
                                  {
                                      Effect: "Deny",
                                      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                                      Resource: (args.backups ?? []).map(
                                          (b) => pulumi.interpolate`${bucket.arn}/${b.prefix}*`,
                                      ),
                                  },
                              ]
                            : []),
                    ],
                }),
            },
            { parent: this },
        );
        this.accessKey = new aws.iam.AccessKey(
            `${name}-key`,
            { user: this.user.name },
            { parent: this, additionalSecretOutputs: ["id", "secret"], dependsOn: controls },
        );
        this.bucketName = bucket.bucket;
        this.region = bucket.region;
        this.url = pulumi.interpolate`s3://${bucket.bucket}`;
        this.accessKeyId = pulumi.secret(this.accessKey.id);
        this.secretAccessKey = pulumi.secret(this.accessKey.secret);
        this.registerOutputs({ bucketName: this.bucketName, region: this.region, url: this.url });
    }
}
