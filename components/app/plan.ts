// The pure plan of an application: every Kubernetes object as a plain manifest, the Secrets to fill, the
// ordering between objects, the NodePorts and the edge routes. Application.ts only turns it into resources.
import * as pulumi from "@pulumi/pulumi";
import { EdgeRoute } from "../edge/types";
import {
    FILE_STORE_LOCATION_KEYS,
    FILE_STORE_SECRET_KEYS,
    engineContext,
    planConnection,
} from "./connections";
import { renderStoreServiceAccount, storeServiceAccountName, storesOf } from "./file-store-access";
import { enginePodPlan, userPodPlan } from "./defaults";
import { CONFIG_HASH, fileKey, sha256 } from "./hash";
import { DUMP_DIR, dumpContainer, dumpVolumeGb, expandedOrder } from "./backups";
import { allocateNodePorts } from "./nodeports";
import { ENGINES, isEngine } from "./render/engines";
import { Manifest, PlannedSecret, credentialsSecretName, envSecretName } from "./render/meta";
import * as o from "./render/objects";
import * as w from "./render/workloads";
import {
    EDGE_DRAIN_SECONDS,
    EDGE_LOAD_BALANCER_CLASS,
    nodePortRequests,
    publishing,
    routesOf,
} from "./publish";
import { httpRoutes, planProxyRoutes, proxyNamespace } from "./proxy-routes";
import { PodPlan } from "./render/pod";
import { renderProxyIngress } from "./render/routes";
import type { AppDefinition } from "./validate";
import {
    ContainerArgs,
    CronJobArgs,
    DaemonSetArgs,
    DataServiceArgs,
    ExternalArgs,
    JobArgs,
    Service,
} from "./types";

/** One object to create. */
export interface PlannedObject {
    /** Stable key, unique in the application: `<service>.<kind>` or `netpol.<name>` ('.' never occurs in a service name). */
    readonly key: string;
    readonly manifest: Manifest;
    /** Keys of objects this one waits for (Pulumi dependsOn). */
    readonly dependsOn: readonly string[];
    /** The owning service, if any. */
    readonly service?: string;
    /** For Secrets: where each key's value comes from (the manifest has masked data). */
    readonly secret?: PlannedSecret;
    /** For workloads: keys of the Secret objects the pods read; their hash rolls the pods on a change. */
    readonly podSecrets?: readonly string[];
    /**
     * Applied as a server-side patch of an object something else creates (a StatefulSet's claims): Pulumi
     * never creates or deletes it, only sets the fields the manifest has. Default false.
     */
    readonly patch?: boolean;
    /** Fields Pulumi keeps at their first value (Pulumi `ignoreChanges`). Default none. */
    readonly ignoreChanges?: readonly string[];
}

/** A StatefulSet's claim templates are immutable: they stay as created; the claims grow by patch. */
export const STATEFULSET_IGNORED = ["spec.volumeClaimTemplates"] as const;

/** The plan of a whole application. */
export interface AppPlan {
    /** Listed services and their dependencies, each dependency before its dependents. */
    readonly services: readonly Service[];
    readonly objects: readonly PlannedObject[];
    /** Routes for the edge load balancer, in service order. */
    readonly routes: readonly EdgeRoute[];
    /** Allocated NodePorts by `<namespace>/<service>/<port>/<protocol>`. */
    readonly nodePorts: Readonly<Record<string, number>>;
}

/** The key of a service's workload object, which its dependents wait for. */
export function workloadKey(s: Service): string | undefined {
    if (isEngine(s.kind)) return `${s.name}.statefulset`;
    if (s.kind === "container" || s.kind === "worker") return `${s.name}.deployment`;
    if (s.kind === "job") return `${s.name}.job`;
    if (s.kind === "daemonset") return `${s.name}.daemonset`;
    if (s.kind === "filestore") return `${s.name}.secret`;
    if (s.kind === "external") return `${s.name}.service`;
    return undefined;
}

