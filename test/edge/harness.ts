// Helpers for the edge live tests: loopback backends, an edge process rendered by Keelson's own
// renderers, and small HTTPS/TCP/UDP clients that pin the source address and SNI name.
import { ChildProcess, spawn } from "child_process";
import * as dgram from "dgram";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import { renderEdgeBootstrapScript } from "../../components/edge/render/bootstrap";
import { Started, startProcess, waitForPort } from "../support/live";
import { EdgeBinary } from "./engines";

/** The backend stand-in, a plain node script (see its header for the arguments). */
export const BACKEND_SCRIPT = path.join(__dirname, "fixtures", "backend.js");

/** Starts one backend process and resolves once every listener is up. */
export async function startBackend(id: string, address: string, specs: string[]): Promise<Started> {
    const started = startProcess(process.execPath, [BACKEND_SCRIPT, id, address, ...specs], {
        cwd: path.join(__dirname, "..", ".."),
    });
    const deadline = Date.now() + 10000;
    while (!started.output().includes(`ready ${id}`)) {
        if (started.child.exitCode !== null || Date.now() > deadline) {
            throw new Error(`backend ${id} did not start:\n${started.output()}`);
        }
        await new Promise((r) => setTimeout(r, 20));
    }
    return started;
}

/** Starts an edge engine and waits until its HTTPS port (on `host`) accepts connections. */
export async function startEdge(
    cmd: string,
    args: string[],
    port: number,
    host = "127.0.0.1",
): Promise<Started> {
    const started = startProcess(cmd, args);
    try {
        await waitForPort(port, 10000, host);
    } catch (e) {
        await started.stop();
        throw new Error(`${cmd} did not listen on ${port}: ${(e as Error).message}\n${started.output()}`);
    }
    return started;
}

/**
 * Starts `binary` (Debian 13's engine in the lab rootfs, or the host's) with `args`, seeing `dirs`
 * at their own paths, and waits until its HTTPS port accepts connections. The child's PID is the
 * engine's (signals reach it directly).
 */
export async function launchEdge(
    binary: EdgeBinary,
    args: string[],
    dirs: string[],
    port: number,
): Promise<Started> {
    const c = binary.command(args, dirs);
    return startEdge(c.cmd, c.args, port);
}

/** One request the backends logged (fixtures/backend.js): which node saw which test id. */
export interface Logged {
    readonly id: string;
    readonly method: string;
    readonly path: string;
    readonly testId: string;
}

/** Every request a backend's output logs, in order. */
export function loggedRequests(backend: Started): Logged[] {
    return [...backend.output().matchAll(/^req (\S+) (\S+) (\S+) (\S+)$/gm)].map((m) => ({
        id: m[1],
        method: m[2],
        path: m[3],
        testId: m[4],
    }));
}

/**
 * Makes a stopped (SIGSTOP) backend drop new connections the way a node without a ready pod does
 * behind externalTrafficPolicy Local: fills its listen queue (start it with a small `backlog=`), after
 * which the kernel drops every new SYN. `release()` closes the filler connections.
 */
export async function dropNewConnections(address: string, port: number): Promise<{ release: () => void }> {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < 64; i++) {
        const socket = net.connect({ host: address, port });
        socket.on("error", () => undefined);
        sockets.push(socket);
        const connected = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), 300);
            socket.once("connect", () => {
                clearTimeout(timer);
                resolve(true);
            });
        });
        if (!connected) return { release: () => sockets.forEach((s) => s.destroy()) };
    }
    sockets.forEach((s) => s.destroy());
    throw new Error(`${address}:${port} still accepts connections after 64; is the backend stopped?`);
}

/** What a client saw. `json` is the backend's echo when the body was JSON. */
export interface Reply {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
    readonly json?: Echo;
    /** Resent after a reused connection closed before any response (`retryReused`). */
    readonly retried?: boolean;
}

/** The backend's echo of a request. */
export interface Echo {
    readonly id: string;
    readonly pool: string;
    readonly method: string;
    readonly path: string;
    readonly headers: Record<string, string>;
    readonly remote: string;
}

