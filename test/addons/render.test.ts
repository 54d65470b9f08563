import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { addonCharts, CHARTS, cniChart } from "../../components/addons/charts";
import {
    backupPolicy,
    lifecycleRules,
    renderEtcdBackupCronJob,
    renderEtcdBackupServiceAccount,
    UPLOAD_SCRIPT,
} from "../../components/addons/etcd-backup";
import { fluentBitPolicyDocument } from "../../components/addons/identities";
import { resolveOutput } from "../../tools/plan/runtime";
import { renderStorageClass } from "../../components/addons/storage-class";
import { AddonsConfig } from "../../components/config/types";
import { requireTool, tempDir } from "../support/live";
import { validateManifest } from "../app/support/schema";

const facts = { clusterName: "keelson-prod", region: "eu-west-1", podCidr: "192.168.0.0/16" };
const all: AddonsConfig = {
    cni: "calico",
    metricsServer: true,
    logging: true,
    nodeMetrics: true,
    etcdBackups: true,
    clusterAutoscaler: false,
};
const roles = {
    ebsCsi: "arn:aws:iam::123456789012:role/ebs-csi",
    fluentBit: "arn:aws:iam::123456789012:role/fluent-bit",
};
const EBS_ROLE = roles.ebsCsi;
const LOGS_ROLE = roles.fluentBit;
const TOKEN_FILE = "/var/run/secrets/sts.amazonaws.com/serviceaccount/token";
const tokenVolume = {
    name: "aws-web-identity-token",
    projected: {
        sources: [
            {
                serviceAccountToken: {
                    audience: "sts.amazonaws.com",
                    expirationSeconds: 86400,
                    path: "token",
                },
            },
        ],
    },
};
const tokenMount = {
    name: "aws-web-identity-token",
    mountPath: "/var/run/secrets/sts.amazonaws.com/serviceaccount",
    readOnly: true,
};
const masters = {
    nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
    tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
};

