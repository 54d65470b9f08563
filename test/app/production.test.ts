// What production services need, as rendered objects: files with a checksum, volumes, Jobs before their
// dependents, lifecycle, placement, sidecars, autoscaling and rollout, and data services sized to their
// limits. Every object passes the Kubernetes schema.
import * as assert from "node:assert/strict";
import { parse } from "yaml";
import { loadApplication } from "../../components/app/load";
import { AppPlan, PlannedObject, planApplication } from "../../components/app/plan";
import { validateApplication } from "../../components/app/validate";
import { validateManifest } from "./support/schema";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POOLS = [
    { name: "general" },
    {
        name: "data",
        labels: { "keelson.io/pool": "data" },
        taints: [{ key: "dedicated", value: "data", effect: "NoSchedule" as const }],
    },
];

/** A shop written as a declarative file: databases, a migration, config files, placement and routes. */
const SHOP = (config: string) => `
services:
  store: { kind: filestore }
  db:
    kind: postgres
    storageGb: 50
    backup: { to: store, retentionDays: 14, activeDeadlineSeconds: 7200 }
  cache: { kind: redis, evictionPolicy: noeviction, resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { cpu: "1", memory: 1Gi } } }
  queue: { kind: rabbitmq }
  migrate:
    kind: job
    image: shop/api:2.1.0
    command: [./api, migrate]
    connects: [{ to: db, as: DATABASE }]
  api:
    kind: container
    image: shop/api:2.1.0
    port: 8080
    readinessPath: /ready
    replicas: 3
    after: [migrate]
    connects: [{ to: db, as: DATABASE }, { to: cache, as: REDIS }, queue, store]
    files: { /etc/shop/config.yaml: "${config}" }
    preStop: { sleepSeconds: 15 }
    terminationGracePeriodSeconds: 45
    startupProbe: { httpGet: { path: /ready, port: 8080 }, failureThreshold: 30, periodSeconds: 2 }
    placement: { pool: general }
    sidecars: [{ name: proxy, image: envoyproxy/envoy:v1.31.2, args: [--config-path, /tmp/envoy.yaml] }]
    initContainers: [{ name: warm, image: busybox:1.37.0, command: ["true"] }]
    autoscale: { minReplicas: 3, maxReplicas: 9, memoryPercent: 80, behavior: { scaleDown: { stabilizationWindowSeconds: 600 } } }
    minReadySeconds: 5
    progressDeadlineSeconds: 300
    routes: [{ kind: http, hosts: [shop.example.com] }]
  uploads:
    kind: worker
    image: shop/api:2.1.0
    command: [./api, uploads]
    healthCommand: [./api, health]
    volumes: [{ path: /var/lib/uploads, sizeGb: 20 }]
    secretEnv: { SIGNING_KEY: signing }
`;

function plan(config = "mode: live"): AppPlan {
    const loaded = loadApplication(parse(SHOP(config)), { prefix: "shop.yaml:", secret: () => "s3cr3t" });
    assert.deepEqual(loaded.problems, []);
    const def = {
        name: "shop",
        namespace: "shop",
        services: loaded.roots,
        edgeSourceCidrs: ["10.0.192.0/22"],
        pools: POOLS,
    };
    assert.deepEqual(validateApplication(def), []);
    return planApplication(def);
}
const byKey = (p: AppPlan) =>
    Object.fromEntries(p.objects.map((o) => [o.key, o])) as Record<string, PlannedObject>;
const m = (o: PlannedObject) => o.manifest as Obj;

