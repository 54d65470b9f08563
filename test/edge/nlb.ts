// A stand-in for the workers' internal NLB (components/cluster/WorkerIngress.ts) in the edge live tests:
// the real haproxy in TCP mode, one `listen` section per zone (one NLB node each, with cross-zone
// balancing every node forwards to every target), configured from the target group settings Keelson
// renders (`targetHealth`). What it keeps of AWS's target-group behaviour (Network Load Balancer guide,
// "Health checks for Network Load Balancer target groups" and "Edit target group attributes",
// docs.aws.amazon.com/elasticloadbalancing/latest/network/):
// - each load balancer node checks every target itself, at the health check's interval, port, path and
//   matcher, waiting the timeout for an answer; a target is out after `unhealthyThreshold` failed checks
//   in a row and back after `healthyThreshold` passed ones (haproxy: `inter`, `fall`, `rise`, `timeout
//   check`; no faster re-check while a state changes, as the NLB has none);
// - new flows go only to healthy targets, and to all of them when none is (the NLB "fails open": here
//   a check-less `backup` twin of every target, all used together);
// - a flow stays on its target for its life. When the target turns unhealthy, AWS's default resets its
//   connections (`target_health_state.unhealthy.connection_termination.enabled` true: "the load balancer
//   sends a TCP RST for packets received on the client connections associated with the target"; haproxy:
//   `on-marked-down shutdown-sessions`); with termination off the target is `unhealthy.draining`: its
//   established connections are kept for `unhealthy.draining_interval_seconds`, then closed (haproxy:
//   `shutdown sessions server`, sent through the admin socket when the interval has passed).
// Where it differs: haproxy terminates TCP, the NLB forwards the flow. A target refusing a connection
// reaches the edge through the NLB as a failed connect (which the edge resends, whatever the method), and
// through haproxy as a connection accepted then closed (which the edge resends only for idempotent
// requests): the stand-in is harsher there, so a test that passes asserts `failedConnects` is 0 (no new
// flow ever reached a target that was not listening). Flows are spread round robin instead of by a hash
// of the 5-tuple; deregistration (a node's instance leaving its group) is not modelled: a rollout keeps
// every node registered.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { targetHealth } from "../../components/cluster/WorkerIngress";
import { Started } from "../support/live";
import { EdgeBinary } from "./engines";
import { startEdge } from "./harness";

/** One worker node registered in the target group. */
export interface NlbTarget {
    readonly name: string;
    readonly address: string;
}

/** The stand-in's layout: its zones (listen addresses), the targets, and the two ports. */
export interface NlbLayout {
    /** One NLB node per zone: `{ name, address }`; the edge lists these addresses as its backends. */
    readonly zones: readonly NlbTarget[];
    readonly targets: readonly NlbTarget[];
    /** The published NodePort (the listener's and every target's port). */
    readonly nodePort: number;
    /** kube-proxy's health-check NodePort of the service. */
    readonly healthCheckNodePort: number;
    /** Directory of the admin socket. */
    readonly dir: string;
    /**
     * Reset the connections of a target that turns unhealthy (AWS's default). Default: what
     * WorkerIngress configures.
     */
    readonly connectionTermination?: boolean;
}

/** The target group settings the stand-in follows: Keelson's, for an HTTP route with a health port. */
export function nlbSettings(
    layout: Pick<NlbLayout, "nodePort" | "healthCheckNodePort" | "connectionTermination">,
) {
    const tg = targetHealth({
        protocol: "TCP",
        port: layout.nodePort,
        healthCheckNodePort: layout.healthCheckNodePort,
    });
    const state = tg.targetHealthStates?.[0];
    const hc = tg.healthCheck;
    if (hc.protocol !== "HTTP" || !("path" in hc)) throw new Error("the stand-in needs an HTTP health check");
    return {
        interval: hc.interval,
        timeout: hc.timeout,
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
        path: hc.path,
        matcher: hc.matcher,
        port: Number(hc.port),
        connectionTermination:
            layout.connectionTermination ?? state?.enableUnhealthyConnectionTermination ?? true,
        drainingInterval: state?.unhealthyDrainingInterval ?? 0,
    };
}

/** The stand-in's haproxy.cfg. Pure. */
export function renderNlbConfig(layout: NlbLayout): string {
    const s = nlbSettings(layout);
    const lines = [
        "# The workers' NLB, modelled (test/edge/nlb.ts).",
        "global",
        "    log stdout format raw local0",
        `    stats socket ${path.join(layout.dir, "nlb.sock")} mode 600 level admin`,
        "    maxconn 4096",
        "",
        "defaults",
        "    mode tcp",
        "    log global",
        "    # The NLB neither times out a connect (the edge's own timeout does) nor retries one.",
        "    timeout connect 5s",
        "    retries 0",
        "    # The NLB's TCP idle timeout.",
        "    timeout client 350s",
        "    timeout server 350s",
        `    timeout check ${s.timeout}s`,
        `    default-server inter ${s.interval}s fall ${s.unhealthyThreshold} rise ${s.healthyThreshold}` +
            (s.connectionTermination ? " on-marked-down shutdown-sessions" : ""),
    ];
    for (const zone of layout.zones) {
        lines.push(
            "",
            `listen ${zone.name}`,
            `    bind ${zone.address}:${layout.nodePort}`,
            "    balance roundrobin",
            "    option httpchk",
            `    http-check send meth GET uri ${s.path}`,
            `    http-check expect status ${s.matcher}`,
            "    option allbackups",
            ...layout.targets.map(
                (t) => `    server ${t.name} ${t.address}:${layout.nodePort} check port ${s.port}`,
            ),
            ...layout.targets.map((t) => `    server ${t.name}-open ${t.address}:${layout.nodePort} backup`),
        );
    }
    return lines.join("\n") + "\n";
}

