// The upgrade rehearsal's pure parts (tools/lab/upgrade-scenarios.ts runs them): the versions it goes
// between, what SSM Run Command makes of a Command document and its parameters, and the judges that read
// etcd's revision history (the lab's ordered record of what the API servers, kubelets and drains did).
import { LATEST_PATCH } from "../../components/core/kubernetes-versions";

/** The versions of a rehearsal from the pinned `1.N.P`: the next minor's and the one after's latest patches. */
export function upgradeVersions(from: string): { from: string; target: string; skip: string } {
    const m = /^1\.(\d+)\.\d+$/.exec(from);
    if (!m) throw new Error(`upgrade: unexpected version ${from}`);
    const minor = Number(m[1]);
    const latest = (n: number) => {
        const p = LATEST_PATCH[n];
        if (p === undefined) throw new Error(`upgrade: no released 1.${n} in LATEST_PATCH`);
        return `1.${n}.${p}`;
    };
    return { from, target: latest(minor + 1), skip: latest(minor + 2) };
}

/** One declared parameter of a Command document (the fields Keelson's use). */
interface DocumentParameter {
    readonly type: string;
    readonly default?: string;
    readonly allowedPattern?: string;
    readonly allowedValues?: readonly string[];
}

/** What an SSM agent runs for one `aws:runShellScript` step. */
export interface ShellStep {
    readonly name: string;
    /** The runCommand lines, parameters substituted, joined with newlines: the agent's `_script.sh`. */
    readonly script: string;
    readonly timeoutSeconds: number;
}

/**
 * SSM Run Command's handling of a schemaVersion 2.2 Command document (what State Manager does for an
 * association before the agent gets it): every parameter given must be declared, every declared one without
 * a default given; a String must match its `allowedPattern` and be one of its `allowedValues`; then
 * `{{ name }}` (spaces optional) is replaced by the value wherever it occurs in the step's inputs. Each
 * `aws:runShellScript` step's runCommand lines become one script that the agent runs with `sh -c` as root
 * (amazon-ssm-agent agent/plugins/runscript/runshellscript.go: `_script.sh`, ShellCommand `sh`, ShellArgs
 * `-c`); timeoutSeconds defaults to 3600. Throws SSM's `InvalidParameters` or `InvalidDocument` message.
 * Not modelled: other actions, preconditions, `{{ssm:...}}` references, other parameter types.
 */
export function runShellSteps(documentJson: string, given: Readonly<Record<string, string>>): ShellStep[] {
    const doc = JSON.parse(documentJson) as {
        schemaVersion?: string;
        parameters?: Record<string, DocumentParameter>;
        mainSteps?: {
            action: string;
            name: string;
            inputs: { runCommand?: string[]; timeoutSeconds?: string };
        }[];
    };
    if (doc.schemaVersion !== "2.2")
        throw new Error(`InvalidDocument: schemaVersion ${doc.schemaVersion} (the lab models 2.2)`);
    const declared = doc.parameters ?? {};
    const values: Record<string, string> = {};
    for (const name of Object.keys(given))
        if (!(name in declared))
            throw new Error(`InvalidParameters: Parameter "${name}" is not declared in the document`);
    for (const [name, p] of Object.entries(declared)) {
        if (p.type !== "String")
            throw new Error(`InvalidDocument: parameter ${name} of type ${p.type} (the lab models String)`);
        const v = given[name] ?? p.default;
        if (v === undefined) throw new Error(`InvalidParameters: Parameter "${name}" is required`);
        if (p.allowedPattern !== undefined && !new RegExp(p.allowedPattern).test(v))
            throw new Error(
                `InvalidParameters: Parameter "${name}" "${v}" failed to satisfy constraint: allowedPattern ${p.allowedPattern}`,
            );
        if (p.allowedValues && !p.allowedValues.includes(v))
            throw new Error(
                `InvalidParameters: Parameter "${name}" "${v}" failed to satisfy constraint: allowedValues [${p.allowedValues.join(", ")}]`,
            );
        values[name] = v;
    }
    const substitute = (line: string) =>
        line.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (whole, n: string) =>
            n in values ? values[n] : whole,
        );
    return (doc.mainSteps ?? []).map((s) => {
        if (s.action !== "aws:runShellScript")
            throw new Error(
                `InvalidDocument: step ${s.name}: action ${s.action} (the lab models aws:runShellScript)`,
            );
        return {
            name: s.name,
            script: (s.inputs.runCommand ?? []).map(substitute).join("\n") + "\n",
            timeoutSeconds: Number(s.inputs.timeoutSeconds ?? "3600"),
        };
    });
}

