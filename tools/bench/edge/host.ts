// What the edge benchmark reports about the machine, and the syslog sink the haproxy subjects log to.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import { Started, freePort, startProcess } from "../../../test/support/live";

/** Cores, CPU model and the load average when the run started (the machine is shared). */
export function machine(): { nproc: number; cpu: string; loadavg: string } {
    const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
    return {
        nproc: os.cpus().length,
        cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown",
        loadavg: os
            .loadavg()
            .map((l) => l.toFixed(2))
            .join(" "),
    };
}

/** Single-core signatures per second from `openssl speed` (context for the handshake figures). */
export function opensslSigns(): { rsa2048: number; ecdsap256: number } {
    const out = execFileSync("openssl", ["speed", "-seconds", "1", "rsa2048", "ecdsap256"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
    });
    const rsa = /^rsa 2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/m.exec(out);
    const ecdsa = /^\s*256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/m.exec(out);
    if (!rsa || !ecdsa) throw new Error(`unreadable openssl speed output:\n${out}`);
    return { rsa2048: Number(rsa[1]), ecdsap256: Number(ecdsa[1]) };
}

/**
 * A UDP syslog receiver on loopback that reads and discards, like journald's socket does for
 * `/dev/log`: haproxy pays for sending its logs, and no datagram draws an ICMP port-unreachable
 * (which costs the sender about 15 % when nobody listens).
 */
export async function startLogSink(): Promise<{ address: string; process: Started }> {
    const port = await freePort();
    const code = `require("dgram").createSocket("udp4").on("message", () => {}).bind(${port}, "127.0.0.1", () => console.log("ready"))`;
    const p = startProcess(process.execPath, ["-e", code]);
    const deadline = Date.now() + 5000;
    while (!p.output().includes("ready")) {
        if (Date.now() > deadline) throw new Error(`log sink did not start: ${p.output()}`);
        await new Promise((r) => setTimeout(r, 20));
    }
    return { address: `127.0.0.1:${port}`, process: p };
}

/** Resolves once `address:port` accepts TCP connections, or rejects after `timeoutMs`. */
export async function waitForAddress(address: string, port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, address);
            socket.once("connect", () => {
                socket.destroy();
                resolve(true);
            });
            socket.once("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline)
            throw new Error(`nothing listens on ${address}:${port} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
    }
}
