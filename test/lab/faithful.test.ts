// The boot lab stays faithful to what the rendered nodes ask of the world: every Debian package a
// bootstrap installs is in the lab archive (the real mirror has it), and every instance metadata path
// a bootstrap reads is served by the lab's IMDS with EC2's value. Both drifted once: dev-boot failed
// on `local-hostname` (404 from the lab's IMDS) and on `etcd-client` (not in the lab archive), and the
// nodes' last words were a misleading "aws: command not found".
import assert from "node:assert/strict";
import * as YAML from "yaml";
import { BOOTSTRAP_SCRIPT_PATH } from "../../components/cluster/render/bootstrap";
import { CORE_FUNCTIONS, NODE_PACKAGES } from "../../components/cluster/render/bootstrap-lib";
import { BOOTSTRAP_UNIT } from "../../components/cluster/render/units";
import { declared } from "../../tools/lab/cluster";
import { instanceMetadata, privateDnsName } from "../../tools/lab/hub";
import { archivePackages } from "../../tools/lab/rootfs";
import { BREAKS } from "../../tools/lab/scenarios";
import { renderMatrix } from "../cluster/fixtures";

function bootstrapScripts(): { label: string; script: string }[] {
    return renderMatrix().map((m) => {
        const files = YAML.parse(m.rendered.userData).write_files as { path: string; content: string }[];
        const script = files.find((f) => f.path === BOOTSTRAP_SCRIPT_PATH)?.content;
        assert.ok(script, `${m.label}: no ${BOOTSTRAP_SCRIPT_PATH} in its user-data`);
        return { label: m.label, script };
    });
}

const identity = {
    name: "master-0",
    instanceId: "i-0123456789abcdef0",
    zone: "eu-west-1a",
    region: "eu-west-1",
    role: "keelson-prod-master-0123abc",
    instanceProfile: "keelson-prod-master-4567def",
    policies: [],
    hopLimit: 1,
};

describe("lab: faithful to what the nodes ask for", () => {
    it("has every Debian package any master or worker bootstrap installs in its archive", () => {
        const archive = new Set(archivePackages());
        const scripts = bootstrapScripts();
        let masters = 0;
        for (const { label, script } of scripts) {
            const m = /^readonly DEBIAN_PACKAGES=\(([^)]*)\)$/m.exec(script);
            assert.ok(m, `${label}: no DEBIAN_PACKAGES array`);
            const wanted = m[1].split(/\s+/).filter(Boolean);
            if (wanted.includes("etcd-client")) masters++;
            assert.deepEqual(
                wanted.filter((p) => !archive.has(p)),
                [],
                `${label}: packages missing from the lab archive`,
            );
        }
        assert.ok(masters > 0, "the matrix has masters (etcd-client)");
    });

    it("serves every metadata path the bootstraps read, with EC2's private DNS name", () => {
        const paths = new Set<string>();
        for (const { script } of bootstrapScripts())
            for (const m of script.matchAll(/\$\(imds ([a-z0-9/-]+)\)/g)) paths.add(m[1]);
        assert.deepEqual([...paths].sort(), [
            "instance-id",
            "local-hostname",
            "local-ipv4",
            "placement/availability-zone",
        ]);
        assert.match(CORE_FUNCTIONS, /KUBE_NODE_NAME="\$\(imds local-hostname\)"/);
        const md = instanceMetadata(identity, "10.77.0.10");
        for (const p of paths) assert.ok(p in md, `the lab's IMDS has no ${p}`);
        assert.equal(md["local-hostname"], "ip-10-77-0-10.eu-west-1.compute.internal");
        assert.equal(md["instance-id"], "i-0123456789abcdef0");
        assert.equal(md["local-ipv4"], "10.77.0.10");
        assert.equal(privateDnsName("10.0.1.5", "us-east-1"), "ip-10-0-1-5.ec2.internal");
    });

    it("checks a worker against every package its bootstrap installs, not only cloud-config packages:", () => {
        for (const m of renderMatrix().filter((x) => x.node.role === "worker")) {
            const d = declared(m.rendered.userData);
            assert.deepEqual(
                NODE_PACKAGES.filter((p) => !d.packages.includes(p)),
                [],
                `${m.label}: packages the lab would not check`,
            );
        }
    });

    it("has break tests whose breaks still change every worker's user-data (a stale one proves nothing)", () => {
        assert.deepEqual(
            BREAKS.map((b) => b.name),
            ["break-package", "break-mode", "break-script", "break-containerd", "break-restart"],
        );
        for (const m of renderMatrix().filter((x) => x.node.role === "worker")) {
            for (const b of BREAKS) {
                const broken = b.mutate(m.rendered.userData);
                assert.notEqual(broken, m.rendered.userData, `${b.name} changes nothing in ${m.label}`);
                assert.ok(YAML.parse(broken).write_files, `${b.name}: ${m.label} is still a cloud-config`);
            }
            const noContainerd = declared(BREAKS[0].mutate(m.rendered.userData)).packages;
            assert.ok(!noContainerd.includes("containerd") && noContainerd.includes("conntrack"), m.label);
            // break-restart drops exactly the bootstrap unit's Restart= line.
            const unit = (ud: string) =>
                (YAML.parse(ud).write_files as { path: string; content: string }[]).find(
                    (f) => f.path === `/etc/systemd/system/${BOOTSTRAP_UNIT}`,
                )!.content;
            const noRestart = BREAKS.find((b) => b.name === "break-restart")!.mutate(m.rendered.userData);
            assert.equal(
                unit(noRestart),
                unit(m.rendered.userData).replace(/^Restart=on-failure\n/m, ""),
                m.label,
            );
            assert.match(unit(m.rendered.userData), /^Restart=on-failure$/m, m.label);
        }
    });
});
