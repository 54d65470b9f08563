// Validates rendered manifests against the Kubernetes OpenAPI schema (kubernetes-models 4.x: Kubernetes 1.27).
import { DaemonSet, Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { CronJob, Job } from "kubernetes-models/batch/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import {
    ConfigMap,
    Namespace,
    PersistentVolumeClaim,
    Secret,
    Service,
    ServiceAccount,
} from "kubernetes-models/v1";

type Model = { validate(): void };
type Ctor = new (data: never) => Model;

const MODELS: Record<string, Ctor> = {
    "apps/v1/Deployment": Deployment,
    "apps/v1/StatefulSet": StatefulSet,
    "apps/v1/DaemonSet": DaemonSet,
    "batch/v1/CronJob": CronJob,
    "batch/v1/Job": Job,
    "v1/PersistentVolumeClaim": PersistentVolumeClaim,
    "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
    "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
    "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
    "networking.k8s.io/v1/Ingress": Ingress,
    "storage.k8s.io/v1/StorageClass": StorageClass,
    "v1/Service": Service,
    "v1/Secret": Secret,
    "v1/Namespace": Namespace,
    "v1/ConfigMap": ConfigMap,
    "v1/ServiceAccount": ServiceAccount,
};

/** Throws a readable error when `manifest` is not a valid object of its kind, or of an unknown kind. */
export function validateManifest(manifest: unknown, where = ""): void {
    const m = manifest as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
    const id = `${m.apiVersion}/${m.kind}`;
    const Model = MODELS[id];
    if (!Model) throw new Error(`${where}: no schema for ${id}; add it to test/app/support/schema.ts`);
    try {
        new Model(JSON.parse(JSON.stringify(manifest)) as never).validate();
    } catch (e) {
        const detail = (e as { errors?: unknown }).errors ?? (e as Error).message;
        throw new Error(`${where} ${id} ${m.metadata?.name}: ${JSON.stringify(detail)}`);
    }
}
