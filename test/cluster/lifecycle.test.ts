// The cluster's day-2 plumbing under the mock engine: the bootstrap state in SSM (marker, slot
// records, who may write what), boot ordering on it, and the Debian 13 image per architecture.
import assert from "node:assert/strict";
import { architectureOf, debianAmiPattern } from "../../components/ec2/debian";
import { parameterArnPattern, stateWritePolicyDocument } from "../../components/cluster/state";
import { stableHex } from "../../tools/plan/mock-state";
import { RecordedResource } from "../../tools/plan/runtime";
import { prodClusterConfig } from "./fixtures";
import { ofType, runCluster } from "./graph-support";

const PREFIX = "arn:aws:ssm:eu-west-1:123456789012:parameter/keelson/prod/keelson-prod";
const AMD64_AMI = "ami-0d1e2b3c4f5a6b7c8";
const ARM64_AMI = "ami-0a4e6b2c8d0f1e3a5";

function byName(resources: RecordedResource[], name: string): RecordedResource {
    const found = resources.filter((r) => r.name === name);
    assert.equal(found.length, 1, `exactly one resource named ${name}`);
    return found[0];
}

describe("ec2/debian: the image for the instance type", () => {
    it("boots Graviton types from the arm64 image and the rest from amd64", () => {
        for (const t of [
            "t4g.small",
            "m7g.large",
            "c7gn.xlarge",
            "r8gd.2xlarge",
            "x2gd.large",
            "im4gn.large",
            "is4gen.large",
            "g5g.xlarge",
            "a1.large",
            "m6gd.metal",
        ])
            assert.equal(architectureOf(t), "arm64", t);
        for (const t of [
            "t3.medium",
            "m6i.large",
            "m7a.large",
            "c6in.xlarge",
            "g4dn.xlarge",
            "m5zn.large",
            "c7i-flex.large",
            "t3a.small",
        ])
            assert.equal(architectureOf(t), "amd64", t);
        assert.equal(debianAmiPattern("arm64"), "debian-13-arm64-*");
        assert.equal(debianAmiPattern("amd64"), "debian-13-amd64-*");
    });

    it("refuses Mac and unreadable instance types by name", () => {
        assert.throws(() => architectureOf("mac2-m2.metal"), /is not <family><generation>\.<size>/);
        assert.throws(() => architectureOf("mac1.metal"), /mac1\.metal: Mac instances run macOS only/);
        assert.throws(() => architectureOf("large"), /instance type "large" is not/);
    });
});

