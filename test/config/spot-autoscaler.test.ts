// Spot pools and the cluster-autoscaler in the stage config: defaults, the args they map to, and every problem
// reported (key, value, fix) before anything is registered.
import * as assert from "node:assert/strict";
import { clusterArgs, validateStageConfig } from "../../components/config";

const base = { "aws:region": "us-east-1" };

function validate(cluster: Record<string, unknown>, addons?: Record<string, unknown>) {
    return validateStageConfig("dev", {
        values: {
            ...base,
            "keelson:cluster": cluster,
            ...(addons ? { "keelson:addons": addons } : {}),
        },
        secretKeys: [],
    });
}
const messages = (cluster: Record<string, unknown>, addons?: Record<string, unknown>) =>
    validate(cluster, addons).problems.map((p) => p.message);
/** A valid label key of 86 characters: its node-template tag key would be 132. */
const LONG_LABEL = `workload.${"x".repeat(70)}.io/gpu`;
const pool = (extra: Record<string, unknown>) => ({
    workerPools: [{ name: "general", count: 2, minSize: 1, maxSize: 4, ...extra }],
});

describe("config: spot pools", () => {
    it("reads spot: true as every default over the pool's own instance type", () => {
        const { config, problems } = validate(pool({ instanceType: "m7i.large", spot: true }));
        assert.deepEqual(problems, []);
        assert.deepEqual(config!.cluster.workerPools[0].spot, {
            instanceTypes: ["m7i.large"],
            onDemandBase: 0,
            onDemandPercentAboveBase: 0,
            allocationStrategy: "price-capacity-optimized",
        });
        assert.equal(config!.addons.clusterAutoscaler, false);
    });

    it("takes the first listed type as instanceType when it is not given, and maps the pool to Cluster args", () => {
        const { config, problems } = validate(
            pool({
                spot: {
                    instanceTypes: ["m7i.large", "m6i.large", "m5.large"],
                    onDemandBase: 1,
                    onDemandPercentAboveBase: 25,
                    allocationStrategy: "capacity-optimized",
                },
            }),
        );
        assert.deepEqual(problems, []);
        const [p] = clusterArgs(config!).workerPools!;
        assert.equal(p.instanceType, "m7i.large");
        assert.deepEqual(p.spot, {
            instanceTypes: ["m7i.large", "m6i.large", "m5.large"],
            onDemandBase: 1,
            onDemandPercentAboveBase: 25,
            allocationStrategy: "capacity-optimized",
        });
        // A pool without spot has no spot key at all.
        const plain = validate(pool({})).config!;
        assert.equal("spot" in plain.cluster.workerPools[0], false);
        assert.equal("clusterAutoscaler" in clusterArgs(plain), false);
    });

    const cases: [string, Record<string, unknown>, string[]][] = [
        [
            "another architecture in the list",
            { instanceType: "t3.large", spot: { instanceTypes: ["t3.large", "t4g.large"] } },
            [
                'cluster.workerPools[0].spot.instanceTypes[1]: "t4g.large" is arm64, but the pool\'s launch template boots the amd64 Debian image of t3.large; list instance types of one architecture (give the others a pool of their own)',
            ],
        ],
        [
            "another size in the list",
            { instanceType: "m7i.large", spot: { instanceTypes: ["m7i.large", "m7i.xlarge"] } },
            [
                'cluster.workerPools[0].spot.instanceTypes[1]: "m7i.xlarge" has 4 vCPUs and 16 GiB, m7i.large 2 and 8; list instance types of the same size (the cluster-autoscaler and the capacity figures plan every node as the first type)',
            ],
        ],
        [
            "a list that does not start with instanceType",
            { instanceType: "m7i.large", spot: { instanceTypes: ["m6i.large", "m7i.large"] } },
            [
                'cluster.workerPools[0].spot.instanceTypes[0]: "m6i.large" is not the pool\'s instanceType m7i.large; start the list with m7i.large (the launch template, the capacity figures and the cluster-autoscaler plan every node as the first type), or leave instanceType out to take m6i.large',
            ],
        ],
        [
            "a type listed twice",
            { spot: { instanceTypes: ["m7i.large", "m6i.large", "m7i.large"] } },
            [
                'cluster.workerPools[0].spot.instanceTypes[2]: "m7i.large" is listed twice; list each instance type once',
            ],
        ],
        [
            "an unknown type",
            { spot: { instanceTypes: ["m7i.large", "m9z.huge"] } },
            [
                'cluster.workerPools[0].spot.instanceTypes[1]: "m9z.huge" is not an EC2 instance type Keelson knows; use a type from components/score/instance-types.ts such as t3.medium or m7i.large (or add yours there with its size and prices)',
            ],
        ],
        [
            "an empty list",
            { instanceType: "m7i.large", spot: { instanceTypes: [] } },
            [
                "cluster.workerPools[0].spot.instanceTypes: [] is empty; list the instance types the pool may launch, m7i.large first, e.g. [m7i.large, ...]",
            ],
        ],
        [
            "a list longer than 20",
            { spot: { instanceTypes: Array(21).fill("m7i.large") } },
            ["cluster.workerPools[0].spot.instanceTypes: (a list of 21) is too long; list at most 20"],
        ],
        [
            "an On-Demand base above maxSize",
            { spot: { onDemandBase: 5 } },
            [
                "cluster.workerPools[0].spot.onDemandBase: 5 is more than the pool's maxSize 4, so no node would ever be Spot; use 4 or less",
            ],
        ],
        [
            "a percentage above 100",
            { spot: { onDemandPercentAboveBase: 150 } },
            [
                "cluster.workerPools[0].spot.onDemandPercentAboveBase: 150 is out of range; use a number from 0 to 100",
            ],
        ],
        [
            "an unknown allocation strategy",
            { spot: { allocationStrategy: "cheapest" } },
            [
                'cluster.workerPools[0].spot.allocationStrategy: "cheapest" is not supported; use one of "price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized", "lowest-price"',
            ],
        ],
        [
            "a misspelt key",
            { spot: { instanceType: ["m7i.large"] } },
            [
                'cluster.workerPools[0].spot.instanceType: ["m7i.large"] is not a known key; did you mean cluster.workerPools[0].spot.instanceTypes?',
            ],
        ],
    ];
    for (const [what, extra, expected] of cases) {
        it(`refuses ${what}`, () => {
            assert.deepEqual(messages(pool(extra)), expected);
        });
    }
});

