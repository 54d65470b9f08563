// `npm run bench:edge [-- --json] [-- --seconds N]`: Keelson's nginx and haproxy edge configs (TLS,
// rendered by components/edge/render exactly as in production) against the backend served directly
// (the limit) and a naive TLS proxy (the baseline), plus full TLS handshakes/s with ECDSA vs RSA.
// Everything runs on loopback with wrk; one run of each, about 70 s in all with the default 8 s.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderHaproxyConfig } from "../../../components/edge/render/haproxy";
import { renderNginxConfig } from "../../../components/edge/render/nginx";
import { EdgeSpec } from "../../../components/edge/types";
import {
    Started,
    findTool,
    freePort,
    makeTestCert,
    startProcess,
    tempDir,
    waitForPort,
} from "../../../test/support/live";
import { NginxPaths, renderNaiveProxy, renderStaticBackend } from "./configs";
import { WrkResult, processTreeCpuSeconds, runHandshakes, runWrk } from "./wrk";

const HOST = "bench.example.com";
const BACKENDS = [
    { name: "b1", address: "127.0.0.2" },
    { name: "b2", address: "127.0.0.3" },
];

/** One full-handshake run. */
interface Handshakes {
    readonly name: string;
    readonly handshakes_per_s: number;
    readonly server_cpu_s: number;
    readonly per_proxy_cpu_second: number;
}

/** One reported run. */
interface Run extends WrkResult {
    readonly name: string;
    readonly description: string;
    /** CPU seconds the proxy under test used during the run (not the client's or the backend's). */
    readonly server_cpu_s?: number;
}

