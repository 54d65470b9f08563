// Pure renderer of a pod template with Keelson's safe defaults: restricted security context, read-only
// root filesystem with emptyDirs where the image writes, requests and limits, distinct probes, and one
// initContainer per dependency that waits for its TCP port.
import * as pulumi from "@pulumi/pulumi";
import { Probe, Resources } from "../types";
import { EnvVar, NAME_LABEL, selectorLabels, serviceLabels } from "./meta";
import { WAIT_IMAGE } from "../../core/images";

export { WAIT_IMAGE } from "../../core/images";

/** A dependency the pod waits for before its containers start. */
export interface WaitFor {
    readonly service: string;
    readonly host: string;
    readonly port: number;
}

/** A container port. */
export interface PodPort {
    readonly name: string;
    readonly containerPort: number;
    readonly protocol: "TCP" | "UDP";
}

/** Everything the pod renderer needs, already defaulted. */
export interface PodPlan {
    readonly app: string;
    readonly service: string;
    /** `app.kubernetes.io/component`: the service kind. */
    readonly component: string;
    readonly image: pulumi.Input<string>;
    readonly command?: readonly string[];
    readonly args?: readonly string[];
    readonly env: readonly EnvVar[];
    readonly ports: readonly PodPort[];
    readonly resources: Resources;
    readonly readinessProbe?: Probe;
    readonly livenessProbe?: Probe;
    readonly startupProbe?: Probe;
    /** uid, gid and fsGroup. */
    readonly uid: number;
    readonly readOnlyRootFilesystem: boolean;
    /** Directories that get an emptyDir (besides /tmp, which always does). */
    readonly writablePaths: readonly string[];
    /** The PVC mount, for StatefulSets with a volume claim template named `data`. */
    readonly dataMount?: { readonly mountPath: string; readonly subPath?: string };
    readonly automountServiceAccountToken: boolean;
    readonly waitFor: readonly WaitFor[];
    /** Init containers run after the wait-for ones (e.g. a database dump), rendered as given. */
    readonly extraInitContainers?: readonly Record<string, unknown>[];
    readonly topologySpread: boolean;
    /**
     * Keep the pod off control-plane nodes: volume-backed pods (Keelson runs the EBS CSI driver on workers
     * only) and published pods (the edge forwards to workers only). A no-op on clusters without such nodes.
     */
    readonly avoidControlPlane?: boolean;
    /** `Never`/`OnFailure` for jobs; Always otherwise. */
    readonly restartPolicy?: "Always" | "OnFailure" | "Never";
}

/** The restricted container security context (Pod Security Standards "restricted"). */
export function containerSecurityContext(readOnlyRootFilesystem: boolean): Record<string, unknown> {
    return {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
    };
}

/** `/var/run/postgresql` becomes `var-run-postgresql`, a valid volume name. */
export function volumeName(path: string): string {
    const slug = path
        .replace(/^\/+|\/+$/g, "")
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-");
    return `w-${slug}`.slice(0, 63).replace(/-+$/, "");
}

function waitContainer(w: WaitFor): Record<string, unknown> {
    const target = `${w.host} ${w.port}`;
    return {
        name: `wait-for-${w.service}`,
        image: WAIT_IMAGE,
        command: [
            "sh",
            "-c",
            `until nc -z -w 2 ${target}; do echo "waiting for ${w.host}:${w.port}"; sleep 2; done`,
        ],
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
        securityContext: containerSecurityContext(true),
    };
}

/** Renders `{ metadata, spec }` of the pod template. */
export function renderPodTemplate(plan: PodPlan): Record<string, unknown> {
    const paths = ["/tmp", ...plan.writablePaths.filter((p) => p !== "/tmp")];
    const volumes: Record<string, unknown>[] = paths.map((p) => ({ name: volumeName(p), emptyDir: {} }));
    const mounts: Record<string, unknown>[] = paths.map((p) => ({ name: volumeName(p), mountPath: p }));
    if (plan.dataMount) {
        mounts.push({
            name: "data",
            mountPath: plan.dataMount.mountPath,
            ...(plan.dataMount.subPath ? { subPath: plan.dataMount.subPath } : {}),
        });
    }
    const main: Record<string, unknown> = {
        name: plan.service,
        image: plan.image,
        ...(plan.command ? { command: [...plan.command] } : {}),
        ...(plan.args ? { args: [...plan.args] } : {}),
        ...(plan.ports.length > 0 ? { ports: plan.ports.map((p) => ({ ...p })) } : {}),
        ...(plan.env.length > 0 ? { env: plan.env.map((e) => ({ ...e })) } : {}),
        resources: plan.resources,
        ...(plan.startupProbe ? { startupProbe: plan.startupProbe } : {}),
        ...(plan.readinessProbe ? { readinessProbe: plan.readinessProbe } : {}),
        ...(plan.livenessProbe ? { livenessProbe: plan.livenessProbe } : {}),
        securityContext: containerSecurityContext(plan.readOnlyRootFilesystem),
        volumeMounts: mounts,
    };
    const spec: Record<string, unknown> = {
        automountServiceAccountToken: plan.automountServiceAccountToken,
        securityContext: {
            runAsNonRoot: true,
            runAsUser: plan.uid,
            runAsGroup: plan.uid,
            fsGroup: plan.uid,
            fsGroupChangePolicy: "OnRootMismatch",
            seccompProfile: { type: "RuntimeDefault" },
        },
        ...(plan.restartPolicy ? { restartPolicy: plan.restartPolicy } : {}),
        ...(plan.waitFor.length + (plan.extraInitContainers?.length ?? 0) > 0
            ? { initContainers: [...plan.waitFor.map(waitContainer), ...(plan.extraInitContainers ?? [])] }
            : {}),
        containers: [main],
        volumes,
    };
    if (plan.avoidControlPlane) {
        spec.affinity = {
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
    }
    if (plan.topologySpread) {
        // ScheduleAnyway: a single-zone dev cluster still schedules; spreading is best effort, never a blocker.
        spec.topologySpreadConstraints = ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map(
            (key) => ({
                maxSkew: 1,
                topologyKey: key,
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: {
                    matchLabels: { [NAME_LABEL]: plan.service, "app.kubernetes.io/part-of": plan.app },
                },
            }),
        );
    }
    return {
        metadata: { labels: { ...serviceLabels(plan.app, plan.service, plan.component) } },
        spec,
    };
}

/** The selector of a workload. */
export function workloadSelector(app: string, service: string): { matchLabels: Record<string, string> } {
    return { matchLabels: selectorLabels(app, service) };
}
