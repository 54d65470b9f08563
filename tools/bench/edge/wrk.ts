// Runs wrk and parses its report (requests/s, p99 latency, failures). The parser is pure.
import { execFile } from "child_process";
import * as fs from "fs";

/** One load run's figures. */
export interface WrkResult {
    readonly rps: number;
    readonly p99_ms: number;
    /** Socket errors (connect, read, write, timeout) plus non-2xx/3xx responses. */
    readonly failures: number;
    readonly requests: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60000 };

/** Parses `wrk --latency` output. Throws when a figure is missing, so a broken run never reads as 0. */
export function parseWrk(output: string): WrkResult {
    const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
    const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(output);
    const total = /^\s+(\d+) requests in /m.exec(output);
    if (!rps || !p99 || !total) throw new Error(`unreadable wrk output:\n${output}`);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
    const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
    return {
        rps: Number(rps[1]),
        p99_ms: Number(p99[1]) * UNIT_MS[p99[2]],
        failures: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
        requests: Number(total[1]),
    };
}

/** Options of one wrk run. */
export interface WrkRun {
    readonly url: string;
    readonly seconds: number;
    readonly connections: number;
    readonly threads: number;
    readonly headers?: readonly string[];
}

/** Runs wrk once (bounded by `seconds` plus a grace period) and parses its report. */
export function runWrk(run: WrkRun): Promise<WrkResult> {
    const args = [
        "--latency",
        "-t",
        String(run.threads),
        "-c",
        String(run.connections),
        "-d",
        `${run.seconds}s`,
        "--timeout",
        "5s",
        ...(run.headers ?? []).flatMap((h) => ["-H", h]),
        run.url,
    ];
    return new Promise((resolve, reject) => {
        execFile("wrk", args, { timeout: (run.seconds + 20) * 1000 }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`wrk ${args.join(" ")} failed: ${err.message}\n${stderr}`));
            try {
                resolve(parseWrk(stdout));
            } catch (e) {
                reject(e);
            }
        });
    });
}

/** CPU seconds (user + system) used so far by a process and its direct children (nginx workers). */
export function processTreeCpuSeconds(pid: number): number {
    const ticks = (p: string) => {
        try {
            const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
            // Fields after the command name, which is in parentheses and may contain spaces.
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            return { ppid: Number(fields[1]), cpu: Number(fields[11]) + Number(fields[12]) };
        } catch {
            return { ppid: -1, cpu: 0 };
        }
    };
    let total = ticks(String(pid)).cpu;
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || entry === String(pid)) continue;
        const t = ticks(entry);
        if (t.ppid === pid) total += t.cpu;
    }
    return total / CLOCK_TICKS;
}

// USER_HZ: 100 on every Linux/x86-64 kernel this runs on (getconf CLK_TCK).
const CLOCK_TICKS = 100;

/** Parses `openssl s_time` output: the number of connections it completed. */
export function parseSTime(output: string): number {
    const m = /^(\d+) connections in [\d.]+ real seconds/m.exec(output);
    if (!m) throw new Error(`unreadable openssl s_time output:\n${output}`);
    return Number(m[1]);
}

/** Parses the children's CPU seconds (cutime + cstime) from a `/proc/<pid>/stat` line. */
export function parseChildCpu(stat: string): number {
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/**
 * Full TLS handshakes against 127.0.0.1:port for `seconds`, from `clients` parallel `openssl s_time
 * -new` processes (every connection a new session: no resumption, unlike wrk, which resumes). The
 * clients skip loading any CA store (`-no-CAfile -no-CApath -no-CAstore`), which otherwise costs
 * them more CPU than the handshake itself; their own CPU is measured (through the shell that waits
 * for each), so that a client-bound run shows.
 */
export async function runHandshakes(
    port: number,
    seconds: number,
    clients: number,
): Promise<{ handshakes: number; seconds: number; client_cpu_s: number }> {
    const started = Date.now();
    const one = () =>
        new Promise<{ n: number; cpu: number }>((resolve, reject) => {
            const client = `openssl s_time -connect 127.0.0.1:${port} -new -time ${seconds} -no-CAfile -no-CApath -no-CAstore`;
            // The shell prints its own stat after waiting for openssl: cutime/cstime hold openssl's CPU.
            const script = `${client} 2>/dev/null; echo; cat /proc/$$/stat`;
            execFile("sh", ["-c", script], { timeout: (seconds + 20) * 1000 }, (err, stdout) => {
                if (err) return reject(new Error(`${client} failed: ${err.message}`));
                try {
                    const stat = stdout.trim().split("\n").pop() ?? "";
                    // A client that completed no handshake (the server refused them all) counts 0.
                    const n = /^\d+ connections in [\d.]+ real seconds/m.test(stdout)
                        ? parseSTime(stdout)
                        : 0;
                    resolve({ n, cpu: parseChildCpu(stat) });
                } catch (e) {
                    reject(e);
                }
            });
        });
    const runs = await Promise.all(Array.from({ length: clients }, one));
    return {
        handshakes: runs.reduce((a, r) => a + r.n, 0),
        seconds: (Date.now() - started) / 1000,
        client_cpu_s: Number(runs.reduce((a, r) => a + r.cpu, 0).toFixed(2)),
    };
}
