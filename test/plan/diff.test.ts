import { strict as assert } from "node:assert";
import {
    changedPaths,
    diffJson,
    diffPlans,
    PlanJson,
    PlanJsonResource,
    renderDiffText,
} from "../../tools/plan/diff";
import { pathCovered } from "../../tools/plan/replacements";

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
            updated: [
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
            replaced: [],
            ignored: [],
        });
    });
    it("finds nothing between a plan and itself", () => {
        const p: PlanJson = { stack: "dev", resources: [r("web", { spec: { replicas: 1 } })] };
        assert.deepEqual(diffPlans(p, p), { added: [], updated: [], replaced: [], removed: [], ignored: [] });
    });
});

const INSTANCE = "aws:ec2/instance:Instance";
const inst = (inputs: Record<string, unknown>, options?: PlanJsonResource["options"]): PlanJsonResource => ({
    ...r("master-0", inputs, INSTANCE),
    ...(options ? { options } : {}),
});
const one = (a: PlanJsonResource, b: PlanJsonResource) =>
    diffPlans({ stack: "dev", resources: [a] }, { stack: "dev", resources: [b] });
const URN = `urn:pulumi:dev::keelson::${INSTANCE}::master-0`;

describe("diffPlans: what pulumi preview would do", () => {
    const base = { ami: "ami-1", instanceType: "t3.medium", userDataBase64: "old", subnetId: "subnet-1" };

    it("updates in place a field the provider updates (instanceType)", () => {
        const d = one(inst(base), inst({ ...base, instanceType: "t3.large" }));
        assert.deepEqual(diffJson(d), {
            added: [],
            updated: [{ urn: URN, fields: ["instanceType"] }],
            replaced: [],
            removed: [],
            ignored: [],
        });
    });

    it("replaces on a field the provider forces (ami, subnetId), creating before deleting, and says why", () => {
        const d = one(inst(base), inst({ ...base, ami: "ami-2", instanceType: "t3.large" }));
        assert.deepEqual(diffJson(d).replaced, [
            {
                urn: URN,
                fields: ["ami", "instanceType"],
                reasons: ["ami: the provider replaces aws:ec2/instance:Instance on this field"],
                deleteBeforeReplace: false,
            },
        ]);
        assert.deepEqual(renderDiffText(d, "old.json"), [
            "Changes against old.json: 0 to create, 0 to update, 1 to replace, 0 to delete",
            "  +- aws:ec2/instance:Instance master-0 (create, then delete): ami: the provider replaces aws:ec2/instance:Instance on this field",
            "       also changed: instanceType",
        ]);
    });

    it("ignores changes under ignoreChanges, even on a field that would force replacement", () => {
        const options = { ignoreChanges: ["userDataBase64", "ami"] };
        const d = one(inst(base, options), inst({ ...base, ami: "ami-2", userDataBase64: "new" }, options));
        assert.deepEqual(diffJson(d), {
            added: [],
            updated: [],
            replaced: [],
            removed: [],
            ignored: [{ urn: URN, fields: ["ami", "userDataBase64"] }],
        });
        assert.deepEqual(renderDiffText(d, "old.json"), [
            "Changes against old.json: 0 to create, 0 to update, 0 to replace, 0 to delete, 1 unchanged (ignoreChanges)",
            "  =  aws:ec2/instance:Instance master-0: ignored changes to ami, userDataBase64",
        ]);
    });

    it("replaces on replaceOnChanges paths and deletes first with deleteBeforeReplace", () => {
        const options = { replaceOnChanges: ["userDataBase64"], deleteBeforeReplace: true };
        const d = one(inst(base, options), inst({ ...base, userDataBase64: "new" }, options));
        assert.deepEqual(diffJson(d).replaced, [
            {
                urn: URN,
                fields: ["userDataBase64"],
                reasons: ['userDataBase64: replaceOnChanges "userDataBase64"'],
                deleteBeforeReplace: true,
            },
        ]);
    });

    it("replaces user-data changes only with userDataReplaceOnChange, as the provider's CustomizeDiff does", () => {
        const on = { ...base, userDataReplaceOnChange: true };
        assert.equal(one(inst(base), inst({ ...base, userDataBase64: "new" })).updated.length, 1);
        assert.equal(one(inst(on), inst({ ...on, userDataBase64: "new" })).replaced.length, 1);
    });

    it("deletes first when a Kubernetes object or an AWS resource has an explicit physical name", () => {
        const dep = (selector: string) =>
            r("web", { metadata: { name: "web", namespace: "app" }, spec: { selector: { app: selector } } });
        const d = diffPlans({ stack: "dev", resources: [dep("a")] }, { stack: "dev", resources: [dep("b")] });
        assert.deepEqual(diffJson(d).replaced, [
            {
                urn: "urn:pulumi:dev::keelson::kubernetes:apps/v1:Deployment::web",
                fields: ["spec.selector.app"],
                reasons: [
                    "spec.selector.app: the provider replaces kubernetes:apps/v1:Deployment on this field",
                ],
                deleteBeforeReplace: true,
            },
        ]);
        const tg = (port: number, name?: string) =>
            r("tg", { port, ...(name ? { name } : {}) }, "aws:lb/targetGroup:TargetGroup");
        assert.equal(
            diffPlans({ stack: "d", resources: [tg(80)] }, { stack: "d", resources: [tg(81)] }).replaced[0]
                .deleteBeforeReplace,
            false,
        );
        assert.equal(
            diffPlans({ stack: "d", resources: [tg(80, "tg")] }, { stack: "d", resources: [tg(81, "tg")] })
                .replaced[0].deleteBeforeReplace,
            true,
        );
    });

    it("matches option paths as the engine does: children, wildcards and `*`", () => {
        assert.equal(pathCovered("spec.template.spec.containers[0].image", "spec.template"), true);
        assert.equal(pathCovered("spec.templateX", "spec.template"), false);
        assert.equal(pathCovered("tags.Name", "tags.*"), true);
        assert.equal(pathCovered("containers[3].image", "containers[*].image"), true);
        assert.equal(pathCovered("containers[3].name", "containers[*].image"), false);
        assert.equal(pathCovered("anything.at[1].all", "*"), true);
    });
});
