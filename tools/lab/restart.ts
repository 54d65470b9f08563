// The restart proof (scenarios `ssm-denied-restart` and `break-restart`, ./scenarios.ts): the bound the
// rendered bootstrap puts on its own SSM reads, the systemctl stub's log of a unit's attempts
// (tools/lab/node/bin/systemctl), and the checks that systemd's Restart= of the bootstrap unit, not
// the script, brought a node whose first attempt failed to `ready`. Pure.
import { BOOTSTRAP_UNIT } from "../../components/cluster/render/units";
import type { Check } from "./checks";
import type { SsmParameter } from "./ssm";

/** The bootstrap unit's log in a node's root (the stub's lines and the script's output). */
export const BOOTSTRAP_UNIT_LOG = `var/log/lab-units/${BOOTSTRAP_UNIT}.log`;

/** The rendered script's `retry <attempts> <interval> "read $SSM_PREFIX/$1 from SSM"` (fetch_parameter). */
export function ssmReadBound(userData: string): { attempts: number; intervalSeconds: number } | undefined {
    const m = /retry (\d+) (\d+) "read \$SSM_PREFIX\/\$1 from SSM"/.exec(userData);
    return m ? { attempts: Number(m[1]), intervalSeconds: Number(m[2]) } : undefined;
}

/** A `[Service]` setting of the bootstrap unit as the user-data writes it (the last assignment wins). */
export function bootstrapUnitSetting(userData: string, key: string): string | undefined {
    const block = new RegExp(
        `path: /etc/systemd/system/${BOOTSTRAP_UNIT.replace(".", "\\.")}\\n[\\s\\S]*?\\[Install\\]`,
    ).exec(userData);
    const values = [...(block?.[0] ?? "").matchAll(new RegExp(`^\\s*${key}=(.*)$`, "gm"))].map((m) =>
        m[1].trim(),
    );
    return values.at(-1);
}

/** A systemd time span in seconds: "10s", "10" (seconds), "100ms", "10min", "1min 30s"; NaN otherwise. */
export function spanSeconds(span: string): number {
    const units: Record<string, number> = {
        "": 1,
        us: 1e-6,
        ms: 1e-3,
        s: 1,
        sec: 1,
        m: 60,
        min: 60,
        h: 3600,
    };
    const parts = [...span.replace(/\s+/g, "").matchAll(/(\d+(?:\.\d+)?)([a-z]*)/g)];
    if (!parts.length || parts.map((p) => p[0]).join("") !== span.replace(/\s+/g, "")) return NaN;
    return parts.reduce((t, p) => t + Number(p[1]) * (units[p[2]] ?? NaN), 0);
}

/** One line the systemctl stub logged for a unit. */
export interface UnitEvent {
    /** Epoch seconds (milliseconds precision). */
    readonly at: number;
    readonly kind: "starting" | "failed" | "finished" | "restart" | "start-limit-hit" | "stopped";
    /** The attempt (starting, failed, finished) or the restart's number (restart). */
    readonly n: number;
    /** restart: systemd's delay in seconds (before the lab's time scale). */
    readonly delaySeconds?: number;
}

/** The stub's lines for `unit` in its log, in order (the command's own output is skipped). */
export function unitEvents(log: string, unit: string): UnitEvent[] {
    const out: UnitEvent[] = [];
    for (const line of log.split("\n")) {
        const m = /^(\d+(?:\.\d+)?) (\S+): (.*)$/.exec(line);
        if (!m || m[2] !== unit) continue;
        const at = Number(m[1]);
        const a = /^attempt (\d+) (starting|failed|finished)/.exec(m[3]);
        const r = /^failed; restart (\d+) in ([\d.]+)s/.exec(m[3]);
        if (a) out.push({ at, kind: a[2] as UnitEvent["kind"], n: Number(a[1]) });
        else if (r) out.push({ at, kind: "restart", n: Number(r[1]), delaySeconds: Number(r[2]) });
        else if (/start-limit-hit$/.test(m[3])) out.push({ at, kind: "start-limit-hit", n: 0 });
        else if (m[3] === "stopped") out.push({ at, kind: "stopped", n: 0 });
    }
    return out;
}

