// IAM for edge hosts: a role that reads exactly the edge's SSM parameters (config and TLS; for ACME DNS-01,
// writes Route 53 challenge records), plus Session Manager so that port 22 stays closed.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EC2_ASSUME_ROLE_POLICY } from "../ec2/trust";

/** The instance profile and role of the edge hosts. */
export interface EdgeAccess {
    readonly role: aws.iam.Role;
    readonly profile: aws.iam.InstanceProfile;
}

/** The policy document of the edge role: SSM read below the edge's prefix, Route 53 only for DNS-01. */
export function edgePolicyDocument(parameterArn: string, dns01: boolean): string {
    const statements: Record<string, unknown>[] = [
        {
            Sid: "ReadEdgeConfigAndTls",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: parameterArn,
        },
    ];
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

/** Creates the role, its inline policy, the Session Manager attachment and the instance profile. */
export function createEdgeAccess(
    name: string,
    parameterPrefix: string,
    dns01: boolean,
    parent: pulumi.Resource,
): EdgeAccess {
    const opts = { parent };
    const role = new aws.iam.Role(
        `${name}-role`,
        {
            description: `Keelson edge hosts (${name}): read config and TLS material from SSM ${parameterPrefix}`,
            assumeRolePolicy: EC2_ASSUME_ROLE_POLICY,
        },
        opts,
    );
    const identity = aws.getCallerIdentityOutput({}, opts);
    const region = aws.getRegionOutput({}, opts);
    const partition = aws.getPartitionOutput({}, opts);
    const parameterArn = pulumi.interpolate`arn:${partition.partition}:ssm:${region.region}:${identity.accountId}:parameter${parameterPrefix}/*`;
    new aws.iam.RolePolicy(
        `${name}-tls`,
        { role: role.name, policy: parameterArn.apply((arn) => edgePolicyDocument(arn, dns01)) },
        opts,
    );
    new aws.iam.RolePolicyAttachment(
        `${name}-ssm-core`,
        { role: role.name, policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" },
        opts,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, opts);
    return { role, profile };
}
