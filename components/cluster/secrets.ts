// Join secrets and their delivery: the bootstrap token, certificate key and encryption key from
// @pulumi/random, and every secret a node needs as an SSM SecureString under the cluster's prefix,
// encrypted with a cluster KMS key that only the node roles may use for decryption (through SSM).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ClusterPki } from "./pki";
import { CONTROL_PLANE_PARAMETERS, JOIN_PARAMETERS, ParameterSpec } from "./render/ssm-layout";

/** What {@link createClusterSecrets} makes. */
export interface ClusterSecrets {
    /** `[a-z0-9]{6}.[a-z0-9]{16}`, secret. */
    readonly bootstrapToken: pulumi.Output<string>;
    /** 64 hex characters, secret. */
    readonly certificateKey: pulumi.Output<string>;
    /** 32 random bytes, base64, secret: the secretbox key for Secrets at rest. */
    readonly encryptionKey: pulumi.Output<string>;
    /** The KMS key the parameters are encrypted with. */
    readonly kmsKey: aws.kms.Key;
    /** Every parameter by its key (see ./render/ssm-layout.ts). */
    readonly parameters: Record<string, aws.ssm.Parameter>;
    /** ARNs of the parameters every node reads. */
    readonly joinParameterArns: pulumi.Output<string>[];
    /** ARNs of the parameters only masters read. */
    readonly controlPlaneParameterArns: pulumi.Output<string>[];
}

/** Creates the random secrets, the KMS key and the SSM parameters as children of `parent`. */
export function createClusterSecrets(
    name: string,
    prefix: string,
    pki: ClusterPki,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterSecrets {
    const tokenId = new random.RandomString(
        `${name}-token-id`,
        { length: 6, lower: true, upper: false, numeric: true, special: false },
        { parent },
    );
    const tokenSecret = new random.RandomPassword(
        `${name}-token-secret`,
        { length: 16, lower: true, upper: false, numeric: true, special: false },
        { parent },
    );
    const bootstrapToken = pulumi.secret(pulumi.interpolate`${tokenId.result}.${tokenSecret.result}`);
    const certificateKey = pulumi.secret(
        new random.RandomBytes(`${name}-certificate-key`, { length: 32 }, { parent }).hex,
    );
    const encryptionKey = pulumi.secret(
        new random.RandomBytes(`${name}-encryption-key`, { length: 32 }, { parent }).base64,
    );

    const kmsKey = new aws.kms.Key(
        `${name}-ssm`,
        {
            description: `Keelson ${name}: encrypts the cluster's SSM parameters (CA keys, join token)`,
            enableKeyRotation: true,
            deletionWindowInDays: 30,
            tags: { ...tags, Name: `${name}-ssm` },
        },
        { parent },
    );

    const values: Record<string, pulumi.Input<string>> = {
        "ca-crt": pki.ca.cert.certPem,
        "bootstrap-token": bootstrapToken,
        "ca-key": pki.ca.key.privateKeyPem,
        "etcd-ca-crt": pki.etcdCa.cert.certPem,
        "etcd-ca-key": pki.etcdCa.key.privateKeyPem,
        "front-proxy-ca-crt": pki.frontProxyCa.cert.certPem,
        "front-proxy-ca-key": pki.frontProxyCa.key.privateKeyPem,
        "sa-key": pki.serviceAccountKey.privateKeyPem,
        "sa-pub": pki.serviceAccountKey.publicKeyPem,
        "encryption-key": encryptionKey,
        "certificate-key": certificateKey,
    };
    const parameters: Record<string, aws.ssm.Parameter> = {};
    const make = (spec: ParameterSpec) => {
        parameters[spec.key] = new aws.ssm.Parameter(
            `${name}-ssm-${spec.key}`,
            {
                name: `${prefix}/${spec.path}`,
                description: `Keelson ${name}: ${spec.key}, read by the nodes at boot`,
                type: "SecureString",
                tier: "Standard",
                keyId: kmsKey.arn,
                // Certificates are public, but one rule (all SecureString, all secret) is easier to audit.
                value: pulumi.secret(values[spec.key]),
                tags: { ...tags, Name: `${name}-ssm-${spec.key}` },
            },
            // The masters rotate the join token into this parameter (24 h tokens): Pulumi sets the
            // first one and must never write an expired one back.
            { parent, ignoreChanges: spec.key === "bootstrap-token" ? ["value"] : [] },
        );
        return parameters[spec.key].arn;
    };
    const joinParameterArns = JOIN_PARAMETERS.map(make);
    const controlPlaneParameterArns = CONTROL_PLANE_PARAMETERS.map(make);
    return {
        bootstrapToken,
        certificateKey,
        encryptionKey,
        kmsKey,
        parameters,
        joinParameterArns,
        controlPlaneParameterArns,
    };
}
