// `npm run bench:edge [-- --json] [--seconds N] [--rounds N] [--clients N] [--only name,name]`: Keelson's nginx and
// haproxy edge configs (TLS, rendered by components/edge/render exactly as in production, for the
// engine versions that run) side by side with the TLS limit (nginx answering itself over TLS with
// Keelson's TLS settings), the peers a user would pick instead (ingress-nginx's template, HAProxy per
// its own guidance, Caddy's reverse_proxy defaults) and a naive proxy, in rounds; then full TLS
// handshakes per proxy CPU-second with enough parallel clients and the clients' CPU reported.
// The engines are Debian 13's (the boot lab's rootfs, see test/edge/engines.ts) when it is built.
import { edgeBinary } from "../../../test/edge/engines";
import { findTool } from "../../../test/support/live";
import { machine, opensslSigns } from "./host";
import { Sample, failedSubjects, perCpu, ratios, summarize } from "./report";
import { openRig } from "./subjects";
import { processTreeCpuSeconds, runHandshakes, runWrk } from "./wrk";

function arg(name: string, fallback: number): number {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : fallback;
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
    const rig = await openRig({ nginx, haproxy, caddy });
    const { url, headers, stop } = rig;
    try {
        const subjects = [...rig.subjects];
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
                const h = await runHandshakes(rig.httpsPort, handshakeSeconds, clients);
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
        const failed = failedSubjects(report.subjects);
        if (failed.length > 0)
            console.error(`bench:edge: requests failed, figures invalid: ${failed.join(", ")}`);
        return failed.length > 0 ? 1 : 0;
    } finally {
        await rig.close();
    }
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
