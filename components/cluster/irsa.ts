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
    /** The role's inline policy document (JSON). */
    readonly policy: pulumi.Input<string>;
    readonly tags: Record<string, string>;
}

/** The role and its inline policy; consumers wait for both before their pods start. */
export interface ServiceAccountRole {
    readonly role: aws.iam.Role;
    readonly policy: aws.iam.RolePolicy;
}

/**
 * Creates role `<name>` (assumable only with a web identity token of the given service account) and its
 * inline policy `<name>` as children of `parent`. No instance profile: no EC2 instance can use it.
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
    const policy = new aws.iam.RolePolicy(name, { role: role.name, policy: o.policy }, { parent });
    return { role, policy };
}
