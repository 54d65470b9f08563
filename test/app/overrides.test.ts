import * as assert from "node:assert/strict";
import { orderServices } from "../../components/app/graph";
import { planApplication } from "../../components/app/plan";
import { Manifest } from "../../components/app/render/meta";
import { container, daemonSet, postgres, worker } from "../../components/app/services";
import { Service } from "../../components/app/types";
import { validateManifest } from "./support/schema";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";
type Obj = Record<string, unknown>;
const planOf = (services: Service[]) =>
    planApplication({ name: "shop", namespace: "shop", services, edgeSourceCidrs: ["10.0.192.0/22"] });
const manifest = (services: Service[], key: string): Manifest => {
    const o = planOf(services).objects.find((x) => x.key === key);
    if (!o) throw new Error(`no ${key}`);
    validateManifest(o.manifest, key);
    return o.manifest;
};
const podSpec = (m: Manifest) => ((m.spec as Obj).template as { spec: Obj }).spec;
const main = (m: Manifest) => (podSpec(m).containers as Obj[])[0];

describe("app: safe defaults and their overrides", () => {
    it("defaults a container to requests/limits, distinct TCP probes, one replica, no PDB, no spread", () => {
        const plan = planOf([container("web", { image: IMAGE, port: 3000 })]);
        const d = plan.objects.find((o) => o.key === "web.deployment")!.manifest;
        assert.deepEqual(main(d).resources, {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
        });
        assert.deepEqual(main(d).readinessProbe, {
            tcpSocket: { port: 3000 },
            periodSeconds: 5,
            timeoutSeconds: 2,
            failureThreshold: 3,
        });
        assert.deepEqual(main(d).livenessProbe, {
            tcpSocket: { port: 3000 },
            initialDelaySeconds: 10,
            periodSeconds: 10,
            timeoutSeconds: 3,
            failureThreshold: 6,
        });
        assert.notDeepEqual(main(d).readinessProbe, main(d).livenessProbe);
        assert.equal((d.spec as Obj).replicas, 1);
        assert.equal("topologySpreadConstraints" in podSpec(d), false);
        assert.deepEqual(
            plan.objects.filter((o) => o.manifest.kind === "PodDisruptionBudget"),
            [],
        );
    });

    it("applies every override", () => {
        const readinessProbe = { exec: { command: ["/ready"] }, periodSeconds: 3 };
        const d = manifest(
            [
                container("web", {
                    image: IMAGE,
                    port: 3000,
                    replicas: 3,
                    resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
                    readinessProbe,
                    runAsUser: 1000,
                    readOnlyRootFilesystem: false,
                    automountServiceAccountToken: true,
                    topologySpread: false,
                    podDisruptionBudget: false,
                    maxUnavailable: 1,
                    maxSurge: 0,
                }),
            ],
            "web.deployment",
        );
        assert.deepEqual(main(d).resources, {
            requests: { cpu: "1", memory: "1Gi" },
            limits: { cpu: "2", memory: "2Gi" },
        });
        assert.deepEqual(main(d).readinessProbe, readinessProbe);
        assert.equal((main(d).securityContext as Obj).readOnlyRootFilesystem, false);
        assert.deepEqual(
            [(podSpec(d).securityContext as Obj).runAsUser, podSpec(d).automountServiceAccountToken],
            [1000, true],
        );
        assert.equal("topologySpreadConstraints" in podSpec(d), false);
        assert.deepEqual((d.spec as { strategy: unknown }).strategy, {
            type: "RollingUpdate",
            rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
        });
        assert.equal(
            planOf([
                container("web", { image: IMAGE, port: 3000, replicas: 3, podDisruptionBudget: false }),
            ]).objects.some((o) => o.key === "web.pdb"),
            false,
        );
    });

    it("exposes a LoadBalancer with an allocated NodePort and lets only the allowed CIDRs in", () => {
        const services = [
            container("api", {
                image: IMAGE,
                port: 8080,
                expose: "LoadBalancer",
                allowFrom: ["203.0.113.0/24"],
            }),
        ];
        const svc = manifest(services, "api.service").spec as Obj;
        assert.equal(svc.type, "LoadBalancer");
        assert.equal(svc.externalTrafficPolicy, "Local");
        assert.deepEqual(svc.ports, [
            {
                name: "main",
                port: 8080,
                targetPort: 8080,
                protocol: "TCP",
                nodePort: planOf(services).nodePorts["shop/api/8080/TCP"],
            },
        ]);
        assert.ok(planOf(services).nodePorts["shop/api/8080/TCP"] >= 30000);
        const policy = manifest(services, "netpol.api-from-outside").spec as Obj;
        assert.deepEqual(policy.ingress, [
            { from: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ protocol: "TCP", port: 8080 }] },
        ]);
        assert.deepEqual(planOf(services).routes, []);
    });

    it("publishes a DaemonSet's UDP port through the edge and probes a portless worker by command", () => {
        const agent = daemonSet("agent", {
            image: IMAGE,
            port: 8125,
            routes: [{ kind: "udp", listenPort: 8125, port: 8125 }],
        });
        const jobs = worker("jobs", { image: IMAGE, healthCommand: ["/bin/health"] });
        const plan = planOf([agent, jobs]);
        assert.deepEqual(plan.routes, [
            {
                kind: "udp",
                name: "shop-agent-udp-8125",
                listenPort: 8125,
                nodePort: plan.nodePorts["shop/agent/8125/UDP"],
                healthCheckNodePort: plan.nodePorts["shop/agent/healthz"],
            },
        ]);
        assert.ok(plan.nodePorts["shop/agent/healthz"] >= 30000);
        assert.deepEqual(
            (
                plan.objects.find((o) => o.key === "agent.service")!.manifest.spec as { ports: unknown[] }
            ).ports.map((p) => (p as Obj).protocol),
            ["TCP", "UDP"],
        );
        const w = plan.objects.find((o) => o.key === "jobs.deployment")!.manifest;
        assert.deepEqual((main(w).readinessProbe as Obj).exec, { command: ["/bin/health"] });
        assert.equal("ports" in main(w), false);
    });
});

