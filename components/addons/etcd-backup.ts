// etcd snapshots to S3 every 15 minutes, pure parts: the CronJob, the upload script, the lifecycle rules
// and the IAM policy of the master role. Retention follows kops: 15-minute snapshots for a day, hourly
// copies for a week, daily copies for 90 days, each tier under its own prefix.
import * as pulumi from "@pulumi/pulumi";
import { AWS_CLI_IMAGE, ETCD_IMAGE } from "../core/images";
import { Manifest } from "../core/manifest";
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

const hardened = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
};

/**
 * The backup CronJob in kube-system, on a control-plane node with the host network (etcd listens on
 * 127.0.0.1:2379; the AWS CLI gets the master instance role's credentials from IMDS). It runs as root
 * without capabilities: root owns the etcd client key (mode 600), so it can read it, and nothing else.
 */
export function renderEtcdBackupCronJob(
    bucket: pulumi.Input<string>,
    region: string,
    clusterName: string,
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
                            hostNetwork: true,
                            dnsPolicy: "ClusterFirstWithHostNet",
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
                                        "--endpoints=https://127.0.0.1:2379",
                                        `--cacert=${ETCD_PKI}/ca.crt`,
                                        `--cert=${ETCD_PKI}/healthcheck-client.crt`,
                                        `--key=${ETCD_PKI}/healthcheck-client.key`,
                                        "snapshot",
                                        "save",
                                        "/backup/snapshot.db",
                                    ],
                                    resources: {
                                        requests: { cpu: "50m", memory: "64Mi" },
                                        limits: { cpu: "500m", memory: "256Mi" },
                                    },
                                    securityContext: hardened,
                                    volumeMounts: [
                                        { name: "etcd-pki", mountPath: ETCD_PKI, readOnly: true },
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
                                        { name: "AWS_REGION", value: region },
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
                                    ],
                                },
                            ],
                            volumes: [
                                { name: "etcd-pki", hostPath: { path: ETCD_PKI, type: "Directory" } },
                                { name: "backup", emptyDir: {} },
                                { name: "tmp", emptyDir: {} },
                            ],
                        },
                    },
                },
            },
        },
    };
}

/** Policy of the master role: write snapshots, and list/read them for a restore. */
export function backupPolicy(bucketArn: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ListSnapshots", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
            {
                Sid: "ReadWriteSnapshots",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:GetObject"],
                Resource: [pulumi.interpolate`${bucketArn}/*`],
            },
        ],
    });
}
