import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fileStorePolicy, StoreGrant } from "./file-store-access";
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
    /**
     * Create an IAM user with an access key for the store's consumers. Default true: static credentials
     * work on any cluster. Application sets it false when it has a web-identity issuer: each consumer then
     * assumes a role of its own (see {@link FileStore.policy}) and no long-lived key exists.
     */
    readonly accessKey?: boolean;
}

/**
 * An S3 file store for one application service: a private, encrypted, versioned bucket, and unless
 * `accessKey` is false an IAM user whose only permissions are object read/write/delete and list on that
 * bucket ({@link FileStore.policy}), with an access key. The key works without the VM layer on any
 * cluster; with a web-identity issuer, Application gives each consumer an IRSA role instead.
 */
export class FileStore extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;
    /** The IAM user, unless `accessKey` is false. */
    readonly user?: aws.iam.User;
    readonly accessKey?: aws.iam.AccessKey;
    /** Bucket name. */
    readonly bucketName: pulumi.Output<string>;
    /** Region of the bucket. */
    readonly region: pulumi.Output<string>;
    /** `s3://<bucket>`. */
    readonly url: pulumi.Output<string>;
    /** Access key id (secret), unless `accessKey` is false. */
    readonly accessKeyId?: pulumi.Output<string>;
    /** Secret access key (secret), unless `accessKey` is false. */
    readonly secretAccessKey?: pulumi.Output<string>;
    /** The backup prefixes of `args.backups`. */
    readonly backupPrefixes: readonly string[];

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
        this.backupPrefixes = (args.backups ?? []).map((b) => b.prefix);
        if (args.accessKey ?? true) {
            const user = new aws.iam.User(`${name}-user`, { path: "/keelson/" }, { parent: this });
            new aws.iam.UserPolicy(
                `${name}-user-policy`,
                { user: user.name, policy: this.policy() },
                { parent: this },
            );
            const key = new aws.iam.AccessKey(
                `${name}-key`,
                { user: user.name },
                { parent: this, additionalSecretOutputs: ["id", "secret"], dependsOn: controls },
            );
            this.user = user;
            this.accessKey = key;
            this.accessKeyId = pulumi.secret(key.id);
            this.secretAccessKey = pulumi.secret(key.secret);
        }
        this.bucketName = bucket.bucket;
        this.region = bucket.region;
        this.url = pulumi.interpolate`s3://${bucket.bucket}`;
        this.registerOutputs({ bucketName: this.bucketName, region: this.region, url: this.url });
    }

    /**
     * The store's policy document (JSON): the IAM user's, or a consumer role's with `uploadOnly` a prefix
     * the consumer may only put objects under (a backup job). See {@link fileStoreStatements}.
     */
    policy(uploadOnly?: string): pulumi.Output<string> {
        return this.bucket.arn.apply((arn) => JSON.stringify(fileStorePolicy([this.grant(arn, uploadOnly)])));
    }

    /** The grant of {@link policy} for a resolved bucket ARN, to combine with other stores'. */
    grant(bucketArn: string, uploadOnly?: string): StoreGrant {
        return {
            bucketArn,
            backupPrefixes: this.backupPrefixes,
            ...(uploadOnly !== undefined ? { uploadOnly } : {}),
        };
    }
}
