// Reads Kubernetes workloads out of registered resource inputs (manifest fields). Shared by the
// StackScore and the policy pack, so it imports nothing from Pulumi.

/** A Kubernetes container spec, loosely typed: inputs come from user code and may be partial. */
export type Container = Record<string, unknown> & { name?: string; image?: unknown };

/** A kind of pod-running workload. */
export type WorkloadKind =
    | "Deployment"
    | "StatefulSet"
    | "DaemonSet"
    | "ReplicaSet"
    | "ReplicationController"
    | "CronJob"
    | "Job"
    | "Pod"
    | "PodTemplate";

/**
 * The API groups each pod-running kind is served from, old versions included (`apps/v1beta1`,
 * `apps/v1beta2`, `extensions/v1beta1`, `batch/v1beta1`: @pulumi/kubernetes still has types for them).
 */
const KIND_GROUPS: Readonly<Record<WorkloadKind, readonly string[]>> = {
    Deployment: ["apps", "extensions"],
    StatefulSet: ["apps"],
    DaemonSet: ["apps", "extensions"],
    ReplicaSet: ["apps", "extensions"],
    ReplicationController: ["core"],
    CronJob: ["batch"],
    Job: ["batch"],
    Pod: ["core"],
    PodTemplate: ["core"],
};

/**
 * How a Pulumi Kubernetes type carries pods: the object itself, a `<Kind>Patch` (server-side apply of the
 * fields it sets onto an existing object) or a `<Kind>List` (its `items`).
 */
export type WorkloadForm = "object" | "patch" | "list";

/**
 * The workload kind and form of a Pulumi type token (`kubernetes:<group>/<version>:<Kind>[Patch|List]`,
 * any version of the kind's groups), or undefined when it runs no pods.
 */
export function workloadTypeOf(type: string): { kind: WorkloadKind; form: WorkloadForm } | undefined {
    const m = /^kubernetes:([a-z0-9.-]+)\/v\d+(?:(?:alpha|beta)\d+)?:([A-Za-z]+)$/.exec(type);
    if (!m) return undefined;
    const [, group, name] = m;
    const suffix = /(Patch|List)$/.exec(name)?.[1];
    const base = suffix ? name.slice(0, -suffix.length) : name;
    if (!Object.hasOwn(KIND_GROUPS, base)) return undefined;
    const kind = base as WorkloadKind;
    if (!KIND_GROUPS[kind].includes(group)) return undefined;
    return { kind, form: suffix === "Patch" ? "patch" : suffix === "List" ? "list" : "object" };
}

/** A pod-running workload as the score and the policies see it. */
export interface Workload {
    readonly kind: WorkloadKind;
    /**
     * True for a `<Kind>Patch`: only the fields it sets are known (the rest stay as they are on the cluster),
     * so a rule may judge what it sets but not what it leaves out.
     */
    readonly patch: boolean;
    readonly urn: string;
    /** `metadata.name`, else the Pulumi resource name. */
    readonly name: string;
    /** `metadata.namespace`, else `default`. */
    readonly namespace: string;
    /**
     * `spec.replicas` (default 1, unknown for a patch that does not set it) for Deployment, StatefulSet,
     * ReplicaSet, ReplicationController; else undefined.
     */
    readonly replicas?: number;
    /** The pod spec (`spec.template.spec`, `spec.jobTemplate.spec.template.spec` or `spec`). */
    readonly podSpec: Record<string, unknown>;
    /** The pod template's labels. */
    readonly podLabels: Readonly<Record<string, string>>;
    /** The pod template's metadata (`spec.template.metadata`, or the Pod's own). */
    readonly podMetadata: Record<string, unknown>;
    /** Regular containers (not init containers). */
    readonly containers: readonly Container[];
    /** Init containers. */
    readonly initContainers: readonly Container[];
}

/** A plain object, or an empty one for anything else (undefined, unknowns, strings). */
export function obj(v: unknown): Record<string, unknown> {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** An array, or an empty one for anything else. */
export function arr(v: unknown): unknown[] {
    return Array.isArray(v) ? v : [];
}

/** Reads `a.b.c` from a nested plain object; undefined when any step is missing. */
export function at(v: unknown, path: string): unknown {
    let cur: unknown = v;
    for (const key of path.split(".")) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string, unknown>)[key];
    }
    return cur;
}

function labels(v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(obj(v))) if (typeof val === "string") out[k] = val;
    return out;
}

/**
 * The workloads a resource describes: one for a workload object or patch, one per item of a list (named
 * `<name>[<i>]` when the item has no `metadata.name`), none when it runs no pods.
 */
export function asWorkloads(
    type: string,
    inputs: Record<string, unknown>,
    urn: string,
    name: string,
): Workload[] {
    const t = workloadTypeOf(type);
    if (!t) return [];
    if (t.form === "list")
        return arr(inputs.items).map((item, i) => workloadOf(t.kind, false, obj(item), urn, `${name}[${i}]`));
    return [workloadOf(t.kind, t.form === "patch", inputs, urn, name)];
}

/** The workload of a single object or patch (not a list), or undefined if the resource runs no pods. */
export function asWorkload(
    type: string,
    inputs: Record<string, unknown>,
    urn: string,
    name: string,
): Workload | undefined {
    const t = workloadTypeOf(type);
    return t && t.form !== "list" ? workloadOf(t.kind, t.form === "patch", inputs, urn, name) : undefined;
}

