// The in-place control-plane upgrade (issue 10.4): the version rule, the script one master runs, and
// the SSM Command document that carries it. Pure text and data.
//
// kubeadm's documented order (kubernetes.io "Upgrading kubeadm clusters"): on the first control-plane
// node install the new kubeadm, `kubeadm upgrade apply v<target>`; on every other control-plane node,
// one at a time, the new kubeadm and `kubeadm upgrade node`; on each node drain it, install the new
// kubelet and kubectl, restart the kubelet, uncordon it. Workers come last (here: their pool's instance
// refresh onto a launch template of the new version, ../WorkerPool.ts). One minor at a time, never down.
// The kubelets move only after every master's control plane (the documented page upgrades each control-plane
// node's kubelet right after its kubeadm step, when a kubelet reaching the API through the endpoint can meet
// an older API server, which the version skew policy does not allow; the boot lab's rehearsal caught it).
import { CORE_FUNCTIONS, INSTALL_FUNCTIONS, APT_LOCK_TIMEOUT_SECONDS } from "./bootstrap-lib";
import { shellQuote } from "./shell";
import { masterSlots } from "./bootstrap-masters";

/** Where the document writes the script on the master before running it. */
export const UPGRADE_SCRIPT_PATH = "/usr/local/sbin/keelson-upgrade";

/** SSM String parameter (below `<prefix>/state/`) each master's upgrade reports to. */
export function upgradeRecord(slot: string): string {
    return `upgrade/${slot}`;
}

/**
 * Why going from the version a cluster runs to `to` is refused, or undefined when it is allowed: the
 * same version (nothing to do), a later patch of the same minor, or the next minor at any patch.
 * kubeadm upgrades one minor at a time and cannot downgrade. Self-contained: the version guard's
 * dynamic provider serializes it, and the upgrade script applies the same rule in bash.
 */
export function upgradeProblem(from: string, to: string): string | undefined {
    const parse = (v: string) => {
        const m = /^1\.(\d+)\.(\d+)$/.exec(v);
        return m ? { minor: Number(m[1]), patch: Number(m[2]) } : undefined;
    };
    const a = parse(from);
    const b = parse(to);
    if (!a || !b) return `cluster.kubernetesVersion: ${JSON.stringify(to)} is not 1.N.P; use e.g. 1.33.4`;
    if (b.minor < a.minor || (b.minor === a.minor && b.patch < a.patch)) {
        return (
            `cluster.kubernetesVersion: ${to} is older than the ${from} the cluster runs; kubeadm cannot ` +
            `downgrade: set it back to ${from} (or a later patch of 1.${a.minor}, or 1.${a.minor + 1}.x)`
        );
    }
    if (b.minor > a.minor + 1) {
        return (
            `cluster.kubernetesVersion: ${to} skips 1.${a.minor + 1}: the cluster runs ${from} and kubeadm ` +
            `upgrades one minor at a time: set 1.${a.minor + 1}.x, pulumi up, then ${to}`
        );
    }
    return undefined;
}

/**
 * The script's options for the config's waits (`cluster.upgrade`): health checks every 10 s for up to
 * `healthTimeoutSeconds` (rounded up), the drain's own timeout.
 */
export function upgradeScriptTimeouts(t: {
    readonly healthTimeoutSeconds: number;
    readonly drainTimeoutSeconds: number;
}): Pick<UpgradeScriptOptions, "healthAttempts" | "drainTimeoutSeconds"> {
    return {
        healthAttempts: Math.ceil(t.healthTimeoutSeconds / 10),
        drainTimeoutSeconds: t.drainTimeoutSeconds,
    };
}

