// etcd snapshots to S3 every 15 minutes, pure parts: the CronJob and its ServiceAccount, the upload script,
// the lifecycle rules and the IAM policy of the backup's own role (IRSA). Retention follows kops: 15-minute snapshots for a day, hourly
// copies for a week, daily copies for 90 days, each tier under its own prefix.
import * as pulumi from "@pulumi/pulumi";
import { AWS_CLI_IMAGE, ETCD_IMAGE } from "../core/images";
import { Manifest } from "../core/manifest";
import {
    ServiceAccountRef,
    webIdentityEnv,
    webIdentityMount,
    webIdentityVolume,
} from "../cluster/render/oidc";
import { CONTROL_PLANE_PLACEMENT } from "./charts";

export { AWS_CLI_IMAGE, ETCD_IMAGE } from "../core/images";
/** Every 15 minutes. */
export const BACKUP_SCHEDULE = "*/15 * * * *";

/** Retention tiers: S3 prefix and days kept. */
export const RETENTION = [
    { prefix: "15min/", days: 1 },
    { prefix: "hourly/", days: 7 },
    { prefix: "daily/", days: 90 },
] as const;

/** Lifecycle rules of the backup bucket, one per tier, plus cleanup of old versions and failed uploads. */
export function lifecycleRules() {
    return RETENTION.map((t) => ({
        id: `expire-${t.prefix.replace("/", "")}`,
        status: "Enabled",
        filter: { prefix: t.prefix },
        expiration: { days: t.days },
        noncurrentVersionExpiration: { noncurrentDays: 1 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    }));
}

/**
 * The upload script (POSIX sh in the aws-cli image). Every run writes `15min/`; the run in the first
 * quarter of an hour also writes `hourly/`, and the one in the first quarter of 00 UTC `daily/`.
 */
export const UPLOAD_SCRIPT = [
    "set -eu",
    "ts=$(date -u +%Y%m%dT%H%M%SZ); minute=$(date -u +%M); hour=$(date -u +%H)",
    'key="etcd-${CLUSTER}-${ts}.db"',
    'aws s3 cp /backup/snapshot.db "s3://${BUCKET}/15min/${key}" --sse AES256 --only-show-errors',
    'if [ "${minute#0}" -lt 15 ]; then aws s3 cp /backup/snapshot.db "s3://${BUCKET}/hourly/${key}" --sse AES256 --only-show-errors; fi',
    'if [ "${minute#0}" -lt 15 ] && [ "${hour}" = "00" ]; then aws s3 cp /backup/snapshot.db "s3://${BUCKET}/daily/${key}" --sse AES256 --only-show-errors; fi',
    'echo "uploaded ${key}"',
].join("\n");

const ETCD_PKI = "/etc/kubernetes/pki/etcd";
/** Where the snapshot container finds the three files it needs (and nothing else of the etcd PKI). */
const CLIENT_DIR = "/etc/etcd-client";
/** The files of the etcd PKI the backup mounts, one hostPath each: the CA certificate and the client pair. */
export const ETCD_CLIENT_FILES = ["ca.crt", "healthcheck-client.crt", "healthcheck-client.key"] as const;

/** The backup's service account: its IRSA role trusts exactly this one. */
export const ETCD_BACKUP_SERVICE_ACCOUNT: ServiceAccountRef = {
    namespace: "kube-system",
    name: "etcd-backup",
};

/** The backup's ServiceAccount; no API token is mounted from it (the job never calls the API server). */
export function renderEtcdBackupServiceAccount(): Manifest {
    return {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: {
            name: ETCD_BACKUP_SERVICE_ACCOUNT.name,
            namespace: ETCD_BACKUP_SERVICE_ACCOUNT.namespace,
            labels: { "app.kubernetes.io/name": "etcd-backup", "app.kubernetes.io/managed-by": "keelson" },
        },
        automountServiceAccountToken: false,
    };
}

const hardened = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};

/**
 * The backup CronJob in kube-system, on a control-plane node but on the pod network: etcd is reached on
 * the node's own address (`status.hostIP`:2379, which kubeadm's etcd listens on and has in its serving
 * certificate), so IMDS and with it the master role stay out of reach (hop limit 1). The AWS CLI assumes
 * the backup's own role `roleArn` with a projected STS token (IRSA). Only the etcd CA certificate and the
 * `healthcheck-client` pair are mounted, never the CA key. It runs as root without capabilities: root
 * owns the client key (mode 600), so it can read it, and nothing else.
 */
