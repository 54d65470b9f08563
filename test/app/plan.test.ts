import * as assert from "node:assert/strict";
import { PlannedObject, planApplication } from "../../components/app/plan";
import { Manifest } from "../../components/app/render/meta";
import * as sv from "../../components/app/services";
import { AppDefinition } from "../../components/app/validate";
import { validateManifest } from "./support/schema";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";

/** One service of every kind, and edges of every shape. */
function everyKind(): AppDefinition {
    const db = sv.postgres("db", { storageGb: 20 });
    const sql = sv.mysql("sql");
    const cache = sv.redis("cache");
    const mc = sv.memcached("mc", { replicas: 2 });
    const mq = sv.rabbitmq("mq");
    const files = sv.fileStore("files");
    const pay = sv.externalService("pay", { host: "api.pay.example.com", port: 443, scheme: "https" });
    const api = sv.container("api", { image: IMAGE, port: 8080, connects: [sql] });
    const web = sv.container("web", {
        image: IMAGE,
        port: 3000,
        replicas: 2,
        readinessPath: "/readyz",
        livenessPath: "/healthz",
        secretEnv: { SESSION_KEY: "s3cr3t" },
        connects: [{ to: db, as: "DATABASE" }, cache, mc, mq, files, pay, api],
        routes: [
            { kind: "http", hosts: ["shop.example.com"], path: "/" },
            { kind: "tcp", listenPort: 7000, port: 7000 },
        ],
    });
    const jobs = sv.worker("jobs", { image: IMAGE, healthPort: 8081, connects: [mq] });
    const agent = sv.daemonSet("agent", { image: IMAGE, healthCommand: ["true"] });
    const nightly = sv.cronJob("nightly", { image: IMAGE, schedule: "0 3 * * *", connects: [db] });
    return {
        name: "shop",
        namespace: "shop",
        services: [web, jobs, agent, nightly],
        edgeSourceCidrs: ["10.0.192.0/22", "10.0.196.0/22"],
    };
}

const find = (objects: readonly PlannedObject[], key: string) => {
    const o = objects.find((x) => x.key === key);
    if (!o) throw new Error(`no object ${key}`);
    return o;
};
type Pod = { spec: { containers: { env?: unknown[] }[]; initContainers?: { name: string }[] } };
const podOf = (m: Manifest) => (m.spec as { template: Pod }).template;

