// The edge host bootstrap script (bash), run once by cloud-init: TLS material from SSM with the
// instance role (or from ACME), then the rendered config is checked and the engine (re)started.
// Pure: the script holds names, paths and the region, never a secret value.
import { EdgeCertificateRef, EdgeEngine } from "../types";

/** Where the script lives on the host. */
export const EDGE_BOOTSTRAP_PATH = "/usr/local/sbin/keelson-edge-bootstrap";
/** Directory of the certificate files the configs point at (`<name>.crt`, `.key`, `.pem`). */
export const EDGE_CERT_DIR = "/etc/keelson/tls";
/** Where cloud-init stages the rendered config before the script installs it. */
export const EDGE_STAGING_DIR = "/etc/keelson/edge";
/** certbot's webroot for HTTP-01 with nginx. */
export const ACME_WEBROOT = "/var/lib/keelson/acme";

/** Where TLS certificates come from on the host. */
export type EdgeTlsSource =
    /** SSM parameters `<prefix>/<name>/cert` (String) and `<prefix>/<name>/key` (SecureString). */
    | { readonly kind: "ssm"; readonly parameterPrefix: string }
    /** certbot, with HTTP-01 on this host (single host) or DNS-01 through Route 53 (several hosts). */
    | {
          readonly kind: "acme";
          readonly email: string;
          readonly challenge: "http-01" | "dns-01";
          readonly keyAlgorithm: "ecdsa-p256" | "rsa-2048";
          /** Local port of certbot's standalone server behind haproxy (HTTP-01 with haproxy). Default 8402. */
          readonly standalonePort?: number;
          /** ACME directory URL. Default: Let's Encrypt production. */
          readonly server?: string;
      };

/** Inputs of the edge bootstrap script. */
export interface EdgeBootstrapOptions {
    readonly engine: EdgeEngine;
    readonly region: string;
    readonly certificates: readonly EdgeCertificateRef[];
    readonly tls: EdgeTlsSource;
}

// haproxy 2.6 staples only what it finds in `<bundle>.ocsp` (automatic updates came in 2.8), so the
// script fetches responses itself: at boot and from a daily timer. nginx fetches its own.
const OCSP_FUNCTION = `# refresh_ocsp: <name>.pem.ocsp for every certificate whose chain names an OCSP responder.
refresh_ocsp() {
    local name uri tmp
    for name in "\${CERTIFICATES[@]}"; do
        uri="$(openssl x509 -noout -ocsp_uri -in "$CERT_DIR/$name.crt" 2>/dev/null || true)"
        [ -n "$uri" ] || continue
        tmp="$(mktemp -d)"
        # The leaf is the chain's first certificate, its issuer the second.
        awk -v dir="$tmp" '/BEGIN CERTIFICATE/ { n++ } n { print > (dir "/" n ".pem") }' "$CERT_DIR/$name.crt"
        if [ -s "$tmp/2.pem" ] && openssl ocsp -no_nonce -issuer "$tmp/2.pem" -cert "$tmp/1.pem" -url "$uri" -timeout 10 \\
            -CAfile "$OCSP_CA_FILE" -respout "$tmp/ocsp" >/dev/null 2>&1; then
            install -m 0600 "$tmp/ocsp" "$CERT_DIR/$name.pem.ocsp"
            log "refreshed the OCSP response of $name"
        fi
        rm -rf "$tmp"
    done
}

`;

/** systemd units that refresh haproxy's OCSP responses daily. */
export function renderOcspUnits(): { service: string; timer: string } {
    return {
        service: [
            "[Unit]",
            "Description=Keelson edge: refresh stapled OCSP responses for haproxy",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            `ExecStart=${EDGE_BOOTSTRAP_PATH} ocsp`,
            "",
        ].join("\n"),
        timer: [
            "[Unit]",
            "Description=Daily OCSP refresh for the Keelson edge",
            "",
            "[Timer]",
            "OnCalendar=daily",
            "RandomizedDelaySec=1h",
            "Persistent=true",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
        ].join("\n"),
    };
}

