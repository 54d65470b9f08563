// The upgrade path without a cluster: the version rule (TypeScript and the script's bash agree), the version
// guard's check as the engine calls it, the SSM document as SSM reads it, and the prod plan's resources.
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import {
    renderUpgradeDocument,
    renderUpgradeScript,
    UPGRADE_SCRIPT_PATH,
    upgradeProblem,
} from "../../components/cluster/render/upgrade";
import { UPGRADE_STEP_TIMEOUT_SECONDS, versionProviderForTests } from "../../components/cluster/upgrade";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { RecordedResource } from "../../tools/plan/runtime";
import { Cluster } from "../../components/cluster/Cluster";
import { clusterConfig } from "./fixtures";
import { assertRefusedBeforeRegistering, fakeNetwork, ofType, runCluster } from "./graph-support";
import { requireTool, tempDir } from "../support/live";
import * as fs from "fs";
import * as path from "path";

const OPTIONS = { region: "us-east-1", ssmPrefix: "/keelson/prod/keelson-prod", masters: 3 };

describe("cluster/render/upgrade: the version rule", () => {
    it("allows the same version, a later patch and the next minor; refuses downgrades and skipped minors", () => {
        for (const [from, to] of [
            ["1.33.4", "1.33.4"],
            ["1.33.4", "1.33.8"],
            ["1.33.4", "1.34.0"],
            ["1.33.8", "1.34.3"],
        ])
            assert.equal(upgradeProblem(from, to), undefined, `${from} -> ${to}`);
        assert.equal(
            upgradeProblem("1.33.4", "1.35.1"),
            "cluster.kubernetesVersion: 1.35.1 skips 1.34: the cluster runs 1.33.4 and kubeadm upgrades one minor " +
                "at a time: set 1.34.x, pulumi up, then 1.35.1",
        );
        assert.equal(
            upgradeProblem("1.34.3", "1.33.8"),
            "cluster.kubernetesVersion: 1.33.8 is older than the 1.34.3 the cluster runs; kubeadm cannot downgrade: " +
                "set it back to 1.34.3 (or a later patch of 1.34, or 1.35.x)",
        );
        assert.match(upgradeProblem("1.34.3", "1.34.2")!, /is older than the 1\.34\.3/);
        assert.equal(
            upgradeProblem("1.33.4", "latest"),
            'cluster.kubernetesVersion: "latest" is not 1.N.P; use e.g. 1.33.4',
        );
    });

    it("the script's bash applies the same rule, message for message", function () {
        const bash = requireTool(this, "bash");
        const script = renderUpgradeScript(OPTIONS);
        const fn = /^version_problem\(\) \{\n[\s\S]*?\n\}\n/m.exec(script)![0];
        const versions = ["1.32.12", "1.33.0", "1.33.4", "1.33.8", "1.34.0", "1.34.3", "1.35.1"];
        for (const from of versions)
            for (const to of versions) {
                const r = spawnSync(bash, ["-c", `${fn}version_problem "$1" "$2"`, "x", from, to], {
                    encoding: "utf8",
                });
                assert.equal(r.status, 0, r.stderr);
                assert.equal(r.stdout.trim(), upgradeProblem(from, to) ?? "", `${from} -> ${to}`);
            }
    });
});

