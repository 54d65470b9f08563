// Runs the Cluster component under the mock engine with a fake network, for the graph tests.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../../components/cluster/Cluster";
import { ClusterNetwork } from "../../components/cluster/types";
import { clusterConfigArgs } from "../../components/config";
import { ClusterConfig } from "../../components/config/types";
import { MockRun, RecordedResource, runUnderMocks } from "../../tools/plan/runtime";

/** Three AZs, fixed subnet and security group ids. */
export function fakeNetwork(zones = 3): ClusterNetwork {
    const az = ["a", "b", "c"].slice(0, zones);
    return {
        vpcId: pulumi.output("vpc-0abc"),
        availabilityZones: az.map((z) => `eu-west-1${z}`),
        publicSubnetIds: az.map((z) => pulumi.output(`subnet-public-${z}`)),
        privateSubnetIds: az.map((z) => pulumi.output(`subnet-private-${z}`)),
        securityGroups: {
            masters: { id: pulumi.output("sg-masters") },
            workers: { id: pulumi.output("sg-workers") },
            apiLb: { id: pulumi.output("sg-apilb") },
        },
    };
}

/** One mocked run of a cluster, with the outputs tests look at. */
export async function runCluster(
    config: ClusterConfig,
    stage: string,
    zones = 3,
): Promise<MockRun<Record<string, unknown>> & { cluster: Cluster }> {
    let cluster: Cluster | undefined;
    const run = await runUnderMocks({ stack: stage, config: { "aws:region": "eu-west-1" } }, () => {
        cluster = new Cluster(`keelson-${stage}`, {
            ...clusterConfigArgs(config),
            stage,
            region: "eu-west-1",
            cni: "calico",
            network: fakeNetwork(zones),
        });
        return {
            kubeconfig: cluster.kubeconfig,
            endpoint: cluster.endpoint,
            caCertPem: cluster.caCertPem,
            masterIps: pulumi.all(cluster.masters.map((m) => m.privateIp)),
        };
    });
    return { ...run, cluster: cluster! };
}

/** Resources of one type. */
export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
    return resources.filter((r) => r.type === type);
}

/** Asserts that `construct` throws `message` under the mock engine and that nothing was registered. */
export async function assertRefusedBeforeRegistering(
    construct: () => unknown,
    message: string,
): Promise<void> {
    const run = await runUnderMocks({ stack: "test", config: { "aws:region": "us-east-1" } }, () => {
        assert.throws(construct, { message });
        return {};
    });
    assert.deepEqual(run.resources, []);
}