describe("app: volume-backed and published pods stay off control-plane nodes", () => {
    it("keeps StatefulSets with a claim and published pods off control-plane nodes, and nothing else", () => {
        const plan = planOf([container("web", { image: IMAGE, port: 3000, connects: [postgres("db")] })]);
        const spec = (key: string) => podSpec(plan.objects.find((o) => o.key === key)!.manifest);
        assert.deepEqual(spec("db.statefulset").affinity, {
            nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                    {
                        weight: 50,
                        preference: {
                            matchExpressions: [{ key: "keelson.io/pool", operator: "In", values: ["data"] }],
                        },
                    },
                ],
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                        {
                            matchExpressions: [
                                { key: "node-role.kubernetes.io/control-plane", operator: "DoesNotExist" },
                            ],
                        },
                    ],
                },
            },
        });
        assert.equal("affinity" in spec("web.deployment"), false);
        const published = planOf([
            container("api", {
                image: IMAGE,
                port: 3000,
                routes: [{ kind: "http", hosts: ["a.example.com"] }],
            }),
        ]);
        type Affinity = { nodeAffinity: Record<string, unknown> };
        const required = (a: unknown) =>
            (a as Affinity).nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
        assert.deepEqual(
            podSpec(published.objects.find((o) => o.key === "api.deployment")!.manifest).affinity,
            {
                nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: required(spec("db.statefulset").affinity),
                },
            },
            "published pods avoid masters too (the edge forwards to workers only), without the data-pool preference",
        );
    });
});

describe("app: the graph cannot be changed after creation", () => {
    it("freezes services and their edges", () => {
        const db = postgres("db");
        const web = container("web", { image: IMAGE, port: 3000, connects: [db] });
        assert.ok(Object.isFrozen(web) && Object.isFrozen(web.connections));
        assert.throws(
            () => (web.connections as unknown as Obj[]).push({ to: web, prefix: "WEB" }),
            TypeError,
        );
        assert.throws(
            () => ((db as unknown as { connections: unknown }).connections = [{ to: web, prefix: "WEB" }]),
            TypeError,
        );
    });

    it("reports a cycle forged around the API instead of looping", () => {
        const a = { name: "a", connections: [] as unknown[] } as unknown as Service;
        const b = { name: "b", connections: [{ to: a, prefix: "A" }] } as unknown as Service;
        (a as unknown as { connections: unknown[] }).connections.push({ to: b, prefix: "B" });
        Object.setPrototypeOf(a, Service.prototype);
        Object.setPrototypeOf(b, Service.prototype);
        assert.deepEqual(orderServices([a]).cycle, ["a", "b", "a"]);
    });
});