describe("cluster/upgrade: the version guard's check", () => {
    const check = (olds: unknown, version: string) =>
        versionProviderForTests.check!(olds, { version }) as Promise<{ failures?: unknown[] }>;

    it("accepts the first version and any allowed change", async () => {
        assert.deepEqual(await check({}, "1.33.4"), { inputs: { version: "1.33.4" } });
        assert.deepEqual(await check(undefined, "1.33.4"), { inputs: { version: "1.33.4" } });
        assert.deepEqual(await check({ version: "1.33.4" }, "1.34.3"), { inputs: { version: "1.34.3" } });
    });

    it("fails on the version property with the rule's message", async () => {
        assert.deepEqual(await check({ version: "1.33.4" }, "1.35.1"), {
            inputs: { version: "1.35.1" },
            failures: [{ property: "version", reason: upgradeProblem("1.33.4", "1.35.1") }],
        });
        assert.deepEqual((await check({ version: "1.34.3" }, "1.33.4")).failures, [
            { property: "version", reason: upgradeProblem("1.34.3", "1.33.4") },
        ]);
    });

    it("runs as the engine's dynamic-provider host runs it: serialized, then loaded alone", async () => {
        const sf = await pulumi.runtime.serializeFunction(() => versionProviderForTests, {
            allowSecrets: true,
        });
        const { dir, cleanup } = tempDir("version-provider");
        fs.writeFileSync(path.join(dir, "provider.js"), sf.text);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const provider = require(path.join(dir, "provider.js"))[
            sf.exportName
        ]() as typeof versionProviderForTests;
        assert.deepEqual((await provider.check!({ version: "1.33.4" }, { version: "1.35.1" })).failures, [
            { property: "version", reason: upgradeProblem("1.33.4", "1.35.1") },
        ]);
        cleanup();
    });

    it("updates in place: a new version is a change, never a replacement", async () => {
        assert.deepEqual(
            await versionProviderForTests.diff!("id", { version: "1.33.4" }, { version: "1.34.3" }),
            {
                changes: true,
                replaces: [],
                deleteBeforeReplace: false,
            },
        );
    });
});

