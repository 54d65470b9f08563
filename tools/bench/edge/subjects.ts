// The edge benchmark's subjects and the rig they run on: a temp dir, the certificates, the ports, the
// syslog sink and the static backend; each subject starts alone on the rig's HTTPS port. Shared by
// the benchmark (run.ts) and the live test that proves every subject answers the load it is given.
import * as fs from "fs";
import * as path from "path";
import { HaproxyVersion, renderHaproxyConfig } from "../../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../../components/edge/render/nginx";
import { EdgeSpec } from "../../../components/edge/types";
import { EdgeBinary } from "../../../test/edge/engines";
import { httpRoute } from "../../../test/edge/routes";
import { Started, TestCert, freePort, makeTestCert, startProcess, tempDir } from "../../../test/support/live";
import { NginxPaths, renderNaiveProxy, renderStaticBackend } from "./configs";
import { startLogSink, waitForAddress } from "./host";
import { PeerSite, renderCaddyfile, renderHaproxyGuided, renderIngressNginx, renderTlsLimit } from "./peers";
import { SubjectKind } from "./report";

/** The site name every subject serves (sent as the Host header; wrk's SNI is the URL's address). */
export const BENCH_HOST = "bench.example.com";
const BACKENDS = [
    { name: "b1", address: "127.0.0.2" },
    { name: "b2", address: "127.0.0.3" },
];

export type BenchCert = "ecdsa" | "rsa";

/** One thing the bench measures: how to start it (on the rig's `httpsPort`) and what it is. */
export interface Subject {
    readonly name: string;
    readonly kind: SubjectKind;
    readonly description: string;
    start(cert: BenchCert): Promise<Started>;
}

/** The engines a rig runs (nginx and haproxy from Debian 13 when built; the host's caddy). */
export interface BenchEngines {
    readonly nginx: EdgeBinary;
    readonly haproxy: EdgeBinary;
    readonly caddy: string;
}

/** What the subjects share; `close()` stops every process still running and removes the temp dir. */
export interface BenchRig {
    readonly httpsPort: number;
    /** What wrk asks for, with `headers`. */
    readonly url: string;
    readonly headers: readonly string[];
    readonly subjects: readonly Subject[];
    /** The site every peer serves with this certificate (`log`: a file, or a syslog address). */
    site(cert: BenchCert, log: string): PeerSite;
    stop(p: Started): Promise<void>;
    close(): Promise<void>;
}

/** Builds the rig: certificates, ports, the log sink, the static backend on two loopback addresses. */
export async function openRig(engines: BenchEngines): Promise<BenchRig> {
    const { nginx, haproxy, caddy } = engines;
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
    const close = async () => {
        for (const p of [...running].reverse()) await p.stop();
        tmp.cleanup();
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
        const certs: Record<BenchCert, TestCert> = {
            ecdsa: makeTestCert(tmp.dir, "ecdsa", [BENCH_HOST]),
            rsa: makeTestCert(tmp.dir, "rsa", [BENCH_HOST], true),
        };
        const backendPort = await freePort();
        const httpsPort = await freePort();
        const sink = await startLogSink();
        running.push(sink.process);
        const spec = (cert: string): EdgeSpec => ({
            routes: [httpRoute("web", backendPort, { hosts: [BENCH_HOST], healthPath: "/" })],
            backends: BACKENDS,
            certificates: [{ name: cert, hosts: [BENCH_HOST] }],
        });
        const common = {
            listenAddress: "127.0.0.1",
            httpPort: await freePort(),
            httpsPort,
            certDir: tmp.dir,
        };
        const site = (cert: BenchCert, log: string): PeerSite => ({
            port: httpsPort,
            host: BENCH_HOST,
            listenAddress: "127.0.0.1",
            certFile: certs[cert].certFile,
            keyFile: certs[cert].keyFile,
            pemFile: certs[cert].pemBundleFile,
            backends: BACKENDS.map((b) => `${b.address}:${backendPort}`),
            log,
            nginxHttp2Directive: nginx.renderVersion === "1.26",
        });
        const accessLog = (label: string) => path.join(tmp.dir, label, "access.log");
        const subjects: Subject[] = [
            {
                name: "tls-limit",
                kind: "limit",
                description: "nginx answering itself over TLS with Keelson's TLS settings (no upstream hop)",
                start: (cert) =>
                    runNginx(
                        `limit-${cert}`,
                        renderTlsLimit(paths(`limit-${cert}`), site(cert, accessLog(`limit-${cert}`))),
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
                            site(cert, accessLog(`ingress-${cert}`)),
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
                    const text = renderNaiveProxy(p, {
                        port: httpsPort,
                        certFile: certs[cert].certFile,
                        keyFile: certs[cert].keyFile,
                        backend: `127.0.0.2:${backendPort}`,
                        accessLog: path.join(p.tempDir, "access.log"),
                    });
                    return runNginx(`naive-${cert}`, text, httpsPort);
                },
            },
        ];
        const addresses = BACKENDS.map((b) => b.address);
        await runNginx(
            "backend",
            renderStaticBackend(paths("backend"), addresses, backendPort),
            backendPort,
            addresses[0],
        );
        return {
            httpsPort,
            url: `https://127.0.0.1:${httpsPort}/`,
            headers: [`Host: ${BENCH_HOST}`],
            subjects,
            site,
            stop,
            close,
        };
    } catch (e) {
        await close();
        throw e;
    }
}
