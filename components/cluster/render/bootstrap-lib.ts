// Shell functions every node's bootstrap shares: logging, bounded retries, state reports to SSM,
// IMDSv2, and the package installs (Debian packages with the dpkg lock waited for, the SSM agent
// for the machine's architecture, containerd, the pinned kube packages). Pure text.
import { CONTAINERD_CONFIG_PATH, CONTAINERD_CONFIG_TEMPLATE_PATH } from "./containerd";

/** Seconds apt waits for a held dpkg lock (unattended-upgrades on first boot) before it fails. */
export const APT_LOCK_TIMEOUT_SECONDS = 300;

/**
 * Debian packages every Kubernetes node installs from the Debian archive, inside the bootstrap with
 * bounded retries (never cloud-init's one-shot `packages:`). kube* come from pkgs.k8s.io; iptables
 * is a mandatory kubeadm preflight binary that the kubelet package only recommends.
 */
export const NODE_PACKAGES: readonly string[] = [
    "apt-transport-https",
    "ca-certificates",
    "curl",
    "gpg",
    "awscli",
    "containerd",
    "conntrack",
    "socat",
    "iptables",
    "openssl",
];

/** Extra Debian packages on masters: etcdctl, to remove a replaced master's stale etcd member. */
export const MASTER_PACKAGES: readonly string[] = ["etcd-client"];

/**
 * `imds <path>`: one instance-metadata value through IMDSv2 (a session token first; v1 is disabled on every
 * Keelson instance), failing when IMDS has no such path. Shared by the bootstrap and the masters' scripts.
 */
export const IMDS_FUNCTION = `# imds <path>: instance metadata through IMDSv2 (a session token first; v1 is disabled).
imds() {
    local token
    token="$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' \\
        http://169.254.169.254/latest/api/token)"
    curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
`;

/** `retry <attempts> <seconds between> <description> <command...>`: bounded attempts, each logged with `log`. */
export const RETRY_FUNCTION = `# retry <attempts> <seconds between> <description> <command...>
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
`;

/** Logging, `retry`, `die` with a failure report, IMDSv2 and SSM state helpers. */
export const CORE_FUNCTIONS = `log() {
    local line
    line="$(date -u +%Y-%m-%dT%H:%M:%SZ) \${LOG_TAG:-keelson-bootstrap}[$NODE_NAME/$ROLE]: $*"
    echo "$line" >&2
    logger -t "\${LOG_TAG:-keelson-bootstrap}" -- "$*" || true
}

# report <state> [detail]: best effort; SSM String parameter $STATE_PREFIX/nodes/$NODE_NAME
# holds "<state> <UTC time> <instance id> <detail>" (no secret ever goes there). Three tries 2 s
# apart (the CLI retries throttling and network errors itself; this covers the rest, such as a
# credential refresh), since the last report is what an operator and the lab read. Before awscli is
# installed (Debian's image has none) a failure can only be logged, and says so.
report() {
    if ! command -v aws >/dev/null 2>&1; then
        log "state '$1' not reported to $STATE_PREFIX/nodes/$NODE_NAME: the AWS CLI is not installed yet"
        return 0
    fi
    local value try
    value="$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) \${INSTANCE_ID:-unknown} \${2:-}"
    for try in 1 2 3; do
        aws ssm put-parameter --region "$REGION" --name "$STATE_PREFIX/nodes/$NODE_NAME" --type String \\
            --overwrite --value "$value" >/dev/null && return 0
        [[ "$try" == 3 ]] || sleep 2
    done
    log "WARNING: could not report state '$1' to $STATE_PREFIX/nodes/$NODE_NAME"
}

die() {
    log "FATAL: $*"
    report failed "$*"
    exit 1
}

on_error() {
    log "FAILED: line $2 exited with $1; see journalctl -u keelson-bootstrap"
    report failed "line $2 exit $1"
}
trap 'on_error $? $LINENO' ERR

${RETRY_FUNCTION}
${IMDS_FUNCTION}
read_identity() {
    INSTANCE_ID="$(imds instance-id)" && ZONE="$(imds placement/availability-zone)" &&
        LOCAL_IP="$(imds local-ipv4)" && KUBE_NODE_NAME="$(imds local-hostname)" &&
        PROVIDER_ID="aws:///$ZONE/$INSTANCE_ID"
}
`;

