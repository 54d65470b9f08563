// postfinance/kubelet-csr-approver: approves the kubelets' serving-certificate CSRs (serverTLSBootstrap, see
// cluster/render/kubeadm.ts) only for names and addresses a Keelson node has, so the cluster CA signs them
// and the API server and metrics-server verify every kubelet. Pure: values in, a ChartSpec out.
import { ChartSpec, CONTROL_PLANE_PLACEMENT } from "./charts";

/** The pinned chart (upstream gh-pages repository; chart 1.2.14 = app v1.2.14, April 2026). */
export const CSR_APPROVER_CHART = {
    chart: "kubelet-csr-approver",
    version: "1.2.14",
    repo: "https://postfinance.github.io/kubelet-csr-approver",
} as const;

/** What the approver needs to know about the nodes. */
export interface CsrApproverFacts {
    /** AWS region of the nodes: the domain of their EC2 private DNS names. */
    readonly region: string;
    /** The VPC CIDR: every node address lies in it. */
    readonly vpcCidr: string;
    /**
     * The cluster has a public master (master-0 of `cluster.endpoint: single`), whose serving CSR the approver
     * cannot approve: what it does not approve is then left Pending (`skipDenyStep`), for that master's own
     * timer to approve (cluster/render/own-serving-csr.ts). Default false: denied.
     */
    readonly publicMasters?: boolean;
}

/** The domain of EC2 private DNS names in a VPC with the default DHCP options (us-east-1 differs). */
export function privateDnsDomain(region: string): string {
    return region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
}

/**
 * The only DNS name a Keelson node's serving CSR may carry: its IP-based EC2 private DNS name
 * (`ip-10-30-1-5.eu-west-1.compute.internal`), which is also its Node name (kubeadm `nodeRegistration.name`
 * from IMDS `local-hostname`). Go RE2 syntax, anchored.
 */
export function nodeNameRegex(region: string): string {
    return `^ip-(\\d{1,3}-){3}\\d{1,3}\\.${privateDnsDomain(region).replace(/\./g, "\\.")}$`;
}

/**
 * The approver's chart values. A CSR is approved only when all of these hold (the approver's checks, in its
 * order): the requester is `system:node:<name>` and the CSR's common name is the same; at most one DNS name
 * (`allowedDnsNames` 1), prefixed by the node name and matching {@link nodeNameRegex}; that name resolves
 * (VPC DNS, through CoreDNS) to addresses inside the VPC CIDR and every IP address in the CSR is one of them
 * (so a node cannot claim another node's address); every IP address lies in the VPC CIDR. DNS resolution stays
 * on (`bypassDnsResolution` false): EC2's private names resolve in the VPC, which is what ties a name to its
 * instance's address. Anything else is denied (not left pending), so a forged CSR shows up as Denied; in a
 * cluster with a public master ({@link CsrApproverFacts.publicMasters}) it is left Pending instead
 * (`skipDenyStep` true, every other value the same): never signed, and the public master's own CSR stays open
 * for its timer (cluster/render/own-serving-csr.ts), which approves it after checking every name and address
 * against the instance's own metadata.
 * Two replicas with leader election on the masters (the control-plane taint tolerated), spread over them.
 *
 * A node with a public IPv4 (master-0 of `cluster.endpoint: single`) is not approved here, and no values here
 * could change that without admitting forged CSRs. Upstream, at the pinned versions: cloud-provider-aws pkg/providers/v1/aws.go
 * `extractIPv4NodeAddresses` gives its Node an ExternalIP and an ExternalDNS name (`ec2-a-b-c-d.<region>.compute.
 * amazonaws.com`, `compute-1.amazonaws.com` in us-east-1; EC2 sets it in a VPC with DNS hostnames, which the
 * private API zone needs), with no setting to leave them out; kubernetes pkg/kubelet/certificate/kubelet.go
 * `addressesToHostnamesAndIPs` puts every Hostname/InternalDNS/ExternalDNS and InternalIP/ExternalIP address in
 * the CSR; kubelet-csr-approver internal/controller/regex_ip_checks.go `DNSCheck` requires every DNS name to start
 * with the node name (unless `bypassHostnameCheck`, which lets a node claim another node's name) and every CSR IP
 * to be among the addresses its names resolve to (unless `bypassDnsResolution`), and inside the VPC the public
 * name resolves to the private IP. test/addons/csr-approval.test.ts runs these against a model of that code.
 */
export function csrApproverValues(facts: CsrApproverFacts): Record<string, unknown> {
    return {
        providerRegex: nodeNameRegex(facts.region),
        providerIpPrefixes: [facts.vpcCidr],
        allowedDnsNames: 1,
        bypassDnsResolution: false,
        bypassHostnameCheck: false,
        ignoreNonSystemNode: false,
        skipDenyStep: facts.publicMasters === true,
        leaderElection: true,
        replicas: 2,
        image: { tag: `v${CSR_APPROVER_CHART.version}` },
        ...CONTROL_PLANE_PLACEMENT,
        affinity: {
            podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 100,
                        podAffinityTerm: {
                            topologyKey: "kubernetes.io/hostname",
                            labelSelector: {
                                matchLabels: { "app.kubernetes.io/name": CSR_APPROVER_CHART.chart },
                            },
                        },
                    },
                ],
            },
        },
    };
}

/**
 * The approver release in kube-system. It runs on the pod network (CoreDNS resolves the node names), so it
 * installs after the CNI; nothing before it needs a kubelet serving certificate (the readiness gate reads the
 * API only; the kubelets keep their CSRs pending and retry until approved), and metrics-server, which scrapes
 * the kubelets over verified TLS, installs after it.
 */
export function csrApproverChart(facts: CsrApproverFacts): ChartSpec {
    return {
        key: "csr-approver",
        ...CSR_APPROVER_CHART,
        namespace: "kube-system",
        values: csrApproverValues(facts),
    };
}