/** Inputs of the upgrade script (the same script on every master; the target, slot and role are its arguments). */
export interface UpgradeScriptOptions {
    readonly region: string;
    /** Masters in the cluster (slots `master-0..n-1`): the kubelet phase asks each one's API server its version. */
    readonly masters: number;
    /** SSM prefix `/keelson/<stage>/<cluster>`. */
    readonly ssmPrefix: string;
    /** Checks, 10 s apart, for this master's own bootstrap to finish before anything else. Default 180 (30 min). */
    readonly bootWaitAttempts?: number;
    /** Checks, 10 s apart, for the API, the Node and etcd to be healthy after a step. Default 60 (10 min). */
    readonly healthAttempts?: number;
    /**
     * Checks, 10 s apart, for the API and etcd to be healthy before a phase changes anything. Default 6: nothing
     * has changed yet, so an unhealthy cluster is refused within about 2 minutes (each etcdctl waits up to 10 s).
     */
    readonly preflightAttempts?: number;
    /** Seconds between those checks. Default 10. */
    readonly intervalSeconds?: number;
    /** `kubectl drain --timeout` in seconds (PodDisruptionBudgets respected). Default 600. */
    readonly drainTimeoutSeconds?: number;
}

/**
 * The script one master runs: `keelson-upgrade <target 1.N.P> <slot master-i> <first yes|no> <phase>`. Both phases
 * wait for the master's own bootstrap. `control-plane` refuses a target the version rule refuses (against the
 * version the cluster's kubeadm-config records) on the first master and, on the others, a cluster the first has
 * not upgraded; checks that every etcd member and the API are healthy before it changes anything; installs kubeadm
 * from the target minor's repository and runs `kubeadm upgrade apply` (first) or `kubeadm upgrade node` (others).
 * `kubelet`, once every API server runs the target (no kubelet newer than an API server it can reach), drains the
 * node, upgrades the kubelet and kubectl, waits until the Node is Ready at the target, uncordons it and checks etcd
 * again. A step already done is skipped, so a rerun resumes where a failed run stopped. It reports `<state> <time>
 * <target> <detail>` to `<prefix>/state/upgrade/<slot>` and exits non-zero at the first failed step, naming it:
 * the SSM association fails, and `pulumi up` with it, before the next step or any worker is touched.
 */
