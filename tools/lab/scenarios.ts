// The lab's scenarios: each boots nodes from the plan, injects at most one fault, and asserts an
// outcome within a bounded time. Scenarios that fail today because of known bootstrap defects are
// listed in KNOWN_FAILURES with the reason; they still run and print why. Set
// KEELSON_LAB_EXPECT_PASS=all (or a comma-separated list of names) to expect them to pass.
import * as fs from "fs";
import * as path from "path";
import {
    BOOTSTRAP_TOKEN_TTL,
    TOKEN_ROTATE_HOURS,
    TOKEN_ROTATE_TIMER,
} from "../../components/cluster/render/units";
import { Check, checkNode, etcdMembers } from "./checks";
import { LabCluster, shapeInstances } from "./cluster";
import { Hub } from "./hub";
import { Lab, LabNode } from "./lab";
import { buildStubRepositories } from "./packages";
import { makeCa, makeServerCert } from "./pki";
import { BOOTSTRAP_UNIT_LOG, restartChecks } from "./restart";
import { LabRootfs } from "./rootfs";
import type { SsmFault } from "./ssm";
import { replaceInGroup } from "./group";
import { LabClusterOverrides, planForLab, PlannedInstance, PlannedStage } from "./stage";
import { upgradeVersions } from "./upgrade";
import { upgradeScenarios } from "./upgrade-scenarios";

/**
 * Scenarios that fail today, with why (a bootstrap defect or a lab gap); remove an entry once fixed.
 * `master-0-probe-lost` had never run to its end before this: it waited on a log the bootstrap no longer
 * writes to.
 */
export const KNOWN_FAILURES: Record<string, string> = {};

/** Seconds of injected faults are multiplied by this (KEELSON_LAB_TIME_SCALE, default 1: real durations). */
export const TIME_SCALE = Number(process.env.KEELSON_LAB_TIME_SCALE ?? "1");

/** What a scenario run produced. */
export interface ScenarioResult {
    readonly name: string;
    readonly stage: string;
    readonly description: string;
    readonly nodes: string[];
    readonly real: string[];
    readonly stubbed: string[];
    readonly outcome: "pass" | "fail";
    /** pass; known-failure (failed, listed as known); unexpected-pass (listed, but passed: flip the switch); fail. */
    readonly verdict: "pass" | "known-failure" | "unexpected-pass" | "fail";
    readonly detail: string;
    readonly knownFailure?: string;
    readonly seconds: number;
    readonly checks: Check[];
}

export interface Outcome {
    ok: boolean;
    detail: string;
    checks: Check[];
    nodes: string[];
}

/** Shared state of a run: one lab, one cluster per stage. */
export interface Env {
    readonly lab: Lab;
    readonly clusters: Map<string, LabCluster>;
    readonly log: (l: string) => void;
    cluster(stage: string): Promise<LabCluster>;
}

/** One scenario. */
export interface Scenario {
    readonly name: string;
    readonly stage: "dev" | "prod";
    readonly description: string;
    /** Wall-clock budget; past it the scenario fails with "timed out". */
    readonly budgetSeconds: number;
    /** Scenarios with the same group run in parallel (after the ones before them). */
    readonly group?: string;
    readonly run: (env: Env) => Promise<Outcome>;
}

const REAL = [
    "cloud-init 25 (NoCloud, all stages)",
    "apt/dpkg against the lab archive",
    "containerd 1.7",
    "etcd 3.5",
    "awscli",
    "dnsmasq",
    "haproxy NLB",
    "nginx/haproxy edge",
];
const STUBBED = [
    "kubeadm",
    "kubelet",
    "kube-apiserver",
    "IMDS",
    "SSM/KMS",
    "systemd (systemctl)",
    "modprobe/sysctl",
];

function pinnedVersion(inst: PlannedInstance): string {
    return /^\s*readonly PKG_VERSION='([^']+)'/m.exec(inst.userData)?.[1] ?? "";
}

/** Boots instances in parallel and returns their node checks once all finished (or the budget ran out). */
async function bootAndCheck(
    c: LabCluster,
    insts: {
        inst: PlannedInstance;
        label?: string;
        mutate?: (t: string) => string;
        preboot?: string;
        during?: (node: LabNode) => Promise<void>;
    }[],
    timeoutMs: number,
): Promise<{ nodes: LabNode[]; checks: Check[]; timedOut: string[] }> {
    const nodes = insts.map((i) => c.boot(i.inst, i));
    nodes.forEach((n, i) => void insts[i].during?.(n).catch((e) => c.lab.o.log(`lab: ${n.name}: ${e}`)));
    const done = await Promise.all(nodes.map((n) => n.waitBooted(timeoutMs)));
    const timedOut = nodes.filter((_, i) => !done[i]).map((n) => n.name);
    // Checked against what the plan declares, even when a scenario broke the node's user-data.
    const checks = nodes.flatMap((n, i) => {
        const ud = c.userData(insts[i].inst).text;
        return done[i] ? checkNode(c, n, ud, insts[i].inst.kind, pinnedVersion(insts[i].inst)) : [];
    });
    return { nodes, checks, timedOut };
}

