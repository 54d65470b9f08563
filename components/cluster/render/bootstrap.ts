// The node bootstrap script (bash), run by the keelson-bootstrap systemd unit until it succeeds:
// Debian packages, SSM agent, containerd, pinned kubeadm, secrets from SSM with the instance role,
// then `kubeadm init` (slot 0 of a new cluster only) or `kubeadm join`, reporting its state to SSM.
// Pure: the script holds names, versions and paths, never a secret value.
import {
    APT_LOCK_TIMEOUT_SECONDS,
    CORE_FUNCTIONS,
    INSTALL_FUNCTIONS,
    MASTER_PACKAGES,
    NODE_PACKAGES,
} from "./bootstrap-lib";
import { masterFunctions, masterSlots } from "./bootstrap-masters";
import { shellQuote } from "./shell";
import { ECR_CREDENTIAL_PROVIDER, renderCredentialProviderConfig } from "./kubeadm";
import { CONTROL_PLANE_PARAMETERS, JOIN_PARAMETERS } from "./ssm-layout";
import {
    BOOTSTRAP_TOKEN_PLACEHOLDER,
    ENCRYPTION_CONFIG_PATH,
    ENCRYPTION_KEY_PLACEHOLDER,
    NODE_NAME_PLACEHOLDER,
    PROVIDER_ID_PLACEHOLDER,
    ZONE_PLACEHOLDER,
} from "./policies";
import { aptPackageVersion, minorSeries, parseKubernetesVersion } from "./versions";
import { ADMIT_FUNCTIONS } from "./join-gate";

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

export { shellQuote } from "./shell";

/** Inputs of the bootstrap script. */
export interface BootstrapOptions {
    /** `master` or `worker`. */
    readonly role: "master" | "worker";
    /** Master index (slot 0 runs `kubeadm init` on a new cluster only). Ignored for workers. */
    readonly masterIndex?: number;
    /** Masters in the cluster (their slots `master-0..n-1`). Default 1. Ignored for workers. */
    readonly masterCount?: number;
    /**
     * Keelson's name for the node: the slot (`master-1`) or the worker's pool (`general`, to which
     * the script appends the instance id: `general-i-0abc...`, since the pool's Auto Scaling Group
     * names no instance in advance). Names its state parameter `<prefix>/state/nodes/<name>` and
     * its logs; the Kubernetes node name is the EC2 private DNS name, as the AWS cloud controller requires.
     */
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
    /** Probes of the API by slot 0, when the initialised marker is unset, before it inits. Default 3. */
    readonly initProbeAttempts?: number;
    /** Seconds master i (i >= 2) waits per index after the API answers, so etcd learners join one by one. Default 45. */
    readonly joinStaggerSeconds?: number;
}

function header(o: BootstrapOptions): string {
    const v = parseKubernetesVersion(o.kubernetesVersion);
    const vars: [string, string | number][] = [
        ["ROLE", o.role],
        ...(o.role === "master" ? ([["NODE_NAME", o.nodeName]] as [string, string][]) : []),
        ["MASTER_INDEX", o.role === "master" ? (o.masterIndex ?? 0) : -1],
        ["REGION", o.region],
        ["SSM_PREFIX", o.ssmPrefix],
        ["K8S_VERSION", v.text],
        ["K8S_SERIES", minorSeries(v)],
        ["PKG_VERSION", aptPackageVersion(v)],
        ...(o.role === "master" && (o.masterIndex ?? 0) === 0
            ? ([["API_HOST", o.endpointHost]] as [string, string][])
            : []),
        ["API_ENDPOINT", `${o.endpointHost}:${o.endpointPort ?? 6443}`],
        ["API_WAIT_ATTEMPTS", o.apiWaitAttempts ?? 60],
        ["RETRY_INTERVAL", o.retryIntervalSeconds ?? 10],
        ["KUBEADM_ATTEMPTS", o.kubeadmAttempts ?? 5],
        ...(o.role === "master" && (o.masterIndex ?? 0) === 0
            ? ([["INIT_PROBE_ATTEMPTS", o.initProbeAttempts ?? 3]] as [string, number][])
            : []),
        ["JOIN_STAGGER", o.joinStaggerSeconds ?? 45],
        ["APT_LOCK_TIMEOUT", APT_LOCK_TIMEOUT_SECONDS],
        ["STATE_PREFIX", `${o.ssmPrefix}/state`],
    ];
    const packages = [...NODE_PACKAGES, ...(o.role === "master" ? MASTER_PACKAGES : [])];
    return [
        // A worker's name gets its instance id appended once IMDS has answered (see main).
        ...(o.role === "worker" ? [`NODE_NAME=${shellQuote(o.nodeName)}`] : []),
        ...vars.map(([k, val]) => `readonly ${k}=${typeof val === "number" ? val : shellQuote(val)}`),
        `readonly DEBIAN_PACKAGES=(${packages.join(" ")})`,
    ].join("\n");
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
        `    text="\${text//${NODE_NAME_PLACEHOLDER}/$KUBE_NODE_NAME}"`,
        `    text="\${text//${ZONE_PLACEHOLDER}/$ZONE}"`,
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
    log "no cluster marker and no API at $API_ENDPOINT: initialising a new cluster"
    report initialising
    run_kubeadm "$INIT_TEMPLATE" init --skip-token-print
}

