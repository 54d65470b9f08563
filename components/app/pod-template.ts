// Small pure helpers over planned objects: a pod-template annotation on any workload kind, and the backup
// prefixes a file store holds.
import * as pulumi from "@pulumi/pulumi";
import { Manifest } from "./render/meta";
import { backupPrefix, expandedOrder } from "./backups";
import { Service, SqlArgs } from "./types";

type Obj = Record<string, unknown>;

/** `manifest` with `key: value` added to its pod template's annotations (Deployment, StatefulSet, DaemonSet, Job, CronJob). */
export function withPodAnnotation(manifest: Manifest, key: string, value: pulumi.Input<string>): Manifest {
    const spec = manifest.spec as Obj | undefined;
    if (!spec) return manifest;
    const annotate = (template: Obj): Obj => {
        const metadata = (template.metadata ?? {}) as Obj;
        return {
            ...template,
            metadata: {
                ...metadata,
                annotations: { ...((metadata.annotations ?? {}) as Obj), [key]: value },
            },
        };
    };
    if (manifest.kind === "CronJob") {
        const jobTemplate = spec.jobTemplate as Obj;
        const jobSpec = jobTemplate.spec as Obj;
        return {
            ...manifest,
            spec: {
                ...spec,
                jobTemplate: {
                    ...jobTemplate,
                    spec: { ...jobSpec, template: annotate(jobSpec.template as Obj) },
                },
            },
        };
    }
    if (!spec.template) return manifest;
    return { ...manifest, spec: { ...spec, template: annotate(spec.template as Obj) } };
}

/** The backup prefixes (`backups/<db>/`) and retention of the SQL databases that dump to `store`. */
export function backupPrefixes(
    store: Service,
    services: readonly Service[],
): { prefix: string; days: number }[] {
    const out: { prefix: string; days: number }[] = [];
    for (const s of expandedOrder(services).ordered) {
        const backup = (s.args as SqlArgs).backup;
        if ((s.kind === "postgres" || s.kind === "mysql") && backup?.to === store)
            out.push({ prefix: backupPrefix(s.name), days: backup.retentionDays ?? 30 });
    }
    return out;
}
