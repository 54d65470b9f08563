// The node bootstrap script (bash), run once by cloud-init: SSM agent, containerd, pinned kubeadm,
// secrets from SSM with the instance role, then `kubeadm init` (master 0) or `kubeadm join`.
// Pure: the script holds names, versions and paths, never a secret value.
import { CONTROL_PLANE_PARAMETERS, JOIN_PARAMETERS } from "./ssm-layout";
import {
    BOOTSTRAP_TOKEN_PLACEHOLDER,
    ENCRYPTION_CONFIG_PATH,
    ENCRYPTION_KEY_PLACEHOLDER,
    PROVIDER_ID_PLACEHOLDER,
} from "./policies";
import { aptPackageVersion, minorSeries, parseKubernetesVersion } from "./versions";

/** Where cloud-init writes the kubeadm templates and the script. */
export const KEELSON_DIR = "/etc/keelson";
/** kubeadm init template (master 0). */
export const INIT_TEMPLATE_PATH = `${KEELSON_DIR}/kubeadm-init.tmpl.yaml`;
/** kubeadm join template (every node but a first-boot master 0). */
export const JOIN_TEMPLATE_PATH = `${KEELSON_DIR}/kubeadm-join.tmpl.yaml`;
/** EncryptionConfiguration template (masters). */
export const ENCRYPTION_TEMPLATE_PATH = `${KEELSON_DIR}/encryption-config.tmpl.yaml`;
/** The script itself. */
export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/sbin/keelson-bootstrap";

/** Inputs of the bootstrap script. */
export interface BootstrapOptions {
    /** `master` or `worker`. */
    readonly role: "master" | "worker";
    /** Master index (0 runs `kubeadm init` on a fresh cluster). Ignored for workers. */
    readonly masterIndex?: number;
    /** Keelson's node name (`master-0`, `general-1`), for logs. */
    readonly nodeName: string;
    readonly region: string;
    /** SSM prefix `/keelson/<stage>/<cluster>`, see ./ssm-layout.ts. */
    readonly ssmPrefix: string;
    readonly kubernetesVersion: string;
    /** DNS name of the API endpoint. */
    readonly endpointHost: string;
    /** Default 6443. */
    readonly endpointPort?: number;
    /** Checks of `/readyz` through the endpoint before a join. Default 60. */
    readonly apiWaitAttempts?: number;
    /** Seconds between those checks and between kubeadm attempts. Default 10. */
    readonly retryIntervalSeconds?: number;
    /** kubeadm init/join attempts, with `kubeadm reset` in between. Default 5. */
    readonly kubeadmAttempts?: number;
    /** Seconds master i (i >= 2) waits per index after the API answers, so etcd learners join one by one. Default 45. */
    readonly joinStaggerSeconds?: number;
}

/** Shell single-quoting: safe for any value. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

function header(o: BootstrapOptions): string {
    const v = parseKubernetesVersion(o.kubernetesVersion);
    const vars: [string, string | number][] = [
        ["ROLE", o.role],
        ["NODE_NAME", o.nodeName],
        ["MASTER_INDEX", o.role === "master" ? (o.masterIndex ?? 0) : -1],
        ["REGION", o.region],
        ["SSM_PREFIX", o.ssmPrefix],
        ["K8S_VERSION", v.text],
        ["K8S_SERIES", minorSeries(v)],
        ["PKG_VERSION", aptPackageVersion(v)],
        ...(o.role === "master" ? ([["API_HOST", o.endpointHost]] as [string, string][]) : []),
        ["API_ENDPOINT", `${o.endpointHost}:${o.endpointPort ?? 6443}`],
        ["API_WAIT_ATTEMPTS", o.apiWaitAttempts ?? 60],
        ["RETRY_INTERVAL", o.retryIntervalSeconds ?? 10],
        ["KUBEADM_ATTEMPTS", o.kubeadmAttempts ?? 5],
        ["JOIN_STAGGER", o.joinStaggerSeconds ?? 45],
    ];
    return vars
        .map(([k, val]) => `readonly ${k}=${typeof val === "number" ? val : shellQuote(val)}`)
        .join("\n");
}

function fetchCommands(o: BootstrapOptions): string {
    const params =
        o.role === "master" ? [...JOIN_PARAMETERS, ...CONTROL_PLANE_PARAMETERS] : [...JOIN_PARAMETERS];
    return params
        .filter((p) => p.key !== "certificate-key")
        .map((p) => `    fetch_parameter ${shellQuote(p.path)} ${shellQuote(p.key)}`)
        .join("\n");
}

function pkiCommands(o: BootstrapOptions): string {
    if (o.role !== "master")
        return "    : # workers keep the CA outside /etc/kubernetes/pki: kubeadm join refuses an existing ca.crt";
    const lines = [
        '    install -d -m 0755 "$PKI_DIR" "$PKI_DIR/etcd"',
        '    install -m 0600 "$SECRETS_DIR/ca-crt" "$PKI_DIR/ca.crt"',
    ];
    for (const p of CONTROL_PLANE_PARAMETERS) {
        if (p.file) lines.push(`    install -m 0600 "$SECRETS_DIR/${p.key}" "$PKI_DIR/${p.file}"`);
    }
    return lines.join("\n");
}

function substitutions(o: BootstrapOptions): string {
    const lines = [
        `    text="\${text//${BOOTSTRAP_TOKEN_PLACEHOLDER}/$(<"$SECRETS_DIR/bootstrap-token")}"`,
        `    text="\${text//${PROVIDER_ID_PLACEHOLDER}/$PROVIDER_ID}"`,
    ];
    if (o.role === "master") {
        lines.push(`    text="\${text//${ENCRYPTION_KEY_PLACEHOLDER}/$(<"$SECRETS_DIR/encryption-key")}"`);
    }
    return lines.join("\n");
}

function initFunction(): string {
    return `init_cluster() {
    # The endpoint (NLB/HAProxy/DNS) only answers once this API server is up and health-checked,
    # but kubeadm init talks to it: pin the name to this master so init does not wait on it.
    grep -q " $API_HOST\\$" /etc/hosts || echo "127.0.0.1 $API_HOST" >>/etc/hosts
    log "no API answers at $API_ENDPOINT: initialising a new cluster"
    run_kubeadm "$INIT_TEMPLATE" init --skip-token-print
}

`;
}

function mainBody(o: BootstrapOptions): string {
    if (o.role === "worker") return '    join_cluster "$JOIN_TEMPLATE"';
    return `    render_template ${shellQuote(ENCRYPTION_TEMPLATE_PATH)} ${shellQuote(ENCRYPTION_CONFIG_PATH)}
    if [[ "$MASTER_INDEX" -eq 0 ]] && ! api_ready; then
        init_cluster
    else
        join_cluster "$JOIN_TEMPLATE"
    fi`;
}

/**
 * Renders the bootstrap script for one node. Bounded everywhere: `API_WAIT_ATTEMPTS` checks of
 * `/readyz` `RETRY_INTERVAL` seconds apart (10 minutes by default) before a join, then at most
 * `KUBEADM_ATTEMPTS` kubeadm runs with `kubeadm reset` and fresh PKI between them. Every step is
 * logged to the console (cloud-init output) and the journal (`journalctl -t keelson-bootstrap`).
 */