`;
}

function mainBody(o: BootstrapOptions): string {
    if (o.role === "worker") return '    join_cluster "$JOIN_TEMPLATE"';
    const first = (o.masterIndex ?? 0) === 0;
    return `    render_template ${shellQuote(ENCRYPTION_TEMPLATE_PATH)} ${shellQuote(ENCRYPTION_CONFIG_PATH)}
    ${first ? "decide_and_bootstrap" : 'join_cluster "$JOIN_TEMPLATE"'}`;
}

/** The kubelet's image credential provider for private ECR (it pulls built images with the node role). */
const ECR_FUNCTION = `install_ecr_credential_provider() {
    local bin=${ECR_CREDENTIAL_PROVIDER.binDir}/ecr-credential-provider arch
    arch="$(dpkg --print-architecture)"
    install -d -m 0755 ${ECR_CREDENTIAL_PROVIDER.binDir}
    retry 10 6 "download ecr-credential-provider ${ECR_CREDENTIAL_PROVIDER.version}" curl -fsSL -o "$bin.tmp" \\
        "https://artifacts.k8s.io/binaries/cloud-provider-aws/${ECR_CREDENTIAL_PROVIDER.version}/linux/$arch/ecr-credential-provider-linux-$arch"
    install -m 0755 "$bin.tmp" "$bin" && rm -f "$bin.tmp"
    cat >${ECR_CREDENTIAL_PROVIDER.configPath} <<'EOF'
${renderCredentialProviderConfig()}EOF
    chmod 0644 ${ECR_CREDENTIAL_PROVIDER.configPath}
}
`;

/**
 * Renders the bootstrap script for one node. Every wait is bounded (`API_WAIT_ATTEMPTS` checks of
 * `/readyz` `RETRY_INTERVAL` seconds apart, at most `KUBEADM_ATTEMPTS` kubeadm runs with `kubeadm
 * reset` between them, apt waiting `APT_LOCK_TIMEOUT` seconds for the dpkg lock); a failed attempt
 * exits non-zero and the systemd unit runs the script again after a growing delay. The node reports
 * `installing`, `joining`/`initialising`, `ready` or `failed <why>` to `<prefix>/state/nodes/<name>`.
 * Logs: the console and `journalctl -u keelson-bootstrap`.
 */
export function renderBootstrapScript(o: BootstrapOptions): string {
    const master = o.role === "master";
    const slot = o.masterIndex ?? 0;
    const others = masterSlots(o.masterCount ?? 1).filter((_, i) => i !== slot);
    return `#!/usr/bin/env bash
# Keelson node bootstrap, rendered by components/cluster/render/bootstrap.ts; run by keelson-bootstrap.service.
# Secrets come from SSM Parameter Store with the instance role; none is in this file or in user-data.
set -Eeuo pipefail

