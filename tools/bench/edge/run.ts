// `npm run bench:edge [-- --json] [--seconds N] [--rounds N] [--clients N] [--only name,name]`: Keelson's nginx and
// haproxy edge configs (TLS, rendered by components/edge/render exactly as in production, for the
// engine versions that run) side by side with the TLS limit (nginx answering itself over TLS with
// Keelson's TLS settings), the peers a user would pick instead (ingress-nginx's template, HAProxy per
// its own guidance, Caddy's reverse_proxy defaults) and a naive proxy, in rounds; then full TLS
// handshakes per proxy CPU-second with enough parallel clients and the clients' CPU reported.
// The engines are Debian 13's (the boot lab's rootfs, see test/edge/engines.ts) when it is built.
import * as fs from "fs";
import * as path from "path";
import { HaproxyVersion, renderHaproxyConfig } from "../../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../../components/edge/render/nginx";
import { EdgeSpec } from "../../../components/edge/types";
import { EdgeBinary, edgeBinary } from "../../../test/edge/engines";
import { Started, findTool, freePort, makeTestCert, startProcess, tempDir } from "../../../test/support/live";
import { machine, opensslSigns, startLogSink, waitForAddress } from "./host";
import { NginxPaths, renderNaiveProxy, renderStaticBackend } from "./configs";
import { PeerSite, renderCaddyfile, renderHaproxyGuided, renderIngressNginx, renderTlsLimit } from "./peers";
import { Sample, SubjectKind, perCpu, ratios, summarize } from "./report";
import { processTreeCpuSeconds, runHandshakes, runWrk } from "./wrk";
import { httpRoute } from "../../../test/edge/routes";

const HOST = "bench.example.com";
const BACKENDS = [
    { name: "b1", address: "127.0.0.2" },
    { name: "b2", address: "127.0.0.3" },
];