/**
 * Plans a validated application. `images` gives the built image of every service whose image is a build
 * context (Application builds them first); string images are used as they are. With `def.webIdentity`,
 * `roleArns` gives the IRSA role of every service that reaches a file store: its pods run as ServiceAccount
 * `<service>-aws` (`<service>.service-account`) with that role's web identity, and no access key exists.
 */
export function planApplication(
    def: AppDefinition,
    images: Readonly<Record<string, pulumi.Input<string>>> = {},
    imageTags: Readonly<Record<string, string>> = {},
    roleArns: Readonly<Record<string, pulumi.Input<string>>> = {},
): AppPlan {
    const ns = def.namespace;
    const app = def.name;
    const { ordered } = expandedOrder(def.services);
    const allocated = allocateNodePorts(
        nodePortRequests(ordered, ns, def.publish !== undefined),
        def.nodePortsInUse ?? [],
    );
    const objects: PlannedObject[] = [];
    const keys = new Set<string>();
    const routes: EdgeRoute[] = [];
    const push = (obj: PlannedObject) => {
        if (keys.has(obj.key))
            throw new Error(
                `two objects would be keyed ${obj.key}; rename one of the services it derives from`,
            );
        keys.add(obj.key);
        objects.push({ ...obj, dependsOn: ["namespace", ...obj.dependsOn] });
    };
    const add = (
        key: string,
        manifest: Manifest,
        dependsOn: string[] = [],
        service?: string,
        secret?: PlannedSecret,
        podSecrets?: readonly string[],
    ) =>
        push({
            key,
            manifest,
            dependsOn,
            service,
            ...(secret ? { secret } : {}),
            ...(podSecrets && podSecrets.length > 0 ? { podSecrets } : {}),
        });
    objects.push({ key: "namespace", manifest: o.renderNamespace(ns, app), dependsOn: [] });
    keys.add("namespace");
    add("netpol.default-deny", o.renderDefaultDeny(ns));
    add("netpol.allow-dns", o.renderDnsEgress(ns));
    const secretObject = (s: Service, secret: PlannedSecret, key: string) =>
        add(key, o.renderSecretSkeleton(app, s.name, ns, secret), [], s.name, secret);

    for (const s of ordered) {
        if (s.kind === "filestore") {
            secretObject(
                s,
                {
                    name: credentialsSecretName(s.name),
                    keys: def.webIdentity ? FILE_STORE_LOCATION_KEYS : FILE_STORE_SECRET_KEYS,
                },
                `${s.name}.secret`,
            );
            continue;
        }
        if (s.kind === "external") {
            const a = s.args as ExternalArgs;
            add(`${s.name}.service`, o.renderExternalName(app, s.name, ns, a.host, a.port), [], s.name);
            continue;
        }
        if (isEngine(s.kind)) {
            const ctx = engineContext(s, ns);
            const spec = ENGINES[s.kind];
            const pod = enginePodPlan(s as Service<typeof s.kind>, app, ctx, def.pools);
            const deps: string[] = [];
            const files = spec.files?.(ctx) ?? [];
            if (files.length > 0) {
                const data = Object.fromEntries(files.map((f) => [fileKey(f.path), f.content]));
                add(
                    `${s.name}.config`,
                    o.renderConfigMap(app, s.name, ns, `${s.name}-config`, data),
                    [],
                    s.name,
                );
                deps.push(`${s.name}.config`);
            }
            if (spec.secret) {
                secretObject(
                    s,
                    { name: credentialsSecretName(s.name), keys: spec.secret(ctx) },
                    `${s.name}.secret`,
                );
                deps.push(`${s.name}.secret`);
            }
            const replicas = s.kind === "memcached" ? ((s.args as { replicas?: number }).replicas ?? 1) : 1;
            const ports: o.ServicePortPlan[] = [
                { name: pod.ports[0].name, port: spec.port, targetPort: spec.port, protocol: "TCP" },
            ];
            const a = s.args as DataServiceArgs;
            const volume = spec.dataPath
                ? { storageGb: a.storageGb ?? 10, storageClass: a.storageClass }
                : undefined;
            add(`${s.name}.headless`, o.renderHeadlessService(app, s.name, s.kind, ns, ports), [], s.name);
            add(
                `${s.name}.service`,
                o.renderService(app, s.name, s.kind, ns, "ClusterIP", ports),
                [],
                s.name,
            );
            push({
                key: `${s.name}.statefulset`,
                manifest: w.renderStatefulSet(pod, ns, replicas, `${s.name}-headless`, volume),
                dependsOn: deps,
                service: s.name,
                ...(volume ? { ignoreChanges: STATEFULSET_IGNORED } : {}),
            });
            // The volumes grow by patching the claims the controller made (they exist once the set is ready).
            for (let i = 0; volume && i < replicas; i++)
                push({
                    key: `${s.name}.claim-${i}`,
                    manifest: w.renderClaimResize(pod, ns, i, volume),
                    dependsOn: [`${s.name}.statefulset`],
                    service: s.name,
                    patch: true,
                });
            if (replicas > 1) add(`${s.name}.pdb`, w.renderPdb(pod, ns), [], s.name);
            continue;
        }
        planWorkload(s, def, { images, imageTags, roleArns }, allocated, add, secretObject, routes);
    }
    planPolicies(ordered, def, objects);
    return { services: ordered, objects, routes, nodePorts: Object.fromEntries([...allocated].sort()) };
}

