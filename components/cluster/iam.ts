// Instance roles. Masters and workers read their SSM parameters (GetParameter(s) on exactly those
// ARNs, kms:Decrypt on the cluster key through SSM only) and get Session Manager access without any
// parameter read (a scoped copy of AmazonSSMManagedInstanceCore); every role explicitly denies every
// parameter and every KMS key that is not its own. Add-ons that call AWS use IRSA roles (./irsa.ts).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EC2_ASSUME_ROLE_POLICY } from "../ec2/trust";

/** AWS managed policies Keelson attaches, by purpose. */
export const MANAGED_POLICIES = {
    /** Image pulls from private ECR (the kubelet's ecr-credential-provider uses the node's role). */
    ecrRead: aws.iam.ManagedPolicy.AmazonEC2ContainerRegistryReadOnly,
} as const;

/**
 * AmazonSSMManagedInstanceCore (policy version v2) without `ssm:GetParameter` and `ssm:GetParameters`:
 * what the SSM agent needs for Session Manager, Run Command and State Manager, and no parameter read.
 * The managed policy allows both on `*`, which made every SecureString under `aws/ssm` readable.
 */
export const SESSION_MANAGER_ACTIONS: readonly string[] = [
    "ssm:DescribeAssociation",
    "ssm:GetDeployablePatchSnapshotForInstance",
    "ssm:GetDocument",
    "ssm:DescribeDocument",
    "ssm:GetManifest",
    "ssm:ListAssociations",
    "ssm:ListInstanceAssociations",
    "ssm:PutInventory",
    "ssm:PutComplianceItems",
    "ssm:PutConfigurePackageResult",
    "ssm:UpdateAssociationStatus",
    "ssm:UpdateInstanceAssociationStatus",
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
];

/** The inline Session Manager policy of every Keelson instance role (see {@link SESSION_MANAGER_ACTIONS}). */
export function sessionManagerPolicyDocument(): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "SessionManager", Effect: "Allow", Action: SESSION_MANAGER_ACTIONS, Resource: "*" },
        ],
    });
}

/**
 * The explicit Denies every Keelson instance role carries: no parameter read outside `ownParameterArns`
 * and no kms:Decrypt outside `ownKeyArns` (all of them when a list is empty). An explicit Deny wins over
 * any Allow, so a managed policy attached later (CloudWatchAgentServerPolicy reads `AmazonCloudWatch-*`)
 * or a key policy elsewhere in the account cannot open another stage's or another component's secrets.
 */
export function boundaryStatements(
    ownParameterArns: string[],
    ownKeyArns: string[],
): Record<string, unknown>[] {
    const scope = (arns: string[]) => (arns.length > 0 ? { NotResource: arns } : { Resource: "*" });
    return [
        {
            Sid: "NoOtherParameters",
            Effect: "Deny",
            Action: ["ssm:GetParameter*"],
            ...scope(ownParameterArns),
        },
        { Sid: "NoOtherKeys", Effect: "Deny", Action: ["kms:Decrypt"], ...scope(ownKeyArns) },
    ];
}

/** A role with its instance profile. */
export interface NodeIdentity {
    readonly role: aws.iam.Role;
    readonly profile: aws.iam.InstanceProfile;
    /** The inline policy granting the SSM parameters and denying every other one. */
    readonly parameterPolicy: aws.iam.RolePolicy;
}

/** Options of {@link createNodeIdentity}. */
export interface NodeIdentityOptions {
    readonly region: string;
    /** Parameters this role may read; every other parameter is denied explicitly. */
    readonly parameterArns: pulumi.Input<string>[];
    /** String parameters (no key) this role also reads, e.g. the bootstrap state `.../state/*`. Default none. */
    readonly plainParameterArns?: pulumi.Input<string>[];
    /** Parameters this role must never read, named in their own Deny (clearer in review). Default none. */
    readonly deniedParameterArns?: pulumi.Input<string>[];
    /** The key of `parameterArns`; kms:Decrypt of every other key is denied. */
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
 * pod on one, through IMDS) could decrypt the CA keys. {@link boundaryStatements} deny every other
 * parameter and key; `deniedArns` names the control-plane parameters in a Deny of their own.
 */
export function parameterPolicyDocument(
    region: string,
    parameterArns: string[],
    kmsKeyArn: string,
    deniedArns: string[] = [],
    plainArns: string[] = [],
): Record<string, unknown> {
    const statements: Record<string, unknown>[] = [
        {
            Sid: "ReadClusterParameters",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: [...parameterArns, ...plainArns],
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
    statements.push(...boundaryStatements([...parameterArns, ...plainArns], [kmsKeyArn]));
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

/**
 * Creates `<name>` role, `<name>` instance profile, the parameter policy (`<name>-parameters`: the reads
 * and the boundary Denies; only the Denies for a role that reads nothing), the Session Manager policy
 * (`<name>-session-manager`) and the managed policy attachments.
 */
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
    const reads = o.parameterArns.length > 0 && o.kmsKeyArn !== undefined;
    const parameterPolicy = new aws.iam.RolePolicy(
        `${name}-parameters`,
        {
            role: role.name,
            policy: pulumi
                .all([
                    pulumi.all(o.parameterArns),
                    o.kmsKeyArn ?? "",
                    pulumi.all(o.deniedParameterArns ?? []),
                    pulumi.all(o.plainParameterArns ?? []),
                ])
                .apply(([arns, key, denied, plain]) =>
                    JSON.stringify(
                        reads
                            ? parameterPolicyDocument(o.region, arns, key, denied, plain)
                            : { Version: "2012-10-17", Statement: boundaryStatements([], []) },
                    ),
                ),
        },
        { parent },
    );
    new aws.iam.RolePolicy(
        `${name}-session-manager`,
        { role: role.name, policy: sessionManagerPolicyDocument() },
        { parent },
    );
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
