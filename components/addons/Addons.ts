import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { Artifacts, ArtifactSet } from "../artifact-set";
import { AddonsArgs, resolveAddonsSpec } from "./args";
import { manifestPath } from "../core/manifest";
import { Problem } from "../core/problems";
import { secureBucket } from "../app/secure-bucket";
import { createServiceAccountRole, ServiceAccountRoleOptions } from "../cluster/irsa";
import { ServiceAccountRef } from "../cluster/render/oidc";
import { ChartSpec, addonCharts, EBS_CSI_SERVICE_ACCOUNT, FLUENT_BIT_SERVICE_ACCOUNT } from "./charts";
import { csrApproverChart } from "./csr-approver";
import {
    backupPolicy,
    ETCD_BACKUP_SERVICE_ACCOUNT,
    lifecycleRules,
    renderEtcdBackupCronJob,
    renderEtcdBackupServiceAccount,
} from "./etcd-backup";
import { EBS_CSI_MANAGED_POLICY, fluentBitPolicyDocument } from "./identities";
import { renderStorageClass } from "./storage-class";

export { AddonsArgs, AddonsSpec, resolveAddonsSpec } from "./args";

/** Thrown before anything is registered when the add-ons cannot be built as configured. */
export class AddonsError extends Error {}

/** Why the args cannot work, as `{ key, value, message }`. */
export function validateAddons(args: Pick<AddonsArgs, "webIdentity" | "vpcCidr">) {
    const problems: Problem[] = [];
    if (!args.vpcCidr) {
        problems.push({
            key: "vpcCidr",
            value: args.vpcCidr,
            message:
                "vpcCidr: not given; pass the VPC CIDR (network.cidr) so the kubelet CSR approver signs serving certificates only for node addresses in it",
        });
    }
    if (!args.webIdentity) {
        problems.push({
            key: "webIdentity",
            value: undefined,
            message:
                "webIdentity: not given; pass the cluster's service-account issuer (cluster.webIdentity): the add-ons that call AWS assume roles of their own through it",
        });
    }
    return problems;
}

/** Namespaces the charts install into that Kubernetes does not create; host-level agents need "privileged". */
const NAMESPACES: Record<string, string> = {
    "tigera-operator": "privileged",
    logging: "privileged",
    monitoring: "privileged",
};

/**
 * Cluster add-ons from pinned upstream Helm charts: a NetworkPolicy-enforcing CNI (Calico or Cilium),
 * the EBS CSI driver with Keelson's encrypted gp3 default StorageClass, metrics-server on the masters,
 * fluent-bit and node-exporter DaemonSets (each switchable), and etcd snapshots to S3 every 15 minutes.
 */
export class Addons extends pulumi.ComponentResource {
    /** The CNI release; every other add-on waits for it. */
    readonly cni: k8s.helm.v4.Chart;
    readonly charts: Readonly<Record<string, k8s.helm.v4.Chart>>;
    readonly storageClass: k8s.storage.v1.StorageClass;
    /** The etcd snapshot bucket, when backups are on. */
    readonly backupBucket?: aws.s3.Bucket;
    /** What applications should wait for: the CNI and the default StorageClass. */
    readonly ready: pulumi.Resource[];
    /**
     * What this component rendered, by path under the plan's output folder (the StorageClass and backup CronJob
     * manifests under `manifests/`). Also
     * registered as the component's `artifacts` output.
     */
    readonly artifacts: Artifacts;

