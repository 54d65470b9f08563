// The `upgrade` scenario: the chain of the version bump's plan (its document and associations) on the
// running prod masters, judged from what they did; a rerun; then a worker from the bump's launch template.
import { Check } from "./checks";
import { LabCluster, shapeInstances } from "./cluster";
import type { Outcome } from "./scenarios";
import { runChain, slotMasters, upgradeChain } from "./ssm-associations";
import { nodeSteps, skewViolations, upgradeVersions } from "./upgrade";
import {
    history,
    kubeadmCalls,
    pinnedOf,
    record,
    revision,
    runLabel,
    runsCheck,
    UpgradeHelpers,
} from "./upgrade-probe";

export async function rehearse(h: UpgradeHelpers, c: LabCluster): Promise<Outcome> {
    const v = upgradeVersions(pinnedOf(c));
    const t = v.target;
    const series = t.replace(/\.\d+$/, "");
    // What `pulumi up` after the bump applies: the program planned at the target.
    const bumped = await h.plan("prod", { kubernetesVersion: t });
    const { document, chain, source } = upgradeChain(bumped, t);
    const masters = [...slotMasters(c)];
    const [, m0] = masters[0];
    const checks: Check[] = [];
    const since = Date.now();
    const fromRev = await revision(c, m0);
    const runs = await runChain(c, document, chain);
    checks.push({
        ...runsCheck(runs, chain.map((p) => `${p.slot}/${p.phase}:Success`).join(" ")),
        detail: `${runs.map((r) => `${runLabel(r)}:${r.status}`).join(" ")} (${source})`,
    });
    if (runs.length !== chain.length || runs.some((r) => r.status !== "Success"))
        return {
            ...h.summarize(checks, []),
            nodes: masters.map(([, n]) => n.name),
            detail: `${h.summarize(checks, []).detail}\n${runs[runs.length - 1]?.output.split("\n").slice(-4).join("\n")}`,
        };
    const ordered = runs.every((r, i) => i === 0 || r.startedAt >= runs[i - 1].endedAt);
    checks.push({
        node: "cluster",
        check: "each association ran after the one before had succeeded",
        ok: ordered && runs.length === chain.length,
        detail: runs
            .map(
                (r) =>
                    `${runLabel(r)} ${new Date(r.startedAt).toISOString().slice(11, 19)}-${new Date(r.endedAt).toISOString().slice(11, 19)}`,
            )
            .join(", "),
    });

    // The kubeadm steps, in order: plan and apply on master-0, then upgrade node on each other master in turn.
    const calls = masters.map(([slot, n]) => ({ slot, calls: kubeadmCalls(n, since) }));
    const want = (slot: string) =>
        slot === "master-0" ? [`upgrade plan v${t}`, `upgrade apply v${t} --yes`] : ["upgrade node"];
    let prevEnd = 0;
    for (const { slot, calls: cs } of calls) {
        const starts = cs.filter((x) => x.what === "start");
        const ends = cs.filter((x) => x.what === "end");
        const ok =
            JSON.stringify(starts.map((x) => x.args)) === JSON.stringify(want(slot)) &&
            starts.every((x) => x.version === `v${t}`) &&
            starts[0]?.at >= prevEnd;
        checks.push({
            node: slot,
            check: `kubeadm (v${t}) ran ${want(slot).join(", then ")}, after the master before it had finished`,
            ok,
            detail:
                cs
                    .map(
                        (x) =>
                            `${x.what} ${x.args} (${x.version}) ${new Date(x.at).toISOString().slice(11, 23)}`,
                    )
                    .join("; ") || "no kubeadm call",
        });
        prevEnd = Math.max(prevEnd, ...ends.map((x) => x.at));
    }

    // etcd's history: the cluster's version recorded by master-0's apply before the others' API servers moved.
    const events = await history(c, m0);
    const cfgRev = events.find(
        (e) =>
            e.rev >= fromRev &&
            e.key === "/registry/configmaps/kube-system/kubeadm-config" &&
            String(e.value?.ClusterConfiguration ?? "").includes(`kubernetesVersion: v${t}`),
    )?.rev;
    const apiRev = masters.map(([slot, n]) => ({
        slot,
        rev: events.find(
            (e) =>
                e.rev >= fromRev &&
                e.key === `/registry/lab/apiservers/${n.ip}` &&
                e.value?.version === `v${t}`,
        )?.rev,
    }));
    const apiOk =
        cfgRev !== undefined &&
        apiRev.every(
            (a, i) =>
                a.rev !== undefined &&
                (i === 0 ? a.rev < cfgRev : a.rev > cfgRev && a.rev > apiRev[i - 1].rev!),
        );
    checks.push({
        node: "cluster",
        check: `API servers at v${t} one master at a time: master-0's before kubeadm-config says v${t}, each other after it and after the one before`,
        ok: apiOk,
        detail: `kubeadm-config at revision ${cfgRev}; ${apiRev.map((a) => `${a.slot} at ${a.rev}`).join(", ")}`,
    });

    const kube = c.lab.o.hub.requests;
    for (const [slot, n] of masters) {
        const s = nodeSteps(events, n.nodeName, t, fromRev);
        const kubeletDeb = kube.find(
            (q) => q.node === n.name && q.at >= since && q.what.endsWith(`/kubelet_${t}-1.1_amd64.deb`),
        );
        checks.push({
            node: slot,
            check: "drained before its kubelet was upgraded, uncordoned after it reported the target",
            ok:
                s.cordoned !== undefined &&
                s.kubeletAtTarget !== undefined &&
                s.uncordoned !== undefined &&
                s.cordoned < s.kubeletAtTarget &&
                s.kubeletAtTarget < s.uncordoned &&
                !!kubeletDeb &&
                s.cordonedAt !== undefined &&
                s.cordonedAt <= kubeletDeb.at,
            detail: `cordoned at revision ${s.cordoned} (${s.cordonedAt ? new Date(s.cordonedAt).toISOString().slice(11, 23) : "?"}), kubelet .deb fetched ${kubeletDeb ? new Date(kubeletDeb.at).toISOString().slice(11, 23) : "never"}, kubelet v${t} at ${s.kubeletAtTarget}, uncordoned at ${s.uncordoned}`,
        });
        const pkgs = (
            await c.lab.execAsync(n, [
                "dpkg-query",
                "-W",
                "-f=${Package}=${Version} ",
                "kubeadm",
                "kubelet",
                "kubectl",
            ])
        ).stdout.trim();
        const holds = (await c.lab.execAsync(n, ["apt-mark", "showhold"])).stdout.split("\n").filter(Boolean);
        const list = (
            await c.lab.execAsync(n, ["cat", "/etc/apt/sources.list.d/kubernetes.list"])
        ).stdout.trim();
        const served = ["kubeadm", "kubelet", "kubectl"].filter((p) =>
            kube.some(
                (q) =>
                    q.node === n.name &&
                    q.at >= since &&
                    q.status === 200 &&
                    q.what.startsWith(`/core:/stable:/v${series}/deb/`) &&
                    q.what.endsWith(`/${p}_${t}-1.1_amd64.deb`),
            ),
        );
        checks.push({
            node: slot,
            check: `kube packages at ${t}-1.1 and held, from pkgs.k8s.io's v${series} repository`,
            ok:
                ["kubeadm", "kubelet", "kubectl"].every(
                    (p) => pkgs.includes(`${p}=${t}-1.1`) && holds.includes(p),
                ) &&
                served.length === 3 &&
                list.includes(`/core:/stable:/v${series}/deb/`),
            detail: `${pkgs}; held: ${holds.join(",")}; fetched from v${series}: ${served.join(",") || "none"}; ${list}`,
        });
        const rec = record(c, slot);
        const states = (rec?.history ?? []).filter((x) => x.at >= since).map((x) => x.value?.split(" ")[0]);
        checks.push({
            node: slot,
            check: `reported upgrading, then upgraded ${t}, to SSM with its own role`,
            ok:
                rec?.writtenBy === n.name &&
                new RegExp(`^upgraded \\S+ ${t.replace(/\./g, "\\.")} `).test(rec.value) &&
                states.join(",") === "upgrading,control-plane-upgraded,upgrading,upgraded",
            detail: rec ? `${rec.value} (by ${rec.writtenBy}; ${states.join(" -> ")})` : "no report",
        });
    }

    const skew = skewViolations(
        events,
        masters.map(([, n]) => n.ip),
        masters.map(([, n]) => n.nodeName),
        fromRev,
    );
    checks.push({
        node: "cluster",
        check: "version skew policy at every revision: API servers within one minor, no kubelet newer than the oldest API server",
        ok: skew.length === 0,
        detail: skew.join("; ") || `held over ${events.filter((e) => e.rev >= fromRev).length} changes`,
    });

    for (const [slot, n] of masters) {
        const ver = await LabCluster.get(n.ip, 6443, "/version", c.secrets["ca-crt"], c.plan.apiName);
        const last = [...events].reverse().find((e) => e.key === `/registry/minions/${n.nodeName}`)?.value;
        checks.push({
            node: slot,
            check: `API server serves v${t}; Node Ready, schedulable, kubelet v${t}`,
            ok:
                "status" in ver &&
                JSON.parse(ver.body).gitVersion === `v${t}` &&
                last?.ready === "True" &&
                last?.unschedulable !== true &&
                last?.kubeletVersion === `v${t}`,
            detail: `${"status" in ver ? ver.body.trim() : ver.error}; Node ${JSON.stringify({ ready: last?.ready, unschedulable: last?.unschedulable, kubelet: last?.kubeletVersion })}`,
        });
    }
    checks.push(
        ...(await h.clusterHealth(c, masters.length, [])).filter((x) => !x.check.startsWith("every node")),
    );

    // A rerun of the chain (a later `pulumi up` replacing the associations) changes nothing.
    const again = Date.now();
    const againRev = await revision(c, m0);
    const reruns = await runChain(c, document, chain);
    const noop = reruns.every((r) => r.output.includes(`already runs ${t}: nothing to do`));
    const after = await history(c, m0);
    const moved = masters
        .filter(([, n]) => {
            const s = nodeSteps(after, n.nodeName, t, againRev);
            return s.cordoned !== undefined;
        })
        .map(([s]) => s);
    const calledAgain = masters.filter(([, n]) => kubeadmCalls(n, again).length > 0).map(([s]) => s);
    const fetched = kube.filter(
        (q) => q.at >= again && q.what.endsWith(".deb") && masters.some(([, n]) => n.name === q.node),
    );
    checks.push({
        node: "cluster",
        check: `a rerun of the chain is a no-op ("already runs ${t}")`,
        ok:
            reruns.length === chain.length &&
            reruns.every((r) => r.status === "Success") &&
            noop &&
            !moved.length &&
            !calledAgain.length &&
            !fetched.length,
        detail: `${reruns.map((r) => `${runLabel(r)}:${r.status}`).join(" ")}; "already runs" in ${reruns.filter((r) => r.output.includes("already runs")).length}; cordoned: ${moved.join(",") || "none"}; kubeadm: ${calledAgain.join(",") || "none"}; .debs: ${fetched.length}`,
    });

    // The pools' new launch template: a worker at the target joins the upgraded cluster.
    const inst = shapeInstances(bumped, "prod").find((i) => i.kind === "worker")!;
    const w = await h.bootAndCheck(c, [{ inst, label: "w-upgraded" }], 1_200_000);
    const reg = (await h.clusterHealth(c, masters.length, ["w-upgraded"])).filter((x) =>
        x.check.startsWith("every node"),
    );
    checks.push(...w.checks, ...reg, ...h.bootstrapReports(c, ["w-upgraded"]));
    for (const n of w.nodes) await c.lab.kill(n);
    return { ...h.summarize(checks, w.timedOut), nodes: [...masters.map(([, n]) => n.name), "w-upgraded"] };
}
