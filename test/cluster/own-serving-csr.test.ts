// The public master's own-serving-CSR approval, run live: the rendered script under real bash, openssl, python3
// and curl, against a local IMDSv2 (token first, then metadata) and a stub kubectl that lists CSRs made with the
// real `openssl req` and records every approval. Only the master's own CSR is approved; each forgery is left
// Pending with its reason; a copy of the script without the name/address check approves the forgeries, so the
// assertions here catch its removal.
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as path from "path";
import { renderOwnServingCsrScript } from "../../components/cluster/render/own-serving-csr";
import { requireTool, tempDir } from "../support/live";
import { CsrSpec, csrList, runOwnCsrScript, SERVING_USAGES } from "../support/own-serving-csr";

const NODE = "ip-10-10-1-5.ec2.internal";
const PUBLIC_NAME = "ec2-54-210-1-2.compute-1.amazonaws.com";
const OTHER = "ip-10-10-2-7.ec2.internal";
const METADATA: Record<string, string> = {
    "local-hostname": NODE,
    "local-ipv4": "10.10.1.5",
    "public-hostname": PUBLIC_NAME,
    "public-ipv4": "54.210.1.2",
};
const SERVING = SERVING_USAGES;

const own = `DNS:${NODE},DNS:${PUBLIC_NAME},IP:10.10.1.5,IP:54.210.1.2`;
const hex = (s: string) => Buffer.from(s).toString("hex");
// A DNS name holding a newline, then another node's IP: `openssl req -text` prints the name's bytes raw, so a
// reader of its first SAN line would see only this node's name.
const hiddenName = `${NODE}\n`;
const hiddenSan = `3082${(2 + hiddenName.length + 6).toString(16).padStart(4, "0")}82${hiddenName.length.toString(16).padStart(2, "0")}${hex(hiddenName)}87040a0a0207`;

/** A CSR from this node for its own names and addresses, with `over` changed. */
const mine = (name: string, over: Partial<CsrSpec> = {}): CsrSpec => ({
    name,
    user: `system:node:${NODE}`,
    subject: `/O=system:nodes/CN=system:node:${NODE}`,
    san: own,
    ...over,
});

const CSRS: readonly CsrSpec[] = [
    mine("csr-own"),
    mine("csr-other-node", {
        user: `system:node:${OTHER}`,
        subject: `/O=system:nodes/CN=system:node:${OTHER}`,
        san: `DNS:${OTHER},IP:10.10.2.7`,
    }),
    mine("csr-extra-ip", { san: `${own},IP:10.10.2.7` }),
    mine("csr-extra-name", { san: `${own},DNS:api.keelson-dev.internal` }),
    mine("csr-other-name", { san: `DNS:${OTHER},IP:10.10.1.5` }),
    mine("csr-email", { san: `${own},email:root@example.com` }),
    mine("csr-hidden-ip", { san: `DER:${hiddenSan}` }),
    mine("csr-wrong-cn", { subject: `/O=system:nodes/CN=system:node:${OTHER}` }),
    mine("csr-wrong-o", { subject: `/O=system:masters/CN=system:node:${NODE}` }),
    mine("csr-extra-o", { subject: `/O=system:nodes/O=system:masters/CN=system:node:${NODE}` }),
    mine("csr-client", {
        signer: "kubernetes.io/kube-apiserver-client-kubelet",
        usages: ["digital signature", "client auth"],
    }),
    mine("csr-client-usage", { usages: [...SERVING, "client auth"] }),
    mine("csr-approved", { condition: "Approved" }),
    mine("csr-denied", { condition: "Denied" }),
];

/** The real curl, found by the suite's `before`. */
let curl = "";
const run = (dir: string, script: string, csrs: unknown, metadata: Record<string, string> = METADATA) =>
    runOwnCsrScript(dir, script, csrs, metadata, curl);

