import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { contextHash } from "./content-hash";

/** Arguments of an ImageBuild. */
export interface ImageBuildArgs {
    /** Build context directory. */
    readonly context: string;
    /** Dockerfile relative to the context. Default `Dockerfile`. */
    readonly dockerfile?: string;
    /** Target platform. Default `linux/amd64` (the cluster's EC2 instances). */
    readonly platform?: string;
}

/**
 * Builds an image from a context directory with `@pulumi/docker` and pushes it to its own ECR repository
 * (scan on push, immutable tags). The tag is the content hash of the context, so an unchanged context
 * is never rebuilt under a new name and a pushed tag is never overwritten.
 */
export class ImageBuild extends pulumi.ComponentResource {
    readonly repository: aws.ecr.Repository;
    readonly image: docker.Image;
    /** The content-hash tag. */
    readonly tag: string;
    /** `<repositoryUrl>:<tag>`, pinned. */
    readonly imageName: pulumi.Output<string>;

    constructor(name: string, args: ImageBuildArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:app:ImageBuild", name, {}, opts);
        this.tag = contextHash(args.context);
        this.repository = new aws.ecr.Repository(
            `${name}-repo`,
            {
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "AES256" }],
            },
            { parent: this },
        );
        // The repository lives in the account's default registry, so no registryId is needed.
        const auth = aws.ecr.getAuthorizationTokenOutput({}, { parent: this });
        this.image = new docker.Image(
            `${name}-image`,
            {
                imageName: pulumi.interpolate`${this.repository.repositoryUrl}:${this.tag}`,
                build: {
                    context: args.context,
                    dockerfile: `${args.context}/${args.dockerfile ?? "Dockerfile"}`,
                    platform: args.platform ?? "linux/amd64",
                },
                registry: {
                    server: this.repository.repositoryUrl,
                    username: auth.userName,
                    password: pulumi.secret(auth.password),
                },
            },
            { parent: this },
        );
        this.imageName = this.image.imageName;
        this.registerOutputs({ imageName: this.imageName });
    }
}