type Add = (
    key: string,
    manifest: Manifest,
    dependsOn?: string[],
    service?: string,
    secret?: PlannedSecret,
    podSecrets?: readonly string[],
) => void;

interface Images {
    readonly images: Readonly<Record<string, pulumi.Input<string>>>;
    /** Content tags of built images (plain), for names that must change with the image (Jobs). */
    readonly imageTags: Readonly<Record<string, string>>;
    /** IRSA role ARNs of the services that reach file stores (with `def.webIdentity`). */
    readonly roleArns: Readonly<Record<string, pulumi.Input<string>>>;
}

/** The web identity of a service that reaches file stores, and its ServiceAccount planned; else undefined. */
function planWebIdentity(
    s: Service,
    def: AppDefinition,
    roleArns: Images["roleArns"],
    add: Add,
    deps: string[],
): PodPlan["webIdentity"] {
    const stores = storesOf(s);
    if (!def.webIdentity || stores.length === 0) return undefined;
    const roleArn = roleArns[s.name];
    if (roleArn === undefined)
        throw new Error(`service ${s.name} reaches a file store but no role was given to the plan`);
    const key = `${s.name}.service-account`;
    add(key, renderStoreServiceAccount(def.name, s.name, s.kind, def.namespace), [], s.name);
    deps.push(key);
    // Every store is in the cluster's region; the first one's Secret says which.
    return {
        serviceAccount: storeServiceAccountName(s.name),
        roleArn,
        regionSecret: credentialsSecretName(stores[0].name),
    };
}

