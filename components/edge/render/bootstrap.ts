// The edge host bootstrap script (bash), run once by cloud-init and then every minute by a timer:
// TLS material from SSM with the instance role (or from ACME) and the rendered config from SSM,
// installed only when the engine accepts it. Pure: the script holds names, paths and the region,
// never a secret value.
import { EdgeCertificateRef, EdgeEngine } from "../types";
import { HEALTH_FALL, HEALTH_FUNCTIONS, HEALTH_INTERVAL_SECONDS, HEALTH_RISE, HEALTH_UNIT } from "./health";

/** Where the script lives on the host. */
export const EDGE_BOOTSTRAP_PATH = "/usr/local/sbin/keelson-edge-bootstrap";
/** Directory of the certificate files the configs point at (`<name>.crt`, `.key`, `.pem`). */
export const EDGE_CERT_DIR = "/etc/keelson/tls";
/** systemd unit (service + timer) that applies config and certificate changes from SSM every minute. */
export const SYNC_UNIT = "keelson-edge-sync";
/** systemd unit (service + timer) that refreshes haproxy's stapled OCSP responses daily. */
export const OCSP_UNIT = "keelson-edge-ocsp";
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
    /** SSM String parameter holding the rendered config, gzip + base64. */
    readonly configParameter: string;
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

/** Path of the engine's live config on Debian. */
export function liveConfigPath(engine: EdgeEngine): string {
    return engine === "nginx" ? "/etc/nginx/nginx.conf" : "/etc/haproxy/haproxy.cfg";
}

