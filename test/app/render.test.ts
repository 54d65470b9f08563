import * as assert from "node:assert/strict";
import * as fc from "fast-check";
import { allocateNodePorts, NODE_PORT_MAX, NODE_PORT_MIN } from "../../components/app/nodeports";
import { ENGINES } from "../../components/app/render/engines";
import * as o from "../../components/app/render/objects";
import { PodPlan, renderPodTemplate, volumeName } from "../../components/app/render/pod";
import * as w from "../../components/app/render/workloads";
import { validateManifest } from "./support/schema";

const pod: PodPlan = {
    app: "shop",
    service: "web",
    component: "container",
    image: "ghcr.io/stefanprodan/podinfo:6.9.2",
    env: [{ name: "MODE", value: "fast" }],
    ports: [{ name: "main", containerPort: 3000, protocol: "TCP" }],
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
    readinessProbe: { httpGet: { path: "/readyz", port: 3000 }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: "/healthz", port: 3000 }, periodSeconds: 10 },
    uid: 10001,
    readOnlyRootFilesystem: true,
    writablePaths: ["/data"],
    automountServiceAccountToken: false,
    waitFor: [{ service: "db", host: "db.shop.svc", port: 5432 }],
    topologySpread: true,
};

const labels = {
    "app.kubernetes.io/name": "web",
    "app.kubernetes.io/part-of": "shop",
    "app.kubernetes.io/component": "container",
    "app.kubernetes.io/managed-by": "keelson",
};
const selector = { matchLabels: { "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop" } };
const restricted = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
};

describe("app/render: pod template and workloads", () => {
    it("renders the restricted pod template with wait-for initContainers, emptyDirs and spread", () => {
        assert.deepEqual(renderPodTemplate(pod), {
            metadata: { labels },
            spec: {
                automountServiceAccountToken: false,
                securityContext: {
                    runAsNonRoot: true,
                    runAsUser: 10001,
                    runAsGroup: 10001,
                    fsGroup: 10001,
                    fsGroupChangePolicy: "OnRootMismatch",
                    seccompProfile: { type: "RuntimeDefault" },
                },
                initContainers: [
                    {
                        name: "wait-for-db",
                        image: "busybox:1.37.0",
                        command: [
                            "sh",
                            "-c",
                            'until nc -z -w 2 db.shop.svc 5432; do echo "waiting for db.shop.svc:5432"; sleep 2; done',
                        ],
                        resources: {
                            requests: { cpu: "10m", memory: "16Mi" },
                            limits: { cpu: "100m", memory: "32Mi" },
                        },
                        securityContext: restricted,
                    },
                ],
                containers: [
                    {
                        name: "web",
                        image: "ghcr.io/stefanprodan/podinfo:6.9.2",
                        ports: [{ name: "main", containerPort: 3000, protocol: "TCP" }],
                        env: [{ name: "MODE", value: "fast" }],
                        resources: pod.resources,
                        readinessProbe: pod.readinessProbe,
                        livenessProbe: pod.livenessProbe,
                        securityContext: restricted,
                        volumeMounts: [
                            { name: "w-tmp", mountPath: "/tmp" },
                            { name: "w-data", mountPath: "/data" },
                        ],
                    },
                ],
                volumes: [
                    { name: "w-tmp", emptyDir: {} },
                    { name: "w-data", emptyDir: {} },
                ],
                topologySpreadConstraints: ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map(
                    (k) => ({
                        maxSkew: 1,
                        topologyKey: k,
                        whenUnsatisfiable: "ScheduleAnyway",
                        labelSelector: selector,
                    }),
                ),
            },
        });
    });

    it("names volumes from paths", () => {
        assert.equal(volumeName("/var/run/postgresql"), "w-var-run-postgresql");
        assert.equal(volumeName("/tmp/"), "w-tmp");
    });

    it("renders a Deployment that keeps capacity during updates, and leaves replicas to an HPA when autoscaled", () => {
        const d = w.renderDeployment(pod, "shop", 3, { maxUnavailable: 0, maxSurge: 1 });
        assert.deepEqual(d.spec, {
            replicas: 3,
            revisionHistoryLimit: 5,
            selector,
            strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
            template: renderPodTemplate(pod),
        });
        assert.equal(
            "replicas" in
                (w.renderDeployment(pod, "shop", undefined, { maxUnavailable: 0, maxSurge: 1 })
                    .spec as object),
            false,
        );
        validateManifest(d, "deployment");
    });

    it("renders PDB, HPA, DaemonSet and CronJob objects that pass the Kubernetes schema", () => {
        assert.deepEqual(w.renderPdb(pod, "shop"), {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name: "web", namespace: "shop", labels },
            spec: { maxUnavailable: 1, selector },
        });
        assert.deepEqual(w.renderHpa(pod, "shop", { minReplicas: 3, maxReplicas: 9, cpuPercent: 70 }).spec, {
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
            minReplicas: 3,
            maxReplicas: 9,
            metrics: [
                {
                    type: "Resource",
                    resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
                },
            ],
        });
        assert.deepEqual(
            (w.renderDaemonSet(pod, "shop").spec as { updateStrategy: unknown }).updateStrategy,
            {
                type: "RollingUpdate",
                rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
            },
        );
        const cron = w.renderCronJob(
            { ...pod, restartPolicy: "OnFailure", readinessProbe: undefined, livenessProbe: undefined },
            "shop",
            "0 3 * * *",
            600,
        );
        assert.equal((cron.spec as { concurrencyPolicy: string }).concurrencyPolicy, "Forbid");
        for (const m of [
            w.renderPdb(pod, "shop"),
            w.renderHpa(pod, "shop", { minReplicas: 1, maxReplicas: 2, cpuPercent: 70 }),
            w.renderDaemonSet(pod, "shop"),
            cron,
        ]) {
            validateManifest(m, m.kind);
        }
    });

    it("renders a StatefulSet with a retained ReadWriteOnce claim", () => {
        const s = w.renderStatefulSet(pod, "shop", 1, "web-headless", { storageGb: 20 });
        assert.deepEqual((s.spec as Record<string, unknown>).volumeClaimTemplates, [
            {
                metadata: { name: "data", labels: selector.matchLabels },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } },
            },
        ]);
        assert.deepEqual((s.spec as Record<string, unknown>).persistentVolumeClaimRetentionPolicy, {
            whenDeleted: "Retain",
            whenScaled: "Retain",
        });
        validateManifest(s, "statefulset");
    });
});

