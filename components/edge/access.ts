// IAM and KMS for edge hosts: a customer-managed key for the edge's TLS private keys, and a role that reads
// exactly the edge's SSM parameters and decrypts exactly its TLS keys through SSM (for ACME DNS-01 it also
// writes Route 53 challenge records), plus Session Manager without any parameter read so that port 22
// stays closed. Every other parameter and key in the account is explicitly denied.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { boundaryStatements, sessionManagerPolicyDocument } from "../cluster/iam";
import { EC2_ASSUME_ROLE_POLICY } from "../ec2/trust";

/** The instance profile and role of the edge hosts. */
export interface EdgeAccess {
    readonly role: aws.iam.Role;
    readonly profile: aws.iam.InstanceProfile;
}

/** Where the edge's parameters live, as ARNs (`.../parameter/keelson/<stage>/<edge>`). */
export interface EdgeParameterArns {
    /** ARN prefix of every parameter of this edge (config and TLS), without the trailing `/*`. */
    readonly edge: string;
    /** ARN prefix of the TLS parameters, without the trailing `/*`. */
    readonly tls: string;
}

/**
 * The policy document of the edge role: GetParameter(s) below the edge's prefix, kms:Decrypt of the edge
 * key (when there is one: not in ACME mode) only through SSM in `region` and only for the TLS parameters (SSM's encryption context is
 * the parameter ARN), the boundary Denies of every Keelson role, and Route 53 only for DNS-01.
 */
export function edgePolicyDocument(
    arns: EdgeParameterArns,
    keyArn: string | undefined,
    region: string,
    dns01: boolean,
): string {
    const statements: Record<string, unknown>[] = [
        {
            Sid: "ReadEdgeConfigAndTls",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: `${arns.edge}/*`,
        },
    ];
    if (keyArn !== undefined)
        statements.push({
            Sid: "DecryptEdgeTls",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: keyArn,
            Condition: {
                StringEquals: { "kms:ViaService": `ssm.${region}.amazonaws.com` },
                StringLike: { "kms:EncryptionContext:PARAMETER_ARN": `${arns.tls}/*` },
            },
        });
    statements.push(...boundaryStatements([`${arns.edge}/*`], keyArn === undefined ? [] : [keyArn]));
    if (dns01) {
        statements.push(
            {
                Sid: "AcmeDns01Lookup",
                Effect: "Allow",
                Action: ["route53:ListHostedZones", "route53:GetChange"],
                Resource: "*",
            },
            {
                Sid: "AcmeDns01Records",
                Effect: "Allow",
                Action: ["route53:ChangeResourceRecordSets"],
                Resource: "arn:aws:route53:::hostedzone/*",
            },
        );
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * The edge key's policy: the account administers the key and grants through IAM (so the deployer, whose
 * Pulumi provider writes and reads back the parameters, keeps working), exactly like the cluster key's
 * default policy. No Keelson role has kms:Decrypt on `*`, and every Keelson role denies every key but its
 * own, so of Keelson's roles only the edge role can decrypt (proved in test/policy/secrets.test.ts).
 */
export function edgeKeyPolicyDocument(partition: string, accountId: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersAndGrantsThroughIam",
                Effect: "Allow",
                Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
                Action: "kms:*",
                Resource: "*",
            },
        ],
    });
}

/** The provider's partition, account and region (invokes). */
function accountContext(parent: pulumi.Resource) {
    const opts = { parent };
    return {
        partition: aws.getPartitionOutput({}, opts).partition,
        accountId: aws.getCallerIdentityOutput({}, opts).accountId,
        region: aws.getRegionOutput({}, opts).region,
    };
}

/** Creates `<name>-tls-key` (the customer-managed key of the edge's TLS private keys, rotated yearly). */
export function createEdgeKey(name: string, parent: pulumi.Resource): aws.kms.Key {
    const ctx = accountContext(parent);
    return new aws.kms.Key(
        `${name}-tls-key`,
        {
            description: `Keelson edge ${name}: encrypts the TLS private keys in SSM (only the edge role decrypts)`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            policy: pulumi.all([ctx.partition, ctx.accountId]).apply(([p, a]) => edgeKeyPolicyDocument(p, a)),
        },
        { parent },
    );
}

/** Creates the role, its inline policies (parameters and key, Session Manager) and the instance profile. */
export function createEdgeAccess(
    name: string,
    prefixes: { readonly ssm: string; readonly tls: string },
    key: aws.kms.Key | undefined,
    dns01: boolean,
    parent: pulumi.Resource,
): EdgeAccess {
    const opts = { parent };
    const role = new aws.iam.Role(
        `${name}-role`,
        {
            description: `Keelson edge hosts (${name}): read config and TLS material from SSM ${prefixes.ssm}`,
            assumeRolePolicy: EC2_ASSUME_ROLE_POLICY,
        },
        opts,
    );
    const ctx = accountContext(parent);
    const base = pulumi.interpolate`arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter`;
    new aws.iam.RolePolicy(
        `${name}-tls`,
        {
            role: role.name,
            policy: pulumi
                .all([base, key?.arn, ctx.region])
                .apply(([b, keyArn, region]) =>
                    edgePolicyDocument(
                        { edge: `${b}${prefixes.ssm}`, tls: `${b}${prefixes.tls}` },
                        keyArn,
                        region,
                        dns01,
                    ),
                ),
        },
        opts,
    );
    new aws.iam.RolePolicy(
        `${name}-session-manager`,
        { role: role.name, policy: sessionManagerPolicyDocument() },
        opts,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, opts);
    return { role, profile };
}
