// What the upgrade rehearsal reads from the lab (tools/lab/upgrade-run.ts, upgrade-scenarios.ts): etcd's
// revision history, the masters' state to compare, their kubeadm invocations and SSM reports.
import * as fs from "fs";
import * as path from "path";
import { upgradeRecord } from "../../components/cluster/render/upgrade";
import { Check, ETCDCTL } from "./checks";
import { LabCluster } from "./cluster";
import { LabNode } from "./lab";
import type { Outcome } from "./scenarios";
import { AssociationRun, slotMasters } from "./ssm-associations";
import type { LabClusterOverrides, PlannedInstance, PlannedStage } from "./stage";
import { EtcdEvent, parseWatch } from "./upgrade";

/** What the scenarios module lends (no import cycle). */
export interface UpgradeHelpers {
    /** The stage's plan, with keys of its `keelson:cluster` overridden. */
    readonly plan: (stage: string, overrides?: LabClusterOverrides) => Promise<PlannedStage>;
    readonly bootAndCheck: (
        c: LabCluster,
        insts: { inst: PlannedInstance; label?: string }[],
        timeoutMs: number,
    ) => Promise<{ nodes: LabNode[]; checks: Check[]; timedOut: string[] }>;
    readonly clusterHealth: (c: LabCluster, wantMembers: number, wantNodes: string[]) => Promise<Check[]>;
    readonly bootstrapReports: (c: LabCluster, labels: string[]) => Check[];
    readonly summarize: (checks: Check[], timedOut: string[]) => Outcome;
}

export const etcdctl = (c: LabCluster, node: LabNode, ...args: string[]) =>
    c.lab.execAsync(node, [...ETCDCTL, "--endpoints=https://127.0.0.1:2379", ...args], 30000);

export async function revision(c: LabCluster, node: LabNode): Promise<number> {
    const r = await etcdctl(c, node, "endpoint", "status", "-w", "json");
    return Number(
        (JSON.parse(r.stdout) as { Status: { header: { revision: number } } }[])[0].Status.header.revision,
    );
}

/** Every change under /registry/ since revision 1 (etcd keeps them: nothing compacts the lab's etcd). */
export async function history(c: LabCluster, node: LabNode): Promise<EtcdEvent[]> {
    const r = await c.lab.execAsync(
        node,
        [
            "timeout",
            "8",
            ...ETCDCTL.map((a) => a.replace("--command-timeout=5s", "--command-timeout=8s")),
            "--endpoints=https://127.0.0.1:2379",
            "watch",
            "--prefix",
            "/registry/",
            "--rev=1",
            "-w",
            "json",
        ],
        20000,
    );
    return parseWatch(r.stdout);
}

/** What an upgrade changes on a master, to compare before and after a refused one. */
export async function snapshot(c: LabCluster): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    // Every Node is read through the first master's etcd member: a scenario may have stopped another's.
    const first = [...slotMasters(c).values()][0];
    for (const [slot, m] of slotMasters(c)) {
        const r = await c.lab.execAsync(m, [
            "bash",
            "-c",
            'dpkg-query -W -f="${Package}=${Version}\\n" kubeadm kubelet kubectl; apt-mark showhold; ' +
                "cat /etc/apt/sources.list.d/kubernetes.list; grep -h 'image:' /etc/kubernetes/manifests/*.yaml",
        ]);
        const node = await etcdctl(c, first, "get", `/registry/minions/${m.nodeName}`, "--print-value-only");
        const n = JSON.parse(node.stdout || "{}") as Record<string, unknown>;
        out.set(
            slot,
            `${r.stdout.trim().replace(/\n/g, "; ")}; Node unschedulable=${n.unschedulable ?? false} kubelet=${n.kubeletVersion}`,
        );
    }
    const cm = await etcdctl(
        c,
        first,
        "get",
        "/registry/configmaps/kube-system/kubeadm-config",
        "--print-value-only",
    );
    const cfg = /kubernetesVersion: (\S+)/.exec(
        (JSON.parse(cm.stdout || "{}") as { ClusterConfiguration?: string }).ClusterConfiguration ?? "",
    );
    out.set("kubeadm-config", cfg?.[1] ?? "missing");
    return out;
}

export function unchanged(before: Map<string, string>, after: Map<string, string>): Check {
    const diff = [...before]
        .filter(([k, v]) => after.get(k) !== v)
        .map(([k, v]) => `${k}: ${v} -> ${after.get(k)}`);
    return {
        node: "cluster",
        check: "nothing changed on any master (kube packages, holds, repository, manifests, Node, kubeadm-config)",
        ok: diff.length === 0,
        detail: diff.join(" | ") || [...after].map(([k, v]) => `${k}: ${v}`).join(" | "),
    };
}

export function record(c: LabCluster, slot: string) {
    return [...c.lab.o.hub.parameters].find(([n]) => n.endsWith(`/state/${upgradeRecord(slot)}`))?.[1];
}

/** The kubeadm invocations a node's stub logged since `since` (ms): `<time> <version> start|end <args>`. */
export function kubeadmCalls(
    node: LabNode,
    since: number,
): { at: number; version: string; what: string; args: string }[] {
    const f = path.join(node.state, "upper", "var/log/keelson-lab/kubeadm.log");
    if (!fs.existsSync(f)) return [];
    return fs
        .readFileSync(f, "utf8")
        .split("\n")
        .map((l) => /^(\S+) (\S+) (start|end) (.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => !!m && Number(m[1]) * 1000 >= since)
        .map((m) => ({ at: Number(m[1]) * 1000, version: m[2], what: m[3], args: m[4] }));
}

export function runsCheck(runs: AssociationRun[], want: string): Check {
    const got = runs.map((r) => `${runLabel(r)}:${r.status}`).join(" ");
    return {
        node: "cluster",
        check: `the association chain: ${want}`,
        ok: got === want,
        detail: got || "no run",
    };
}

/** The version the plan pins (`1.33.4`). */
export function pinnedOf(c: LabCluster): string {
    const m = c.plan.instances.find((i) => i.kind === "master")!;
    return /^\s*readonly PKG_VERSION='([^']+)'/m.exec(m.userData)![1].replace(/-.*$/, "");
}

/** `master-1/kubelet`: an association's slot and phase. */
export function runLabel(r: AssociationRun): string {
    return r.parameters.phase ? `${r.slot}/${r.parameters.phase}` : r.slot;
}
