// The launch template every Auto Scaling Group of a cluster launches from (worker pools and healing master
// slots): the Debian AMI, IMDSv2 only with the hop limit given, an encrypted gp3 root volume, gzip'd user-data,
// and tags on the template, its instances and their volumes.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Root device of Debian's official AMIs (amd64 and arm64 alike). */
export const DEBIAN_ROOT_DEVICE = "/dev/xvda";

/** Inputs of {@link createNodeLaunchTemplate}. */
export interface NodeLaunchTemplateArgs {
    readonly description: string;
    readonly ami: pulumi.Input<string>;
    readonly instanceType: string;
    /** gzip + base64 user-data (see ../ec2/user-data.ts). */
    readonly userDataBase64: pulumi.Input<string>;
    readonly instanceProfileName: pulumi.Input<string>;
    readonly securityGroupIds: pulumi.Input<string>[];
    /** IMDS hop limit: 1 keeps the node's role away from pods (their requests are one hop further). */
    readonly metadataHopLimit: 1 | 2;
    /** Root gp3 volume size in GiB (encrypted, deleted with the instance). */
    readonly rootVolumeGb: number;
    /** Tags of the template and of every instance and volume launched from it (`Name` is added). */
    readonly tags: Record<string, string>;
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * A launch template whose default version follows its latest. A newer Debian AMI is ignored (`imageId`), so an
 * image rebuild alone never makes a new version: nodes move to a new AMI with the next change for another reason.
 */
export function createNodeLaunchTemplate(
    name: string,
    a: NodeLaunchTemplateArgs,
    parent: pulumi.Resource,
): aws.ec2.LaunchTemplate {
    const tags = { ...a.tags, Name: name };
    return new aws.ec2.LaunchTemplate(
        name,
        {
            description: a.description,
            imageId: a.ami,
            instanceType: a.instanceType,
            userData: a.userDataBase64,
            iamInstanceProfile: { name: a.instanceProfileName },
            vpcSecurityGroupIds: a.securityGroupIds,
            metadataOptions: {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: a.metadataHopLimit,
                instanceMetadataTags: "disabled",
            },
            blockDeviceMappings: [
                {
                    deviceName: DEBIAN_ROOT_DEVICE,
                    ebs: {
                        volumeType: "gp3",
                        volumeSize: a.rootVolumeGb,
                        encrypted: "true",
                        deleteOnTermination: "true",
                    },
                },
            ],
            updateDefaultVersion: true,
            tagSpecifications: ["instance", "volume"].map((resourceType) => ({ resourceType, tags })),
            tags,
        },
        { parent, ignoreChanges: ["imageId"], dependsOn: a.dependsOn },
    );
}

/** The template's latest version as a number string: a group pinned to it (not "$Latest") sees each new version. */
export function pinnedVersion(template: aws.ec2.LaunchTemplate): pulumi.Output<string> {
    return template.latestVersion.apply((v) => String(v));
}

/** A group's tags: `propagated` copied to every instance it launches, `groupOnly` kept on the group. */
export function groupTags(
    propagated: Record<string, string>,
    groupOnly: Record<string, string> = {},
): aws.types.input.autoscaling.GroupTag[] {
    return [
        ...Object.entries(propagated).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        ...Object.entries(groupOnly).map(([key, value]) => ({ key, value, propagateAtLaunch: false })),
    ];
}
