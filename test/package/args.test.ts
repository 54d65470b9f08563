// The components' own defaults (pure, no mocks) and the stage-config mapping onto the components' args.
import * as assert from "node:assert/strict";
import { resolveAddonsSpec } from "../../components/addons/args";
import { resolveClusterSpec } from "../../components/cluster/types";
import { clusterArgs, edgeArgs, networkArgs, requireValidStageConfig } from "../../components/config";
import { resolveEdgeSettings } from "../../components/edge/args";
import { resolveNetworkSpec } from "../../components/network/args";

const stage = (name: string, values: Record<string, unknown> = {}) =>
    requireValidStageConfig(name, { values: { "aws:region": "eu-west-1", ...values }, secretKeys: [] });

describe("package/args: defaults resolved inside the components", () => {
    it("Cluster: one master, single endpoint, one general t3.medium worker", () => {
        assert.deepEqual(resolveClusterSpec("shop", {}), {
            name: "shop",
            kubernetesVersion: "1.33.4",
            masters: 1,
            masterInstanceType: "t3.medium",
            masterRootVolumeGb: 50,
            dedicatedMasters: false,
            endpoint: "single",
            apiLoadBalancers: 2,
            podCidr: "192.168.0.0/16",
            serviceCidr: "10.96.0.0/12",
            workerPools: [
                {
                    name: "general",
                    instanceType: "t3.medium",
                    count: 1,
                    minSize: 1,
                    maxSize: 1,
                    labels: {},
                    taints: [],
                    rootVolumeGb: 30,
                },
            ],
            upgrade: { healthTimeoutSeconds: 600, drainTimeoutSeconds: 600 },
        });
    });

    it("Cluster: three masters default to an NLB endpoint; a pool gets its own defaults", () => {
        const spec = resolveClusterSpec("shop", { masters: 3, workerPools: [{ name: "big", count: 4 }] });
        assert.equal(spec.endpoint, "nlb");
        assert.deepEqual(spec.workerPools, [
            {
                name: "big",
                instanceType: "t3.medium",
                count: 4,
                minSize: 4,
                maxSize: 4,
                labels: {},
                taints: [],
                rootVolumeGb: 30,
            },
        ]);
    });

    it("Cluster: the dev stage's config resolves to exactly the component's defaults", () => {
        const args = clusterArgs(stage("dev"));
        assert.deepEqual(resolveClusterSpec("keelson-dev", args), resolveClusterSpec("keelson-dev", {}));
    });

    it("Network: three zones of the region, /22 public and /19 private blocks, one NAT, an open API", () => {
        assert.deepEqual(resolveNetworkSpec({}, "eu-west-1"), {
            cidr: "10.0.0.0/16",
            availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
            natGateways: "single",
            publicSubnets: ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"],
            privateSubnets: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
            firewall: { cni: "calico", endpoint: "single", apiAllowedCidrs: ["0.0.0.0/0"] },
        });
    });

    it("Network: refuses, before registering, what it cannot default", () => {
        assert.throws(
            () => resolveNetworkSpec({}, undefined),
            new Error(
                "Network: availabilityZones is not given and aws:region is not set; pass availabilityZones or set aws:region",
            ),
        );
        assert.throws(
            () => resolveNetworkSpec({ cidr: "10.0.0/16" }, "eu-west-1"),
            new Error(
                'Network: cidr "10.0.0/16" is not an IPv4 CIDR block; use a network address such as 10.0.0.0/16',
            ),
        );
        assert.throws(
            () =>
                resolveNetworkSpec(
                    { availabilityZones: ["eu-west-1a"], publicSubnets: [], privateSubnets: ["10.0.0.0/19"] },
                    "eu-west-1",
                ),
            new Error(
                "Network: publicSubnets has 0 subnets for 1 availability zones; list exactly one per zone",
            ),
        );
    });

    it("Network: the stage mapping carries the firewall shape of cluster and add-ons", () => {
        const cfg = stage("prod", {
            "keelson:cluster": { apiAllowedCidrs: ["203.0.113.0/24"] },
            "keelson:edge": { tlsMode: "self-signed" },
        });
        assert.deepEqual(networkArgs(cfg).firewall, {
            cni: "calico",
            endpoint: "nlb",
            apiAllowedCidrs: ["203.0.113.0/24"],
        });
        assert.deepEqual(resolveNetworkSpec(networkArgs(cfg), undefined).availabilityZones, [
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c",
        ]);
    });

    it("Edge: one nginx t3.small host, self-signed ECDSA, no NLB", () => {
        assert.deepEqual(resolveEdgeSettings({}), {
            engine: "nginx",
            count: 1,
            instanceType: "t3.small",
            nlb: false,
            tlsMode: "self-signed",
            keyAlgorithm: "ecdsa-p256",
            certificates: [],
        });
        assert.deepEqual(resolveEdgeSettings({ stage: "dev" }), resolveEdgeSettings(edgeArgs(stage("dev"))));
    });

    it("Addons: everything on; etcd backups only with the master role", () => {
        assert.deepEqual(resolveAddonsSpec({}), {
            cni: "calico",
            metricsServer: true,
            logging: true,
            nodeMetrics: true,
            etcdBackups: true,
        });
        assert.equal(resolveAddonsSpec({ etcdBackups: false }).etcdBackups, false);
    });
});
