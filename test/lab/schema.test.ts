// Issue 14.4: every cloud-config Keelson renders validates against the schema of the cloud-init that
// Debian 13 ships (25.x, from the lab image), both with ajv and with that cloud-init's own `schema`
// command, and the validator really rejects what cloud-init 25 rejects.
import assert from "node:assert/strict";
import Ajv from "ajv-draft-04";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { renderApiLbUserData } from "../../components/cluster/render/cloudinit";
import { EdgeBootstrapOptions } from "../../components/edge/render/bootstrap";
import { renderEdgeUserData } from "../../components/edge/render/userdata";
import { toolsPackageVersion } from "../../tools/lab/rootfs";
import { renderMatrix } from "../cluster/fixtures";
import { CLOUD_INIT_SCHEMA, debianCloudInitSchema, requireLabRootfs } from "../support/lab";

const edge: EdgeBootstrapOptions = {
    engine: "nginx",
    region: "eu-west-1",
    certificates: [{ name: "www", hosts: ["www.example.com"] }],
    tls: { kind: "ssm", parameterPrefix: "/keelson/prod/edge/tls" },
    configParameter: "/keelson/prod/edge/config",
};

/** Every kind of document: 1 and 3 masters, shared and dedicated, pools, the API LB, both edge engines, ACME. */
function documents(): { label: string; text: string }[] {
    const nodes = renderMatrix().map((m) => ({ label: m.label, text: m.rendered.userData }));
    const lb = renderApiLbUserData("eu-west-1", {
        backends: [
            { name: "master-0", address: "10.0.0.10" },
            { name: "master-1", address: "10.0.32.10" },
        ],
    });
    const edges = [
        { label: "edge-nginx", o: edge, streams: true },
        { label: "edge-haproxy", o: { ...edge, engine: "haproxy" as const }, streams: false },
        {
            label: "edge-acme",
            o: {
                ...edge,
                tls: {
                    kind: "acme" as const,
                    email: "ops@example.com",
                    challenge: "dns-01" as const,
                    keyAlgorithm: "ecdsa-p256" as const,
                },
            },
            streams: false,
        },
    ].map((e) => ({
        label: e.label,
        text: renderEdgeUserData({ ...e.o, hostname: "edge-0", streams: e.streams }),
    }));
    return [...nodes, { label: "api-lb", text: lb }, ...edges];
}

describe("lab: Debian 13 cloud-init schema", function () {
    this.timeout(300000);
    const docs = documents();

    it("uses cloud-init 25 from Debian 13", function () {
        const img = requireLabRootfs(this);
        assert.match(toolsPackageVersion(img, "cloud-init"), /^25\./);
    });

    it("validates every rendered cloud-config against cloud-init 25's JSON schema (ajv)", function () {
        const img = requireLabRootfs(this);
        const schema = JSON.parse(fs.readFileSync(path.join(img.tools, CLOUD_INIT_SCHEMA), "utf8"));
        const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, logger: false });
        const validate = ajv.compile(schema);
        // 1 and 3 masters, shared and dedicated, one document per worker pool (2), the API LB, 3 edge.
        assert.equal(docs.length, 2 * (1 + 2) + 2 * (3 + 2) + 1 + 3);
        for (const { label, text } of docs) {
            assert.ok(text.startsWith("#cloud-config\n"), `${label} starts with #cloud-config`);
            assert.ok(validate(YAML.parse(text)), `${label}: ${JSON.stringify(validate.errors)}`);
        }
        // It rejects: an unknown write_files key, a non-list of packages, a misspelt permissions key.
        assert.equal(validate({ packages: "curl", write_files: [{ path: "/x", mode: "0600" }] }), false);
        assert.deepEqual(validate.errors!.map((e) => e.instancePath).sort(), ["/packages", "/write_files/0"]);
    });

    it("passes Debian 13's cloud-init validator (`cloud-init schema`) for every document; it rejects a broken one", function () {
        const img = requireLabRootfs(this);
        const broken = /^package_update: .*$/m.test(docs[0].text)
            ? docs[0].text.replace(/^package_update: .*$/m, "package_update: yes-please")
            : `${docs[0].text.trimEnd()}\npackage_update: yes-please\n`;
        const results = debianCloudInitSchema(img, [...docs, { label: "broken", text: broken }]);
        for (const { label } of docs) assert.equal(results.get(label), "Valid schema <file>", label);
        assert.match(
            results.get("broken")!,
            /package_update: 'yes-please' is not of type 'boolean'/,
            results.get("broken"),
        );
    });
});
