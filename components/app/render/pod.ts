// Pure renderer of a pod template with Keelson's safe defaults: restricted security context, read-only
// root filesystem with emptyDirs where the image writes, requests and limits, distinct probes, and one
// initContainer per dependency that waits for its TCP port.
import * as pulumi from "@pulumi/pulumi";
import { ExtraContainer, Probe, Resources, Toleration } from "../types";
import { EnvVar, NAME_LABEL, secretEnv, selectorLabels, serviceLabels } from "./meta";
import { WAIT_IMAGE } from "../../core/images";
import { webIdentityEnv, webIdentityMount, webIdentityVolume } from "../../cluster/render/oidc";

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
    /** Pod template annotations (config and secret hashes). Default none. */
    readonly annotations?: Readonly<Record<string, pulumi.Input<string>>>;
    /** preStop hook of the main container. Default none. */
    readonly preStop?: { readonly sleepSeconds?: number; readonly command?: readonly string[] };
    readonly terminationGracePeriodSeconds?: number;
    /** Required node labels. Default none. */
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly Toleration[];
    /** Node labels preferred (weight 50 each), e.g. a data pool. Default none. */
    readonly preferNodes?: readonly { readonly key: string; readonly value: string }[];
    readonly sidecars?: readonly ExtraContainer[];
    readonly userInitContainers?: readonly ExtraContainer[];
    /** Files from a ConfigMap: each key mounted at its path (subPath). */
    readonly files?: {
        readonly configMap: string;
        readonly mounts: readonly { readonly key: string; readonly path: string }[];
    };
    /** Generic ephemeral volumes (a PVC per pod, deleted with it), mounted in the main container. */
    readonly scratch?: readonly { readonly path: string; readonly sizeGb: number }[];
    /** PersistentVolumeClaims mounted in the main container. */
    readonly claims?: readonly { readonly claim: string; readonly path: string }[];
    /** The pod's own AWS role (IRSA), given to the main container. Default none. */
    readonly webIdentity?: WebIdentityPlan;
}

/**
 * How a pod assumes its own AWS role without a pod-identity webhook: it runs as `serviceAccount`, and the
 * main container gets AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, regional STS, AWS_REGION and
 * AWS_DEFAULT_REGION, and the projected token (audience sts.amazonaws.com) mounted read-only.
 */
export interface WebIdentityPlan {
    readonly serviceAccount: string;
    readonly roleArn: pulumi.Input<string>;
    /** The Secret whose `region` key holds the region (a file store's credentials Secret). */
    readonly regionSecret: string;
}

/** The main container's web-identity variables of {@link WebIdentityPlan}. */
function webIdentityVariables(
    w: WebIdentityPlan,
): (EnvVar | { name: string; value: pulumi.Input<string> })[] {
    return [
        ...webIdentityEnv(w.roleArn),
        secretEnv("AWS_REGION", w.regionSecret, "region"),
        secretEnv("AWS_DEFAULT_REGION", w.regionSecret, "region"),
    ];
}

/** Default resources of sidecars and init containers. */
export const EXTRA_CONTAINER_RESOURCES: Resources = {
    requests: { cpu: "50m", memory: "64Mi" },
    limits: { cpu: "200m", memory: "128Mi" },
};

function extraContainer(c: ExtraContainer, sidecar: boolean): Record<string, unknown> {
    return {
        name: c.name,
        image: c.image,
        ...(c.command ? { command: [...c.command] } : {}),
        ...(c.args ? { args: [...c.args] } : {}),
        ...(c.env ? { env: Object.entries(c.env).map(([name, value]) => ({ name, value })) } : {}),
        ...(sidecar ? { restartPolicy: "Always" } : {}),
        resources: c.resources ?? EXTRA_CONTAINER_RESOURCES,
        securityContext: containerSecurityContext(true),
        volumeMounts: [{ name: volumeName("/tmp"), mountPath: "/tmp" }],
    };
}

