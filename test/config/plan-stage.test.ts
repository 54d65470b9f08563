// The whole stage is checked before anything is registered: every rule added with planStage and the
// dated tables (regions, Kubernetes releases, instance types), each with its exact message (key, value,
// fix), no secret echoed, long values cut, and a 10,000-pool config answered at once.
import { strict as assert } from "node:assert";
import { planStage, requireValidStageConfig, validateStageConfig } from "../../components/config";
import { looksSecret, show } from "../../components/core/problems";
import { isAwsRegion, zonesOf } from "../../components/core/regions";
import { isReleasedKubernetesVersion } from "../../components/core/kubernetes-versions";

const base = { "aws:region": "us-east-1" };

function messages(values: Record<string, unknown>, secretKeys: string[] = [], stage = "dev"): string[] {
    return validateStageConfig(stage, { values: { ...base, ...values }, secretKeys }).problems.map(
        (p) => p.message,
    );
}

const PROD_EDGE = {
    "keelson:edge": { certificates: [{ name: "www", hosts: ["prod.keelson.example.com"] }] },
    "keelson:tls-www-cert": "c",
    "keelson:tls-www-key": "k",
};
const PROD_SECRETS = ["keelson:tls-www-cert", "keelson:tls-www-key"];

describe("stage config: the whole stage before anything is registered", () => {
    const cases: [string, Record<string, unknown>, string[], string[]?, string?][] = [
        [
            "NaN",
            { "keelson:cluster": { masters: NaN } },
            ["cluster.masters: .nan is not a whole number; use 1 or an odd number >= 3"],
        ],
        [
            "infinity",
            { "keelson:edge": { count: Infinity } },
            ["edge.count: .inf is not a whole number; use a number from 1 to 10"],
        ],
        [
            "null (how .nan and 1e309 reach the program through JSON)",
            { "keelson:cluster": { masters: null } },
            [
                "cluster.masters: null is empty or not a finite number (.nan, .inf); write a value, or remove the key to use the default",
            ],
        ],
        [
            "an unknown region",
            { "aws:region": "xx-north-9" },
            [
                'aws:region: "xx-north-9" is not an AWS region (regions known as of 2026-12-01); did you mean eu-north-1?',
            ],
        ],
        [
            "an unknown zone",
            { "keelson:network": { availabilityZones: ["us-east-1z"] } },
            [
                'network.availabilityZones[0]: "us-east-1z" is not an availability zone of us-east-1; use one of us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f',
            ],
        ],
        [
            "a Kubernetes version never released",
            { "keelson:cluster": { kubernetesVersion: "1.33.99" } },
            [
                'cluster.kubernetesVersion: "1.33.99" is not a released version with pkgs.k8s.io packages (known as of 2026-02-10: 1.31.0-1.31.13, 1.32.0-1.32.12, 1.33.0-1.33.8, 1.34.0-1.34.4, 1.35.0-1.35.1); use one of those',
            ],
        ],
        [
            "an instance type outside the table",
            { "keelson:cluster": { workerPools: [{ name: "g", instanceType: "m9z.large" }] } },
            [
                'cluster.workerPools[0].instanceType: "m9z.large" is not an EC2 instance type Keelson knows; use a type from components/score/instance-types.ts such as t3.medium or m7i.large (or add yours there with its size and prices)',
            ],
        ],
        [
            "too many nodes",
            {
                "keelson:cluster": {
                    workerPools: Array.from({ length: 6 }, (_, i) => ({ name: `p${i}`, count: 100 })),
                },
            },
            [
                "cluster.workerPools: (600 nodes) has more than 500 worker nodes in total; use at most 500 (split the stage, or use larger instance types)",
            ],
        ],
        [
            "an empty prod apiAllowedCidrs",
            { "keelson:cluster": { apiAllowedCidrs: [] }, ...PROD_EDGE },
            [
                "cluster.apiAllowedCidrs: [] is empty in a production stage; list the CIDRs of your operators and CI, e.g. [203.0.113.0/24]",
            ],
            PROD_SECRETS,
            "prod",
        ],
        [
            "a prod API open to the internet",
            { "keelson:cluster": { apiAllowedCidrs: ["0.0.0.0/0"] }, ...PROD_EDGE },
            [
                'cluster.apiAllowedCidrs[0]: "0.0.0.0/0" opens the Kubernetes API to the whole internet in a production stage; list the CIDRs of your operators and CI',
            ],
            PROD_SECRETS,
            "prod",
        ],
        [
            "a CIDR listed twice (two identical firewall rules)",
            { "keelson:cluster": { apiAllowedCidrs: ["203.0.113.0/24", "203.0.113.0/24"] } },
            ['cluster.apiAllowedCidrs[1]: "203.0.113.0/24" is listed twice; list each CIDR once'],
        ],
        [
            "a misspelt aws key",
            { "aws:regoin": "us-east-1" },
            ["aws:regoin: (plain text) is not a setting of the AWS provider; did you mean aws:region?"],
        ],
        [
            "plain-text AWS credentials, never echoed",
            {
                "aws:secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "aws:accessKey": "AKIAIOSFODNN7EXAMPLE",
            },
            [
                "aws:secretKey: (plain text) is a credential stored in plain text; run `pulumi config set --secret aws:secretKey <value>` (or use aws:profile or the environment)",
                "aws:accessKey: (plain text) is a credential stored in plain text; run `pulumi config set --secret aws:accessKey <value>` (or use aws:profile or the environment)",
            ],
        ],
        [
            "a stage name Pulumi allows but AWS and Kubernetes names cannot take",
            {},
            [
                `stage: "feature_x" cannot name Keelson's resources; name the stack with lowercase letters, digits and '-', starting with a letter, at most 24 characters (e.g. feature-x)`,
            ],
            [],
            "feature_x",
        ],
        [
            "the app in kube-system",
            { "keelson:app": { namespace: "kube-system" } },
            [
                `app.namespace: "kube-system" belongs to Kubernetes itself; pick a namespace of the application's own, e.g. app`,
            ],
        ],
        [
            "the app in an add-on's namespace",
            { "keelson:app": { namespace: "logging" } },
            [
                `app.namespace: "logging" is where the add-ons install fluent-bit; pick a namespace of the application's own, e.g. app`,
            ],
        ],
        [
            "an edge with no backend (shared masters, no workers)",
            { "keelson:cluster": { workerPools: [] } },
            [
                "cluster.workerPools: [] has no worker nodes for the edge to route to; add a pool with count 1 or more",
            ],
        ],
        [
            "a route host no certificate serves (Edge used to refuse it after 194 registrations)",
            {
                "keelson:app": { hostname: "shop.example.com" },
                "keelson:edge": { certificates: [{ name: "www", hosts: ["www.example.com"] }] },
            },
            [
                `app.hostname: "shop.example.com" is served by no certificate in edge.certificates (they serve www.example.com); add it to a certificate's hosts, or change app.hostname`,
            ],
        ],
        [
            "a private key under a mistyped key",
            { "keelson:tls_www_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg" },
            [
                "keelson:tls_www_key: (value hidden: it looks like a secret) is not a known key; remove it (known keys: keelson:network, keelson:cluster, keelson:edge, keelson:app, keelson:addons, keelson:score, keelson:production, keelson:kubeconfig, keelson:tls-<name>-cert|key)",
            ],
        ],
        [
            "a 100 kB value",
            { "keelson:app": { hostname: "a".repeat(100000) } },
            [
                `app.hostname: "${"a".repeat(56)}... is not a DNS name; use a host name such as app.example.com`,
            ],
        ],
        [
            "a section stored as a secret (its value never echoed)",
            { "keelson:cluster": "masters: 3" },
            [
                "keelson:cluster: [secret] is a secret, but Keelson reads it as plain configuration; set it without --secret (certificates and keys go in keelson:tls-<name>-cert|key)",
            ],
            ["keelson:cluster"],
        ],
    ];
    for (const [title, values, expected, secretKeys, stage] of cases) {
        it(`refuses ${title}`, () => assert.deepEqual(messages(values, secretKeys, stage), expected));
    }

    it("answers 10,000 worker pools at once, before reading any of them", () => {
        const started = process.hrtime.bigint();
        const pools = Array.from({ length: 10000 }, (_, i) => ({ name: `p${i}` }));
        assert.deepEqual(messages({ "keelson:cluster": { workerPools: pools } }), [
            "cluster.workerPools: (a list of 10000) is too long; list at most 20",
        ]);
        assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 1000, "took a second or more");
    });

    it("planStage finds nothing wrong in a valid stage, and every problem of a broken one", () => {
        const ok = requireValidStageConfig("dev", { values: base, secretKeys: [] });
        assert.deepEqual(planStage(ok), []);
        const broken = {
            ...ok,
            app: { ...ok.app, namespace: "monitoring" },
            cluster: { ...ok.cluster, workerPools: [] },
        };
        assert.deepEqual(
            planStage(broken).map((p) => p.key),
            ["app.namespace", "cluster.workerPools"],
        );
    });

    it("reads the region, zone and release tables", () => {
        assert.deepEqual(
            ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "us-east-7"].map(
                isAwsRegion,
            ),
            [true, true, true, true, true, false],
        );
        assert.deepEqual(zonesOf("ap-northeast-1"), [
            "ap-northeast-1a",
            "ap-northeast-1c",
            "ap-northeast-1d",
        ]);
        assert.deepEqual(
            ["1.33.4", "1.33.8", "1.33.9", "1.30.0", "1.36.0", "1.35.1"].map(isReleasedKubernetesVersion),
            [true, true, false, false, false, true],
        );
    });

    it("never shows a value that looks like a secret, and cuts long values", () => {
        for (const secret of [
            "-----BEGIN EC PRIVATE KEY-----",
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
            { nested: ["ghp_16C7e42F292c6912E7710c838347Ae178B4a"] },
        ]) {
            assert.ok(looksSecret(secret), JSON.stringify(secret));
            assert.equal(show(secret), "(value hidden: it looks like a secret)");
        }
        for (const plain of ["us-east-1", "t3.medium", "a".repeat(80), "keelson-prod-edge-https", 3]) {
            assert.ok(!looksSecret(plain), String(plain));
        }
        assert.equal(show("x".repeat(100)), `"${"x".repeat(56)}...`);
    });
});