/** One change of a key in etcd, in revision order. */
export interface EtcdEvent {
    readonly rev: number;
    readonly key: string;
    readonly type: "PUT" | "DELETE";
    /** The value parsed as JSON (the stubs store JSON), undefined for a delete. */
    readonly value?: Record<string, unknown>;
}

/** `etcdctl watch --prefix … --rev 1 -w json` output (one JSON response a line) as events. */
export function parseWatch(output: string): EtcdEvent[] {
    const out: EtcdEvent[] = [];
    for (const line of output.split("\n")) {
        if (!line.trim().startsWith("{")) continue;
        const r = JSON.parse(line) as {
            Events?: { type?: number; kv: { key: string; value?: string; mod_revision: number } }[];
        };
        for (const e of r.Events ?? []) {
            const key = Buffer.from(e.kv.key, "base64").toString();
            const raw = e.kv.value ? Buffer.from(e.kv.value, "base64").toString() : "";
            let value: Record<string, unknown> | undefined;
            try {
                value = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
            } catch {
                value = undefined;
            }
            out.push({ rev: e.kv.mod_revision, key, type: e.type === 1 ? "DELETE" : "PUT", value });
        }
    }
    return out.sort((a, b) => a.rev - b.rev);
}

function minorOf(v: string): number | undefined {
    const m = /^v?1\.(\d+)\./.exec(v);
    return m ? Number(m[1]) : undefined;
}

/**
 * The version-skew policy (kubernetes.io/releases/version-skew-policy) at every revision from `fromRev`:
 * the API servers (their records `/registry/lab/apiservers/<address>`, of the given live addresses) within
 * one minor of each other, and no kubelet (its Node's `kubeletVersion`, of the given live nodes) newer
 * than the oldest API server, nor more than three minors older. Returns each violation once, with the
 * revision where it began.
 */
export function skewViolations(
    events: readonly EtcdEvent[],
    apiservers: readonly string[],
    nodes: readonly string[],
    fromRev: number,
): string[] {
    const api = new Map<string, string>();
    const kubelet = new Map<string, string>();
    const seen = new Set<string>();
    const out: string[] = [];
    for (const e of events) {
        const a = /^\/registry\/lab\/apiservers\/(.+)$/.exec(e.key)?.[1];
        const n = /^\/registry\/minions\/(.+)$/.exec(e.key)?.[1];
        if (a && apiservers.includes(a) && e.value) api.set(a, String(e.value.version));
        else if (n && nodes.includes(n)) {
            if (e.type === "DELETE") kubelet.delete(n);
            else if (e.value?.kubeletVersion) kubelet.set(n, String(e.value.kubeletVersion));
        } else continue;
        if (e.rev < fromRev) continue;
        const minors = [...api.values()].map(minorOf).filter((m): m is number => m !== undefined);
        if (!minors.length) continue;
        const oldest = Math.min(...minors);
        const problems: string[] = [];
        if (Math.max(...minors) - oldest > 1)
            problems.push(
                `API servers more than one minor apart: ${[...api].map(([k, v]) => `${k} ${v}`).join(", ")}`,
            );
        for (const [node, v] of kubelet) {
            const m = minorOf(v);
            if (m === undefined) continue;
            if (m > oldest)
                problems.push(
                    `kubelet ${node} ${v} is newer than the oldest API server (${[...api]
                        .filter(([, x]) => minorOf(x) === oldest)
                        .map(([k, x]) => `${k} ${x}`)
                        .join(", ")})`,
                );
            if (m < oldest - 3)
                problems.push(`kubelet ${node} ${v} is more than three minors older than the API servers`);
        }
        for (const p of problems)
            if (!seen.has(p)) {
                seen.add(p);
                out.push(`revision ${e.rev}: ${p}`);
            }
    }
    return out;
}

