// The full Pod Security Standards restricted profile (kubernetes/pod-security-admission policy/check_*.go): one
// case per restricted field, in every container kind (init, regular, ephemeral) and every pod-bearing workload
// kind, the pod-level/container-level precedence bypasses, and the coverage rule counting only ingress policies.
import { strict as assert } from "node:assert";
import { restrictedViolations } from "../../components/score/pod-security";
import { coversIngress, networkPolicyCoverage, podSecurityRestricted } from "../../policy/rules/kubernetes";
import { runPolicies } from "../../policy/run";
import { res } from "../score/fixtures";
import { RESTRICTED_CONTAINER_SC } from "../support/restricted";

type Obj = Record<string, unknown>;
const SC = RESTRICTED_CONTAINER_SC;
const c = (name: string, extra: Obj = {}, sc: Obj = {}): Obj => ({
    name,
    image: "ghcr.io/example/app:1.0.0",
    securityContext: { ...SC, ...sc },
    ...extra,
});
const spec = (extra: Obj = {}, main: Obj = c("app")): Obj => ({ containers: [main], ...extra });
const checks = (podSpec: Obj, metadata: Obj = {}) =>
    restrictedViolations(podSpec, metadata).map((v) => v.check);

describe("Pod Security Standards restricted: every pod-security-admission check", () => {
    it("admits a restricted pod, NET_BIND_SERVICE, hostPort 0, the allowed volumes, sysctls and profiles", () => {
        const ok = spec(
            {
                securityContext: { sysctls: [{ name: "net.ipv4.ip_local_port_range", value: "1024 65535" }] },
                volumes: [
                    "configMap",
                    "csi",
                    "downwardAPI",
                    "emptyDir",
                    "ephemeral",
                    "image",
                    "persistentVolumeClaim",
                    "projected",
                    "secret",
                ].map((k) => ({ name: k.toLowerCase(), [k]: {} })),
            },
            c(
                "app",
                {
                    ports: [{ containerPort: 80, hostPort: 0 }],
                    livenessProbe: { httpGet: { port: 80, host: "" } },
                },
                {
                    capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
                    seLinuxOptions: { type: "container_t" },
                    appArmorProfile: { type: "RuntimeDefault" },
                    procMount: "Default",
                },
            ),
        );
        assert.deepEqual(
            restrictedViolations(ok, {
                annotations: { [`container.apparmor.security.beta.kubernetes.io/app`]: "runtime/default" },
            }),
            [],
        );
        // pod-level settings satisfy unset container fields
        const podLevel = spec(
            {
                securityContext: {
                    runAsNonRoot: true,
                    seccompProfile: { type: "Localhost", localhostProfile: "p.json" },
                },
            },
            c("app", {}, { runAsNonRoot: undefined, seccompProfile: undefined }),
        );
        assert.deepEqual(restrictedViolations(podLevel), []);
    });

    const cases: [string, Obj, string, Obj?][] = [
        ["hostNetwork", spec({ hostNetwork: true }), "hostNamespaces"],
        ["hostPID", spec({ hostPID: true }), "hostNamespaces"],
        ["hostIPC", spec({ hostIPC: true }), "hostNamespaces"],
        ["privileged", spec({}, c("app", {}, { privileged: true })), "privileged"],
        ["hostPort", spec({}, c("app", { ports: [{ containerPort: 80, hostPort: 8080 }] })), "hostPorts"],
        [
            "a probe host",
            spec({}, c("app", { readinessProbe: { tcpSocket: { port: 80, host: "10.0.0.1" } } })),
            "hostProbesAndHostLifecycle",
        ],
        [
            "a lifecycle host",
            spec({}, c("app", { lifecycle: { preStop: { httpGet: { port: 80, host: "x" } } } })),
            "hostProbesAndHostLifecycle",
        ],
        ["procMount Unmasked", spec({}, c("app", {}, { procMount: "Unmasked" })), "procMount"],
        [
            "SELinux type spc_t",
            spec({}, c("app", {}, { seLinuxOptions: { type: "spc_t" } })),
            "seLinuxOptions",
        ],
        [
            "SELinux user on the pod",
            spec({ securityContext: { ...SC, seLinuxOptions: { user: "system_u" } } }),
            "seLinuxOptions",
        ],
        ["SELinux role", spec({}, c("app", {}, { seLinuxOptions: { role: "sysadm_r" } })), "seLinuxOptions"],
        [
            "an unsafe sysctl",
            spec({ securityContext: { sysctls: [{ name: "kernel.msgmax", value: "1" }] } }),
            "sysctls",
        ],
        [
            "AppArmor Unconfined (field)",
            spec({}, c("app", {}, { appArmorProfile: { type: "Unconfined" } })),
            "appArmorProfile",
        ],
        [
            "AppArmor unconfined (annotation)",
            spec(),
            "appArmorProfile",
            { annotations: { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" } },
        ],
        [
            "a Windows host process",
            spec({}, c("app", {}, { windowsOptions: { hostProcess: true } })),
            "windowsHostProcess",
        ],
        [
            "a hostPath volume",
            spec({ volumes: [{ name: "root", hostPath: { path: "/" } }] }),
            "restrictedVolumes",
        ],
        [
            "an NFS volume",
            spec({ volumes: [{ name: "n", nfs: { server: "s", path: "/" } }] }),
            "restrictedVolumes",
        ],
        [
            "a gitRepo volume",
            spec({ volumes: [{ name: "g", gitRepo: { repository: "r" } }] }),
            "restrictedVolumes",
        ],
        [
            "privilege escalation unset",
            spec({}, c("app", {}, { allowPrivilegeEscalation: undefined })),
            "allowPrivilegeEscalation",
        ],
        [
            "no drop ALL",
            spec({}, c("app", {}, { capabilities: { drop: ["NET_RAW"] } })),
            "capabilities_restricted",
        ],
        [
            "an added capability",
            spec({}, c("app", {}, { capabilities: { drop: ["ALL"], add: ["NET_RAW"] } })),
            "capabilities_restricted",
        ],
        ["runAsNonRoot unset", spec({}, c("app", {}, { runAsNonRoot: undefined })), "runAsNonRoot"],
        [
            "pod runAsNonRoot false under a container's true",
            spec({ securityContext: { runAsNonRoot: false } }),
            "runAsNonRoot",
        ],
        [
            "container runAsNonRoot false under the pod's true",
            spec({ securityContext: { runAsNonRoot: true } }, c("app", {}, { runAsNonRoot: false })),
            "runAsNonRoot",
        ],
        ["container runAsUser 0", spec({}, c("app", {}, { runAsUser: 0 })), "runAsUser"],
        [
            "pod runAsUser 0 under a container's 1000",
            spec({ securityContext: { runAsUser: 0 } }, c("app", {}, { runAsUser: 1000 })),
            "runAsUser",
        ],
        ["seccomp unset", spec({}, c("app", {}, { seccompProfile: undefined })), "seccompProfile_restricted"],
        [
            "pod seccomp Unconfined under a container's RuntimeDefault",
            spec({ securityContext: { seccompProfile: { type: "Unconfined" } } }),
            "seccompProfile_restricted",
        ],
        [
            "container seccomp Unconfined",
            spec({}, c("app", {}, { seccompProfile: { type: "Unconfined" } })),
            "seccompProfile_restricted",
        ],
    ];
    for (const [what, podSpec, check, metadata] of cases) {
        it(`${what}: fails ${check} only`, () => assert.deepEqual(checks(podSpec, metadata), [check]));
    }

    it("checks init and ephemeral containers like regular ones", () => {
        const bad = c("debug", {}, { privileged: true, allowPrivilegeEscalation: true });
        assert.deepEqual(checks(spec({ initContainers: [bad] })), ["privileged", "allowPrivilegeEscalation"]);
        const eph = restrictedViolations(spec({ ephemeralContainers: [bad] }));
        assert.deepEqual(
            eph.map((v) => v.detail),
            [
                'container "debug" must not set securityContext.privileged=true',
                'container "debug" must set securityContext.allowPrivilegeEscalation=false',
            ],
        );
    });

    it("the pack reads every pod-bearing kind, init and ephemeral containers included", async () => {
        const weak = spec({
            ephemeralContainers: [c("debug", {}, { seccompProfile: { type: "Unconfined" } })],
        });
        const meta = { name: "w", namespace: "app" };
        const template = { metadata: { labels: { app: "w" } }, spec: weak };
        const graph = [
            res("kubernetes:apps/v1:Deployment", "d", { metadata: meta, spec: { template } }),
            res("kubernetes:apps/v1:StatefulSet", "s", { metadata: meta, spec: { template } }),
            res("kubernetes:apps/v1:DaemonSet", "ds", { metadata: meta, spec: { template } }),
            res("kubernetes:apps/v1:ReplicaSet", "rs", { metadata: meta, spec: { template } }),
            res("kubernetes:core/v1:ReplicationController", "rc", { metadata: meta, spec: { template } }),
            res("kubernetes:batch/v1:Job", "j", { metadata: meta, spec: { template } }),
            res("kubernetes:batch/v1:CronJob", "cj", {
                metadata: meta,
                spec: { jobTemplate: { spec: { template } } },
            }),
            res("kubernetes:core/v1:Pod", "p", { metadata: meta, spec: weak }),
            res("kubernetes:core/v1:PodTemplate", "pt", { metadata: meta, template }),
        ];
        const v = await runPolicies(graph, [podSecurityRestricted]);
        assert.deepEqual(
            v.map((x) => x.message),
            [
                "Deployment",
                "StatefulSet",
                "DaemonSet",
                "ReplicaSet",
                "ReplicationController",
                "Job",
                "CronJob",
                "Pod",
                "PodTemplate",
            ].map(
                (k) =>
                    `${k} app/w fails restricted seccompProfile_restricted: pod or containers must not set securityContext.seccompProfile.type to anything but RuntimeDefault or Localhost.`,
            ),
        );
        // the AppArmor annotation sits on the pod template's metadata
        const annotated = res("kubernetes:apps/v1:Deployment", "d", {
            metadata: meta,
            spec: {
                template: {
                    metadata: {
                        annotations: { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" },
                    },
                    spec: spec(),
                },
            },
        });
        assert.deepEqual(
            (await runPolicies([annotated], [podSecurityRestricted])).map((x) => x.message),
            [
                "Deployment app/w fails restricted appArmorProfile: forbidden AppArmor profile (only RuntimeDefault or Localhost).",
            ],
        );
    });
});

describe("k8s-network-policy counts only policies that cover ingress", () => {
    const np = (policyTypes?: string[], extra: Obj = {}) =>
        res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np", {
            metadata: { name: "np", namespace: "app" },
            spec: { podSelector: {}, ...(policyTypes ? { policyTypes } : {}), ...extra },
        });
    const web = res("kubernetes:apps/v1:Deployment", "web", {
        metadata: { name: "web", namespace: "app" },
        spec: { template: { metadata: { labels: { app: "web" } }, spec: spec() } },
    });

    it("Ingress listed or implied covers; egress-only does not", () => {
        assert.equal(coversIngress(np(["Ingress"])), true);
        assert.equal(coversIngress(np(["Ingress", "Egress"])), true);
        assert.equal(coversIngress(np(undefined, { egress: [{}] })), true); // policyTypes absent: Ingress implied
        assert.equal(coversIngress(np(["Egress"])), false);
    });

    it("reports a workload whose only policy is egress-only", async () => {
        assert.deepEqual((await runPolicies([web, np(["Ingress"])], [networkPolicyCoverage])).length, 0);
        assert.deepEqual(
            (await runPolicies([web, np(["Egress"], { egress: [] })], [networkPolicyCoverage])).map(
                (v) => v.message,
            ),
            ["No NetworkPolicy covering ingress selects the pods of Deployment app/web."],
        );
    });
});
