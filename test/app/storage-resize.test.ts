// Storage grows by resizing the claims, never by replacing a StatefulSet: the claim templates stay as
// created (ignoreChanges) and each claim the StatefulSet controller made is patched to the new size.
// Planned through the real index.ts under the mock engine, then diffed as `pulumi preview` would
// (tools/plan/diff.ts, with pulumi-kubernetes' replace-on-change fields).
import * as assert from "node:assert/strict";
import * as path from "path";
import { planApplication, STATEFULSET_IGNORED } from "../../components/app/plan";
import { container, memcached, postgres, redis } from "../../components/app/services";
import { diffPlans, PlanJson } from "../../tools/plan/diff";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { loadStackConfig } from "../../tools/plan/stack-config";
import { validateManifest } from "./support/schema";

type Obj = Record<string, unknown>;

const STS = "kubernetes:apps/v1:StatefulSet";
const PATCH = "kubernetes:core/v1:PersistentVolumeClaimPatch";

async function devPlan(databaseStorageGb: number): Promise<FullPlan> {
    const dev = loadStackConfig(path.join(__dirname, "../../Pulumi.dev.yaml"));
    const app = { ...(dev.values["keelson:app"] as Obj), databaseStorageGb };
    return planStage({
        stack: "dev",
        config: { values: { ...dev.values, "keelson:app": app }, secretKeys: dev.secretKeys },
    });
}

const sts = (service: string) => `keelson-dev-${service}.statefulset`;
const asJson = (p: FullPlan): PlanJson => ({ stack: p.stack, resources: p.resources });