function failed(checks: Check[]): Check[] {
    return checks.filter((c) => !c.ok);
}

async function clusterHealth(c: LabCluster, wantMembers: number, wantNodes: string[]): Promise<Check[]> {
    const out: Check[] = [];
    const m0 = c.masters()[0];
    const members = m0 ? etcdMembers(c, m0) : "no live master";
    const healthy = typeof members === "string" ? [] : members.filter((m) => m.healthy);
    out.push({
        node: "cluster",
        check: `etcd has exactly ${wantMembers} healthy members`,
        ok: typeof members !== "string" && members.length === wantMembers && healthy.length === wantMembers,
        detail:
            typeof members === "string"
                ? members
                : members.map((m) => `${m.name}${m.healthy ? "" : " (unreachable)"}`).join(", "),
    });
    const host = c.plan.apiTarget === "nlb" ? "10.77.0.3" : (c.masters()[0]?.ip ?? "");
    const ready = await LabCluster.get(host, 6443, "/readyz", c.secrets["ca-crt"], c.plan.apiName);
    out.push({
        node: "cluster",
        check: `readiness gate: https://${c.plan.apiName}:6443/readyz`,
        ok: "status" in ready && ready.status === 200,
        detail: "status" in ready ? `${ready.status} ${ready.body.trim()}` : ready.error,
    });
    const nodes = await LabCluster.get(host, 6443, "/api/v1/nodes", c.secrets["ca-crt"], c.plan.apiName);
    const names =
        "status" in nodes && nodes.status === 200
            ? (JSON.parse(nodes.body).items as { name: string }[]).map((n) => n.name)
            : [];
    const nodeNames = wantNodes.map((n) => c.booted.get(n)?.nodeName ?? n);
    const missing = nodeNames.filter((h) => !names.includes(h));
    out.push({
        node: "cluster",
        check: `every node registered (${wantNodes.length})`,
        ok: missing.length === 0,
        detail: missing.length
            ? `missing: ${missing.join(", ")}; registered: ${names.join(", ")}`
            : names.join(", "),
    });
    return out;
}

/**
 * Each node's own report in SSM (`<prefix>/state/nodes/<name>`, written by the bootstrap's `report`
 * with the node's role, through the lab's PutParameter): `ready <time> <instance> <node name>`.
 */
function bootstrapReports(c: LabCluster, labels: string[]): Check[] {
    return labels.map((label) => {
        const mine = [...c.lab.o.hub.parameters].filter(
            ([name, p]) => name.includes("/state/nodes/") && p.writtenBy === label,
        );
        const last = mine.map(([name, p]) => `${name.split("/state/nodes/")[1]}: ${p.value}`);
        return {
            node: label,
            check: "reported its bootstrap state to SSM: ready",
            ok: mine.some(([, p]) => /^ready /.test(p.value)),
            detail: last.join("; ") || "no report written",
        };
    });
}

async function edgeAnswers(c: LabCluster, edges: LabNode[]): Promise<Check[]> {
    const host =
        /\(([^)]+)\)/
            .exec([...c.plan.descriptions.values()].find((d) => /certificate chain/.test(d)) ?? "")?.[1]
            .split(/[ ,]+/)[0] ?? "";
    return Promise.all(
        edges.map(async (e) => {
            const r = await LabCluster.get(e.ip, 443, "/", c.labCa.cert, host);
            return {
                node: e.name,
                check: `edge answers HTTPS for ${host} with the rendered certificate`,
                ok: "status" in r && r.status > 0 && r.subject === host,
                detail: "status" in r ? `HTTP ${r.status}, certificate CN=${r.subject}` : r.error,
            };
        }),
    );
}

function summarize(checks: Check[], timedOut: string[]): Outcome {
    const bad = failed(checks);
    const detail = [
        ...timedOut.map((n) => `${n}: cloud-init did not finish in time`),
        ...bad.map((b) => `${b.node}: ${b.check}: ${b.detail}`),
    ];
    return { ok: detail.length === 0, detail: detail.join("\n") || "all checks passed", checks, nodes: [] };
}

const bootShape =
    (shape: "dev" | "prod"): Scenario["run"] =>
    async (env) => {
        const c = await env.cluster(shape);
        const insts = shapeInstances(c.plan, shape);
        const r = await bootAndCheck(
            c,
            insts.map((inst) => ({ inst })),
            900_000,
        );
        const k8s = insts.filter((i) => i.kind !== "edge").map((i) => i.name);
        const edges = r.nodes.filter((n) => n.name.startsWith("edge-"));
        const checks = [
            ...r.checks,
            ...(await clusterHealth(c, insts.filter((i) => i.kind === "master").length, k8s)),
            ...bootstrapReports(c, k8s),
            ...(await edgeAnswers(c, edges)),
        ];
        return { ...summarize(checks, r.timedOut), nodes: r.nodes.map((n) => n.name) };
    };