describe("app/render: engines use the official images' own users and writable paths", () => {
    it("pins official upstream images, never bitnami or latest", () => {
        assert.deepEqual(
            Object.fromEntries(
                Object.entries(ENGINES).map(([k, e]) => [
                    k,
                    [e.image, e.uid, e.port, e.dataPath, e.writable],
                ]),
            ),
            {
                postgres: ["postgres:17.6", 999, 5432, "/var/lib/postgresql/data", ["/var/run/postgresql"]],
                mysql: [
                    "mysql:8.4.6",
                    999,
                    3306,
                    "/var/lib/mysql",
                    ["/var/run/mysqld", "/var/lib/mysql-files"],
                ],
                redis: ["redis:8.2.1", 999, 6379, "/data", []],
                memcached: ["memcached:1.6.39", 11211, 11211, undefined, []],
                rabbitmq: [
                    "rabbitmq:4.1.4-management",
                    999,
                    5672,
                    "/var/lib/rabbitmq",
                    ["/var/log/rabbitmq"],
                ],
            },
        );
    });

    it("keeps PGDATA in a sub directory, passes the redis password without a shell, sizes redis under its limit", () => {
        const ctx = {
            service: "db",
            host: "db.shop.svc",
            database: "app",
            user: "app",
            memoryMb: 64,
            memoryLimitBytes: 512 * 2 ** 20,
            evictionPolicy: "allkeys-lru",
        };
        assert.deepEqual(ENGINES.postgres.env(ctx)[0], {
            name: "PGDATA",
            value: "/var/lib/postgresql/data/pgdata",
        });
        assert.deepEqual(ENGINES.mysql.args?.(ctx), ["mysqld", "--datadir=/var/lib/mysql/data"]);
        assert.deepEqual(ENGINES.redis.args?.(ctx), [
            "redis-server",
            "--appendonly",
            "yes",
            "--dir",
            "/data",
            "--maxmemory",
            String(Math.floor(512 * 2 ** 20 * 0.7)),
            "--maxmemory-policy",
            "allkeys-lru",
            "--requirepass",
            "$(REDIS_PASSWORD)",
        ]);
        assert.deepEqual(ENGINES.postgres.secret?.(ctx), {
            username: { template: "app" },
            password: { generate: "password" },
            "superuser-password": { generate: "password" },
            url: { template: "postgres://app:{password}@db.shop.svc:5432/app" },
        });
        assert.deepEqual(ENGINES.rabbitmq.files?.(ctx), [
            {
                path: "/etc/rabbitmq/conf.d/30-keelson.conf",
                content: `vm_memory_high_watermark.absolute = ${Math.floor(512 * 2 ** 20 * 0.6)}\n`,
            },
        ]);
    });
});

