// The service-account issuer and an IRSA role under the mock engine: exact children and inputs.
import assert from "node:assert/strict";
import * as tls from "@pulumi/tls";
import { createServiceAccountRole } from "../../components/cluster/irsa";
import { renderJwks } from "../../components/cluster/render/oidc";
import { ServiceAccountIssuer } from "../../components/cluster/ServiceAccountIssuer";
import { physicalName } from "../../tools/plan/mock-names";
import { RecordedResource, runUnderMocks } from "../../tools/plan/runtime";

const get = (rs: RecordedResource[], type: string, name: string) => {
    const found = rs.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `one ${type} ${name}`);
    return found[0];
};

describe("cluster/ServiceAccountIssuer and createServiceAccountRole (mocked)", function () {
    this.timeout(60000);
    let run: Awaited<ReturnType<typeof plan>>;
    async function plan() {
        return runUnderMocks({ stack: "prod", config: { "aws:region": "eu-west-1" } }, () => {
            const key = new tls.PrivateKey("sa", { algorithm: "ECDSA", ecdsaCurve: "P256" });
            const issuer = new ServiceAccountIssuer("c-oidc", {
                publicKeyPem: key.publicKeyPem,
                region: "eu-west-1",
                tags: { "keelson:cluster": "c" },
            });
            createServiceAccountRole(
                "c-ebs-csi",
                {
                    issuer: { issuer: issuer.issuer, providerArn: issuer.provider.arn },
                    serviceAccount: { namespace: "kube-system", name: "ebs-csi-controller-sa" },
                    policy: '{"Version":"2012-10-17","Statement":[]}',
                    tags: { "keelson:cluster": "c" },
                },
                issuer,
            );
            return {
                issuer: issuer.issuer,
                jwksUri: issuer.jwksUri,
                host: issuer.host,
                pub: key.publicKeyPem,
            };
        });
    }
    // The bucket's name is the provider's autoname (`c-oidc-` and 7 characters), derived from its URN.
    let bucket = "";
    let issuer = "";
    before(async () => {
        run = await plan();
        const b = get(run.resources, "aws:s3/bucket:Bucket", "c-oidc");
        bucket = String(physicalName(b.type, b.name, b.inputs, b.urn)?.value);
        assert.match(bucket, /^c-oidc-[0-9a-f]{7}$/);
        issuer = `https://${bucket}.s3.eu-west-1.amazonaws.com`;
    });

    it("registers exactly the bucket, its controls, the two documents, the provider and the role", () => {
        const [component] = run.resources.filter((r) => r.type === "keelson:cluster:ServiceAccountIssuer");
        assert.deepEqual(
            run.resources
                .filter((r) => r.parent === component.urn)
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
            [
                "aws:iam/openIdConnectProvider:OpenIdConnectProvider c-oidc",
                "aws:iam/role:Role c-ebs-csi",
                "aws:iam/rolePolicy:RolePolicy c-ebs-csi",
                "aws:s3/bucket:Bucket c-oidc",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration c-oidc-lifecycle",
                "aws:s3/bucketObjectv2:BucketObjectv2 c-oidc-discovery",
                "aws:s3/bucketObjectv2:BucketObjectv2 c-oidc-jwks",
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls c-oidc-ownership",
                "aws:s3/bucketPolicy:BucketPolicy c-oidc-discovery",
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock c-oidc-public-access",
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration c-oidc-sse",
                "aws:s3/bucketVersioning:BucketVersioning c-oidc-versioning",
            ],
        );
        assert.deepEqual(run.outputs, {
            issuer,
            jwksUri: `${issuer}/keys.json`,
            host: `${bucket}.s3.eu-west-1.amazonaws.com`,
            pub: run.outputs.pub,
        });
    });

    it("blocks public ACLs but allows the bucket's public policy, which names the two documents only", () => {
        const pab = get(
            run.resources,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "c-oidc-public-access",
        );
        assert.deepEqual(
            [
                pab.inputs.blockPublicAcls,
                pab.inputs.ignorePublicAcls,
                pab.inputs.blockPublicPolicy,
                pab.inputs.restrictPublicBuckets,
            ],
            [true, true, false, false],
        );
        const policy = get(run.resources, "aws:s3/bucketPolicy:BucketPolicy", "c-oidc-discovery");
        const doc = JSON.parse(String(policy.inputs.policy)) as { Statement: Record<string, unknown>[] };
        assert.deepEqual(doc.Statement[0].Resource, [
            `arn:aws:s3:::${bucket}/.well-known/openid-configuration`,
            `arn:aws:s3:::${bucket}/keys.json`,
        ]);
        assert.ok(policy.dependencies.includes(pab.urn), "the access block first, or S3 refuses the policy");
        assert.deepEqual(
            get(run.resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "c-oidc-ownership")
                .inputs.rule,
            { objectOwnership: "BucketOwnerEnforced" },
        );
    });

    it("uploads the discovery document and the JWKS of the service-account key", () => {
        const discovery = get(run.resources, "aws:s3/bucketObjectv2:BucketObjectv2", "c-oidc-discovery");
        const jwks = get(run.resources, "aws:s3/bucketObjectv2:BucketObjectv2", "c-oidc-jwks");
        assert.deepEqual(
            [
                discovery.inputs.bucket,
                discovery.inputs.key,
                discovery.inputs.contentType,
                discovery.inputs.cacheControl,
            ],
            [bucket, ".well-known/openid-configuration", "application/json", "max-age=300"],
        );
        assert.deepEqual(JSON.parse(String(discovery.inputs.content)), {
            issuer,
            jwks_uri: `${issuer}/keys.json`,
            response_types_supported: ["id_token"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["ES256"],
        });
        assert.deepEqual([jwks.inputs.key, jwks.inputs.contentType], ["keys.json", "application/json"]);
        assert.deepEqual(JSON.parse(String(jwks.inputs.content)), renderJwks([String(run.outputs.pub)]));
    });

    it("creates the OIDC provider after the documents, for sts.amazonaws.com only, without thumbprints", () => {
        const provider = get(run.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "c-oidc");
        assert.equal(provider.inputs.url, issuer);
        assert.deepEqual(provider.inputs.clientIdLists, ["sts.amazonaws.com"]);
        assert.equal(provider.inputs.thumbprintLists, undefined);
        for (const dep of ["c-oidc-discovery", "c-oidc-jwks"]) {
            const o = get(run.resources, "aws:s3/bucketObjectv2:BucketObjectv2", dep);
            assert.ok(provider.dependencies.includes(o.urn), dep);
        }
    });

    it("lets exactly one service account assume its role, and attaches the given policy", () => {
        const role = get(run.resources, "aws:iam/role:Role", "c-ebs-csi");
        const host = `${bucket}.s3.eu-west-1.amazonaws.com`;
        assert.deepEqual(JSON.parse(String(role.inputs.assumeRolePolicy)), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ServiceAccount",
                    Effect: "Allow",
                    Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${host}` },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: {
                            [`${host}:sub`]: "system:serviceaccount:kube-system:ebs-csi-controller-sa",
                            [`${host}:aud`]: "sts.amazonaws.com",
                        },
                    },
                },
            ],
        });
        const policy = get(run.resources, "aws:iam/rolePolicy:RolePolicy", "c-ebs-csi");
        // The role's physical name is its autoname, `c-ebs-csi-` and 7 characters.
        assert.match(String(policy.inputs.role), /^c-ebs-csi-[0-9a-f]{7}$/);
        assert.equal(policy.inputs.policy, '{"Version":"2012-10-17","Statement":[]}');
    });
});
