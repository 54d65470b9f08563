// The cluster's bootstrap state in SSM (String parameters below `<prefix>/state/`, never secrets):
// the durable "initialised" marker, one record per master slot, and each node's reported state.
// Pulumi creates the marker and the slot records (so `pulumi destroy` removes them and a new
// cluster never inherits an old marker) and ignores their values, which the nodes own.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { INITIALISED_MARKER, masterSlots, slotRecord } from "./render/bootstrap-masters";

/** What {@link createClusterState} makes. */
export interface ClusterState {
    /** `<prefix>/state/initialised`, `no` until master 0's first init sets `yes <time> <instance>`. */
    readonly marker: aws.ssm.Parameter;
    /** `<prefix>/state/masters/master-<i>`, `none` until that slot's master records itself. */
    readonly slots: aws.ssm.Parameter[];
    /** ARN pattern of every state parameter (`.../state/*`). */
    readonly stateArnPattern: pulumi.Output<string>;
    /** ARN pattern of the nodes' reports (`.../state/nodes/*`). */
    readonly reportArnPattern: pulumi.Output<string>;
}

/** `arn:...:parameter<prefix>/<path>` from the ARN of any parameter of the same account and region. */
export function parameterArnPattern(sampleArn: string, prefix: string, path: string): string {
    const at = sampleArn.indexOf(":parameter/");
    if (at < 0) throw new Error(`not an SSM parameter ARN: ${sampleArn}`);
    return `${sampleArn.slice(0, at)}:parameter${prefix}/${path}`;
}

/** Creates the marker and the slot records as children of `parent`; values are the nodes' from then on. */
export function createClusterState(
    name: string,
    prefix: string,
    masters: number,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ClusterState {
    const param = (key: string, path: string, value: string, description: string) =>
        new aws.ssm.Parameter(
            `${name}-state-${key}`,
            {
                name: `${prefix}/state/${path}`,
                description: `Keelson ${name}: ${description} (written by the nodes)`,
                type: "String",
                tier: "Standard",
                // Not a secret: `value` would be stored and shown as one.
                insecureValue: value,
                tags: { ...tags, Name: `${name}-state-${key}` },
            },
            { parent, ignoreChanges: ["insecureValue", "value"] },
        );
    const marker = param(
        "initialised",
        INITIALISED_MARKER,
        "no",
        "set once master 0 has initialised the cluster",
    );
    const slots = masterSlots(masters).map((slot) =>
        param(slot, slotRecord(slot), "none", `node, instance and address of slot ${slot}`),
    );
    return {
        marker,
        slots,
        stateArnPattern: marker.arn.apply((a) => parameterArnPattern(a, prefix, "state/*")),
        reportArnPattern: marker.arn.apply((a) => parameterArnPattern(a, prefix, "state/nodes/*")),
    };
}

/**
 * The state-write policy document. Masters: PutParameter on every state parameter, and on the join
 * token (the rotation) with kms:Encrypt/GenerateDataKey of the cluster key only through SSM and only
 * for that parameter. Workers: PutParameter on their own reports only.
 */
export function stateWritePolicyDocument(
    role: "master" | "worker",
    region: string,
    o: { stateArnPattern: string; reportArnPattern: string; tokenArn: string; kmsKeyArn: string },
): Record<string, unknown> {
    const statements: Record<string, unknown>[] = [
        {
            Sid: "ReportBootstrapState",
            Effect: "Allow",
            Action: "ssm:PutParameter",
            Resource: role === "master" ? [o.stateArnPattern, o.tokenArn] : [o.reportArnPattern],
        },
    ];
    if (role === "master") {
        statements.push({
            Sid: "EncryptRotatedToken",
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:GenerateDataKey"],
            Resource: o.kmsKeyArn,
            Condition: {
                StringEquals: {
                    "kms:ViaService": `ssm.${region}.amazonaws.com`,
                    "kms:EncryptionContext:PARAMETER_ARN": o.tokenArn,
                },
            },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** Inputs of {@link createStatePolicy}. */
export interface StatePolicyOptions {
    readonly region: string;
    readonly state: ClusterState;
    /** ARN of `<prefix>/join/bootstrap-token` (masters rotate it). */
    readonly tokenArn: pulumi.Input<string>;
    readonly kmsKeyArn: pulumi.Input<string>;
}

/** `<name>-state`: the state-write policy of a node role (see {@link stateWritePolicyDocument}). */
export function createStatePolicy(
    name: string,
    role: aws.iam.Role,
    kind: "master" | "worker",
    o: StatePolicyOptions,
    parent: pulumi.Resource,
): aws.iam.RolePolicy {
    return new aws.iam.RolePolicy(
        `${name}-state`,
        {
            role: role.name,
            policy: pulumi
                .all([o.state.stateArnPattern, o.state.reportArnPattern, o.tokenArn, o.kmsKeyArn])
                .apply(([stateArnPattern, reportArnPattern, tokenArn, kmsKeyArn]) =>
                    JSON.stringify(
                        stateWritePolicyDocument(kind, o.region, {
                            stateArnPattern,
                            reportArnPattern,
                            tokenArn,
                            kmsKeyArn,
                        }),
                    ),
                ),
        },
        { parent },
    );
}
