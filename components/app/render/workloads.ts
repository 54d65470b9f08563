// Pure renderers of workload objects around a pod template: Deployment, StatefulSet, DaemonSet, CronJob,
// PodDisruptionBudget and HorizontalPodAutoscaler.
import { Manifest, selectorLabels, serviceLabels } from "./meta";
import { PodPlan, renderPodTemplate, workloadSelector } from "./pod";

/** Rolling update settings. Default maxUnavailable 0 and maxSurge 1: an update never drops below capacity. */
export interface RolloutPlan {
    readonly maxUnavailable: number;
    readonly maxSurge: number;
    /** Default RollingUpdate. */
    readonly strategy?: "RollingUpdate" | "Recreate";
    readonly minReadySeconds?: number;
    readonly progressDeadlineSeconds?: number;
}

function meta(pod: PodPlan, namespace: string, name = pod.service) {
    return { name, namespace, labels: serviceLabels(pod.app, pod.service, pod.component) };
}

/** A Deployment; `replicas` undefined leaves the count to an HPA. */
export function renderDeployment(
    pod: PodPlan,
    namespace: string,
    replicas: number | undefined,
    rollout: RolloutPlan,
): Manifest {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(pod, namespace),
        spec: {
            ...(replicas === undefined ? {} : { replicas }),
            revisionHistoryLimit: 5,
            selector: workloadSelector(pod.app, pod.service),
            ...(rollout.minReadySeconds !== undefined ? { minReadySeconds: rollout.minReadySeconds } : {}),
            ...(rollout.progressDeadlineSeconds !== undefined
                ? { progressDeadlineSeconds: rollout.progressDeadlineSeconds }
                : {}),
            strategy:
                rollout.strategy === "Recreate"
                    ? { type: "Recreate" }
                    : {
                          type: "RollingUpdate",
                          rollingUpdate: {
                              maxUnavailable: rollout.maxUnavailable,
                              maxSurge: rollout.maxSurge,
                          },
                      },
            template: renderPodTemplate(pod),
        },
    };
}

/** A StatefulSet with an optional `data` volume claim template (ReadWriteOnce, default StorageClass unless given). */
export function renderStatefulSet(
    pod: PodPlan,
    namespace: string,
    replicas: number,
    headlessService: string,
    volume?: { readonly storageGb: number; readonly storageClass?: string },
): Manifest {
    return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(pod, namespace),
        spec: {
            replicas,
            serviceName: headlessService,
            // Parallel: memcached pods are independent; single-replica databases are unaffected.
            podManagementPolicy: "Parallel",
            selector: workloadSelector(pod.app, pod.service),
            updateStrategy: { type: "RollingUpdate" },
            ...(volume
                ? {
                      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                      volumeClaimTemplates: [
                          {
                              metadata: { name: "data", labels: selectorLabels(pod.app, pod.service) },
                              spec: {
                                  accessModes: ["ReadWriteOnce"],
                                  ...(volume.storageClass ? { storageClassName: volume.storageClass } : {}),
                                  resources: { requests: { storage: `${volume.storageGb}Gi` } },
                              },
                          },
                      ],
                  }
                : {}),
            template: renderPodTemplate(pod),
        },
    };
}

/** The name the StatefulSet controller gives the claim of pod `ordinal` (`<template>-<set>-<ordinal>`). */
export function statefulClaimName(service: string, ordinal: number): string {
    return `data-${service}-${ordinal}`;
}

/**
 * The size of a claim the StatefulSet controller created, as a server-side patch (`pulumi.com/patchForce`
 * takes the field over from the controller): the way a data volume grows, since a StatefulSet's
 * `volumeClaimTemplates` cannot change. Same labels, access mode and class as the template.
 */
export function renderClaimResize(
    pod: PodPlan,
    namespace: string,
    ordinal: number,
    volume: { readonly storageGb: number; readonly storageClass?: string },
): Manifest {
    return {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: {
            name: statefulClaimName(pod.service, ordinal),
            namespace,
            labels: selectorLabels(pod.app, pod.service),
            annotations: { "pulumi.com/patchForce": "true" },
        },
        spec: {
            accessModes: ["ReadWriteOnce"],
            ...(volume.storageClass ? { storageClassName: volume.storageClass } : {}),
            resources: { requests: { storage: `${volume.storageGb}Gi` } },
        },
    };
}

/** A DaemonSet that surges a new pod before removing the old one on each node. */
export function renderDaemonSet(pod: PodPlan, namespace: string): Manifest {
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: meta(pod, namespace),
        spec: {
            selector: workloadSelector(pod.app, pod.service),
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: renderPodTemplate(pod),
        },
    };
}

/** A CronJob that never overlaps runs and keeps a short history. */
export function renderCronJob(
    pod: PodPlan,
    namespace: string,
    schedule: string,
    activeDeadlineSeconds: number,
): Manifest {
    return {
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: meta(pod, namespace),
        spec: {
            schedule,
            concurrencyPolicy: "Forbid",
            startingDeadlineSeconds: 300,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            jobTemplate: {
                metadata: { labels: serviceLabels(pod.app, pod.service, pod.component) },
                spec: { backoffLimit: 2, activeDeadlineSeconds, template: renderPodTemplate(pod) },
            },
        },
    };
}

/**
 * A one-off Job, named `<service>-<hash>` by the caller so that a changed spec is a new Job (a Job's pod
 * template is immutable). No TTL: the finished Job stays, so Pulumi does not see it vanish and rerun it.
 */
export function renderJob(
    pod: PodPlan,
    namespace: string,
    name: string,
    backoffLimit: number,
    activeDeadlineSeconds: number,
): Manifest {
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta(pod, namespace, name),
        spec: { backoffLimit, activeDeadlineSeconds, template: renderPodTemplate(pod) },
    };
}

/** A PodDisruptionBudget allowing one pod down at a time. */
export function renderPdb(pod: PodPlan, namespace: string): Manifest {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta(pod, namespace),
        spec: { maxUnavailable: 1, selector: workloadSelector(pod.app, pod.service) },
    };
}

/** What an HPA scales on. */
export interface HpaPlan {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly cpuPercent?: number;
    readonly memoryPercent?: number;
    readonly behavior?: Readonly<Record<string, unknown>>;
}

const utilization = (name: string, averageUtilization: number) => ({
    type: "Resource",
    resource: { name, target: { type: "Utilization", averageUtilization } },
});

/** A HorizontalPodAutoscaler on CPU and/or memory utilisation of a Deployment, with an optional `behavior`. */
export function renderHpa(pod: PodPlan, namespace: string, autoscale: HpaPlan): Manifest {
    const metrics = [
        ...(autoscale.cpuPercent !== undefined ? [utilization("cpu", autoscale.cpuPercent)] : []),
        ...(autoscale.memoryPercent !== undefined ? [utilization("memory", autoscale.memoryPercent)] : []),
    ];
    return {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: meta(pod, namespace),
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: pod.service },
            minReplicas: autoscale.minReplicas,
            maxReplicas: autoscale.maxReplicas,
            metrics,
            ...(autoscale.behavior ? { behavior: autoscale.behavior } : {}),
        },
    };
}
