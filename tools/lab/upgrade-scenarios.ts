// The upgrade rehearsal (issue 10.4 and 10.9): the program's SSM document run on the prod masters by the
// emulated State Manager chain (./ssm-associations.ts), judged from what the nodes did: their kubeadm
// invocations, etcd's revision history (API server versions, Node cordons and kubelet versions), the
// packages they installed and from where, and their reports in SSM. Guards: a skipped minor, an unhealthy
// etcd member and a master whose kubelet never gets Ready must each stop the chain where the script says,
// and each is run again against a copy of the script without its check, which must not stop there.
import { upgradeProblem } from "../../components/cluster/render/upgrade";
import { Check } from "./checks";
import { LabCluster } from "./cluster";
import type { Env, Outcome, Scenario } from "./scenarios";
import { AssociationRun, editScript, runChain, slotMasters, upgradeChain } from "./ssm-associations";
import { UNGUARDED, upgradeVersions } from "./upgrade";
import { etcdctl, pinnedOf, record, runsCheck, snapshot, unchanged, UpgradeHelpers } from "./upgrade-probe";
import { rehearse } from "./upgrade-run";

/** upgrade-stops' `cluster.upgrade.healthTimeoutSeconds`: long enough for every healthy step of the lab's chain. */
const STOPS_HEALTH_TIMEOUT = 120;

/** A refused upgrade: the chain stops at `slot`'s run, its report names the step and the message. */
function stopChecks(
    c: LabCluster,
    runs: AssociationRun[],
    want: string,
    slot: string,
    target: string,
    step: string,
    message: string,
): Check[] {
    const rec = record(c, slot);
    const expected = `failed <time> ${target} ${step}: ${message}`;
    const value = rec?.value.replace(/ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /, " <time> ") ?? "";
    const last = runs[runs.length - 1];
    return [
        runsCheck(runs, want),
        {
            node: slot,
            check: `reports ${expected} to SSM`,
            ok: value === expected && rec?.writtenBy === last?.node,
            detail: rec ? `${rec.value} (written by ${rec.writtenBy})` : "no report",
        },
        {
            node: slot,
            check: `the script logged "FAILED at step ${step}: ${message}"`,
            ok: !!last && last.output.includes(`FAILED at step ${step}: ${message}`),
            detail:
                last?.output
                    .split("\n")
                    .filter((l) => /FAILED|keelson-upgrade/.test(l))
                    .slice(-2)
                    .join(" | ") ?? "",
        },
    ];
}

/** The kubelet's side of a master's snapshot: its packages and its Node. */
const kubeletPart = (snap?: string) =>
    [/kubelet=\S+/, /kubectl=\S+/, /Node .*$/].map((r) => r.exec(snap ?? "")?.[0] ?? "").join(" ");

type Judge = (document: string) => Promise<Check[]>;

/**
 * A guard's scenario: `judge` runs the chain and checks the guard's outcome; then the same against the
 * document whose script lacks the check (`unguard`), which must NOT give that outcome.
 */
async function guarded(
    h: UpgradeHelpers,
    c: LabCluster,
    document: string,
    judge: Judge,
    unguard: (s: string) => string,
    name: string,
): Promise<Outcome> {
    const checks = await judge(document);
    const mine = h.summarize(checks, []);
    const twin = await judge(editScript(document, unguard));
    const twinBad = twin.filter((x) => !x.ok);
    const proof: Check = {
        node: "cluster",
        check: `${name}: a copy of the script without the check does not stop as above`,
        ok: twinBad.length > 0,
        detail: twinBad.length
            ? `without it: ${twinBad
                  .map((x) => `${x.check}: ${x.detail}`)
                  .join("; ")
                  .slice(0, 600)}`
            : "the copy stopped the same way: the check proves nothing",
    };
    const all = [...checks, proof];
    return {
        ...h.summarize(all, []),
        nodes: [...slotMasters(c).values()].map((n) => n.name),
        checks: all,
        ok: mine.ok && proof.ok,
    };
}

async function needsMasters(env: Env): Promise<LabCluster | Outcome> {
    const c = await env.cluster("prod");
    if (slotMasters(c).size < 3)
        return { ok: false, detail: "needs prod-boot first (3 prod masters)", checks: [], nodes: [] };
    return c;
}