describe("app/production: what services need, rendered", () => {
    const p = plan();
    const objects = byKey(p);

    it("every object passes the Kubernetes schema", () => {
        for (const o of p.objects) validateManifest(o.manifest, o.key);
    });

    it("mounts files from a ConfigMap with a checksum on the pod template; a change rolls the pods", () => {
        assert.deepEqual(m(objects["api.files"]).data, { "etc-shop-config.yaml": "mode: live" });
        const tpl = m(objects["api.deployment"]).spec.template;
        const main = tpl.spec.containers[0];
        assert.deepEqual(
            main.volumeMounts.find((v: Obj) => v.name === "files"),
            {
                name: "files",
                mountPath: "/etc/shop/config.yaml",
                subPath: "etc-shop-config.yaml",
                readOnly: true,
            },
        );
        assert.deepEqual(
            tpl.spec.volumes.find((v: Obj) => v.name === "files"),
            { name: "files", configMap: { name: "api-files" } },
        );
        const hash = tpl.metadata.annotations["keelson.io/config-hash"];
        assert.match(hash, /^[0-9a-f]{64}$/);
        const changed = m(byKey(plan("mode: maintenance"))["api.deployment"]).spec.template.metadata
            .annotations["keelson.io/config-hash"];
        assert.notEqual(changed, hash);
        assert.ok(objects["api.deployment"].dependsOn.includes("api.files"));
    });

    it("marks the Secrets each workload reads, so Application hashes them onto the pod template", () => {
        assert.deepEqual(objects["api.deployment"].podSecrets, [
            "db.secret",
            "cache.secret",
            "queue.secret",
            "store.secret",
        ]);
        assert.deepEqual(objects["uploads.deployment"].podSecrets, ["uploads.env-secret"]);
    });

    it("runs the migration Job, named by its spec, before the dependents roll", () => {
        const job = m(objects["migrate.job"]);
        assert.match(job.metadata.name, /^migrate-[0-9a-f]{8}$/);
        assert.equal(job.spec.backoffLimit, 1);
        assert.equal(job.spec.activeDeadlineSeconds, 600);
        assert.equal(job.spec.template.spec.restartPolicy, "Never");
        assert.equal(job.spec.ttlSecondsAfterFinished, undefined, "a vanished Job would run again");
        assert.ok(objects["api.deployment"].dependsOn.includes("migrate.job"));
        assert.ok(objects["migrate.job"].dependsOn.includes("db.statefulset"));
    });

    it("lifecycle: preStop sleep, grace period and a startup probe", () => {
        const spec = m(objects["api.deployment"]).spec.template.spec;
        assert.equal(spec.terminationGracePeriodSeconds, 45);
        assert.deepEqual(spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 15 } } });
        assert.deepEqual(spec.containers[0].startupProbe, {
            httpGet: { path: "/ready", port: 8080 },
            failureThreshold: 30,
            periodSeconds: 2,
        });
    });

    it("placement: a pool by name; data services prefer the data pool and tolerate its taint", () => {
        const api = m(objects["api.deployment"]).spec.template.spec;
        assert.deepEqual(api.nodeSelector, { "keelson.io/pool": "general" });
        const db = m(objects["db.statefulset"]).spec.template.spec;
        assert.deepEqual(db.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution, [
            {
                weight: 50,
                preference: {
                    matchExpressions: [{ key: "keelson.io/pool", operator: "In", values: ["data"] }],
                },
            },
        ]);
        assert.deepEqual(db.tolerations, [
            { key: "dedicated", operator: "Equal", value: "data", effect: "NoSchedule" },
        ]);
        assert.equal(db.terminationGracePeriodSeconds, 120);
    });

    it("sidecars are native (restartPolicy Always) after the wait-for and init containers", () => {
        const inits = m(objects["api.deployment"]).spec.template.spec.initContainers;
        assert.deepEqual(
            inits.map((c: Obj) => [c.name, c.restartPolicy]),
            [
                ["wait-for-db", undefined],
                ["wait-for-cache", undefined],
                ["wait-for-queue", undefined],
                ["warm", undefined],
                ["proxy", "Always"],
            ],
        );
    });

    it("autoscales on memory with a behavior; rollout settings; a volume means one pod, Recreate", () => {
        const hpa = m(objects["api.hpa"]).spec;
        assert.deepEqual(hpa.metrics, [
            {
                type: "Resource",
                resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
            },
        ]);
        assert.deepEqual(hpa.behavior, { scaleDown: { stabilizationWindowSeconds: 600 } });
        const api = m(objects["api.deployment"]).spec;
        assert.equal(api.minReadySeconds, 5);
        assert.equal(api.progressDeadlineSeconds, 300);
        const uploads = m(objects["uploads.deployment"]).spec;
        assert.deepEqual(uploads.strategy, { type: "Recreate" });
        const claim = m(objects["uploads.pvc-uploads-var-lib-uploads"]);
        assert.deepEqual(claim.spec, {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "20Gi" } },
        });
        assert.deepEqual(
            uploads.template.spec.volumes.find((v: Obj) => v.persistentVolumeClaim),
            {
                name: "uploads-var-lib-uploads",
                persistentVolumeClaim: { claimName: "uploads-var-lib-uploads" },
            },
        );
    });

    it("data services: Postgres hands out a non-superuser role; Redis and RabbitMQ sized under their limits", () => {
        const db = m(objects["db.statefulset"]).spec.template.spec.containers[0];
        const env = Object.fromEntries(
            db.env.map((e: Obj) => [e.name, e.value ?? e.valueFrom.secretKeyRef.key]),
        );
        assert.equal(env.POSTGRES_USER, "postgres");
        assert.equal(env.POSTGRES_PASSWORD, "superuser-password");
        assert.equal(env.APP_USER, "app");
        assert.equal(env.APP_PASSWORD, "password");
        assert.match(
            m(objects["db.config"]).data["docker-entrypoint-initdb.d-10-app-role.sh"],
            /NOSUPERUSER/,
        );
        const cache = m(objects["cache.statefulset"]).spec.template.spec.containers[0].args;
        assert.deepEqual(cache.slice(5, 9), [
            "--maxmemory",
            String(Math.floor(2 ** 30 * 0.7)),
            "--maxmemory-policy",
            "noeviction",
        ]);
        assert.equal(
            m(objects["queue.config"]).data["etc-rabbitmq-conf.d-30-keelson.conf"],
            `vm_memory_high_watermark.absolute = ${Math.floor(2 ** 30 * 0.6)}\n`,
        );
        const queue = m(objects["queue.statefulset"]).spec.template.spec.containers[0];
        assert.equal(queue.readinessProbe.timeoutSeconds, 10);
        assert.ok(
            queue.volumeMounts.some((v: Obj) => v.mountPath === "/etc/rabbitmq/conf.d/30-keelson.conf"),
        );
    });

    it("database dumps go to a volume sized to the database (never the node's disk), with the given deadline", () => {
        const cron = m(objects["db-backup.cronjob"]).spec.jobTemplate.spec;
        assert.equal(cron.activeDeadlineSeconds, 7200);
        const vol = cron.template.spec.volumes.find((v: Obj) => v.name === "w-backup");
        assert.deepEqual(vol.ephemeral.volumeClaimTemplate.spec, {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: "50Gi" } },
        });
    });
});

