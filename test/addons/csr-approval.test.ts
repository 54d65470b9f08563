// What the approver's values approve: the CSRs Keelson's kubelets send (Node addresses from the AWS cloud
// controller, the kubelet's serving template) and forged ones, judged by a model of kubelet-csr-approver v1.2.14
// (test/support/csr-approval-model.ts, which names the upstream files). Dev's shape: us-east-1, VPC 10.10.0.0/16,
// master-0 in a public subnet with an Elastic IP (cluster.endpoint single), a worker in a private subnet. With
// dev's skipDenyStep the public master's CSR stays Pending, and its own timer's script (run live, real openssl)
// approves it and no forgery.
import * as assert from "node:assert/strict";
import { csrApproverValues } from "../../components/addons/csr-approver";
import { renderOwnServingCsrScript } from "../../components/cluster/render/own-serving-csr";
import { requireTool, tempDir } from "../support/live";
import { CsrSpec, csrList, runOwnCsrScript } from "../support/own-serving-csr";
import {
    approverCondition,
    approverConfig,
    approverDecision,
    ccmNodeAddresses,
    Csr,
    Decision,
    Ec2Instance,
    kubeletServingCsr,
    vpcResolver,
} from "../support/csr-approval-model";

const master: Ec2Instance = {
    privateIp: "10.10.0.10",
    privateDnsName: "ip-10-10-0-10.ec2.internal",
    publicIp: "44.192.10.20",
    publicDnsName: "ec2-44-192-10-20.compute-1.amazonaws.com",
};
const worker: Ec2Instance = { privateIp: "10.10.16.7", privateDnsName: "ip-10-10-16-7.ec2.internal" };
const resolve = vpcResolver([master, worker]);
const values = csrApproverValues({ region: "us-east-1", vpcCidr: "10.10.0.0/16" });

/** The CSR the kubelet of `i` sends once the cloud controller has set its Node's addresses. */
function sent(i: Ec2Instance): Csr {
    return kubeletServingCsr(i.privateDnsName, ccmNodeAddresses(i))!;
}
const decide = (v: Record<string, unknown>, csr: Csr, dns = resolve): Decision =>
    approverDecision(approverConfig(v), csr, dns);
const forged = (from: Ec2Instance, over: Partial<Csr>): Csr => ({ ...sent(from), ...over });