export function renderUpgradeScript(o: UpgradeScriptOptions): string {
    return `#!/usr/bin/env bash
# Keelson control-plane upgrade of one master, rendered by components/cluster/render/upgrade.ts and run by
# the SSM associations <cluster>-upgrade-<slot> and <cluster>-upgrade-kubelet-<slot>:
# keelson-upgrade <target 1.N.P> <slot> <first: yes|no> <phase: control-plane|kubelet>.
set -Eeuo pipefail

[[ $# -eq 4 && "$1" =~ ^1\\.([0-9]+)\\.([0-9]+)$ && "$2" =~ ^master-[0-9]+$ && "$3" =~ ^(yes|no)$ &&
    "$4" =~ ^(control-plane|kubelet)$ ]] || {
    echo "usage: keelson-upgrade <target 1.N.P> <slot master-i> <first yes|no> <phase control-plane|kubelet>" >&2
    exit 2
}
readonly TARGET=$1 SLOT=$2 FIRST=$3 PHASE=$4
[[ "$TARGET" =~ ^1\\.([0-9]+)\\. ]] # (the checks above matched the other arguments last)
readonly TARGET_MINOR=\${BASH_REMATCH[1]}
readonly NODE_NAME=$SLOT ROLE=upgrade LOG_TAG=keelson-upgrade
readonly REGION=${shellQuote(o.region)}
readonly STATE_PREFIX=${shellQuote(`${o.ssmPrefix}/state`)}
readonly K8S_SERIES="1.$TARGET_MINOR" PKG_VERSION="$TARGET-1.1"
readonly APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT_SECONDS}
readonly BOOT_WAIT_ATTEMPTS=${o.bootWaitAttempts ?? 180}
readonly HEALTH_ATTEMPTS=${o.healthAttempts ?? 60}
readonly PREFLIGHT_ATTEMPTS=${o.preflightAttempts ?? 6}
readonly INTERVAL=${o.intervalSeconds ?? 10}
readonly DRAIN_TIMEOUT=${o.drainTimeoutSeconds ?? 600}
readonly PKI=/etc/kubernetes/pki
readonly MASTER_SLOTS=${shellQuote(masterSlots(o.masters).join(" "))}
export KUBECONFIG=/etc/kubernetes/admin.conf DEBIAN_FRONTEND=noninteractive
STEP=start
INSTANCE_ID=""

${CORE_FUNCTIONS}
${INSTALL_FUNCTIONS}
# The bootstrap's report and die write to state/nodes/<slot>; the upgrade reports to state/${upgradeRecord("<slot>")}.
report_upgrade() {
    aws ssm put-parameter --region "$REGION" --name "$STATE_PREFIX/${upgradeRecord("$SLOT")}" --type String \\
        --overwrite --value "$1 $(date -u +%Y-%m-%dT%H:%M:%SZ) $TARGET \${2:-}" >/dev/null ||
        log "WARNING: could not report '$1' to $STATE_PREFIX/${upgradeRecord("$SLOT")}"
}

fail() {
    log "FAILED at step $STEP: $*"
    report_upgrade failed "$STEP: $*"
    exit 1
}
trap 'fail "line $LINENO exited with $?"' ERR

# version_problem <from> <to>: the rule of upgradeProblem in upgrade.ts; prints why, or nothing when allowed.
version_problem() {
    local a b
    [[ "$1" =~ ^1\\.([0-9]+)\\.([0-9]+)$ ]] || { echo "the cluster's version '$1' is not 1.N.P"; return 0; }
    a=("\${BASH_REMATCH[1]}" "\${BASH_REMATCH[2]}")
    [[ "$2" =~ ^1\\.([0-9]+)\\.([0-9]+)$ ]]
    b=("\${BASH_REMATCH[1]}" "\${BASH_REMATCH[2]}")
    if ((b[0] < a[0] || (b[0] == a[0] && b[1] < a[1]))); then
        echo "cluster.kubernetesVersion: $2 is older than the $1 the cluster runs; kubeadm cannot downgrade: set it back to $1 (or a later patch of 1.\${a[0]}, or 1.$((a[0] + 1)).x)"
    elif ((b[0] > a[0] + 1)); then
        echo "cluster.kubernetesVersion: $2 skips 1.$((a[0] + 1)): the cluster runs $1 and kubeadm upgrades one minor at a time: set 1.$((a[0] + 1)).x, pulumi up, then $2"
    fi
}

bootstrapped() {
    [[ -f /etc/kubernetes/kubelet.conf && -f "$KUBECONFIG" && ! -e /etc/keelson/kubeadm-attempted ]]
}

# The version kubeadm records for the cluster (kube-system/kubeadm-config), without the v.
cluster_version() {
    kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' |
        sed -n 's/^kubernetesVersion: *v\\{0,1\\}\\([0-9.]*\\).*/\\1/p'
}

# The getters below print nothing when they cannot tell (no manifest yet, API briefly away): callers compare.

# The version of this master's API server static pod (its image tag), without the v.
local_control_plane_version() {
    sed -n 's|^[ -]*image: .*/kube-apiserver:v\\{0,1\\}\\([0-9.]*\\).*|\\1|p' /etc/kubernetes/manifests/kube-apiserver.yaml 2>/dev/null || true
}

kubelet_version() {
    kubectl get node "$KUBE_NODE_NAME" -o jsonpath='{.status.nodeInfo.kubeletVersion}' 2>/dev/null || true
}

api_healthy() {
    kubectl get --raw /readyz >/dev/null
}

# Every etcd member answers (quorum with a margin: no master is taken down while another is unhealthy).
etcd_healthy() {
    ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:2379 --cacert "$PKI/etcd/ca.crt" \\
        --cert "$PKI/etcd/healthcheck-client.crt" --key "$PKI/etcd/healthcheck-client.key" \\
        --command-timeout=10s endpoint health --cluster
}

node_ready_at_target() {
    [[ "$(kubelet_version)" == "v$TARGET" ]] &&
        [[ "$(kubectl get node "$KUBE_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)" == True ]]
}

# healthy <attempts>: the API and every etcd member, checked up to <attempts> times, 10 s apart.
healthy() {
    local attempts=$1
    retry "$attempts" "$INTERVAL" "the API answers /readyz" api_healthy || fail "the API does not answer /readyz"
    retry "$attempts" "$INTERVAL" "every etcd member is healthy" etcd_healthy ||
        fail "an etcd member is unhealthy (etcdctl endpoint health --cluster)"
}

# api_server_version <slot>: the version the API server of a recorded master answers with (/version), without
# the v. The admin credentials with that master's own address (kubeadm puts it in the serving certificate).
api_server_version() {
    local out rc=0 ip
    out="$(aws ssm get-parameter --region "$REGION" --name "$STATE_PREFIX/masters/$1" \\
        --query Parameter.Value --output text 2>&1)" || rc=$?
    ((rc == 0)) || { log "reading $STATE_PREFIX/masters/$1 failed: \${out##*$'\\n'}"; return 1; }
    read -r _ _ ip _ <<<"$out"
    [[ -n "\${ip:-}" && "$ip" != none ]] || { log "slot $1 records no master yet"; return 1; }
    kubectl --server "https://$ip:6443" get --raw /version 2>/dev/null |
        sed -n 's/.*"gitVersion": *"v\\{0,1\\}\\([^"]*\\)".*/\\1/p'
}

# Every master's API server answers with the target: no kubelet may be newer than an API server it can reach.
api_servers_at_target() {
    local slot version
    for slot in $MASTER_SLOTS; do
        version="$(api_server_version "$slot")" || return 1
        if [[ "$version" != "$TARGET" ]]; then
            log "the API server of $slot answers \${version:-nothing}, not $TARGET"
            return 1
        fi
    done
}

control_plane() {
    STEP=preflight
    local from local_version problem
    from="$(retry "$HEALTH_ATTEMPTS" "$INTERVAL" "read kubeadm-config" cluster_version)" || fail "cannot read kube-system/kubeadm-config"
    [[ -n "$from" ]] || fail "kube-system/kubeadm-config names no kubernetesVersion"
    local_version="$(local_control_plane_version)"
    if [[ "$FIRST" == yes ]]; then
        problem="$(version_problem "$from" "$TARGET")"
        [[ -z "$problem" ]] || fail "$problem"
    elif [[ "$from" != "$TARGET" ]]; then
        fail "the first master has not upgraded the cluster to $TARGET (kubeadm-config says $from); upgrade-master-0 runs first"
    fi
    if [[ "$from" == "$TARGET" && "$local_version" == "$TARGET" ]]; then
        log "$SLOT's control plane already runs $TARGET: nothing to do"
        report_upgrade control-plane-upgraded "already at $TARGET"
        return 0
    fi
    log "upgrading $SLOT's control plane ($KUBE_NODE_NAME) from $local_version to $TARGET (cluster: $from)"
    report_upgrade upgrading "control plane from $local_version"
    healthy "$PREFLIGHT_ATTEMPTS"

    STEP=kubeadm
    kubernetes_repository
    install_kube_packages kubeadm
    if [[ "$FIRST" == yes ]]; then
        kubeadm upgrade plan "v$TARGET"
        kubeadm upgrade apply "v$TARGET" --yes
    else
        kubeadm upgrade node
    fi
    [[ "$(local_control_plane_version)" == "$TARGET" ]] ||
        fail "kubeadm left kube-apiserver at $(local_control_plane_version), not $TARGET"
    harden_files
    healthy "$HEALTH_ATTEMPTS"
    report_upgrade control-plane-upgraded "$KUBE_NODE_NAME's control plane at $TARGET"
    log "done: $SLOT's control plane runs $TARGET"
}

kubelet_phase() {
    STEP=preflight
    if node_ready_at_target; then
        log "$SLOT's kubelet already runs $TARGET: nothing to do"
        report_upgrade upgraded "already at $TARGET"
        return 0
    fi
    retry "$HEALTH_ATTEMPTS" "$INTERVAL" "every API server at $TARGET" api_servers_at_target ||
        fail "an API server does not run $TARGET yet; the kubelets upgrade after every master's control plane"
    log "upgrading $SLOT's kubelet ($KUBE_NODE_NAME) from $(kubelet_version) to $TARGET"
    report_upgrade upgrading "kubelet from $(kubelet_version)"
    healthy "$PREFLIGHT_ATTEMPTS"

    STEP=drain
    kubectl drain "$KUBE_NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="\${DRAIN_TIMEOUT}s"
    STEP=kubelet
    kubernetes_repository
    install_kube_packages kubelet kubectl
    systemctl daemon-reload
    systemctl restart kubelet
    harden_files

    STEP=ready
    retry "$HEALTH_ATTEMPTS" "$INTERVAL" "Node $KUBE_NODE_NAME Ready at v$TARGET" node_ready_at_target ||
        fail "Node $KUBE_NODE_NAME is not Ready at v$TARGET (kubelet: $(kubelet_version || true)); it stays cordoned"
    kubectl uncordon "$KUBE_NODE_NAME"
    healthy "$HEALTH_ATTEMPTS"
    report_upgrade upgraded "$KUBE_NODE_NAME at $TARGET"
    log "done: $SLOT runs $TARGET"
}

main() {
    STEP=bootstrap
    retry 10 3 "read the instance identity from IMDS" read_identity || fail "cannot read the instance identity from IMDSv2"
    log "$SLOT is $KUBE_NODE_NAME ($LOCAL_IP, $PROVIDER_ID); target $TARGET, first master: $FIRST, phase: $PHASE"
    retry "$BOOT_WAIT_ATTEMPTS" "$INTERVAL" "wait for this master's bootstrap" bootstrapped ||
        fail "this master's bootstrap has not finished (its state: $STATE_PREFIX/nodes/$SLOT)"
    if [[ "$PHASE" == control-plane ]]; then control_plane; else kubelet_phase; fi
}

main
`;
}

