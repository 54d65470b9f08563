// The lab's machinery: network namespaces on a bridge, nodes booted from the shared Debian 13 image
// (tools/lab/node/enter.sh), the hub's services, dnsmasq and the HAProxy "NLB". Runs as root inside
// its own network namespace (the hub; see cli.ts), so that no address it creates exists outside it.
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Hub, HubIdentity, privateDnsName } from "./hub";
import { LabRootfs } from "./rootfs";

/** The lab's addresses (inside its namespaces only). */
export const NET = {
    prefix: "10.77.0",
    gateway: "10.77.0.1",
    dns: "10.77.0.2",
    nlb: "10.77.0.3",
    /** The "internet": Debian mirror, pkgs.k8s.io, S3, SSM. */
    internet: "203.0.113.10",
    imds: "169.254.169.254",
};

/** nsenter's arguments into every namespace and the root of a node's PID 1, with a clean environment. */
const NSENTER = (pid: number): string[] => [
    "-t",
    String(pid),
    "-m",
    "-u",
    "-n",
    "-p",
    "-r",
    "-w",
    "--",
    "/usr/bin/env",
    "-i",
    "PATH=/opt/keelson-lab/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
];

/** Result of a command run inside a node. */
export interface ExecResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

/** A booted (or booting) node. */
export class LabNode {
    readonly console: string[] = [];
    bootEnd?: number;
    bootStart = Date.now();
    cloudInitStatus = "";
    exited = false;
    pid1?: number;
    private waiters: (() => void)[] = [];

    constructor(
        readonly name: string,
        readonly ns: string,
        readonly ip: string,
        readonly hostname: string,
        /** The EC2 private DNS name (IMDS `local-hostname`): the Node and etcd member name. */
        readonly nodeName: string,
        readonly state: string,
        readonly proc: ChildProcess,
    ) {}

    onLine(line: string): void {
        this.console.push(line);
        if (line.startsWith("LAB cloud-init-status "))
            this.cloudInitStatus = line.slice(22).replace(/\|/g, "\n");
        if (line.startsWith("LAB boot-end ")) this.bootEnd = Date.now();
        if (line === "LAB ready-for-checks") this.notify();
    }

    notify(): void {
        for (const w of this.waiters.splice(0)) w();
    }

    /** Resolves when cloud-init's final stage is over (or the node died), or after timeoutMs. */
    async waitBooted(timeoutMs: number): Promise<boolean> {
        if (this.bootEnd || this.exited) return this.bootEnd !== undefined;
        await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, timeoutMs);
            this.waiters.push(() => {
                clearTimeout(t);
                resolve();
            });
        });
        return this.bootEnd !== undefined;
    }

    /** The bootstrap's and cloud-init's console output (what EC2's console log shows). */
    consoleText(): string {
        return this.console
            .filter((l) => l.startsWith("LAB console "))
            .map((l) => l.slice(12))
            .join("\n");
    }
}

/** Options of a lab run. */
export interface LabOptions {
    readonly img: LabRootfs;
    /** Working directory (node overlays, logs); removed by cleanup() unless keep. */
    readonly dir: string;
    readonly hub: Hub;
    readonly log: (line: string) => void;
    /**
     * KEELSON_LAB_TIME_SCALE of the run (default 1), written to the nodes' /opt/keelson-lab/state/time-scale:
     * the systemctl stub scales the restart delays by it (node commands run with a clean environment).
     */
    readonly timeScale?: number;
}