/** What a fault does to a faulty worker. */
export interface FaultSetup {
    /** A shell snippet run inside the node just before cloud-init. */
    readonly preboot?: string;
    /** Breaks the user-data text. */
    readonly mutate?: (t: string) => string;
    /** Before the node boots (inject a hub fault). */
    readonly before?: () => void;
    /** While the node boots (watch it, lift the fault); ends by itself once the boot ended. */
    readonly during?: (node: LabNode) => Promise<void>;
    /** Checks of the fault's own outcome, once the node booted. */
    readonly checks?: (node: LabNode) => Check[];
    /** At the end, whatever happened (lift what before() injected). */
    readonly after?: () => void;
}

/** A prod worker booted against the running prod cluster (after prod-boot), with one fault. */
function faultyWorker(
    label: string,
    fault: (c: LabCluster, inst: PlannedInstance) => FaultSetup,
    judge?: (r: Outcome) => Outcome,
): Scenario["run"] {
    return async (env) => {
        const c = await env.cluster("prod");
        if (!c.masters().length)
            return {
                ok: false,
                detail: "needs prod-boot first (no prod master is running)",
                checks: [],
                nodes: [],
            };
        const inst = shapeInstances(c.plan, "prod").find((i) => i.kind === "worker")!;
        const f = fault(c, inst);
        // A break whose pattern no longer matches the render would boot a healthy node and prove nothing.
        const text = c.userData(inst).text;
        if (f.mutate && f.mutate(text) === text)
            return {
                ok: false,
                detail: `${label}: the break changed nothing in the user-data (its pattern is stale)`,
                checks: [],
                nodes: [label],
            };
        f.before?.();
        try {
            const r = await bootAndCheck(
                c,
                [{ inst, label, mutate: f.mutate, preboot: f.preboot, during: f.during }],
                1_200_000,
            );
            const reg = (await clusterHealth(c, 3, [label])).filter((x) => x.check.startsWith("every node"));
            const own = r.timedOut.length ? [] : (f.checks?.(r.nodes[0]) ?? []);
            const out = {
                ...summarize([...r.checks, ...reg, ...bootstrapReports(c, [label]), ...own], r.timedOut),
                nodes: [label],
            };
            await env.lab.kill(r.nodes[0]);
            return judge ? judge(out) : out;
        } finally {
            f.after?.();
        }
    };
}

/**
 * Moves the lab clock `days` ahead in steps of the masters' rotation period, firing every live
 * master's token-rotation timer at each step as systemd would; then checks that the first token
 * (the plan's, registered by kubeadm init with its 24 h TTL) is gone from cluster-info, as kubeadm's
 * token cleaner and the bootstrap signer make it (a worker using it fails discovery), that SSM holds
 * a token a master rotated whose JWS cluster-info serves, and boots a new worker that joins with it.
 */
function daysLater(days: number): Scenario["run"] {
    return async (env) => {
        const c = await env.cluster("prod");
        const masters = c.masters();
        if (!masters.length)
            return {
                ok: false,
                detail: "needs prod-boot first (no prod master is running)",
                checks: [],
                nodes: [],
            };
        const clock = path.join(env.lab.opt, "state", "clock-offset-seconds");
        const checks: Check[] = [];
        const fired: string[] = [];
        const tokenParam = [...c.plan.parameters.keys()].find((n) => n.endsWith("/join/bootstrap-token"))!;
        const firstId = c.secrets["bootstrap-token"].split(".")[0];
        try {
            for (let h = TOKEN_ROTATE_HOURS; h <= days * 24; h += TOKEN_ROTATE_HOURS) {
                fs.writeFileSync(clock, String(h * 3600));
                for (const m of masters) {
                    const r = await env.lab.fireTimer(m, TOKEN_ROTATE_TIMER);
                    if (r.code !== 0)
                        fired.push(
                            `+${h}h ${m.name}: ${r.service || TOKEN_ROTATE_TIMER} failed: ${(r.stderr || r.stdout).trim().slice(-300)}`,
                        );
                }
            }
            checks.push({
                node: "cluster",
                check: `every master's ${TOKEN_ROTATE_TIMER} ran every ${TOKEN_ROTATE_HOURS} h for ${days} days`,
                ok: fired.length === 0,
                detail: fired.join("; ") || `${((days * 24) / TOKEN_ROTATE_HOURS) * masters.length} runs`,
            });
            const p = c.lab.o.hub.parameters.get(tokenParam);
            const current = p?.value ?? "";
            checks.push({
                node: "cluster",
                check: `${tokenParam} holds a token a master rotated`,
                ok:
                    !!p &&
                    p.writtenBy !== "plan" &&
                    masters.some((m) => m.name === p.writtenBy) &&
                    current.split(".")[0] !== firstId,
                detail: p ? `version ${p.version ?? 1}, written by ${p.writtenBy}` : "missing",
            });
            const info = await LabCluster.get(
                "10.77.0.3",
                6443,
                "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                c.secrets["ca-crt"],
                c.plan.apiName,
            );
            const data =
                "status" in info && info.status === 200
                    ? (JSON.parse(info.body).data as Record<string, string>)
                    : {};
            checks.push({
                node: "cluster",
                check: `the first token (${BOOTSTRAP_TOKEN_TTL} TTL) expired: cluster-info has no JWS for it, and one for the rotated token`,
                ok:
                    !(`jws-kubeconfig-${firstId}` in data) &&
                    `jws-kubeconfig-${current.split(".")[0]}` in data,
                detail:
                    "status" in info
                        ? `signed for: ${
                              Object.keys(data)
                                  .filter((k) => k.startsWith("jws-"))
                                  .map((k) => k.slice(15))
                                  .join(", ") || "none"
                          }`
                        : info.error,
            });
            const worker = await faultyWorker("w-days-later", () => ({}))(env);
            const mine = summarize(checks, []);
            const detail = [mine.ok ? "" : mine.detail, worker.ok ? "" : worker.detail].filter(Boolean);
            return {
                ok: mine.ok && worker.ok,
                detail: detail.join("\n") || "all checks passed",
                checks: [...checks, ...worker.checks],
                nodes: worker.nodes,
            };
        } finally {
            fs.writeFileSync(clock, "0");
        }
    };
}