/** The SSM Command document (JSON content) that writes the script to {@link UPGRADE_SCRIPT_PATH} and runs it. */
export function renderUpgradeDocument(o: UpgradeScriptOptions): string {
    const script = renderUpgradeScript(o);
    // SSM substitutes {{ name }} anywhere in runCommand; the script holds none, so only the last line's are.
    if (script.includes("{{"))
        throw new Error("the upgrade script must not contain '{{' (SSM parameter syntax)");
    const delimiter = "KEELSON_UPGRADE_SCRIPT";
    if (script.split("\n").includes(delimiter)) throw new Error(`the upgrade script contains ${delimiter}`);
    return JSON.stringify(
        {
            schemaVersion: "2.2",
            description:
                "Keelson: upgrade one master in place in kubeadm's order (components/cluster/render/upgrade.ts)",
            parameters: {
                version: {
                    type: "String",
                    description: "Target Kubernetes version, 1.N.P",
                    allowedPattern: "^1\\.[0-9]+\\.[0-9]+$",
                },
                slot: {
                    type: "String",
                    description: "Master slot, master-<i>",
                    allowedPattern: "^master-[0-9]+$",
                },
                first: {
                    type: "String",
                    description:
                        "yes on the first master (kubeadm upgrade apply), no on the others (kubeadm upgrade node)",
                    allowedValues: ["yes", "no"],
                },
                phase: {
                    type: "String",
                    description:
                        "control-plane (kubeadm, every master one by one), then kubelet (drain, kubelet, uncordon, every master one by one)",
                    allowedValues: ["control-plane", "kubelet"],
                },
            },
            mainSteps: [
                {
                    action: "aws:runShellScript",
                    name: "upgrade",
                    inputs: {
                        timeoutSeconds: "3600",
                        runCommand: [
                            `cat >${UPGRADE_SCRIPT_PATH}.new <<'${delimiter}'`,
                            ...script.replace(/\n$/, "").split("\n"),
                            delimiter,
                            `chmod 0700 ${UPGRADE_SCRIPT_PATH}.new && mv ${UPGRADE_SCRIPT_PATH}.new ${UPGRADE_SCRIPT_PATH}`,
                            `exec ${UPGRADE_SCRIPT_PATH} '{{ version }}' '{{ slot }}' '{{ first }}' '{{ phase }}'`,
                        ],
                    },
                },
            ],
        },
        null,
        2,
    );
}
