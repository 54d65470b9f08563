// The policy pack can fail: for each mandatory rule, a shipped stage is planned for real (index.ts under the
// mock engine) with one renderer, one component or the config weakened, and the pack must report exactly
// that rule as a mandatory violation. The unmutated stages pass, also with secrets in plain text as the
// engine hands them to the pack (test/policy/stages.test.ts).
import { strict as assert } from "node:assert";
import * as path from "path";
import * as pulumiResource from "@pulumi/pulumi/runtime/resource";
import { mandatory, runPolicies } from "../../policy/run";
import { planStage, PROJECT_ROOT } from "../../tools/plan/plan";
import { loadStackConfig, LoadedStackConfig } from "../../tools/plan/stack-config";
import type { PlanResource } from "../../tools/plan/types";

type Obj = Record<string, unknown>;
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIMutatedKeyMaterial\n-----END EC PRIVATE KEY-----";

/** Replaces a module export for the duration of `fn` (the modules are CommonJS: callers read it at call time). */
async function withExport<T>(
    modulePath: string,
    key: string,
    wrap: (orig: never) => unknown,
    fn: () => Promise<T>,
) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(PROJECT_ROOT, modulePath)) as Record<string, unknown>;
    const orig = mod[key];
    mod[key] = wrap(orig as never);
    try {
        return await fn();
    } finally {
        mod[key] = orig;
    }
}

/** Rewrites the inputs of every registration of `type` (a transformation the mock engine does not run). */
async function withInputs<T>(type: string, edit: (props: Obj, name: string) => Obj, fn: () => Promise<T>) {
    const mod = pulumiResource as unknown as { registerResource: (...a: unknown[]) => void };
    const orig = mod.registerResource;
    mod.registerResource = (...a: unknown[]) => {
        if (a[2] === type) a[7] = edit(a[7] as Obj, String(a[3]));
        return orig(...a);
    };
    try {
        return await fn();
    } finally {
        mod.registerResource = orig;
    }
}

