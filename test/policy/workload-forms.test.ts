// The workload bypass classes of the policy pack: a pod spec that reaches the cluster through another API
// version (apps/v1beta2, extensions/v1beta1, batch/v1beta1), a `<Kind>Patch` (server-side apply onto an
// existing object) or a `<Kind>List`. Each is read, and a patch is judged on the fields it sets only.
import { strict as assert } from "node:assert";
import { restrictedViolationsOfPatch } from "../../components/score/pod-security";
import { viewOf } from "../../components/score/graph-view";
import { asWorkloads, workloadTypeOf } from "../../components/score/workloads";
import {
    containerResources,
    imagePinned,
    podSecurityRestricted,
    readOnlyRoot,
    serviceAccountToken,
} from "../../policy/rules/kubernetes";
import { runPolicies } from "../../policy/run";
import { res } from "../score/fixtures";
import { RESTRICTED_CONTAINER_SC } from "../support/restricted";

type Obj = Record<string, unknown>;
const RESTRICTED = { ...RESTRICTED_CONTAINER_SC, readOnlyRootFilesystem: true };
const meta = { name: "w", namespace: "app" };
const deployment = (podSpec: Obj, name = "w") => ({
    metadata: { ...meta, name },
    spec: { template: { spec: podSpec } },
});
const messages = async (graph: ReturnType<typeof res>[], policy = podSecurityRestricted) =>
    (await runPolicies(graph, [policy])).map((v) => v.message);