/**
 * A prod master dies and its slot heals: the old instance is terminated, then the slot's group of one (./group.ts)
 * launches the replacement from the slot's template. Fails, booting nothing, when the plan's slot does not heal.
 */
function replaceMaster(index: number, label: string, lostProbe: boolean): Scenario["run"] {
    return async (env) => {
        const c = await env.cluster("prod");
        const old = c.booted.get(`master-${index}`);
        if (!old || old.exited)
            return {
                ok: false,
                detail: `needs prod-boot first (master-${index} is not running)`,
                checks: [],
                nodes: [],
            };
        await env.lab.kill(old);
        const inst = c.plan.instances.find((i) => i.name === `master-${index}`)!;
        // A lost probe: the NLB is unreachable from the new node until its first /readyz check failed.
        const preboot = lostProbe ? "ip route add blackhole 10.77.0.3/32" : "";
        const healed = await replaceInGroup(c, inst, old, { label, preboot });
        if ("problem" in healed) {
            const check = "the slot's group replaces its dead master";
            return summarize([{ node: `master-${index}`, check, ok: false, detail: healed.problem }], []);
        }
        const node = healed.node;
        let restored = !lostProbe;
        // The bootstrap runs as a unit: its output is the unit's log (and cloud-init's, for older renders).
        const logs = ["var/log/lab-units/keelson-bootstrap.service.log", "var/log/cloud-init-output.log"].map(
            (l) => path.join(node.state, "upper", l),
        );
        while (!restored && !node.exited && !node.bootEnd) {
            await new Promise((r) => setTimeout(r, 1000));
            const text = logs.map((l) => (fs.existsSync(l) ? fs.readFileSync(l, "utf8") : "")).join("\n");
            if (/no API answers at|readyz: (ok|attempt 1\/)|kubeadm (join|init): attempt/.test(text)) {
                env.lab.inNetns(node, ["ip", "route", "del", "blackhole", "10.77.0.3/32"]);
                restored = true;
            }
        }
        await node.waitBooted(1_200_000);
        const checks = node.bootEnd
            ? checkNode(c, node, c.userData(inst).text, "master", pinnedVersion(inst))
            : [];
        const members = node.bootEnd ? etcdMembers(c, node) : "did not finish booting";
        const initialised = /initialising a new cluster/.test(node.consoleText());
        checks.push({
            node: label,
            check: "the replacement joined the existing etcd cluster (3 healthy members)",
            ok:
                typeof members !== "string" &&
                members.length === 3 &&
                members.every((m) => m.healthy) &&
                !initialised,
            detail: initialised
                ? `ran kubeadm init: a second cluster (etcd: ${typeof members === "string" ? members : members.map((m) => m.name).join(", ")}) behind the same NLB, same CA and token`
                : typeof members === "string"
                  ? members
                  : members.map((m) => `${m.name}${m.healthy ? "" : " (unreachable)"}`).join(", "),
        });
        if (node.bootEnd) checks.push(...(await replacementRecords(c, old, node, index)));
        return { ...summarize(checks, node.bootEnd ? [] : [label]), nodes: [label] };
    };
}

/**
 * After a replacement: the old master's Node is deleted and the new one registered, the slot record
 * in SSM names the new instance (written by it), the init marker is set, and the node reported ready.
 */