const config = (stack: string, edit: (v: Obj) => Obj = (v) => v): LoadedStackConfig => {
    const loaded = loadStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`));
    return { ...loaded, values: edit(structuredClone(loaded.values)) };
};
/**
 * The plan's resources with their inputs as the engine hands them to a policy pack: secrets in plain text
 * (the offline plan masks them, and every SSM parameter value is a secret by the provider's schema).
 */
const plan = async (stack: string, edit?: (v: Obj) => Obj): Promise<PlanResource[]> =>
    (await planStage({ stack, config: config(stack, edit) })).recorded.map(({ rawInputs, ...r }) => ({
        ...r,
        inputs: rawInputs,
    }));

/** The mandatory violations of a plan as `policy: message`, and the set of policies. */
async function violated(resources: PlanResource[], policyConfig: Record<string, Obj> = {}) {
    const v = mandatory(await runPolicies(resources, undefined, policyConfig));
    return {
        policies: [...new Set(v.map((x) => x.policy))].sort(),
        messages: v.map((x) => `${x.policy}: ${x.message}`),
    };
}

const app = (name: string) => name === "keelson-dev-web.deployment";

describe("policy pack: each mandatory rule fails its mutated stage", function () {
    this.timeout(600000);

    it("edge-tls-1-2: the nginx renderer with TLS 1.0 enabled (dev, config in SSM)", async () => {
        const resources = await withExport(
            "components/edge/render/nginx",
            "renderNginxConfig",
            (orig: (...a: unknown[]) => string) =>
                (...a: unknown[]) =>
                    orig(...a).replace(
                        /ssl_protocols TLSv1\.2 TLSv1\.3;/g,
                        "ssl_protocols TLSv1 TLSv1.2 TLSv1.3;",
                    ),
            () => plan("dev"),
        );
        const v = await violated(resources);
        assert.deepEqual(v.policies, ["edge-tls-1-2"]);
        assert.match(
            v.messages[0],
            /edge-tls-1-2: keelson-dev-edge-config's edge configuration allows TLSv1: /,
        );
    });

    it("edge-tls-1-2: the haproxy renderer with ssl-min-ver TLSv1.0 (dev with engine haproxy)", async () => {
        const resources = await withExport(
            "components/edge/render/haproxy",
            "renderHaproxyConfig",
            (orig: (...a: unknown[]) => string) =>
                (...a: unknown[]) =>
                    orig(...a).replace(/ssl-min-ver TLSv1\.2/g, "ssl-min-ver TLSv1.0"),
            () =>
                plan("dev", (v) => ({
                    ...v,
                    "keelson:edge": { ...(v["keelson:edge"] as Obj), engine: "haproxy" },
                })),
        );
        assert.deepEqual((await violated(resources)).policies, ["edge-tls-1-2"]);
    });

    it("aws-ssm-plaintext-secrets: a renderer that puts a private key into the edge config (a String parameter)", async () => {
        const resources = await withExport(
            "components/edge/render/nginx",
            "renderNginxConfig",
            (orig: (...a: unknown[]) => string) =>
                (...a: unknown[]) =>
                    `${orig(...a)}\n# ${KEY.replace(/\n/g, "\n# ")}\n`,
            () => plan("dev"),
        );
        assert.deepEqual((await violated(resources)).policies, ["aws-ssm-plaintext-secrets"]);
    });

    it("aws-ec2-user-data-secrets: the user-data encoder inlining a key (gzip + base64, every node and edge host)", async () => {
        const resources = await withExport(
            "components/cluster/render/layout",
            "renderNode",
            (orig: (...a: unknown[]) => { userData: string }) =>
                (...a: unknown[]) => {
                    const r = orig(...a);
                    return { ...r, userData: `${r.userData}\n# ${KEY.replace(/\n/g, "\n# ")}\n` };
                },
            () => plan("dev"),
        );
        const v = await violated(resources);
        assert.deepEqual(v.policies, ["aws-ec2-user-data-secrets"]);
        assert.ok(
            v.messages.some((m) => m.includes("keelson-dev-master-0's user-data carries a private key")),
            v.messages.join("\n"),
        );
    });

    it("aws-ec2-imdsv2 and aws-ebs-encrypted: instances registered with IMDSv1 and a plain root volume", async () => {
        const resources = await withInputs(
            "aws:ec2/instance:Instance",
            (p) => ({
                ...p,
                metadataOptions: { httpTokens: "optional" },
                rootBlockDevice: { volumeType: "gp3", encrypted: false },
            }),
            () => plan("dev"),
        );
        assert.deepEqual((await violated(resources)).policies, ["aws-ebs-encrypted", "aws-ec2-imdsv2"]);
    });

    it("aws-no-open-admin-ingress: the firewall with SSH split over 0.0.0.0/1 and 128.0.0.0/1", async () => {
        const resources = await withExport(
            "components/network/firewall",
            "firewallRules",
            (orig: (...a: unknown[]) => object[]) =>
                (...a: unknown[]) => [
                    ...orig(...a),
                    ...["0.0.0.0/1", "128.0.0.0/1"].map((cidr, i) => ({
                        key: `workers-ssh-${i}`,
                        group: "workers",
                        protocol: "tcp",
                        fromPort: 22,
                        toPort: 22,
                        source: { cidr },
                        description: "debugging",
                    })),
                ],
            () => plan("dev"),
        );
        const v = await violated(resources);
        assert.deepEqual(v.policies, ["aws-no-open-admin-ingress"]);
        assert.match(
            v.messages[0],
            /workers-ssh-0, .*workers-ssh-1 open together SSH \(22\) to the internet/,
        );
    });

    it("aws-lb-listener-tls: the edge NLB's listeners as TLS with a policy that still allows TLS 1.0", async () => {
        const resources = await withInputs(
            "aws:lb/listener:Listener",
            (p) => ({ ...p, protocol: "TLS", sslPolicy: "ELBSecurityPolicy-TLS13-1-0-2021-06" }),
            () =>
                plan("dev", (v) => ({ ...v, "keelson:edge": { ...(v["keelson:edge"] as Obj), nlb: true } })),
        );
        assert.deepEqual((await violated(resources)).policies, ["aws-lb-listener-tls"]);
    });

    it("k8s-pod-security-restricted, k8s-image-pinned, k8s-no-secrets-in-env: a weakened app Deployment", async () => {
        const resources = await withInputs(
            "kubernetes:apps/v1:Deployment",
            (p, name) => {
                if (!app(name)) return p;
                const spec = p.spec as { template: { spec: { containers: Obj[]; initContainers?: Obj[] } } };
                const pod = spec.template.spec;
                const [c, ...rest] = pod.containers;
                const init = {
                    ...c,
                    name: "init-weak",
                    image: "busybox:latest",
                    securityContext: { ...(c.securityContext as Obj), allowPrivilegeEscalation: true },
                    env: [{ name: "TOKEN", value: "postgres://app:hunter2hunter2@db:5432/app" }],
                };
                return {
                    ...p,
                    spec: {
                        ...spec,
                        template: {
                            ...spec.template,
                            spec: { ...pod, initContainers: [init], containers: [c, ...rest] },
                        },
                    },
                };
            },
            () => plan("dev"),
        );
        const v = await violated(resources);
        assert.deepEqual(v.policies, [
            "k8s-image-pinned",
            "k8s-no-secrets-in-env",
            "k8s-pod-security-restricted",
        ]);
        assert.ok(
            v.messages.some((m) => /init-weak/.test(m)),
            v.messages.join("\n"),
        );
    });

    const podTemplate = (edit: (spec: Obj) => Obj) =>
        withExport(
            "components/app/render/pod",
            "renderPodTemplate",
            (orig: (...a: unknown[]) => { metadata: Obj; spec: Obj }) =>
                (...a: unknown[]) => {
                    const t = orig(...a);
                    return { ...t, spec: edit(t.spec) };
                },
            () => plan("dev"),
        );
    const restricted: [string, (spec: Obj) => Obj, RegExp][] = [
        [
            "a pod-level runAsNonRoot: false under the containers' true",
            (spec) => ({
                ...spec,
                securityContext: { ...(spec.securityContext as Obj), runAsNonRoot: false },
            }),
            /fails restricted runAsNonRoot: pod or containers must not set securityContext\.runAsNonRoot=false/,
        ],
        [
            "a hostPath volume",
            (spec) => ({
                ...spec,
                volumes: [...(spec.volumes as Obj[]), { name: "host", hostPath: { path: "/" } }],
            }),
            /fails restricted restrictedVolumes: volumes host \(hostPath\) use restricted volume types/,
        ],
        [
            "a pod-level Unconfined seccomp profile",
            (spec) => ({
                ...spec,
                securityContext: { ...(spec.securityContext as Obj), seccompProfile: { type: "Unconfined" } },
            }),
            /fails restricted seccompProfile_restricted/,
        ],
        [
            "an unsafe sysctl",
            (spec) => ({
                ...spec,
                securityContext: {
                    ...(spec.securityContext as Obj),
                    sysctls: [{ name: "kernel.msgmax", value: "1" }],
                },
            }),
            /fails restricted sysctls: forbidden sysctls kernel\.msgmax/,
        ],
    ];
    for (const [what, edit, message] of restricted) {
        it(`k8s-pod-security-restricted: the app pod renderer with ${what}`, async () => {
            const v = await violated(await podTemplate(edit));
            assert.deepEqual(v.policies, ["k8s-pod-security-restricted"]);
            assert.ok(
                v.messages.length > 0 && v.messages.every((m) => message.test(m)),
                v.messages.join("\n"),
            );
        });
    }

    it("k8s-network-policy (advisory): the app's NetworkPolicies made egress-only no longer count", async () => {
        const coverage = async (resources: PlanResource[]) =>
            (await runPolicies(resources))
                .filter((x) => x.policy === "k8s-network-policy")
                .map((x) => x.message);
        assert.deepEqual(await coverage(await plan("dev")), []);
        const egressOnly = await withInputs(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            (p) => ({ ...p, spec: { ...(p.spec as Obj), policyTypes: ["Egress"] } }),
            () => plan("dev"),
        );
        const msgs = await coverage(egressOnly);
        assert.ok(msgs.length > 0, "no workload reported");
        assert.ok(
            msgs.includes("No NetworkPolicy covering ingress selects the pods of Deployment app/web."),
            msgs.join("\n"),
        );
    });

    it("aws-iam-no-static-keys: the stage program without the cluster's issuer for the app (dev)", async () => {
        const resources = await withExport(
            "components/app/reference-app",
            "referenceApp",
            (orig: (name: string, args: Obj, opts: unknown) => unknown) =>
                (name: string, args: Obj, opts: unknown) =>
                    orig(name, { ...args, webIdentity: undefined }, opts),
            () => plan("dev"),
        );
        assert.deepEqual(await violated(resources), {
            policies: ["aws-iam-no-static-keys"],
            messages: [
                "aws-iam-no-static-keys: keelson-dev-files-key is a long-lived access key in a stack with the web-identity issuer keelson-dev-oidc: give its consumers an IRSA role instead (Application's webIdentity, createServiceAccountRole).",
            ],
        });
    });

    it("keelson-stackscore: dev against a minimum grade of A (pack config)", async () => {
        const v = await violated(await plan("dev"), { "keelson-stackscore": { minimumGrade: "A" } });
        assert.deepEqual(v.policies, ["keelson-stackscore"]);
    });
});
