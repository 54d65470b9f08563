// The application Keelson ships: a web service published on 443 through the edge, a background worker,
// Postgres, Redis, Memcached, RabbitMQ and an S3 file store, sized per stage from `keelson:app`.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Application } from "./Application";
import { container, fileStore, memcached, postgres, rabbitmq, redis, worker } from "./services";
import { Service } from "./types";

/**
 * podinfo: a small Go web service that listens on a configurable port and answers `/healthz` (alive)
 * and `/readyz` (ready) separately, so the probes are real. Runs as any non-root uid.
 */
export const REFERENCE_IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";

/** Arguments of the reference application. */
export interface ReferenceAppArgs {
    /** Provider of the target cluster. */
    readonly provider: k8s.Provider;
    /** Public hostname of the web service. Default `<stack>.keelson.example.com`. */
    readonly hostname?: string;
    /** Replicas of the web service; more than 1 autoscales up to three times this. Default 1. */
    readonly webReplicas?: number;
    /** Replicas of the background worker. Default 1. */
    readonly workerReplicas?: number;
    /** Persistent volume size of each database, GiB. Default 10. */
    readonly databaseStorageGb?: number;
    /** Kubernetes namespace of the application. Default `app`. */
    readonly namespace?: string;
    /** Public subnet CIDRs of the edge hosts. Default none (nothing outside the cluster reaches the web service). */
    readonly edgeSourceCidrs?: readonly string[];
    /** What the application waits for (e.g. the add-ons: CNI and StorageClass). Default none. */
    readonly dependsOn?: readonly pulumi.Resource[];
}

/**
 * Builds the reference application. Postgres is dumped hourly to the file store (CronJob `db-backup`). With one web replica (dev) everything is single; with more (prod)
 * the web service is autoscaled from `webReplicas` up to three times that, and memcached runs two pods.
 */
export function referenceApp(
    name: string,
    args: ReferenceAppArgs,
    opts: pulumi.ComponentResourceOptions = {},
): Application {
    return new Application(
        name,
        {
            namespace: args.namespace ?? "app",
            services: referenceServices(args),
            provider: args.provider,
            edgeSourceCidrs: args.edgeSourceCidrs,
            dependsOn: args.dependsOn,
        },
        opts,
    );
}

/**
 * The reference application's services (web and worker, and what they connect to) as plain values,
 * with the defaults of {@link ReferenceAppArgs}: what {@link referenceApp} deploys, for checks made
 * before anything is registered.
 */
export function referenceServices(
    args: Omit<ReferenceAppArgs, "provider" | "edgeSourceCidrs" | "dependsOn">,
): Service[] {
    const cfg = {
        hostname: args.hostname ?? `${pulumi.getStack().toLowerCase()}.keelson.example.com`,
        webReplicas: args.webReplicas ?? 1,
        workerReplicas: args.workerReplicas ?? 1,
        databaseStorageGb: args.databaseStorageGb ?? 10,
    };
    const replicated = cfg.webReplicas > 1;
    const files = fileStore("files");
    // Hourly pg_dump to the file store: one replica plus off-volume dumps.
    const db = postgres("db", { storageGb: cfg.databaseStorageGb, backup: { to: files } });
    const cache = redis("cache", { storageGb: Math.max(1, Math.ceil(cfg.databaseStorageGb / 10)) });
    const sessions = memcached("sessions", { replicas: replicated ? 2 : 1, memoryMb: 64 });
    const queue = rabbitmq("queue", { storageGb: cfg.databaseStorageGb });
    const web = container("web", {
        image: REFERENCE_IMAGE,
        command: ["./podinfo"],
        args: ["--port=3000", "--port-metrics=9797", "--level=info"],
        port: 3000,
        readinessPath: "/readyz",
        livenessPath: "/healthz",
        // podinfo keeps uploads under /data.
        writablePaths: ["/data"],
        env: { PODINFO_UI_MESSAGE: "Keelson reference application" },
        ...(replicated
            ? {
                  autoscale: {
                      minReplicas: cfg.webReplicas,
                      maxReplicas: cfg.webReplicas * 3,
                      cpuPercent: 70,
                  },
              }
            : { replicas: cfg.webReplicas }),
        connects: [
            { to: db, as: "DATABASE" },
            { to: cache, as: "REDIS" },
            { to: sessions, as: "MEMCACHED" },
            { to: queue, as: "AMQP" },
            { to: files, as: "S3" },
        ],
        routes: [{ kind: "http", hosts: [cfg.hostname], path: "/", healthPath: "/readyz" }],
    });
    const jobs = worker("worker", {
        image: REFERENCE_IMAGE,
        command: ["./podinfo"],
        args: ["--port=8080", "--level=info"],
        replicas: cfg.workerReplicas,
        healthPort: 8080,
        readinessPath: "/readyz",
        livenessPath: "/healthz",
        writablePaths: ["/data"],
        connects: [
            { to: db, as: "DATABASE" },
            { to: queue, as: "AMQP" },
            { to: cache, as: "REDIS" },
            { to: files, as: "S3" },
        ],
    });
    return [web, jobs];
}