export function upgradeScenarios(h: UpgradeHelpers): Scenario[] {
    return [
        {
            name: "upgrade",
            stage: "prod",
            description:
                "the program's SSM upgrade document on the 3 masters in the association chain's order (1.33 to 1.34), a rerun that does nothing, then a worker from the new launch template",
            budgetSeconds: 2400,
            run: async (env) => {
                const c = await needsMasters(env);
                if (!(c instanceof LabCluster)) return c;
                return rehearse(h, c);
            },
        },
        {
            name: "upgrade-skip",
            stage: "prod",
            description:
                "a target two minors up: master-0 refuses it at preflight with upgradeProblem's message, nothing changes, no later master runs",
            budgetSeconds: 900,
            run: async (env) => {
                const c = await needsMasters(env);
                if (!(c instanceof LabCluster)) return c;
                const v = upgradeVersions(pinnedOf(c));
                const { document, chain } = upgradeChain(c.plan, v.skip);
                const judge: Judge = async (doc) => {
                    const before = await snapshot(c);
                    const runs = await runChain(c, doc, chain);
                    return [
                        ...stopChecks(
                            c,
                            runs,
                            "master-0/control-plane:Failed",
                            "master-0",
                            v.skip,
                            "preflight",
                            upgradeProblem(v.from, v.skip)!,
                        ),
                        unchanged(before, await snapshot(c)),
                    ];
                };
                return guarded(h, c, document, judge, UNGUARDED["upgrade-skip"], "upgrade-skip");
            },
        },
        {
            name: "upgrade-unhealthy",
            stage: "prod",
            // Alone, after the faults and breaks (beside them, when its check still took 20 minutes, two of their
            // failure reports were lost): it stops an etcd member, which a joining node's checks would see.
            description:
                "master-2's etcd member stopped: master-0 refuses to start the upgrade (preflight: an etcd member is unhealthy) after the preflight's 6 checks (about 2 min: 10 s apart, each etcdctl's 10 s timeout), nothing changes",
            budgetSeconds: 2400,
            run: async (env) => {
                const c = await needsMasters(env);
                if (!(c instanceof LabCluster)) return c;
                const v = upgradeVersions(pinnedOf(c));
                const { document, chain } = upgradeChain(c.plan, v.target);
                const m2 = slotMasters(c).get("master-2")!;
                const stop = await c.lab.execAsync(m2, [
                    "mv",
                    "/etc/kubernetes/manifests/etcd.yaml",
                    "/etc/kubernetes/etcd.yaml.lab-stopped",
                ]);
                if (stop.code !== 0)
                    return {
                        ok: false,
                        detail: `could not stop master-2's etcd: ${stop.stderr}`,
                        checks: [],
                        nodes: [],
                    };
                try {
                    // The kubelet stub stops etcd once it finds the manifest gone: wait until the member is down (up to 60 s).
                    for (let i = 0; i < 30 && (await etcdctl(c, m2, "endpoint", "health")).code === 0; i++)
                        await new Promise((r) => setTimeout(r, 2000));
                    const judge: Judge = async (doc) => {
                        const before = await snapshot(c);
                        const runs = await runChain(c, doc, chain);
                        return [
                            ...stopChecks(
                                c,
                                runs,
                                "master-0/control-plane:Failed",
                                "master-0",
                                v.target,
                                "preflight",
                                "an etcd member is unhealthy (etcdctl endpoint health --cluster)",
                            ),
                            unchanged(before, await snapshot(c)),
                        ];
                    };
                    return await guarded(
                        h,
                        c,
                        document,
                        judge,
                        UNGUARDED["upgrade-unhealthy"],
                        "upgrade-unhealthy",
                    );
                } finally {
                    await c.lab.execAsync(m2, [
                        "mv",
                        "/etc/kubernetes/etcd.yaml.lab-stopped",
                        "/etc/kubernetes/manifests/etcd.yaml",
                    ]);
                    for (
                        let i = 0;
                        i < 60 && (await etcdctl(c, m2, "endpoint", "health", "--cluster")).code !== 0;
                        i++
                    )
                        await new Promise((r) => setTimeout(r, 2000));
                }
            },
        },
        {
            name: "upgrade-stops",
            stage: "prod",
            description:
                "master-1's container runtime dies when its kubelet is upgraded: master-1 fails at ready after cluster.upgrade.healthTimeoutSeconds (120 s in this scenario's plan, 600 by default), master-2's kubelet is untouched, master-0 stays upgraded",
            budgetSeconds: 1200,
            run: async (env) => {
                const c = await needsMasters(env);
                if (!(c instanceof LabCluster)) return c;
                const v = upgradeVersions(pinnedOf(c));
                // The document of the stage with a shorter health wait, as a user sets it
                // (cluster.upgrade.healthTimeoutSeconds): master-1 fails its Ready step after 12 checks, not 60.
                const { document } = upgradeChain(
                    await h.plan("prod", { upgrade: { healthTimeoutSeconds: STOPS_HEALTH_TIMEOUT } }),
                    v.target,
                );
                if (!document.includes(`"readonly HEALTH_ATTEMPTS=${STOPS_HEALTH_TIMEOUT / 10}"`))
                    return {
                        ok: false,
                        detail: `the plan with cluster.upgrade.healthTimeoutSeconds: ${STOPS_HEALTH_TIMEOUT} renders no HEALTH_ATTEMPTS=${STOPS_HEALTH_TIMEOUT / 10}`,
                        checks: [],
                        nodes: [],
                    };
                const { chain } = upgradeChain(c.plan, v.target);
                const masters = slotMasters(c);
                const m1 = masters.get("master-1")!;
                const hook = "/etc/apt/apt.conf.d/99keelson-lab-fault";
                // After the dpkg run that leaves kubelet at the target, the runtime stops (what a broken
                // containerd upgrade pulled in by the new kubelet would do); the new kubelet reports NotReady.
                const fault = await c.lab.execAsync(m1, [
                    "bash",
                    "-c",
                    `printf '%s\\n' '#!/bin/sh' '[ "$(dpkg-query -W -f=\\\${Version} kubelet)" = "${v.target}-1.1" ] && systemctl stop containerd; exit 0' >/usr/local/lib/keelson-lab-fault && chmod 0755 /usr/local/lib/keelson-lab-fault && echo 'DPkg::Post-Invoke { "/usr/local/lib/keelson-lab-fault"; };' >${hook}`,
                ]);
                if (fault.code !== 0)
                    return {
                        ok: false,
                        detail: `could not install the fault: ${fault.stderr}`,
                        checks: [],
                        nodes: [],
                    };
                const m1Name = m1.nodeName;
                try {
                    const judge: Judge = async (doc) => {
                        const before = await snapshot(c);
                        const since = Date.now();
                        const runs = await runChain(c, doc, chain);
                        const after = await snapshot(c);
                        const m0 = record(c, "master-0");
                        const m2rec = record(c, "master-2");
                        return [
                            ...stopChecks(
                                c,
                                runs,
                                chain
                                    .slice(0, chain.length / 2 + 2)
                                    .map(
                                        (p, i) =>
                                            `${p.slot}/${p.phase}:${i === chain.length / 2 + 1 ? "Failed" : "Success"}`,
                                    )
                                    .join(" "),
                                "master-1",
                                v.target,
                                "ready",
                                `Node ${m1Name} is not Ready at v${v.target} (kubelet: v${v.target}); it stays cordoned`,
                            ),
                            {
                                node: "master-0",
                                check: `stays upgraded (${v.target})`,
                                ok:
                                    /^upgraded /.test(m0?.value ?? "") &&
                                    (after.get("master-0") ?? "").includes(`kube-apiserver:v${v.target}`),
                                detail: `${m0?.value}; ${after.get("master-0")}`,
                            },
                            {
                                // Its control plane moved with the others'; its kubelet phase never ran.
                                node: "master-2",
                                check: "its kubelet untouched (kubelet, kubectl, Node as before; last report control-plane-upgraded)",
                                ok:
                                    kubeletPart(before.get("master-2")) ===
                                        kubeletPart(after.get("master-2")) &&
                                    /^control-plane-upgraded /.test(m2rec?.value ?? "") &&
                                    !(m2rec?.history ?? []).some(
                                        (x) =>
                                            x.at >= since &&
                                            /^(upgrading \S+ \S+ kubelet|upgraded )/.test(x.value ?? ""),
                                    ),
                                detail: `${kubeletPart(before.get("master-2"))} -> ${kubeletPart(after.get("master-2"))}; report: ${m2rec?.value ?? "none"}`,
                            },
                        ];
                    };
                    return await guarded(h, c, document, judge, UNGUARDED["upgrade-stops"], "upgrade-stops");
                } finally {
                    await c.lab.execAsync(m1, [
                        "bash",
                        "-c",
                        `rm -f ${hook} /usr/local/lib/keelson-lab-fault; systemctl start containerd`,
                    ]);
                }
            },
        },
    ];
}