describe("cluster/render/own-serving-csr (live: bash, openssl, python3, curl against a local IMDSv2)", function () {
    this.timeout(60000);
    let t: { dir: string; cleanup: () => void };
    let csrs: unknown;

    before(function () {
        for (const tool of ["bash", "openssl", "python3"]) requireTool(this, tool);
        curl = requireTool(this, "curl");
        t = tempDir("own-csr");
        csrs = csrList(t.dir, CSRS);
    });
    after(() => t?.cleanup());

    it("approves the master's own serving CSR (private and public names and addresses) and nothing else", async () => {
        const r = await run(t.dir, renderOwnServingCsrScript(), csrs);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        assert.deepEqual(r.approved, ["csr-own"]);
        const own = `${NODE} ${PUBLIC_NAME} 10.10.1.5 54.210.1.2`;
        assert.deepEqual(r.journal, [
            `approved csr-own: ${NODE}'s own serving certificate for ${own}`,
            `left csr-other-node pending: requester system:node:${OTHER} is not system:node:${NODE}`,
            `left csr-extra-ip pending: IP address 10.10.2.7 is not this instance's (10.10.1.5 54.210.1.2)`,
            `left csr-extra-name pending: DNS name api.keelson-dev.internal is not this instance's (${NODE} ${PUBLIC_NAME})`,
            `left csr-other-name pending: DNS name ${OTHER} is not this instance's (${NODE} ${PUBLIC_NAME})`,
            "left csr-email pending: the subjectAltName holds a name that is neither a DNS name nor an IPv4 address, or is malformed",
            "left csr-hidden-ip pending: the subjectAltName holds a name that is neither a DNS name nor an IPv4 address, or is malformed",
            `left csr-wrong-cn pending: subject 'CN=system:node:${OTHER},O=system:nodes' is not CN=system:node:${NODE},O=system:nodes`,
            `left csr-wrong-o pending: subject 'CN=system:node:${NODE},O=system:masters' is not CN=system:node:${NODE},O=system:nodes`,
            `left csr-extra-o pending: subject 'CN=system:node:${NODE},O=system:masters,O=system:nodes' is not CN=system:node:${NODE},O=system:nodes`,
            "left csr-client pending: signer kubernetes.io/kube-apiserver-client-kubelet is not kubernetes.io/kubelet-serving",
            "left csr-client-usage pending: usages client auth,digital signature,server auth are not a kubelet serving certificate's",
            "done: 1 approved",
        ]);
    });

    it("makes the newline-named CSR really carry another node's IP, which openssl's text shows on a line of its own", () => {
        const text = execFileSync("openssl", [
            "req",
            "-in",
            path.join(t.dir, "csr-hidden-ip.csr"),
            "-noout",
            "-text",
        ])
            .toString()
            .split("\n");
        const at = text.findIndex((l) => l.includes("X509v3 Subject Alternative Name"));
        // The first SAN line names only this node; the foreign IP is on the next line.
        assert.equal(text[at + 1].trim(), `DNS:${NODE}`);
        assert.equal(text[at + 2].trim(), ", IP Address:10.10.2.7");
    });

    it("approves an RSA kubelet's CSR (key encipherment too) and leaves the public names out when IMDS has none", async () => {
        const rsa = csrList(t.dir, [
            mine("csr-rsa", { rsa: true, usages: ["key encipherment", ...SERVING] }),
        ]);
        const r = await run(t.dir, renderOwnServingCsrScript(), rsa);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.approved, ["csr-rsa"]);
        // The same instance without a public address: its public name and IP are not its own any more.
        const privateOnly = { "local-hostname": NODE, "local-ipv4": "10.10.1.5" };
        const p = await run(t.dir, renderOwnServingCsrScript(), csrs, privateOnly);
        assert.equal(p.status, 0, p.stderr);
        assert.deepEqual(p.approved, []);
        assert.equal(
            p.journal[0],
            `left csr-own pending: DNS name ${PUBLIC_NAME} is not this instance's (${NODE})`,
        );
    });

    it("fails without approving anything when IMDS gives no node name", async () => {
        const r = await run(t.dir, renderOwnServingCsrScript(), csrs, {});
        assert.notEqual(r.status, 0);
        assert.deepEqual(r.approved, []);
    });

    it("would approve the forgeries without the name and address check (so the assertions above catch its removal)", async () => {
        const script = renderOwnServingCsrScript();
        const broken = script.replace(
            /\n {4}while read -r kind value; do\n[\s\S]*?\n {4}done <<<"\$names"\n/,
            "\n",
        );
        assert.notEqual(broken, script, "the check was found and cut out");
        const r = await run(t.dir, broken, csrs);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(r.approved, ["csr-own", "csr-extra-ip", "csr-extra-name", "csr-other-name"]);
    });
});