async function replacementRecords(
    c: LabCluster,
    old: LabNode,
    node: LabNode,
    index: number,
): Promise<Check[]> {
    const out: Check[] = [];
    const nodes = await LabCluster.get(
        "10.77.0.3",
        6443,
        "/api/v1/nodes",
        c.secrets["ca-crt"],
        c.plan.apiName,
    );
    const names =
        "status" in nodes && nodes.status === 200
            ? (JSON.parse(nodes.body).items as { name: string }[]).map((n) => n.name)
            : [];
    out.push({
        node: node.name,
        check: `the replaced master's Node ${old.nodeName} is deleted and ${node.nodeName} registered`,
        ok: !names.includes(old.nodeName) && names.includes(node.nodeName),
        detail: "status" in nodes ? `registered: ${names.join(", ")}` : nodes.error,
    });
    const params = c.lab.o.hub.parameters;
    const slot = [...params].find(([n]) => n.endsWith(`/state/masters/master-${index}`))?.[1];
    out.push({
        node: node.name,
        check: `slot record master-${index} names the replacement`,
        ok: !!slot && slot.writtenBy === node.name && slot.value.startsWith(`${node.nodeName} `),
        detail: slot ? `${slot.value} (written by ${slot.writtenBy})` : "missing",
    });
    const marker = [...params].find(([n]) => n.endsWith("/state/initialised"))?.[1];
    out.push({
        node: node.name,
        check: "the init marker is set",
        ok: !!marker && marker.value.startsWith("yes "),
        detail: marker ? marker.value : "missing",
    });
    return [...out, ...bootstrapReports(c, [node.name])];
}

/** A break test passes when the lab reports the failure the break must cause. */
function expectDetected(what: RegExp): (r: Outcome) => Outcome {
    return (r) =>
        !r.ok && what.test(r.detail)
            ? {
                  ...r,
                  ok: true,
                  detail: `detected as expected: ${r.detail
                      .split("\n")
                      .filter((l) => what.test(l))
                      .join("; ")}`,
              }
            : {
                  ...r,
                  ok: false,
                  detail: r.ok
                      ? "the lab did NOT detect the broken node (all checks passed)"
                      : `reported, but not as expected (${what}): ${r.detail}`,
              };
}

/** A break test: a prod worker booted from deliberately broken user-data, and what the lab must report. */
export interface Break {
    readonly name: string;
    readonly description: string;
    /** The node's label in the lab. */
    readonly label: string;
    /** Breaks the user-data text (the cloud-config); must change it. */
    readonly mutate: (userData: string) => string;
    /** A line of the failed checks must match. */
    readonly detect: RegExp;
    /** A fault the break needs besides its user-data (the one of the scenario it guards). */
    readonly fault?: (c: LabCluster, inst: PlannedInstance) => FaultSetup;
}

/** The lab can fail: each break must be reported (issue 9.5). */
export const BREAKS: readonly Break[] = [
    {
        name: "break-package",
        description: "lab fails: containerd dropped from the bootstrap's packages",
        label: "w-no-containerd",
        mutate: (t) => t.replace(/^(\s*readonly DEBIAN_PACKAGES=\(.*) containerd( .*\))$/m, "$1$2"),
        detect: /declared packages installed: not installed: containerd/,
    },
    {
        name: "break-mode",
        description: "lab fails: the kubeadm join template written 0644 instead of 0600",
        label: "w-bad-mode",
        mutate: (t) =>
            t.replace(
                /(path: \/etc\/keelson\/kubeadm-join\.tmpl\.yaml\n(?:.*\n)*?\s+permissions: )"?0600"?/,
                '$1"0644"',
            ),
        detect: /kubeadm-join\.tmpl\.yaml is 644/,
    },
    {
        name: "break-script",
        description: "lab fails: a typo in the bootstrap script",
        label: "w-typo",
        mutate: (t) => t.replace(/^(\s+)configure_containerd$/m, "$1configure_contaienrd"),
        detect: /bootstrap done: .*configure_contaienrd: command not found/,
    },
    {
        name: "break-containerd",
        description: "lab fails: an invalid containerd setting",
        label: "w-bad-containerd",
        mutate: (t) => t.replace(/SystemdCgroup = true/g, "SystemdCgroup = yes"),
        detect: /containerd answers/,
    },
    {
        // The guard of ssm-denied-restart: the same fault, and without Restart= the node never gets ready.
        name: "break-restart",
        description:
            "lab fails: Restart= dropped from the bootstrap unit, SSM reads denied as in ssm-denied-restart",
        label: "w-no-restart",
        mutate: (t) =>
            t.replace(
                /(path: \/etc\/systemd\/system\/keelson-bootstrap\.service\n(?:.*\n)*?)\s+Restart=on-failure\n/,
                "$1",
            ),
        detect: /reported its bootstrap state to SSM: ready: \S+: failed /,
        fault: readsDeniedUntilFailed("w-no-restart"),
    },
];

/**
 * The restart proof's fault: SSM refuses the worker's reads (AccessDenied; its role's parameter-read
 * policy not in effect yet, while its state-write policy is, so `report failed` reaches SSM) until the
 * node reported `failed`, that is until its first attempt exhausted the script's own bounded reads
 * (`retry 30 10`: at least 300 s); then the lab lifts it and the attempt the unit's Restart= starts
 * reads its secrets. Lifting it on that report, not after a fixed time, makes the first attempt fail
 * however slow the machine is. Adds the restart checks (./restart.ts).
 */
