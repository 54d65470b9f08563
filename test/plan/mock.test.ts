// The mock engine fails where `pulumi up` would: autonaming with the providers' length limits, private IPs
// from the instance's subnet, deterministic key material, and a preview mode with unknowns.
import { strict as assert } from "node:assert";
import * as crypto from "crypto";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { mockPrivateKey } from "../../tools/plan/mock-keys";
import { physicalName } from "../../tools/plan/mock-names";
import { planStage, PROJECT_ROOT } from "../../tools/plan/plan";
import { runUnderMocks } from "../../tools/plan/runtime";
import { loadStackConfig } from "../../tools/plan/stack-config";
import * as path from "path";

const TG = "aws:lb/targetGroup:TargetGroup";

describe("mock engine: physical names", () => {
    it("autonames as the bridge does: <name>- plus 7 characters, stable per URN", () => {
        const a = physicalName(TG, "web", {}, "urn:a");
        assert.match(a?.value ?? "", /^web-[0-9a-f]{7}$/);
        assert.deepEqual(physicalName(TG, "web", {}, "urn:a"), a);
        assert.notEqual(physicalName(TG, "web", {}, "urn:b")?.value, a?.value);
        assert.deepEqual(physicalName(TG, "web", { name: "explicit" }, "urn:a"), {
            field: "name",
            value: "explicit",
        });
        assert.equal(physicalName("aws:s3/bucket:Bucket", "Logs", {}, "u")?.value.startsWith("logs-"), true);
        assert.equal(physicalName("aws:ec2/vpc:Vpc", "v", {}, "u"), undefined);
    });

    it("fails a name past the type's limit, naming resource, name and limit", () => {
        assert.throws(() => physicalName(TG, "keelson-staging-edge-https", {}, "u"), {
            message:
                'aws:lb/targetGroup:TargetGroup "keelson-staging-edge-https": the autoname "keelson-staging-edge-https-" plus 7 random characters is 34 characters; AWS allows 32 for this type, so pulumi up would fail: use a logical name of at most 24 characters or set name',
        });
        assert.doesNotThrow(() => physicalName(TG, "x".repeat(24), {}, "u"));
        assert.throws(() => physicalName("aws:iam/role:Role", "r".repeat(57), {}, "u"), /AWS allows 64/);
        assert.throws(
            () => physicalName(TG, "t", { name: "n".repeat(33) }, "u"),
            /name "n{33}" is 33 characters; AWS allows 32/,
        );
        assert.throws(() => physicalName(TG, "t", { namePrefix: "abcdefg" }, "u"), /a prefix of at most 6/);
        assert.throws(
            () =>
                physicalName("kubernetes:core/v1:Service", "s", { metadata: { name: "s".repeat(64) } }, "u"),
            /Kubernetes allows 63 for a Service/,
        );
    });

    it("fails the run like pulumi up when a component registers a name that is too long", async () => {
        await assert.rejects(
            runUnderMocks({}, () => {
                new aws.lb.TargetGroup("a-target-group-name-that-is-long", { port: 80, protocol: "TCP" });
            }),
            /AWS allows 32 for this type/,
        );
    });
});

describe("mock engine: addresses, keys and preview", function () {
    this.timeout(600000);

    it("gives instances private IPs from their subnet's CIDR, distinct and stable", async () => {
        const program = () => {
            const vpc = new aws.ec2.Vpc("v", { cidrBlock: "10.9.0.0/16" });
            const subnet = new aws.ec2.Subnet("s", { vpcId: vpc.id, cidrBlock: "10.9.8.0/28" });
            const ips = [0, 1, 2].map(
                (i) =>
                    new aws.ec2.Instance(`i${i}`, {
                        ami: "ami-1",
                        instanceType: "t3.micro",
                        subnetId: subnet.id,
                    }).privateIp,
            );
            return { ips: pulumi.all(ips) };
        };
        const first = (await runUnderMocks({}, program)).outputs.ips as string[];
        const second = (await runUnderMocks({}, program)).outputs.ips as string[];
        assert.deepEqual(first, second);
        assert.equal(new Set(first).size, 3);
        for (const ip of first) {
            const last = Number(ip.split(".")[3]);
            // 10.9.8.0/28: AWS reserves .0-.3 and .15.
            assert.ok(ip.startsWith("10.9.8.") && last >= 4 && last <= 14, ip);
        }
    });

    it("derives real key material from the URN: same seed, same key; other seed, other key", () => {
        for (const inputs of [
            { algorithm: "ECDSA", ecdsaCurve: "P256" },
            { algorithm: "ED25519" },
            { algorithm: "RSA", rsaBits: 2048 },
        ]) {
            const a = mockPrivateKey("urn:one", inputs);
            assert.deepEqual(mockPrivateKey("urn:one", inputs), a);
            assert.notEqual(mockPrivateKey("urn:two", inputs).publicKeyPem, a.publicKeyPem);
            const key = crypto.createPrivateKey(a.privateKeyPem);
            const data = Buffer.from("plan");
            const sig = crypto.sign(inputs.algorithm === "ED25519" ? null : "sha256", data, key);
            assert.ok(
                crypto.verify(inputs.algorithm === "ED25519" ? null : "sha256", data, a.publicKeyPem, sig),
            );
        }
    });

    it("--preview: computed attributes are unknown, as a first pulumi preview sees them, and the program plans", async () => {
        const run = await runUnderMocks({ preview: true }, () => {
            const key = new tls.PrivateKey("k", { algorithm: "ECDSA", ecdsaCurve: "P256" });
            const vpc = new aws.ec2.Vpc("v", { cidrBlock: "10.9.0.0/16" });
            new aws.ec2.Subnet("s", { vpcId: vpc.id, cidrBlock: "10.9.8.0/24" });
            return { vpcId: vpc.id, pem: key.publicKeyPem, cidr: vpc.cidrBlock };
        });
        assert.deepEqual(run.outputs, { vpcId: "[unknown]", pem: "[unknown]", cidr: "10.9.0.0/16" });
        assert.deepEqual(run.resources.find((r) => r.name === "s")?.inputs, {
            vpcId: "[unknown]",
            cidrBlock: "10.9.8.0/24",
        });
    });

    it("prod plans in --preview mode, with unknown ids in its outputs", async () => {
        const p = await planStage({ stack: "prod", preview: true });
        assert.ok(p.resources.filter((r) => r.custom).length > 150);
        assert.equal(p.outputs.vpcId, "[unknown]");
    });

    it("staging with edge.nlb: true plans, every target group and load balancer name within 32", async () => {
        const config = loadStackConfig(path.join(PROJECT_ROOT, "Pulumi.staging.yaml"));
        const edge = { ...(config.values["keelson:edge"] as Record<string, unknown>), nlb: true };
        const p = await planStage({
            stack: "staging",
            config: { ...config, values: { ...config.values, "keelson:edge": edge } },
        });
        const named = p.resources.filter(
            (r) => r.type === TG || r.type === "aws:lb/loadBalancer:LoadBalancer",
        );
        assert.ok(named.length >= 4, `only ${named.length} load balancers and target groups`);
        for (const r of named)
            assert.ok(r.name.length + 8 <= 32, `${r.name} would be ${r.name.length + 8} characters`);
    });
});
