// Pure renderers of workload objects around a pod template: Deployment, StatefulSet, DaemonSet, CronJob,
// PodDisruptionBudget and HorizontalPodAutoscaler.
import { Manifest, selectorLabels, serviceLabels } from "./meta";
import { PodPlan, renderPodTemplate, workloadSelector } from "./pod";

/** Rolling update settings. Default maxUnavailable 0 and maxSurge 1: an update never drops below capacity. */
export interface RolloutPlan {
    readonly maxUnavailable: number;
    readonly maxSurge: number;
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
            strategy: { type: "RollingUpdate", rollingUpdate: { ...rollout } },
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

/** A PodDisruptionBudget allowing one pod down at a time. */
export function renderPdb(pod: PodPlan, namespace: string): Manifest {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta(pod, namespace),
        spec: { maxUnavailable: 1, selector: workloadSelector(pod.app, pod.service) },
    };
}

/** A HorizontalPodAutoscaler on CPU utilisation of a Deployment. */
export function renderHpa(
    pod: PodPlan,
    namespace: string,
    autoscale: { readonly minReplicas: number; readonly maxReplicas: number; readonly cpuPercent: number },
): Manifest {
    return {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: meta(pod, namespace),
        spec: {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: pod.service },
            minReplicas: autoscale.minReplicas,
            maxReplicas: autoscale.maxReplicas,
            metrics: [
                {
                    type: "Resource",
                    resource: {
                        name: "cpu",
                        target: { type: "Utilization", averageUtilization: autoscale.cpuPercent },
                    },
                },
            ],
        },
    };
}
