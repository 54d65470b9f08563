// Runs wrk and parses its report (requests/s, p99 latency, failures). The parser is pure.
import { execFile } from "child_process";

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
