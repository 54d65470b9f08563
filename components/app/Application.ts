import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createHmac } from "crypto";
import { Artifacts, ArtifactSet } from "../artifact-set";
import { createServiceAccountRole, ServiceAccountRole, WebIdentityIssuer } from "../cluster/irsa";
import { EdgeRoute } from "../edge/types";
import { FileStore } from "./FileStore";
import {
    fileStorePolicy,
    storeRoleName,
    storeRoleNameProblems,
    storeServiceAccountName,
    storesOf,
} from "./file-store-access";
import { SECRET_HASH } from "./hash";
import { backupPrefixes, withPodAnnotation } from "./pod-template";
import { backupTarget, expandedOrder } from "./backups";
import { ImageBuild } from "./ImageBuild";
import { createObject, manifestPath } from "./k8s-objects";
import { AppPlan, PlannedObject, planApplication } from "./plan";
import { servicePort } from "./connections";
import { Manifest, PlannedSecret, credentialsSecretName, serviceHost } from "./render/meta";
import { PoolInfo } from "./placement";
import { PublishVia } from "./render/routes";
import { FileStoreArgs, Service } from "./types";
import { AppDefinition, AppProblem, validateApplication } from "./validate";
import { toYaml } from "../core/yaml";

/** Arguments of an Application. */
export interface ApplicationArgs {
    /** Namespace of every object (created, with the "restricted" Pod Security Standard). Default the application name. */
    readonly namespace?: string;
    /** The services; their dependencies are included even when not listed. */
    readonly services: readonly Service[];
    /** Provider of the target cluster: a Keelson cluster's, or one built from any kubeconfig. */
    readonly provider: k8s.Provider;
    /**
     * CIDRs the edge's traffic arrives from, allowed to reach published services: on a Keelson cluster the
     * workers' internal NLB's subnets (the private subnets; it does not preserve client addresses).
     * Plain values: the NetworkPolicies are rendered at construction. Default none (nothing outside can reach them).
     */
    readonly edgeSourceCidrs?: readonly string[];
    /** NodePorts other applications use, so allocation avoids them. Default none. */
    readonly nodePortsInUse?: readonly number[];
    /** Worker pools of the cluster, for `placement.pool` (name, labels, taints). Default unknown: any pool name is accepted. */
    readonly pools?: readonly PoolInfo[];
    /**
     * Publish HTTP routes through the cluster's own proxy instead of Keelson's edge: HTTPRoutes on a Gateway
     * (Gateway API) or Ingresses of an IngressClass, routed services as ClusterIP, and a NetworkPolicy that
     * admits only the proxy's namespace. Default none: routes are NodePorts for the edge.
     */
    readonly publish?: PublishVia;
    /**
     * Create the namespace (labelled for the "restricted" Pod Security Standard). Default true; false
     * deploys into an existing namespace, e.g. on a cluster Keelson did not make.
     */
    readonly createNamespace?: boolean;
    /** Resources the namespace (and so every object) waits for, e.g. the cluster add-ons. Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
    /**
     * The cluster's service-account issuer (a Keelson cluster's `cluster.webIdentity`): every service with
     * an edge to a file store gets ServiceAccount `<service>-aws` and its own IRSA role `<name>-<service>-role`,
     * assumable only by that ServiceAccount, allowed exactly its stores (a database's backup job: only
     * putting objects under its `backups/<db>/`), and no IAM user or access key exists. Default none: each
     * file store has an IAM user whose long-lived access key its consumers read from the store's Secret,
     * which works on any cluster (app-only mode on a cluster Keelson did not make).
     */
    readonly webIdentity?: WebIdentityIssuer;
}

/** Connection info of a service, as `Application.connection` returns it. */
export interface ServiceConnection {
    /** `<service>.<namespace>.svc`. */
    readonly host: string;
    /** The port dependents connect to; undefined for services without one. */
    readonly port?: number;
    /** Connection URL with credentials (secret), for services that have them. */
    readonly url?: pulumi.Output<string>;
    readonly username?: pulumi.Output<string>;
    /** Generated password (secret). */
    readonly password?: pulumi.Output<string>;
}

