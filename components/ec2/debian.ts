import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Debian's AWS account, which publishes the official Debian 12 AMIs. */
export const DEBIAN_OWNER = "136693071363";

/** The newest official Debian 12 amd64 AMI in the provider's region: every Keelson VM boots from it. */
export function debianAmi(parent: pulumi.Resource): pulumi.Output<string> {
    return aws.ec2
        .getAmiOutput(
            {
                owners: [DEBIAN_OWNER],
                mostRecent: true,
                filters: [
                    { name: "name", values: ["debian-12-amd64-*"] },
                    { name: "architecture", values: ["x86_64"] },
                    { name: "virtualization-type", values: ["hvm"] },
                ],
            },
            { parent },
        )
        .apply((ami) => ami.id);
}