/** A request to the edge on loopback, with the Host header and SNI name of `host`. */
export interface Call {
    readonly port: number;
    readonly host: string;
    readonly path: string;
    readonly tls: boolean;
    readonly ca?: string[];
    readonly method?: string;
    readonly headers?: Record<string, string>;
    /** Source address, to tell the client apart from the edge in the backend's view. Default 127.0.0.5. */
    readonly localAddress?: string;
    readonly agent?: http.Agent | false;
    /** Skip certificate verification (for names no certificate covers). Default false. */
    readonly insecure?: boolean;
    /** Request body (sent with content-length). Default none. */
    readonly body?: string;
    /** Client-side timeout in ms. Default 10000. */
    readonly timeoutMs?: number;
    /**
     * Resend a GET or HEAD once when a reused keep-alive connection closes before any response, as
     * browsers and curl do (RFC 9112 9.3.1; a proxy reload closes idle client connections). Default false.
     */
    readonly retryReused?: boolean;
}

const usedSockets = new WeakSet<net.Socket>();

/** Sends one request; rejects on network or TLS errors. */
export function call(c: Call): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const idempotent = ["GET", "HEAD"].includes(c.method ?? "GET");
        const fail = (e: NodeJS.ErrnoException) =>
            c.retryReused && idempotent && reused && e.code === "ECONNRESET"
                ? call({ ...c, agent: false, retryReused: false }).then(
                      (r) => resolve({ ...r, retried: true }),
                      reject,
                  )
                : reject(e);
        const options: https.RequestOptions = {
            host: "127.0.0.1",
            port: c.port,
            path: c.path,
            method: c.method ?? "GET",
            headers: { host: c.host, ...c.headers },
            localAddress: c.localAddress ?? "127.0.0.5",
            agent: c.agent ?? false,
            servername: c.host,
            ca: c.ca,
            rejectUnauthorized: !c.insecure,
            timeout: c.timeoutMs ?? 10000,
        };
        const req = (c.tls ? https : http).request(options, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => (body += d));
            res.on("end", () => {
                let json: Echo | undefined;
                if (String(res.headers["content-type"]).startsWith("application/json"))
                    json = JSON.parse(body);
                resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
            });
            res.on("error", reject);
        });
        // Node's req.reusedSocket is false when a queued request gets a kept-alive socket through the
        // agent's 'free' handler (Node 20 _http_agent.js: setRequestSocket without reuseSocket), so
        // the client tracks which sockets carried a request before.
        let reused = false;
        req.on("socket", (s: net.Socket) => {
            reused = usedSockets.has(s);
            usedSockets.add(s);
        });
        req.on("timeout", () => req.destroy(new Error("request timed out")));
        req.on("error", fail);
        req.end(c.body);
    });
}

/** The outcome of a bare TLS handshake. */
export interface Handshake {
    readonly protocol?: string;
    readonly subjectCN?: string;
    /** `prime256v1` for ECDSA P-256 certificates, undefined for RSA. */
    readonly curve?: string;
    readonly bits?: number;
    readonly errorCode?: string;
}

/** Does one TLS handshake and reports the protocol and certificate, or the error code. */
export function handshake(
    port: number,
    servername: string,
    opts: tls.ConnectionOptions = {},
): Promise<Handshake> {
    return new Promise((resolve) => {
        const socket = tls.connect({
            host: "127.0.0.1",
            port,
            servername,
            rejectUnauthorized: false,
            ...opts,
        });
        socket.once("secureConnect", () => {
            const cert = socket.getPeerCertificate();
            resolve({
                protocol: socket.getProtocol() ?? undefined,
                subjectCN: cert.subject?.CN as string | undefined,
                curve: (cert as { asn1Curve?: string }).asn1Curve,
                bits: cert.bits,
            });
            socket.end();
        });
        socket.once("error", (e: NodeJS.ErrnoException) => resolve({ errorCode: e.code }));
    });
}

/** Opens a TCP connection, reads the backend's greeting, echoes `text` and returns both. */
export function tcpExchange(port: number, text: string): Promise<{ greeting: string; echo: string }> {
    return new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1");
        let data = "";
        socket.setEncoding("utf8");
        socket.setTimeout(5000, () => socket.destroy(new Error("tcp exchange timed out")));
        socket.on("data", (d: string) => {
            data += d;
            const nl = data.indexOf("\n");
            if (nl >= 0 && data.length === nl + 1) socket.write(text);
            if (nl >= 0 && data.length >= nl + 1 + text.length) {
                socket.end();
                resolve({ greeting: data.slice(0, nl), echo: data.slice(nl + 1) });
            }
        });
        socket.on("error", reject);
    });
}

/** Sends one UDP datagram to the edge and resolves with the first reply. */
export function udpExchange(port: number, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = dgram.createSocket("udp4");
        const timer = setTimeout(() => {
            socket.close();
            reject(new Error("no UDP reply within 5s"));
        }, 5000);
        socket.on("message", (msg) => {
            clearTimeout(timer);
            socket.close();
            resolve(msg.toString());
        });
        socket.send(text, port, "127.0.0.1");
    });
}