describe("app/production: guards", () => {
    const problems = (yaml: string) => {
        const loaded = loadApplication(parse(yaml), { prefix: "", secret: () => "x" });
        assert.deepEqual(loaded.problems, []);
        return validateApplication({
            name: "shop",
            namespace: "shop",
            services: loaded.roots,
            pools: POOLS,
        }).map((p) => p.message);
    };
    it("refuses a volume on a replicated workload, a preStop longer than the grace period, an unknown pool, a non-job after", () => {
        assert.deepEqual(
            problems(`
services:
  db: { kind: postgres }
  a: { kind: container, image: "x/a:1.0", port: 80, replicas: 2, volumes: [{ path: /data, sizeGb: 1 }] }
  b: { kind: container, image: "x/b:1.0", port: 80, preStop: { sleepSeconds: 40 }, placement: { pool: gpu } }
  c: { kind: container, image: "x/c:1.0", port: 80, after: [db], sidecars: [{ name: c, image: "envoy:latest" }] }
`),
            [
                "services.a.volumes: a ReadWriteOnce volume serves one pod; use replicas 1 without autoscale, or a data service",
                'services.b.placement.pool: "gpu" is not a worker pool of this cluster; use one of general, data',
                "services.b.preStop.sleepSeconds: 40 is not below terminationGracePeriodSeconds 30; the pod would be killed while draining; raise the grace period",
                'services.c.after[0]: postgres "db" is not a job; list services made by job() only',
                'services.c.sidecars[0].name: "c" is used by another container of the pod; give each a unique name',
                'services.c.sidecars[0].image: "envoy:latest" is not pinned; use a version tag or a digest',
            ],
        );
    });

    it("refuses a grace period too short for the edge's drain on a routed service, and only there", () => {
        assert.deepEqual(
            problems(`
services:
  web: { kind: container, image: "x/w:1.0", port: 80, terminationGracePeriodSeconds: 10, routes: [{ kind: http, hosts: [a.example.com] }] }
  own: { kind: container, image: "x/o:1.0", port: 80, terminationGracePeriodSeconds: 10, preStop: { sleepSeconds: 5 }, routes: [{ kind: http, hosts: [b.example.com] }] }
  inner: { kind: container, image: "x/i:1.0", port: 80, terminationGracePeriodSeconds: 10 }
`),
            [
                "services.web.terminationGracePeriodSeconds: 10 leaves no time to stop: a service behind the edge sleeps 15 s in preStop while the worker load balancer takes its node out; raise it above 15, or set preStop yourself",
            ],
        );
    });
});