/** The main container's lifecycle: the kubelet's sleep action (no shell in the image needed) or a command. */
function lifecycle(preStop: PodPlan["preStop"]): Record<string, unknown> | undefined {
    if (!preStop) return undefined;
    if (preStop.command) return { preStop: { exec: { command: [...preStop.command] } } };
    if (preStop.sleepSeconds) return { preStop: { sleep: { seconds: preStop.sleepSeconds } } };
    return undefined;
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
    for (const f of plan.files?.mounts ?? [])
        mounts.push({ name: "files", mountPath: f.path, subPath: f.key, readOnly: true });
    if (plan.files) volumes.push({ name: "files", configMap: { name: plan.files.configMap } });
    for (const x of plan.scratch ?? []) {
        volumes.push({
            name: volumeName(x.path),
            ephemeral: {
                volumeClaimTemplate: {
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        resources: { requests: { storage: `${x.sizeGb}Gi` } },
                    },
                },
            },
        });
        mounts.push({ name: volumeName(x.path), mountPath: x.path });
    }
    (plan.claims ?? []).forEach((c) => {
        volumes.push({ name: c.claim, persistentVolumeClaim: { claimName: c.claim } });
        mounts.push({ name: c.claim, mountPath: c.path });
    });
    if (plan.webIdentity) {
        volumes.push(webIdentityVolume());
        mounts.push(webIdentityMount());
    }
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
        ...(plan.env.length > 0 || plan.webIdentity
            ? {
                  env: [
                      ...plan.env.map((e) => ({ ...e })),
                      ...(plan.webIdentity ? webIdentityVariables(plan.webIdentity) : []),
                  ],
              }
            : {}),
        resources: plan.resources,
        ...(plan.startupProbe ? { startupProbe: plan.startupProbe } : {}),
        ...(plan.readinessProbe ? { readinessProbe: plan.readinessProbe } : {}),
        ...(plan.livenessProbe ? { livenessProbe: plan.livenessProbe } : {}),
        ...(lifecycle(plan.preStop) ? { lifecycle: lifecycle(plan.preStop) } : {}),
        securityContext: containerSecurityContext(plan.readOnlyRootFilesystem),
        volumeMounts: mounts,
    };
    const inits = [
        ...plan.waitFor.map(waitContainer),
        ...(plan.extraInitContainers ?? []),
        ...(plan.userInitContainers ?? []).map((c) => extraContainer(c, false)),
        // Native sidecars start after the init containers before them, and stop after the main container.
        ...(plan.sidecars ?? []).map((c) => extraContainer(c, true)),
    ];
    const spec: Record<string, unknown> = {
        ...(plan.webIdentity ? { serviceAccountName: plan.webIdentity.serviceAccount } : {}),
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
        ...(plan.terminationGracePeriodSeconds !== undefined
            ? { terminationGracePeriodSeconds: plan.terminationGracePeriodSeconds }
            : {}),
        ...(plan.nodeSelector && Object.keys(plan.nodeSelector).length > 0
            ? { nodeSelector: { ...plan.nodeSelector } }
            : {}),
        ...(plan.tolerations && plan.tolerations.length > 0
            ? { tolerations: plan.tolerations.map((t) => ({ ...t })) }
            : {}),
        ...(inits.length > 0 ? { initContainers: inits } : {}),
        containers: [main],
        volumes,
    };
    const nodeAffinity: Record<string, unknown> = {};
    if (plan.avoidControlPlane) {
        nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
            nodeSelectorTerms: [
                {
                    matchExpressions: [
                        { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                    ],
                },
            ],
        };
    }
    if (plan.preferNodes && plan.preferNodes.length > 0) {
        nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution = plan.preferNodes.map((p) => ({
            weight: 50,
            preference: { matchExpressions: [{ key: p.key, operator: "In", values: [p.value] }] },
        }));
    }
    if (Object.keys(nodeAffinity).length > 0) spec.affinity = { nodeAffinity };
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
    const annotations = plan.annotations ?? {};
    return {
        metadata: {
            labels: { ...serviceLabels(plan.app, plan.service, plan.component) },
            ...(Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
        },
        spec,
    };
}

/** The selector of a workload. */
export function workloadSelector(app: string, service: string): { matchLabels: Record<string, string> } {
    return { matchLabels: selectorLabels(app, service) };
}