function sh(cmd: string, args: string[], allowFail = false): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`);
    return r.stdout;
}

/**
 * Removes what a lab run killed without cleanup left behind (network namespaces named `kl<pid>-*`
 * whose lab process is gone): kills every process in them (each node's PID 1 takes its PID
 * namespace and mounts with it) and deletes the namespaces.
 */
export function reapStale(log: (l: string) => void): void {
    for (const line of sh("ip", ["netns", "list"], true).split("\n")) {
        const m = /^(kl([0-9a-z]+))-\S+/.exec(line.trim());
        if (!m) continue;
        const pid = parseInt(m[2], 36);
        let alive = false;
        try {
            process.kill(pid, 0);
            alive =
                pid !== process.pid &&
                fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("tools/lab/cli");
        } catch {
            alive = false;
        }
        if (alive) continue;
        const ns = line.trim().split(/\s+/)[0];
        for (const p of sh("ip", ["netns", "pids", ns], true).split(/\s+/).filter(Boolean)) {
            try {
                process.kill(Number(p), "SIGKILL");
            } catch {
                // gone
            }
        }
        sh("ip", ["netns", "del", ns], true);
        log(`lab: removed the stale network namespace ${ns}`);
    }
}

/** Namespaces, processes and files of one lab run; cleanup() removes all of them. */
export class Lab {
    readonly id = `kl${process.pid.toString(36)}`;
    readonly nodes = new Map<string, LabNode>();
    private readonly daemons: ChildProcess[] = [];
    private readonly named = new Map<string, ChildProcess>();
    private readonly netnses = new Set<string>();
    private nextHost = 10;
    private hosts = new Map<string, string>();
    readonly opt: string;
    readonly toolsTmp: string;

    constructor(readonly o: LabOptions) {
        this.opt = path.join(o.dir, "opt");
        this.toolsTmp = fs.mkdtempSync(path.join(o.img.tools, "tmp", "keelson-lab-"));
    }

    /** The hub side: bridge, addresses, forwarding, the lab's /opt, dnsmasq. Call once. */
    async setup(): Promise<void> {
        sh("ip", ["link", "set", "lo", "up"]);
        sh("ip", ["link", "add", "br0", "type", "bridge"]);
        sh("ip", ["link", "set", "br0", "up"]);
        for (const a of [
            `${NET.gateway}/24`,
            `${NET.dns}/24`,
            `${NET.nlb}/24`,
            `${NET.internet}/32`,
            `${NET.imds}/32`,
        ])
            sh("ip", ["addr", "add", a, "dev", "br0"]);
        // The lab's /opt/keelson-lab, bind-mounted read-only into every node: the stubs and etcd.
        fs.mkdirSync(path.join(this.opt, "bin"), { recursive: true });
        fs.mkdirSync(path.join(this.opt, "state"), { recursive: true });
        fs.writeFileSync(path.join(this.opt, "state", "time-scale"), `${this.o.timeScale ?? 1}\n`);
        fs.cpSync(path.join(__dirname, "node"), path.join(this.opt, "node"), { recursive: true });
        for (const b of ["etcd", "etcdctl"])
            fs.copyFileSync(path.join(this.o.img.tools, "usr/bin", b), path.join(this.opt, "bin", b));
        fs.chmodSync(path.join(this.opt, "bin", "etcd"), 0o755);
        fs.chmodSync(path.join(this.opt, "bin", "etcdctl"), 0o755);
        this.writeHosts();
        await this.o.hub.start();
        const dnsmasq = this.daemon("dnsmasq", [
            "chroot",
            this.o.img.tools,
            "dnsmasq",
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            `--listen-address=${NET.dns}`,
            `--addn-hosts=/${path.relative(this.o.img.tools, this.hostsFile)}`,
            "--log-facility=-",
            "--user=root",
            "--pid-file=",
        ]);
        void dnsmasq;
        await new Promise((r) => setTimeout(r, 300));
    }

    get hostsFile(): string {
        return path.join(this.toolsTmp, "hosts");
    }

    /** Sets a DNS name (A record) served by the lab's dnsmasq, and reloads it. */
    setHost(name: string, address: string): void {
        this.hosts.set(name, address);
        this.writeHosts();
        for (const d of this.daemons)
            if (d.spawnargs.includes("dnsmasq") && d.pid) process.kill(d.pid, "SIGHUP");
    }

    private writeHosts(): void {
        fs.writeFileSync(this.hostsFile, [...this.hosts].map(([n, a]) => `${a} ${n}`).join("\n") + "\n");
    }

    /** Starts a long-running helper in the hub namespace (logged to <dir>/<name>.log), stopped by cleanup(). */
    daemon(name: string, argv: string[]): ChildProcess {
        const log = fs.openSync(path.join(this.o.dir, `${name}.log`), "a");
        const p = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log] });
        fs.closeSync(log);
        this.daemons.push(p);
        this.named.set(name, p);
        return p;
    }

    /** Stops a helper started by daemon(). */
    stopDaemon(name: string): void {
        const p = this.named.get(name);
        if (p && p.exitCode === null && p.pid) p.kill("SIGKILL");
        this.named.delete(name);
    }

    /** A file inside the tools rootfs (for the chrooted helpers), as [host path, chroot path]. */
    toolsFile(name: string, content: string): [string, string] {
        const f = path.join(this.toolsTmp, name);
        fs.writeFileSync(f, content);
        return [f, "/" + path.relative(this.o.img.tools, f)];
    }

    /** The next free node address. */
    allocateIp(): string {
        return `${NET.prefix}.${this.nextHost++}`;
    }

    /**
     * Boots a node: its network namespace and veth on the bridge, a NoCloud seed with the exact
     * (gzipped) user-data, the lab CA, then enter.sh under fresh mount, UTS and PID namespaces.
     * `preboot` (a shell snippet) runs inside the node just before cloud-init (scenario faults).
     */
    boot(name: string, identity: HubIdentity, userDataGzip: Buffer, labCaPem: string, preboot = ""): LabNode {
        const ip = this.allocateIp();
        const ns = `${this.id}-${name}`.slice(0, 30);
        // As on EC2: IMDS and the datasource give the private DNS name, cloud-init sets its first label.
        const nodeName = privateDnsName(ip, identity.region);
        const hostname = nodeName.split(".")[0];
        sh("ip", ["netns", "add", ns]);
        this.netnses.add(ns);
        const veth = `v${this.nextHost}${name.replace(/[^a-z0-9]/g, "")}`.slice(0, 15);
        sh("ip", ["link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
        sh("ip", ["link", "set", veth, "master", "br0", "up"]);
        const inNs = (...a: string[]) => sh("ip", ["netns", "exec", ns, ...a]);
        inNs("ip", "link", "set", "lo", "up");
        inNs("ip", "addr", "add", `${ip}/24`, "dev", "eth0");
        inNs("ip", "link", "set", "eth0", "up");
        inNs("ip", "route", "add", "default", "via", NET.gateway);
        this.o.hub.identities.set(ip, identity);
        const state = path.join(this.o.dir, "nodes", name + "-" + ip.split(".")[3]);
        const upper = path.join(state, "upper");
        // The seed and the few files an EC2 image would have: NoCloud seed, datasource list, resolver, lab CA.
        const put = (rel: string, content: string | Buffer, mode = 0o644) => {
            const f = path.join(upper, rel);
            fs.mkdirSync(path.dirname(f), { recursive: true });
            fs.writeFileSync(f, content, { mode });
        };
        put("var/lib/cloud/seed/nocloud/user-data", userDataGzip);
        put(
            "var/lib/cloud/seed/nocloud/meta-data",
            `instance-id: ${identity.instanceId}\nlocal-hostname: ${nodeName}\n`,
        );
        put(
            "etc/cloud/cloud.cfg.d/95-keelson-lab.cfg",
            "# Keelson boot lab: the seed is NoCloud; addresses are set by the lab before boot.\ndatasource_list: [NoCloud, None]\nnetwork: {config: disabled}\n",
        );
        put("etc/resolv.conf", `nameserver ${NET.dns}\n`);
        put("usr/local/share/ca-certificates/keelson-lab.crt", labCaPem);
        // Packages must not start services on install: there is no systemd; the systemctl stub starts them.
        put("usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755);
        put("etc/keelson-lab/preboot.sh", `#!/bin/bash\n${preboot}\n`, 0o755);
        const p = spawn(
            "ip",
            [
                "netns",
                "exec",
                ns,
                "unshare",
                "--mount",
                "--uts",
                "--pid",
                "--fork",
                "--propagation",
                "private",
                "--",
                "bash",
                path.join(this.opt, "node", "enter.sh"),
                this.o.img.base,
                state,
                hostname,
                this.opt,
            ],
            { stdio: ["ignore", "pipe", "pipe"] },
        );
        const node = new LabNode(name, ns, ip, hostname, nodeName, state, p);
        const logFile = fs.createWriteStream(
            path.join(this.o.dir, `${name}-${ip.split(".")[3]}.console.log`),
        );
        let buf = "";
        p.stdout!.on("data", (c: Buffer) => {
            logFile.write(c);
            buf += c.toString();
            let i: number;
            while ((i = buf.indexOf("\n")) >= 0) {
                node.onLine(buf.slice(0, i));
                buf = buf.slice(i + 1);
            }
        });
        p.stderr!.on("data", (c: Buffer) => logFile.write(c));
        p.on("exit", () => {
            node.exited = true;
            logFile.end();
            node.notify();
        });
        this.nodes.set(name, node);
        return node;
    }

    /** PID (in the lab's PID namespace) of a node's PID 1. */
    private pid1(node: LabNode): number | undefined {
        if (node.pid1) return node.pid1;
        const pid = node.proc.pid;
        if (!pid) return undefined;
        try {
            const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
            node.pid1 = Number(children[0]) || undefined;
        } catch {
            return undefined;
        }
        return node.pid1;
    }

    /** {@link exec} without blocking the lab process (for commands that call the hub's services). */
    execAsync(node: LabNode, argv: string[], timeoutMs = 30000): Promise<ExecResult> {
        const pid = this.pid1(node);
        if (!pid || node.exited)
            return Promise.resolve({ code: 255, stdout: "", stderr: `${node.name} is not running` });
        return new Promise((resolve) => {
            const p = spawn("nsenter", [...NSENTER(pid), ...argv], { stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            p.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
            p.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
            const t = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
            p.on("close", (code) => {
                clearTimeout(t);
                resolve({ code: code ?? 124, stdout, stderr });
            });
        });
    }

    /** Runs a command inside a node (all its namespaces and its root), like an SSM session would. */
    exec(node: LabNode, argv: string[], timeoutMs = 30000): ExecResult {
        const pid = this.pid1(node);
        if (!pid || node.exited) return { code: 255, stdout: "", stderr: `${node.name} is not running` };
        const r = spawnSync("nsenter", [...NSENTER(pid), ...argv], { encoding: "utf8", timeout: timeoutMs });
        return { code: r.status ?? 124, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
    }

    /**
     * Fires a node's timer as its elapse would: the timer must have been started (the systemctl stub
     * records it), and its service (`Unit=`, else the timer's name) is started and, a oneshot, runs to
     * completion in the node's namespaces with systemd's clean environment. The lab decides when a
     * timer elapses (scenarios that move the lab clock fire the timers that would have fired).
     */
    async fireTimer(
        node: LabNode,
        timer: string,
        timeoutMs = 180000,
    ): Promise<ExecResult & { service: string }> {
        const active = this.exec(node, ["cat", "/run/lab-units/timers-active"]);
        if (!active.stdout.split("\n").includes(timer))
            return { code: 1, stdout: "", stderr: `${timer} was never started on ${node.name}`, service: "" };
        const unit = this.exec(node, [
            "bash",
            "-c",
            `for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do [[ -f "$d/$1" ]] && exec cat "$d/$1"; done; exit 1`,
            "-",
            timer,
        ]);
        if (unit.code !== 0)
            return { code: 1, stdout: "", stderr: `${node.name}: no unit file for ${timer}`, service: "" };
        const service = /^Unit=(\S+)$/m.exec(unit.stdout)?.[1] ?? timer.replace(/\.timer$/, ".service");
        // Asynchronous: the service calls the hub (IMDS, SSM), which this process serves meanwhile.
        return { ...(await this.execAsync(node, ["systemctl", "start", service], timeoutMs)), service };
    }

    /** Ends a node at once (the instance is terminated): its PID namespace, mounts and network namespace go. */
    async kill(node: LabNode): Promise<void> {
        const pid = this.pid1(node);
        if (pid && !node.exited) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // already gone
            }
        }
        if (!node.exited)
            await new Promise<void>((r) => (node.exited ? r() : node.proc.once("exit", () => r())));
        this.o.hub.identities.delete(node.ip);
        sh("ip", ["netns", "del", node.ns], true);
        this.netnses.delete(node.ns);
    }

    /** Runs a command in a node's network namespace only (route changes for scenarios). */
    inNetns(node: LabNode, argv: string[]): void {
        sh("ip", ["netns", "exec", node.ns, ...argv]);
    }

    /** Stops everything this run started and removes its namespaces and files. Safe to call twice. */
    async cleanup(keep = false): Promise<void> {
        await Promise.all([...this.nodes.values()].map((n) => this.kill(n)));
        for (const d of this.daemons) if (d.exitCode === null && d.pid) d.kill("SIGKILL");
        await this.o.hub.stop().catch(() => undefined);
        for (const ns of this.netnses) sh("ip", ["netns", "del", ns], true);
        this.netnses.clear();
        fs.rmSync(this.toolsTmp, { recursive: true, force: true });
        if (!keep) fs.rmSync(this.o.dir, { recursive: true, force: true });
        void execFileSync;
    }
}
