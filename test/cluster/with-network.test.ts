// The Cluster on the real Network component and a validated stage config, under mocks: the
// composition index.ts does, checked for the wiring of security groups, subnets and zones.
import assert from "node:assert/strict";
import { Cluster } from "../../components/cluster/Cluster";
import { clusterArgs, networkArgs, requireValidStageConfig } from "../../components/config";
import { Network } from "../../components/network/Network";
import { stableHex } from "../../tools/plan/mock-state";
import { runUnderMocks } from "../../tools/plan/runtime";

describe("cluster/Cluster on the real Network (mocked)", function () {
    this.timeout(120000);

    for (const stage of ["dev", "prod"] as const) {
        it(`wires subnets and security groups for the ${stage} defaults`, async () => {
            const cfg = requireValidStageConfig(stage, {
                values: {
                    "aws:region": "eu-west-1",
                    "keelson:cluster": stage === "prod" ? { apiAllowedCidrs: ["203.0.113.0/24"] } : {},
                    "keelson:edge": { tlsMode: "self-signed" },
                },
                secretKeys: [],
            });
            const name = `keelson-${stage}`;
            const run = await runUnderMocks({ stack: stage, config: { "aws:region": "eu-west-1" } }, () => {
                const network = new Network(name, { ...networkArgs(cfg), tags: undefined });
                const cluster = new Cluster(name, { ...clusterArgs(cfg), tags: undefined, network });
                return { endpoint: cluster.endpoint, kubeconfig: cluster.kubeconfig };
            });
            const sg = (group: string) => `sg-${stableHex(`${name}-${group}`)}`;
            const subnet = (kind: string, zone: string) =>
                `subnet-${stableHex(`${name}-${kind}-eu-west-1${zone}`)}`;
            const instances = run.resources
                .filter((r) => r.type === "aws:ec2/instance:Instance")
                .map((r) => [r.name, r.inputs.subnetId, r.inputs.vpcSecurityGroupIds]);
            if (stage === "prod") {
                // Three masters behind the NLB are slots: a group of one each, in its own private subnet.
                assert.deepEqual(instances, []);
                const [lb] = run.resources.filter((r) => r.type === "aws:lb/loadBalancer:LoadBalancer");
                assert.deepEqual(
                    lb.inputs.subnets,
                    ["a", "b", "c"].map((z) => subnet("public", z)),
                );
                assert.deepEqual(lb.inputs.securityGroups, [sg("apiLb")]);
            } else {
                assert.deepEqual(instances, [[`${name}-master-0`, subnet("public", "a"), [sg("masters")]]]);
                assert.deepEqual(
                    run.resources.filter((r) => r.type.startsWith("aws:lb/")),
                    [],
                );
            }
            // Every pool's group spans every private subnet, its template the workers' group; a master
            // slot's group is its own subnet, its template the masters' group.
            const zones = stage === "prod" ? ["a", "b", "c"] : ["a"];
            const slots = stage === "prod" ? ["a", "b", "c"] : [];
            assert.deepEqual(
                run.resources
                    .filter((r) => r.type === "aws:autoscaling/group:Group")
                    .map((r) => [r.name, r.inputs.vpcZoneIdentifiers]),
                [
                    ...slots.map((z, i) => [`${name}-master-${i}`, [subnet("private", z)]]),
                    [`${name}-general`, zones.map((z) => subnet("private", z))],
                ],
            );
            assert.deepEqual(
                run.resources
                    .filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")
                    .map((r) => r.inputs.vpcSecurityGroupIds),
                [...slots.map(() => [sg("masters")]), [sg("workers")]],
            );
            const [zone] = run.resources.filter((r) => r.type === "aws:route53/zone:Zone");
            assert.deepEqual(zone.inputs.vpcs, [{ vpcId: `vpc-${stableHex(`${name}-vpc`)}` }]);
            assert.deepEqual(run.secretOutputs, ["kubeconfig"]);
        });
    }
});
