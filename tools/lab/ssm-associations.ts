// SSM State Manager as the upgrade uses it, emulated against lab nodes (tools/lab/README.md, "Upgrade"):
// the Command document the program registers, one association per master with the program's parameters,
// chained as `pulumi up` creates them: each waits for its run's Success before the next is created, and a
// failed run fails `pulumi up` there. One run: SSM validates and substitutes the parameters
// (./upgrade.ts runShellSteps), the agent writes each step's runCommand to
// /var/lib/amazon/ssm/<instance>/document/orchestration/<command id>/<step>/_script.sh and runs it with
// `sh -c` as root in its own environment (PATH, AWS_SSM_INSTANCE_ID, AWS_SSM_REGION_NAME), within the
// step's timeoutSeconds; exit 0 is Success, anything else Failed.
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderUpgradeDocument } from "../../components/cluster/render/upgrade";
import { LabCluster } from "./cluster";
import { LabNode } from "./lab";
import type { PlannedStage } from "./stage";
import { runShellSteps } from "./upgrade";

/** One association's run on its master. */
export interface AssociationRun {
    readonly slot: string;
    readonly node: string;
    readonly parameters: Readonly<Record<string, string>>;
    readonly status: "Success" | "Failed" | "TimedOut" | "InvalidParameters";
    readonly exitCode: number;
    readonly output: string;
    readonly startedAt: number;
    readonly endedAt: number;
}

/** The document and the chain's parameters: the plan's when the program registers them, else rendered as it does. */
export function upgradeChain(
    plan: PlannedStage,
    version: string,
): { document: string; chain: Record<string, string>[]; source: string } {
    const masters = plan.instances.filter((i) => i.kind === "master").length;
    const fromPlan = plan.upgradeAssociations.map((a) => ({ ...a.parameters, version }));
    if (plan.upgradeDocument && fromPlan.length)
        return {
            document: plan.upgradeDocument,
            chain: fromPlan,
            source: "the plan's document and associations",
        };
    const marker = [...plan.parameters.keys()].find((n) => n.endsWith("/state/initialised"));
    if (!marker) throw new Error("upgrade: the plan has no <prefix>/state/initialised parameter");
    const ssmPrefix = marker.slice(0, -"/state/initialised".length);
    return {
        document: renderUpgradeDocument({ region: plan.region, ssmPrefix, masters }),
        // Every master's control plane, then every master's kubelet (components/cluster/upgrade.ts).
        chain: ["control-plane", "kubelet"].flatMap((phase) =>
            [...Array(masters).keys()].map((i) => ({
                version,
                slot: `master-${i}`,
                first: i === 0 ? "yes" : "no",
                phase,
            })),
        ),
        source: `renderUpgradeDocument({ region: "${plan.region}", ssmPrefix: "${ssmPrefix}", masters: ${masters} }) (as components/cluster/upgrade.ts calls it; the plan registers no document)`,
    };
}

/** The live master of each slot (`master-1-new` replaced `master-1`): the association's target. */
export function slotMasters(c: LabCluster): Map<string, LabNode> {
    const out = new Map<number, LabNode>();
    for (const [label, n] of c.booted) {
        const m = /^master-(\d+)(?:-|$)/.exec(label);
        if (m && !n.exited) out.set(Number(m[1]), n);
    }
    return new Map([...out].sort(([a], [b]) => a - b).map(([i, n]) => [`master-${i}`, n]));
}

/** Runs one association on `node`, as State Manager and the SSM agent do; the output is also saved in the lab's dir. */
export async function runAssociation(
    c: LabCluster,
    node: LabNode,
    document: string,
    parameters: Readonly<Record<string, string>>,
): Promise<AssociationRun> {
    const startedAt = Date.now();
    const base = { slot: parameters.slot ?? "", node: node.name, parameters, startedAt };
    let steps;
    try {
        steps = runShellSteps(document, parameters);
    } catch (e) {
        return {
            ...base,
            status: "InvalidParameters",
            exitCode: -1,
            output: String((e as Error).message),
            endedAt: Date.now(),
        };
    }
    const instance = c.lab.o.hub.identities.get(node.ip)?.instanceId ?? "i-unknown";
    const commandId = randomUUID();
    let output = "";
    let exitCode = 0;
    let status: AssociationRun["status"] = "Success";
    for (const step of steps) {
        const dir = path.join(c.lab.opt, "state", "ssm", commandId, step.name);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "_script.sh"), step.script);
        const orchestration = `/var/lib/amazon/ssm/${instance}/document/orchestration/${commandId}/${step.name}`;
        const r = await c.lab.execAsync(
            node,
            [
                "bash",
                "-c",
                'install -d -m 0700 "$1" && install -m 0700 "$2" "$1/_script.sh" && cd "$1" && ' +
                    "exec env -i PATH=/opt/keelson-lab/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 " +
                    'AWS_SSM_INSTANCE_ID="$3" AWS_SSM_REGION_NAME="$4" sh -c "$1/_script.sh"',
                "-",
                orchestration,
                `/opt/keelson-lab/state/ssm/${commandId}/${step.name}/_script.sh`,
                instance,
                c.plan.region,
            ],
            step.timeoutSeconds * 1000,
        );
        output += r.stdout + r.stderr;
        exitCode = r.code;
        if (r.code !== 0) {
            status =
                r.code === 124 && Date.now() - startedAt >= step.timeoutSeconds * 1000
                    ? "TimedOut"
                    : "Failed";
            break;
        }
    }
    fs.writeFileSync(path.join(c.lab.o.dir, `ssm-${node.name}-${parameters.slot}-${commandId}.log`), output);
    c.lab.o.log(
        `lab: association ${parameters.slot} on ${node.name}: ${status} (exit ${exitCode}, ${Math.round((Date.now() - startedAt) / 1000)}s)`,
    );
    return { ...base, status, exitCode, output, endedAt: Date.now() };
}

/**
 * The chain as `pulumi up` creates it: each association after the one before succeeded, stopping at the
 * first that does not.
 */
export async function runChain(
    c: LabCluster,
    document: string,
    chain: readonly Record<string, string>[],
): Promise<AssociationRun[]> {
    const masters = slotMasters(c);
    const runs: AssociationRun[] = [];
    for (const parameters of chain) {
        const node = masters.get(parameters.slot);
        if (!node) throw new Error(`upgrade: no live master in slot ${parameters.slot}`);
        const r = await runAssociation(c, node, document, parameters);
        runs.push(r);
        if (r.status !== "Success") break;
    }
    return runs;
}

/** The document with its script edited (a guard's proof: the same run against a copy without the check). */
export function editScript(document: string, edit: (script: string) => string): string {
    const doc = JSON.parse(document) as { mainSteps: { inputs: { runCommand: string[] } }[] };
    const lines = doc.mainSteps[0].inputs.runCommand;
    const start = 1;
    const end = lines.indexOf("KEELSON_UPGRADE_SCRIPT");
    const script = lines.slice(start, end).join("\n");
    const edited = edit(script);
    if (edited === script)
        throw new Error("upgrade: the edit changed nothing in the script (its pattern is stale)");
    doc.mainSteps[0].inputs.runCommand = [lines[0], ...edited.split("\n"), ...lines.slice(end)];
    return JSON.stringify(doc, null, 2);
}
