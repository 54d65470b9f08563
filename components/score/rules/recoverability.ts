// Recoverability: after a loss, can the stage be restored (etcd, object storage, volumes, databases)?
import { PlanResource } from "../../core/graph";
import { GraphView } from "../graph-view";
import { Finding, findingsFor } from "../types";
import { arr, at, obj, Workload } from "../workloads";

const finding = findingsFor("recoverability");

/** A resource whose URN or name says it takes etcd snapshots (`etcd-backup`, `etcd-snapshot`). */
export const ETCD_BACKUP = /etcd-?(backup|snapshot)/i;

/**
 * Database images whose StatefulSets need replicas or a backup job. Redis, Memcached and RabbitMQ
 * are treated as caches and queues whose contents can be rebuilt, so they are not listed.
 */
export const DATABASE_IMAGE = /(^|\/)(postgres|mysql|mariadb|mongo)(:|@|$)/;

const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];

function attached(view: GraphView, types: readonly string[], bucket: PlanResource): boolean {
    return types.some((t) => view.ofType(t).some((r) => r.dependencies.includes(bucket.urn)));
}

/** etcd snapshots when there is a control plane; versioning and lifecycle on buckets. */
export function stateRecoverability(view: GraphView): Finding[] {
    const out: Finding[] = [];
    if (
        view.instances.some((i) => i.role === "master") &&
        !view.resources.some((r) => ETCD_BACKUP.test(r.urn))
    ) {
        out.push(
            finding(
                "etcd-backups",
                view.clusterRef,
                "medium",
                "etcd is not backed up: losing the control plane loses every Kubernetes object.",
                "Set addons.etcdBackups: true (snapshots to S3 every 15 minutes).",
            ),
        );
    }
    for (const b of BUCKET_TYPES.flatMap((t) => view.ofType(t))) {
        const inline = obj(b.inputs.versioning).enabled === true;
        if (
            !inline &&
            !attached(
                view,
                ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
                b,
            )
        ) {
            out.push(
                finding(
                    "s3-versioning",
                    b.urn,
                    "medium",
                    `Bucket ${b.name} is not versioned: an overwrite or delete is final.`,
                    "Add an aws.s3.BucketVersioning with status Enabled.",
                ),
            );
        }
        if (
            arr(b.inputs.lifecycleRules).length === 0 &&
            !attached(
                view,
                [
                    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
                ],
                b,
            )
        ) {
            out.push(
                finding(
                    "s3-lifecycle",
                    b.urn,
                    "low",
                    `Bucket ${b.name} has no lifecycle rules: old versions and snapshots pile up.`,
                    "Add an aws.s3.BucketLifecycleConfiguration that expires noncurrent versions.",
                ),
            );
        }
    }
    return out;
}

function storageClassEncrypted(sc: PlanResource): boolean {
    const p = obj(sc.inputs.parameters);
    return p.encrypted === "true" || p.encrypted === true;
}

/** PersistentVolumeClaims (and StatefulSet claim templates) on an encrypted storage class. */
export function volumeRecoverability(view: GraphView): Finding[] {
    const out: Finding[] = [];
    const classes = view.ofType("kubernetes:storage.k8s.io/v1:StorageClass");
    const className = (sc: PlanResource) => String(obj(sc.inputs.metadata).name ?? sc.name);
    const defaultClass = classes.find(
        (sc) =>
            obj(obj(sc.inputs.metadata).annotations)["storageclass.kubernetes.io/is-default-class"] ===
            "true",
    );
    const claims: Array<{ urn: string; label: string; spec: Record<string, unknown> }> = [];
    for (const pvc of view.ofType("kubernetes:core/v1:PersistentVolumeClaim")) {
        claims.push({
            urn: pvc.urn,
            label: `PVC ${String(obj(pvc.inputs.metadata).name ?? pvc.name)}`,
            spec: obj(pvc.inputs.spec),
        });
    }
    for (const w of view.workloads.filter((x) => x.kind === "StatefulSet")) {
        const r = view.resources.find((x) => x.urn === w.urn);
        for (const t of arr(at(r?.inputs, "spec.volumeClaimTemplates")).map(obj)) {
            claims.push({
                urn: w.urn,
                label: `StatefulSet ${w.name} claim ${String(obj(t.metadata).name ?? "")}`,
                spec: obj(t.spec),
            });
        }
    }
    for (const c of claims) {
        const wanted = c.spec.storageClassName;
        const sc = typeof wanted === "string" ? classes.find((x) => className(x) === wanted) : defaultClass;
        if (!sc) {
            out.push(
                finding(
                    "pvc-storage-class",
                    c.urn,
                    "low",
                    `${c.label} uses ${typeof wanted === "string" ? `storage class ${wanted}` : "the default storage class"}, which this stage does not define: encryption cannot be checked.`,
                    "Set storageClassName to Keelson's encrypted gp3 class.",
                ),
            );
        } else if (!storageClassEncrypted(sc)) {
            out.push(
                finding(
                    "pvc-storage-class",
                    c.urn,
                    "high",
                    `${c.label} uses storage class ${className(sc)}, which does not encrypt volumes.`,
                    'Use a storage class with parameters.encrypted: "true".',
                ),
            );
        }
    }
    return out;
}

function isDatabase(w: Workload): boolean {
    return w.containers.some((c) => typeof c.image === "string" && DATABASE_IMAGE.test(c.image));
}

/** Databases: more than one replica, or a backup CronJob named after the database. */
export function databaseRecoverability(view: GraphView): Finding[] {
    const out: Finding[] = [];
    const jobs = view.workloads.filter((w) => w.kind === "CronJob" && /backup|dump|snapshot/i.test(w.name));
    for (const db of view.workloads.filter((w) => w.kind === "StatefulSet" && isDatabase(w))) {
        const backedUp = jobs.some((j) => j.namespace === db.namespace && j.name.includes(db.name));
        if ((db.replicas ?? 1) < 2 && !backedUp) {
            out.push(
                finding(
                    "database-backups",
                    db.urn,
                    "medium",
                    `Database ${db.namespace}/${db.name} has one replica and no backup CronJob: losing its volume loses the data.`,
                    `Add a CronJob named ${db.name}-backup (dump to S3), or run 2 or more replicas.`,
                ),
            );
        }
    }
    return out;
}
