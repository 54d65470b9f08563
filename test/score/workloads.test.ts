import { strict as assert } from "node:assert";
import { parseCpuMillis, parseMemoryMiB, parseQuantity } from "../../components/score/quantity";
import { asWorkload, imageTagProblem, plainSecretEnv, selects } from "../../components/score/workloads";

describe("quantities", () => {
    it("parses CPU into millicores", () => {
        assert.deepEqual(["500m", "1", "1.5", 2, "100u", "x", "-1", "[secret]"].map(parseCpuMillis), [
            500,
            1000,
            1500,
            2000,
            0,
            undefined,
            undefined,
            undefined,
        ]);
    });
    it("parses memory into MiB", () => {
        assert.deepEqual(["128Mi", "1Gi", "512Ki", "1e6", "1G", "2Ti"].map(parseMemoryMiB), [
            128,
            1024,
            0.5,
            1e6 / 2 ** 20,
            1e9 / 2 ** 20,
            2 * 2 ** 20,
        ]);
        assert.equal(parseQuantity("12Zi"), undefined);
    });
});

describe("workload helpers", () => {
    it("reads Deployments, CronJobs and Pods", () => {
        const d = asWorkload(
            "kubernetes:apps/v1:Deployment",
            {
                spec: {
                    template: { metadata: { labels: { app: "a" } }, spec: { containers: [{ name: "c" }] } },
                },
            },
            "u",
            "res",
        );
        assert.deepEqual(
            [d?.kind, d?.name, d?.namespace, d?.replicas, d?.podLabels, d?.containers.length],
            ["Deployment", "res", "default", 1, { app: "a" }, 1],
        );
        const cj = asWorkload(
            "kubernetes:batch/v1:CronJob",
            {
                metadata: { name: "b", namespace: "x" },
                spec: {
                    jobTemplate: {
                        spec: { template: { spec: { initContainers: [{ name: "i" }], containers: [] } } },
                    },
                },
            },
            "u",
            "res",
        );
        assert.deepEqual(
            [cj?.kind, cj?.name, cj?.namespace, cj?.replicas, cj?.initContainers.length],
            ["CronJob", "b", "x", undefined, 1],
        );
        assert.equal(
            asWorkload("kubernetes:core/v1:Pod", { spec: { containers: [{ name: "p" }] } }, "u", "p")
                ?.containers.length,
            1,
        );
        assert.equal(asWorkload("kubernetes:core/v1:Service", {}, "u", "s"), undefined);
    });
    it("matches label selectors with matchLabels and matchExpressions", () => {
        const pod = { app: "web", tier: "front" };
        assert.equal(selects({}, pod), true);
        assert.equal(selects({ matchLabels: { app: "web" } }, pod), true);
        assert.equal(selects({ matchLabels: { app: "db" } }, pod), false);
        assert.equal(
            selects({ matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] }, pod),
            true,
        );
        assert.equal(
            selects({ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["front"] }] }, pod),
            false,
        );
        assert.equal(selects({ matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, pod), true);
        assert.equal(selects({ matchExpressions: [{ key: "zone", operator: "Exists" }] }, pod), false);
        assert.equal(selects({ matchExpressions: [{ key: "app", operator: "Bogus" }] }, pod), false);
    });
    it("finds unpinned images", () => {
        const cases: Array<[string, string | undefined]> = [
            ["nginx", "untagged"],
            ["nginx:latest", "latest"],
            ["nginx:1.27.3", undefined],
            ["registry.local:5000/team/app", "untagged"],
            ["registry.local:5000/team/app:2.1", undefined],
            ["nginx@sha256:abc", undefined],
        ];
        for (const [image, problem] of cases) assert.equal(imageTagProblem(image), problem, image);
    });
    it("finds credential-looking env vars set as plain values", () => {
        const env = [
            { name: "DB_PASSWORD", value: "x" },
            { name: "api_key", value: "x" },
            { name: "SECRET_REF", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
            { name: "DATABASE_URL", value: "[secret]" },
            { name: "PORT", value: "80" },
            // A path to a mounted token is not the token; a secret value under such a name still is.
            {
                name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                value: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
            },
            { name: "PASSWORD_FILE", value: "[secret]" },
        ];
        assert.deepEqual(plainSecretEnv({ env }), [
            "DB_PASSWORD",
            "api_key",
            "DATABASE_URL",
            "PASSWORD_FILE",
        ]);
    });
});