function planWorkload(
    s: Service,
    def: AppDefinition,
    { images, imageTags, roleArns }: Images,
    allocated: Map<string, number>,
    add: Add,
    secretObject: (s: Service, secret: PlannedSecret, key: string) => void,
    routes: EdgeRoute[],
): void {
    const ns = def.namespace;
    const a = s.args as ContainerArgs & CronJobArgs & JobArgs;
    const image = typeof a.image === "string" ? a.image : images[s.name];
    if (image === undefined)
        throw new Error(`service ${s.name} builds its image but no built image was given to the plan`);
    const connections = s.connections.map((c) => planConnection(c.to, c.prefix, ns, def.webIdentity));
    const deps = s.connections.map((c) => workloadKey(c.to)).filter((k): k is string => k !== undefined);
    if (a.secretEnv && Object.keys(a.secretEnv).length > 0) {
        const keys = Object.fromEntries(Object.entries(a.secretEnv).map(([k, v]) => [k, { input: v }]));
        secretObject(s, { name: envSecretName(s.name), keys }, `${s.name}.env-secret`);
        deps.push(`${s.name}.env-secret`);
    }
    for (const job of a.after ?? []) deps.push(`${job.name}.job`);
    const webIdentity = planWebIdentity(s, def, roleArns, add, deps);
    const podSecrets = [
        ...(a.secretEnv && Object.keys(a.secretEnv).length > 0 ? [`${s.name}.env-secret`] : []),
        ...s.connections
            .filter((c) => c.to.kind === "filestore" || (isEngine(c.to.kind) && ENGINES[c.to.kind].secret))
            .map((c) => `${c.to.name}.secret`),
    ];
    const files = a.files && Object.keys(a.files).length > 0 ? a.files : undefined;
    if (files) {
        const data = Object.fromEntries(Object.entries(files).map(([path, text]) => [fileKey(path), text]));
        add(`${s.name}.files`, o.renderConfigMap(def.name, s.name, ns, `${s.name}-files`, data), [], s.name);
        deps.push(`${s.name}.files`);
    }
    const claims = (a.volumes ?? []).map((v) => ({
        claim: `${s.name}-${fileKey(v.path).toLowerCase().replace(/[._]/g, "-")}`,
        ...v,
    }));
    for (const c of claims) {
        add(
            `${s.name}.pvc-${c.claim}`,
            o.renderClaim(def.name, s.name, ns, c.claim, c.sizeGb, c.storageClass),
            [],
            s.name,
        );
        deps.push(`${s.name}.pvc-${c.claim}`);
    }
    const pub =
        s.kind === "container" || s.kind === "daemonset"
            ? publishing(s, ns, allocated, def.publish !== undefined)
            : undefined;
    const replicas = a.autoscale ? a.autoscale.maxReplicas : (a.replicas ?? 1);
    const base = userPodPlan(s, {
        app: def.name,
        image,
        connections,
        extraPorts: pub?.extraPorts ?? [],
        // Behind the edge a pod keeps serving while the worker NLB takes its node out (see publish.ts).
        ...(pub?.edge ? { preStopDefault: { sleepSeconds: EDGE_DRAIN_SECONDS } } : {}),
        replicas,
        pools: def.pools,
        ...(files
            ? {
                  files: {
                      configMap: `${s.name}-files`,
                      mounts: Object.keys(files).map((path) => ({ key: fileKey(path), path })),
                  },
                  annotations: { [CONFIG_HASH]: sha256(files) },
              }
            : {}),
        ...(claims.length > 0 ? { claims: claims.map((c) => ({ claim: c.claim, path: c.path })) } : {}),
    });
    // A backup job's dump container reads the same connection variables as the upload container.
    const dump = dumpContainer(s);
    const withDump = dump
        ? {
              ...base,
              extraInitContainers: [{ ...dump, env: base.env.map((e) => ({ ...e })) }],
              scratch: [{ path: DUMP_DIR, sizeGb: dumpVolumeGb(s) ?? 10 }],
          }
        : base;
    // Published pods stay off control-plane nodes: the edge forwards to workers only, and with
    // externalTrafficPolicy Local a pod on a master would leave every worker failing the health check.
    const placed = pub && pub.type !== "ClusterIP" ? { ...withDump, avoidControlPlane: true } : withDump;
    const pod = webIdentity ? { ...placed, webIdentity } : placed;
    const rollout: w.RolloutPlan = {
        maxUnavailable: a.maxUnavailable ?? 0,
        maxSurge: a.maxSurge ?? 1,
        // A ReadWriteOnce volume cannot be attached to a surge pod on another node.
        ...(a.strategy || claims.length > 0 ? { strategy: a.strategy ?? "Recreate" } : {}),
        ...(a.minReadySeconds !== undefined ? { minReadySeconds: a.minReadySeconds } : {}),
        ...(a.progressDeadlineSeconds !== undefined
            ? { progressDeadlineSeconds: a.progressDeadlineSeconds }
            : {}),
    };
    const addWorkload = (key: string, m: Manifest) => add(key, m, deps, s.name, undefined, podSecrets);
    if (s.kind === "cronjob") {
        addWorkload(
            `${s.name}.cronjob`,
            w.renderCronJob(pod, ns, a.schedule, a.activeDeadlineSeconds ?? 3600),
        );
        return;
    }
    if (s.kind === "job") {
        const tag = typeof a.image === "string" ? a.image : (imageTags[s.name] ?? "");
        const name = `${s.name}-${sha256([tag, w.renderJob(pod, ns, s.name, 0, 0)]).slice(0, 8)}`;
        addWorkload(
            `${s.name}.job`,
            w.renderJob(pod, ns, name, a.backoffLimit ?? 1, a.activeDeadlineSeconds ?? 600),
        );
        return;
    }
    if (s.kind === "daemonset") addWorkload(`${s.name}.daemonset`, w.renderDaemonSet(pod, ns));
    else
        addWorkload(
            `${s.name}.deployment`,
            w.renderDeployment(pod, ns, a.autoscale ? undefined : (a.replicas ?? 1), rollout),
        );
    if (pub) {
        add(
            `${s.name}.service`,
            o.renderService(
                def.name,
                s.name,
                s.kind,
                ns,
                pub.type,
                pub.ports,
                a.allowFrom,
                pub.edge && { loadBalancerClass: EDGE_LOAD_BALANCER_CLASS, ...pub.edge },
            ),
            [],
            s.name,
        );
        if (def.publish) planProxyRoutes(s, def, add);
        else if (pub.type !== "ClusterIP") routes.push(...routesOf(s, ns, pub));
    }
    if (s.kind === "daemonset") return;
    if (a.podDisruptionBudget ?? replicas > 1) add(`${s.name}.pdb`, w.renderPdb(pod, ns), [], s.name);
    if (a.autoscale) {
        const hpa: w.HpaPlan = {
            minReplicas: a.autoscale.minReplicas,
            maxReplicas: a.autoscale.maxReplicas,
            cpuPercent: a.autoscale.cpuPercent ?? (a.autoscale.memoryPercent === undefined ? 70 : undefined),
            memoryPercent: a.autoscale.memoryPercent,
            behavior: a.autoscale.behavior,
        };
        add(`${s.name}.hpa`, w.renderHpa(pod, ns, hpa), [`${s.name}.deployment`], s.name);
    }
}

