import * as assert from "node:assert/strict";
import { planApplication } from "../../components/app/plan";
import * as sv from "../../components/app/services";
import { validateManifest } from "./support/schema";

const plan = planApplication({
    name: "shop",
    namespace: "shop",
    services: [
        sv.redis("cache", { storageGb: 5 }),
        sv.externalService("pay", { host: "api.pay.example.com", port: 443 }),
    ],
});
const get = (key: string) => plan.objects.find((o) => o.key === key)!.manifest;
const labels = (name: string, component: string) => ({
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/part-of": "shop",
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "keelson",
});
const selector = { "app.kubernetes.io/name": "cache", "app.kubernetes.io/part-of": "shop" };

describe("app: a data service's exact objects (redis)", () => {
    it("renders the StatefulSet exactly", () => {
        const expected = {
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name: "cache", namespace: "shop", labels: labels("cache", "redis") },
            spec: {
                replicas: 1,
                serviceName: "cache-headless",
                podManagementPolicy: "Parallel",
                selector: { matchLabels: selector },
                updateStrategy: { type: "RollingUpdate" },
                persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                volumeClaimTemplates: [
                    {
                        metadata: { name: "data", labels: selector },
                        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
                    },
                ],
                template: {
                    metadata: { labels: labels("cache", "redis") },
                    spec: {
                        automountServiceAccountToken: false,
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: 999,
                            runAsGroup: 999,
                            fsGroup: 999,
                            fsGroupChangePolicy: "OnRootMismatch",
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        terminationGracePeriodSeconds: 60,
                        containers: [
                            {
                                name: "cache",
                                image: "redis:8.2.1",
                                args: [
                                    "redis-server",
                                    "--appendonly",
                                    "yes",
                                    "--dir",
                                    "/data",
                                    // 70% of the 512Mi limit.
                                    "--maxmemory",
                                    "375809638",
                                    "--maxmemory-policy",
                                    "allkeys-lru",
                                    "--requirepass",
                                    "$(REDIS_PASSWORD)",
                                ],
                                ports: [{ name: "redis", containerPort: 6379, protocol: "TCP" }],
                                env: [
                                    {
                                        name: "REDIS_PASSWORD",
                                        valueFrom: {
                                            secretKeyRef: { name: "cache-credentials", key: "password" },
                                        },
                                    },
                                ],
                                resources: {
                                    requests: { cpu: "100m", memory: "128Mi" },
                                    limits: { cpu: "500m", memory: "512Mi" },
                                },
                                startupProbe: {
                                    tcpSocket: { port: 6379 },
                                    periodSeconds: 10,
                                    timeoutSeconds: 5,
                                    failureThreshold: 30,
                                },
                                readinessProbe: {
                                    exec: {
                                        command: [
                                            "sh",
                                            "-c",
                                            'redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG',
                                        ],
                                    },
                                    periodSeconds: 10,
                                    timeoutSeconds: 5,
                                    failureThreshold: 3,
                                },
                                livenessProbe: {
                                    tcpSocket: { port: 6379 },
                                    periodSeconds: 20,
                                    timeoutSeconds: 5,
                                    failureThreshold: 6,
                                },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    readOnlyRootFilesystem: true,
                                    runAsNonRoot: true,
                                    capabilities: { drop: ["ALL"] },
                                },
                                volumeMounts: [
                                    { name: "w-tmp", mountPath: "/tmp" },
                                    { name: "data", mountPath: "/data" },
                                ],
                            },
                        ],
                        volumes: [{ name: "w-tmp", emptyDir: {} }],
                        affinity: {
                            nodeAffinity: {
                                // Data services prefer a pool labelled for data (never require it).
                                preferredDuringSchedulingIgnoredDuringExecution: [
                                    {
                                        weight: 50,
                                        preference: {
                                            matchExpressions: [
                                                { key: "keelson.io/pool", operator: "In", values: ["data"] },
                                            ],
                                        },
                                    },
                                ],
                                requiredDuringSchedulingIgnoredDuringExecution: {
                                    nodeSelectorTerms: [
                                        {
                                            matchExpressions: [
                                                {
                                                    key: "node-role.kubernetes.io/control-plane",
                                                    operator: "DoesNotExist",
                                                },
                                            ],
                                        },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
        };
        assert.deepEqual(get("cache.statefulset"), expected);
        validateManifest(expected, "cache");
    });

    it("renders the credentials Secret (masked), the headless Service and an ExternalName exactly", () => {
        assert.deepEqual(get("cache.secret"), {
            apiVersion: "v1",
            kind: "Secret",
            metadata: {
                name: "cache-credentials",
                namespace: "shop",
                labels: labels("cache", "credentials"),
            },
            type: "Opaque",
            stringData: { password: "[secret]", url: "[secret]" },
        });
        assert.deepEqual(get("cache.headless").spec, {
            clusterIP: "None",
            publishNotReadyAddresses: false,
            selector,
            ports: [{ name: "redis", port: 6379, targetPort: 6379, protocol: "TCP" }],
        });
        assert.deepEqual(get("pay.service"), {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "pay", namespace: "shop", labels: labels("pay", "external") },
            spec: {
                type: "ExternalName",
                externalName: "api.pay.example.com",
                ports: [{ name: "tcp", port: 443, protocol: "TCP" }],
            },
        });
        assert.deepEqual(plan.objects.find((o) => o.key === "cache.secret")!.secret, {
            name: "cache-credentials",
            keys: {
                password: { generate: "password" },
                url: { template: "redis://:{password}@cache.shop.svc:6379/0" },
            },
        });
    });
});
