// IRSA's pure parts without mocks: the JWKS and discovery document STS reads (checked against openssl's
// key id and coordinates, and by verifying a token signed with the key), the trust policy, the issuer
// bucket policy, the pod pieces and the API server flags.
import assert from "node:assert/strict";
import * as crypto from "crypto";
import { clusterConfiguration } from "../../components/cluster/render/kubeadm";
import {
    issuerBucketPolicy,
    issuerHost,
    issuerUrl,
    keyId,
    renderDiscoveryDocument,
    renderJwks,
    serviceAccountTrustPolicy,
    webIdentityEnv,
    webIdentityMount,
    webIdentityVolume,
} from "../../components/cluster/render/oidc";

// A throwaway P-256 key made for this test with `openssl ecparam -name prime256v1 -genkey`.
const SA_KEY = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIJZHbRDCkloIJRQL8tYKF2fqxxtdu4YftObDnSh/TgppoAoGCCqGSM49
AwEHoUQDQgAEVcVQvNjT5TPvGqeragoYMdUyhak8YQ3rDccB/IuThfuj21G49cZT
r+IzVwS1+4d3lRDkIi37kGyR/ALlYfpfLQ==
-----END EC PRIVATE KEY-----
`;
const SA_PUB = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVcVQvNjT5TPvGqeragoYMdUyhak8
YQ3rDccB/IuThfuj21G49cZTr+IzVwS1+4d3lRDkIi37kGyR/ALlYfpfLQ==
-----END PUBLIC KEY-----
`;
// `openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | basenc --base64url` (padding dropped).
const KID = "UkyoImNCGH3rHfRsO0Z3M8dtYPPVEILExQ5KKE-JKZQ";
const ISSUER = "https://keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com";

const b64url = (v: string | Buffer) => Buffer.from(v).toString("base64url");

/** An ES256 service-account token as kube-apiserver signs one (JWS compact, raw r||s signature). */
function signToken(claims: Record<string, unknown>, kid: string): string {
    const input = `${b64url(JSON.stringify({ alg: "ES256", kid }))}.${b64url(JSON.stringify(claims))}`;
    const sig = crypto.sign("sha256", Buffer.from(input), { key: SA_KEY, dsaEncoding: "ieee-p1363" });
    return `${input}.${sig.toString("base64url")}`;
}

/** What STS does with a token: find the JWK by `kid` and verify the signature with it. */
function verifyWithJwks(token: string, jwks: { keys: Record<string, string>[] }): Record<string, unknown> {
    const [h, p, s] = token.split(".");
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { kid: string; alg: string };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    if (!jwk) throw new Error(`no key ${header.kid}`);
    assert.equal(jwk.alg, header.alg);
    const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
    const ok = crypto.verify(
        "sha256",
        Buffer.from(`${h}.${p}`),
        { key, dsaEncoding: "ieee-p1363" },
        Buffer.from(s, "base64url"),
    );
    if (!ok) throw new Error("bad signature");
    return JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
}