describe("addons/charts: pinned upstream charts with values for kubeadm on EC2", () => {
    it("installs every switchable add-on, CNI first, each pinned to a version and repository", () => {
        assert.deepEqual(
            addonCharts(all, facts, roles).map((c) => [c.key, c.chart, c.version, c.repo, c.namespace]),
            [
                [
                    "calico",
                    "tigera-operator",
                    "v3.30.3",
                    "https://docs.tigera.io/calico/charts",
                    "tigera-operator",
                ],
                [
                    "ebs-csi",
                    "aws-ebs-csi-driver",
                    "2.48.0",
                    "https://kubernetes-sigs.github.io/aws-ebs-csi-driver",
                    "kube-system",
                ],
                [
                    "metrics-server",
                    "metrics-server",
                    "3.13.0",
                    "https://kubernetes-sigs.github.io/metrics-server",
                    "kube-system",
                ],
                ["fluent-bit", "fluent-bit", "0.50.0", "https://fluent.github.io/helm-charts", "logging"],
                [
                    "node-exporter",
                    "prometheus-node-exporter",
                    "4.47.3",
                    "https://prometheus-community.github.io/helm-charts",
                    "monitoring",
                ],
            ],
        );
        for (const c of Object.values(CHARTS)) assert.doesNotMatch(c.version, /latest|\*|\^|~/);
    });

    it("turns the switchable add-ons off", () => {
        const off = { ...all, metricsServer: false, logging: false, nodeMetrics: false };
        assert.deepEqual(
            addonCharts(off, facts, roles).map((c) => c.key),
            ["calico", "ebs-csi"],
        );
    });

    it("gives Calico the pod CIDR with VXLAN and Cilium a cluster-pool on the pod CIDR", () => {
        assert.deepEqual(cniChart("calico", facts).values, {
            installation: {
                cni: { type: "Calico" },
                calicoNetwork: {
                    bgp: "Disabled",
                    ipPools: [
                        {
                            cidr: "192.168.0.0/16",
                            encapsulation: "VXLAN",
                            natOutgoing: "Enabled",
                            nodeSelector: "all()",
                            blockSize: 26,
                        },
                    ],
                },
            },
        });
        const cilium = cniChart("cilium", facts);
        assert.deepEqual(
            [cilium.chart, cilium.version, cilium.namespace],
            ["cilium", "1.18.1", "kube-system"],
        );
        assert.deepEqual(cilium.values.ipam, {
            mode: "cluster-pool",
            operator: { clusterPoolIPv4PodCIDRList: ["192.168.0.0/16"] },
        });
        assert.equal(cilium.values.tunnelProtocol, "vxlan");
    });

    it("schedules metrics-server on the masters and the EBS CSI driver on the workers", () => {
        const [, ebs, metrics, fluent, exporter] = addonCharts(all, facts, roles);
        assert.deepEqual(metrics.values, {
            ...masters,
            args: ["--kubelet-preferred-address-types=InternalIP"],
        });
        const notOnMasters = {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                        {
                            matchExpressions: [
                                { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                            ],
                        },
                    ],
                },
            },
        };
        assert.deepEqual(ebs.values, {
            controller: {
                region: "eu-west-1",
                k8sTagClusterId: "keelson-prod",
                extraVolumeTags: { "keelson/cluster": "keelson-prod" },
                affinity: notOnMasters,
                // IRSA: its own role through a projected STS token (the chart sets AWS_REGION itself).
                serviceAccount: { create: true, name: "ebs-csi-controller-sa" },
                env: [
                    { name: "AWS_ROLE_ARN", value: EBS_ROLE },
                    { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: TOKEN_FILE },
                    { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
                ],
                volumes: [tokenVolume],
                volumeMounts: [tokenMount],
            },
            node: { affinity: notOnMasters, metadataSources: "kubernetes" },
            storageClasses: [],
        });
        // Node agents stay off the masters (whose role reads the CA keys); fluent-bit on the pod network.
        assert.deepEqual(
            [
                fluent.values.hostNetwork,
                fluent.values.dnsPolicy,
                fluent.values.tolerations,
                fluent.values.affinity,
            ],
            [false, undefined, [], notOnMasters],
        );
        assert.deepEqual(
            [
                fluent.values.serviceAccount,
                fluent.values.env,
                fluent.values.extraVolumes,
                fluent.values.extraVolumeMounts,
            ],
            [
                { create: true, name: "fluent-bit" },
                [
                    { name: "AWS_ROLE_ARN", value: LOGS_ROLE },
                    { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: TOKEN_FILE },
                    { name: "AWS_REGION", value: "eu-west-1" },
                    { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
                    { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
                ],
                [tokenVolume],
                [tokenMount],
            ],
        );
        assert.deepEqual(exporter.values, { tolerations: [], affinity: notOnMasters });
        assert.match(
            String((fluent.values.config as { outputs: string }).outputs),
            /log_group_name \/keelson\/keelson-prod\/containers/,
        );
    });
});

describe("addons/identities", () => {
    it("lets fluent-bit write its own log group and nothing else", () => {
        const group = "arn:aws:logs:eu-west-1:*:log-group:/keelson/keelson-prod/containers";
        assert.deepEqual(fluentBitPolicyDocument("eu-west-1", "keelson-prod"), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ContainerLogs",
                    Effect: "Allow",
                    Action: [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                    ],
                    Resource: [group, `${group}:log-stream:*`],
                },
            ],
        });
    });

    it("refuses logging without fluent-bit's role", () => {
        assert.throws(
            () => addonCharts(all, facts, { ebsCsi: EBS_ROLE }),
            /^Error: addonCharts: logging needs roles.fluentBit$/,
        );
    });
});