describe("config: addons.clusterAutoscaler", () => {
    it("is off by default and maps to the Cluster's clusterAutoscaler when on", () => {
        const { config, problems } = validate(pool({}), { clusterAutoscaler: true });
        assert.deepEqual(problems, []);
        assert.equal(config!.addons.clusterAutoscaler, true);
        assert.equal(clusterArgs(config!).clusterAutoscaler, true);
    });

    const cases: [string, Record<string, unknown>, Record<string, unknown>, string[]][] = [
        [
            "no pool with room to size",
            { workerPools: [{ name: "general", count: 2 }] },
            { clusterAutoscaler: true },
            [
                "addons.clusterAutoscaler: true has no pool to size: every pool's minSize equals its maxSize; give a pool room (e.g. minSize: 1, maxSize: 6) or remove addons.clusterAutoscaler",
            ],
        ],
        [
            "a Kubernetes minor without a pinned release",
            { kubernetesVersion: "1.31.4", ...pool({}) },
            { clusterAutoscaler: true },
            [
                "addons.clusterAutoscaler: true has no pinned cluster-autoscaler release for Kubernetes 1.31.4 (its minor must be the cluster's); use cluster.kubernetesVersion 1.32, 1.33, 1.34, or remove addons.clusterAutoscaler",
            ],
        ],
        [
            "a label key too long for a node-template tag",
            pool({ labels: { [LONG_LABEL]: "a" } }),
            { clusterAutoscaler: true },
            [
                // Long values are shown cut at 57 characters.
                `cluster.workerPools[0].labels.${LONG_LABEL}: ${JSON.stringify(LONG_LABEL).slice(0, 57)}... makes the cluster-autoscaler's node-template tag key 132 characters long, past EC2 Auto Scaling's 128; use a key of at most 82 characters`,
            ],
        ],
        [
            "more labels and taints than a group has tags for",
            pool({
                labels: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`keelson.io/l${i}`, "a"])),
                taints: Array.from({ length: 10 }, (_, i) => ({ key: `keelson.io/t${i}`, value: "x" })),
            }),
            { clusterAutoscaler: true },
            [
                'cluster.workerPools[0]: "general" needs 51 tags on its group with the cluster-autoscaler (one per label and taint), past EC2 Auto Scaling\'s 50; use at most 39 labels and taints together',
            ],
        ],
        [
            "a value that is not a boolean",
            pool({}),
            { clusterAutoscaler: "yes" },
            ['addons.clusterAutoscaler: "yes" is not a boolean; use true or false'],
        ],
    ];
    for (const [what, cluster, addons, expected] of cases) {
        it(`refuses ${what}`, () => {
            assert.deepEqual(messages(cluster, addons), expected);
        });
    }
});