describe("cluster/render/upgrade: the SSM document", () => {
    const doc = JSON.parse(renderUpgradeDocument(OPTIONS)) as {
        schemaVersion: string;
        parameters: Record<string, { allowedPattern?: string; allowedValues?: string[] }>;
        mainSteps: { action: string; inputs: { runCommand: string[]; timeoutSeconds: string } }[];
    };

    it("declares its three parameters with the patterns SSM checks before it runs anything", () => {
        assert.equal(doc.schemaVersion, "2.2");
        const ok = (name: string, v: string) => {
            const p = doc.parameters[name];
            return p.allowedValues ? p.allowedValues.includes(v) : new RegExp(p.allowedPattern!).test(v);
        };
        assert.ok(
            ok("version", "1.34.3") && ok("slot", "master-2") && ok("first", "yes") && ok("phase", "kubelet"),
        );
        for (const [name, bad] of [
            ["version", "1.34.3; reboot"],
            ["version", "v1.34.3"],
            ["slot", "general"],
            ["slot", "master-1 && id"],
            ["first", "maybe"],
            ["phase", "workers"],
        ])
            assert.ok(!ok(name, bad), `${name}=${bad}`);
    });

    it("writes exactly the rendered script, then runs it with the parameters, under sh as the agent does", function () {
        const sh = requireTool(this, "sh");
        const [step] = doc.mainSteps;
        assert.equal(step.action, "aws:runShellScript");
        assert.equal(Number(step.inputs.timeoutSeconds), UPGRADE_STEP_TIMEOUT_SECONDS);
        const lines = step.inputs.runCommand;
        assert.equal(
            lines[lines.length - 1],
            `exec ${UPGRADE_SCRIPT_PATH} '{{ version }}' '{{ slot }}' '{{ first }}' '{{ phase }}'`,
        );
        // SSM substitutes {{ name }} everywhere in runCommand: only the last line has any.
        assert.deepEqual(
            lines
                .map((l, i) => [i, l])
                .filter(([, l]) => String(l).includes("{{"))
                .map(([i]) => i),
            [lines.length - 1],
        );
        const { dir, cleanup } = tempDir("upgrade-doc");
        const target = path.join(dir, "keelson-upgrade");
        const text = lines
            .join("\n")
            .split(UPGRADE_SCRIPT_PATH)
            .join(target)
            .replace(/'\{\{ version \}\}'/, "'1.34.3'")
            .replace(/'\{\{ slot \}\}'/, "'master-0'")
            .replace(/'\{\{ first \}\}'/, "'maybe'")
            .replace(/'\{\{ phase \}\}'/, "'kubelet'");
        const r = spawnSync(sh, ["-c", text], { encoding: "utf8" });
        // The script ran (and refused the bad argument itself, before touching anything).
        assert.equal(r.status, 2, r.stderr);
        assert.equal(
            r.stderr,
            "usage: keelson-upgrade <target 1.N.P> <slot master-i> <first yes|no> <phase control-plane|kubelet>\n",
        );
        assert.equal(fs.readFileSync(target, "utf8"), renderUpgradeScript(OPTIONS));
        assert.equal((fs.statSync(target).mode & 0o777).toString(8), "700");
        cleanup();
    });

    it("the script is clean under shellcheck", function () {
        const shellcheck = requireTool(this, "shellcheck");
        const r = spawnSync(shellcheck, ["--severity=style", "--shell=bash", "-"], {
            input: renderUpgradeScript(OPTIONS),
            encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stdout);
    });
});

describe("cluster/upgrade in the prod plan", function () {
    this.timeout(300000);
    let plan: FullPlan;
    const byName = (type: string, name: string) =>
        plan.recorded.find((r) => r.type === type && r.name === name) as RecordedResource;
    before(async () => {
        plan = await planStage({ stack: "prod" });
    });

    it("two associations per master, the control planes then the kubelets, chained, each waited for", () => {
        const doc = byName("aws:ssm/document:Document", "keelson-prod-upgrade");
        assert.deepEqual(
            { ...doc.rawInputs, tags: undefined },
            {
                name: "keelson-prod-upgrade",
                documentType: "Command",
                documentFormat: "JSON",
                content: renderUpgradeDocument(OPTIONS),
                tags: undefined,
            },
        );
        const order: ["control-plane" | "kubelet", number][] = [
            ...[0, 1, 2].map((i): ["control-plane", number] => ["control-plane", i]),
            ...[0, 1, 2].map((i): ["kubelet", number] => ["kubelet", i]),
        ];
        let before: string | undefined;
        for (const [phase, i] of order) {
            const step = phase === "control-plane" ? `upgrade-master-${i}` : `upgrade-kubelet-master-${i}`;
            const a = byName("aws:ssm/association:Association", `keelson-prod-${step}`);
            assert.deepEqual(
                { ...a.rawInputs, tags: undefined, targets: undefined },
                {
                    name: "keelson-prod-upgrade",
                    associationName: `keelson-prod-${step}-1-33-4`,
                    parameters: {
                        version: "1.33.4",
                        slot: `master-${i}`,
                        first: i === 0 ? "yes" : "no",
                        phase,
                    },
                    maxConcurrency: "1",
                    maxErrors: "0",
                    waitForSuccessTimeoutSeconds: 3600,
                    tags: undefined,
                    targets: undefined,
                },
            );
            // The slot's tag, not an instance ID: a healed slot's replacement is the same target.
            assert.deepEqual(a.rawInputs.targets, [
                { key: "tag:keelson:master-slot", values: [`keelson-prod-master-${i}`] },
            ]);
            assert.deepEqual(a.options?.replaceOnChanges, ["parameters", "associationName"]);
            // Its slot's group (so the instance runs before the association is created), the step before, the
            // document and the guard.
            assert.deepEqual(
                a.dependencies.map((u) => u.split("::").pop()).sort(),
                [
                    `keelson-prod-master-${i}`,
                    ...(before ? [before] : []),
                    "keelson-prod-upgrade",
                    "keelson-prod-version",
                ].sort(),
            );
            before = `keelson-prod-${step}`;
        }
    });

    it("each pool's group holds a new instance until its node completes the launch hook (Ready), else abandons it", () => {
        for (const pool of ["general", "data"]) {
            const hook = byName("aws:autoscaling/lifecycleHook:LifecycleHook", `keelson-prod-${pool}-join`);
            assert.deepEqual(
                { ...hook.rawInputs, autoscalingGroupName: undefined },
                {
                    name: "keelson-join",
                    autoscalingGroupName: undefined,
                    lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
                    heartbeatTimeout: 1800,
                    defaultResult: "ABANDON",
                },
            );
            assert.deepEqual(
                hook.dependencies.map((u) => u.split("$").pop()),
                [
                    `aws:autoscaling/group:Group::keelson-prod-${pool}`,
                    `aws:ec2/launchTemplate:LaunchTemplate::keelson-prod-${pool}`,
                ],
            );
        }
    });

    it("the pools' templates and the cloud controller wait for the last master", () => {
        const last = "keelson-prod-upgrade-kubelet-master-2";
        for (const r of [
            byName("aws:ec2/launchTemplate:LaunchTemplate", "keelson-prod-general"),
            byName("aws:ec2/launchTemplate:LaunchTemplate", "keelson-prod-data"),
            byName("kubernetes:helm.sh/v4:Chart", "keelson-prod-cloud-controller"),
        ])
            assert.ok(
                r.dependencies.some((u) => u.endsWith(`::${last}`)),
                `${r.name}: ${r.dependencies.join()}`,
            );
    });
});

describe("cluster/upgrade: cluster.upgrade's waits", function () {
    this.timeout(300000);
    const scriptOf = (doc: RecordedResource) =>
        (
            JSON.parse(String(doc.inputs.content)) as { mainSteps: { inputs: { runCommand: string[] } }[] }
        ).mainSteps[0].inputs.runCommand.join("\n");
    const waits = (script: string) =>
        script
            .split("\n")
            .filter((l) => /^readonly (HEALTH_ATTEMPTS|PREFLIGHT_ATTEMPTS|INTERVAL|DRAIN_TIMEOUT)=/.test(l));

    it("reach the document and the artifact: health checks every 10 s up to the timeout, the drain's own timeout", async () => {
        const run = await runCluster(
            clusterConfig({ upgrade: { healthTimeoutSeconds: 95, drainTimeoutSeconds: 120 } }),
            "dev",
            1,
        );
        const [doc] = ofType(run.resources, "aws:ssm/document:Document");
        const expected = [
            "readonly HEALTH_ATTEMPTS=10",
            "readonly PREFLIGHT_ATTEMPTS=6",
            "readonly INTERVAL=10",
            "readonly DRAIN_TIMEOUT=120",
        ];
        assert.deepEqual(waits(scriptOf(doc)), expected);
        assert.deepEqual(
            waits(run.artifacts.find((a) => a.path === "upgrade/keelson-upgrade.sh")!.content),
            expected,
        );
        const defaults = await runCluster(clusterConfig(), "dev", 1);
        assert.deepEqual(waits(scriptOf(ofType(defaults.resources, "aws:ssm/document:Document")[0])), [
            "readonly HEALTH_ATTEMPTS=60",
            "readonly PREFLIGHT_ATTEMPTS=6",
            "readonly INTERVAL=10",
            "readonly DRAIN_TIMEOUT=600",
        ]);
    });

    it("out of bounds from a library caller: refused before anything is registered", () =>
        assertRefusedBeforeRegistering(
            () =>
                new Cluster("c", {
                    region: "us-east-1",
                    network: fakeNetwork(1),
                    upgrade: { healthTimeoutSeconds: 3600, drainTimeoutSeconds: 12.5 },
                }),
            [
                "Cluster c: upgrade.healthTimeoutSeconds: 3600 is not a whole number from 60 to 600; use seconds within that range",
                "upgrade.drainTimeoutSeconds: 12.5 is not a whole number from 60 to 600; use seconds within that range",
            ].join("\n"),
        ));
});