/** Path of the engine's live config on Debian 12. */
export function liveConfigPath(engine: EdgeEngine): string {
    return engine === "nginx" ? "/etc/nginx/nginx.conf" : "/etc/haproxy/haproxy.cfg";
}

/** Path cloud-init writes the rendered config to. */
export function stagedConfigPath(engine: EdgeEngine): string {
    return `${EDGE_STAGING_DIR}/${engine === "nginx" ? "nginx.conf" : "haproxy.cfg"}`;
}

const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

function acmeCommands(o: EdgeBootstrapOptions, tls: Extract<EdgeTlsSource, { kind: "acme" }>): string {
    let challenge: string;
    if (tls.challenge === "dns-01") challenge = "--dns-route53";
    else if (o.engine === "nginx") challenge = `--webroot -w ${ACME_WEBROOT}`;
    else challenge = `--standalone --http-01-address 127.0.0.1 --http-01-port ${tls.standalonePort ?? 8402}`;
    const key =
        tls.keyAlgorithm === "rsa-2048"
            ? "--key-type rsa --rsa-key-size 2048"
            : "--key-type ecdsa --elliptic-curve secp256r1";
    const server = tls.server ? ` --server ${q(tls.server)}` : "";
    const lines = o.certificates.map((c) => {
        const domains = c.hosts.map((h) => `-d ${q(h)}`).join(" ");
        return (
            `    issue_certificate ${q(c.name)} certbot certonly --non-interactive --agree-tos --email ${q(tls.email)}${server} \\\n` +
            `        ${key} ${challenge} --cert-name ${q(c.name)} ${domains} \\\n` +
            `        --deploy-hook ${q(`${EDGE_BOOTSTRAP_PATH} deploy ${c.name}`)}`
        );
    });
    return lines.join("\n");
}

/**
 * Renders the bootstrap script. With SSM it reads every certificate and key (retrying while IAM and
 * SSM settle) into mode-600 files; with ACME it starts on a throwaway self-signed certificate, asks
 * certbot for the real one and lets certbot's deploy hook (`<script> deploy <name>`) install renewals
 * and reload the engine. Either way the config is checked by the engine before it is started.
 */