/** Runs `total` calls with `concurrency` in flight; `onProgress` fires after each completes. */
export async function loadLoop(
    total: number,
    concurrency: number,
    send: () => Promise<Reply>,
    onProgress: (done: number, replies: readonly Reply[]) => void,
): Promise<{ replies: Reply[]; failures: string[] }> {
    const replies: Reply[] = [];
    const failures: string[] = [];
    let started = 0;
    let done = 0;
    const worker = async () => {
        while (started < total) {
            started++;
            try {
                const reply = await send();
                if (reply.status !== 200) failures.push(`status ${reply.status}: ${reply.body.slice(0, 80)}`);
                replies.push(reply);
            } catch (e) {
                failures.push((e as Error).message);
            }
            onProgress(++done, replies);
        }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { replies, failures };
}

/** Reads a file, or "" when it does not exist (logs written lazily). */
export function readIfExists(file: string): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/**
 * The nginx renderer's options that put everything of a test's nginx in `dir` (pid, logs, temp files), run as
 * root, without OCSP stapling (no responder on loopback).
 */
export function nginxTestPaths(dir: string) {
    return {
        user: "root",
        pidFile: path.join(dir, "nginx.pid"),
        errorLog: path.join(dir, "error.log"),
        accessLog: path.join(dir, "access.log"),
        tempDir: dir,
        ocspStapling: false,
    };
}

/**
 * The haproxy renderer's options for a test's haproxy in `dir`: run as the test's user, logging to stdout,
 * its admin socket in `dir`, 2000 connections at most.
 */
export function haproxyTestOptions(dir: string) {
    return {
        user: "",
        log: "stdout format raw local0",
        statsSocket: path.join(dir, "admin.sock"),
        maxconn: 2000,
    };
}

/** Writes `config` as the nginx host has it: the live config and the desired one the health loop reads. */
export function writeNginxConfigs(dir: string, config: string): { live: string; desired: string } {
    const live = path.join(dir, "nginx.conf");
    const desired = path.join(dir, "desired.conf");
    fs.writeFileSync(live, config);
    fs.writeFileSync(desired, config);
    return { live, desired };
}

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Options of {@link startHealthLoop}. */
export interface HealthLoopOptions {
    /** A hosts file bind-mounted over /etc/hosts for the loop (its own mount namespace), as for the engine. */
    readonly hosts?: string;
    /** Changes the rendered functions before they run (guards: a loop without one of its parts). */
    readonly patch?: (script: string) => string;
}

/**
 * The nginx host's health loop (render/bootstrap.ts `health`), with the test's paths: the real
 * probe (curl), marking, name resolution (getent) and `nginx -t`; the reload is a SIGHUP to the test's nginx.
 */
export function startHealthLoop(
    bin: EdgeBinary,
    dir: string,
    desired: string,
    live: string,
    pid: number,
    o: HealthLoopOptions = {},
): ChildProcess {
    const script = renderEdgeBootstrapScript({
        engine: "nginx",
        region: "eu-west-1",
        certificates: [],
        tls: { kind: "ssm", parameterPrefix: "/unused" },
        configParameter: "/unused",
    }).replace(/^case "\$\{1:-\}" in[\s\S]*$/m, "");
    const check = bin.command(["-t", "-q", "-c", "FILE"], [dir]);
    const checkLine = [check.cmd, ...check.args].map((a) => (a === "FILE" ? '"$1"' : q(a))).join(" ");
    const driver = [
        script,
        `DESIRED_CONFIG=${q(desired)}`,
        `LIVE_CONFIG=${q(live)}`,
        `HEALTH_DOWN=${q(path.join(dir, "health.down"))}`,
        `check_config() { ${checkLine} >/dev/null 2>&1; }`,
        `reload_engine() { kill -HUP ${pid}; }`,
        "health",
    ].join("\n");
    const file = path.join(dir, "health.sh");
    fs.writeFileSync(file, o.patch ? o.patch(driver) : driver);
    const command = o.hosts
        ? [
              "unshare",
              ["--mount", "sh", "-c", 'mount --bind "$1" /etc/hosts && exec bash "$2"', "_", o.hosts, file],
          ]
        : ["bash", [file]];
    const child = spawn(command[0] as string, command[1] as string[], {
        env: { ...process.env, TMPDIR: dir },
        stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (d) => process.env.KEELSON_DEBUG && process.stderr.write(d));
    return child;
}