function workloadOf(
    kind: WorkloadKind,
    patch: boolean,
    inputs: Record<string, unknown>,
    urn: string,
    name: string,
): Workload {
    const spec = obj(inputs.spec);
    const template =
        kind === "Pod"
            ? { metadata: inputs.metadata, spec: inputs.spec }
            : kind === "CronJob"
              ? obj(at(spec, "jobTemplate.spec.template"))
              : kind === "PodTemplate"
                ? obj(inputs.template)
                : obj(spec.template);
    const podSpec = obj(template.spec);
    const replicas =
        kind === "Deployment" ||
        kind === "StatefulSet" ||
        kind === "ReplicaSet" ||
        kind === "ReplicationController"
            ? typeof spec.replicas === "number"
                ? spec.replicas
                : patch
                  ? undefined
                  : 1
            : undefined;
    const metadata = obj(inputs.metadata);
    return {
        kind,
        patch,
        urn,
        name: typeof metadata.name === "string" ? metadata.name : name,
        namespace: typeof metadata.namespace === "string" ? metadata.namespace : "default",
        replicas,
        podSpec,
        podLabels: labels(at(template, "metadata.labels")),
        podMetadata: obj(template.metadata),
        containers: arr(podSpec.containers).map(obj) as Container[],
        initContainers: arr(podSpec.initContainers).map(obj) as Container[],
    };
}

/**
 * True when a label selector selects pods with `podLabels`: every `matchLabels` pair matches and
 * every `matchExpressions` entry (In, NotIn, Exists, DoesNotExist) holds. An empty selector
 * selects every pod, as it does for PodDisruptionBudgets and NetworkPolicies.
 */
export function selects(selector: unknown, podLabels: Readonly<Record<string, string>>): boolean {
    const s = obj(selector);
    const pairsMatch = Object.entries(labels(s.matchLabels)).every(([k, v]) => podLabels[k] === v);
    return (
        pairsMatch &&
        arr(s.matchExpressions).every((raw) => {
            const e = obj(raw);
            const key = String(e.key);
            const values = arr(e.values);
            switch (e.operator) {
                case "In":
                    return values.includes(podLabels[key]);
                case "NotIn":
                    return !values.includes(podLabels[key]);
                case "Exists":
                    return key in podLabels;
                case "DoesNotExist":
                    return !(key in podLabels);
                default:
                    return false;
            }
        })
    );
}

/** True when a pod spec spreads its replicas: topologySpreadConstraints or pod anti-affinity. */
export function spreadsReplicas(podSpec: Record<string, unknown>): boolean {
    const constraints = podSpec.topologySpreadConstraints;
    return (
        (Array.isArray(constraints) && constraints.length > 0) ||
        Object.keys(obj(obj(podSpec.affinity).podAntiAffinity)).length > 0
    );
}

/**
 * True when one of `objects` (PodDisruptionBudgets with `selector`, NetworkPolicies with
 * `podSelector`) in the workload's namespace selects the workload's pods.
 */
export function selectedBy(
    objects: ReadonlyArray<{ readonly inputs: Record<string, unknown> }>,
    w: Workload,
    selectorField: "selector" | "podSelector",
): boolean {
    return objects.some(
        (o) =>
            (obj(o.inputs.metadata).namespace ?? "default") === w.namespace &&
            selects(obj(o.inputs.spec)[selectorField], w.podLabels),
    );
}

/** The image tag problem of an image reference: `"latest"`, `"untagged"`, or undefined when pinned. */
export function imageTagProblem(image: unknown): "latest" | "untagged" | undefined {
    if (typeof image !== "string" || image === "") return undefined;
    if (image.includes("@sha256:")) return undefined;
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.lastIndexOf(":");
    if (colon < 0) return "untagged";
    return lastSegment.slice(colon + 1) === "latest" ? "latest" : undefined;
}

/** Env var names that carry credentials and must come from a Secret, not a plain `value`. */
export const SECRET_ENV_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)/i;

/**
 * Names of env vars in a container that look like credentials yet are set with a plain `value`. A
 * `*_FILE` name (`AWS_WEB_IDENTITY_TOKEN_FILE`) holds the path of a mounted secret, not the secret.
 */
export function plainSecretEnv(container: Container): string[] {
    const out: string[] = [];
    for (const e of arr(container.env).map(obj)) {
        if (typeof e.name !== "string" || e.value === undefined) continue;
        const named = SECRET_ENV_NAME.test(e.name) && !/_FILE$/i.test(e.name);
        if (named || e.value === "[secret]") out.push(e.name);
    }
    return out;
}

/** Host access a pod spec asks for: host namespaces, hostPath volumes, host ports. */
export function hostAccess(podSpec: Record<string, unknown>, containers: readonly Container[]): string[] {
    const out: string[] = [];
    for (const k of ["hostNetwork", "hostPID", "hostIPC"]) if (podSpec[k] === true) out.push(k);
    if (arr(podSpec.volumes).some((v) => obj(v).hostPath !== undefined)) out.push("hostPath volume");
    if (containers.some((c) => arr(c.ports).some((p) => ![undefined, 0].includes(obj(p).hostPort as number))))
        out.push("hostPort");
    return out;
}