function readsDeniedUntilFailed(label: string): (c: LabCluster, inst: PlannedInstance) => FaultSetup {
    return (c, inst) => {
        const hub = c.lab.o.hub;
        const fault: SsmFault = {
            code: "AccessDeniedException",
            durationMs: Infinity,
            nodes: [label],
            actions: ["GetParameter", "GetParameters"],
        };
        let liftedAt: number | undefined;
        let over = false;
        const report = () =>
            [...hub.parameters].find(([n, p]) => n.includes("/state/nodes/") && p.writtenBy === label)?.[1];
        const lift = () => {
            const i = hub.faults.indexOf(fault);
            if (i >= 0) hub.faults.splice(i, 1);
        };
        return {
            before: () => hub.faults.push(fault),
            during: async (node) => {
                while (!over && !node.exited && !node.bootEnd) {
                    if (/^failed /.test(report()?.value ?? "")) {
                        liftedAt = Date.now();
                        lift();
                        c.lab.o.log(`lab: ${label}: reported failed; SSM reads allowed again`);
                        return;
                    }
                    await new Promise((r) => setTimeout(r, 1000));
                }
            },
            checks: (node) => {
                const log = path.join(node.state, "upper", BOOTSTRAP_UNIT_LOG);
                return restartChecks({
                    label,
                    userData: c.userData(inst).text,
                    log: fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "",
                    deniedReads: hub.requests.filter(
                        (q) =>
                            q.node === label &&
                            q.service === "ssm" &&
                            /^GetParameters? .* -> AccessDeniedException \(injected\)$/.test(q.what),
                    ).length,
                    deniedForMs: liftedAt && fault.startedAt ? liftedAt - fault.startedAt : undefined,
                    report: report(),
                    timeScale: TIME_SCALE,
                });
            },
            after: () => {
                over = true;
                lift();
            },
        };
    };
}

function breakScenario(b: Break): Scenario {
    return {
        name: b.name,
        stage: "prod",
        group: "faults",
        description: b.description,
        budgetSeconds: 1200,
        run: faultyWorker(
            b.label,
            (c, inst) => ({ ...b.fault?.(c, inst), mutate: b.mutate }),
            expectDetected(b.detect),
        ),
    };
}

/** The upgrade rehearsal and its guards (./upgrade-scenarios.ts), with what they use from here. */
const UPGRADE = upgradeScenarios({
    plan: (stage, overrides) => cachedPlan(stage, overrides),
    bootAndCheck: (c, insts, timeoutMs) => bootAndCheck(c, insts, timeoutMs),
    clusterHealth: (c, members, nodes) => clusterHealth(c, members, nodes),
    bootstrapReports: (c, labels) => bootstrapReports(c, labels),
    summarize: (checks, timedOut) => summarize(checks, timedOut),
});

/** Every scenario, in the order they run (scenarios sharing a `group` run in parallel). */
export const SCENARIOS: Scenario[] = [
    {
        name: "dev-boot",
        stage: "dev",
        description: "dev shape (1 master, 1 worker, 1 edge) boots from the plan's user-data",
        budgetSeconds: 900,
        run: bootShape("dev"),
    },
    {
        name: "prod-boot",
        stage: "prod",
        description: "prod shape (3 masters, 2 workers, 2 edge, NLB) boots in parallel",
        budgetSeconds: 900,
        run: bootShape("prod"),
    },
    {
        name: "ssm-access-denied",
        stage: "prod",
        group: "faults",
        description: "SSM answers AccessDenied for 2 min from a new worker's first call (IAM propagation)",
        budgetSeconds: 1200,
        run: faultyWorker("w-ssm-denied", (c) => ({
            before: () =>
                c.lab.o.hub.faults.push({
                    code: "AccessDeniedException",
                    durationMs: 120_000 * TIME_SCALE,
                    nodes: ["w-ssm-denied"],
                }),
        })),
    },
    {
        name: "ssm-denied-restart",
        stage: "prod",
        group: "faults",
        description:
            "SSM refuses a new worker's reads until its first bootstrap attempt gave up (the script's bounded wait) and reported failed; the unit's Restart= brings a later attempt to ready",
        budgetSeconds: 1500,
        run: faultyWorker("w-ssm-restart", readsDeniedUntilFailed("w-ssm-restart")),
    },
    {
        name: "dpkg-lock",
        stage: "prod",
        group: "faults",
        description: "the dpkg lock is held for 3 min at boot (unattended-upgrades)",
        budgetSeconds: 1200,
        run: faultyWorker("w-dpkg-lock", () => ({
            preboot: `exec python3 -c 'import fcntl, time
a = open("/var/lib/dpkg/lock-frontend", "w"); fcntl.lockf(a, fcntl.LOCK_EX)
b = open("/var/lib/dpkg/lock", "w"); fcntl.lockf(b, fcntl.LOCK_EX)
time.sleep(${Math.round(180 * TIME_SCALE)})'`,
        })),
    },
    {
        name: "mirror-unreachable",
        stage: "prod",
        group: "faults",
        description: "no route to the Debian mirror, pkgs.k8s.io, S3 and SSM for 2 min (NAT not ready yet)",
        budgetSeconds: 1200,
        run: faultyWorker("w-no-nat", () => ({
            // Packets to the internet are dropped from boot (timeouts, as without a NAT route), then allowed.
            preboot: `ip route add blackhole 203.0.113.10/32 && sleep ${Math.round(120 * TIME_SCALE)} && ip route del blackhole 203.0.113.10/32`,
        })),
    },
    ...BREAKS.map(breakScenario),
    UPGRADE.find((s) => s.name === "upgrade-unhealthy")!,
    {
        name: "worker-days-later",
        stage: "prod",
        description:
            "3 days after bring-up (the masters' token-rotation timers firing every 6 h meanwhile), the first token has expired and a new worker joins with the rotated one from SSM",
        budgetSeconds: 1500,
        run: daysLater(3),
    },
    {
        name: "master-replace",
        stage: "prod",
        description: "master-1 is terminated and replaced (its etcd member stays behind)",
        budgetSeconds: 1500,
        run: replaceMaster(1, "master-1-new", false),
    },
    {
        name: "master-0-probe-lost",
        stage: "prod",
        description: "master-0 is replaced and its first readiness probe of the API is lost",
        budgetSeconds: 1500,
        run: replaceMaster(0, "master-0-new", true),
    },
    // upgrade-skip changes nothing, upgrade-stops leaves the cluster half upgraded: before and after upgrade.
    ...["upgrade-skip", "upgrade", "upgrade-stops"].map((n) => UPGRADE.find((s) => s.name === n)!),
];