function arg(name: string, fallback: number): number {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** One thing the bench measures: how to start it (on `httpsPort`) and what it is. */
interface Subject {
    readonly name: string;
    readonly kind: SubjectKind;
    readonly description: string;
    start(cert: "ecdsa" | "rsa"): Promise<Started>;
}

async function main(): Promise<number> {
    const json = process.argv.includes("--json");
    const seconds = arg("--seconds", 8);
    const rounds = arg("--rounds", 3);
    const clients = arg("--clients", 4);
    const say = (line: string) => (json ? undefined : console.log(line));
    const nginx = edgeBinary("nginx");
    const haproxy = edgeBinary("haproxy");
    const caddy = findTool("caddy");
    if (!nginx || !haproxy || !caddy || !findTool("wrk") || !findTool("openssl")) {
        console.error(
            "bench:edge needs nginx, haproxy, caddy, wrk and openssl (Debian packages of the same names)",
        );
        return 2;
    }
    const tmp = tempDir("bench-edge");
    const running: Started[] = [];
    const start = async (cmd: string, args: string[], port: number, address = "127.0.0.1") => {
        const p = startProcess(cmd, args);
        running.push(p);
        await waitForAddress(address, port, 20000).catch((e) => {
            throw new Error(`${cmd} did not start: ${(e as Error).message}\n${p.output()}`);
        });
        return p;
    };
    const stop = async (p: Started) => {
        await p.stop();
        running.splice(running.indexOf(p), 1);
    };
    const run = (bin: EdgeBinary, args: string[], port: number, address?: string) => {
        const c = bin.command(args, [tmp.dir]);
        return start(c.cmd, c.args, port, address);
    };
    const paths = (label: string): NginxPaths => {
        const dir = path.join(tmp.dir, label);
        fs.mkdirSync(dir, { recursive: true });
        return { pidFile: path.join(dir, "nginx.pid"), errorLog: path.join(dir, "error.log"), tempDir: dir };
    };
    const runNginx = (label: string, text: string, port: number, address?: string) => {
        const p = paths(label);
        const file = path.join(p.tempDir, "nginx.conf");
        fs.writeFileSync(file, text);
        return run(nginx, ["-c", file, "-g", "daemon off;"], port, address);
    };
    try {
        const certs = {
            ecdsa: makeTestCert(tmp.dir, "ecdsa", [HOST]),
            rsa: makeTestCert(tmp.dir, "rsa", [HOST], true),
        };
        const backendPort = await freePort();
        const httpsPort = await freePort();
        const sink = await startLogSink();
        running.push(sink.process);
        const spec = (cert: string): EdgeSpec => ({
            routes: [httpRoute("web", backendPort, { hosts: [HOST], healthPath: "/" })],
            backends: BACKENDS,
            certificates: [{ name: cert, hosts: [HOST] }],
        });
        const common = {
            listenAddress: "127.0.0.1",
            httpPort: await freePort(),
            httpsPort,
            certDir: tmp.dir,
        };
        const site = (cert: "ecdsa" | "rsa", log: string): PeerSite => ({
            port: httpsPort,
            host: HOST,
            certFile: certs[cert].certFile,
            keyFile: certs[cert].keyFile,
            pemFile: certs[cert].pemBundleFile,
            backends: BACKENDS.map((b) => `${b.address}:${backendPort}`),
            log,
            nginxHttp2Directive: nginx.renderVersion === "1.26",
        });
        const subjects: Subject[] = [
            {
                name: "tls-limit",
                kind: "limit",
                description: "nginx answering itself over TLS with Keelson's TLS settings (no upstream hop)",
                start: (cert) =>
                    runNginx(
                        `limit-${cert}`,
                        renderTlsLimit(
                            paths(`limit-${cert}`),
                            site(cert, path.join(tmp.dir, `limit-${cert}`, "access.log")),
                        ),
                        httpsPort,
                    ),
            },
            {
                name: "keelson-nginx",
                kind: "keelson",
                description: `Keelson nginx.conf (nginx ${nginx.version})`,
                start: (cert) => {
                    const p = paths(`keelson-nginx-${cert}`);
                    const text = renderNginxConfig(spec(cert), {
                        ...common,
                        version: nginx.renderVersion as NginxVersion,
                        user: "root",
                        pidFile: p.pidFile,
                        errorLog: p.errorLog,
                        accessLog: path.join(p.tempDir, "access.log"),
                        tempDir: p.tempDir,
                        ocspStapling: false,
                    });
                    return runNginx(`keelson-nginx-${cert}`, text, httpsPort);
                },
            },
            {
                name: "keelson-haproxy",
                kind: "keelson",
                description: `Keelson haproxy.cfg (haproxy ${haproxy.version}), logging to a syslog socket that reads`,
                start: (cert) => {
                    const file = path.join(tmp.dir, `haproxy-${cert}.cfg`);
                    const text = renderHaproxyConfig(spec(cert), {
                        ...common,
                        version: haproxy.renderVersion as HaproxyVersion,
                        user: "",
                        log: `${sink.address} local0`,
                        statsSocket: path.join(tmp.dir, `haproxy-${cert}.sock`),
                        maxconn: 4000,
                    });
                    fs.writeFileSync(file, text);
                    return run(haproxy, ["-db", "-f", file], httpsPort);
                },
            },
            {
                name: "ingress-nginx",
                kind: "peer",
                description: "nginx with ingress-nginx's default template (keep-alive 320, upstreaminfo log)",
                start: (cert) =>
                    runNginx(
                        `ingress-${cert}`,
                        renderIngressNginx(
                            paths(`ingress-${cert}`),
                            site(cert, path.join(tmp.dir, `ingress-${cert}`, "access.log")),
                        ),
                        httpsPort,
                    ),
            },
            {
                name: "haproxy-guided",
                kind: "peer",
                description:
                    "HAProxy per its own tuning guidance (threads per core, httplog, http-reuse safe)",
                start: (cert) => {
                    const file = path.join(tmp.dir, `guided-${cert}.cfg`);
                    fs.writeFileSync(file, renderHaproxyGuided(site(cert, sink.address)));
                    return run(haproxy, ["-db", "-f", file], httpsPort);
                },
            },
            {
                name: "caddy",
                kind: "peer",
                description: "Caddy reverse_proxy with its defaults (host's caddy)",
                start: (cert) => {
                    const file = path.join(tmp.dir, `Caddyfile-${cert}`);
                    fs.writeFileSync(file, renderCaddyfile(site(cert, "")));
                    const home = paths(`caddy-${cert}`).tempDir;
                    const env = [`HOME=${home}`, `XDG_DATA_HOME=${home}`, `XDG_CONFIG_HOME=${home}`];
                    return start(
                        "env",
                        [...env, caddy, "run", "--config", file, "--adapter", "caddyfile"],
                        httpsPort,
                    );
                },
            },
            {
                name: "naive-nginx",
                kind: "baseline",
                description: "tutorial TLS proxy: no upstream keep-alive, no session cache",
                start: (cert) => {
                    const p = paths(`naive-${cert}`);
                    const o = {
                        port: httpsPort,
                        certFile: certs[cert].certFile,
                        keyFile: certs[cert].keyFile,
                    };
                    const text = renderNaiveProxy(p, {
                        ...o,
                        backend: `127.0.0.2:${backendPort}`,
                        accessLog: path.join(p.tempDir, "access.log"),
                    });
                    return runNginx(`naive-${cert}`, text, httpsPort);
                },
            },
        ];

        // `--only a,b`: just those subjects (comparing two configs); the ratios need the TLS limit and a peer.
        const onlyAt = process.argv.indexOf("--only");
        if (onlyAt >= 0) {
            const only = new Set(process.argv[onlyAt + 1].split(","));
            subjects.splice(0, subjects.length, ...subjects.filter((x) => only.has(x.name)));
        }
        const m = machine();
        const load = { seconds, connections: 64, threads: 2 };
        say(`Keelson edge benchmark: ${m.nproc} x ${m.cpu}; load ${m.loadavg}`);
        say(
            `nginx ${nginx.version} and haproxy ${haproxy.version} from ${nginx.source}; wrk ${load.threads} threads, ${load.connections} connections, ${seconds}s x ${rounds} rounds`,
        );
        const addresses = BACKENDS.map((b) => b.address);
        const backendConf = renderStaticBackend(paths("backend"), addresses, backendPort);
        await runNginx("backend", backendConf, backendPort, addresses[0]);
        const url = `https://127.0.0.1:${httpsPort}/`;
        const headers = [`Host: ${HOST}`];
        const samples: Sample[] = [];
        for (let round = 1; round <= rounds; round++) {
            for (const s of subjects) {
                // Each proxy runs alone, so that idle ones take nothing from the one measured.
                const p = await s.start("ecdsa");
                await runWrk({ ...load, seconds: 1, url, headers }); // warm-up: workers, caches, upstream pools
                const before = processTreeCpuSeconds(p.child.pid!);
                const r = await runWrk({ ...load, url, headers });
                const cpu = Number((processTreeCpuSeconds(p.child.pid!) - before).toFixed(2));
                await stop(p);
                const sample: Sample = { subject: s.name, kind: s.kind, round, ...r, proxy_cpu_s: cpu };
                samples.push(sample);
                say(
                    `  round ${round} ${s.name.padEnd(16)} ${r.rps.toFixed(0).padStart(7)} req/s  ${perCpu(sample).toFixed(0).padStart(6)} per proxy CPU-s  p99 ${r.p99_ms.toFixed(2).padStart(6)} ms  failures ${r.failures}`,
                );
            }
        }

        const handshakeSeconds = Math.max(2, Math.round(seconds * 0.6));
        const handshakes = [];
        for (const s of subjects.filter((x) => x.kind !== "baseline")) {
            for (const cert of ["ecdsa", "rsa"] as const) {
                if (s.kind !== "keelson" && cert === "rsa") continue;
                const p = await s.start(cert);
                const before = processTreeCpuSeconds(p.child.pid!);
                const h = await runHandshakes(httpsPort, handshakeSeconds, clients);
                const cpu = Number((processTreeCpuSeconds(p.child.pid!) - before).toFixed(2));
                await stop(p);
                const row = {
                    subject: s.name,
                    key: cert,
                    handshakes: h.handshakes,
                    handshakes_per_s: Number((h.handshakes / h.seconds).toFixed(1)),
                    proxy_cpu_s: cpu,
                    client_cpu_s: h.client_cpu_s,
                    per_proxy_cpu_second: Number((h.handshakes / (cpu || Number.NaN)).toFixed(1)),
                    proxy_us_per_handshake: Number(((cpu * 1e6) / h.handshakes).toFixed(1)),
                    client_us_per_handshake: Number(((h.client_cpu_s * 1e6) / h.handshakes).toFixed(1)),
                };
                handshakes.push(row);
                say(
                    `  handshakes ${`${s.name}-${cert}`.padEnd(22)} ${row.handshakes_per_s.toFixed(0).padStart(6)}/s  ${row.per_proxy_cpu_second.toFixed(0).padStart(6)} per proxy CPU-s  proxy ${row.proxy_us_per_handshake} us, client ${row.client_us_per_handshake} us per handshake`,
                );
            }
        }
        const report = {
            machine: m,
            engines: { nginx: nginx.version, haproxy: haproxy.version, source: nginx.source, caddy: "host" },
            load: {
                tool: "wrk",
                ...load,
                rounds,
                handshake: { tool: "openssl s_time -new (no CA store)", clients, seconds: handshakeSeconds },
            },
            backend: "nginx, 1 worker, static 2-byte body (return 200), keep-alive, on 2 loopback addresses",
            subjects: summarize(samples).map((s) => ({
                ...s,
                description: subjects.find((x) => x.name === s.subject)!.description,
            })),
            ratios_per_proxy_cpu_second: ratios(samples),
            handshakes,
            openssl_speed_signs_per_s_one_core: opensslSigns(),
            samples,
        };
        if (json) console.log(JSON.stringify(report, null, 2));
        else {
            say("");
            for (const s of report.subjects)
                say(
                    `  ${s.subject.padEnd(16)} per proxy CPU-s ${s.per_proxy_cpu_second.median} [${s.per_proxy_cpu_second.min}-${s.per_proxy_cpu_second.max}]  req/s ${s.rps.median}  failures ${s.failures}`,
                );
            for (const [k, v] of Object.entries(report.ratios_per_proxy_cpu_second))
                say(
                    `  ${k.padEnd(16)} vs TLS limit ${v.vs_tls_limit.median} [${v.vs_tls_limit.min}-${v.vs_tls_limit.max}]  vs best peer ${v.vs_best_peer.median} [${v.vs_best_peer.min}-${v.vs_best_peer.max}] (${[...new Set(v.best_peers)].join(", ")})`,
                );
            const signs = report.openssl_speed_signs_per_s_one_core;
            say(
                `  openssl speed, one core: RSA-2048 ${signs.rsa2048} signs/s, ECDSA P-256 ${signs.ecdsap256} signs/s`,
            );
        }
        const keelsonFailures = report.subjects
            .filter((s) => s.kind === "keelson")
            .reduce((n, s) => n + s.failures, 0);
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
