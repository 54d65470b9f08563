// HAProxy in front of the Kubernetes API (cluster.endpoint = haproxy): TCP passthrough on 6443 with
// TLS health checks of each master's /readyz. Pure renderers: config text and the host's setup script.

/** One API server behind HAProxy. */
export interface ApiBackend {
    /** Server name in the config, e.g. `master-0`. */
    readonly name: string;
    /** IP address or DNS name. */
    readonly address: string;
    /** Default 6443. */
    readonly port?: number;
}

/** Inputs of the API HAProxy config. */
export interface ApiHaproxyOptions {
    readonly backends: readonly ApiBackend[];
    /** Listen address. Default `*` (all addresses). */
    readonly bindAddress?: string;
    /** Listen port. Default 6443. */
    readonly port?: number;
    /** Health check interval in ms. Default 2000 (a dead master is out after fall x inter = 6 s). */
    readonly checkIntervalMs?: number;
    /** Failed checks before a server is marked down. Default 3. */
    readonly fall?: number;
    /** Passed checks before a server is marked up again. Default 2. */
    readonly rise?: number;
    /** Run as the `haproxy` user with syslog and an admin socket, as on the Debian hosts. Default true. */
    readonly system?: boolean;
}

/**
 * Renders haproxy.cfg for the API load balancer (HAProxy 2.6). `mode tcp`: TLS goes through to the
 * API servers untouched, so client certificates keep working. Health checks speak TLS to each
 * master (`check-ssl verify none`: the check needs the API to answer, not to be trusted) and expect
 * 200 from `/readyz`, which anonymous requests may read. `leastconn` spreads long-lived watches;
 * `retries` + `option redispatch` send a failed connect to another master before the checks notice.
 */
export function renderApiHaproxyConfig(o: ApiHaproxyOptions): string {
    if (o.backends.length === 0)
        throw new Error("renderApiHaproxyConfig: at least one API backend is required");
    const system = o.system ?? true;
    const inter = o.checkIntervalMs ?? 2000;
    const global = ["global", "    maxconn 4096", "    nbthread 2"];
    if (system) {
        global.push(
            "    log /dev/log local0",
            "    user haproxy",
            "    group haproxy",
            "    stats socket /run/haproxy/admin.sock mode 660 level admin",
        );
    }
    const lines = [
        "# Kubernetes API load balancer, rendered by components/cluster/render/haproxy-api.ts",
        ...global,
        "",
        "defaults",
        "    mode tcp",
        ...(system ? ["    log global", "    option tcplog", "    option dontlognull"] : []),
        "    retries 3",
        "    option redispatch",
        "    timeout connect 5s",
        "    timeout client 30s",
        "    timeout server 30s",
        // Watches stay open for minutes with little traffic; once both sides are connected the tunnel
        // timeout replaces the client/server ones.
        "    timeout tunnel 1h",
        "    timeout check 5s",
        "",
        "frontend kube-apiserver",
        `    bind ${o.bindAddress ?? "*"}:${o.port ?? 6443}`,
        "    default_backend kube-apiserver",
        "",
        "backend kube-apiserver",
        "    balance leastconn",
        "    option httpchk GET /readyz",
        "    http-check expect status 200",
        `    default-server check check-ssl verify none inter ${inter}ms fall ${o.fall ?? 3} rise ${o.rise ?? 2}`,
        ...o.backends.map((b) => `    server ${b.name} ${b.address}:${b.port ?? 6443}`),
        "",
    ];
    return lines.join("\n");
}

/** Path of the setup script on API load balancer hosts. */
export const API_LB_SETUP_PATH = "/usr/local/sbin/keelson-api-lb-setup";

/**
 * The setup script of an API HAProxy host: installs the SSM agent (Session Manager, no SSH),
 * checks the config with `haproxy -c` and (re)starts haproxy.
 */
export function renderApiLbSetupScript(region: string): string {
    if (!/^[a-z0-9-]+$/.test(region))
        throw new Error(`renderApiLbSetupScript: bad region ${JSON.stringify(region)}`);
    return `#!/usr/bin/env bash
# Keelson API load balancer setup, rendered by components/cluster/render/haproxy-api.ts.
set -Eeuo pipefail
readonly REGION=${region}

log() {
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) keelson-api-lb: $*" >&2
    logger -t keelson-api-lb -- "$*" || true
}

trap 'log "FAILED: line $LINENO exited with $?"' ERR

download_ssm_agent() {
    curl -fsSL -o /tmp/amazon-ssm-agent.deb \\
        "https://s3.$REGION.amazonaws.com/amazon-ssm-$REGION/latest/debian_amd64/amazon-ssm-agent.deb"
}

haproxy -c -f /etc/haproxy/haproxy.cfg
systemctl enable haproxy
systemctl restart haproxy
log "haproxy is serving the Kubernetes API on :6443"

# Session Manager access (no SSH); a failure here must not take the load balancer down.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if download_ssm_agent; then
        dpkg -i /tmp/amazon-ssm-agent.deb && systemctl enable --now amazon-ssm-agent
        exit 0
    fi
    log "download amazon-ssm-agent: attempt $attempt/10 failed"
    sleep 6
done
log "WARNING: amazon-ssm-agent not installed; Session Manager will not reach this host"
`;
}
