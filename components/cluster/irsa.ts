// A role for one Kubernetes service account (IRSA): trusted through the cluster's OIDC provider by
// exactly `system:serviceaccount:<ns>:<name>` with audience sts.amazonaws.com, plus its inline policy.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ServiceAccountRef, serviceAccountTrustPolicy } from "./render/oidc";

/** What a service-account role trusts: the cluster's issuer and its IAM OIDC provider. */
export interface WebIdentityIssuer {
    /** `https://<bucket>.s3.<region>.amazonaws.com`. */
    readonly issuer: pulumi.Input<string>;
    /** ARN of the `aws.iam.OpenIdConnectProvider` for that issuer. */
    readonly providerArn: pulumi.Input<string>;
}

/** Options of {@link createServiceAccountRole}. */
export interface ServiceAccountRoleOptions {
    readonly issuer: WebIdentityIssuer;
    /** The one service account that may assume the role. */
    readonly serviceAccount: ServiceAccountRef;
    /** The role's inline policy document (JSON). Default none. */
    readonly policy?: pulumi.Input<string>;
    /** AWS managed policies to attach (e.g. AmazonEBSCSIDriverPolicy). Default none. */
    readonly managedPolicyArns?: readonly string[];
    readonly tags: Record<string, string>;
}

/** The role and its policies; consumers wait for all of them before their pods start. */
export interface ServiceAccountRole {
    readonly role: aws.iam.Role;
    /** The inline policy and the managed-policy attachments. */
    readonly policies: pulumi.Resource[];
}

/**
 * Creates role `<name>` (assumable only with a web identity token of the given service account), its
 * inline policy `<name>` and one attachment `<name>-<policy>` per managed policy, as children of `parent`. No instance profile: no EC2 instance can use it.
 */
export function createServiceAccountRole(
    name: string,
    o: ServiceAccountRoleOptions,
    parent: pulumi.Resource,
): ServiceAccountRole {
    const sa = o.serviceAccount;
    const role = new aws.iam.Role(
        name,
        {
            description: `Keelson ${name}: IRSA role of service account ${sa.namespace}/${sa.name}`,
            assumeRolePolicy: pulumi
                .all([o.issuer.providerArn, o.issuer.issuer])
                .apply(([arn, issuer]) => JSON.stringify(serviceAccountTrustPolicy(arn, issuer, sa))),
            maxSessionDuration: 3600,
            tags: { ...o.tags, Name: name },
        },
        { parent },
    );
    const policies: pulumi.Resource[] = [];
    if (o.policy !== undefined) {
        policies.push(new aws.iam.RolePolicy(name, { role: role.name, policy: o.policy }, { parent }));
    }
    for (const arn of o.managedPolicyArns ?? []) {
        const short = arn.split("/").pop()!;
        policies.push(
            new aws.iam.RolePolicyAttachment(
                `${name}-${short}`,
                { role: role.name, policyArn: arn },
                { parent },
            ),
        );
    }
    return { role, policies };
}