/** Thrown before anything is registered when the service graph is invalid; lists every problem. */
export class ApplicationError extends Error {
    constructor(
        readonly application: string,
        readonly problems: readonly AppProblem[],
    ) {
        super(
            `application ${application} is invalid:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
        );
        this.name = "ApplicationError";
    }
}

function validated(name: string, def: AppDefinition, opts: pulumi.ComponentResourceOptions) {
    const problems = [
        ...validateApplication(def),
        ...(def.webIdentity ? storeRoleNameProblems(name, expandedOrder(def.services).ordered) : []),
    ];
    if (problems.length > 0) throw new ApplicationError(name, problems);
    return opts;
}

/**
 * An application: a typed graph of services deployed onto a Kubernetes cluster. Every edge becomes
 * connection variables (credentials through `secretKeyRef`), a wait-for initContainer plus `dependsOn`
 * on the dependency's workload, and a NetworkPolicy path; everything else is denied. Needs only a
 * Kubernetes provider (and AWS for file stores and image builds), never the VM layer.
 */
export class Application extends pulumi.ComponentResource {
    /** Routes to hand to the Edge component: plain values known at construction. */
    readonly routes: readonly EdgeRoute[];
    readonly namespace: string;
    /** The plan the resources were created from. */
    readonly plan: AppPlan;
    /** Every Kubernetes resource by plan key (`web.deployment`, `db.secret`, `netpol.web-to-db`, ...). */
    readonly objects: Readonly<Record<string, pulumi.CustomResource>>;
    /** File stores by service name. */
    readonly fileStores: Readonly<Record<string, FileStore>>;
    /** With `webIdentity`: the IRSA role of each service that reaches a file store, by service name. */
    readonly roles: Readonly<Record<string, aws.iam.Role>>;
    /**
     * What this component rendered, by path under the plan's output folder (`manifests/<namespace>/<kind>-<name>.yaml`). Also
     * registered as the component's `artifacts` output.
     */
    readonly artifacts: Artifacts;
    /** Resolved credentials Secret data by service name (every value a Pulumi secret). */
    private readonly secretData: Record<string, Record<string, pulumi.Output<string>>> = {};

    constructor(name: string, args: ApplicationArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const def: AppDefinition = {
            name,
            namespace: args.namespace ?? name,
            services: args.services,
            edgeSourceCidrs: args.edgeSourceCidrs,
            nodePortsInUse: args.nodePortsInUse,
            pools: args.pools,
            publish: args.publish,
            webIdentity: args.webIdentity !== undefined,
        };
        super("keelson:app:Application", name, {}, validated(name, def, opts));
        this.namespace = def.namespace;
        const artifacts = new ArtifactSet();

        const images: Record<string, pulumi.Input<string>> = {};
        const tags: Record<string, string> = {};
        const fileStores: Record<string, FileStore> = {};
        for (const s of expandedOrder(args.services).ordered) {
            const image = (s.args as { image?: unknown }).image;
            if (image && typeof image === "object") {
                const build = new ImageBuild(
                    `${name}-${s.name}`,
                    image as ConstructorParameters<typeof ImageBuild>[1],
                    { parent: this },
                );
                images[s.name] = build.imageName;
                tags[s.name] = build.tag;
            }
            if (s.kind === "filestore") {
                const backups = backupPrefixes(s, args.services);
                fileStores[s.name] = new FileStore(
                    `${name}-${s.name}`,
                    {
                        ...(s.args as FileStoreArgs),
                        ...(backups.length > 0 ? { backups } : {}),
                        accessKey: args.webIdentity === undefined,
                    },
                    { parent: this },
                );
            }
        }
        this.fileStores = fileStores;
        const identities = args.webIdentity
            ? this.storeRoles(name, args.webIdentity, fileStores, args.services)
            : {};
        this.roles = Object.fromEntries(Object.entries(identities).map(([k, r]) => [k, r.role]));
        const roleArns = Object.fromEntries(Object.entries(identities).map(([k, r]) => [k, r.role.arn]));
        this.plan = planApplication(def, images, tags, roleArns);
        this.routes = this.plan.routes;

        const created: Record<string, pulumi.CustomResource> = {};
        const secretValues: Record<string, Record<string, pulumi.Output<string>>> = {};
        const createNamespace = args.createNamespace ?? true;
        // Without a namespace object, the gate is what every object waits for instead.
        const gate = [...(args.dependsOn ?? [])];
        for (const obj of this.plan.objects) {
            if (obj.key === "namespace" && !createNamespace) continue;
            const waits =
                obj.key === "namespace"
                    ? gate
                    : obj.dependsOn.flatMap((k) =>
                          k === "namespace" && !createNamespace ? gate : [created[k]],
                      );
            // A ServiceAccount exists once its role can be assumed; its pods wait for it.
            const role = obj.manifest.kind === "ServiceAccount" ? identities[obj.service ?? ""] : undefined;
            if (role) waits.push(role.role, ...role.policies);
            const opts: pulumi.CustomResourceOptions = {
                provider: args.provider,
                parent: this,
                dependsOn: waits,
            };
            let manifest = obj.secret ? this.secretManifest(name, obj, obj.secret) : obj.manifest;
            if (obj.secret)
                secretValues[obj.key] = (
                    manifest as unknown as { stringData: Record<string, pulumi.Output<string>> }
                ).stringData;
            // The pods roll when a Secret they read changes: a keyed hash of the values (not the values).
            if (obj.podSecrets)
                manifest = withPodAnnotation(
                    manifest,
                    SECRET_HASH,
                    this.secretHash(name, obj.podSecrets, secretValues),
                );
            created[obj.key] = createObject(
                `${name}-${obj.key}`,
                manifest,
                {
                    ...opts,
                    ...(obj.secret ? { additionalSecretOutputs: ["data", "stringData"] } : {}),
                    ...(obj.ignoreChanges ? { ignoreChanges: [...obj.ignoreChanges] } : {}),
                },
                obj.patch,
            );
            // Only a built image makes a manifest hold an Output; the others are plain and rendered now.
            // The secret hash is shown as a placeholder: it is computed from the real values at deploy.
            const built = obj.service !== undefined && (obj.service in images || obj.service in roleArns);
            const shown = obj.podSecrets
                ? withPodAnnotation(obj.manifest, SECRET_HASH, "(hmac of the Secrets read)")
                : obj.manifest;
            artifacts.add(
                manifestPath(obj.manifest),
                built
                    ? pulumi.output(shown as Record<string, unknown>).apply((m) => toYaml(m))
                    : toYaml(shown),
            );
        }
        this.objects = created;
        this.artifacts = artifacts.files;
        this.registerOutputs({ namespace: this.namespace, routes: this.routes, artifacts: this.artifacts });
    }

    /**
     * One IRSA role per service that reaches file stores, trusted only by its ServiceAccount in the
     * application's namespace; its inline policy holds each store's grant (a backup job's only puts objects
     * under its prefix).
     */
    private storeRoles(
        name: string,
        issuer: WebIdentityIssuer,
        stores: Readonly<Record<string, FileStore>>,
        services: readonly Service[],
    ): Record<string, ServiceAccountRole> {
        const roles: Record<string, ServiceAccountRole> = {};
        for (const s of expandedOrder(services).ordered) {
            const reached = storesOf(s).map((st) => stores[st.name]);
            if (reached.length === 0) continue;
            const backup = backupTarget(s);
            const scope = (st: FileStore) =>
                backup && stores[backup.store.name] === st ? backup.prefix : undefined;
            const policy = pulumi
                .all(reached.map((st) => st.bucket.arn))
                .apply((arns) =>
                    JSON.stringify(
                        fileStorePolicy(arns.map((arn, i) => reached[i].grant(arn, scope(reached[i])))),
                    ),
                );
            roles[s.name] = createServiceAccountRole(
                storeRoleName(name, s.name),
                {
                    issuer,
                    serviceAccount: { namespace: this.namespace, name: storeServiceAccountName(s.name) },
                    policy,
                    tags: { "keelson:application": name, "keelson:service": s.name },
                },
                this,
            );
        }
        return roles;
    }

    private hashKey?: pulumi.Output<string>;

    /**
     * HMAC-SHA-256 of the Secrets a workload reads, keyed with a generated key, so the annotation changes
     * with any value but reveals nothing about low-entropy ones. Not a Pulumi secret: it is safe to show.
     */
    private secretHash(
        name: string,
        keys: readonly string[],
        values: Record<string, Record<string, pulumi.Output<string>>>,
    ): pulumi.Output<string> {
        this.hashKey ??= new random.RandomPassword(
            `${name}-secret-hash-key`,
            { length: 32, special: false },
            { parent: this },
        ).result;
        const entries = keys.flatMap((k) =>
            Object.entries(values[k] ?? {}).map(([field, v]) => pulumi.all([k, field, v])),
        );
        return pulumi.unsecret(
            pulumi
                .all([this.hashKey, pulumi.all(entries)])
                .apply(([key, list]) => createHmac("sha256", key).update(JSON.stringify(list)).digest("hex")),
        );
    }

    /**
     * Typed connection info of one of this application's services, for stack outputs or programs outside
     * the cluster: the in-cluster host and port, and for services with credentials the URL, user and
     * password as Pulumi secrets. Throws for a service that is not part of the application.
     */
    connection(service: Service): ServiceConnection {
        if (!this.plan.services.includes(service)) {
            throw new Error(`service ${service.name} is not part of application ${this.namespace}`);
        }
        const data = this.secretData[service.name] ?? {};
        return {
            host: serviceHost(service.name, this.namespace),
            port: servicePort(service),
            ...(data.url ? { url: data.url } : {}),
            ...(data.username ? { username: data.username } : {}),
            ...(data.password ? { password: data.password } : {}),
        };
    }

    /** The real Secret: each key resolved from its source, all of them Pulumi secrets. */
    private secretManifest(name: string, obj: PlannedObject, secret: PlannedSecret): Manifest {
        const service = obj.service ?? "";
        let password: pulumi.Output<string> | undefined = undefined;
        const stringData: Record<string, pulumi.Output<string>> = {};
        for (const [key, source] of Object.entries(secret.keys)) {
            let value: pulumi.Input<string>;
            if ("generate" in source) {
                const generated = new random.RandomPassword(
                    `${name}-${obj.key}-${key}`,
                    { length: 32, special: false },
                    { parent: this },
                ).result;
                if (key === "password") password = generated;
                value = generated;
            } else if ("template" in source) {
                value = source.template;
            } else if ("input" in source) {
                value = source.input;
            } else {
                const store = this.fileStores[service];
                const v = source.fileStore === "bucket" ? store.bucketName : store[source.fileStore];
                if (v === undefined) throw new Error(`file store ${service} has no ${source.fileStore}`);
                value = v;
            }
            stringData[key] = pulumi.secret(value);
        }
        for (const [key, source] of Object.entries(secret.keys)) {
            if ("template" in source && source.template.includes("{password}") && password) {
                stringData[key] = pulumi.secret(
                    password.apply((p) => source.template.replace("{password}", p)),
                );
            }
        }
        if (secret.name === credentialsSecretName(service)) this.secretData[service] = stringData;
        return { ...obj.manifest, stringData };
    }
}