export function renderEtcdBackupCronJob(
    bucket: pulumi.Input<string>,
    region: string,
    clusterName: string,
    roleArn: pulumi.Input<string>,
): Manifest {
    return {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: {
            name: "etcd-backup",
            namespace: "kube-system",
            labels: { "app.kubernetes.io/name": "etcd-backup", "app.kubernetes.io/managed-by": "keelson" },
        },
        spec: {
            schedule: BACKUP_SCHEDULE,
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 300,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 5,
            jobTemplate: {
                spec: {
                    backoffLimit: 2,
                    activeDeadlineSeconds: 600,
                    template: {
                        metadata: { labels: { "app.kubernetes.io/name": "etcd-backup" } },
                        spec: {
                            serviceAccountName: ETCD_BACKUP_SERVICE_ACCOUNT.name,
                            restartPolicy: "OnFailure",
                            automountServiceAccountToken: false,
                            ...CONTROL_PLANE_PLACEMENT,
                            securityContext: {
                                runAsUser: 0,
                                runAsGroup: 0,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            initContainers: [
                                {
                                    name: "snapshot",
                                    image: ETCD_IMAGE,
                                    command: [
                                        "etcdctl",
                                        "--endpoints=https://$(HOST_IP):2379",
                                        `--cacert=${CLIENT_DIR}/ca.crt`,
                                        `--cert=${CLIENT_DIR}/healthcheck-client.crt`,
                                        `--key=${CLIENT_DIR}/healthcheck-client.key`,
                                        "snapshot",
                                        "save",
                                        "/backup/snapshot.db",
                                    ],
                                    env: [
                                        {
                                            name: "HOST_IP",
                                            valueFrom: { fieldRef: { fieldPath: "status.hostIP" } },
                                        },
                                    ],
                                    resources: {
                                        requests: { cpu: "50m", memory: "64Mi" },
                                        limits: { cpu: "500m", memory: "256Mi" },
                                    },
                                    securityContext: hardened,
                                    volumeMounts: [
                                        ...ETCD_CLIENT_FILES.map((f) => ({
                                            name: clientVolume(f),
                                            mountPath: `${CLIENT_DIR}/${f}`,
                                            readOnly: true,
                                        })),
                                        { name: "backup", mountPath: "/backup" },
                                    ],
                                },
                            ],
                            containers: [
                                {
                                    name: "upload",
                                    image: AWS_CLI_IMAGE,
                                    command: ["/bin/sh", "-c", UPLOAD_SCRIPT],
                                    env: [
                                        { name: "BUCKET", value: bucket },
                                        { name: "CLUSTER", value: clusterName },
                                        ...webIdentityEnv(roleArn, region),
                                        { name: "HOME", value: "/tmp" },
                                    ],
                                    resources: {
                                        requests: { cpu: "50m", memory: "64Mi" },
                                        limits: { cpu: "500m", memory: "256Mi" },
                                    },
                                    securityContext: hardened,
                                    volumeMounts: [
                                        { name: "backup", mountPath: "/backup", readOnly: true },
                                        { name: "tmp", mountPath: "/tmp" },
                                        webIdentityMount(),
                                    ],
                                },
                            ],
                            volumes: [
                                ...ETCD_CLIENT_FILES.map((f) => ({
                                    name: clientVolume(f),
                                    hostPath: { path: `${ETCD_PKI}/${f}`, type: "File" },
                                })),
                                { name: "backup", emptyDir: {} },
                                { name: "tmp", emptyDir: {} },
                                webIdentityVolume(),
                            ],
                        },
                    },
                },
            },
        },
    };
}

function clientVolume(file: string): string {
    return `etcd-${file.replace(/\./g, "-")}`;
}

/**
 * Policy of the backup's role: `s3:PutObject` under its three tier prefixes and nothing else (no list, no
 * read, no delete: a compromised job can add snapshots, not read or remove them; restores use an
 * operator's credentials).
 */
export function backupPolicy(bucketArn: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "WriteSnapshots",
                Effect: "Allow",
                Action: "s3:PutObject",
                Resource: RETENTION.map((t) => pulumi.interpolate`${bucketArn}/${t.prefix}*`),
            },
        ],
    });
}
