// The Elastic IP budget: what each shipped stage allocates (counted from its config and checked against
// its plan), and the warning when the stages of one region exceed AWS's default quota of 5.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { validateStageConfig } from "../../components/config";
import { StageConfig } from "../../components/config/types";
import { elasticIpWarnings, stageElasticIps, StageElasticIps } from "../../components/config/eip-budget";
import { regionEipWarnings } from "../../tools/plan/cli";
import { planStage, PROJECT_ROOT } from "../../tools/plan/plan";
import { loadStackConfig } from "../../tools/plan/stack-config";

function shipped(stage: string): StageConfig {
    const config = validateStageConfig(
        stage,
        loadStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stage}.yaml`)),
    ).config;
    assert.ok(config, `${stage} validates`);
    return config;
}

const PROD_WARNING =
    'Elastic IPs: the stages in us-east-1 need 11 (dev 3 (1 NAT, 1 edge, 1 API), prod 5 (3 NAT, 2 edge, 0 API), staging 3 (1 NAT, 2 edge, 0 API)), more than the default quota of 5 per region: request an increase of "EC2-VPC Elastic IPs" (L-0263D0A3) in Service Quotas before pulumi up, or put the stages in different regions.';

describe("config/eip-budget", function () {
    this.timeout(300000);

    it("counts each shipped stage's Elastic IPs: NAT gateways, edge hosts, a single master or HAProxy hosts", () => {
        assert.deepEqual(
            ["dev", "staging", "prod"].map((s) => stageElasticIps(shipped(s))),
            [
                { stage: "dev", region: "us-east-1", nat: 1, edge: 1, api: 1, total: 3 },
                { stage: "staging", region: "us-east-1", nat: 1, edge: 2, api: 0, total: 3 },
                { stage: "prod", region: "us-east-1", nat: 3, edge: 2, api: 0, total: 5 },
            ],
        );
    });

    it("counts what the plan allocates (aws:ec2/eip:Eip resources of the dev plan)", async () => {
        const plan = await planStage({ stack: "dev" });
        assert.equal(
            plan.resources.filter((r) => r.type === "aws:ec2/eip:Eip").length,
            stageElasticIps(shipped("dev")).total,
        );
    });

    it("warns once the stages of one region exceed 5, naming each stage's count and the fix", () => {
        const stages: StageElasticIps[] = ["dev", "prod", "staging"].map((s) => stageElasticIps(shipped(s)));
        assert.deepEqual(elasticIpWarnings(stages, "prod"), [PROD_WARNING]);
        // Within the quota, or another region: no warning.
        assert.deepEqual(elasticIpWarnings(stages.slice(1, 2), "prod"), []);
        const apart = stages.map((s) => (s.stage === "prod" ? { ...s, region: "eu-west-1" } : s));
        assert.deepEqual(elasticIpWarnings(apart, "prod"), []);
        assert.deepEqual(elasticIpWarnings(stages, "prod", 11), []);
        assert.deepEqual(elasticIpWarnings(stages, "qa"), []);
    });

    it("reads every Pulumi.<stage>.yaml beside the config file, leaving out one that does not validate", () => {
        assert.deepEqual(regionEipWarnings("prod", path.join(PROJECT_ROOT, "Pulumi.prod.yaml")), [
            PROD_WARNING,
        ]);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-eip-"));
        try {
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), path.join(dir, "Pulumi.prod.yaml"));
            fs.writeFileSync(
                path.join(dir, "Pulumi.broken.yaml"),
                "config:\n  aws:region: us-east-1\n  keelson:cluster:\n    masters: 2\n",
            );
            // prod alone uses exactly the quota; the broken stage is not counted.
            assert.deepEqual(regionEipWarnings("prod", path.join(dir, "Pulumi.prod.yaml")), []);
            fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
            assert.deepEqual(regionEipWarnings("prod", path.join(dir, "Pulumi.prod.yaml")), [
                'Elastic IPs: the stages in us-east-1 need 8 (dev 3 (1 NAT, 1 edge, 1 API), prod 5 (3 NAT, 2 edge, 0 API)), more than the default quota of 5 per region: request an increase of "EC2-VPC Elastic IPs" (L-0263D0A3) in Service Quotas before pulumi up, or put the stages in different regions.',
            ]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