/** Default deny plus exactly: one ingress and one egress rule per edge, and ingress to published services. */
function planPolicies(ordered: readonly Service[], def: AppDefinition, objects: PlannedObject[]): void {
    const ns = def.namespace;
    const keys = new Set(objects.map((x) => x.key));
    const push = (m: Manifest) => {
        const key = `netpol.${m.metadata.name}`;
        if (keys.has(key)) {
            throw new Error(
                `two NetworkPolicies would be named ${m.metadata.name}; rename one of the services it derives from`,
            );
        }
        keys.add(key);
        objects.push({ key, manifest: m, dependsOn: ["namespace"] });
    };
    for (const s of ordered) {
        for (const c of s.connections) {
            const conn = planConnection(c.to, c.prefix, ns);
            if (!conn.outside) push(o.renderEdgeIngress(def.name, ns, s.name, c.to.name, conn.ports));
            push(o.renderEdgeEgress(def.name, ns, s.name, c.to.name, conn.ports, conn.outside));
        }
        if (s.kind !== "container" && s.kind !== "daemonset") continue;
        const a = s.args as ContainerArgs | DaemonSetArgs;
        const pub = publishing(s, ns, undefined, def.publish !== undefined);
        const proxy = def.publish && httpRoutes(s).length > 0 ? proxyNamespace(def.publish) : undefined;
        if (proxy && a.port !== undefined) push(renderProxyIngress(def.name, ns, s.name, proxy, a.port));
        if (!pub || pub.type === "ClusterIP") continue;
        // A cloud load balancer delivers the clients' addresses (NLB) or its own subnets' (CLB).
        const cidrs =
            a.allowFrom ?? (pub.type === "LoadBalancer" ? ["0.0.0.0/0"] : (def.edgeSourceCidrs ?? []));
        if (cidrs.length === 0) continue;
        push(
            o.renderPublishedIngress(
                def.name,
                ns,
                s.name,
                cidrs,
                pub.ports.map((p) => ({ protocol: p.protocol, port: p.port })),
            ),
        );
    }
}