export function renderEdgeBootstrapScript(o: EdgeBootstrapOptions): string {
    const names = o.certificates.map((c) => q(c.name)).join(" ");
    const reload = o.engine === "nginx" ? "systemctl reload nginx" : "systemctl reload haproxy";
    const check = o.engine === "nginx" ? 'nginx -t -q -c "$LIVE_CONFIG"' : 'haproxy -c -q -f "$LIVE_CONFIG"';
    const tlsSetup =
        o.tls.kind === "ssm"
            ? [
                  '    for name in "${CERTIFICATES[@]}"; do',
                  '        fetch_certificate "$name"',
                  "    done",
              ].join("\n")
            : [
                  '    for name in "${CERTIFICATES[@]}"; do',
                  '        placeholder_certificate "$name"',
                  "    done",
              ].join("\n");
    const acme = o.tls.kind === "acme" ? acmeCommands(o, o.tls) : "    :";
    return `#!/bin/bash
# Keelson edge bootstrap (rendered by components/edge/render/bootstrap.ts). Logs go to the journal
# and /var/log/cloud-init-output.log. Usage: $0 (first boot) | $0 deploy <certificate> (certbot hook).
set -euo pipefail

ENGINE=${q(o.engine)}
REGION=${q(o.region)}
SSM_PREFIX=${q(o.tls.kind === "ssm" ? o.tls.parameterPrefix : "")}
CERT_DIR=${q(EDGE_CERT_DIR)}
STAGED_CONFIG=${q(stagedConfigPath(o.engine))}
LIVE_CONFIG=${q(liveConfigPath(o.engine))}
CERTIFICATES=(${names})
${o.engine === "haproxy" ? "OCSP_CA_FILE=/etc/ssl/certs/ca-certificates.crt\n" : ""}
log() { echo "keelson-edge: $*" >&2; }
die() {
    log "FATAL: $*"
    exit 1
}

# retry <attempts> <delay seconds> <what> <command...>
retry() {
    local attempts=$1 delay=$2 what=$3 i
    shift 3
    for ((i = 1; i <= attempts; i++)); do
        if "$@"; then return 0; fi
        log "$what failed (attempt $i/$attempts); retrying in \${delay}s"
        sleep "$delay"
    done
    return 1
}

read_parameter() {
    aws ssm get-parameter --region "$REGION" --with-decryption --name "$SSM_PREFIX/$1" \\
        --query Parameter.Value --output text
}

# install_pem <name> <certificate chain> <key>: nginx reads .crt/.key, haproxy the .pem bundle.
install_pem() {
    (
        umask 077
        printf '%s\\n' "$2" >"$CERT_DIR/$1.crt.new"
        printf '%s\\n' "$3" >"$CERT_DIR/$1.key.new"
        printf '%s\\n%s\\n' "$2" "$3" >"$CERT_DIR/$1.pem.new"
    )
    mv "$CERT_DIR/$1.crt.new" "$CERT_DIR/$1.crt"
    mv "$CERT_DIR/$1.key.new" "$CERT_DIR/$1.key"
    mv "$CERT_DIR/$1.pem.new" "$CERT_DIR/$1.pem"
}

fetch_certificate() {
    local cert key
    cert="$(retry 30 10 "read $SSM_PREFIX/$1/cert" read_parameter "$1/cert")" || die "cannot read $SSM_PREFIX/$1/cert"
    key="$(retry 30 10 "read $SSM_PREFIX/$1/key" read_parameter "$1/key")" || die "cannot read $SSM_PREFIX/$1/key"
    install_pem "$1" "$cert" "$key"
    log "installed certificate $1 from SSM"
}

# A throwaway certificate so that the engine starts before ACME has issued the real one.
placeholder_certificate() {
    [ -s "$CERT_DIR/$1.pem" ] && return 0
    local tmp
    tmp="$(mktemp -d)"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \\
        -subj "/CN=keelson-placeholder-$1" -keyout "$tmp/key" -out "$tmp/crt" 2>/dev/null
    install_pem "$1" "$(<"$tmp/crt")" "$(<"$tmp/key")"
    rm -rf "$tmp"
}

# issue_certificate <name> <certbot command...>
issue_certificate() {
    local name=$1
    shift
    retry 5 60 "ACME issuance of $name" "$@" || log "ACME issuance of $name failed; serving the placeholder until certbot's timer retries"
}

# Called by certbot after every issuance and renewal: RENEWED_LINEAGE holds the new files.
deploy() {
    local lineage=\${RENEWED_LINEAGE:-/etc/letsencrypt/live/$1}
    install_pem "$1" "$(<"$lineage/fullchain.pem")" "$(<"$lineage/privkey.pem")"
    ${check} && ${reload}
    log "deployed certificate $1"
}

${o.engine === "haproxy" ? OCSP_FUNCTION : ""}first_boot() {
    install -d -m 0700 "$CERT_DIR"
${tlsSetup}${o.engine === "haproxy" ? '\n    refresh_ocsp || log "no OCSP response yet; the daily timer retries"' : ""}
    install -m 0644 "$STAGED_CONFIG" "$LIVE_CONFIG"
    install -d -m 0755 /run/haproxy ${ACME_WEBROOT}
    ${check} || die "$ENGINE rejected $LIVE_CONFIG"
    systemctl enable "$ENGINE"
    systemctl restart "$ENGINE"
    log "$ENGINE started with $LIVE_CONFIG"
${acme}
}

case "\${1:-}" in
    deploy) deploy "$2" ;;${o.engine === "haproxy" ? `\n    ocsp) refresh_ocsp && ${reload} ;;` : ""}
    "") first_boot ;;
    *) die "unknown command $1; use no argument or: deploy <certificate>${o.engine === "haproxy" ? " | ocsp" : ""}" ;;
esac
`;
}
