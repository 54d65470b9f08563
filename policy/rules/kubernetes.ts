// Workload rules: the Pod Security Standards "restricted" profile and the core kube-score,
// Polaris and kube-linter checks, over Kubernetes manifests as registered.
import {
    PolicyConfigSchema,
    PolicyResource,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { viewOf } from "../../components/score/graph-view";
import { SYSTEM_NAMESPACES } from "../../components/score/types";
import { restrictedViolations, restrictedViolationsOfPatch } from "../../components/score/pod-security";
import {
    arr,
    imageTagProblem,
    obj,
    plainSecretEnv,
    selectedBy,
    spreadsReplicas,
    Workload,
} from "../../components/score/workloads";
import { asPlanResources, configWithDefaults, forWorkloads, label } from "./util";

/** Config of the rules that exempt platform namespaces. */
export interface ExemptConfig {
    exemptNamespaces: string[];
}

const exemptSchema: PolicyConfigSchema = {
    properties: {
        exemptNamespaces: {
            type: "array",
            items: { type: "string" },
            default: [...SYSTEM_NAMESPACES],
            description:
                "Namespaces of platform add-ons (node agents, CNI) that run at the privileged level.",
        },
    },
};

const exemptNamespaces = (args: { getConfig<C extends object>(): C }) =>
    configWithDefaults<ExemptConfig>(args, { exemptNamespaces: [...SYSTEM_NAMESPACES] }).exemptNamespaces;

const containersOf = (w: Workload) => [
    ...w.initContainers,
    ...w.containers,
    ...(arr(w.podSpec.ephemeralContainers).map(obj) as Workload["containers"]),
];

/**
 * Pod Security Standards "restricted", every check of pod-security-admission (components/score/pod-security.ts)
 * over init, regular and ephemeral containers of every pod-bearing kind, version, patch and list item, except
 * in exempt (privileged) namespaces; a patch is judged on the fields it sets. One violation per failed check,
 * named by its upstream ID. Mandatory.
 */
export const podSecurityRestricted: ResourceValidationPolicy = {
    name: "k8s-pod-security-restricted",
    description:
        "Pods meet the Pod Security Standards restricted profile (every pod-security-admission check: host namespaces, privileged, host ports and probe hosts, procMount, SELinux, sysctls, AppArmor, Windows host processes, volume types, privilege escalation, capabilities, non-root, runAsUser, seccomp).",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: exemptSchema,
    validateResource: forWorkloads((w, args, report) => {
        if (exemptNamespaces(args).includes(w.namespace)) return;
        const check = w.patch ? restrictedViolationsOfPatch : restrictedViolations;
        for (const v of check(w.podSpec, w.podMetadata))
            report(`${label(w)} fails restricted ${v.check}: ${v.detail}.`);
    }),
};

/** Every container sets CPU and memory requests and a memory limit (kube-score container-resources). */
export const containerResources: ResourceValidationPolicy = {
    name: "k8s-container-resources",
    description: "Containers set CPU and memory requests and a memory limit.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: forWorkloads((w, _args, report) => {
        if (w.patch) return; // what a patch leaves out stays as it is on the cluster
        for (const c of containersOf(w)) {
            const r = obj(c.resources);
            const missing = [
                ...(obj(r.requests).cpu === undefined ? ["requests.cpu"] : []),
                ...(obj(r.requests).memory === undefined ? ["requests.memory"] : []),
                ...(obj(r.limits).memory === undefined ? ["limits.memory"] : []),
            ];
            if (missing.length > 0)
                report(`${label(w)} container ${c.name ?? "?"} has no ${missing.join(", ")}.`);
        }
    }),
};

/** Serving containers have readiness and liveness probes that differ (kube-score pod-probes). */
export const containerProbes: ResourceValidationPolicy = {
    name: "k8s-container-probes",
    description: "Serving containers have a readiness and a liveness probe, and the two are not identical.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: forWorkloads((w, _args, report) => {
        if (w.kind === "CronJob" || w.kind === "Job" || w.patch) return;
        for (const c of w.containers) {
            const missing = ["readinessProbe", "livenessProbe"].filter((p) => c[p] === undefined);
            if (missing.length > 0)
                report(`${label(w)} container ${c.name ?? "?"} has no ${missing.join(" or ")}.`);
            else if (JSON.stringify(c.readinessProbe) === JSON.stringify(c.livenessProbe))
                report(
                    `${label(w)} container ${c.name ?? "?"} uses identical readiness and liveness probes.`,
                );
        }
    }),
};

/** Images are pinned to a tag or digest, never `latest` or untagged. Mandatory. */
export const imagePinned: ResourceValidationPolicy = {
    name: "k8s-image-pinned",
    description: "Container images are pinned to a version tag or digest (no latest, no missing tag).",
    enforcementLevel: "mandatory",
    severity: "medium",
    validateResource: forWorkloads((w, _args, report) => {
        for (const c of containersOf(w)) {
            if (w.patch && c.image === undefined) continue; // the image on the cluster stays
            const problem = imageTagProblem(c.image);
            if (problem)
                report(`${label(w)} container ${c.name ?? "?"} image ${String(c.image)} is ${problem}.`);
        }
    }),
};

