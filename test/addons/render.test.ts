import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { addonCharts, CHARTS, cniChart } from "../../components/addons/charts";
import { lifecycleRules, renderEtcdBackupCronJob, UPLOAD_SCRIPT } from "../../components/addons/etcd-backup";
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
};
const masters = {
    nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
    tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
};

describe("addons/charts: pinned upstream charts with values for kubeadm on EC2", () => {
    it("installs every switchable add-on, CNI first, each pinned to a version and repository", () => {
        assert.deepEqual(
            addonCharts(all, facts).map((c) => [c.key, c.chart, c.version, c.repo, c.namespace]),
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
            addonCharts(off, facts).map((c) => c.key),
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
        const [, ebs, metrics, fluent, exporter] = addonCharts(all, facts);
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
            },
            node: { affinity: notOnMasters },
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
        assert.deepEqual(exporter.values, { tolerations: [], affinity: notOnMasters });
        assert.match(
            String((fluent.values.config as { outputs: string }).outputs),
            /log_group_name \/keelson\/keelson-prod\/containers/,
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
    const job = renderEtcdBackupCronJob("keelson-etcd-backups", "eu-west-1", "keelson-prod");
    type Pod = {
        spec: Record<string, unknown> & {
            initContainers: { command: string[] }[];
            containers: { env: unknown[] }[];
        };
    };
    const pod = (job.spec as { jobTemplate: { spec: { template: Pod } } }).jobTemplate.spec.template;

    it("runs every 15 minutes on a master with the host network, without overlap", () => {
        validateManifest(job, "etcd backup");
        const spec = job.spec as Record<string, unknown>;
        assert.equal(spec.schedule, "*/15 * * * *");
        assert.equal(spec.concurrencyPolicy, "Forbid");
        assert.equal(pod.spec.hostNetwork, true);
        assert.deepEqual(pod.spec.nodeSelector, masters.nodeSelector);
        assert.deepEqual(pod.spec.tolerations, masters.tolerations);
        assert.deepEqual(pod.spec.volumes, [
            { name: "etcd-pki", hostPath: { path: "/etc/kubernetes/pki/etcd", type: "Directory" } },
            { name: "backup", emptyDir: {} },
            { name: "tmp", emptyDir: {} },
        ]);
    });

    it("snapshots with etcdctl and the etcd client certificate, then uploads with the instance role", () => {
        assert.deepEqual(pod.spec.initContainers[0].command, [
            "etcdctl",
            "--endpoints=https://127.0.0.1:2379",
            "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
            "--cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt",
            "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key",
            "snapshot",
            "save",
            "/backup/snapshot.db",
        ]);
        assert.deepEqual(pod.spec.containers[0].env, [
            { name: "BUCKET", value: "keelson-etcd-backups" },
            { name: "CLUSTER", value: "keelson-prod" },
            { name: "AWS_REGION", value: "eu-west-1" },
            { name: "HOME", value: "/tmp" },
        ]);
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
