// Instance roles. Masters and workers read their SSM parameters (GetParameter(s) on exactly those
// ARNs, kms:Decrypt on the cluster key through SSM only) and get Session Manager access; workers
// also get the EBS CSI driver's permissions (its pods use the worker role through IMDSv2).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EC2_ASSUME_ROLE_POLICY } from "../ec2/trust";

/** AWS managed policies Keelson attaches, by purpose. */
export const MANAGED_POLICIES = {
    /** SSM Session Manager (operators' shell, no SSH). */
    sessionManager: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore,
    /** The AWS EBS CSI driver's controller (it uses the worker's credentials through IMDSv2, hop limit 2). */
    ebsCsi: aws.iam.ManagedPolicy.AmazonEBSCSIDriverPolicy,
} as const;

/** A role with its instance profile. */
export interface NodeIdentity {
    readonly role: aws.iam.Role;
    readonly profile: aws.iam.InstanceProfile;
    /** The inline policy granting the SSM parameters (absent for roles that read none). */
    readonly parameterPolicy?: aws.iam.RolePolicy;
}

/** Options of {@link createNodeIdentity}. */
export interface NodeIdentityOptions {
    readonly region: string;
    /** Parameters this role may read; none means no parameter policy. */
    readonly parameterArns: pulumi.Input<string>[];
    /** Parameters this role must never read (explicit Deny). Default none. */
    readonly deniedParameterArns?: pulumi.Input<string>[];
    readonly kmsKeyArn?: pulumi.Input<string>;
    /** Managed policy ARNs to attach. */
    readonly managedPolicies: readonly string[];
    readonly tags: Record<string, string>;
}

/**
 * The parameter-read policy document: GetParameter(s) on the exact parameter ARNs, and kms:Decrypt
 * of the cluster key only through SSM and only for those parameters (SSM's encryption context is
 * the parameter ARN). The KMS condition is the real boundary: AmazonSSMManagedInstanceCore, which
 * Session Manager needs, allows ssm:GetParameter(s) on every parameter; without it a worker (or a
 * pod on one, through IMDS) could decrypt the CA keys. `deniedArns` adds an explicit Deny on top.
 */
export function parameterPolicyDocument(
    region: string,
    parameterArns: string[],
    kmsKeyArn: string,
    deniedArns: string[] = [],
): Record<string, unknown> {
    const statements: Record<string, unknown>[] = [
        {
            Sid: "ReadClusterParameters",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: parameterArns,
        },
        {
            Sid: "DecryptClusterParameters",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: kmsKeyArn,
            Condition: {
                StringEquals: {
                    "kms:ViaService": `ssm.${region}.amazonaws.com`,
                    "kms:EncryptionContext:PARAMETER_ARN": parameterArns,
                },
            },
        },
    ];
    if (deniedArns.length > 0) {
        statements.push({
            Sid: "NoControlPlaneParameters",
            Effect: "Deny",
            Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"],
            Resource: deniedArns,
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** Creates `<name>` role, `<name>` instance profile, the parameter policy and the attachments. */
export function createNodeIdentity(
    name: string,
    o: NodeIdentityOptions,
    parent: pulumi.Resource,
): NodeIdentity {
    const role = new aws.iam.Role(
        name,
        {
            description: `Keelson ${name}: EC2 instance role`,
            assumeRolePolicy: EC2_ASSUME_ROLE_POLICY,
            tags: { ...o.tags, Name: name },
        },
        { parent },
    );
    let parameterPolicy: aws.iam.RolePolicy | undefined;
    if (o.parameterArns.length > 0 && o.kmsKeyArn !== undefined) {
        parameterPolicy = new aws.iam.RolePolicy(
            `${name}-parameters`,
            {
                role: role.name,
                policy: pulumi
                    .all([pulumi.all(o.parameterArns), o.kmsKeyArn, pulumi.all(o.deniedParameterArns ?? [])])
                    .apply(([arns, key, denied]) =>
                        JSON.stringify(parameterPolicyDocument(o.region, arns, key, denied)),
                    ),
            },
            { parent },
        );
    }
    for (const arn of o.managedPolicies) {
        const short = arn.split("/").pop()!;
        new aws.iam.RolePolicyAttachment(`${name}-${short}`, { role: role.name, policyArn: arn }, { parent });
    }
    const profile = new aws.iam.InstanceProfile(
        name,
        { role: role.name, tags: { ...o.tags, Name: name } },
        { parent },
    );
    return { role, profile, parameterPolicy };
}
