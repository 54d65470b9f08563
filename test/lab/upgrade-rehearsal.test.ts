// The upgrade rehearsal's pure parts (tools/lab/upgrade.ts), without the lab: the versions it picks, what
// SSM Run Command makes of the real upgrade document and its parameters, and the judges of etcd's history.
import { spawnSync } from "child_process";
import assert from "node:assert/strict";
import {
    renderUpgradeDocument,
    renderUpgradeScript,
    UPGRADE_SCRIPT_PATH,
} from "../../components/cluster/render/upgrade";
import { editScript } from "../../tools/lab/ssm-associations";
import {
    EtcdEvent,
    nodeSteps,
    parseWatch,
    runShellSteps,
    skewViolations,
    UNGUARDED,
    upgradeVersions,
} from "../../tools/lab/upgrade";

const o = { region: "us-east-1", ssmPrefix: "/keelson/prod/prod", masters: 3 };
const doc = renderUpgradeDocument(o);

describe("lab: upgrade rehearsal, pure parts", function () {
    it("goes from the pin to the next minor's latest patch, and refuses the one after", function () {
        assert.deepEqual(upgradeVersions("1.33.4"), { from: "1.33.4", target: "1.34.4", skip: "1.35.1" });
        assert.throws(() => upgradeVersions("1.35.1"), /no released 1\.36/);
    });

    it("runs the document as SSM does: parameters checked and substituted, runCommand as one sh script", function () {
        const [step] = runShellSteps(doc, {
            version: "1.34.4",
            slot: "master-1",
            first: "no",
            phase: "kubelet",
        });
        assert.equal(step.name, "upgrade");
        assert.equal(step.timeoutSeconds, 3600);
        const lines = step.script.trimEnd().split("\n");
        assert.equal(
            lines[lines.length - 1],
            `exec ${UPGRADE_SCRIPT_PATH} '1.34.4' 'master-1' 'no' 'kubelet'`,
        );
        assert.ok(!step.script.includes("{{"));
        // The heredoc carries the script byte for byte.
        const body = lines.slice(1, lines.indexOf("KEELSON_UPGRADE_SCRIPT")).join("\n") + "\n";
        assert.equal(body, renderUpgradeScript(o));
    });

    it("refuses what SSM refuses: a value outside allowedPattern or allowedValues, undeclared or missing parameters", function () {
        const good = { version: "1.34.4", slot: "master-0", first: "yes", phase: "control-plane" };
        assert.throws(
            () => runShellSteps(doc, { ...good, version: "1.34" }),
            /Parameter "version" "1\.34" failed to satisfy constraint: allowedPattern/,
        );
        assert.throws(() => runShellSteps(doc, { ...good, version: "1.34.4'; reboot; '" }), /allowedPattern/);
        assert.throws(() => runShellSteps(doc, { ...good, slot: "m0" }), /Parameter "slot"/);
        assert.throws(() => runShellSteps(doc, { ...good, first: "maybe" }), /allowedValues \[yes, no\]/);
        assert.throws(() => runShellSteps(doc, { ...good, extra: "x" }), /Parameter "extra" is not declared/);
        assert.throws(
            () => runShellSteps(doc, { version: "1.34.4", slot: "master-0", phase: "kubelet" }),
            /Parameter "first" is required/,
        );
    });

    it("edits the script inside the document, and refuses an edit that changes nothing", function () {
        const edited = editScript(doc, (s) => s.replace("STEP=preflight", "STEP=preflight # edited"));
        const [step] = runShellSteps(edited, {
            version: "1.34.4",
            slot: "master-0",
            first: "yes",
            phase: "control-plane",
        });
        assert.match(step.script, /STEP=preflight # edited/);
        assert.throws(() => editScript(doc, (s) => s), /changed nothing/);
    });

    it("each guard's copy lacks exactly its check in the rendered script", function () {
        const script = renderUpgradeScript(o);
        const gone: Record<keyof typeof UNGUARDED, string> = {
            "upgrade-skip": 'fail "$problem"',
            "upgrade-unhealthy": 'fail "an etcd member is unhealthy',
            "upgrade-stops": "node_ready_at_target ||",
        };
        for (const [name, edit] of Object.entries(UNGUARDED)) {
            const copy = edit(script);
            assert.ok(script.includes(gone[name as keyof typeof UNGUARDED]), name);
            assert.ok(!copy.includes(gone[name as keyof typeof UNGUARDED]), name);
            assert.equal(
                copy.includes("lab: the copy without the check went past preflight"),
                name !== "upgrade-stops",
                name,
            );
            // Still a valid bash script.
            const r = spawnSync("bash", ["-n"], { input: copy });
            assert.equal(r.status, 0, `${name}: ${r.stderr}`);
        }
    });

    it("reads etcdctl watch -w json output in revision order", function () {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        const line = (rev: number, key: string, value?: string, type?: number) =>
            JSON.stringify({
                Header: {},
                Events: [
                    {
                        ...(type ? { type } : {}),
                        kv: { key: b64(key), ...(value ? { value: b64(value) } : {}), mod_revision: rev },
                    },
                ],
            });
        const events = parseWatch(
            [
                line(7, "/registry/x", '{"a":1}'),
                "noise",
                line(3, "/registry/y", "not json"),
                line(9, "/registry/x", undefined, 1),
            ].join("\n"),
        );
        assert.deepEqual(
            events.map((e) => [e.rev, e.key, e.type, e.value]),
            [
                [3, "/registry/y", "PUT", undefined],
                [7, "/registry/x", "PUT", { a: 1 }],
                [9, "/registry/x", "DELETE", undefined],
            ],
        );
    });

    const api = (rev: number, ip: string, version: string): EtcdEvent => ({
        rev,
        key: `/registry/lab/apiservers/${ip}`,
        type: "PUT",
        value: { version },
    });
    const node = (rev: number, name: string, value: Record<string, unknown>): EtcdEvent => ({
        rev,
        key: `/registry/minions/${name}`,
        type: "PUT",
        value,
    });

    it("finds a kubelet newer than the oldest API server, and API servers two minors apart", function () {
        const base = [
            api(1, "a", "v1.33.4"),
            api(2, "b", "v1.33.4"),
            node(3, "n0", { kubeletVersion: "v1.33.4" }),
        ];
        // Control planes first, kubelets after: holds.
        const good = [
            ...base,
            api(10, "a", "v1.34.4"),
            api(11, "b", "v1.34.4"),
            node(12, "n0", { kubeletVersion: "v1.34.4" }),
        ];
        assert.deepEqual(skewViolations(good, ["a", "b"], ["n0"], 5), []);
        // A master's kubelet upgraded while another API server is still older: the policy's own example.
        const bad = [
            ...base,
            api(10, "a", "v1.34.4"),
            node(11, "n0", { kubeletVersion: "v1.34.4" }),
            api(12, "b", "v1.34.4"),
        ];
        assert.deepEqual(skewViolations(bad, ["a", "b"], ["n0"], 5), [
            "revision 11: kubelet n0 v1.34.4 is newer than the oldest API server (b v1.33.4)",
        ]);
        const apart = [...base, api(10, "a", "v1.35.1")];
        assert.match(
            skewViolations(apart, ["a", "b"], ["n0"], 5)[0],
            /revision 10: API servers more than one minor apart/,
        );
        // Before fromRev, or of a dead master, nothing counts.
        assert.deepEqual(skewViolations(bad, ["a", "b"], ["n0"], 13), []);
        assert.deepEqual(skewViolations(bad, ["a"], ["n0"], 5), []);
    });

    it("orders a Node's cordon, kubelet version and uncordon", function () {
        const ev = [
            node(1, "n", { kubeletVersion: "v1.33.4" }),
            node(5, "n", { kubeletVersion: "v1.33.4", unschedulable: true, changedAt: 100 }),
            node(6, "n", { kubeletVersion: "v1.34.4", unschedulable: true }),
            node(7, "n", { kubeletVersion: "v1.34.4", unschedulable: false }),
        ];
        assert.deepEqual(nodeSteps(ev, "n", "1.34.4", 2), {
            cordoned: 5,
            kubeletAtTarget: 6,
            uncordoned: 7,
            cordonedAt: 100000,
        });
        // Upgraded without a drain: no cordon before, no uncordon after.
        const undrained = [
            node(1, "n", { kubeletVersion: "v1.33.4" }),
            node(6, "n", { kubeletVersion: "v1.34.4" }),
        ];
        assert.deepEqual(nodeSteps(undrained, "n", "1.34.4", 2), {
            cordoned: undefined,
            kubeletAtTarget: 6,
            uncordoned: undefined,
            cordonedAt: undefined,
        });
    });
});