describe("policy: workloads in every API version, as patches and as lists", () => {
    it("knows each pod-bearing kind in every version of its groups, its Patch and its List, and nothing else", () => {
        const table = [
            "kubernetes:apps/v1:Deployment",
            "kubernetes:apps/v1beta1:Deployment",
            "kubernetes:apps/v1beta2:DaemonSet",
            "kubernetes:extensions/v1beta1:ReplicaSet",
            "kubernetes:batch/v1beta1:CronJob",
            "kubernetes:apps/v1:DeploymentPatch",
            "kubernetes:core/v1:PodPatch",
            "kubernetes:core/v1:PodTemplateList",
            "kubernetes:batch/v1:JobList",
            "kubernetes:batch/v1:Deployment",
            "kubernetes:core/v1:Service",
            "kubernetes:core/v1:ServicePatch",
            "kubernetes:apps/v1:ControllerRevision",
            "kubernetes:helm.sh/v4:Chart",
            "aws:ec2/instance:Instance",
        ].map((t) => [t, workloadTypeOf(t)]);
        assert.deepEqual(table, [
            ["kubernetes:apps/v1:Deployment", { kind: "Deployment", form: "object" }],
            ["kubernetes:apps/v1beta1:Deployment", { kind: "Deployment", form: "object" }],
            ["kubernetes:apps/v1beta2:DaemonSet", { kind: "DaemonSet", form: "object" }],
            ["kubernetes:extensions/v1beta1:ReplicaSet", { kind: "ReplicaSet", form: "object" }],
            ["kubernetes:batch/v1beta1:CronJob", { kind: "CronJob", form: "object" }],
            ["kubernetes:apps/v1:DeploymentPatch", { kind: "Deployment", form: "patch" }],
            ["kubernetes:core/v1:PodPatch", { kind: "Pod", form: "patch" }],
            ["kubernetes:core/v1:PodTemplateList", { kind: "PodTemplate", form: "list" }],
            ["kubernetes:batch/v1:JobList", { kind: "Job", form: "list" }],
            ["kubernetes:batch/v1:Deployment", undefined],
            ["kubernetes:core/v1:Service", undefined],
            ["kubernetes:core/v1:ServicePatch", undefined],
            ["kubernetes:apps/v1:ControllerRevision", undefined],
            ["kubernetes:helm.sh/v4:Chart", undefined],
            ["aws:ec2/instance:Instance", undefined],
        ]);
    });

    it("reads every item of a list, named by its metadata or its index", () => {
        const item = (name?: string) => ({
            ...(name ? { metadata: { name, namespace: "app" } } : {}),
            spec: { replicas: 3, template: { spec: { containers: [{ name: "c" }] } } },
        });
        const ws = asWorkloads(
            "kubernetes:apps/v1:DeploymentList",
            { items: [item("a"), item()] },
            "u",
            "list",
        );
        assert.deepEqual(
            ws.map((w) => [w.kind, w.patch, w.namespace, w.name, w.replicas]),
            [
                ["Deployment", false, "app", "a", 3],
                ["Deployment", false, "default", "list[1]", 3],
            ],
        );
    });

    it("fails a privileged pod however it arrives: an old version, a patch, a list item", async () => {
        const privileged = {
            hostNetwork: true,
            containers: [{ name: "c", image: "ghcr.io/x/y:1.0.0", securityContext: { privileged: true } }],
        };
        const graph = [
            res("kubernetes:apps/v1beta2:DaemonSet", "old", deployment(privileged, "old")),
            res("kubernetes:extensions/v1beta1:Deployment", "ext", deployment(privileged, "ext")),
            res("kubernetes:batch/v1beta1:CronJob", "cj", {
                metadata: { ...meta, name: "cj" },
                spec: { jobTemplate: { spec: { template: { spec: privileged } } } },
            }),
            res("kubernetes:apps/v1:DeploymentPatch", "patch", deployment(privileged)),
            res("kubernetes:apps/v1:DeploymentList", "list", { items: [deployment(privileged, "item")] }),
        ];
        const out = await messages(graph);
        const failing = (check: string) =>
            out
                .filter((m) => m.includes(` fails restricted ${check}: `))
                .map((m) => m.slice(0, m.indexOf(" fails ")));
        const all = [
            "DaemonSet app/old",
            "Deployment app/ext",
            "CronJob app/cj",
            "DeploymentPatch app/w",
            "Deployment app/item",
        ];
        assert.deepEqual(failing("hostNamespaces"), all);
        assert.deepEqual(failing("privileged"), all);
        // The patch is judged on what it sets: host network and privileged, nothing it left out.
        assert.deepEqual(
            out.filter((m) => m.startsWith("DeploymentPatch")),
            [
                "DeploymentPatch app/w fails restricted hostNamespaces: hostNetwork=true.",
                'DeploymentPatch app/w fails restricted privileged: container "c" must not set securityContext.privileged=true.',
            ],
        );
    });

    it("admits a patch that sets no security field, and judges every security field a patch sets", async () => {
        const scaleOnly = res("kubernetes:apps/v1:DeploymentPatch", "scale", {
            metadata: meta,
            spec: {
                replicas: 4,
                template: { spec: { containers: [{ name: "c", image: "ghcr.io/x/y:1.2.0" }] } },
            },
        });
        assert.deepEqual(await messages([scaleOnly]), []);
        const patchChecks = (podSpec: Obj) => restrictedViolationsOfPatch(podSpec).map((v) => v.check);
        const container = (sc: Obj) => ({ containers: [{ name: "c", securityContext: sc }] });
        assert.deepEqual(
            [
                patchChecks(container({ allowPrivilegeEscalation: true })),
                patchChecks(container({ capabilities: { drop: [] } })),
                patchChecks(container({ capabilities: { add: ["SYS_ADMIN"] } })),
                patchChecks(container({ runAsUser: 0 })),
                patchChecks(container({ seccompProfile: { type: "Unconfined" } })),
                patchChecks({ securityContext: { runAsNonRoot: false } }),
                patchChecks({ volumes: [{ name: "h", hostPath: { path: "/" } }] }),
                patchChecks(container(RESTRICTED)),
            ],
            [
                ["allowPrivilegeEscalation"],
                ["capabilities_restricted"],
                ["capabilities_restricted"],
                ["runAsUser"],
                ["seccompProfile_restricted"],
                ["runAsNonRoot"],
                ["restrictedVolumes"],
                [],
            ],
        );
    });

    it("does not ask a patch for what it leaves out, but judges what it sets", async () => {
        const patch = (podSpec: Obj) => res("kubernetes:apps/v1:DeploymentPatch", "p", deployment(podSpec));
        const bare = patch({ containers: [{ name: "c" }] });
        for (const policy of [containerResources, imagePinned, readOnlyRoot, serviceAccountToken])
            assert.deepEqual(await messages([bare], policy), [], policy.name);
        const weak = patch({
            automountServiceAccountToken: true,
            containers: [
                { name: "c", image: "nginx:latest", securityContext: { readOnlyRootFilesystem: false } },
            ],
        });
        assert.deepEqual(await messages([weak], imagePinned), [
            "DeploymentPatch app/w container c image nginx:latest is latest.",
        ]);
        assert.deepEqual(await messages([weak], readOnlyRoot), [
            "DeploymentPatch app/w container c has a writable root filesystem.",
        ]);
        assert.deepEqual(await messages([weak], serviceAccountToken), [
            "DeploymentPatch app/w mounts a service-account token.",
        ]);
    });

    it("counts list items as workloads of the stack and a patch as none", () => {
        const d = deployment({ containers: [{ name: "c" }] });
        const view = viewOf([
            res("kubernetes:apps/v1:DeploymentList", "list", { items: [d, d] }),
            res("kubernetes:apps/v1:DeploymentPatch", "patch", d),
            res("kubernetes:apps/v1beta1:StatefulSet", "old", d),
        ]);
        assert.deepEqual(
            view.workloads.map((w) => `${w.kind} ${w.patch}`),
            ["Deployment false", "Deployment false", "StatefulSet false"],
        );
    });
});
