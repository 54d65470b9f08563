// systemd units and the small scripts the masters' timers run: the bootstrap as a restartable unit
// with backoff, the bootstrap-token rotation into SSM, and the certificate renewal. Pure text.
import { shellQuote } from "./shell";

/** The bootstrap unit's name. */
export const BOOTSTRAP_UNIT = "keelson-bootstrap.service";
/** The token rotation timer (masters). */
export const TOKEN_ROTATE_TIMER = "keelson-token-rotate.timer";
/** The certificate renewal timer (masters). */
export const CERT_RENEW_TIMER = "keelson-cert-renew.timer";
/** Script paths on masters. */
export const TOKEN_ROTATE_SCRIPT_PATH = "/usr/local/sbin/keelson-rotate-token";
export const CERT_RENEW_SCRIPT_PATH = "/usr/local/sbin/keelson-renew-certs";

/** Lifetime of every bootstrap token; the timer mints a new one well before it ends. */
export const BOOTSTRAP_TOKEN_TTL = "24h";
/** Hours between rotations (with up to 30 minutes of random delay per master). */
export const TOKEN_ROTATE_HOURS = 6;
/** Renew the control-plane certificates when one expires within this many days. */
export const CERT_RENEW_WITHIN_DAYS = 90;

/**
 * The bootstrap as a oneshot unit that restarts on failure with a growing delay (10 s up to
 * 10 minutes, systemd >= 254 as in Debian 13) and no start limit: a held dpkg lock, a NAT that is not
 * routing yet or an instance role still propagating ends one attempt, never the node. Each attempt's
 * own waits are bounded; the unit keeps trying and the node's SSM state says where it stands.
 */
export function renderBootstrapUnit(scriptPath: string): string {
    return `[Unit]
Description=Keelson node bootstrap (packages, secrets from SSM, kubeadm init or join)
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${scriptPath}
Restart=on-failure
RestartSec=10s
RestartSteps=8
RestartMaxDelaySec=10min
TimeoutStartSec=90min
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`;
}

/** A oneshot service plus its timer; the service runs only once the node is a master. */
export function renderTimerUnits(
    description: string,
    scriptPath: string,
    schedule: { onBoot: string; every: string; randomDelay: string },
): { service: string; timer: string } {
    return {
        service: `[Unit]
Description=${description}
ConditionPathExists=/etc/kubernetes/admin.conf

[Service]
Type=oneshot
ExecStart=${scriptPath}
`,
        timer: `[Unit]
Description=${description} (schedule)

[Timer]
OnBootSec=${schedule.onBoot}
OnUnitActiveSec=${schedule.every}
RandomizedDelaySec=${schedule.randomDelay}

[Install]
WantedBy=timers.target
`,
    };
}

/** Inputs of the masters' maintenance scripts. */
export interface MaintenanceOptions {
    readonly region: string;
    /** `/keelson/<stage>/<cluster>`. */
    readonly ssmPrefix: string;
    /** ARN of the cluster's KMS key: an overwrite without it would fall back to `aws/ssm`. */
    readonly kmsKeyArn: string;
}

/**
 * Mints a new bootstrap token (TTL {@link BOOTSTRAP_TOKEN_TTL}, the kubeadm node groups) and writes
 * it over `<prefix>/join/bootstrap-token` with the parameter's own KMS key, so a node that joins
 * a month later reads a live token. The value goes to the AWS CLI in a mode-600 file, never argv.
 */
export function renderTokenRotateScript(o: MaintenanceOptions): string {
    return `#!/usr/bin/env bash
# Keelson bootstrap-token rotation (masters), rendered by components/cluster/render/units.ts.
set -Eeuo pipefail
readonly REGION=${shellQuote(o.region)}
readonly PARAMETER=${shellQuote(`${o.ssmPrefix}/join/bootstrap-token`)}
readonly KEY_ID=${shellQuote(o.kmsKeyArn)}
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
token="$(kubeadm token create --kubeconfig /etc/kubernetes/admin.conf --ttl ${BOOTSTRAP_TOKEN_TTL} \\
    --usages signing,authentication --groups system:bootstrappers:kubeadm:default-node-token \\
    --description "Keelson node bootstrap token, rotated by $(hostname)")"
printf '{"Name":"%s","Type":"SecureString","KeyId":"%s","Overwrite":true,"Value":"%s"}\\n' \\
    "$PARAMETER" "$KEY_ID" "$token" >"$work/put.json"
aws ssm put-parameter --region "$REGION" --cli-input-json "file://$work/put.json" >/dev/null
logger -t keelson-token-rotate "a new bootstrap token (ttl ${BOOTSTRAP_TOKEN_TTL}) is in $PARAMETER"
`;
}

/** The certificates `kubeadm certs renew all` renews that the check looks at. */
export const RENEWED_CERTIFICATES: readonly string[] = [
    "apiserver.crt",
    "apiserver-etcd-client.crt",
    "apiserver-kubelet-client.crt",
    "front-proxy-client.crt",
    "etcd/server.crt",
    "etcd/peer.crt",
    "etcd/healthcheck-client.crt",
];

/**
 * Renews this master's kubeadm certificates when any expires within {@link CERT_RENEW_WITHIN_DAYS}
 * days (kubeadm's leaf certificates live one year), then restarts its static pods one at a time by
 * moving each manifest out and back, as kubeadm's documentation asks.
 */
export function renderCertRenewScript(): string {
    const checks = RENEWED_CERTIFICATES.map((c) => `/etc/kubernetes/pki/${c}`).join(" ");
    return `#!/usr/bin/env bash
# Keelson certificate renewal (masters), rendered by components/cluster/render/units.ts.
set -Eeuo pipefail
readonly WITHIN=$((${CERT_RENEW_WITHIN_DAYS} * 86400))
due=""
for cert in ${checks}; do
    [[ -f "$cert" ]] || continue
    openssl x509 -checkend "$WITHIN" -noout -in "$cert" >/dev/null || due+=" $cert"
done
if [[ -z "$due" ]]; then
    logger -t keelson-cert-renew "no certificate expires within ${CERT_RENEW_WITHIN_DAYS} days"
    exit 0
fi
logger -t keelson-cert-renew "renewing: expiring within ${CERT_RENEW_WITHIN_DAYS} days:$due"
kubeadm certs renew all
for pod in etcd kube-apiserver kube-controller-manager kube-scheduler; do
    mv "/etc/kubernetes/manifests/$pod.yaml" /etc/kubernetes/
    sleep 20
    mv "/etc/kubernetes/$pod.yaml" /etc/kubernetes/manifests/
    sleep 40
done
logger -t keelson-cert-renew "renewed; static pods restarted"
`;
}
