// A separate Pulumi program that uses the packed Keelson: plain Node.js (no ts-node), the SDK's public
// mock API, an Application and a Cluster. Prints what it saw as one JSON line for test/package/packed.test.ts.
"use strict";
const crypto = require("crypto");
const pulumi = require("@pulumi/pulumi");

const registered = [];
const keys = {};
function keyPair(name) {
    keys[name] ??= crypto.generateKeyPairSync("ec", {
        namedCurve: "P-256",
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "sec1", format: "pem" },
    });
    return keys[name];
}
const PEM = "-----BEGIN CERTIFICATE-----\nTUlJQm9jaw==\n-----END CERTIFICATE-----\n";

pulumi.runtime.setMocks(
    {
        newResource(args) {
            registered.push([args.type, args.name]);
            // ARNs shaped like AWS's: Keelson derives policy patterns from some (SSM parameters).
            const service = args.type.split(":")[1].split("/")[0];
            const resource =
                args.type === "aws:ssm/parameter:Parameter" ? `parameter${args.inputs.name}` : args.name;
            const state = { ...args.inputs, arn: `arn:aws:${service}:eu-west-1:123456789012:${resource}` };
            if (args.type === "tls:index/privateKey:PrivateKey") {
                const pair = keyPair(args.name);
                Object.assign(state, { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey });
            }
            if (args.type.startsWith("tls:") && args.type.endsWith("Cert")) state.certPem = PEM;
            if (args.type === "aws:ec2/instance:Instance") state.privateIp = "10.0.0.10";
            if (args.type === "aws:ec2/eip:Eip") state.publicIp = "203.0.113.10";
            if (args.type === "aws:iam/role:Role") state.name = args.name;
            return { id: `${args.name}-id`, state };
        },
        call(args) {
            switch (args.token) {
                case "aws:ec2/getAmi:getAmi":
                    return {
                        id: "ami-0123456789abcdef0",
                        imageId: "ami-0123456789abcdef0",
                        architecture: "x86_64",
                    };
                case "aws:index/getRegion:getRegion":
                    return { id: "eu-west-1", name: "eu-west-1", region: "eu-west-1" };
                case "aws:index/getCallerIdentity:getCallerIdentity":
                    return {
                        accountId: "123456789012",
                        arn: "arn:aws:iam::123456789012:user/x",
                        userId: "x",
                    };
                case "aws:index/getPartition:getPartition":
                    return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
                default:
                    throw new Error(`no mock for ${args.token}`);
            }
        },
    },
    "consumer",
    "dev",
    true,
);
pulumi.runtime.setConfig("aws:region", "eu-west-1");

const keelson = require("keelson");

async function main() {
    const network = {
        vpcId: "vpc-1",
        availabilityZones: ["eu-west-1a"],
        publicSubnetIds: ["subnet-public-a"],
        privateSubnetIds: ["subnet-private-a"],
        securityGroups: {
            masters: { id: pulumi.output("sg-masters") },
            workers: { id: pulumi.output("sg-workers") },
            apiLb: { id: pulumi.output("sg-apilb") },
        },
    };
    const cluster = new keelson.Cluster("c", { network });
    const db = keelson.postgres("db");
    const web = keelson.container("web", {
        image: "ghcr.io/stefanprodan/podinfo:6.9.2",
        port: 3000,
        connects: [db],
        routes: [{ kind: "http", hosts: ["shop.example.com"] }],
    });
    const app = new keelson.Application("shop", { services: [web], provider: cluster.provider });
    const endpoint = await new Promise((resolve) => cluster.endpoint.apply(resolve));
    // Let every registration reach the mock monitor.
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.stdout.write(
        JSON.stringify({
            exports: Object.keys(keelson).sort(),
            keelsonPath: require.resolve("keelson"),
            pulumiSeenByKeelson: require.resolve("@pulumi/pulumi", { paths: [require.resolve("keelson")] }),
            pulumiSeenByProgram: require.resolve("@pulumi/pulumi"),
            tsNodeLoaded: Object.keys(require.cache).some((p) => p.includes(`${"ts-node"}`)),
            endpoint,
            clusterName: cluster.clusterName,
            routes: app.routes,
            clusterArtifacts: Object.keys(cluster.artifacts).sort(),
            registered,
        }) + "\n",
    );
}
main().catch((err) => {
    console.error(err);
    process.exit(1);
});