describe("addons/storage-class", () => {
    it("is the encrypted gp3 default class, bound where the pod lands", () => {
        const sc = renderStorageClass();
        assert.deepEqual(sc, {
            apiVersion: "storage.k8s.io/v1",
            kind: "StorageClass",
            metadata: {
                name: "gp3-encrypted",
                annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
            },
            provisioner: "ebs.csi.aws.com",
            parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
            volumeBindingMode: "WaitForFirstConsumer",
            allowVolumeExpansion: true,
            reclaimPolicy: "Delete",
        });
        validateManifest(sc, "storage class");
    });
});

describe("addons/etcd-backup", () => {
    const BACKUP_ROLE = "arn:aws:iam::123456789012:role/etcd-backup";
    const job = renderEtcdBackupCronJob("keelson-etcd-backups", "eu-west-1", "keelson-prod", BACKUP_ROLE);
    type Pod = {
        spec: Record<string, unknown> & {
            initContainers: { command: string[]; env: unknown[]; volumeMounts: unknown[]; image: string }[];
            containers: { env: unknown[]; volumeMounts: unknown[]; image: string }[];
        };
    };
    const pod = (job.spec as { jobTemplate: { spec: { template: Pod } } }).jobTemplate.spec.template;

    it("runs every 15 minutes on a master on the pod network (IMDS out of reach), without overlap", () => {
        validateManifest(job, "etcd backup");
        const spec = job.spec as Record<string, unknown>;
        assert.equal(spec.schedule, "*/15 * * * *");
        assert.equal(spec.concurrencyPolicy, "Forbid");
        assert.equal(pod.spec.hostNetwork, undefined);
        assert.equal(pod.spec.dnsPolicy, undefined);
        assert.equal(pod.spec.serviceAccountName, "etcd-backup");
        assert.equal(pod.spec.automountServiceAccountToken, false);
        assert.deepEqual(pod.spec.nodeSelector, masters.nodeSelector);
        assert.deepEqual(pod.spec.tolerations, masters.tolerations);
        // The CA certificate and the client pair only: never the etcd CA key.
        assert.deepEqual(pod.spec.volumes, [
            { name: "etcd-ca-crt", hostPath: { path: "/etc/kubernetes/pki/etcd/ca.crt", type: "File" } },
            {
                name: "etcd-healthcheck-client-crt",
                hostPath: { path: "/etc/kubernetes/pki/etcd/healthcheck-client.crt", type: "File" },
            },
            {
                name: "etcd-healthcheck-client-key",
                hostPath: { path: "/etc/kubernetes/pki/etcd/healthcheck-client.key", type: "File" },
            },
            { name: "backup", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
            tokenVolume,
        ]);
        assert.deepEqual(renderEtcdBackupServiceAccount(), {
            apiVersion: "v1",
            kind: "ServiceAccount",
            metadata: {
                name: "etcd-backup",
                namespace: "kube-system",
                labels: {
                    "app.kubernetes.io/name": "etcd-backup",
                    "app.kubernetes.io/managed-by": "keelson",
                },
            },
            automountServiceAccountToken: false,
        });
    });

    it("snapshots etcd on the node's address with the client certificate, then uploads with its own role", () => {
        const [snapshot] = pod.spec.initContainers;
        assert.deepEqual(snapshot.command, [
            "etcdctl",
            "--endpoints=https://$(HOST_IP):2379",
            "--cacert=/etc/etcd-client/ca.crt",
            "--cert=/etc/etcd-client/healthcheck-client.crt",
            "--key=/etc/etcd-client/healthcheck-client.key",
            "snapshot",
            "save",
            "/backup/snapshot.db",
        ]);
        assert.deepEqual(snapshot.env, [
            { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        ]);
        assert.deepEqual(snapshot.volumeMounts, [
            { name: "etcd-ca-crt", mountPath: "/etc/etcd-client/ca.crt", readOnly: true },
            {
                name: "etcd-healthcheck-client-crt",
                mountPath: "/etc/etcd-client/healthcheck-client.crt",
                readOnly: true,
            },
            {
                name: "etcd-healthcheck-client-key",
                mountPath: "/etc/etcd-client/healthcheck-client.key",
                readOnly: true,
            },
            { name: "backup", mountPath: "/backup" },
        ]);
        const [upload] = pod.spec.containers;
        assert.deepEqual(upload.env, [
            { name: "BUCKET", value: "keelson-etcd-backups" },
            { name: "CLUSTER", value: "keelson-prod" },
            { name: "AWS_ROLE_ARN", value: BACKUP_ROLE },
            { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: TOKEN_FILE },
            { name: "AWS_REGION", value: "eu-west-1" },
            { name: "AWS_DEFAULT_REGION", value: "eu-west-1" },
            { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
            { name: "HOME", value: "/tmp" },
        ]);
        assert.deepEqual(upload.volumeMounts, [
            { name: "backup", mountPath: "/backup", readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
            tokenMount,
        ]);
        // The upload image is pinned by digest (the tag is mutable).
        assert.equal(
            upload.image,
            "amazon/aws-cli:2.27.50@sha256:48c3d4212e2f5b0e24bdc6af7708f9412ce65425a79575e0f78b8f8c0dcd70ab",
        );
    });

    it("may only put snapshots under its three tier prefixes", async () => {
        assert.deepEqual(JSON.parse(String((await resolveOutput(backupPolicy("arn:aws:s3:::b"))).value)), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "WriteSnapshots",
                    Effect: "Allow",
                    Action: "s3:PutObject",
                    Resource: ["arn:aws:s3:::b/15min/*", "arn:aws:s3:::b/hourly/*", "arn:aws:s3:::b/daily/*"],
                },
            ],
        });
    });

    it("keeps 15-minute snapshots 1 day, hourly 7 days, daily 90 days, by prefix", () => {
        assert.deepEqual(
            lifecycleRules().map((r) => [r.id, r.filter.prefix, r.expiration.days]),
            [
                ["expire-15min", "15min/", 1],
                ["expire-hourly", "hourly/", 7],
                ["expire-daily", "daily/", 90],
            ],
        );
    });

    it("uploads to the right tiers at the right times (script run with a fake aws)", function () {
        requireTool(this, "sh");
        const { dir, cleanup } = tempDir("etcd");
        try {
            const log = path.join(dir, "calls");
            fs.writeFileSync(path.join(dir, "aws"), `#!/bin/sh\necho "$@" >> ${log}\n`, { mode: 0o755 });
            fs.writeFileSync(
                path.join(dir, "date"),
                `#!/bin/sh\ncase "$2" in +%M) echo "$FAKE_M";; +%H) echo "$FAKE_H";; *) echo 20260101T000000Z;; esac\n`,
                { mode: 0o755 },
            );
            const run = (hour: string, minute: string) => {
                fs.rmSync(log, { force: true });
                execFileSync("sh", ["-c", UPLOAD_SCRIPT], {
                    env: {
                        PATH: `${dir}:/usr/bin:/bin`,
                        BUCKET: "b",
                        CLUSTER: "c",
                        FAKE_H: hour,
                        FAKE_M: minute,
                    },
                });
                return fs
                    .readFileSync(log, "utf8")
                    .trim()
                    .split("\n")
                    .map((l) => l.split(" ")[3].split("/")[3]);
            };
            assert.deepEqual(run("13", "30"), ["15min"]);
            assert.deepEqual(run("13", "08"), ["15min", "hourly"]);
            assert.deepEqual(run("00", "00"), ["15min", "hourly", "daily"]);
        } finally {
            cleanup();
        }
    });

    it("is clean under shellcheck", function () {
        const shellcheck = requireTool(this, "shellcheck");
        execFileSync(shellcheck, ["-s", "sh", "-"], { input: `#!/bin/sh\n${UPLOAD_SCRIPT}\n` });
    });
});
