import { strict as assert } from "node:assert";
import { changedPaths, diffPlans, PlanJson } from "../../tools/plan/diff";

const r = (name: string, inputs: Record<string, unknown>, type = "kubernetes:apps/v1:Deployment") => ({
    urn: `urn:pulumi:dev::keelson::${type}::${name}`,
    type,
    name,
    parent: null,
    dependencies: [],
    inputs,
});

describe("changedPaths", () => {
    it("reports nested object keys with dots and array items with [i]", () => {
        const a = {
            spec: { replicas: 1, template: { spec: { containers: [{ image: "web:1", ports: [80] }] } } },
        };
        const b = {
            spec: { replicas: 3, template: { spec: { containers: [{ image: "web:2", ports: [80, 443] }] } } },
        };
        assert.deepEqual(changedPaths(a, b), [
            "spec.replicas",
            "spec.template.spec.containers[0].image",
            "spec.template.spec.containers[0].ports[1]",
        ]);
    });
    it("reports added and removed keys and kind changes at their own path", () => {
        assert.deepEqual(changedPaths({ a: 1, b: { c: 2 } }, { b: "x", d: null }), ["a", "b", "d"]);
        assert.deepEqual(changedPaths({ tags: { x: "1" } }, { tags: { x: "1" } }), []);
        assert.deepEqual(changedPaths(1, 2), ["(value)"]);
    });
    it("treats masked secrets as unchanged", () => {
        assert.deepEqual(changedPaths({ userData: "[secret]" }, { userData: "[secret]" }), []);
    });
});

describe("diffPlans", () => {
    it("lists added, changed and removed resources by URN with changed fields", () => {
        const oldPlan: PlanJson = {
            stack: "dev",
            resources: [r("web", { spec: { replicas: 1 } }), r("old", {}), r("same", { a: 1 })],
        };
        const newPlan: PlanJson = {
            stack: "dev",
            resources: [
                r("web", { spec: { replicas: 2 } }),
                r("same", { a: 1 }),
                r("db", {}, "kubernetes:apps/v1:StatefulSet"),
            ],
        };
        assert.deepEqual(diffPlans(oldPlan, newPlan), {
            added: [
                {
                    urn: "urn:pulumi:dev::keelson::kubernetes:apps/v1:StatefulSet::db",
                    type: "kubernetes:apps/v1:StatefulSet",
                    name: "db",
                },
            ],
            changed: [
                {
                    urn: "urn:pulumi:dev::keelson::kubernetes:apps/v1:Deployment::web",
                    type: "kubernetes:apps/v1:Deployment",
                    name: "web",
                    fields: ["spec.replicas"],
                },
            ],
            removed: [
                {
                    urn: "urn:pulumi:dev::keelson::kubernetes:apps/v1:Deployment::old",
                    type: "kubernetes:apps/v1:Deployment",
                    name: "old",
                },
            ],
        });
    });
    it("finds nothing between a plan and itself", () => {
        const p: PlanJson = { stack: "dev", resources: [r("web", { spec: { replicas: 1 } })] };
        assert.deepEqual(diffPlans(p, p), { added: [], changed: [], removed: [] });
    });
});
