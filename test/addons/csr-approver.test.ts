// The kubelet CSR approver: its exact chart values in every stage shape, how the chart template hands them to the
// binary, and where the Addons component installs it. What those values approve and deny is csr-approval.test.ts.
import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as YAML from "yaml";
import { Addons, AddonsError } from "../../components/addons/Addons";
import { csrApproverChart, csrApproverValues, nodeNameRegex } from "../../components/addons/csr-approver";
import { addonsConfigArgs } from "../../components/config";
import { runUnderMocks } from "../../tools/plan/runtime";

const prod = { region: "eu-west-1", vpcCidr: "10.30.0.0/16" };

describe("addons/csr-approver: kubelet serving certificates only for the node's own name and address", () => {
    it("pins the upstream chart and sets exactly these values", () => {
        const spec = csrApproverChart(prod);
        assert.deepEqual(
            [spec.key, spec.chart, spec.version, spec.repo, spec.namespace],
            [
                "csr-approver",
                "kubelet-csr-approver",
                "1.2.14",
                "https://postfinance.github.io/kubelet-csr-approver",
                "kube-system",
            ],
        );
        assert.deepEqual(spec.values, {
            providerRegex: "^ip-(\\d{1,3}-){3}\\d{1,3}\\.eu-west-1\\.compute\\.internal$",
            providerIpPrefixes: ["10.30.0.0/16"],
            allowedDnsNames: 1,
            bypassDnsResolution: false,
            bypassHostnameCheck: false,
            ignoreNonSystemNode: false,
            skipDenyStep: false,
            leaderElection: true,
            replicas: 2,
            image: { tag: "v1.2.14" },
            nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
            tolerations: [
                { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
            ],
            affinity: {
                podAntiAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                        {
                            weight: 100,
                            podAffinityTerm: {
                                topologyKey: "kubernetes.io/hostname",
                                labelSelector: {
                                    matchLabels: { "app.kubernetes.io/name": "kubelet-csr-approver" },
                                },
                            },
                        },
                    ],
                },
            },
        });
        assert.equal(nodeNameRegex("us-east-1"), "^ip-(\\d{1,3}-){3}\\d{1,3}\\.ec2\\.internal$");
    });

    it("gives a stage with a public master (dev, us-east-1) the same tight identity values, and leaves what it does not approve Pending", () => {
        // Widening them cannot approve the public master (csr-approval.test.ts) and would admit forged CSRs; with
        // skipDenyStep its CSR stays Pending for its own timer (cluster/render/own-serving-csr.ts) instead of Denied.
        const dev = csrApproverValues({ region: "us-east-1", vpcCidr: "10.10.0.0/16", publicMasters: true });
        const identity = (v: Record<string, unknown>) => [
            v.providerRegex,
            v.providerIpPrefixes,
            v.allowedDnsNames,
            v.bypassDnsResolution,
            v.bypassHostnameCheck,
            v.skipDenyStep,
        ];
        assert.deepEqual(identity(dev), [
            "^ip-(\\d{1,3}-){3}\\d{1,3}\\.ec2\\.internal$",
            ["10.10.0.0/16"],
            1,
            false,
            false,
            true,
        ]);
        const rest = (v: Record<string, unknown>) =>
            Object.fromEntries(Object.entries(v).filter(([k]) => !/^provider|^skipDenyStep$/.test(k)));
        assert.deepEqual(rest(dev), rest(csrApproverValues(prod)));
        // Without a public master (the default, and publicMasters false) it denies, as in every other stage.
        assert.equal(csrApproverValues(prod).skipDenyStep, false);
        assert.equal(csrApproverValues({ ...prod, publicMasters: false }).skipDenyStep, false);
        assert.equal(csrApproverChart({ ...prod, publicMasters: true }).values.skipDenyStep, true);
    });

    it("reaches the binary intact through the chart's unquoted env template", () => {
        // templates/deployment.yaml at v1.2.14: `value: {{ .Values.providerRegex }}` (no quotes) and the prefixes
        // joined with "," inside quotes.
        const v = csrApproverValues(prod);
        const env = YAML.parse(
            [
                "- name: PROVIDER_REGEX",
                `  value: ${v.providerRegex as string}`,
                "- name: PROVIDER_IP_PREFIXES",
                `  value: "${(v.providerIpPrefixes as string[]).join(",")}"`,
                "- name: ALLOWED_DNS_NAMES",
                `  value: "${String(v.allowedDnsNames)}"`,
            ].join("\n"),
        ) as { name: string; value: string }[];
        assert.deepEqual(env, [
            { name: "PROVIDER_REGEX", value: v.providerRegex },
            { name: "PROVIDER_IP_PREFIXES", value: "10.30.0.0/16" },
            { name: "ALLOWED_DNS_NAMES", value: "1" },
        ]);
    });

    it("installs after the CNI, before metrics-server, and refuses to run without the VPC CIDR", async () => {
        const run = await runUnderMocks({ config: { "aws:region": "eu-west-1" } }, () => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
            const gate = new random.RandomId("gate", { byteLength: 4 });
            new Addons("addons", {
                ...addonsConfigArgs({
                    cni: "calico",
                    metricsServer: true,
                    logging: false,
                    nodeMetrics: false,
                    etcdBackups: false,
                    clusterAutoscaler: false,
                }),
                provider,
                clusterName: "keelson-prod",
                region: "eu-west-1",
                vpcCidr: "10.30.0.0/16",
                webIdentity: {
                    issuer: "https://oidc.example",
                    providerArn: "arn:aws:iam::123456789012:oidc-provider/oidc.example",
                },
                dependsOn: [gate],
            });
            return {};
        });
        const get = (name: string) => run.resources.find((r) => r.name === name)!;
        const approver = get("addons-csr-approver");
        assert.deepEqual(approver.inputs.values, csrApproverValues(prod));
        assert.deepEqual(approver.inputs.namespace, "kube-system");
        assert.ok(approver.dependencies.includes(get("addons-calico").urn));
        assert.ok(get("addons-metrics-server").dependencies.includes(approver.urn));
        assert.ok(!get("addons-ebs-csi").dependencies.includes(approver.urn));

        let thrown: unknown;
        const failed = await runUnderMocks({}, () => {
            try {
                new Addons("addons", {
                    provider: undefined as unknown as k8s.Provider,
                    clusterName: "c",
                    region: "eu-west-1",
                    etcdBackups: false,
                    webIdentity: {
                        issuer: "https://oidc.example",
                        providerArn: "arn:aws:iam::123456789012:oidc-provider/oidc.example",
                    },
                });
            } catch (e) {
                thrown = e;
            }
            return {};
        });
        assert.ok(thrown instanceof AddonsError);
        assert.equal(
            (thrown as Error).message,
            "vpcCidr: not given; pass the VPC CIDR (network.cidr) so the kubelet CSR approver signs serving certificates only for node addresses in it",
        );
        assert.deepEqual(failed.resources, []);
    });
});