    constructor(name: string, args: AddonsArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const config = resolveAddonsSpec(args);
        const region = args.region ?? aws.config.region;
        const problems = validateAddons(args);
        if (!region) {
            problems.push({
                key: "region",
                value: undefined,
                message: "region: not given and aws:region is not set; pass region or set aws:region",
            });
        }
        if (problems.length > 0 || !region || !args.vpcCidr) {
            throw new AddonsError(problems.map((p) => p.message).join("\n"));
        }
        super("keelson:addons:Addons", name, {}, opts);
        const artifacts = new ArtifactSet();
        const k8sOpts = { provider: args.provider, parent: this };
        const facts = { clusterName: args.clusterName, region, podCidr: args.podCidr ?? "192.168.0.0/16" };
        // One role per add-on that calls AWS, assumable only by its service account (IRSA).
        const tags = { "keelson:cluster": args.clusterName };
        const role = (
            key: string,
            sa: ServiceAccountRef,
            o: Pick<ServiceAccountRoleOptions, "policy" | "managedPolicyArns">,
        ) =>
            createServiceAccountRole(
                `${name}-${key}-role`,
                { issuer: args.webIdentity, serviceAccount: sa, tags, ...o },
                this,
            );
        const ebs = role("ebs-csi", EBS_CSI_SERVICE_ACCOUNT, { managedPolicyArns: [EBS_CSI_MANAGED_POLICY] });
        const logs = config.logging
            ? role("fluent-bit", FLUENT_BIT_SERVICE_ACCOUNT, {
                  policy: JSON.stringify(fluentBitPolicyDocument(region, args.clusterName)),
              })
            : undefined;
        const specs = addonCharts(config, facts, { ebsCsi: ebs.role.arn, fluentBit: logs?.role.arn });
        const identities: Record<string, pulumi.Resource[]> = {
            "ebs-csi": ebs.policies,
            "fluent-bit": logs?.policies ?? [],
        };

        const namespaces: Record<string, k8s.core.v1.Namespace> = {};
        for (const ns of new Set(specs.map((s) => s.namespace))) {
            if (!(ns in NAMESPACES)) continue;
            namespaces[ns] = new k8s.core.v1.Namespace(
                `${name}-ns-${ns}`,
                {
                    metadata: {
                        name: ns,
                        labels: {
                            "pod-security.kubernetes.io/enforce": NAMESPACES[ns],
                            "app.kubernetes.io/managed-by": "keelson",
                        },
                    },
                },
                { ...k8sOpts, dependsOn: [...(args.dependsOn ?? [])] },
            );
        }
        const chart = (spec: ChartSpec, after: pulumi.Resource[]) =>
            new k8s.helm.v4.Chart(
                `${name}-${spec.key}`,
                {
                    chart: spec.chart,
                    version: spec.version,
                    repositoryOpts: { repo: spec.repo },
                    namespace: spec.namespace,
                    values: spec.values,
                },
                {
                    ...k8sOpts,
                    dependsOn: [
                        ...after,
                        ...(namespaces[spec.namespace] ? [namespaces[spec.namespace]] : []),
                        ...(identities[spec.key] ?? []),
                    ],
                },
            );
        const [cniSpec, ...rest] = specs;
        this.cni = chart(cniSpec, [...(args.dependsOn ?? [])]);
        const charts: Record<string, k8s.helm.v4.Chart> = { [cniSpec.key]: this.cni };
        // Kubelet serving certificates are signed once this approves them; metrics-server verifies them.
        const approver = chart(
            csrApproverChart({
                region,
                vpcCidr: args.vpcCidr,
                publicMasters: args.publicMasters ?? false,
            }),
            [this.cni],
        );
        charts["csr-approver"] = approver;
        for (const spec of rest)
            charts[spec.key] = chart(spec, spec.key === "metrics-server" ? [this.cni, approver] : [this.cni]);
        this.charts = charts;

        const sc = renderStorageClass();
        this.storageClass = new k8s.storage.v1.StorageClass(
            `${name}-storage-class`,
            sc as unknown as k8s.storage.v1.StorageClassArgs,
            {
                ...k8sOpts,
                dependsOn: [charts["ebs-csi"]],
            },
        );
        artifacts.add(manifestPath(sc), stringify(sc));

        if (config.etcdBackups) {
            this.backupBucket = this.etcdBackups(name, args, region, k8sOpts, artifacts);
        }
        this.ready = [this.cni, this.storageClass];
        this.artifacts = artifacts.files;
        this.registerOutputs({ backupBucket: this.backupBucket?.bucket, artifacts: this.artifacts });
    }

    private etcdBackups(
        name: string,
        args: AddonsArgs,
        region: string,
        k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource },
        artifacts: ArtifactSet,
    ): aws.s3.Bucket {
        // Versioned, so an overwrite is recoverable; the lifecycle rules expire noncurrent versions after a
        // day, so expiry still frees the space.
        const { bucket, controls } = secureBucket(`${name}-etcd-backups`, this, {
            tags: { "keelson/cluster": args.clusterName },
        });
        const lifecycle = new aws.s3.BucketLifecycleConfiguration(
            `${name}-etcd-backups-lifecycle`,
            { bucket: bucket.id, rules: lifecycleRules() },
            { parent: this },
        );
        // The backup's own role: PutObject under its tier prefixes, assumable only by its service account.
        const writer = createServiceAccountRole(
            `${name}-etcd-backup-role`,
            {
                issuer: args.webIdentity,
                serviceAccount: ETCD_BACKUP_SERVICE_ACCOUNT,
                policy: backupPolicy(bucket.arn),
                tags: { "keelson:cluster": args.clusterName },
            },
            this,
        );
        const sa = renderEtcdBackupServiceAccount();
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-etcd-backup`,
            sa as unknown as k8s.core.v1.ServiceAccountArgs,
            { ...k8sOpts, dependsOn: [...(args.dependsOn ?? [])] },
        );
        const job = renderEtcdBackupCronJob(bucket.bucket, region, args.clusterName, writer.role.arn);
        new k8s.batch.v1.CronJob(`${name}-etcd-backup`, job as unknown as k8s.batch.v1.CronJobArgs, {
            ...k8sOpts,
            dependsOn: [
                ...controls,
                lifecycle,
                ...writer.policies,
                account,
                this.cni,
                ...(args.dependsOn ?? []),
            ],
        });
        artifacts.add(manifestPath(sa), stringify(sa));
        artifacts.add(
            manifestPath(job),
            pulumi.output(job as Record<string, unknown>).apply((m) => stringify(m)),
        );
        return bucket;
    }
}
