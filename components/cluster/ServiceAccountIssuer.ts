// The cluster's self-hosted OIDC issuer for IRSA: an S3 bucket whose only public objects are the two
// discovery documents STS fetches, and the IAM OIDC provider that trusts it for `sts.amazonaws.com`.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    DISCOVERY_KEY,
    issuerBucketPolicy,
    issuerHost,
    issuerUrl,
    JWKS_KEY,
    renderDiscoveryDocument,
    renderJwks,
    STS_AUDIENCE,
} from "./render/oidc";

/** Inputs of a {@link ServiceAccountIssuer}. */
export interface ServiceAccountIssuerArgs {
    /** The service-account signing key's public half (PEM, PKIX): what `keys.json` publishes. */
    readonly publicKeyPem: pulumi.Input<string>;
    /** Region of the bucket (and so of the issuer URL). */
    readonly region: string;
    readonly tags: Record<string, string>;
}

/**
 * A service-account issuer (`keelson:cluster:ServiceAccountIssuer`). The bucket (`<name>`, SSE-S3,
 * bucket-owner-enforced, no ACLs, versioned: old versions expire after 30 days) holds `.well-known/openid-configuration` and `keys.json` derived from
 * the cluster's service-account key; its policy makes exactly those two objects readable by anyone
 * (STS fetches them anonymously over HTTPS; nothing else in the bucket is public) and refuses plain
 * HTTP. Public ACLs stay blocked; only public *policies* are allowed on this bucket, so the
 * account-level Block Public Access must not block public policies for this bucket to work. The IAM
 * OIDC provider lists only `sts.amazonaws.com` as client id and no thumbprint: IAM verifies an
 * S3-hosted JWKS endpoint against its own library of trusted root CAs, and ignores thumbprints there.
 */
export class ServiceAccountIssuer extends pulumi.ComponentResource {
    /** `https://<bucket>.s3.<region>.amazonaws.com`: the API server's `service-account-issuer`. */
    readonly issuer: pulumi.Output<string>;
    /** `<issuer>/keys.json`: the API server's `service-account-jwks-uri`. */
    readonly jwksUri: pulumi.Output<string>;
    readonly bucket: aws.s3.Bucket;
    readonly provider: aws.iam.OpenIdConnectProvider;

    constructor(name: string, args: ServiceAccountIssuerArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:ServiceAccountIssuer", name, {}, opts);
        const parent = { parent: this };
        this.bucket = new aws.s3.Bucket(
            name,
            { forceDestroy: true, tags: { ...args.tags, Name: name } },
            parent,
        );
        const bucket = this.bucket;
        this.issuer = bucket.bucket.apply((b) => issuerUrl(b, args.region));
        this.jwksUri = pulumi.interpolate`${this.issuer}/${JWKS_KEY}`;
        const sse = new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-sse`,
            {
                bucket: bucket.id,
                rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
            },
            parent,
        );
        const ownership = new aws.s3.BucketOwnershipControls(
            `${name}-ownership`,
            { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
            parent,
        );
        // Versioned: an overwritten keys.json (a botched key change) can be restored; old versions expire.
        const versioning = new aws.s3.BucketVersioning(
            `${name}-versioning`,
            { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
            parent,
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "expire-old-versions",
                        status: "Enabled",
                        filter: {},
                        noncurrentVersionExpiration: { noncurrentDays: 30 },
                    },
                ],
            },
            { parent: this, dependsOn: [versioning] },
        );
        const access = new aws.s3.BucketPublicAccessBlock(
            `${name}-public-access`,
            {
                bucket: bucket.id,
                blockPublicAcls: true,
                ignorePublicAcls: true,
                // The policy below is public (two objects): S3 would refuse it with these on.
                blockPublicPolicy: false,
                restrictPublicBuckets: false,
            },
            parent,
        );
        const policy = new aws.s3.BucketPolicy(
            `${name}-discovery`,
            {
                bucket: bucket.id,
                policy: bucket.arn.apply((arn) => JSON.stringify(issuerBucketPolicy(arn))),
            },
            { parent: this, dependsOn: [access, ownership] },
        );
        const jwks = pulumi.output(args.publicKeyPem).apply((pem) => renderJwks([pem]));
        const objects = [
            {
                key: DISCOVERY_KEY,
                content: pulumi.all([this.issuer, jwks]).apply(([issuer, set]) =>
                    JSON.stringify(
                        renderDiscoveryDocument(
                            issuer,
                            set.keys.map((k) => k.alg),
                        ),
                        null,
                        2,
                    ),
                ),
            },
            { key: JWKS_KEY, content: jwks.apply((set) => JSON.stringify(set, null, 2)) },
        ].map(
            (o) =>
                new aws.s3.BucketObjectv2(
                    `${name}-${o.key === JWKS_KEY ? "jwks" : "discovery"}`,
                    {
                        bucket: bucket.id,
                        key: o.key,
                        content: o.content,
                        contentType: "application/json",
                        // STS caches keys itself; a short cache keeps a key rotation quick.
                        cacheControl: "max-age=300",
                        tags: args.tags,
                    },
                    { parent: this, dependsOn: [sse] },
                ),
        );
        // IAM fetches the discovery document when the provider is created: the objects come first.
        this.provider = new aws.iam.OpenIdConnectProvider(
            name,
            { url: this.issuer, clientIdLists: [STS_AUDIENCE], tags: { ...args.tags, Name: name } },
            { parent: this, dependsOn: [policy, ...objects] },
        );
        this.registerOutputs({ issuer: this.issuer, providerArn: this.provider.arn });
    }

    /** `<bucket>.s3.<region>.amazonaws.com`: the prefix of the `:sub` and `:aud` IAM condition keys. */
    get host(): pulumi.Output<string> {
        return this.issuer.apply(issuerHost);
    }
}