/** The config as rendered (from SSM); the live one adds the health loop's `down` marks (nginx). */
export function desiredConfigPath(engine: EdgeEngine): string {
    return engine === "nginx" ? "/etc/keelson/nginx.conf" : "/etc/keelson/haproxy.cfg";
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
 * Renders the bootstrap script. First boot: TLS material (from SSM, retrying while IAM and SSM
 * settle, or a throwaway certificate until ACME issues the real one), then the config from SSM,
 * checked by the engine before it starts, then the timers. `sync` (every minute) installs a changed
 * config or certificate only if the engine accepts it, then reloads: new workers and rotated
 * certificates never replace a host. `deploy <name>` is certbot's hook.
 */
export function renderEdgeBootstrapScript(o: EdgeBootstrapOptions): string {
    const names = o.certificates.map((c) => q(c.name)).join(" ");
    const haproxy = o.engine === "haproxy";
    const check = haproxy ? 'haproxy -c -q -f "$1"' : 'nginx -t -q -c "$1"';
    const ssm = o.tls.kind === "ssm";
    const tlsSetup = ssm
        ? [
              '    for name in "${CERTIFICATES[@]}"; do',
              '        retry 30 10 "read certificate $name from SSM" sync_certificate "$name" ||',
              '            die "cannot read certificate $name below $SSM_PREFIX"',
              "    done",
          ]
        : ['    for name in "${CERTIFICATES[@]}"; do', '        placeholder_certificate "$name"', "    done"];
    if (haproxy) tlsSetup.push('    refresh_ocsp || log "no OCSP response yet; the daily timer retries"');
    const timers = [
        ...[SYNC_UNIT, ...(haproxy ? [OCSP_UNIT] : [])].map((u) => `${u}.timer`),
        ...(haproxy ? [] : [`${HEALTH_UNIT}.service`]),
    ].join(" ");
    const health = [
        "HEALTH_DOWN=/run/keelson-edge-health.down",
        `HEALTH_INTERVAL=${HEALTH_INTERVAL_SECONDS}`,
        `HEALTH_FALL=${HEALTH_FALL}`,
        `HEALTH_RISE=${HEALTH_RISE}`,
        "",
    ].join("\n");
    const syncCertificates = ssm
        ? [
              '    for name in "${CERTIFICATES[@]}"; do',
              '        sync_certificate "$name" || log "cannot read certificate $name; keeping the installed one"',
              "    done",
              "",
          ].join("\n")
        : "";
    const acme = o.tls.kind === "acme" ? acmeCommands(o, o.tls) + "\n" : "";
    const usage = `sync | deploy <certificate>${haproxy ? " | ocsp" : " | health"}`;
    return `#!/bin/bash
# Keelson edge bootstrap (rendered by components/edge/render/bootstrap.ts). Logs go to the journal
# and /var/log/cloud-init-output.log. Usage: $0 (first boot) | $0 ${usage}
set -euo pipefail

ENGINE=${q(o.engine)}
REGION=${q(o.region)}
SSM_PREFIX=${q(ssm ? (o.tls as { parameterPrefix: string }).parameterPrefix : "")}
CONFIG_PARAMETER=${q(o.configParameter)}
CERT_DIR=${q(EDGE_CERT_DIR)}
LIVE_CONFIG=${q(liveConfigPath(o.engine))}
DESIRED_CONFIG=${q(desiredConfigPath(o.engine))}
CERTIFICATES=(${names})
${haproxy ? "OCSP_CA_FILE=/etc/ssl/certs/ca-certificates.crt\n" : health}CHANGED=0

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

read_value() {
    aws ssm get-parameter --region "$REGION" --with-decryption --name "$1" --query Parameter.Value --output text
}

# check_config <file>: the engine's own check of a config file and of every file it names.
check_config() {
    ${check}
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

# sync_certificate <name>: installs the SSM certificate and key when they differ (sets CHANGED=1).
sync_certificate() {
    local cert key
    cert="$(read_value "$SSM_PREFIX/$1/cert")" || return 1
    key="$(read_value "$SSM_PREFIX/$1/key")" || return 1
    if [ -s "$CERT_DIR/$1.pem" ] && [ "$(printf '%s\\n%s' "$cert" "$key")" = "$(<"$CERT_DIR/$1.pem")" ]; then
        return 0
    fi
    install_pem "$1" "$cert" "$key"
    CHANGED=1
    log "installed certificate $1 from SSM"
}

reload_engine() {
    systemctl reload "$ENGINE"
}

# apply_config: writes the live config from the desired one${haproxy ? "" : " (with the health loop's marks)"} when it
# differs and the engine accepts it; fails when nothing was installed.
apply_config() {
    local tmp
    tmp="$(mktemp)"
    ${haproxy ? 'cp "$DESIRED_CONFIG" "$tmp"' : 'mark_down "$DESIRED_CONFIG" "$HEALTH_DOWN" "$tmp"'}
    if cmp -s "$tmp" "$LIVE_CONFIG" || ! check_config "$tmp"; then
        rm -f "$tmp"
        return 1
    fi
    install -m 0644 "$tmp" "$LIVE_CONFIG.new"
    mv "$LIVE_CONFIG.new" "$LIVE_CONFIG"
    rm -f "$tmp"
}

# sync_config: installs the config from SSM (gzip + base64) when it differs and the engine accepts
# it (sets CHANGED=1). A config the engine rejects is logged and never installed.
sync_config() {
    local tmp value
    tmp="$(mktemp)"
    if ! value="$(read_value "$CONFIG_PARAMETER")" || ! printf '%s' "$value" | base64 -d | gunzip >"$tmp"; then
        rm -f "$tmp"
        log "cannot read $CONFIG_PARAMETER"
        return 1
    fi
    if ! cmp -s "$tmp" "$DESIRED_CONFIG"; then
        if ! check_config "$tmp"; then
            rm -f "$tmp"
            log "$ENGINE rejects the config in $CONFIG_PARAMETER; keeping the running one"
            return 1
        fi
        install -m 0644 "$tmp" "$DESIRED_CONFIG"
    fi
    rm -f "$tmp"
    if apply_config; then
        CHANGED=1
        log "installed a new $LIVE_CONFIG"
    fi
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
    check_config "$LIVE_CONFIG" && reload_engine
    log "deployed certificate $1"
}

${haproxy ? OCSP_FUNCTION : HEALTH_FUNCTIONS}first_boot() {
    install -d -m 0700 "$CERT_DIR"
    install -d -m 0755 "$(dirname "$DESIRED_CONFIG")"
    install -d -m 0755 /run/haproxy ${ACME_WEBROOT}
${tlsSetup.join("\n")}
    retry 30 10 "install the config from $CONFIG_PARAMETER" sync_config || die "no usable config in $CONFIG_PARAMETER"
    systemctl enable "$ENGINE"
    systemctl restart "$ENGINE"
    log "$ENGINE started with $LIVE_CONFIG"
    systemctl enable --now ${timers}
${acme}}

# Every minute (${SYNC_UNIT}.timer): new workers, routes and rotated certificates, without a new host.
sync() {
${syncCertificates}    sync_config || true
    if [ "$CHANGED" = 1 ]; then
        check_config "$LIVE_CONFIG" && reload_engine
        log "reloaded $ENGINE"
    fi
}

case "\${1:-}" in
    "") first_boot ;;
    sync) sync ;;
    deploy) deploy "$2" ;;${haproxy ? "\n    ocsp) refresh_ocsp && reload_engine ;;" : "\n    health) health ;;"}
    *) die "unknown command $1; use no argument (first boot) or: ${usage}" ;;
esac
`;
}

/** A oneshot service that runs the script with `command`, and the timer that starts it. */
function timerUnits(what: string, command: string, schedule: string[]): { service: string; timer: string } {
    const service = ["[Unit]", `Description=Keelson edge: ${what}`, "After=network-online.target", ""];
    service.push("[Service]", "Type=oneshot", `ExecStart=${EDGE_BOOTSTRAP_PATH} ${command}`, "");
    const timer = ["[Unit]", `Description=Keelson edge: ${what}`, "", "[Timer]", ...schedule, ""];
    timer.push("[Install]", "WantedBy=timers.target", "");
    return { service: service.join("\n"), timer: timer.join("\n") };
}

/** systemd units that apply config and certificate changes from SSM every minute. */
export function renderSyncUnits(): { service: string; timer: string } {
    return timerUnits("apply config and certificate changes from SSM", "sync", [
        "OnBootSec=3min",
        "OnUnitActiveSec=1min",
        "AccuracySec=5s",
    ]);
}

/** systemd units that refresh haproxy's stapled OCSP responses daily. */
export function renderOcspUnits(): { service: string; timer: string } {
    return timerUnits("refresh stapled OCSP responses", "ocsp", [
        "OnCalendar=daily",
        "RandomizedDelaySec=1h",
        "Persistent=true",
    ]);
}