/** A target's state change as one NLB node saw it. */
export interface NlbTransition {
    readonly at: number;
    readonly zone: string;
    readonly target: string;
    readonly up: boolean;
}

/** A running stand-in. */
export interface Nlb {
    readonly process: Started;
    /** Every state change of a target seen since the start, in order. */
    readonly transitions: NlbTransition[];
    /** Whether each zone has `target` in service now. */
    up(target: string): boolean[];
    /**
     * `failedConnects`: connections the stand-in failed to open to a target (`econ`, every zone and
     * server); `failOpenFlows`: flows sent while no target was healthy (the backup twins' `stot`).
     */
    counters(): Promise<{ failedConnects: number; failOpenFlows: number }>;
    stop(): Promise<void>;
}

/** Sends one command to haproxy's admin socket and returns the answer. */
export function adminCommand(socket: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const c = net.connect(socket);
        let out = "";
        c.setEncoding("utf8");
        c.on("data", (d: string) => (out += d));
        c.on("end", () => resolve(out));
        c.on("error", reject);
        c.end(`${command}\n`);
    });
}

/** `show stat` as rows keyed by column name. */
async function stats(socket: string): Promise<Record<string, string>[]> {
    const [header, ...rows] = (await adminCommand(socket, "show stat")).trim().split("\n");
    const names = header.replace(/^# /, "").split(",");
    return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [names[i], v])));
}

/**
 * Starts the stand-in with `bin` (haproxy), waits until its listeners accept connections, and watches
 * the targets' states every 100 ms (the transitions, and the end of `unhealthy.draining`).
 */
export async function startNlb(bin: EdgeBinary, layout: NlbLayout): Promise<Nlb> {
    const settings = nlbSettings(layout);
    const file = path.join(layout.dir, "nlb.cfg");
    fs.writeFileSync(file, renderNlbConfig(layout));
    const socket = path.join(layout.dir, "nlb.sock");
    const c = bin.command(["-db", "-f", file], [layout.dir]);
    const started = await startEdge(c.cmd, c.args, layout.nodePort, layout.zones[0].address);
    const transitions: NlbTransition[] = [];
    const current = new Map<string, boolean>();
    const timers: NodeJS.Timeout[] = [];
    let polling = true;
    const poll = async () => {
        while (polling) {
            const rows = await stats(socket).catch(() => []);
            for (const r of rows) {
                if (!layout.zones.some((z) => z.name === r.pxname)) continue;
                if (!layout.targets.some((t) => t.name === r.svname)) continue;
                const key = `${r.pxname}/${r.svname}`;
                // "UP", "UP 1/2" (one failed check), "DOWN", "DOWN 1/2" (one passed check), "no check".
                const up = r.status.startsWith("UP");
                if (current.get(key) === up) continue;
                current.set(key, up);
                transitions.push({ at: Date.now(), zone: r.pxname, target: r.svname, up });
                if (!up && !settings.connectionTermination) {
                    // unhealthy.draining: the established flows are kept for the interval, then closed.
                    timers.push(
                        setTimeout(() => {
                            if (current.get(key) === false)
                                void adminCommand(socket, `shutdown sessions server ${key}`).catch(() => "");
                        }, settings.drainingInterval * 1000),
                    );
                }
            }
            await new Promise((r) => setTimeout(r, 100));
        }
    };
    const watching = poll();
    return {
        process: started,
        transitions,
        up: (target) => layout.zones.map((z) => current.get(`${z.name}/${target}`) === true),
        counters: async () => {
            const servers = (await stats(socket)).filter(
                (r) =>
                    layout.zones.some((z) => z.name === r.pxname) &&
                    !["FRONTEND", "BACKEND"].includes(r.svname),
            );
            const sum = (rows: Record<string, string>[], column: string) =>
                rows.reduce((n, r) => n + Number(r[column] || 0), 0);
            return {
                failedConnects: sum(servers, "econ"),
                failOpenFlows: sum(
                    servers.filter((r) => r.svname.endsWith("-open")),
                    "stot",
                ),
            };
        },
        stop: async () => {
            polling = false;
            timers.forEach(clearTimeout);
            await watching;
            await started.stop();
        },
    };
}
