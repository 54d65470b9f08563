// The stage's application: the services `keelson:app` declares (a service file, inline services, or the
// shipped reference app in reference-app.yaml, sized per stage), as one Application.
import * as fs from "fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { Application } from "./Application";
import { loadApplication } from "./load";
import type { WebIdentityIssuer } from "../cluster/irsa";
import { PoolInfo } from "./placement";
import { PublishVia } from "./render/routes";
import { REFERENCE_APP_FILE, ReferenceSizing, referenceVars } from "./reference-app-file";
import { Service } from "./types";

/**
 * podinfo: a small Go web service that listens on a configurable port and answers `/healthz` (alive)
 * and `/readyz` (ready) separately, so the probes are real. Runs as any non-root uid.
 */
export const REFERENCE_IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";

/** Arguments of the stage's application. */
export interface ReferenceAppArgs {
    /** Provider of the target cluster. */
    readonly provider: k8s.Provider;
    /**
     * The application's services (a stage's service file, already loaded into the typed graph). Default
     * the reference application from reference-app.yaml, sized by the fields below.
     */
    readonly services?: readonly Service[];
    /** Public hostname of the reference web service. Default `<stack>.keelson.example.com`. */
    readonly hostname?: string;
    /** Replicas of the reference web service; more than 1 autoscales up to three times this. Default 1. */
    readonly webReplicas?: number;
    /** Replicas of the reference background worker. Default 1. */
    readonly workerReplicas?: number;
    /** Persistent volume size of each reference database, GiB. Default 10. */
    readonly databaseStorageGb?: number;
    /** Kubernetes namespace of the application. Default `app`. */
    readonly namespace?: string;
    /** Public subnet CIDRs of the edge hosts. Default none (nothing outside the cluster reaches the web service). */
    readonly edgeSourceCidrs?: readonly string[];
    /** Worker pools of the cluster (placement by pool name). Default unknown: any pool name is accepted. */
    readonly pools?: readonly PoolInfo[];
    /** HTTP routes through the cluster's own Gateway or Ingress controller (app-only mode). Default the edge. */
    readonly publish?: PublishVia;
    /** What the application waits for (e.g. the add-ons: CNI and StorageClass). Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
    /**
     * The cluster's service-account issuer: file-store consumers assume IRSA roles of their own (see
     * `ApplicationArgs.webIdentity`). Default none: each file store has an IAM user with an access key.
     */
    readonly webIdentity?: WebIdentityIssuer;
}

/**
 * The application's services: `args.services` when given (a stage's service file, already loaded), else
 * the reference application loaded from reference-app.yaml with the given sizing: web (published on 443
 * through the edge), worker, Postgres (dumped hourly to the file store), Redis, Memcached, RabbitMQ and
 * an S3 file store. What {@link referenceApp} deploys, for checks made before anything is registered.
 */
export function referenceServices(
    args: Omit<ReferenceAppArgs, "provider" | "edgeSourceCidrs" | "dependsOn" | "webIdentity">,
): readonly Service[] {
    if (args.services) return args.services;
    const sizing: ReferenceSizing = {
        hostname: args.hostname ?? `${pulumi.getStack().toLowerCase()}.keelson.example.com`,
        webReplicas: args.webReplicas ?? 1,
        workerReplicas: args.workerReplicas ?? 1,
        databaseStorageGb: args.databaseStorageGb ?? 10,
    };
    const loaded = loadApplication(parse(fs.readFileSync(REFERENCE_APP_FILE, "utf8")), {
        prefix: "reference-app.yaml:",
        vars: { ...sizing, ...referenceVars(sizing) },
    });
    if (loaded.problems.length > 0) throw new Error(loaded.problems.map((p) => p.message).join("\n"));
    return loaded.roots;
}

/**
 * Builds the stage's application: `services` when given, else the reference application (with one web
 * replica everything is single; with more the web service autoscales up to three times that and
 * memcached runs two pods).
 */
export function referenceApp(
    name: string,
    args: ReferenceAppArgs,
    opts: pulumi.ComponentResourceOptions = {},
): Application {
    const services = referenceServices(args);
    return new Application(
        name,
        {
            namespace: args.namespace ?? "app",
            services,
            provider: args.provider,
            edgeSourceCidrs: args.edgeSourceCidrs,
            pools: args.pools,
            ...(args.publish ? { publish: args.publish } : {}),
            dependsOn: args.dependsOn,
            ...(args.webIdentity ? { webIdentity: args.webIdentity } : {}),
        },
        opts,
    );
}
