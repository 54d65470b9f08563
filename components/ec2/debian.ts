// The Debian image every Keelson VM boots: the official Debian 13 ("trixie") AMI for the machine's
// architecture, which follows from the instance type (Graviton families are arm64).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * Debian's AWS account, which publishes the official Debian cloud images (https://wiki.debian.org/Cloud/AmazonEC2Image):
 * names `debian-<release>-<arch>-<yyyymmdd>-<build>`, e.g. `debian-13-arm64-20261101-2284`.
 */
export const DEBIAN_OWNER = "136693071363";
/** The Debian release every node runs. */
export const DEBIAN_RELEASE = 13;

/** Debian's name for a machine architecture, and EC2's. */
export type DebianArchitecture = "amd64" | "arm64";
const EC2_ARCHITECTURE: Record<DebianArchitecture, string> = { amd64: "x86_64", arm64: "arm64" };

/**
 * The architecture of an EC2 instance type: arm64 for AWS Graviton (the `a1` family, and every
 * family whose attribute letters after the generation include `g`: t4g, m7g, c7gn, r8gd, x2gd,
 * im4gn, is4gen, g5g), amd64 for the rest (Intel `i`, AMD `a`, and no letter at all). Throws on a name
 * it cannot read, or on Mac instances (`mac*`), which no Debian image supports.
 */
export function architectureOf(instanceType: string): DebianArchitecture {
    const m = /^([a-z]+)(\d+)([a-z-]*)\.[a-z0-9-]+$/.exec(instanceType);
    if (!m)
        throw new Error(`instance type ${JSON.stringify(instanceType)} is not <family><generation>.<size>`);
    const [, family, , attributes] = m;
    if (family === "mac")
        throw new Error(
            `instance type ${instanceType}: Mac instances run macOS only; use an amd64 or Graviton type`,
        );
    return family === "a" || /g/.test(attributes.replace(/-.*$/, "")) ? "arm64" : "amd64";
}

/** The AMI name pattern of a Debian release and architecture: `debian-13-arm64-*`. */
export function debianAmiPattern(arch: DebianArchitecture, release = DEBIAN_RELEASE): string {
    return `debian-${release}-${arch}-*`;
}

/**
 * The newest official Debian 13 AMI for `arch` in the provider's region (default amd64). Nodes ignore a
 * newer AMI once they run (see ../cluster/nodes.ts): a new image reaches them by replacement only.
 */
export function debianAmi(
    parent: pulumi.Resource,
    arch: DebianArchitecture = "amd64",
): pulumi.Output<string> {
    return aws.ec2
        .getAmiOutput(
            {
                owners: [DEBIAN_OWNER],
                mostRecent: true,
                filters: [
                    { name: "name", values: [debianAmiPattern(arch)] },
                    { name: "architecture", values: [EC2_ARCHITECTURE[arch]] },
                    { name: "virtualization-type", values: ["hvm"] },
                ],
            },
            { parent },
        )
        .apply((ami) => ami.id);
}
