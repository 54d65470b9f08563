// EC2 instances for masters, workers and API load balancer hosts: Debian 12, IMDSv2 only, encrypted
// gp3 root volumes, gzip'd cloud-init user-data.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Inputs of one instance. */
export interface InstanceOptions {
    readonly ami: pulumi.Input<string>;
    readonly instanceType: string;
    readonly subnetId: pulumi.Input<string>;
    readonly securityGroupIds: pulumi.Input<string>[];
    readonly instanceProfile: pulumi.Input<string>;
    /** gzip + base64 user-data (see ../ec2/user-data.ts). */
    readonly userDataBase64: pulumi.Input<string>;
    readonly rootVolumeGb: number;
    /**
     * IMDS hop limit: 1 keeps the instance role away from pods (their traffic is one hop further);
     * 2 would let pods on this node use it. Keelson uses 1 everywhere: add-ons that call AWS have
     * roles of their own (IRSA).
     */
    readonly metadataHopLimit: 1 | 2;
    /** A public IP at launch (only for hosts in public subnets, replaced by their Elastic IP). */
    readonly publicIp?: boolean;
    /** Replace the instance when its user-data changes (stateless hosts). Default false: changes are ignored. */
    readonly replaceOnUserDataChange?: boolean;
    readonly tags: Record<string, string>;
    readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * One instance. `ami` and `userData` changes are ignored: a newer Debian AMI or a re-rendered
 * bootstrap must not stop or replace every node at once (etcd would lose quorum); roll nodes one at
 * a time with `pulumi up --replace <urn>`. Stateless hosts (API load balancers) opt into replacement.
 */
export function createInstance(name: string, o: InstanceOptions, parent: pulumi.Resource): aws.ec2.Instance {
    return new aws.ec2.Instance(
        name,
        {
            ami: o.ami,
            instanceType: o.instanceType,
            subnetId: o.subnetId,
            vpcSecurityGroupIds: o.securityGroupIds,
            iamInstanceProfile: o.instanceProfile,
            associatePublicIpAddress: o.publicIp ?? false,
            userDataBase64: o.userDataBase64,
            userDataReplaceOnChange: o.replaceOnUserDataChange ?? false,
            metadataOptions: {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: o.metadataHopLimit,
                instanceMetadataTags: "disabled",
            },
            rootBlockDevice: {
                volumeType: "gp3",
                volumeSize: o.rootVolumeGb,
                encrypted: true,
                deleteOnTermination: true,
            },
            monitoring: false,
            tags: { ...o.tags, Name: name },
            volumeTags: { ...o.tags, Name: name },
        },
        {
            parent,
            ignoreChanges: o.replaceOnUserDataChange ? ["ami"] : ["ami", "userData", "userDataBase64"],
            dependsOn: o.dependsOn,
        },
    );
}