describe("app/plan: the whole graph as plain objects", () => {
    const plan = planApplication(everyKind());

    it("orders dependencies before dependents and includes unlisted dependencies", () => {
        assert.deepEqual(
            plan.services.map((s) => s.name),
            ["db", "cache", "mc", "mq", "files", "pay", "sql", "api", "web", "jobs", "agent", "nightly"],
        );
    });

    it("plans exactly these objects, each kind with its own", () => {
        assert.deepEqual(
            plan.objects.map((o) => `${o.key}:${o.manifest.kind}`),
            [
                "namespace:Namespace",
                "netpol.default-deny:NetworkPolicy",
                "netpol.allow-dns:NetworkPolicy",
                ...["db", "cache", "mq"].flatMap((s) => [
                    // Postgres's role script and RabbitMQ's conf.d file.
                    ...(s === "cache" ? [] : [`${s}.config:ConfigMap`]),
                    `${s}.secret:Secret`,
                    `${s}.headless:Service`,
                    `${s}.service:Service`,
                    `${s}.statefulset:StatefulSet`,
                    // Its volume grows by this patch of the claim the StatefulSet made.
                    `${s}.claim-0:PersistentVolumeClaim`,
                    ...(s === "cache"
                        ? [
                              "mc.headless:Service",
                              "mc.service:Service",
                              "mc.statefulset:StatefulSet",
                              "mc.pdb:PodDisruptionBudget",
                          ]
                        : []),
                ]),
                "files.secret:Secret",
                "pay.service:Service",
                "sql.secret:Secret",
                "sql.headless:Service",
                "sql.service:Service",
                "sql.statefulset:StatefulSet",
                "sql.claim-0:PersistentVolumeClaim",
                "api.deployment:Deployment",
                "api.service:Service",
                "web.env-secret:Secret",
                "web.deployment:Deployment",
                "web.service:Service",
                "web.pdb:PodDisruptionBudget",
                "jobs.deployment:Deployment",
                "agent.daemonset:DaemonSet",
                "nightly.cronjob:CronJob",
                "netpol.sql-from-api:NetworkPolicy",
                "netpol.api-to-sql:NetworkPolicy",
                "netpol.db-from-web:NetworkPolicy",
                "netpol.web-to-db:NetworkPolicy",
                "netpol.cache-from-web:NetworkPolicy",
                "netpol.web-to-cache:NetworkPolicy",
                "netpol.mc-from-web:NetworkPolicy",
                "netpol.web-to-mc:NetworkPolicy",
                "netpol.mq-from-web:NetworkPolicy",
                "netpol.web-to-mq:NetworkPolicy",
                "netpol.web-to-files:NetworkPolicy",
                "netpol.web-to-pay:NetworkPolicy",
                "netpol.api-from-web:NetworkPolicy",
                "netpol.web-to-api:NetworkPolicy",
                "netpol.web-from-outside:NetworkPolicy",
                "netpol.mq-from-jobs:NetworkPolicy",
                "netpol.jobs-to-mq:NetworkPolicy",
                "netpol.db-from-nightly:NetworkPolicy",
                "netpol.nightly-to-db:NetworkPolicy",
            ],
        );
    });

    it("validates every planned manifest against the Kubernetes schema", () => {
        for (const o of plan.objects) validateManifest(o.manifest, o.key);
    });

    it("orders each workload after its dependencies' workloads and its own Secrets", () => {
        assert.deepEqual(find(plan.objects, "web.deployment").dependsOn, [
            "namespace",
            "db.statefulset",
            "cache.statefulset",
            "mc.statefulset",
            "mq.statefulset",
            "files.secret",
            "pay.service",
            "api.deployment",
            "web.env-secret",
        ]);
        assert.deepEqual(plan.objects.find((o) => o.key === "db.statefulset")?.dependsOn, [
            "namespace",
            "db.config",
            "db.secret",
        ]);
        assert.deepEqual(plan.objects.find((o) => o.key === "nightly.cronjob")?.dependsOn, [
            "namespace",
            "db.statefulset",
        ]);
    });

    it("hands each edge's connection info as env, credentials only through secretKeyRef", () => {
        const ref = (name: string, secret: string, key: string) => ({
            name,
            valueFrom: { secretKeyRef: { name: secret, key } },
        });
        const env = podOf(find(plan.objects, "web.deployment").manifest).spec.containers[0].env;
        assert.deepEqual(env, [
            ref("SESSION_KEY", "web-env", "SESSION_KEY"),
            { name: "DATABASE_HOST", value: "db.shop.svc" },
            { name: "DATABASE_PORT", value: "5432" },
            { name: "DATABASE_NAME", value: "app" },
            { name: "DATABASE_USER", value: "app" },
            ref("DATABASE_PASSWORD", "db-credentials", "password"),
            ref("DATABASE_URL", "db-credentials", "url"),
            { name: "CACHE_HOST", value: "cache.shop.svc" },
            { name: "CACHE_PORT", value: "6379" },
            ref("CACHE_PASSWORD", "cache-credentials", "password"),
            ref("CACHE_URL", "cache-credentials", "url"),
            { name: "MC_HOST", value: "mc.shop.svc" },
            { name: "MC_PORT", value: "11211" },
            { name: "MC_SERVERS", value: "mc-0.mc-headless.shop.svc:11211,mc-1.mc-headless.shop.svc:11211" },
            { name: "MQ_HOST", value: "mq.shop.svc" },
            { name: "MQ_PORT", value: "5672" },
            { name: "MQ_USER", value: "app" },
            ref("MQ_PASSWORD", "mq-credentials", "password"),
            ref("MQ_URL", "mq-credentials", "url"),
            ref("FILES_BUCKET", "files-credentials", "bucket"),
            ref("FILES_REGION", "files-credentials", "region"),
            ref("FILES_ACCESS_KEY_ID", "files-credentials", "access-key-id"),
            ref("FILES_SECRET_ACCESS_KEY", "files-credentials", "secret-access-key"),
            ref("FILES_URL", "files-credentials", "url"),
            { name: "PAY_HOST", value: "pay.shop.svc" },
            { name: "PAY_PORT", value: "443" },
            { name: "PAY_URL", value: "https://api.pay.example.com:443" },
            { name: "API_HOST", value: "api.shop.svc" },
            { name: "API_PORT", value: "8080" },
            { name: "API_URL", value: "http://api.shop.svc:8080" },
        ]);
        const api = podOf(find(plan.objects, "api.deployment").manifest).spec.containers[0].env;
        assert.deepEqual(api?.slice(2), [
            { name: "SQL_NAME", value: "app" },
            { name: "SQL_USER", value: "app" },
            ref("SQL_PASSWORD", "sql-credentials", "password"),
            ref("SQL_URL", "sql-credentials", "url"),
        ]);
    });

    it("waits for every in-cluster dependency's port, not for S3 or external services", () => {
        const init = podOf(find(plan.objects, "web.deployment").manifest).spec.initContainers?.map(
            (c) => c.name,
        );
        assert.deepEqual(init, [
            "wait-for-db",
            "wait-for-cache",
            "wait-for-mc",
            "wait-for-mq",
            "wait-for-api",
        ]);
    });

    it("opens exactly one ingress and one egress rule per declared edge, plus the edge hosts", () => {
        const policies = plan.objects
            .filter((o) => o.manifest.kind === "NetworkPolicy")
            .map((o) => o.manifest);
        const edges = policies
            .filter((p) => p.metadata.name !== "default-deny" && p.metadata.name !== "allow-dns")
            .map((p) => {
                const spec = p.spec as {
                    podSelector: { matchLabels: Record<string, string> };
                    ingress?: { from: unknown[]; ports: { port: number }[] }[];
                    egress?: { to: unknown[]; ports: { port: number }[] }[];
                };
                const self = spec.podSelector.matchLabels["app.kubernetes.io/name"];
                const rule = spec.ingress?.[0] ?? spec.egress?.[0];
                const peers = (spec.ingress?.[0]?.from ?? spec.egress?.[0]?.to ?? []).map((x) => {
                    const peer = x as {
                        podSelector?: { matchLabels: Record<string, string> };
                        ipBlock?: { cidr: string };
                    };
                    return peer.podSelector?.matchLabels["app.kubernetes.io/name"] ?? peer.ipBlock?.cidr;
                });
                return `${self} ${spec.ingress ? "<-" : "->"} ${peers.join("+")}:${rule?.ports.map((x) => x.port).join("+")}`;
            });
        assert.deepEqual(edges, [
            "sql <- api:3306",
            "api -> sql:3306",
            "db <- web:5432",
            "web -> db:5432",
            "cache <- web:6379",
            "web -> cache:6379",
            "mc <- web:11211",
            "web -> mc:11211",
            "mq <- web:5672",
            "web -> mq:5672",
            "web -> 0.0.0.0/0:443",
            "web -> 0.0.0.0/0:443",
            "api <- web:8080",
            "web -> api:8080",
            "web <- 10.0.192.0/22+10.0.196.0/22:3000+7000",
            "mq <- jobs:5672",
            "jobs -> mq:5672",
            "db <- nightly:5432",
            "nightly -> db:5432",
        ]);
    });

    it("publishes routed services on deterministic NodePorts with kube-proxy's health check and returns the edge routes", () => {
        const svc = find(plan.objects, "web.service").manifest.spec as Record<string, unknown>;
        assert.deepEqual(plan.nodePorts, {
            "shop/web/3000/TCP": 32314,
            "shop/web/7000/TCP": 31742,
            "shop/web/healthz": 32363,
        });
        // A LoadBalancer of a class no controller implements: no cloud load balancer, but a health-check
        // NodePort, which the worker NLB checks (kube-proxy answers 503 once the node's pods terminate).
        assert.deepEqual(svc, {
            type: "LoadBalancer",
            loadBalancerClass: "keelson.dev/worker-ingress",
            selector: { "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop" },
            ports: [
                { name: "main", port: 3000, targetPort: 3000, protocol: "TCP", nodePort: 32314 },
                { name: "tcp-7000", port: 7000, targetPort: 7000, protocol: "TCP", nodePort: 31742 },
            ],
            externalTrafficPolicy: "Local",
            healthCheckNodePort: 32363,
        });
        assert.deepEqual(plan.routes, [
            {
                kind: "http",
                name: "shop-web",
                hosts: ["shop.example.com"],
                path: "/",
                nodePort: 32314,
                healthPath: "/readyz",
                healthCheckNodePort: 32363,
            },
            {
                kind: "tcp",
                name: "shop-web-tcp-7000",
                listenPort: 7000,
                nodePort: 31742,
                healthCheckNodePort: 32363,
            },
        ]);
        // It keeps serving while the NLB takes its node out: 15 s in preStop, within the 30 s grace.
        const pod = (
            find(plan.objects, "web.deployment").manifest.spec as {
                template: { spec: { containers: { lifecycle?: unknown }[] } };
            }
        ).template.spec;
        assert.deepEqual(pod.containers[0].lifecycle, { preStop: { sleep: { seconds: 15 } } });
    });

    it("never puts a credential in a plain env value or a ConfigMap", () => {
        const credential = /(PASSWORD|SECRET|TOKEN|_KEY|ACCESS_KEY|URL)$/;
        for (const o of plan.objects) {
            // ConfigMaps hold only the engines' own files (init script, conf.d), no credential value.
            if (o.manifest.kind === "ConfigMap") assert.match(o.key, /^(db|mq)\.config$/);
            const text = JSON.stringify(o.manifest);
            for (const m of text.matchAll(/\{"name":"([A-Z0-9_]+)","value":"([^"]*)"\}/g)) {
                if (credential.test(m[1])) {
                    assert.ok(/^(http|https):\/\/[^@]*$/.test(m[2]), `${o.key}: ${m[1]} is a plain value`);
                }
            }
            assert.ok(!text.includes("s3cr3t"), `${o.key} contains a secret value`);
        }
    });
});