describe("cluster/render/oidc (pure)", () => {
    it("computes the key id as kube-apiserver does (SHA-256 of the PKIX DER, base64url)", () => {
        assert.equal(keyId(SA_PUB), KID);
        // The same key given as its private PEM has the same public half, so the same id.
        assert.equal(
            keyId(crypto.createPublicKey(SA_KEY).export({ type: "spki", format: "pem" }) as string),
            KID,
        );
    });

    it("renders the JWKS with the key's exact coordinates, in kube-apiserver's field order", () => {
        const jwks = renderJwks([SA_PUB]);
        assert.deepEqual(jwks, {
            keys: [
                {
                    use: "sig",
                    kty: "EC",
                    kid: KID,
                    crv: "P-256",
                    alg: "ES256",
                    // The uncompressed point from `openssl ec -text`, split and base64url-encoded.
                    x: "VcVQvNjT5TPvGqeragoYMdUyhak8YQ3rDccB_IuThfs",
                    y: "o9tRuPXGU6_iM1cEtfuHd5UQ5CIt-5BskfwC5WH6Xy0",
                },
            ],
        });
        assert.deepEqual(Object.keys(jwks.keys[0]), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
    });

    it("publishes a JWKS that verifies a token signed with the service-account key, and no other", () => {
        const jwks = JSON.parse(JSON.stringify(renderJwks([SA_PUB]))) as { keys: Record<string, string>[] };
        const claims = {
            iss: ISSUER,
            aud: ["sts.amazonaws.com"],
            sub: "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        };
        assert.deepEqual(verifyWithJwks(signToken(claims, KID), jwks), claims);
        // Another subject under the same signature: STS would reject it.
        const [h, , sig] = signToken(claims, KID).split(".");
        const forged = `${h}.${b64url(JSON.stringify({ ...claims, sub: "system:serviceaccount:x:y" }))}`;
        assert.throws(() => verifyWithJwks(`${forged}.${sig}`, jwks), /bad signature/);
        assert.throws(() => verifyWithJwks(signToken(claims, "other"), jwks), /no key other/);
    });

    it("advertises RS256 for an RSA key and refuses a key type STS cannot verify", () => {
        const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
        const pem = rsa.publicKey.export({ type: "spki", format: "pem" }) as string;
        const [jwk] = renderJwks([pem]).keys;
        assert.deepEqual(Object.keys(jwk), ["use", "kty", "kid", "alg", "n", "e"]);
        assert.deepEqual([jwk.kty, jwk.alg, jwk.e], ["RSA", "RS256", "AQAB"]);
        const ed = crypto
            .generateKeyPairSync("ed25519")
            .publicKey.export({ type: "spki", format: "pem" }) as string;
        assert.throws(
            () => renderJwks([ed]),
            /^Error: service-account key: ed25519 is not a key STS accepts; use RSA or ECDSA P-256\/P-384\/P-521$/,
        );
    });

    it("renders the discovery document kube-apiserver would serve for the S3 issuer", () => {
        assert.equal(issuerUrl("keelson-prod-oidc-1a2b3c4", "eu-west-1"), ISSUER);
        assert.equal(issuerHost(ISSUER), "keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com");
        assert.deepEqual(renderDiscoveryDocument(ISSUER, ["ES256"]), {
            issuer: ISSUER,
            jwks_uri: `${ISSUER}/keys.json`,
            response_types_supported: ["id_token"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["ES256"],
        });
    });

    it("trusts exactly one service account with audience sts.amazonaws.com", () => {
        const arn =
            "arn:aws:iam::123456789012:oidc-provider/keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com";
        assert.deepEqual(
            serviceAccountTrustPolicy(arn, ISSUER, {
                namespace: "kube-system",
                name: "ebs-csi-controller-sa",
            }),
            {
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ServiceAccount",
                        Effect: "Allow",
                        Principal: { Federated: arn },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: {
                            StringEquals: {
                                "keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com:sub":
                                    "system:serviceaccount:kube-system:ebs-csi-controller-sa",
                                "keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com:aud":
                                    "sts.amazonaws.com",
                            },
                        },
                    },
                ],
            },
        );
    });

    it("makes only the two discovery objects public, and only over TLS", () => {
        assert.deepEqual(issuerBucketPolicy("arn:aws:s3:::b"), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "PublicDiscoveryDocuments",
                    Effect: "Allow",
                    Principal: "*",
                    Action: "s3:GetObject",
                    Resource: ["arn:aws:s3:::b/.well-known/openid-configuration", "arn:aws:s3:::b/keys.json"],
                },
                {
                    Sid: "DenyInsecureTransport",
                    Effect: "Deny",
                    Principal: "*",
                    Action: "s3:*",
                    Resource: ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                    Condition: { Bool: { "aws:SecureTransport": "false" } },
                },
            ],
        });
    });

    it("gives a pod its web identity: role, token file, region, and a projected STS-audience token", () => {
        assert.deepEqual(webIdentityEnv("arn:aws:iam::1:role/r", "eu-west-1"), [
            { name: "AWS_ROLE_ARN", value: "arn:aws:iam::1:role/r" },
            {
                name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                value: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
            },
            { name: "AWS_REGION", value: "eu-west-1" },
            { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
            { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
        ]);
        assert.deepEqual(webIdentityVolume(), {
            name: "aws-web-identity-token",
            projected: {
                sources: [
                    {
                        serviceAccountToken: {
                            audience: "sts.amazonaws.com",
                            expirationSeconds: 86400,
                            path: "token",
                        },
                    },
                ],
            },
        });
        assert.deepEqual(webIdentityMount(), {
            name: "aws-web-identity-token",
            mountPath: "/var/run/secrets/sts.amazonaws.com/serviceaccount",
            readOnly: true,
        });
    });

    it("points the API server at the S3 issuer and keeps kubeadm's issuer accepted (v1beta4 repeats the flag)", () => {
        const base = {
            clusterName: "c",
            endpointHost: "api.c.internal",
            podCidr: "192.168.0.0/16",
            serviceCidr: "10.96.0.0/12",
            caCertHash: "sha256:00",
            serviceAccountIssuer: { issuer: ISSUER, jwksUri: `${ISSUER}/keys.json` },
        };
        const flags = (v: string) =>
            (clusterConfiguration({ ...base, kubernetesVersion: v }).apiServer as { extraArgs: unknown })
                .extraArgs;
        const v4 = flags("1.33.4") as { name: string; value: string }[];
        assert.deepEqual(
            v4.filter(
                (a) => a.name.startsWith("service-account-issuer") || a.name === "service-account-jwks-uri",
            ),
            [
                { name: "service-account-issuer", value: ISSUER },
                { name: "service-account-issuer", value: "https://kubernetes.default.svc.cluster.local" },
                { name: "service-account-jwks-uri", value: `${ISSUER}/keys.json` },
            ],
        );
        const v3 = flags("1.30.9") as Record<string, string>;
        assert.equal(v3["service-account-issuer"], ISSUER);
        assert.equal(v3["service-account-jwks-uri"], `${ISSUER}/keys.json`);
        // Without an issuer, kubeadm's defaults stay (no flag at all).
        const plain = clusterConfiguration({
            ...base,
            serviceAccountIssuer: undefined,
            kubernetesVersion: "1.33.4",
        });
        assert.equal(JSON.stringify(plain).includes("service-account-issuer"), false);
    });
});
