// Registers a rendered manifest as the matching typed @pulumi/kubernetes resource.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Manifest } from "../core/manifest";

type Ctor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** The typed resource class of each kind Keelson renders. */
const KINDS: Record<string, Ctor> = {
    "v1/Namespace": k8s.core.v1.Namespace,
    "v1/Service": k8s.core.v1.Service,
    "v1/Secret": k8s.core.v1.Secret,
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "apps/v1/StatefulSet": k8s.apps.v1.StatefulSet,
    "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet,
    "batch/v1/CronJob": k8s.batch.v1.CronJob,
    "batch/v1/Job": k8s.batch.v1.Job,
    "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "storage.k8s.io/v1/StorageClass": k8s.storage.v1.StorageClass,
    "networking.k8s.io/v1/Ingress": k8s.networking.v1.Ingress,
    // A CRD of the cluster's Gateway API installation: the generic custom resource takes the manifest.
    "gateway.networking.k8s.io/v1/HTTPRoute": k8s.apiextensions.CustomResource,
};

/** The server-side patch resource of each kind Keelson patches instead of creating. */
const PATCH_KINDS: Record<string, Ctor> = {
    "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaimPatch,
};

/**
 * Creates `manifest` as its typed resource (`k8s.apps.v1.Deployment`, ...). `manifest` may carry Outputs
 * (a built image, Secret data). With `patch`, as its server-side patch resource (`PersistentVolumeClaimPatch`):
 * it sets the manifest's fields on an object that may already exist and never deletes it. Throws for a
 * kind Keelson does not render.
 */
export function createObject(
    name: string,
    manifest: Manifest | Record<string, unknown>,
    opts: pulumi.CustomResourceOptions,
    patch = false,
): pulumi.CustomResource {
    const m = manifest as Manifest;
    const Kind = (patch ? PATCH_KINDS : KINDS)[`${m.apiVersion}/${m.kind}`];
    if (!Kind)
        throw new Error(`no typed ${patch ? "patch " : ""}resource for ${m.apiVersion}/${m.kind} (${name})`);
    return new Kind(name, manifest as never, opts);
}

export { manifestPath } from "../core/manifest";
