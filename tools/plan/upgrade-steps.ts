// A version bump as `--diff` shows it: the cluster's upgrade as its steps, in the order `pulumi up` runs them
// (components/cluster/upgrade.ts), and the version rule's verdict on the change.
//
// The order comes from the new plan's dependencies: a step runs once every step it depends on (transitively)
// has finished, so steps are numbered by the longest chain of changed resources before them from the
// version guard, and steps with the same number run together.
import { upgradeProblem } from "../../components/cluster/render/upgrade";
import { PlanDiff, PlanJson, PlanJsonResource } from "./diff";

/** The guard resource's type (components/cluster/upgrade.ts ClusterVersion). */
export const VERSION_TYPE = "pulumi-nodejs:dynamic/keelson:ClusterVersion";

/** One step of an upgrade. */
export interface UpgradeStep {
    /** 1-based; steps with the same number run at the same time. */
    readonly order: number;
    readonly urn: string;
    /** What the step does, in words. */
    readonly text: string;
}

/** A version change of one cluster between two plans. */
export interface UpgradePlan {
    /** The cluster component's name (the guard's, `<name>-version`, without `-version`). */
    readonly cluster: string;
    readonly from: string;
    readonly to: string;
    /** Why the change is refused (the same message `pulumi preview` prints), or undefined. */
    readonly problem?: string;
    readonly steps: readonly UpgradeStep[];
}

const str = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

function describe(
    r: PlanJsonResource,
    to: string,
    byUrn: Map<string, PlanJsonResource>,
    plan: PlanJson,
): string {
    const inputs = r.inputs;
    if (r.type === "aws:ssm/association:Association") {
        const p = (inputs.parameters ?? {}) as Record<string, string>;
        // A plain master's association depends on its instance; a master slot's on its group of one.
        const deps = (r.dependencies ?? []).map((u) => byUrn.get(u));
        const instance = deps.find((d) => d?.type === "aws:ec2/instance:Instance");
        const slot = deps.find(
            (d) => d?.type === "aws:autoscaling/group:Group" || d?.type === "keelson:cluster:MasterSlot",
        );
        const via = `(SSM association ${str(inputs.associationName)}, waited for up to ${str(inputs.waitForSuccessTimeoutSeconds)} s)`;
        const target = instance?.name ?? (slot ? `the instance of group ${slot.name}` : "its instance");
        const where = `${p.slot} (${target})`;
        if (p.phase === "kubelet") {
            return `${where} kubelet: every API server at v${to}, drain, kubelet and kubectl ${to}, Ready at v${to}, uncordon ${via}`;
        }
        const kubeadm =
            p.first === "yes"
                ? `kubeadm upgrade plan and kubeadm upgrade apply v${to}`
                : "kubeadm upgrade node (after the first master's apply)";
        return `${where} control plane: etcd and the API healthy, kubeadm ${to}, ${kubeadm} ${via}`;
    }
    if (r.type === "aws:ec2/launchTemplate:LaunchTemplate") {
        const group = plan.resources.find(
            (g) => g.type === "aws:autoscaling/group:Group" && (g.dependencies ?? []).includes(r.urn),
        );
        return (
            `pool ${r.name}: its launch template's new kubelet (${to}) rolls Auto Scaling Group ${group?.name ?? r.name} ` +
            "by instance refresh, one node at a time, each drained before it terminates"
        );
    }
    if (r.type.startsWith("kubernetes:helm.sh/") && r.name.endsWith("-cloud-controller")) {
        const tag = ((inputs.values as { image?: { tag?: string } } | undefined)?.image?.tag ??
            "?") as string;
        return `cloud controller: aws-cloud-controller-manager ${tag} (never newer than an API server)`;
    }
    return `${r.type} ${r.name}`;
}

/**
 * The upgrade between two plans, one entry per cluster whose version guard changed: the changed resources that
 * depend on the guard (directly or through others), numbered in the order they run.
 */
export function upgradePlans(oldPlan: PlanJson, newPlan: PlanJson, diff: PlanDiff): UpgradePlan[] {
    const before = new Map(oldPlan.resources.map((r) => [r.urn, r]));
    const byUrn = new Map(newPlan.resources.map((r) => [r.urn, r]));
    const changed = new Set(
        [...diff.updated, ...diff.replaced, ...diff.added].map((r) => r.urn).filter((u) => byUrn.has(u)),
    );
    const out: UpgradePlan[] = [];
    for (const guard of newPlan.resources.filter((r) => r.type === VERSION_TYPE)) {
        const old = before.get(guard.urn);
        const from = old?.inputs.version;
        const to = guard.inputs.version;
        if (typeof from !== "string" || typeof to !== "string" || from === to) continue;
        // depth(r): the longest chain of changed resources from the guard to r (0 for the guard); undefined
        // when r does not depend on the guard.
        const depth = new Map<string, number | undefined>();
        const visit = (urn: string, path: Set<string>): number | undefined => {
            if (urn === guard.urn) return 0;
            if (depth.has(urn)) return depth.get(urn);
            if (path.has(urn)) return undefined;
            path.add(urn);
            let best: number | undefined;
            for (const dep of byUrn.get(urn)?.dependencies ?? []) {
                const d = visit(dep, path);
                if (d !== undefined)
                    best = Math.max(best ?? -1, d + (changed.has(dep) && dep !== guard.urn ? 1 : 0));
            }
            path.delete(urn);
            depth.set(urn, best);
            return best;
        };
        const steps = [...changed]
            .filter((u) => u !== guard.urn)
            .map((u) => ({ urn: u, d: visit(u, new Set()) }))
            .filter((s): s is { urn: string; d: number } => s.d !== undefined)
            .sort((a, b) => a.d - b.d || (a.urn < b.urn ? -1 : 1));
        const levels = [...new Set(steps.map((s) => s.d))];
        out.push({
            cluster: guard.name.replace(/-version$/, ""),
            from,
            to,
            problem: upgradeProblem(from, to),
            steps: steps.map((s) => ({
                order: levels.indexOf(s.d) + 1,
                urn: s.urn,
                text: describe(byUrn.get(s.urn)!, to, byUrn, newPlan),
            })),
        });
    }
    return out;
}

/** The upgrades as text lines under the diff. */
export function renderUpgradeText(plans: readonly UpgradePlan[]): string[] {
    const lines: string[] = [];
    for (const u of plans) {
        lines.push(`Upgrade of ${u.cluster}: ${u.from} -> ${u.to}`);
        if (u.problem) {
            lines.push(`  REFUSED: ${u.problem}`);
            continue;
        }
        lines.push("  in this order, each step after the ones before it succeeded (same number: together):");
        for (const s of u.steps) lines.push(`  ${s.order}. ${s.text}`);
    }
    return lines;
}