${header(o)}
readonly SECRETS_DIR=${KEELSON_DIR}/secrets
${master ? "readonly PKI_DIR=/etc/kubernetes/pki\n" : ""}${master && slot === 0 ? `readonly INIT_TEMPLATE=${INIT_TEMPLATE_PATH}\n` : ""}readonly JOIN_TEMPLATE=${JOIN_TEMPLATE_PATH}
readonly KUBEADM_CONFIG=${KEELSON_DIR}/kubeadm.yaml
readonly ATTEMPTED=${KEELSON_DIR}/kubeadm-attempted
export DEBIAN_FRONTEND=noninteractive
INSTANCE_ID=""

${CORE_FUNCTIONS}
${INSTALL_FUNCTIONS}
${ECR_FUNCTION}
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

api_ready() {
    curl --silent --fail --max-time 5 --cacert "$SECRETS_DIR/ca-crt" "https://$API_ENDPOINT/readyz" >/dev/null
}

# run_kubeadm <template> <kubeadm arguments...>: bounded attempts, reset and fresh PKI in between
# (and before the first one when an earlier run of this unit got as far as kubeadm).
run_kubeadm() {
    local template=$1 i
    shift
    if [[ -e "$ATTEMPTED" ]]; then
        log "an earlier attempt ran kubeadm: kubeadm reset first"
        kubeadm reset --force || true
    fi
    install -d -m 0700 "$(dirname "$ATTEMPTED")" && : >"$ATTEMPTED"
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

${master && slot === 0 ? initFunction() : ""}${master ? masterFunctions(others, slot === 0) + "\n" : ""}join_cluster() {
    report waiting "for https://$API_ENDPOINT/readyz"
    retry "$API_WAIT_ATTEMPTS" "$RETRY_INTERVAL" "wait for https://$API_ENDPOINT/readyz" api_ready ||
        die "the API at $API_ENDPOINT never answered; is master 0 up? (its state: $STATE_PREFIX/nodes/master-0)"
${master ? "    remove_stale_member\n" : ""}    if [[ "$ROLE" == master && "$MASTER_INDEX" -ge 2 ]]; then
        log "waiting $(((MASTER_INDEX - 1) * JOIN_STAGGER))s so that etcd members join one at a time"
        sleep $(((MASTER_INDEX - 1) * JOIN_STAGGER))
    fi
    report joining
    run_kubeadm "$1" join
}

${master ? "" : ADMIT_FUNCTIONS + "\n"}# Idempotent: also run when an earlier attempt bootstrapped the node and then failed.
finish() {
${master ? `    record_slot\n${slot === 0 ? "    mark_initialised\n" : ""}` : "    admit_node\n"}    rm -f "$ATTEMPTED"
    report ready "$KUBE_NODE_NAME"
    log "done: node registered as $KUBE_NODE_NAME"
}

main() {
    retry 10 3 "read the instance identity from IMDS" read_identity ||
        die "cannot read the instance identity from IMDSv2"
    readonly INSTANCE_ID ZONE LOCAL_IP KUBE_NODE_NAME PROVIDER_ID
${o.role === "worker" ? '    NODE_NAME="$NODE_NAME-$INSTANCE_ID"\n    readonly NODE_NAME\n' : ""}    if [[ -f /etc/kubernetes/kubelet.conf ]]; then
        log "already bootstrapped (/etc/kubernetes/kubelet.conf exists)"
        finish
        return 0
    fi
    log "starting: $KUBE_NODE_NAME ($LOCAL_IP), kubernetes $K8S_VERSION, endpoint $API_ENDPOINT, parameters under $SSM_PREFIX"
    install_debian_packages
    report installing "containerd and kubernetes $K8S_VERSION"
    install_ssm_agent || log "WARNING: amazon-ssm-agent not installed; Session Manager will not reach this node"
    modprobe overlay
    modprobe br_netfilter
    sysctl --system >/dev/null
    configure_containerd
    install_kubernetes
    install_ecr_credential_provider
    fetch_secrets
${mainBody(o)}
    finish
}

main "$@"
`;
}