/** Package installs: Debian packages, the SSM agent, containerd, the pinned kube packages. */
export const INSTALL_FUNCTIONS = `# apt_get: waits up to APT_LOCK_TIMEOUT seconds for a held dpkg lock, retries downloads.
apt_get() {
    apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" -o Acquire::Retries=3 "$@"
}

install_debian_packages() {
    retry 10 15 "apt-get update" apt_get update -q
    retry 10 15 "install \${DEBIAN_PACKAGES[*]}" apt_get install -y -q "\${DEBIAN_PACKAGES[@]}"
}

install_ssm_agent() {
    local deb=/tmp/amazon-ssm-agent.deb arch
    arch="$(dpkg --print-architecture)"
    retry 10 6 "download amazon-ssm-agent ($arch)" curl -fsSL -o "$deb" \\
        "https://s3.$REGION.amazonaws.com/amazon-ssm-$REGION/latest/debian_$arch/amazon-ssm-agent.deb" &&
        dpkg -i "$deb" && systemctl enable --now amazon-ssm-agent
}

# The rendered configuration (./containerd.ts) replaces the package's; containerd parses it first,
# so a bad file fails here with containerd's own message instead of leaving a stopped runtime.
configure_containerd() {
    local err
    install -d -m 0755 /etc/containerd
    install -m 0644 ${CONTAINERD_CONFIG_TEMPLATE_PATH} ${CONTAINERD_CONFIG_PATH}
    err="$(containerd --config ${CONTAINERD_CONFIG_PATH} config dump 2>&1 >/dev/null)" ||
        die "containerd rejects ${CONTAINERD_CONFIG_PATH}: \${err##*$'\\n'}"
    systemctl restart containerd
}

fetch_kubernetes_key() {
    curl -fsSL "https://pkgs.k8s.io/core:/stable:/v$K8S_SERIES/deb/Release.key" |
        gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
}

# kubernetes_repository: pkgs.k8s.io's repository of the K8S_SERIES minor (one repository per minor),
# its signing key, and a fresh index.
kubernetes_repository() {
    install -d -m 0755 /etc/apt/keyrings
    retry 10 6 "fetch the pkgs.k8s.io signing key" fetch_kubernetes_key
    chmod 0644 /etc/apt/keyrings/kubernetes-apt-keyring.gpg
    echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v$K8S_SERIES/deb/ /" \\
        >/etc/apt/sources.list.d/kubernetes.list
    chmod 0644 /etc/apt/sources.list.d/kubernetes.list
    retry 10 6 "apt-get update" apt_get update -q
}

# install_kube_packages <package...>: each at PKG_VERSION, held so that no apt upgrade moves them.
# pkgs.k8s.io publishes the same version string for amd64 and arm64; apt picks the machine's.
install_kube_packages() {
    local pkgs=("$@") p pinned=()
    for p in "\${pkgs[@]}"; do pinned+=("$p=$PKG_VERSION"); done
    apt-mark unhold "\${pkgs[@]}" >/dev/null 2>&1 || true
    retry 5 10 "install \${pkgs[*]} $PKG_VERSION" apt_get install -y -q --allow-change-held-packages "\${pinned[@]}"
    apt-mark hold "\${pkgs[@]}"
}

# CIS 1.1.x/4.1.x file modes: kubeconfigs, the kubelet config and the kubelet unit files (the package ships 0644).
harden_files() {
    chmod 0600 /etc/kubernetes/*.conf /var/lib/kubelet/config.yaml 2>/dev/null || true
    chmod 0600 /lib/systemd/system/kubelet.service /usr/lib/systemd/system/kubelet.service.d/*.conf 2>/dev/null || true
}

install_kubernetes() {
    kubernetes_repository
    install_kube_packages kubelet kubeadm kubectl
    systemctl enable kubelet
}
`;