export function renderBootstrapScript(o: BootstrapOptions): string {
    return `#!/usr/bin/env bash
# Keelson node bootstrap, rendered by components/cluster/render/bootstrap.ts; run once by cloud-init.
# Secrets come from SSM Parameter Store with the instance role; none is in this file or in user-data.
set -Eeuo pipefail

${header(o)}
readonly SECRETS_DIR=${KEELSON_DIR}/secrets
${o.role === "master" ? "readonly PKI_DIR=/etc/kubernetes/pki\n" : ""}${o.role === "master" ? `readonly INIT_TEMPLATE=${INIT_TEMPLATE_PATH}\n` : ""}readonly JOIN_TEMPLATE=${JOIN_TEMPLATE_PATH}
readonly KUBEADM_CONFIG=${KEELSON_DIR}/kubeadm.yaml
export DEBIAN_FRONTEND=noninteractive

log() {
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) keelson-bootstrap[$NODE_NAME/$ROLE]: $*"
    echo "$line" >&2
    logger -t keelson-bootstrap -- "$*" || true
}

die() {
    log "FATAL: $*"
    exit 1
}

trap 'log "FAILED: line $LINENO exited with $?; see journalctl -t keelson-bootstrap and /var/log/cloud-init-output.log"' ERR

# retry <attempts> <seconds between> <description> <command...>
retry() {
    local attempts=$1 interval=$2 what=$3 i
    shift 3
    for ((i = 1; i <= attempts; i++)); do
        if "$@"; then
            log "$what: ok (attempt $i/$attempts)"
            return 0
        fi
        log "$what: attempt $i/$attempts failed; next in \${interval}s"
        sleep "$interval"
    done
    log "$what: giving up after $attempts attempts"
    return 1
}

install_ssm_agent() {
    local deb=/tmp/amazon-ssm-agent.deb
    retry 10 6 "download amazon-ssm-agent" curl -fsSL -o "$deb" \\
        "https://s3.$REGION.amazonaws.com/amazon-ssm-$REGION/latest/debian_amd64/amazon-ssm-agent.deb"
    dpkg -i "$deb"
    systemctl enable --now amazon-ssm-agent
}

configure_containerd() {
    install -d -m 0755 /etc/containerd
    containerd config default >/etc/containerd/config.toml
    sed -i -e 's/SystemdCgroup = false/SystemdCgroup = true/' \\
        -e 's|sandbox_image = .*|sandbox_image = "registry.k8s.io/pause:3.10"|' /etc/containerd/config.toml
    systemctl restart containerd
}

fetch_kubernetes_key() {
    curl -fsSL "https://pkgs.k8s.io/core:/stable:/v$K8S_SERIES/deb/Release.key" |
        gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
}

install_kubernetes() {
    install -d -m 0755 /etc/apt/keyrings
    retry 10 6 "fetch the pkgs.k8s.io signing key" fetch_kubernetes_key
    chmod 0644 /etc/apt/keyrings/kubernetes-apt-keyring.gpg
    echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v$K8S_SERIES/deb/ /" \\
        >/etc/apt/sources.list.d/kubernetes.list
    chmod 0644 /etc/apt/sources.list.d/kubernetes.list
    retry 10 6 "apt-get update" apt-get update -q
    retry 5 10 "install kubelet/kubeadm/kubectl $PKG_VERSION" apt-get install -y -q \\
        "kubelet=$PKG_VERSION" "kubeadm=$PKG_VERSION" "kubectl=$PKG_VERSION"
    apt-mark hold kubelet kubeadm kubectl
    systemctl enable kubelet
}

# fetch_parameter <path below SSM_PREFIX> <file in SECRETS_DIR>: a SecureString into a mode-600 file.
read_parameter() {
    aws ssm get-parameter --region "$REGION" --with-decryption --name "$SSM_PREFIX/$1" \\
        --query Parameter.Value --output text
}

fetch_parameter() {
    local value
    value="$(retry 30 10 "read $SSM_PREFIX/$1 from SSM" read_parameter "$1")" || die "cannot read $SSM_PREFIX/$1"
    (umask 077 && printf '%s\\n' "$value" >"$SECRETS_DIR/$2")
}

fetch_secrets() {
    install -d -m 0700 "$SECRETS_DIR"
${fetchCommands(o)}
}

install_pki() {
${pkiCommands(o)}
}

# render_template <template> <destination>: placeholders filled from SECRETS_DIR, mode 600.
render_template() {
    local text
    text="$(<"$1")"
${substitutions(o)}
    install -d -m 0755 "$(dirname "$2")"
    (umask 077 && printf '%s\\n' "$text" >"$2")
}

# imds <path>: instance metadata through IMDSv2 (a session token first; v1 is disabled).
imds() {
    local token
    token="$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \
        http://169.254.169.254/latest/api/token)"
    curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

read_provider_id() {
    local zone instance
    zone="$(imds placement/availability-zone)" && instance="$(imds instance-id)" &&
        echo "aws:///$zone/$instance"
}

api_ready() {
    curl --silent --fail --max-time 5 --cacert "$SECRETS_DIR/ca-crt" "https://$API_ENDPOINT/readyz" >/dev/null
}

harden_files() {
    chmod 0600 /etc/kubernetes/*.conf /var/lib/kubelet/config.yaml 2>/dev/null || true
}

# run_kubeadm <template> <kubeadm arguments...>: bounded attempts, reset and fresh PKI in between.
run_kubeadm() {
    local template=$1 i
    shift
    for ((i = 1; i <= KUBEADM_ATTEMPTS; i++)); do
        install_pki
        render_template "$template" "$KUBEADM_CONFIG"
        log "kubeadm $1: attempt $i/$KUBEADM_ATTEMPTS"
        if kubeadm "$@" --config "$KUBEADM_CONFIG"; then
            log "kubeadm $1: succeeded"
            harden_files
            return 0
        fi
        log "kubeadm $1: attempt $i/$KUBEADM_ATTEMPTS failed; kubeadm reset, next in \${RETRY_INTERVAL}s"
        kubeadm reset --force || true
        sleep "$RETRY_INTERVAL"
    done
    die "kubeadm $1 failed $KUBEADM_ATTEMPTS times"
}

${o.role === "master" ? initFunction() : ""}join_cluster() {
    retry "$API_WAIT_ATTEMPTS" "$RETRY_INTERVAL" "wait for https://$API_ENDPOINT/readyz" api_ready ||
        die "the API at $API_ENDPOINT never answered; is master 0 up? (journalctl -t keelson-bootstrap there)"
    if [[ "$ROLE" == master && "$MASTER_INDEX" -ge 2 ]]; then
        log "waiting $(((MASTER_INDEX - 1) * JOIN_STAGGER))s so that etcd members join one at a time"
        sleep $(((MASTER_INDEX - 1) * JOIN_STAGGER))
    fi
    run_kubeadm "$1" join
}

main() {
    if [[ -f /etc/kubernetes/kubelet.conf ]]; then
        log "already bootstrapped (/etc/kubernetes/kubelet.conf exists); nothing to do"
        return 0
    fi
    log "starting: kubernetes $K8S_VERSION, endpoint $API_ENDPOINT, parameters under $SSM_PREFIX"
    install_ssm_agent || log "WARNING: amazon-ssm-agent not installed; Session Manager will not reach this node"
    modprobe overlay
    modprobe br_netfilter
    sysctl --system >/dev/null
    configure_containerd
    install_kubernetes
    fetch_secrets
    PROVIDER_ID="$(retry 10 3 "read the instance identity from IMDS" read_provider_id)" ||
        die "cannot read the instance identity from IMDSv2"
    readonly PROVIDER_ID
${mainBody(o)}
    log "done: node registered"
}

main "$@"
`;
}
