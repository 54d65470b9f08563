// Pure and tool-checked tests of the edge user-data: cloud-init's schema, shellcheck, packages, size,
// and that the bootstrap script only ever names where secrets are, never holds them.
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { gunzipSync } from "zlib";
import { compressUserData } from "../../components/ec2/user-data";
import { EdgeBootstrapOptions, renderEdgeBootstrapScript } from "../../components/edge/render/bootstrap";
import { renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { renderNginxConfig } from "../../components/edge/render/nginx";
import {
    USER_DATA_LIMIT_BYTES,
    edgePackages,
    renderEdgeUserData,
} from "../../components/edge/render/userdata";
import { EdgeRoute } from "../../components/edge/types";
import { requireTool, tempDir } from "../support/live";

const certificates = [{ name: "www", hosts: ["www.example.com", "example.com"] }];
const ssm: EdgeBootstrapOptions = {
    engine: "nginx",
    region: "eu-west-1",
    certificates,
    tls: { kind: "ssm", parameterPrefix: "/keelson/prod/edge/tls" },
    configParameter: "/keelson/prod/edge/config",
};
const variants: Record<string, EdgeBootstrapOptions> = {
    "nginx-ssm": ssm,
    "haproxy-ssm": { ...ssm, engine: "haproxy" },
    "nginx-acme-http01": {
        ...ssm,
        tls: { kind: "acme", email: "ops@example.com", challenge: "http-01", keyAlgorithm: "ecdsa-p256" },
    },
    "haproxy-acme-http01": {
        ...ssm,
        engine: "haproxy",
        tls: { kind: "acme", email: "ops@example.com", challenge: "http-01", keyAlgorithm: "rsa-2048" },
    },
    "nginx-acme-dns01": {
        ...ssm,
        tls: { kind: "acme", email: "o'brien@example.com", challenge: "dns-01", keyAlgorithm: "ecdsa-p256" },
    },
};

function userData(o: EdgeBootstrapOptions): string {
    return renderEdgeUserData({ ...o, hostname: "edge-0", streams: true });
}

describe("edge/render/userdata", () => {
    it("installs exactly the packages each variant needs", () => {
        assert.deepEqual(edgePackages({ engine: "nginx", streams: true, tls: ssm.tls }), [
            "nginx",
            "libnginx-mod-stream",
            "curl",
            "awscli",
            "openssl",
            "ca-certificates",
        ]);
        assert.deepEqual(
            edgePackages({ engine: "haproxy", streams: true, tls: variants["nginx-acme-dns01"].tls }),
            ["haproxy", "awscli", "certbot", "python3-certbot-dns-route53", "openssl", "ca-certificates"],
        );
        assert.deepEqual(
            edgePackages({ engine: "nginx", streams: false, tls: variants["nginx-acme-http01"].tls }),
            ["nginx", "curl", "awscli", "certbot", "openssl", "ca-certificates"],
        );
    });

    it("runs the script once and installs its sync timer, with no config and no secret in the document", () => {
        const doc = YAML.parse(userData(ssm).replace(/^#cloud-config\n/, ""));
        assert.deepEqual(
            doc.write_files.map((f: { path: string; permissions: string }) => [f.path, f.permissions]),
            [
                ["/usr/local/sbin/keelson-edge-bootstrap", "0700"],
                ["/etc/systemd/system/keelson-edge-sync.service", "0644"],
                ["/etc/systemd/system/keelson-edge-sync.timer", "0644"],
                ["/etc/systemd/system/keelson-edge-health.service", "0644"],
            ],
        );
        assert.match(
            doc.write_files[3].content,
            /^ExecStart=\/usr\/local\/sbin\/keelson-edge-bootstrap health$/m,
        );
        assert.match(doc.write_files[3].content, /^Restart=always$/m);
        assert.deepEqual(doc.runcmd, [["/usr/local/sbin/keelson-edge-bootstrap"]]);
        assert.equal(doc.hostname, "edge-0");
        assert.match(
            doc.write_files[1].content,
            /^ExecStart=\/usr\/local\/sbin\/keelson-edge-bootstrap sync$/m,
        );
        assert.match(doc.write_files[2].content, /^OnUnitActiveSec=1min$/m);
        const script = doc.write_files[0].content as string;
        assert.match(script, /^SSM_PREFIX='\/keelson\/prod\/edge\/tls'$/m);
        assert.match(script, /^CONFIG_PARAMETER='\/keelson\/prod\/edge\/config'$/m);
        assert.match(script, /^CERTIFICATES=\('www'\)$/m);
        assert.match(
            script,
            /^    systemctl enable --now keelson-edge-sync\.timer keelson-edge-health\.service$/m,
        );
        assert.doesNotMatch(script, /BEGIN [A-Z ]*PRIVATE KEY/);
    });

    it("refreshes haproxy's stapled OCSP responses at boot and from a daily timer", () => {
        const doc = YAML.parse(userData(variants["haproxy-ssm"]).replace(/^#cloud-config\n/, ""));
        assert.deepEqual(
            doc.write_files.map((f: { path: string }) => f.path),
            [
                "/usr/local/sbin/keelson-edge-bootstrap",
                "/etc/tmpfiles.d/keelson-edge.conf",
                "/etc/systemd/system/keelson-edge-sync.service",
                "/etc/systemd/system/keelson-edge-sync.timer",
                "/etc/systemd/system/keelson-edge-ocsp.service",
                "/etc/systemd/system/keelson-edge-ocsp.timer",
            ],
        );
        assert.equal(doc.write_files[1].content, "d /run/haproxy 0755 root root -\n");
        assert.match(
            doc.write_files[4].content,
            /^ExecStart=\/usr\/local\/sbin\/keelson-edge-bootstrap ocsp$/m,
        );
        assert.match(doc.write_files[5].content, /^OnCalendar=daily$/m);
        const script = doc.write_files[0].content as string;
        assert.match(script, /^    refresh_ocsp \|\| log "no OCSP response yet; the daily timer retries"$/m);
        assert.match(
            script,
            /^    systemctl enable --now keelson-edge-sync\.timer keelson-edge-ocsp\.timer$/m,
        );
        assert.match(script, /^    ocsp\) refresh_ocsp && reload_engine ;;$/m);
        assert.doesNotMatch(script, /keelson-edge-health|mark_down/);
        // nginx staples by itself: no timer, no refresh function.
        assert.doesNotMatch(userData(ssm), /refresh_ocsp|keelson-edge-ocsp/);
    });

    it("asks certbot for the configured key type and challenge", () => {
        const http01 = renderEdgeBootstrapScript(variants["nginx-acme-http01"]);
        assert.ok(
            http01.includes(
                "--key-type ecdsa --elliptic-curve secp256r1 --webroot -w /var/lib/keelson/acme --cert-name 'www' -d 'www.example.com' -d 'example.com'",
            ),
        );
        const haproxy = renderEdgeBootstrapScript(variants["haproxy-acme-http01"]);
        assert.ok(
            haproxy.includes(
                "--key-type rsa --rsa-key-size 2048 --standalone --http-01-address 127.0.0.1 --http-01-port 8402",
            ),
        );
        const dns01 = renderEdgeBootstrapScript(variants["nginx-acme-dns01"]);
        assert.ok(dns01.includes("--email 'o'\\''brien@example.com'"));
        assert.ok(dns01.includes("--dns-route53 --cert-name 'www'"));
        assert.ok(dns01.includes("--deploy-hook '/usr/local/sbin/keelson-edge-bootstrap deploy www'"));
    });

    it("packs 24 routes over 10 workers into SSM's 8 KB and user-data far under EC2's 16 KB", () => {
        const routes: EdgeRoute[] = Array.from({ length: 24 }, (_, i) => ({
            kind: "http" as const,
            name: `svc-${i}`,
            hosts: [`svc-${i % 4}.example.com`],
            path: i < 4 ? "/" : `/svc-${i}`,
            nodePort: 30000 + i,
            healthPath: "/healthz",
            websocket: i % 5 === 0,
        }));
        const backends = Array.from({ length: 10 }, (_, i) => ({
            name: `general-${i}`,
            address: `10.0.${i}.10`,
        }));
        const certs = [{ name: "www", hosts: ["*.example.com"] }];
        for (const config of [
            renderNginxConfig({ routes, backends, certificates: certs }),
            renderHaproxyConfig({ routes, backends, certificates: certs }),
        ]) {
            const packed = compressUserData(config);
            assert.ok(packed.length < 8192, `${packed.length} bytes of ${config.length} after gzip + base64`);
            assert.equal(gunzipSync(Buffer.from(packed, "base64")).toString(), config);
            assert.equal(compressUserData(config), packed);
        }
        const packed = compressUserData(userData(variants["haproxy-acme-http01"]));
        assert.ok(packed.length < USER_DATA_LIMIT_BYTES / 2, `${packed.length} bytes of user-data`);
    });

    it("passes cloud-init's own schema check for every variant", function () {
        const cloudInit = requireTool(this, "cloud-init");
        const tmp = tempDir("edge-userdata");
        try {
            for (const [name, o] of Object.entries(variants)) {
                const file = path.join(tmp.dir, `${name}.yaml`);
                fs.writeFileSync(file, userData(o));
                const out = execFileSync(cloudInit, ["schema", "--config-file", file], {
                    encoding: "utf8",
                    stdio: "pipe",
                });
                assert.match(out, /^Valid cloud-config: /m, name);
            }
        } finally {
            tmp.cleanup();
        }
    });

    it("keeps every bootstrap script variant clean under shellcheck", function () {
        const shellcheck = requireTool(this, "shellcheck");
        const tmp = tempDir("edge-shellcheck");
        try {
            const files = Object.entries(variants).map(([name, o]) => {
                const file = path.join(tmp.dir, `${name}.sh`);
                fs.writeFileSync(file, renderEdgeBootstrapScript(o));
                return file;
            });
            // Throws with shellcheck's findings on any warning.
            execFileSync(shellcheck, ["--severity=style", ...files], { encoding: "utf8", stdio: "pipe" });
        } finally {
            tmp.cleanup();
        }
    });

    it("syncs certificates and config from (fake) SSM, reloading only on valid changes", function () {
        const bash = requireTool(this, "bash");
        const tmp = tempDir("edge-bootstrap");
        try {
            // The script's own functions, with its paths in a temp dir and aws, nginx and systemctl faked.
            const bin = path.join(tmp.dir, "bin");
            fs.mkdirSync(bin);
            const state = (file: string) => path.join(tmp.dir, file);
            fs.writeFileSync(state("cert"), "CERT-CHAIN");
            const setConfig = (text: string) => fs.writeFileSync(state("config"), compressUserData(text));
            setConfig("events {}\n# v1\n");
            const fake = (name: string, body: string) =>
                fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
            fake(
                "aws",
                `case "$*" in *www/cert*) cat ${state("cert")} ;; *www/key*) echo KEY-BODY ;; ` +
                    `*edge/config*) cat ${state("config")} ;; *) exit 1 ;; esac`,
            );
            // The fake nginx -t rejects configs that say BROKEN, like a real syntax error.
            fake("nginx", 'for f; do :; done; ! grep -q BROKEN "$f"');
            fake("systemctl", `echo "systemctl $*" >>${state("calls")}`);
            const script = renderEdgeBootstrapScript(ssm).replace(/^case "\$\{1:-\}" in[\s\S]*$/m, "");
            const live = state("nginx.conf");
            const driver = state("drive.sh");
            const paths = `CERT_DIR=${tmp.dir}\nLIVE_CONFIG=${live}\nDESIRED_CONFIG=${state("desired.conf")}\nHEALTH_DOWN=${state("down")}`;
            fs.writeFileSync(driver, `${script}\n${paths}\nsync\n`);
            const sync = () => {
                fs.writeFileSync(state("calls"), "");
                const r = spawnSync(bash, [driver], {
                    env: { PATH: `${bin}:/usr/bin:/bin` },
                    encoding: "utf8",
                });
                assert.equal(r.status, 0, r.stderr);
                return { log: r.stderr, calls: fs.readFileSync(state("calls"), "utf8") };
            };

            let r = sync();
            assert.equal(fs.readFileSync(state("www.pem"), "utf8"), "CERT-CHAIN\nKEY-BODY\n");
            for (const f of ["www.crt", "www.key", "www.pem"]) {
                assert.equal(fs.statSync(state(f)).mode & 0o777, 0o600, f);
            }
            assert.equal(fs.readFileSync(live, "utf8"), "events {}\n# v1\n");
            assert.equal(r.calls, "systemctl reload nginx\n");

            r = sync(); // nothing changed: no reload
            assert.deepEqual(r, { log: "", calls: "" });

            setConfig("events {}\n# v2: a new worker\n");
            fs.writeFileSync(state("cert"), "ROTATED-CHAIN");
            r = sync();
            assert.equal(fs.readFileSync(live, "utf8"), "events {}\n# v2: a new worker\n");
            assert.equal(fs.readFileSync(state("www.crt"), "utf8"), "ROTATED-CHAIN\n");
            assert.equal(r.calls, "systemctl reload nginx\n");

            setConfig("BROKEN\n");
            r = sync();
            assert.equal(fs.readFileSync(live, "utf8"), "events {}\n# v2: a new worker\n");
            assert.equal(r.calls, "");
            assert.equal(
                r.log,
                "keelson-edge: nginx rejects the config in /keelson/prod/edge/config; keeping the running one\n",
            );
        } finally {
            tmp.cleanup();
        }
    });

    it("refuses unknown commands with the usage", function () {
        const bash = requireTool(this, "bash");
        const tmp = tempDir("edge-usage");
        try {
            const full = path.join(tmp.dir, "full.sh");
            fs.writeFileSync(full, renderEdgeBootstrapScript(ssm));
            const r = spawnSync(bash, [full, "bogus"], { encoding: "utf8" });
            assert.equal(r.status, 1);
            assert.equal(
                r.stderr,
                "keelson-edge: FATAL: unknown command bogus; use no argument (first boot) or: sync | deploy <certificate> | health\n",
            );
        } finally {
            tmp.cleanup();
        }
    });
});