describe("cluster: bootstrap state and images (mocked, 3 masters, a Graviton pool)", function () {
    this.timeout(120000);
    let run: Awaited<ReturnType<typeof runCluster>>;
    const config = prodClusterConfig();
    before(async () => {
        const pools = config.workerPools.map((p) =>
            p.name === "batch" ? { ...p, instanceType: "c7g.xlarge" } : p,
        );
        run = await runCluster({ ...config, workerPools: pools }, "prod");
    });

    it("boots every node from the Debian 13 image of its architecture", () => {
        const amis = Object.fromEntries([
            ...ofType(run.resources, "aws:ec2/instance:Instance").map((r) => [r.name, r.inputs.ami]),
            ...ofType(run.resources, "aws:ec2/launchTemplate:LaunchTemplate").map((r) => [
                `${r.name} (template)`,
                r.inputs.imageId,
            ]),
        ]);
        assert.deepEqual(amis, {
            "keelson-prod-master-0 (template)": AMD64_AMI,
            "keelson-prod-master-1 (template)": AMD64_AMI,
            "keelson-prod-master-2 (template)": AMD64_AMI,
            "keelson-prod-general (template)": AMD64_AMI,
            "keelson-prod-batch (template)": ARM64_AMI,
        });
    });

    it("creates the initialised marker and one record per master slot as plain String parameters", () => {
        const state = ofType(run.resources, "aws:ssm/parameter:Parameter").filter((p) =>
            String(p.inputs.name).includes("/state/"),
        );
        assert.deepEqual(
            state.map((p) => [p.name, p.inputs.name, p.inputs.type, p.inputs.insecureValue, p.inputs.keyId]),
            [
                [
                    "keelson-prod-state-initialised",
                    "/keelson/prod/keelson-prod/state/initialised",
                    "String",
                    "no",
                    undefined,
                ],
                [
                    "keelson-prod-state-master-0",
                    "/keelson/prod/keelson-prod/state/masters/master-0",
                    "String",
                    "none",
                    undefined,
                ],
                [
                    "keelson-prod-state-master-1",
                    "/keelson/prod/keelson-prod/state/masters/master-1",
                    "String",
                    "none",
                    undefined,
                ],
                [
                    "keelson-prod-state-master-2",
                    "/keelson/prod/keelson-prod/state/masters/master-2",
                    "String",
                    "none",
                    undefined,
                ],
            ],
        );
        // Every node boots only once its state parameters and write permissions exist.
        const needed = [
            ...state,
            byName(run.resources, "keelson-prod-master-state"),
            byName(run.resources, "keelson-prod-worker-state"),
        ];
        for (const node of ofType(run.resources, "aws:ec2/instance:Instance")) {
            for (const dep of needed)
                assert.ok(node.dependencies.includes(dep.urn), `${node.name} waits for ${dep.name}`);
        }
    });

    it("lets masters write the state and the rotated token (encrypted with the cluster key), workers only their reports", () => {
        const [key] = ofType(run.resources, "aws:kms/key:Key");
        const keyArn = `arn:aws:kms:eu-west-1:123456789012:key/${stableHex(key.name, 32)}`;
        const doc = (name: string) => JSON.parse(String(byName(run.resources, name).inputs.policy));
        assert.deepEqual(doc("keelson-prod-master-state"), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ReportBootstrapState",
                    Effect: "Allow",
                    Action: "ssm:PutParameter",
                    Resource: [`${PREFIX}/state/*`, `${PREFIX}/join/bootstrap-token`],
                },
                {
                    Sid: "EncryptRotatedToken",
                    Effect: "Allow",
                    Action: ["kms:Encrypt", "kms:GenerateDataKey"],
                    Resource: keyArn,
                    Condition: {
                        StringEquals: {
                            "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
                            "kms:EncryptionContext:PARAMETER_ARN": `${PREFIX}/join/bootstrap-token`,
                        },
                    },
                },
            ],
        });
        assert.deepEqual(doc("keelson-prod-worker-state"), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ReportBootstrapState",
                    Effect: "Allow",
                    Action: "ssm:PutParameter",
                    Resource: [`${PREFIX}/state/nodes/*`],
                },
            ],
        });
        // Masters read the state (no key involved: it is not in the decrypt condition) and nothing else new.
        const master = doc("keelson-prod-master-parameters");
        assert.equal(master.Statement[0].Resource.at(-1), `${PREFIX}/state/*`);
        assert.ok(
            !master.Statement[1].Condition.StringEquals["kms:EncryptionContext:PARAMETER_ARN"].includes(
                `${PREFIX}/state/*`,
            ),
        );
        assert.ok(
            master.Statement.find((s: { Sid: string }) => s.Sid === "NoOtherParameters").NotResource.includes(
                `${PREFIX}/state/*`,
            ),
        );
        const worker = doc("keelson-prod-worker-parameters");
        assert.ok(!JSON.stringify(worker).includes("/state/"), "workers read no state");
    });

    it("derives the ARN patterns from a parameter ARN, and refuses anything else", () => {
        assert.equal(
            parameterArnPattern(`${PREFIX}/state/initialised`, "/keelson/prod/keelson-prod", "state/*"),
            `${PREFIX}/state/*`,
        );
        assert.throws(
            () => parameterArnPattern("arn:aws:kms:eu-west-1:1:key/x", "/p", "state/*"),
            /not an SSM parameter ARN/,
        );
        const w = stateWritePolicyDocument("worker", "eu-west-1", {
            stateArnPattern: "s",
            reportArnPattern: "r",
            tokenArn: "t",
            kmsKeyArn: "k",
        });
        assert.equal(JSON.stringify(w).includes('"t"'), false, "a worker can never write the token");
    });
});