function arg(name: string): string | undefined {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

function machine(): { nproc: number; cpu: string } {
    const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
    return { nproc: os.cpus().length, cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown" };
}

/** Single-core signatures per second from `openssl speed` (context for the handshake figures). */
function opensslSigns(): { rsa2048: number; ecdsap256: number } {
    const out = execFileSync("openssl", ["speed", "-seconds", "1", "rsa2048", "ecdsap256"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
    });
    const rsa = /^rsa 2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/m.exec(out);
    const ecdsa = /^\s*256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/m.exec(out);
    if (!rsa || !ecdsa) throw new Error(`unreadable openssl speed output:\n${out}`);
    return { rsa2048: Number(rsa[1]), ecdsap256: Number(ecdsa[1]) };
}

async function main(): Promise<number> {
    const json = process.argv.includes("--json");
    const seconds = Number(arg("--seconds") ?? 8);
    const say = (line: string) => (json ? undefined : console.log(line));
    for (const tool of ["nginx", "haproxy", "wrk", "openssl"]) {
        if (!findTool(tool)) {
            console.error(`bench:edge needs ${tool}; install the Debian packages nginx haproxy wrk openssl`);
            return 2;
        }
    }
    const tmp = tempDir("bench-edge");
    const running: Started[] = [];
    const start = async (cmd: string, args: string[], port: number) => {
        const p = startProcess(cmd, args);
        running.push(p);
        await waitForPort(port, 10000).catch((e) => {
            throw new Error(`${cmd} did not start: ${(e as Error).message}\n${p.output()}`);
        });
        return p;
    };
    const stop = async (p: Started) => {
        await p.stop();
        running.splice(running.indexOf(p), 1);
    };
    const paths = (label: string): NginxPaths => {
        const dir = path.join(tmp.dir, label);
        fs.mkdirSync(dir);
        return { pidFile: path.join(dir, "nginx.pid"), errorLog: path.join(dir, "error.log"), tempDir: dir };
    };
    try {
        const ecdsa = makeTestCert(tmp.dir, "ecdsa", [HOST]);
        makeTestCert(tmp.dir, "rsa", [HOST], true);
        const backendPort = await freePort();
        const httpPort = await freePort();
        const httpsPort = await freePort();
        const spec = (cert: string): EdgeSpec => ({
            routes: [
                {
                    kind: "http",
                    name: "web",
                    hosts: [HOST],
                    path: "/",
                    nodePort: backendPort,
                    healthPath: "/",
                },
            ],
            backends: BACKENDS,
            certificates: [{ name: cert, hosts: [HOST] }],
        });
        const common = { listenAddress: "127.0.0.1", httpPort, httpsPort, certDir: tmp.dir };
        const keelsonNginx = (cert: string) => {
            const p = paths(`nginx-${cert}`);
            const file = path.join(p.tempDir, "nginx.conf");
            fs.writeFileSync(
                file,
                renderNginxConfig(spec(cert), {
                    ...common,
                    user: "root",
                    pidFile: p.pidFile,
                    errorLog: p.errorLog,
                    accessLog: path.join(p.tempDir, "access.log"),
                    tempDir: p.tempDir,
                    ocspStapling: false,
                }),
            );
            return start("nginx", ["-p", p.tempDir, "-c", file, "-g", "daemon off;"], httpsPort);
        };
        const keelsonHaproxy = (cert: string) => {
            const file = path.join(tmp.dir, `haproxy-${cert}.cfg`);
            const config = renderHaproxyConfig(spec(cert), {
                ...common,
                user: "",
                // Logs go to a UDP port nobody reads: the cost of sending them stays, the output does not.
                log: "127.0.0.1:9 local0",
                statsSocket: path.join(tmp.dir, `haproxy-${cert}.sock`),
                maxconn: 4000,
            });
            fs.writeFileSync(file, config);
            return start("haproxy", ["-db", "-f", file], httpsPort);
        };

        const m = machine();
        const load = { seconds, connections: 64, threads: 2 };
        say(
            `Keelson edge benchmark: ${m.nproc} x ${m.cpu}; wrk ${load.threads} threads, ${load.connections} connections, ${seconds}s per run`,
        );
        const runs: Run[] = [];
        const measure = async (
            name: string,
            description: string,
            url: string,
            headers: string[],
            server?: Started,
            secs = seconds,
        ) => {
            await runWrk({ ...load, seconds: 1, url, headers }); // warm-up: workers, caches, upstream pools
            const pid = server?.child.pid;
            const before = pid ? processTreeCpuSeconds(pid) : 0;
            const result = await runWrk({ ...load, seconds: secs, url, headers });
            const cpu = pid ? Number((processTreeCpuSeconds(pid) - before).toFixed(2)) : undefined;
            runs.push({ name, description, ...result, ...(cpu !== undefined ? { server_cpu_s: cpu } : {}) });
            const perCore = cpu ? `  ${(result.requests / cpu).toFixed(0)} per proxy CPU-second` : "";
            say(
                `  ${name.padEnd(26)} ${result.rps.toFixed(0).padStart(8)} req/s  p99 ${result.p99_ms.toFixed(2).padStart(7)} ms  failures ${result.failures}${perCore}`,
            );
        };
        const host = [`Host: ${HOST}`];
        const handshakeSeconds = Math.max(2, Math.round(seconds * 0.6));
        const tlsUrl = `https://127.0.0.1:${httpsPort}/`;

        const backendPaths = paths("backend");
        const backendConf = path.join(backendPaths.tempDir, "nginx.conf");
        const addresses = BACKENDS.map((b) => b.address);
        fs.writeFileSync(backendConf, renderStaticBackend(backendPaths, addresses, backendPort));
        const backend = startProcess("nginx", [
            "-p",
            backendPaths.tempDir,
            "-c",
            backendConf,
            "-g",
            "daemon off;",
        ]);
        running.push(backend);
        await new Promise((r) => setTimeout(r, 300));
        const limitUrl = `http://127.0.0.2:${backendPort}/`;
        await measure("limit", "static nginx backend, plain HTTP, no proxy", limitUrl, host, backend);

        // Each proxy runs alone, so that idle ones take nothing from the one measured.
        const handshakes: Handshakes[] = [];
        const measureHandshakes = async (engine: string, key: string, server: Started) => {
            const before = processTreeCpuSeconds(server.child.pid!);
            const r = await runHandshakes(httpsPort, handshakeSeconds, 2);
            const cpu = Number((processTreeCpuSeconds(server.child.pid!) - before).toFixed(2));
            const h = {
                name: `handshakes-${engine}-${key}`,
                handshakes_per_s: Number((r.handshakes / r.seconds).toFixed(1)),
                server_cpu_s: cpu,
                per_proxy_cpu_second: Number((r.handshakes / (cpu || Number.NaN)).toFixed(1)),
            };
            handshakes.push(h);
            say(
                `  ${h.name.padEnd(26)} ${h.handshakes_per_s.toFixed(0).padStart(8)} full handshakes/s  ${h.per_proxy_cpu_second.toFixed(0)} per proxy CPU-second`,
            );
        };
        let p = await keelsonNginx("ecdsa");
        await measure(
            "keelson-nginx",
            "Keelson nginx.conf, TLS 1.3, ECDSA, upstream keep-alive",
            tlsUrl,
            host,
            p,
        );
        await measureHandshakes("nginx", "ecdsa", p);
        await stop(p);
        p = await keelsonNginx("rsa");
        await measureHandshakes("nginx", "rsa", p);
        await stop(p);

        p = await keelsonHaproxy("ecdsa");
        await measure("keelson-haproxy", "Keelson haproxy.cfg, TLS 1.3, ECDSA, nbthread 2", tlsUrl, host, p);
        await measureHandshakes("haproxy", "ecdsa", p);
        await stop(p);
        p = await keelsonHaproxy("rsa");
        await measureHandshakes("haproxy", "rsa", p);
        await stop(p);

        const naivePaths = paths("naive");
        const naiveConf = path.join(naivePaths.tempDir, "nginx.conf");
        fs.writeFileSync(
            naiveConf,
            renderNaiveProxy(naivePaths, {
                port: httpsPort,
                certFile: ecdsa.certFile,
                keyFile: ecdsa.keyFile,
                backend: `127.0.0.2:${backendPort}`,
                accessLog: path.join(naivePaths.tempDir, "access.log"),
            }),
        );
        p = await start("nginx", ["-p", naivePaths.tempDir, "-c", naiveConf, "-g", "daemon off;"], httpsPort);
        await measure(
            "naive-nginx",
            "tutorial TLS proxy: no upstream keep-alive, no session cache",
            tlsUrl,
            host,
            p,
        );
        await stop(p);

        const signs = opensslSigns();
        const find = (name: string) => runs.find((r) => r.name === name)!;
        const ratio = (a: string, b: string) => Number((find(a).rps / find(b).rps).toFixed(3));
        // Requests per CPU-second of the proxy alone: steadier than req/s on a shared machine.
        const perCpuRun = (name: string) => find(name).requests / (find(name).server_cpu_s || Number.NaN);
        const cpuRatio = (a: string, b: string) => Number((perCpuRun(a) / perCpuRun(b)).toFixed(3));
        const hs = (name: string) => handshakes.find((h) => h.name === name)!;
        const hsRatio = (engine: string, field: "handshakes_per_s" | "per_proxy_cpu_second") =>
            Number(
                (hs(`handshakes-${engine}-ecdsa`)[field] / hs(`handshakes-${engine}-rsa`)[field]).toFixed(3),
            );
        const ratios = {
            nginx_vs_limit: ratio("keelson-nginx", "limit"),
            haproxy_vs_limit: ratio("keelson-haproxy", "limit"),
            naive_vs_limit: ratio("naive-nginx", "limit"),
            nginx_vs_naive: ratio("keelson-nginx", "naive-nginx"),
            haproxy_vs_naive: ratio("keelson-haproxy", "naive-nginx"),
            nginx_vs_naive_per_cpu: cpuRatio("keelson-nginx", "naive-nginx"),
            haproxy_vs_naive_per_cpu: cpuRatio("keelson-haproxy", "naive-nginx"),
            nginx_handshakes_ecdsa_vs_rsa: hsRatio("nginx", "handshakes_per_s"),
            haproxy_handshakes_ecdsa_vs_rsa: hsRatio("haproxy", "handshakes_per_s"),
            // Per CPU-second of the proxy alone: the client's own crypto on the same cores does not blur it.
            nginx_handshakes_per_cpu_ecdsa_vs_rsa: hsRatio("nginx", "per_proxy_cpu_second"),
            haproxy_handshakes_per_cpu_ecdsa_vs_rsa: hsRatio("haproxy", "per_proxy_cpu_second"),
        };
        const report = {
            machine: m,
            load: { tool: "wrk", ...load, handshakeTool: "openssl s_time -new x2", handshakeSeconds },
            backend: "nginx 1.22, 1 worker, static 2-byte body (return 200), keep-alive",
            runs: runs.map((r) => ({
                name: r.name,
                rps: r.rps,
                p99_ms: r.p99_ms,
                failures: r.failures,
                requests: r.requests,
                server_cpu_s: r.server_cpu_s,
                description: r.description,
            })),
            handshakes,
            ratios,
            openssl_speed_signs_per_s_one_core: signs,
        };
        if (json) {
            console.log(JSON.stringify(report, null, 2));
        } else {
            say("");
            for (const [k, v] of Object.entries(ratios)) say(`  ${k.padEnd(40)} ${v}`);
            say(
                `  openssl speed, one core: RSA-2048 ${signs.rsa2048} signs/s, ECDSA P-256 ${signs.ecdsap256} signs/s`,
            );
        }
        const keelsonFailures = runs
            .filter((r) => !r.name.startsWith("naive") && r.name !== "limit")
            .reduce((s, r) => s + r.failures, 0);
        return keelsonFailures > 0 ? 1 : 0;
    } finally {
        for (const p of [...running].reverse()) await p.stop();
        tmp.cleanup();
    }
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