/** A Node's changes (from its `/registry/minions/<name>` revisions): cordon, kubelet version, uncordon. */
export interface NodeSteps {
    readonly cordoned?: number;
    readonly kubeletAtTarget?: number;
    readonly uncordoned?: number;
    /** The time (ms) of the cordon, as the API server stamped it. */
    readonly cordonedAt?: number;
}

/**
 * When, from revision `fromRev`, the Node was first cordoned, first reported the target kubelet version,
 * and then uncordoned (each a revision; undefined when it did not happen in that order).
 */
export function nodeSteps(
    events: readonly EtcdEvent[],
    name: string,
    target: string,
    fromRev: number,
): NodeSteps {
    let cordoned: number | undefined;
    let cordonedAt: number | undefined;
    let kubeletAtTarget: number | undefined;
    let uncordoned: number | undefined;
    let wasCordoned = false;
    for (const e of events) {
        if (e.key !== `/registry/minions/${name}` || !e.value) continue;
        const un = e.value.unschedulable === true;
        if (e.rev >= fromRev) {
            if (un && !wasCordoned && cordoned === undefined) {
                cordoned = e.rev;
                cordonedAt = typeof e.value.changedAt === "number" ? e.value.changedAt * 1000 : undefined;
            }
            if (e.value.kubeletVersion === `v${target}` && kubeletAtTarget === undefined)
                kubeletAtTarget = e.rev;
            if (!un && wasCordoned && kubeletAtTarget !== undefined && uncordoned === undefined)
                uncordoned = e.rev;
        }
        wasCordoned = un;
    }
    return { cordoned, kubeletAtTarget, uncordoned, cordonedAt };
}

/** The copies of the skip and etcd guards also stop before their first change, so the cluster is as it was after them. */
const haltAtKubeadm = (s: string) =>
    s.replace(
        /^( {4}STEP=kubeadm\n) {4}kubernetes_repository$/m,
        '$1    fail "lab: the copy without the check went past preflight"',
    );

/** Each guard scenario's copy of the upgrade script without its check (its proof, as the breaks'). */
export const UNGUARDED: Readonly<
    Record<"upgrade-skip" | "upgrade-unhealthy" | "upgrade-stops", (script: string) => string>
> = {
    "upgrade-skip": (s) =>
        haltAtKubeadm(
            s.replace(
                /^ +problem="\$\(version_problem "\$from" "\$TARGET"\)"\n +\[\[ -z "\$problem" \]\] \|\| fail "\$problem"$/m,
                "        :",
            ),
        ),
    "upgrade-unhealthy": (s) =>
        haltAtKubeadm(
            s.replace(
                /^ +retry "\$attempts" "\$INTERVAL" "every etcd member is healthy" etcd_healthy \|\|\n +fail "an etcd member is unhealthy \(etcdctl endpoint health --cluster\)"$/m,
                "    :",
            ),
        ),
    "upgrade-stops": (s) =>
        s.replace(
            /^ +retry "\$HEALTH_ATTEMPTS" "\$INTERVAL" "Node \$KUBE_NODE_NAME Ready at v\$TARGET" node_ready_at_target \|\|\n +fail "Node .*; it stays cordoned"$/m,
            "    :",
        ),
};
