import * as assert from "node:assert/strict";
import { ConfigError, requireValidStageConfig, validateStageConfig } from "../../components/config";
import { projectProgram } from "../../tools/plan/plan";
import { runUnderMocks } from "../../tools/plan/runtime";
import { loadStackConfig } from "../../tools/plan/stack-config";

const base = { "aws:region": "us-east-1" };

function messages(values: Record<string, unknown>, secretKeys: string[] = [], stage = "dev"): string[] {
    return validateStageConfig(stage, { values: { ...base, ...values }, secretKeys }).problems.map(
        (p) => p.message,
    );
}

describe("stage config validation", () => {
    const cases: [string, Record<string, unknown>, string[]][] = [
        [
            "even masters",
            { "keelson:cluster": { masters: 2 } },
            ["cluster.masters: 2 is even; use 1 or an odd number >= 3"],
        ],
        [
            "zero masters",
            { "keelson:cluster": { masters: 0 } },
            ["cluster.masters: 0 leaves no control plane; use 1 or an odd number >= 3"],
        ],
        [
            "too many masters",
            { "keelson:cluster": { masters: 9, endpoint: "nlb" } },
            ["cluster.masters: 9 is more than 7; etcd slows down with every member, use 3, 5 or 7"],
        ],
        [
            "masters not a number",
            { "keelson:cluster": { masters: "three" } },
            ['cluster.masters: "three" is not a whole number; use 1 or an odd number >= 3'],
        ],
        [
            "bad VPC CIDR",
            { "keelson:network": { cidr: "10.0.0.0/33" } },
            [
                'network.cidr: "10.0.0.0/33" is not an IPv4 CIDR block; use a network address such as 10.0.0.0/16',
            ],
        ],
        [
            "CIDR with host bits",
            { "keelson:network": { cidr: "10.0.0.1/16" } },
            [
                'network.cidr: "10.0.0.1/16" is not an IPv4 CIDR block; use a network address such as 10.0.0.0/16',
            ],
        ],
        [
            "overlapping subnets",
            {
                "keelson:network": {
                    cidr: "10.0.0.0/16",
                    availabilityZones: ["us-east-1a"],
                    publicSubnets: ["10.0.0.0/24"],
                    privateSubnets: ["10.0.0.128/25"],
                },
            },
            [
                'network.privateSubnets: "10.0.0.128/25" overlaps 10.0.0.0/24 (network.publicSubnets); give every subnet its own block',
            ],
        ],
        [
            "subnet outside the VPC",
            { "keelson:network": { availabilityZones: ["us-east-1a"], publicSubnets: ["10.99.0.0/24"] } },
            ['network.publicSubnets[0]: "10.99.0.0/24" is outside network.cidr; use a block inside the VPC'],
        ],
        [
            "pod CIDR inside the VPC",
            { "keelson:cluster": { podCidr: "10.0.128.0/17" } },
            [
                'cluster.podCidr: "10.0.128.0/17" overlaps network.cidr 10.0.0.0/16; pick a block outside the VPC',
            ],
        ],
        [
            "bad instance type",
            { "keelson:cluster": { masterInstanceType: "t3-medium" } },
            [
                'cluster.masterInstanceType: "t3-medium" is not an EC2 instance type Keelson knows; use a type from components/score/instance-types.ts such as t3.medium or m7i.large (or add yours there with its size and prices)',
            ],
        ],
        [
            "unknown key with a did-you-mean",
            { "keelson:cluster": { mastres: 3 } },
            ["cluster.mastres: 3 is not a known key; did you mean cluster.masters?"],
        ],
        [
            "unknown top-level key",
            { "keelson:clustr": { masters: 3 } },
            ['keelson:clustr: {"masters":3} is not a known key; did you mean keelson:cluster?'],
        ],
        [
            "pool name not DNS-safe",
            { "keelson:cluster": { workerPools: [{ name: "Big_Pool" }] } },
            [
                `cluster.workerPools[0].name: "Big_Pool" is not DNS-safe; use lowercase letters, digits and '-', starting with a letter`,
            ],
        ],
        [
            "duplicate pool names",
            { "keelson:cluster": { workerPools: [{ name: "general" }, { name: "general" }] } },
            ['cluster.workerPools[1].name: "general" is used by another pool; give each pool its own name'],
        ],
        [
            "pool minimum above its count",
            { "keelson:cluster": { workerPools: [{ name: "general", count: 2, minSize: 3, maxSize: 6 }] } },
            [
                "cluster.workerPools[0].minSize: 3 is more than count 2; the group would start below its minimum: lower minSize to 2 or less, or raise count",
            ],
        ],
        [
            "pool maximum below its count",
            { "keelson:cluster": { workerPools: [{ name: "general", count: 3, maxSize: 2 }] } },
            [
                "cluster.workerPools[0].maxSize: 2 is less than count 3; the group could not run that many nodes: raise maxSize to 3 or more, or lower count",
            ],
        ],
        [
            "reserved pool name",
            { "keelson:cluster": { workerPools: [{ name: "master" }] } },
            [
                'cluster.workerPools[0].name: "master" is reserved for control-plane and API nodes; pick another pool name',
            ],
        ],
        [
            "label the kubelet may not set",
            {
                "keelson:cluster": {
                    workerPools: [{ name: "gpu", labels: { "node-role.kubernetes.io/gpu": "" } }],
                },
            },
            [
                'cluster.workerPools[0].labels.node-role.kubernetes.io/gpu: "node-role.kubernetes.io/gpu" is in a namespace the kubelet may not set on its own node; use your own prefix such as keelson.io/ or node.kubernetes.io/',
            ],
        ],
        [
            "short Kubernetes version",
            { "keelson:cluster": { kubernetesVersion: "1.33" } },
            ['cluster.kubernetesVersion: "1.33" is not of the form 1.N.P; use a full version such as 1.33.4'],
        ],
        [
            "old Kubernetes version",
            { "keelson:cluster": { kubernetesVersion: "1.29.3" } },
            ['cluster.kubernetesVersion: "1.29.3" is older than 1.31; use 1.31.0 or newer'],
        ],
        [
            "single endpoint with 3 masters",
            { "keelson:cluster": { masters: 3, endpoint: "single" } },
            ['cluster.endpoint: "single" cannot spread the API over 3 masters; use "nlb" or "haproxy"'],
        ],
        [
            "upgrade health timeout out of bounds, a mistyped upgrade key",
            { "keelson:cluster": { upgrade: { healthTimeoutSeconds: 30, drainTimeout: 300 } } },
            [
                "cluster.upgrade.drainTimeout: 300 is not a known key; did you mean cluster.upgrade.drainTimeoutSeconds?",
                "cluster.upgrade.healthTimeoutSeconds: 30 is out of range; use a number from 60 to 600",
            ],
        ],
        [
            "unsupported engine",
            { "keelson:edge": { engine: "traefik" } },
            ['edge.engine: "traefik" is not supported; use one of "nginx", "haproxy"'],
        ],
        [
            "missing region",
            { "aws:region": undefined },
            [
                "aws:region: (missing) is required; run `pulumi config set aws:region us-east-1` (or your region)",
            ],
        ],
    ];
    for (const [title, values, expected] of cases) {
        it(`reports ${title} with key, value and fix`, () => {
            const v = { ...values };
            const all = { ...base, ...v };
            for (const k of Object.keys(all))
                if ((all as Record<string, unknown>)[k] === undefined)
                    delete (all as Record<string, unknown>)[k];
            assert.deepEqual(
                validateStageConfig("dev", { values: all, secretKeys: [] }).problems.map((p) => p.message),
                expected,
            );
        });
    }

    it("requires both secrets of a provided certificate, as secrets", () => {
        const edge = { tlsMode: "provided", certificates: [{ name: "www", hosts: ["app.example.com"] }] };
        const app = { hostname: "app.example.com" };
        assert.deepEqual(
            messages({ "keelson:edge": edge, "keelson:app": app, "keelson:tls-www-cert": "PEM" }),
            [
                'keelson:tls-www-key: (missing) is required for edge certificate "www"; run `pulumi config set --secret tls-www-key < privkey.pem`',
                "keelson:tls-www-cert: (plain text) is not a secret; run `pulumi config set --secret tls-www-cert < file.pem`",
            ],
        );
        assert.deepEqual(
            messages(
                {
                    "keelson:edge": edge,
                    "keelson:app": app,
                    "keelson:tls-www-cert": "PEM",
                    "keelson:tls-www-key": "KEY",
                },
                ["keelson:tls-www-cert", "keelson:tls-www-key"],
            ),
            [],
        );
    });

    it("reports every problem at once", () => {
        const found = messages({
            "keelson:cluster": { masters: 4, kubernetesVersion: "v1.33.0", workerPools: [{ name: "A" }] },
            "keelson:network": { cidr: "nope" },
        });
        assert.deepEqual(found, [
            'network.cidr: "nope" is not an IPv4 CIDR block; use a network address such as 10.0.0.0/16',
            'cluster.kubernetesVersion: "v1.33.0" is not of the form 1.N.P; use a full version such as 1.33.4',
            "cluster.masters: 4 is even; use 1 or an odd number >= 3",
            `cluster.workerPools[0].name: "A" is not DNS-safe; use lowercase letters, digits and '-', starting with a letter`,
        ]);
    });

    it("applies stage defaults: dev is small and shared, prod is HA and dedicated", () => {
        const dev = requireValidStageConfig("dev", { values: base, secretKeys: [] });
        assert.deepEqual(
            [
                dev.cluster.masters,
                dev.cluster.dedicatedMasters,
                dev.cluster.endpoint,
                dev.network.natGateways,
                dev.network.availabilityZones,
            ],
            [1, false, "single", "single", ["us-east-1a"]],
        );
        assert.deepEqual(dev.network.privateSubnets, ["10.0.0.0/19"]);
        assert.deepEqual(dev.network.publicSubnets, ["10.0.224.0/22"]);
        const prod = validateStageConfig("prod", { values: base, secretKeys: [] });
        assert.deepEqual(
            prod.problems.map((p) => p.key),
            ["cluster.apiAllowedCidrs", "edge.certificates"],
            "prod needs explicit API allow-list and certificates",
        );
        const ok = requireValidStageConfig("prod", {
            values: {
                ...base,
                "keelson:cluster": { apiAllowedCidrs: ["198.51.100.0/24"] },
                "keelson:edge": { tlsMode: "self-signed" },
            },
            secretKeys: [],
        });
        assert.deepEqual(
            [
                ok.cluster.masters,
                ok.cluster.dedicatedMasters,
                ok.cluster.endpoint,
                ok.network.natGateways,
                ok.edge.count,
            ],
            [3, true, "nlb", "perAz", 2],
        );
        assert.deepEqual(ok.network.availabilityZones, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    });

    it("accepts every shipped stage file", () => {
        for (const stage of ["dev", "staging", "prod"]) {
            const loaded = loadStackConfig(`Pulumi.${stage}.yaml`);
            assert.deepEqual(validateStageConfig(stage, loaded).problems, [], stage);
        }
    });

    it("registers no resource at all when the config is invalid", async () => {
        let caught: unknown;
        const run = await runUnderMocks(
            { stack: "dev", config: { ...base, "keelson:cluster": { masters: 2 } } },
            async () => {
                try {
                    return await (projectProgram() as () => Promise<Record<string, unknown>>)();
                } catch (err) {
                    caught = err;
                    return {};
                }
            },
        );
        assert.ok(caught instanceof ConfigError);
        assert.equal(
            (caught as ConfigError).message,
            "stage dev: 1 config problem; nothing was created:\n  - cluster.masters: 2 is even; use 1 or an odd number >= 3",
        );
        assert.deepEqual(run.resources, []);
    });
});