/**
 * The stage's plan. KEELSON_LAB_PLAN_CACHE=<dir> (a development aid, never in CI) reuses a plan saved
 * there by an earlier run instead of planning again; delete the directory after changing any renderer.
 */
async function cachedPlan(stage: string, overrides: LabClusterOverrides = {}): Promise<PlannedStage> {
    const dir = process.env.KEELSON_LAB_PLAN_CACHE;
    const key = Object.entries(overrides)
        .map(([k, v]) => `-${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join("")
        .replace(/[^A-Za-z0-9.=_-]/g, "_");
    const file = dir ? path.join(dir, `${stage}${key}.json`) : "";
    if (file && fs.existsSync(file)) {
        const j = JSON.parse(fs.readFileSync(file, "utf8"));
        return {
            ...j,
            parameters: new Map(j.parameters),
            parameterKeys: new Map(j.parameterKeys),
            parameterValues: new Map(j.parameterValues),
            descriptions: new Map(j.descriptions),
            instances: j.instances.map((i: { userDataGzip: string }) => ({
                ...i,
                userDataGzip: Buffer.from(i.userDataGzip, "base64"),
            })),
        };
    }
    const plan = await planForLab(stage, overrides);
    if (file) {
        fs.mkdirSync(dir!, { recursive: true });
        const j = {
            ...plan,
            parameters: [...plan.parameters],
            parameterKeys: [...plan.parameterKeys],
            parameterValues: [...plan.parameterValues],
            descriptions: [...plan.descriptions],
            instances: plan.instances.map((i) => ({ ...i, userDataGzip: i.userDataGzip.toString("base64") })),
        };
        fs.writeFileSync(file, JSON.stringify(j));
    }
    return plan;
}

function expectPass(name: string): boolean {
    const v = (process.env.KEELSON_LAB_EXPECT_PASS ?? "").split(",");
    return v.includes("all") || v.includes(name) || !(name in KNOWN_FAILURES);
}

/** Runs scenarios in one lab (its own network namespace), then cleans everything up. */
export async function runScenarios(
    list: Scenario[],
    o: { img: LabRootfs; dir: string; log: (l: string) => void; keep: boolean },
): Promise<ScenarioResult[]> {
    const pki = path.join(o.dir, "pki");
    fs.mkdirSync(pki, { recursive: true });
    const labCa = makeCa(pki, "lab-ca", "Keelson boot lab CA");
    const plans = new Map<string, PlannedStage>();
    for (const stage of new Set(list.map((s) => s.stage))) {
        o.log(`lab: planning ${stage} (offline plan, mock engine)`);
        plans.set(stage, await cachedPlan(stage));
    }
    const first = [...plans.values()][0];
    const master = first.instances.find((i) => i.kind === "master")!;
    const names = [
        "deb.debian.org",
        "pkgs.k8s.io",
        "artifacts.k8s.io",
        `s3.${first.region}.amazonaws.com`,
        `ssm.${first.region}.amazonaws.com`,
    ];
    const tls = makeServerCert(pki, "lab-ca", "hub", names);
    const series = /^\s*readonly K8S_SERIES='([^']+)'/m.exec(master.userData)?.[1] ?? "";
    // The pinned minor's repository, and the next two minors' (an upgrade's target, and one it must refuse).
    const pin = pinnedVersion(master);
    const versions = upgradeVersions(pin.replace(/-.*$/, ""));
    const repos = buildStubRepositories(path.join(o.dir, "repos"), pin, [
        `${versions.target}-1.1`,
        `${versions.skip}-1.1`,
    ]);
    const hub = new Hub({
        debianArchive: o.img.archive,
        kubeRepo: repos.kubeRepo,
        kubeSeries: series,
        kubeRepos: repos.kubeRepos,
        ssmAgentDeb: repos.ssmAgentDeb,
        region: first.region,
        tlsCert: tls.cert,
        tlsKey: tls.key,
        internetAddress: "203.0.113.10",
        imdsAddress: "169.254.169.254",
    });
    const lab = new Lab({ img: o.img, dir: o.dir, hub, log: o.log, timeScale: TIME_SCALE });
    const results: ScenarioResult[] = [];
    const onSignal = () => void lab.cleanup(o.keep).then(() => process.exit(130));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    // A crash anywhere must not leave nodes running: clean up, then fail.
    const onCrash = (err: unknown) => {
        console.error(`lab: crashed: ${(err as Error)?.stack ?? err}`);
        void lab.cleanup(o.keep).then(() => process.exit(1));
    };
    process.on("uncaughtException", onCrash);
    process.on("unhandledRejection", onCrash);
    try {
        await lab.setup();
        const clusters = new Map<string, LabCluster>();
        const env: Env = {
            lab,
            clusters,
            log: o.log,
            cluster: async (stage) => {
                let c = clusters.get(stage);
                if (!c) {
                    const dir = path.join(pki, stage);
                    fs.mkdirSync(dir, { recursive: true });
                    fs.copyFileSync(path.join(pki, "lab-ca.crt"), path.join(dir, "lab-ca.crt"));
                    fs.copyFileSync(path.join(pki, "lab-ca.key"), path.join(dir, "lab-ca.key"));
                    c = new LabCluster(lab, plans.get(stage)!, labCa, dir, TIME_SCALE);
                    clusters.set(stage, c);
                }
                return c;
            },
        };
        const runOne = async (s: Scenario): Promise<ScenarioResult> => {
            o.log(`lab: scenario ${s.name}: ${s.description}`);
            const start = Date.now();
            let out: Outcome;
            let timer: NodeJS.Timeout | undefined;
            try {
                out = await Promise.race([
                    s.run(env),
                    new Promise<Outcome>((resolve) => {
                        timer = setTimeout(
                            () =>
                                resolve({
                                    ok: false,
                                    detail: `timed out after ${s.budgetSeconds}s`,
                                    checks: [],
                                    nodes: [],
                                }),
                            s.budgetSeconds * 1000,
                        );
                    }),
                ]);
            } catch (err) {
                out = {
                    ok: false,
                    detail: `lab error: ${(err as Error).stack ?? err}`,
                    checks: [],
                    nodes: [],
                };
            } finally {
                clearTimeout(timer);
            }
            const known = !expectPass(s.name) ? KNOWN_FAILURES[s.name] : undefined;
            const verdict = out.ok ? (known ? "unexpected-pass" : "pass") : known ? "known-failure" : "fail";
            const seconds = Math.round((Date.now() - start) / 1000);
            o.log(`lab: ${s.name}: ${verdict} (${seconds}s)\n${out.detail}`);
            return {
                name: s.name,
                stage: s.stage,
                description: s.description,
                nodes: out.nodes,
                real: REAL,
                stubbed: STUBBED,
                outcome: out.ok ? "pass" : "fail",
                verdict,
                detail: out.detail,
                ...(known ? { knownFailure: known } : {}),
                seconds,
                checks: out.checks,
            };
        };
        // Consecutive scenarios of one group run in parallel; everything else one after the other.
        for (let i = 0; i < list.length;) {
            const g = list[i].group;
            let j = i + 1;
            while (g && j < list.length && list[j].group === g) j++;
            results.push(...(await Promise.all(list.slice(i, j).map(runOne))));
            i = j;
        }
    } finally {
        await lab.cleanup(o.keep);
    }
    return results;
}

/** The human-readable report: one table row per scenario, then the failed checks. */
export function renderTable(results: ScenarioResult[]): string {
    const rows = results.map((r) => [r.name, r.stage, r.nodes.join(" ") || "-", r.verdict, `${r.seconds}s`]);
    const head = ["scenario", "stage", "nodes", "outcome", "wall"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
    const out = [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ""];
    out.push(`real: ${REAL.join(", ")}`, `stubbed: ${STUBBED.join(", ")}`, "");
    for (const r of results) {
        if (r.verdict === "pass") continue;
        out.push(`${r.name} (${r.verdict})${r.knownFailure ? ` known: ${r.knownFailure}` : ""}`);
        for (const l of r.detail.split("\n")) out.push(`  ${l}`);
    }
    return out.join("\n");
}
