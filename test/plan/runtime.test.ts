import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import { ArtifactSet } from "../../components/artifact-set";
import { runUnderMocks } from "../../tools/plan/runtime";

class Pair extends pulumi.ComponentResource {
    readonly key: tls.PrivateKey;
    constructor(name: string) {
        super("keelson:test:Pair", name, {}, {});
        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: "10.0.0.0/16" }, { parent: this });
        this.key = new tls.PrivateKey(
            `${name}-key`,
            { algorithm: "ECDSA", ecdsaCurve: "P256" },
            { parent: this },
        );
        new aws.ssm.Parameter(
            `${name}-param`,
            { type: "SecureString", name: "/k", value: this.key.privateKeyPem },
            { parent: this, dependsOn: [vpc] },
        );
        const artifacts = new ArtifactSet();
        artifacts.add("keys/public.pem", this.key.publicKeyPem);
        artifacts.add("keys/private.pem", this.key.privateKeyPem);
        this.registerOutputs({ artifacts: artifacts.files });
    }
}

describe("plan runtime (mock engine)", () => {
    it("records type, parent, dependencies and masks secret inputs like the real engine", async () => {
        const run = await runUnderMocks({ stack: "dev", config: { "aws:region": "eu-west-1" } }, () => {
            const pair = new Pair("p");
            return { publicKey: pair.key.publicKeyPem, privateKey: pair.key.privateKeyPem };
        });
        const root = "urn:pulumi:dev::keelson::keelson:test:Pair::p";
        assert.deepEqual(
            run.resources.map((r) => [r.type, r.name, r.parent ?? null]),
            [
                ["keelson:test:Pair", "p", null],
                ["aws:ec2/vpc:Vpc", "p-vpc", root],
                ["tls:index/privateKey:PrivateKey", "p-key", root],
                ["aws:ssm/parameter:Parameter", "p-param", root],
            ],
        );
        const param = run.resources[3];
        assert.deepEqual(param.dependencies, [
            "urn:pulumi:dev::keelson::keelson:test:Pair$aws:ec2/vpc:Vpc::p-vpc",
            "urn:pulumi:dev::keelson::keelson:test:Pair$tls:index/privateKey:PrivateKey::p-key",
        ]);
        assert.deepEqual(param.inputs, { name: "/k", type: "SecureString", value: "[secret]" });
        assert.match(String(param.rawInputs.value), /^-----BEGIN EC PRIVATE KEY-----\n/);
        assert.equal(run.outputs.privateKey, "[secret]");
        assert.match(String(run.outputs.publicKey), /^-----BEGIN PUBLIC KEY-----\n/);
        assert.deepEqual(run.secretOutputs, ["privateKey"]);
        assert.deepEqual(
            run.artifacts.map((a) => [a.path, a.content.split("\n")[0]]),
            [
                ["keys/private.pem", "[secret]"],
                ["keys/public.pem", "-----BEGIN PUBLIC KEY-----"],
            ],
        );
    });

    it("answers invokes with the configured region and rejects unknown ones", async () => {
        const run = await runUnderMocks({ config: { "aws:region": "eu-west-1" } }, () => ({
            zones: aws.getAvailabilityZonesOutput({}).names,
        }));
        assert.deepEqual(run.outputs.zones, ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"]);
        await assert.rejects(
            runUnderMocks({}, () => ({ vpcs: aws.ec2.getVpcsOutput({}).ids })),
            /offline plan: no mock for invoke aws:ec2\/getVpcs:getVpcs/,
        );
    });

    it("throws when a component records the same artifact path twice", () => {
        const artifacts = new ArtifactSet();
        artifacts.add("a.txt", "one");
        assert.throws(
            () => artifacts.add("a.txt", "two"),
            new Error("artifact a.txt was recorded twice; artifact paths must be unique per component"),
        );
    });

    it("writes a path two components rendered under each component's name", async () => {
        const run = await runUnderMocks({ stack: "dev", config: { "aws:region": "eu-west-1" } }, () => {
            new Pair("a");
            new Pair("b");
        });
        assert.deepEqual(
            run.artifacts.map((a) => [a.path, a.content.split("\n")[0]]),
            [
                ["a/keys/private.pem", "[secret]"],
                ["a/keys/public.pem", "-----BEGIN PUBLIC KEY-----"],
                ["b/keys/private.pem", "[secret]"],
                ["b/keys/public.pem", "-----BEGIN PUBLIC KEY-----"],
            ],
        );
    });
});