describe("app/storage: data volumes grow by resizing their claims", () => {
    it("plans a claim patch per volume-backed pod, after its StatefulSet, whose templates stay as created", () => {
        const db = postgres("db", { storageGb: 20, storageClass: "gp3-encrypted" });
        const cache = redis("cache");
        const sessions = memcached("sessions", { replicas: 2 });
        const web = container("web", {
            image: "ghcr.io/stefanprodan/podinfo:6.9.2",
            port: 9898,
            connects: [db, cache, sessions],
        });
        const plan = planApplication({ name: "shop", namespace: "shop", services: [web] });
        const byKey = new Map(plan.objects.map((o) => [o.key, o]));
        const claims = plan.objects.filter((o) => o.patch);
        assert.deepEqual(
            claims.map((o) => [o.key, o.manifest.metadata.name, o.dependsOn]),
            [
                ["db.claim-0", "data-db-0", ["namespace", "db.statefulset"]],
                ["cache.claim-0", "data-cache-0", ["namespace", "cache.statefulset"]],
            ],
        );
        const [dbClaim] = claims;
        assert.deepEqual(dbClaim.manifest, {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: {
                name: "data-db-0",
                namespace: "shop",
                labels: { "app.kubernetes.io/name": "db", "app.kubernetes.io/part-of": "shop" },
                annotations: { "pulumi.com/patchForce": "true" },
            },
            spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: "gp3-encrypted",
                resources: { requests: { storage: "20Gi" } },
            },
        });
        validateManifest(dbClaim.manifest, "data-db-0");
        // The claim the controller makes from the template has exactly this name, labels, mode and class.
        const sts = byKey.get("db.statefulset")!;
        const spec = sts.manifest.spec as { volumeClaimTemplates: Obj[] };
        const [template] = spec.volumeClaimTemplates as { metadata: Obj; spec: Obj }[];
        assert.equal(`${template.metadata.name}-db-0`, dbClaim.manifest.metadata.name);
        assert.deepEqual(template.metadata.labels, dbClaim.manifest.metadata.labels);
        assert.deepEqual(template.spec, dbClaim.manifest.spec);
        assert.deepEqual(sts.ignoreChanges, STATEFULSET_IGNORED);
        // memcached has no volume: no claim, nothing ignored.
        assert.equal(byKey.get("sessions.statefulset")!.ignoreChanges, undefined);
        assert.equal(byKey.has("sessions.claim-0"), false);
    });

    it("a claim's size updates in place; a new storage class replaces it (pulumi-kubernetes diff.go)", () => {
        const claim = (type: string, spec: Obj) => ({
            urn: `urn:pulumi:dev::keelson::${type}::c`,
            type,
            name: "c",
            inputs: { metadata: { name: "data" }, spec },
        });
        for (const type of ["kubernetes:core/v1:PersistentVolumeClaim", PATCH]) {
            const old = { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } };
            const plan = (spec: Obj): PlanJson => ({ stack: "dev", resources: [claim(type, spec)] });
            const grown = diffPlans(
                plan(old),
                plan({ ...old, resources: { requests: { storage: "20Gi" } } }),
            );
            assert.deepEqual(
                [grown.updated.map((c) => c.fields), grown.replaced],
                [[["spec.resources.requests.storage"]], []],
            );
            const moved = diffPlans(plan(old), plan({ ...old, storageClassName: "io2" }));
            assert.deepEqual(
                moved.replaced.map((c) => c.reasons),
                [[`spec.storageClassName: the provider replaces ${type} on this field`]],
            );
        }
    });

    describe("through index.ts: dev with databaseStorageGb 10, then 20", () => {
        let small: FullPlan;
        let grown: FullPlan;
        before(async () => {
            small = await devPlan(10);
            grown = await devPlan(20);
        });

        it("registers each StatefulSet with ignoreChanges on its claim templates and a claim patch", () => {
            const sets = grown.resources.filter((r) => r.type === STS);
            const withVolume = sets.filter((r) => (r.inputs.spec as Obj).volumeClaimTemplates);
            assert.ok(withVolume.length >= 3, withVolume.map((r) => r.name).join(", "));
            for (const r of withVolume)
                assert.deepEqual(r.options?.ignoreChanges, ["spec.volumeClaimTemplates"]);
            const patches = grown.resources.filter((r) => r.type === PATCH);
            assert.deepEqual(
                patches.map((r) => (r.inputs.metadata as Obj).name).sort(),
                withVolume.map((r) => `data-${(r.inputs.metadata as Obj).name}-0`).sort(),
            );
        });

        it("updates only the claims' size in place: nothing replaced, the StatefulSets unchanged", () => {
            const diff = diffPlans(asJson(small), asJson(grown));
            assert.deepEqual(diff.replaced, []);
            assert.deepEqual(diff.added, []);
            assert.deepEqual(diff.removed, []);
            const claim = (name: string) => `keelson-dev-${name}.claim-0`;
            assert.deepEqual(
                diff.updated.filter((c) => c.type === PATCH).map((c) => [c.name, c.fields]),
                [
                    [claim("cache"), ["spec.resources.requests.storage"]],
                    [claim("db"), ["spec.resources.requests.storage"]],
                    [claim("queue"), ["spec.resources.requests.storage"]],
                ],
            );
            const sizes = grown.resources
                .filter((r) => r.type === PATCH)
                .map((r) => [(r.inputs.metadata as Obj).name, (r.inputs.spec as Obj).resources]);
            assert.deepEqual(sizes.sort(), [
                ["data-cache-0", { requests: { storage: "2Gi" } }],
                ["data-db-0", { requests: { storage: "20Gi" } }],
                ["data-queue-0", { requests: { storage: "20Gi" } }],
            ]);
            assert.deepEqual(
                diff.ignored.filter((c) => c.type === STS).map((c) => [c.name, c.fields]),
                ["cache", "db", "queue"].map((n) => [
                    sts(n),
                    ["spec.volumeClaimTemplates[0].spec.resources.requests.storage"],
                ]),
            );
        });

        it("without ignoreChanges the same change would replace every data StatefulSet, deleting it first (the guard)", () => {
            const stripped: PlanJson = {
                stack: grown.stack,
                resources: grown.resources.map((r) => (r.type === STS ? { ...r, options: undefined } : r)),
            };
            const diff = diffPlans(asJson(small), stripped);
            const reason = `spec.volumeClaimTemplates[0].spec.resources.requests.storage: the provider replaces ${STS} on this field`;
            assert.deepEqual(
                diff.replaced.map((c) => [c.name, c.reasons, c.deleteBeforeReplace]),
                ["cache", "db", "queue"].map((n) => [sts(n), [reason], true]),
            );
        });
    });
});