describe("addons/csr-approver: which kubelet serving CSRs the approver signs", () => {
    it("the model's inputs: the CSRs the kubelets send for the cloud controller's addresses", () => {
        assert.deepEqual(ccmNodeAddresses(master), [
            { type: "InternalIP", address: "10.10.0.10" },
            { type: "ExternalIP", address: "44.192.10.20" },
            { type: "InternalDNS", address: "ip-10-10-0-10.ec2.internal" },
            { type: "Hostname", address: "ip-10-10-0-10.ec2.internal" },
            { type: "ExternalDNS", address: "ec2-44-192-10-20.compute-1.amazonaws.com" },
        ]);
        assert.deepEqual(sent(worker), {
            username: "system:node:ip-10-10-16-7.ec2.internal",
            commonName: "system:node:ip-10-10-16-7.ec2.internal",
            dnsNames: ["ip-10-10-16-7.ec2.internal"],
            ips: ["10.10.16.7"],
        });
        assert.deepEqual(sent(master), {
            username: "system:node:ip-10-10-0-10.ec2.internal",
            commonName: "system:node:ip-10-10-0-10.ec2.internal",
            dnsNames: ["ec2-44-192-10-20.compute-1.amazonaws.com", "ip-10-10-0-10.ec2.internal"],
            ips: ["10.10.0.10", "44.192.10.20"],
        });
        assert.equal(
            kubeletServingCsr("n", [{ type: "Hostname", address: "n" }]),
            undefined,
            "no IP, no CSR",
        );
    });

    describe("with Keelson's values (every stage)", () => {
        const cases: [string, Csr, Decision][] = [
            ["(a) a private worker's own CSR", sent(worker), "approved"],
            ["a private node's CSR with only its IP", forged(worker, { dnsNames: [] }), "approved"],
            [
                "(b) dev's public master: the cloud controller's ExternalDNS makes it two names",
                sent(master),
                {
                    denied: "The x509 Cert Request contains more DNS names than allowed through the config flag",
                },
            ],
            [
                "(c) a worker claiming the master's public IP",
                forged(worker, { ips: ["10.10.16.7", "44.192.10.20"] }),
                {
                    denied: "One of the SAN IP addresses, 44.192.10.20, is not contained in the set of resolved IP addresses, denying the CSR.",
                },
            ],
            [
                "(c') a worker claiming the master's private IP",
                forged(worker, { ips: ["10.10.0.10"] }),
                {
                    denied: "One of the SAN IP addresses, 10.10.0.10, is not contained in the set of resolved IP addresses, denying the CSR.",
                },
            ],
            [
                "(d) a worker claiming the master's name",
                forged(worker, { dnsNames: [master.privateDnsName], ips: [master.privateIp] }),
                { denied: "The SAN DNS Name in the x509 CSR is not prefixed by the node name (hostname)" },
            ],
            [
                "(d') a name below the node's that the regex does not allow",
                forged(worker, { dnsNames: ["ip-10-10-16-7.ec2.internal.evil.example.com"] }),
                { denied: "The SAN DNS name in the x509 CR is not allowed by the Cloud provider regex" },
            ],
            [
                "(e) an extra DNS name (the API server's)",
                forged(worker, { dnsNames: ["ip-10-10-16-7.ec2.internal", "kubernetes.default.svc"] }),
                {
                    denied: "The x509 Cert Request contains more DNS names than allowed through the config flag",
                },
            ],
            [
                "(f) an IP outside the allowed prefixes",
                forged(worker, { dnsNames: [], ips: ["10.11.16.7"] }),
                {
                    denied: "One of the SAN IP addresses, 10.11.16.7, is not partof the allowed IP Prefixes/Subnets, denying the CSR.",
                },
            ],
            [
                "a pod's service account",
                forged(worker, {
                    username: "system:serviceaccount:app:web",
                    commonName: "system:serviceaccount:app:web",
                }),
                { denied: "CSR Spec.Username is not prefixed with system:node:" },
            ],
            [
                "a CN that is not the requester",
                forged(worker, { commonName: "system:node:ip-10-10-0-10.ec2.internal" }),
                { denied: "CSR username does not match the parsed x509 certificate request commonname" },
            ],
            [
                "a node name that does not resolve",
                {
                    username: "system:node:ip-10-10-9-9.ec2.internal",
                    commonName: "system:node:ip-10-10-9-9.ec2.internal",
                    dnsNames: ["ip-10-10-9-9.ec2.internal"],
                    ips: [],
                },
                { denied: "The SAN DNS Name could not be resolved, denying the CSR" },
            ],
        ];
        for (const [what, csr, want] of cases) {
            it(`${what}: ${JSON.stringify(want)}`, () => assert.deepEqual(decide(values, csr), want));
        }
    });

    describe("no set of values approves dev's public master without approving forgeries", () => {
        // The widening proposed for it: the master's Elastic IP as a /32, two DNS names, the regex also admitting
        // us-east-1's ExternalDNS form.
        const widened = {
            ...values,
            providerRegex: `(${values.providerRegex as string})|(^ec2-(\\d{1,3}-){3}\\d{1,3}\\.compute-1\\.amazonaws\\.com$)`,
            providerIpPrefixes: ["10.10.0.0/16", "44.192.10.20/32"],
            allowedDnsNames: 2,
        };

        it("guard: the public master's CSR is denied with Keelson's values", () => {
            assert.notEqual(decide(values, sent(master)), "approved");
        });

        it("the /32 + two names + ExternalDNS regex: denied, every DNS name must start with the node name", () => {
            assert.deepEqual(decide(widened, sent(master)), {
                denied: "The SAN DNS Name in the x509 CSR is not prefixed by the node name (hostname)",
            });
        });

        it("plus bypassHostnameCheck: still denied, inside the VPC the public name resolves to the private IP", () => {
            assert.deepEqual(decide({ ...widened, bypassHostnameCheck: true }, sent(master)), {
                denied: "One of the SAN IP addresses, 44.192.10.20, is not contained in the set of resolved IP addresses, denying the CSR.",
            });
            // And the bypass alone already signs a worker's claim to the master's name and address.
            assert.equal(
                decide(
                    { ...widened, bypassHostnameCheck: true },
                    forged(worker, { dnsNames: [master.privateDnsName], ips: [master.privateIp] }),
                ),
                "approved",
            );
        });

        it("a public master without a public DNS name: denied, its public IP resolves from no name", () => {
            const noName = { ...master, publicDnsName: undefined };
            const csr = sent(noName);
            assert.deepEqual(csr.dnsNames, ["ip-10-10-0-10.ec2.internal"]);
            assert.deepEqual(decide(widened, csr, vpcResolver([noName, worker])), {
                denied: "One of the SAN IP addresses, 44.192.10.20, is not contained in the set of resolved IP addresses, denying the CSR.",
            });
        });

        it("only with bypassDnsResolution as well: approved, and so is a worker claiming the master's public IP", () => {
            const open = { ...widened, bypassHostnameCheck: true, bypassDnsResolution: true };
            assert.equal(decide(open, sent(master)), "approved");
            assert.equal(decide(open, forged(worker, { ips: ["10.10.16.7", "44.192.10.20"] })), "approved");
        });

        it("a master without a public IPv4 (endpoint nlb or haproxy): approved with Keelson's values", () => {
            const privateMaster: Ec2Instance = {
                privateIp: "10.10.16.10",
                privateDnsName: "ip-10-10-16-10.ec2.internal",
            };
            assert.equal(decide(values, sent(privateMaster), vpcResolver([privateMaster])), "approved");
        });
    });

    describe("dev (a public master, skipDenyStep): Pending after the approver, then the master's own timer", function () {
        this.timeout(60000);
        const dev = csrApproverValues({ region: "us-east-1", vpcCidr: "10.10.0.0/16", publicMasters: true });
        const masterUser = sent(master).username;
        // What reaches the API server in dev: the kubelets' own CSRs and forgeries, each with its sender.
        const sentCsrs: [string, Csr][] = [
            ["csr-master", sent(master)],
            ["csr-worker", sent(worker)],
            ["csr-worker-claims-public-ip", forged(worker, { ips: ["10.10.16.7", "44.192.10.20"] })],
            [
                "csr-worker-claims-master-name",
                forged(worker, { dnsNames: [master.privateDnsName], ips: [master.privateIp] }),
            ],
            ["csr-master-claims-worker-ip", forged(master, { ips: [...sent(master).ips, worker.privateIp] })],
            [
                "csr-master-extra-name",
                forged(master, { dnsNames: [...sent(master).dnsNames, "kubernetes.default.svc"] }),
            ],
        ];
        const conditions = (v: Record<string, unknown>) =>
            sentCsrs.map(([name, csr]) => [name, approverCondition(approverConfig(v), decide(v, csr))]);
        const spec = (name: string, csr: Csr, condition: string): CsrSpec => ({
            name,
            user: csr.username,
            subject: `/O=system:nodes/CN=${csr.commonName}`,
            san: [...csr.dnsNames.map((d) => `DNS:${d}`), ...csr.ips.map((i) => `IP:${i}`)].join(","),
            condition: condition === "Pending" ? undefined : (condition as "Approved" | "Denied"),
        });
        const metadata = {
            "local-hostname": master.privateDnsName,
            "local-ipv4": master.privateIp,
            "public-hostname": master.publicDnsName!,
            "public-ipv4": master.publicIp!,
        };
        let curl = "";
        let t: { dir: string; cleanup: () => void };
        before(function () {
            for (const tool of ["bash", "openssl", "python3"]) requireTool(this, tool);
            curl = requireTool(this, "curl");
            t = tempDir("csr-approval");
        });
        after(() => t?.cleanup());

        it("the approver approves the worker and leaves everything else Pending, the public master's CSR too", () => {
            assert.deepEqual(conditions(dev), [
                ["csr-master", "Pending"],
                ["csr-worker", "Approved"],
                ["csr-worker-claims-public-ip", "Pending"],
                ["csr-worker-claims-master-name", "Pending"],
                ["csr-master-claims-worker-ip", "Pending"],
                ["csr-master-extra-name", "Pending"],
            ]);
            // The same values without skipDenyStep (every other stage) deny them.
            assert.deepEqual(
                conditions({ ...dev, skipDenyStep: false })
                    .filter(([, c]) => c !== "Approved")
                    .map(([, c]) => c),
                ["Denied", "Denied", "Denied", "Denied", "Denied"],
            );
        });

        it("the master's timer then approves its own CSR and no forgery, which stay Pending (never signed)", async () => {
            const csrs = csrList(
                t.dir,
                conditions(dev).map(([name, c]) => spec(name, sentCsrs.find(([n]) => n === name)![1], c)),
            );
            const r = await runOwnCsrScript(t.dir, renderOwnServingCsrScript(), csrs, metadata, curl);
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.approved, ["csr-master"]);
            assert.deepEqual(r.journal, [
                `approved csr-master: ${master.privateDnsName}'s own serving certificate for ${master.privateDnsName} ${master.publicDnsName} ${master.privateIp} ${master.publicIp}`,
                `left csr-worker-claims-public-ip pending: requester ${sent(worker).username} is not ${masterUser}`,
                `left csr-worker-claims-master-name pending: requester ${sent(worker).username} is not ${masterUser}`,
                `left csr-master-claims-worker-ip pending: IP address 10.10.16.7 is not this instance's (10.10.0.10 44.192.10.20)`,
                `left csr-master-extra-name pending: DNS name kubernetes.default.svc is not this instance's (${master.privateDnsName} ${master.publicDnsName})`,
                "done: 1 approved",
            ]);
        });

        it("guard: without skipDenyStep the master's CSR is Denied first, and the timer leaves a decided CSR alone", async () => {
            const denied = conditions({ ...dev, skipDenyStep: false });
            const csrs = csrList(
                t.dir,
                denied.map(([name, c]) => spec(name, sentCsrs.find(([n]) => n === name)![1], c)),
            );
            const r = await runOwnCsrScript(t.dir, renderOwnServingCsrScript(), csrs, metadata, curl);
            assert.equal(r.status, 0, r.stderr);
            assert.deepEqual(r.approved, []);
            assert.deepEqual(r.journal, ["done: 0 approved"]);
        });
    });
});