/** What the scenario observed of one node. */
export interface RestartObservation {
    readonly label: string;
    /** The user-data the node booted from. */
    readonly userData: string;
    /** The bootstrap unit's log. */
    readonly log: string;
    /** SSM reads of this node answered with the injected AccessDenied. */
    readonly deniedReads: number;
    /** From the first denied read to the lifting of the fault (when the node reported `failed`); undefined if never lifted. */
    readonly deniedForMs?: number;
    /** The node's state parameter (`<prefix>/state/nodes/<name>`) as the lab's SSM holds it. */
    readonly report?: SsmParameter;
    readonly timeScale: number;
}

/**
 * The first attempt gave up after the script's bounded reads (its log shows the last one failed, SSM denied
 * reads throughout) and reported
 * `failed`; the unit log shows a second attempt started no sooner than RestartSec (scaled) after the
 * first failed, with systemd's first delay RestartSec; the last attempt finished; the node's state
 * in SSM went from `failed` to `ready`.
 */
export function restartChecks(o: RestartObservation): Check[] {
    const node = o.label;
    const bound = ssmReadBound(o.userData);
    const restartSec = spanSeconds(bootstrapUnitSetting(o.userData, "RestartSec") ?? "100ms");
    const ev = unitEvents(o.log, BOOTSTRAP_UNIT);
    const find = (kind: UnitEvent["kind"], n: number) => ev.find((e) => e.kind === kind && e.n === n);
    const starts = ev.filter((e) => e.kind === "starting");
    const failed1 = find("failed", 1);
    const start2 = find("starting", 2);
    const restart1 = find("restart", 1);
    const last = ev.at(-1);
    const states = (o.report?.history ?? []).map((h) => (h.value ?? "?").split(" ")[0]);
    const failedAt = states.indexOf("failed");
    const minMs = bound ? bound.attempts * bound.intervalSeconds * 1000 : NaN;
    const lastReadFailed =
        !!bound && new RegExp(`from SSM: attempt ${bound.attempts}/${bound.attempts} failed`).test(o.log);
    const list = ev.map((e) =>
        e.kind === "restart" ? `restart ${e.n} in ${e.delaySeconds}s` : e.n ? `${e.n} ${e.kind}` : e.kind,
    );
    return [
        {
            node,
            check: bound
                ? `SSM reads denied until the first attempt gave up: the script's own bound, ${bound.attempts} reads ${bound.intervalSeconds} s apart (>= ${minMs / 1000} s)`
                : 'the rendered bootstrap bounds its SSM reads (retry N S "read $SSM_PREFIX/$1 from SSM")',
            // The script's own log says its last read failed; SSM denied reads all along (not every failed
            // read has to reach SSM: a CLI call can also fail on its way there).
            ok:
                lastReadFailed &&
                o.deniedReads > 0 &&
                o.deniedReads <= bound.attempts &&
                (o.deniedForMs ?? 0) >= minMs,
            detail: `${o.deniedReads} reads denied${o.deniedForMs === undefined ? ", the fault never lifted (no failed report)" : ` for ${Math.round(o.deniedForMs / 1000)} s until the node reported failed`}${lastReadFailed ? `; read ${bound.attempts}/${bound.attempts} failed` : "; no failed last read in the log"}`,
        },
        {
            node,
            check: "the bootstrap unit ran at least 2 attempts and the first one failed",
            ok: starts.length >= 2 && !!failed1,
            detail: list.join(", ") || "no attempt logged",
        },
        {
            node,
            check: `systemd restarted it after RestartSec=${restartSec}s (${+(restartSec * o.timeScale).toFixed(3)} s at time scale ${o.timeScale})`,
            ok:
                !!failed1 &&
                !!start2 &&
                restart1?.delaySeconds === restartSec &&
                start2.at - failed1.at >= restartSec * o.timeScale,
            detail:
                failed1 && start2
                    ? `attempt 2 started ${(start2.at - failed1.at).toFixed(3)} s after attempt 1 failed (restart 1 in ${restart1?.delaySeconds}s)`
                    : "no second attempt",
        },
        {
            node,
            check: "a later attempt finished (the unit's last event)",
            ok: !!last && last.kind === "finished" && last.n >= 2,
            detail: last ? list.at(-1)! : "no attempt logged",
        },
        {
            node,
            check: "its state in SSM was failed, then ready",
            ok: failedAt >= 0 && states.at(-1) === "ready" && states.lastIndexOf("ready") > failedAt,
            detail: states.join(" -> ") || "no report written",
        },
    ];
}
