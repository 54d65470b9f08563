// IRSA with a self-hosted issuer, pure parts: the OIDC discovery document and JWKS that STS reads from
// S3 (derived from the service-account public key exactly as kube-apiserver serves them), the trust
// policy of a role for one service account, and the pod-spec pieces that hand a pod its web identity.
// Upstream: kubernetes pkg/serviceaccount/jwt.go (keyIDFromPublicKey) and openidmetadata.go.
import * as crypto from "crypto";
import type { Input } from "@pulumi/pulumi";

/** The audience STS requires in a web identity token, and the OIDC provider's only client id. */
export const STS_AUDIENCE = "sts.amazonaws.com";

/** Object keys of the discovery documents in the issuer bucket (the issuer URL is the bucket's root). */
export const DISCOVERY_KEY = ".well-known/openid-configuration";
export const JWKS_KEY = "keys.json";

/**
 * kubeadm's default issuer. Kept as the API server's second `service-account-issuer` so tokens minted
 * before the issuer moved to S3 stay valid (the first issuer signs, every listed one is accepted).
 */
export const LEGACY_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** Where a pod finds its STS token (the projected volume's mount) and the file in it. */
export const WEB_IDENTITY_DIR = "/var/run/secrets/sts.amazonaws.com/serviceaccount";
export const WEB_IDENTITY_TOKEN_FILE = `${WEB_IDENTITY_DIR}/token`;
/** A projected STS token lives a day; the kubelet refreshes it at 80 % of that. */
export const WEB_IDENTITY_TOKEN_SECONDS = 86400;

/** `https://<bucket>.s3.<region>.amazonaws.com`: the issuer (no trailing slash; `iss` must match it exactly). */
export function issuerUrl(bucket: string, region: string): string {
    return `https://${bucket}.s3.${region}.amazonaws.com`;
}

/** The issuer without its scheme: the prefix of the `:sub` and `:aud` condition keys in IAM. */
export function issuerHost(issuer: string): string {
    return issuer.replace(/^https:\/\//, "");
}

/** JWS algorithm of a public key, as kube-apiserver advertises it (RSA keys RS256, P-256 ES256, ...). */
function algorithmOf(key: crypto.KeyObject): string {
    if (key.asymmetricKeyType === "rsa") return "RS256";
    if (key.asymmetricKeyType === "ec") {
        const curve = key.asymmetricKeyDetails?.namedCurve;
        const alg = { prime256v1: "ES256", secp384r1: "ES384", secp521r1: "ES512" }[curve ?? ""];
        if (alg) return alg;
    }
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw new Error(
        `service-account key: ${key.asymmetricKeyType}${curve ? ` ${curve}` : ""} is not a key STS accepts; use RSA or ECDSA P-256/P-384/P-521`,
    );
}

/**
 * The key id kube-apiserver puts in every token it signs: base64url (no padding) of the SHA-256 of the
 * key's PKIX (SubjectPublicKeyInfo) DER encoding.
 */
export function keyId(publicKeyPem: string): string {
    const der = crypto.createPublicKey(publicKeyPem).export({ type: "spki", format: "der" });
    return crypto.createHash("sha256").update(der).digest("base64url");
}

/** One JSON Web Key, in the field order kube-apiserver's `/openid/v1/jwks` uses. */
export interface Jwk {
    readonly use: "sig";
    readonly kty: string;
    readonly kid: string;
    readonly alg: string;
    readonly [field: string]: string;
}

/** The JWKS of the given PEM public keys (`keys.json`): what STS verifies token signatures with. */
export function renderJwks(publicKeyPems: readonly string[]): { keys: Jwk[] } {
    return {
        keys: publicKeyPems.map((pem) => {
            const key = crypto.createPublicKey(pem);
            const alg = algorithmOf(key);
            const { kty, ...material } = key.export({ format: "jwk" }) as Record<string, string>;
            return {
                use: "sig",
                kty,
                kid: keyId(pem),
                ...(material.crv ? { crv: material.crv } : {}),
                alg,
                ...material,
            };
        }),
    };
}

/** `/.well-known/openid-configuration`, as kube-apiserver renders it, for the given issuer and keys. */
export function renderDiscoveryDocument(
    issuer: string,
    algorithms: readonly string[],
): Record<string, unknown> {
    return {
        issuer,
        jwks_uri: `${issuer}/${JWKS_KEY}`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [...new Set(algorithms)].sort(),
    };
}

/**
 * The issuer bucket's policy: anonymous `s3:GetObject` on the two discovery objects only, and a Deny of
 * every request that is not over TLS. Pure.
 */
export function issuerBucketPolicy(bucketArn: string): Record<string, unknown> {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "PublicDiscoveryDocuments",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: [`${bucketArn}/${DISCOVERY_KEY}`, `${bucketArn}/${JWKS_KEY}`],
            },
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    };
}

/** A Kubernetes service account by namespace and name. */
export interface ServiceAccountRef {
    readonly namespace: string;
    readonly name: string;
}

/**
 * Trust policy of a role that exactly one service account may assume through the OIDC provider: the
 * token's `sub` must be `system:serviceaccount:<ns>:<name>` and its `aud` {@link STS_AUDIENCE}.
 */
export function serviceAccountTrustPolicy(
    providerArn: string,
    issuer: string,
    sa: ServiceAccountRef,
): Record<string, unknown> {
    const host = issuerHost(issuer);
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ServiceAccount",
                Effect: "Allow",
                Principal: { Federated: providerArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${host}:sub`]: `system:serviceaccount:${sa.namespace}:${sa.name}`,
                        [`${host}:aud`]: STS_AUDIENCE,
                    },
                },
            },
        ],
    };
}

/**
 * The environment that makes every AWS SDK assume `roleArn` with the projected token (an Output is fine:
 * chart values resolve nested inputs). With `region`, also `AWS_REGION`/`AWS_DEFAULT_REGION` (leave it out
 * where the chart sets the region itself).
 */
export function webIdentityEnv(
    roleArn: Input<string>,
    region?: string,
): { name: string; value: Input<string> }[] {
    return [
        { name: "AWS_ROLE_ARN", value: roleArn },
        { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: WEB_IDENTITY_TOKEN_FILE },
        ...(region
            ? [
                  { name: "AWS_REGION", value: region },
                  { name: "AWS_DEFAULT_REGION", value: region },
              ]
            : []),
        // STS in the cluster's region, not the global endpoint (lower latency, no us-east-1 dependency).
        { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
    ];
}

/** The name of the projected token volume in a pod. */
export const WEB_IDENTITY_VOLUME = "aws-web-identity-token";

/** The projected service-account token volume with audience {@link STS_AUDIENCE}. */
export function webIdentityVolume(): Record<string, unknown> {
    return {
        name: WEB_IDENTITY_VOLUME,
        projected: {
            sources: [
                {
                    serviceAccountToken: {
                        audience: STS_AUDIENCE,
                        expirationSeconds: WEB_IDENTITY_TOKEN_SECONDS,
                        path: "token",
                    },
                },
            ],
        },
    };
}

/** The container's read-only mount of {@link webIdentityVolume}. */
export function webIdentityMount(): Record<string, unknown> {
    return { name: WEB_IDENTITY_VOLUME, mountPath: WEB_IDENTITY_DIR, readOnly: true };
}
