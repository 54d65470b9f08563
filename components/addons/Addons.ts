import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { Artifacts, ArtifactSet } from "../artifact-set";
import { AddonsArgs, AddonsSpec, resolveAddonsSpec } from "./args";
import { manifestPath } from "../core/manifest";
import { Problem } from "../core/problems";
import { secureBucket } from "../app/secure-bucket";
import { ChartSpec, addonCharts } from "./charts";
import { csrApproverChart } from "./csr-approver";
import { backupPolicy, lifecycleRules, renderEtcdBackupCronJob } from "./etcd-backup";
import { renderStorageClass } from "./storage-class";

export { AddonsArgs, AddonsSpec, resolveAddonsSpec } from "./args";

/** Thrown before anything is registered when the add-ons cannot be built as configured. */
export class AddonsError extends Error {}

/** Why the args cannot work, as `{ key, value, message }`. */
export function validateAddons(spec: AddonsSpec, args: Pick<AddonsArgs, "masterRole" | "vpcCidr">) {
    const problems: Problem[] = [];
    if (!args.vpcCidr) {
        problems.push({
            key: "vpcCidr",
            value: args.vpcCidr,
            message:
                "vpcCidr: not given; pass the VPC CIDR (network.cidr) so the kubelet CSR approver signs serving certificates only for node addresses in it",
        });
    }
    if (spec.etcdBackups && !args.masterRole) {
        problems.push({
            key: "addons.etcdBackups",
            value: true,
            message:
                "addons.etcdBackups: true needs the master instance role; pass masterRole (Keelson cluster) or set etcdBackups false (existing cluster)",
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
        const problems = validateAddons(config, args);
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
        const specs = addonCharts(config, facts);

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
                    ],
                },
            );
        const [cniSpec, ...rest] = specs;
        this.cni = chart(cniSpec, [...(args.dependsOn ?? [])]);
        const charts: Record<string, k8s.helm.v4.Chart> = { [cniSpec.key]: this.cni };
        // Kubelet serving certificates are signed once this approves them; metrics-server verifies them.
        const approver = chart(csrApproverChart({ region, vpcCidr: args.vpcCidr }), [this.cni]);
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

        // The EBS CSI driver runs on workers (see charts.ts), so the worker roles carry its policy. Attached
        // here only (the add-on that needs it owns it): a second attachment of the same policy to the same
        // role would be detached for both when either is deleted.
        for (const [key, role] of Object.entries(args.nodeRoles ?? {})) {
            new aws.iam.RolePolicyAttachment(
                `${name}-ebs-csi-policy-${key}`,
                {
                    role: role.name,
                    policyArn: aws.iam.ManagedPolicy.AmazonEBSCSIDriverPolicy,
                },
                { parent: this },
            );
        }
        if (config.logging) {
            // Only the workers: fluent-bit never runs on the masters (charts.ts OFF_MASTERS).
            const roles: Record<string, aws.iam.Role> = { ...args.nodeRoles };
            for (const [key, role] of Object.entries(roles)) {
                new aws.iam.RolePolicyAttachment(
                    `${name}-logs-${key}`,
                    { role: role.name, policyArn: "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy" },
                    { parent: this },
                );
            }
        }
        if (config.etcdBackups && args.masterRole) {
            this.backupBucket = this.etcdBackups(name, args, region, args.masterRole, k8sOpts, artifacts);
        }
        this.ready = [this.cni, this.storageClass];
        this.artifacts = artifacts.files;
        this.registerOutputs({ backupBucket: this.backupBucket?.bucket, artifacts: this.artifacts });
    }

    private etcdBackups(
        name: string,
        args: AddonsArgs,
        region: string,
        masterRole: aws.iam.Role,
        k8sOpts: { provider: k8s.Provider; parent: pulumi.Resource },
        artifacts: ArtifactSet,
    ): aws.s3.Bucket {
        // Versioned, so a delete or overwrite with the master role is recoverable; the lifecycle rules
        // expire noncurrent versions after a day, so expiry still frees the space.
        const { bucket, controls } = secureBucket(`${name}-etcd-backups`, this, {
            tags: { "keelson/cluster": args.clusterName },
        });
        const lifecycle = new aws.s3.BucketLifecycleConfiguration(
            `${name}-etcd-backups-lifecycle`,
            { bucket: bucket.id, rules: lifecycleRules() },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            `${name}-etcd-backups-write`,
            { role: masterRole.id, policy: backupPolicy(bucket.arn) },
            { parent: this },
        );
        const job = renderEtcdBackupCronJob(bucket.bucket, region, args.clusterName);
        new k8s.batch.v1.CronJob(`${name}-etcd-backup`, job as unknown as k8s.batch.v1.CronJobArgs, {
            ...k8sOpts,
            dependsOn: [...controls, lifecycle, policy, this.cni, ...(args.dependsOn ?? [])],
        });
        artifacts.add(
            manifestPath(job),
            pulumi.output(job as Record<string, unknown>).apply((m) => stringify(m)),
        );
        return bucket;
    }
}
