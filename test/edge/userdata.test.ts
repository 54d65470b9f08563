// Pure and tool-checked tests of the edge user-data: cloud-init's schema, shellcheck, packages, size,
// and that the bootstrap script only ever names where secrets are, never holds them.
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { gunzipSync } from "zlib";
import { EdgeBootstrapOptions, renderEdgeBootstrapScript } from "../../components/edge/render/bootstrap";
import { renderNginxConfig } from "../../components/edge/render/nginx";
import {
    USER_DATA_LIMIT_BYTES,
    compressUserData,
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

function userData(o: EdgeBootstrapOptions, config = "events {}\n"): string {
    return renderEdgeUserData({ ...o, hostname: "edge-0", config, streams: true });
}

describe("edge/render/userdata", () => {
    it("installs exactly the packages each variant needs", () => {
        assert.deepEqual(edgePackages({ engine: "nginx", streams: true, tls: ssm.tls }), [
            "nginx",
            "libnginx-mod-stream",
            "awscli",
            "openssl",
            "ca-certificates",
        ]);
        assert.deepEqual(
            edgePackages({ engine: "haproxy", streams: true, tls: variants["nginx-acme-dns01"].tls }),
            ["haproxy", "certbot", "python3-certbot-dns-route53", "openssl", "ca-certificates"],
        );
        assert.deepEqual(
            edgePackages({ engine: "nginx", streams: false, tls: variants["nginx-acme-http01"].tls }),
            ["nginx", "certbot", "openssl", "ca-certificates"],
        );
    });

    it("stages the config and runs the script once, with no secret in the document", () => {
        const doc = YAML.parse(userData(ssm, "user www-data;\n").replace(/^#cloud-config\n/, ""));
        assert.deepEqual(
            doc.write_files.map((f: { path: string; permissions: string }) => [f.path, f.permissions]),
            [
                ["/etc/keelson/edge/nginx.conf", "0644"],
                ["/usr/local/sbin/keelson-edge-bootstrap", "0700"],
            ],
        );
        assert.equal(doc.write_files[0].content, "user www-data;\n");
        assert.deepEqual(doc.runcmd, [["/usr/local/sbin/keelson-edge-bootstrap"]]);
        assert.equal(doc.hostname, "edge-0");
        const script = doc.write_files[1].content as string;
        assert.match(script, /^SSM_PREFIX='\/keelson\/prod\/edge\/tls'$/m);
        assert.match(script, /^CERTIFICATES=\('www'\)$/m);
        assert.match(
            script,
            /aws ssm get-parameter --region "\$REGION" --with-decryption --name "\$SSM_PREFIX\/\$1"/,
        );
        assert.doesNotMatch(script, /BEGIN [A-Z ]*PRIVATE KEY/);
    });

    it("refreshes haproxy's stapled OCSP responses at boot and from a daily timer", () => {
        const doc = YAML.parse(userData(variants["haproxy-ssm"]).replace(/^#cloud-config\n/, ""));
        assert.deepEqual(
            doc.write_files.map((f: { path: string }) => f.path),
            [
                "/etc/keelson/edge/haproxy.cfg",
                "/usr/local/sbin/keelson-edge-bootstrap",
                "/etc/systemd/system/keelson-edge-ocsp.service",
                "/etc/systemd/system/keelson-edge-ocsp.timer",
            ],
        );
        assert.match(
            doc.write_files[2].content,
            /^ExecStart=\/usr\/local\/sbin\/keelson-edge-bootstrap ocsp$/m,
        );
        assert.match(doc.write_files[3].content, /^OnCalendar=daily$/m);
        assert.deepEqual(doc.runcmd, [
            ["/usr/local/sbin/keelson-edge-bootstrap"],
            ["systemctl", "enable", "--now", "keelson-edge-ocsp.timer"],
        ]);
        const script = doc.write_files[1].content as string;
        assert.match(script, /^    refresh_ocsp \|\| log "no OCSP response yet; the daily timer retries"$/m);
        assert.match(script, /^    ocsp\) refresh_ocsp && systemctl reload haproxy ;;$/m);
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

    it("stays under EC2's 16 KB user-data limit, compressed, for 12 routes over 8 workers", () => {
        const routes: EdgeRoute[] = Array.from({ length: 12 }, (_, i) => ({
            kind: "http" as const,
            name: `svc-${i}`,
            hosts: ["www.example.com"],
            path: i === 0 ? "/" : `/svc-${i}`,
            nodePort: 30000 + i,
            healthPath: "/healthz",
        }));
        const backends = Array.from({ length: 8 }, (_, i) => ({
            name: `general-${i}`,
            address: `10.0.${i}.10`,
        }));
        const config = renderNginxConfig({ routes, backends, certificates });
        const text = userData(ssm, config);
        const packed = compressUserData(text);
        assert.ok(packed.length < USER_DATA_LIMIT_BYTES, `${packed.length} bytes after gzip + base64`);
        assert.equal(gunzipSync(Buffer.from(packed, "base64")).toString(), text);
        assert.equal(compressUserData(text), packed);
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

    it("installs a certificate bundle from fake SSM with mode 600 and refuses unknown commands", function () {
        const bash = requireTool(this, "bash");
        const tmp = tempDir("edge-bootstrap");
        try {
            // Runs the script's own functions with CERT_DIR in a temp dir and `aws` faked on PATH.
            const bin = path.join(tmp.dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(
                path.join(bin, "aws"),
                '#!/bin/sh\ncase "$*" in *www/cert*) echo "CERT-CHAIN" ;; *www/key*) echo "KEY-BODY" ;; *) exit 1 ;; esac\n',
                { mode: 0o755 },
            );
            const script = renderEdgeBootstrapScript(ssm).replace(/^case "\$\{1:-\}" in[\s\S]*$/m, "");
            const driver = `${script}\nCERT_DIR=${tmp.dir}\nfetch_certificate www\n`;
            fs.writeFileSync(path.join(tmp.dir, "drive.sh"), driver);
            execFileSync(bash, [path.join(tmp.dir, "drive.sh")], {
                env: { PATH: `${bin}:/usr/bin:/bin` },
                stdio: "pipe",
            });
            assert.equal(fs.readFileSync(path.join(tmp.dir, "www.crt"), "utf8"), "CERT-CHAIN\n");
            assert.equal(fs.readFileSync(path.join(tmp.dir, "www.key"), "utf8"), "KEY-BODY\n");
            assert.equal(fs.readFileSync(path.join(tmp.dir, "www.pem"), "utf8"), "CERT-CHAIN\nKEY-BODY\n");
            for (const f of ["www.crt", "www.key", "www.pem"]) {
                assert.equal(fs.statSync(path.join(tmp.dir, f)).mode & 0o777, 0o600, f);
            }
            const full = path.join(tmp.dir, "full.sh");
            fs.writeFileSync(full, renderEdgeBootstrapScript(ssm));
            assert.throws(
                () => execFileSync(bash, [full, "bogus"], { stdio: "pipe" }),
                (e: { stderr: Buffer }) =>
                    e.stderr.toString() ===
                    "keelson-edge: FATAL: unknown command bogus; use no argument or: deploy <certificate>\n",
            );
        } finally {
            tmp.cleanup();
        }
    });
});