describe("app/render: services and network policies", () => {
    it("renders a NodePort Service that preserves the client source IP", () => {
        const s = o.renderService("shop", "web", "container", "shop", "NodePort", [
            { name: "main", port: 3000, targetPort: 3000, protocol: "TCP", nodePort: 30080 },
        ]);
        assert.deepEqual(s.spec, {
            type: "NodePort",
            selector: selector.matchLabels,
            ports: [{ name: "main", port: 3000, targetPort: 3000, protocol: "TCP", nodePort: 30080 }],
            externalTrafficPolicy: "Local",
        });
        validateManifest(s, "service");
        assert.equal(
            "externalTrafficPolicy" in
                (o.renderService("shop", "web", "container", "shop", "ClusterIP", []).spec as object),
            false,
        );
    });

    it("renders default deny, DNS egress and both halves of an edge", () => {
        assert.deepEqual(o.renderDefaultDeny("shop").spec, {
            podSelector: {},
            policyTypes: ["Ingress", "Egress"],
        });
        assert.deepEqual(
            o.renderEdgeIngress("shop", "shop", "web", "db", [{ protocol: "TCP", port: 5432 }]),
            {
                apiVersion: "networking.k8s.io/v1",
                kind: "NetworkPolicy",
                metadata: {
                    name: "db-from-web",
                    namespace: "shop",
                    labels: { "app.kubernetes.io/name": "db" },
                },
                spec: {
                    podSelector: {
                        matchLabels: { "app.kubernetes.io/name": "db", "app.kubernetes.io/part-of": "shop" },
                    },
                    policyTypes: ["Ingress"],
                    ingress: [
                        { from: [{ podSelector: selector }], ports: [{ protocol: "TCP", port: 5432 }] },
                    ],
                },
            },
        );
        assert.deepEqual(
            o.renderEdgeEgress("shop", "shop", "web", "files", [{ protocol: "TCP", port: 443 }], true).spec,
            {
                podSelector: selector,
                policyTypes: ["Egress"],
                egress: [
                    { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
                ],
            },
        );
        for (const m of [
            o.renderDefaultDeny("shop"),
            o.renderDnsEgress("shop"),
            o.renderPublishedIngress(
                "shop",
                "shop",
                "web",
                ["10.0.192.0/22"],
                [{ protocol: "TCP", port: 3000 }],
            ),
        ]) {
            validateManifest(m, m.metadata.name);
        }
    });
});

describe("app/nodeports: deterministic allocation", () => {
    it("keeps explicit ports and gives the same key the same port", () => {
        const first = allocateNodePorts([
            { key: "shop/web/3000/TCP" },
            { key: "shop/api/80/TCP", explicit: 30080 },
        ]);
        assert.equal(first.get("shop/api/80/TCP"), 30080);
        const again = allocateNodePorts([{ key: "shop/new/1/TCP" }, { key: "shop/web/3000/TCP" }]);
        assert.equal(again.get("shop/web/3000/TCP"), first.get("shop/web/3000/TCP"));
    });

    it("never collides and stays in range (property)", () => {
        fc.assert(
            fc.property(
                fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 300 }),
                fc.array(fc.integer({ min: NODE_PORT_MIN, max: NODE_PORT_MAX }), { maxLength: 20 }),
                (keys, inUse) => {
                    const ports = [
                        ...allocateNodePorts(
                            keys.map((key) => ({ key })),
                            inUse,
                        ).values(),
                    ];
                    assert.equal(new Set(ports).size, ports.length);
                    for (const p of ports) {
                        assert.ok(p >= NODE_PORT_MIN && p <= NODE_PORT_MAX);
                        assert.ok(!inUse.includes(p));
                    }
                },
            ),
            { numRuns: 50 },
        );
    });
});