/** Containers run with a read-only root filesystem (Polaris, kube-score). */
export const readOnlyRoot: ResourceValidationPolicy = {
    name: "k8s-read-only-root-filesystem",
    description: "Containers set securityContext.readOnlyRootFilesystem: true.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateResource: forWorkloads((w, _args, report) => {
        for (const c of containersOf(w)) {
            const readOnly = obj(c.securityContext).readOnlyRootFilesystem;
            if (w.patch ? readOnly === false : readOnly !== true)
                report(`${label(w)} container ${c.name ?? "?"} has a writable root filesystem.`);
        }
    }),
};

/** No credential-looking env var set as a plain value. Mandatory. */
export const noSecretsInEnv: ResourceValidationPolicy = {
    name: "k8s-no-secrets-in-env",
    description:
        "Credentials reach containers from Secrets (valueFrom.secretKeyRef), never as plain env values.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forWorkloads((w, _args, report) => {
        for (const c of containersOf(w)) {
            const names = plainSecretEnv(c);
            if (names.length > 0)
                report(
                    `${label(w)} container ${c.name ?? "?"} sets ${names.join(", ")} as plain env values.`,
                );
        }
    }),
};

/** Deployments outside system namespaces run two or more replicas (an HPA's minReplicas when it owns the count). */
export const replicas: StackValidationPolicy = {
    name: "k8s-replicas",
    description: "Deployments run 2 or more replicas.",
    enforcementLevel: "advisory",
    severity: "medium",
    configSchema: exemptSchema,
    validateStack: (args, report) => {
        const exempt = exemptNamespaces(args);
        for (const w of viewOfStack(args.resources).workloads) {
            if (w.kind !== "Deployment" || exempt.includes(w.namespace)) continue;
            if ((w.replicas ?? 1) < 2) report(`${label(w)} runs ${w.replicas} replica.`, w.urn);
        }
    },
};

/** Replicated workloads spread over nodes or zones (topology spread or pod anti-affinity). */
export const topologySpread: ResourceValidationPolicy = {
    name: "k8s-topology-spread",
    description: "Workloads with 2 or more replicas set topologySpreadConstraints or pod anti-affinity.",
    enforcementLevel: "advisory",
    severity: "low",
    validateResource: forWorkloads((w, _args, report) => {
        if ((w.replicas ?? 1) < 2) return;
        if (!spreadsReplicas(w.podSpec))
            report(`${label(w)} has ${w.replicas} replicas and no topology spread or pod anti-affinity.`);
    }),
};

/** Pods do not mount a service-account token unless they call the API (kube-linter). */
export const serviceAccountToken: ResourceValidationPolicy = {
    name: "k8s-service-account-token",
    description: "Pods set automountServiceAccountToken: false unless they call the Kubernetes API.",
    enforcementLevel: "advisory",
    severity: "low",
    configSchema: exemptSchema,
    validateResource: forWorkloads((w, args, report) => {
        if (exemptNamespaces(args).includes(w.namespace)) return;
        const automount = w.podSpec.automountServiceAccountToken;
        if (w.patch ? automount === true : automount !== false)
            report(`${label(w)} mounts a service-account token.`);
    }),
};

/** The stack's graph view: workloads with HPA-managed replica counts resolved as the StackScore does. */
const viewOfStack = (resources: readonly PolicyResource[]) => viewOf(asPlanResources(resources));

/** Every replicated workload is covered by a PodDisruptionBudget in its namespace. */
export const podDisruptionBudget: StackValidationPolicy = {
    name: "k8s-pod-disruption-budget",
    description: "Workloads with 2 or more replicas are selected by a PodDisruptionBudget.",
    enforcementLevel: "advisory",
    severity: "medium",
    validateStack: (args, report) => {
        const view = viewOfStack(args.resources);
        const pdbs = view.ofType("kubernetes:policy/v1:PodDisruptionBudget");
        for (const w of view.workloads) {
            if ((w.replicas ?? 1) >= 2 && !selectedBy(pdbs, w, "selector"))
                report(`${label(w)} has ${w.replicas} replicas and no PodDisruptionBudget.`, w.urn);
        }
    },
};

/**
 * True when a NetworkPolicy restricts ingress: `policyTypes` lists Ingress, or is absent (then Ingress is
 * implied, and Egress only with egress rules). An egress-only policy leaves its pods open to every caller.
 */
export function coversIngress(policy: { readonly inputs: Record<string, unknown> }): boolean {
    const types = obj(policy.inputs.spec).policyTypes;
    return !Array.isArray(types) || types.length === 0 || types.includes("Ingress");
}

/** Every pod outside exempt namespaces is selected by a NetworkPolicy that covers its ingress. */
export const networkPolicyCoverage: StackValidationPolicy = {
    name: "k8s-network-policy",
    description:
        "Every pod is selected by a NetworkPolicy covering ingress (a default deny plus the declared paths); egress-only policies do not count.",
    enforcementLevel: "advisory",
    severity: "medium",
    configSchema: exemptSchema,
    validateStack: (args, report) => {
        const exempt = exemptNamespaces(args);
        const view = viewOfStack(args.resources);
        const policies = view.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").filter(coversIngress);
        for (const w of view.workloads) {
            if (!exempt.includes(w.namespace) && !selectedBy(policies, w, "podSelector"))
                report(`No NetworkPolicy covering ingress selects the pods of ${label(w)}.`, w.urn);
        }
    },
};

/** The Kubernetes policies, resource rules first. */
export const kubernetesPolicies = [
    podSecurityRestricted,
    containerResources,
    containerProbes,
    imagePinned,
    readOnlyRoot,
    noSecretsInEnv,
    replicas,
    topologySpread,
    serviceAccountToken,
    podDisruptionBudget,
    networkPolicyCoverage,
];
