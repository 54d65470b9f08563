// The kubelet CSR approver: its exact chart values, what they approve (a port of kubelet-csr-approver v1.2.14's
// checks, internal/controller/csr_controller.go and regex_ip_checks.go, run on the CSRs Keelson's kubelets make),
// how the chart template hands them to the binary, and where the Addons component installs it.
import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as YAML from "yaml";
import { Addons, AddonsError } from "../../components/addons/Addons";
import { csrApproverChart, csrApproverValues, nodeNameRegex } from "../../components/addons/csr-approver";
import { addonsConfigArgs } from "../../components/config";
import { contains, parseCidr } from "../../components/core/cidr";
import { runUnderMocks } from "../../tools/plan/runtime";
import { privateDnsName } from "../../tools/lab/hub";

const prod = { region: "eu-west-1", vpcCidr: "10.30.0.0/16" };

/** A kubelet-serving CSR as the approver sees it: requester, subject CN, SANs. */
interface Csr {
    username: string;
    commonName: string;
    dnsNames: string[];
    ips: string[];
}

/**
 * The approver's decision for `values` (its Reconcile order), with `dns` standing in for the VPC resolver.
 * Returns "approved" or the upstream denial reason.
 */
function decide(values: Record<string, unknown>, csr: Csr, dns: Record<string, string[]>): string {
    const inVpc = (ip: string) =>
        (values.providerIpPrefixes as string[]).some((p) => contains(parseCidr(p)!, parseCidr(`${ip}/32`)!));
    const regex = new RegExp(values.providerRegex as string);
    if (!csr.username.startsWith("system:node:"))
        return "CSR Spec.Username is not prefixed with system:node:";
    if (csr.dnsNames.length + csr.ips.length === 0) return "no SAN";
    if (csr.commonName !== csr.username) return "CSR username does not match the commonname";
    if (csr.dnsNames.length > (values.allowedDnsNames as number)) return "more DNS names than allowed";
    const hostname = csr.username.slice("system:node:".length);
    for (const name of csr.dnsNames) {
        if (!name.startsWith(hostname) && values.bypassHostnameCheck !== true)
            return "The SAN DNS Name is not prefixed by the node name";
        if (!regex.test(name)) return "The SAN DNS name is not allowed by the Cloud provider regex";
    }
    if (values.bypassDnsResolution !== true && csr.dnsNames.length > 0) {
        const resolved = csr.dnsNames.flatMap((n) => dns[n] ?? []);
        if (csr.dnsNames.some((n) => (dns[n] ?? []).length === 0))
            return "The SAN DNS Name could not be resolved";
        if (resolved.some((ip) => !inVpc(ip))) return "a resolved address is not whitelisted";
        if (csr.ips.some((ip) => !resolved.includes(ip))) return "a SAN IP is not a resolved address";
    }
    if (csr.ips.some((ip) => !inVpc(ip))) return "a SAN IP is not in the allowed prefixes";
    return "approved";
}

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

    describe("approves a node's own CSR and denies every forged one", () => {
        const values = csrApproverValues(prod);
        const node = privateDnsName("10.30.1.5", "eu-west-1");
        const other = privateDnsName("10.30.2.7", "eu-west-1");
        const dns = { [node]: ["10.30.1.5"], [other]: ["10.30.2.7"] };
        const csr = (over: Partial<Csr> = {}): Csr => ({
            username: `system:node:${node}`,
            commonName: `system:node:${node}`,
            dnsNames: [node],
            ips: ["10.30.1.5"],
            ...over,
        });
        const cases: [string, Csr, string][] = [
            ["the kubelet's CSR (Hostname address + InternalIP)", csr(), "approved"],
            ["the same with only the IP", csr({ dnsNames: [] }), "approved"],
            ["another node's address", csr({ ips: ["10.30.2.7"] }), "a SAN IP is not a resolved address"],
            [
                "another node's name",
                csr({ dnsNames: [other], ips: ["10.30.2.7"] }),
                "The SAN DNS Name is not prefixed by the node name",
            ],
            [
                "the API server's name",
                csr({ dnsNames: [node, "kubernetes.default.svc"] }),
                "more DNS names than allowed",
            ],
            [
                "a name below the node's",
                csr({ dnsNames: [`${node}.evil.example.com`] }),
                "The SAN DNS name is not allowed by the Cloud provider regex",
            ],
            [
                "an address outside the VPC (IP only)",
                csr({ dnsNames: [], ips: ["10.31.1.5"] }),
                "a SAN IP is not in the allowed prefixes",
            ],
            [
                "a pod's service account",
                csr({
                    username: "system:serviceaccount:app:web",
                    commonName: "system:serviceaccount:app:web",
                }),
                "CSR Spec.Username is not prefixed with system:node:",
            ],
            [
                "a CN that is not the requester",
                csr({ commonName: `system:node:${other}` }),
                "CSR username does not match the commonname",
            ],
            [
                "a name that does not resolve",
                csr({
                    username: "system:node:ip-10-30-9-9.eu-west-1.compute.internal",
                    commonName: "system:node:ip-10-30-9-9.eu-west-1.compute.internal",
                    dnsNames: ["ip-10-30-9-9.eu-west-1.compute.internal"],
                    ips: [],
                }),
                "The SAN DNS Name could not be resolved",
            ],
            [
                // Not made today (no cloud provider: the kubelet reports Hostname + InternalIP). Once a cloud
                // controller adds ExternalIP/ExternalDNS, a public master's CSR carries them and is denied.
                "a public master's CSR with an external name and address",
                csr({
                    dnsNames: [node, "ec2-34-240-1-2.eu-west-1.compute.amazonaws.com"],
                    ips: ["10.30.1.5", "34.240.1.2"],
                }),
                "more DNS names than allowed",
            ],
        ];
        for (const [what, request, want] of cases) {
            it(`${what}: ${want}`, () => assert.equal(decide(values, request, dns), want));
        }
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
