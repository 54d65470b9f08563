// Publishing on a cluster Keelson did not make: HTTP routes through the cluster's own Gateway (HTTPRoutes,
// checked against the Gateway API v1.3.0 CRD schema) or Ingress controller, only the proxy's namespace
// admitted; LoadBalancer services admit their load balancer's sources; and every way of publishing
// something nothing can reach is refused with one line.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parse } from "yaml";
import { AppPlan, planApplication } from "../../components/app/plan";
import { PublishVia } from "../../components/app/render/routes";
import { container } from "../../components/app/services";
import { AppDefinition, validateApplication } from "../../components/app/validate";
import { planStage } from "../../tools/plan/plan";
import { loadStackConfig } from "../../tools/plan/stack-config";
import { validateManifest } from "./support/schema";

type Obj = Record<string, unknown>;

const HTTPROUTE_SCHEMA = parse(
    fs.readFileSync(path.join(__dirname, "fixtures/gateway-api/httproute-v1.yaml"), "utf8"),
) as Obj;
// strict: false lets the schema's x-kubernetes-* keywords through (the CEL rules are not evaluated).
const ajv = new Ajv({ strict: false, allErrors: true });
const integer = (bits: number) => ({
    type: "number" as const,
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) <= 2 ** (bits - 1),
});
ajv.addFormat("int32", integer(32))
    .addFormat("int64", integer(64))
    .addFormat("date-time", (v: string) => !Number.isNaN(Date.parse(v)));
const validHttpRoute = ajv.compile(HTTPROUTE_SCHEMA);

const web = () =>
    container("web", {
        image: "ghcr.io/stefanprodan/podinfo:6.9.2",
        port: 9898,
        readinessPath: "/readyz",
        routes: [
            { kind: "http", hosts: ["shop.example.com", "www.shop.example.com"] },
            { kind: "http", hosts: ["api.shop.example.com"], path: "/v1" },
        ],
    });

const def = (publish?: PublishVia, extra: Partial<AppDefinition> = {}): AppDefinition => ({
    name: "shop",
    namespace: "shop",
    services: [web()],
    edgeSourceCidrs: [],
    ...(publish ? { publish } : {}),
    ...extra,
});

const byKey = (plan: AppPlan, key: string) => {
    const o = plan.objects.find((x) => x.key === key);
    assert.ok(o, `${key} in ${plan.objects.map((x) => x.key).join(", ")}`);
    return o.manifest as unknown as Obj & { spec: Obj };
};
const messages = (d: AppDefinition) => validateApplication(d).map((p) => p.message);

const PROXY_POLICY = (proxyNamespace: string) => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "web-from-proxy", namespace: "shop", labels: { "app.kubernetes.io/name": "web" } },
    spec: {
        podSelector: {
            matchLabels: { "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop" },
        },
        policyTypes: ["Ingress"],
        ingress: [
            {
                from: [
                    { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": proxyNamespace } } },
                ],
                ports: [{ protocol: "TCP", port: 9898 }],
            },
        ],
    },
});

describe("app/publish: HTTP through the cluster's own Gateway or Ingress controller", () => {
    it("a Gateway: one HTTPRoute per route, schema-valid, the Service ClusterIP, only the gateway's pods admitted", () => {
        const gateway = { name: "public", namespace: "gateway-system", sectionName: "https" };
        const d = def({ gateway });
        assert.deepEqual(validateApplication(d), []);
        const plan = planApplication(d);
        assert.deepEqual(plan.routes, [], "no edge routes");
        assert.deepEqual(plan.nodePorts, {});
        const svc = byKey(plan, "web.service");
        assert.equal(svc.spec.type, "ClusterIP");
        assert.equal((svc.spec.ports as Obj[])[0].nodePort, undefined);
        const routes = ["web.httproute", "web.httproute-2"].map((k) => byKey(plan, k));
        const parentRefs = [{ group: "gateway.networking.k8s.io", kind: "Gateway", ...gateway }];
        assert.deepEqual(
            routes.map((r) => [(r.metadata as Obj).name, r.spec]),
            [
                [
                    "web",
                    {
                        parentRefs,
                        hostnames: ["shop.example.com", "www.shop.example.com"],
                        rules: [
                            {
                                matches: [{ path: { type: "PathPrefix", value: "/" } }],
                                backendRefs: [{ group: "", kind: "Service", name: "web", port: 9898 }],
                            },
                        ],
                    },
                ],
                [
                    "web-2",
                    {
                        parentRefs,
                        hostnames: ["api.shop.example.com"],
                        rules: [
                            {
                                matches: [{ path: { type: "PathPrefix", value: "/v1" } }],
                                backendRefs: [{ group: "", kind: "Service", name: "web", port: 9898 }],
                            },
                        ],
                    },
                ],
            ],
        );
        for (const r of routes) assert.ok(validHttpRoute(r), JSON.stringify(validHttpRoute.errors));
        // The schema is a real check: a route without a parent's name fails it.
        const broken = { ...routes[0], spec: { ...routes[0].spec, parentRefs: [{ kind: "Gateway" }] } };
        assert.equal(validHttpRoute(broken), false);
        assert.deepEqual(
            validHttpRoute.errors?.map((e) => [e.instancePath, e.message]),
            [["/spec/parentRefs/0", "must have required property 'name'"]],
        );
        assert.deepEqual(byKey(plan, "netpol.web-from-proxy"), PROXY_POLICY("gateway-system"));
        assert.ok(!plan.objects.some((o) => o.key === "netpol.web-from-outside"));
        assert.deepEqual(plan.objects.find((o) => o.key === "web.httproute")?.dependsOn, [
            "namespace",
            "web.service",
        ]);
    });

    it("an IngressClass: one Ingress with a rule per host, schema-valid, the controller's namespace admitted", () => {
        const plan = planApplication(def({ ingressClassName: "nginx", proxyNamespace: "ingress-nginx" }));
        const ingress = byKey(plan, "web.ingress");
        const backend = { service: { name: "web", port: { number: 9898 } } };
        assert.deepEqual(ingress.spec, {
            ingressClassName: "nginx",
            rules: [
                { host: "shop.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend }] } },
                {
                    host: "www.shop.example.com",
                    http: { paths: [{ path: "/", pathType: "Prefix", backend }] },
                },
                {
                    host: "api.shop.example.com",
                    http: { paths: [{ path: "/v1", pathType: "Prefix", backend }] },
                },
            ],
        });
        validateManifest(ingress, "web.ingress");
        assert.deepEqual(byKey(plan, "netpol.web-from-proxy"), PROXY_POLICY("ingress-nginx"));
        assert.equal(byKey(plan, "web.service").spec.type, "ClusterIP");
    });

    it("a LoadBalancer admits any source by default, or exactly allowFrom, in its policy and its load balancer", () => {
        const lb = (allowFrom?: string[]) =>
            planApplication({
                name: "shop",
                namespace: "shop",
                services: [
                    container("api", {
                        image: "ghcr.io/stefanprodan/podinfo:6.9.2",
                        port: 9898,
                        expose: "LoadBalancer",
                        ...(allowFrom ? { allowFrom } : {}),
                    }),
                ],
                edgeSourceCidrs: ["10.0.192.0/22"],
            });
        const sources = (plan: AppPlan) =>
            ((byKey(plan, "netpol.api-from-outside").spec.ingress as Obj[])[0].from as Obj[]).map(
                (f) => (f.ipBlock as Obj).cidr,
            );
        const open = lb();
        assert.deepEqual(sources(open), ["0.0.0.0/0"]);
        assert.equal(byKey(open, "api.service").spec.loadBalancerSourceRanges, undefined);
        const closed = lb(["203.0.113.0/24"]);
        assert.deepEqual(sources(closed), ["203.0.113.0/24"]);
        assert.deepEqual(byKey(closed, "api.service").spec.loadBalancerSourceRanges, ["203.0.113.0/24"]);
        validateManifest(byKey(closed, "api.service"), "api.service");
    });

    it("refuses what nothing could reach and a publish that names no proxy, one line each", () => {
        // App-only mode (no edge hosts) without publish: the routed web service would be a dead NodePort.
        assert.deepEqual(messages(def()), [
            "services.web.allowFrom: is not set and there are no edge hosts (edgeSourceCidrs is empty), so nothing can reach web's NodePort; set publish (a Gateway or an IngressClass) for its HTTP routes, or allowFrom",
        ]);
        // The same service with allowFrom, or on a Keelson cluster (edge hosts known), is fine.
        assert.deepEqual(messages(def(undefined, { edgeSourceCidrs: ["10.0.192.0/22"] })), []);
        assert.deepEqual(
            messages(def({ gateway: { name: "public", namespace: "gw" }, ingressClassName: "nginx" })),
            ["publish: sets both gateway and ingressClassName; choose one"],
        );
        assert.deepEqual(messages(def({ proxyNamespace: "ingress-nginx" })), [
            "publish: names no proxy; set gateway: { name, namespace } (Gateway API) or ingressClassName (Ingress)",
        ]);
        assert.deepEqual(messages(def({ ingressClassName: "nginx" })), [
            "publish.proxyNamespace: is required with ingressClassName; name the namespace of the ingress controller's pods, e.g. ingress-nginx",
        ]);
        assert.deepEqual(messages(def({ gateway: { name: "Public", namespace: "gw_system" } })), [
            `publish.gateway.name: "Public" is not a Gateway name; use lowercase letters, digits and '-'`,
            `publish.gateway.namespace: "gw_system" is not a namespace; use lowercase letters, digits and '-'`,
        ]);
        const tcp = container("broker", {
            image: "ghcr.io/stefanprodan/podinfo:6.9.2",
            port: 9898,
            routes: [{ kind: "tcp", listenPort: 5672 }],
        });
        assert.deepEqual(
            messages(
                def({ ingressClassName: "nginx", proxyNamespace: "ingress-nginx" }, { services: [tcp] }),
            ),
            [
                `services.broker.routes[0]: a tcp route needs Keelson's edge, and publish carries HTTP only; use expose "LoadBalancer" for it`,
            ],
        );
    });
});

describe("app/publish: keelson:app.publish through index.ts", () => {
    const appOnly = (app: Obj) =>
        planStage({
            stack: "dev",
            config: {
                values: {
                    "aws:region": "eu-west-1",
                    "keelson:kubeconfig": "apiVersion: v1\nkind: Config\n",
                    "keelson:app": app,
                },
                secretKeys: ["keelson:kubeconfig"],
            },
        });

    it("app-only mode publishes the reference app's web service through the named Gateway", async () => {
        const plan = await appOnly({ publish: { gateway: { name: "public", namespace: "gateway-system" } } });
        const routes = plan.resources.filter(
            (r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        );
        assert.deepEqual(
            routes.map((r) => [r.name, (r.inputs.spec as Obj).hostnames]),
            [["keelson-dev-web.httproute", ["dev.keelson.example.com"]]],
        );
        for (const r of routes) assert.ok(validHttpRoute(r.inputs), JSON.stringify(validHttpRoute.errors));
        const services = plan.resources.filter((r) => r.type === "kubernetes:core/v1:Service");
        assert.ok(services.length > 0);
        for (const s of services) assert.notEqual((s.inputs.spec as Obj).type, "NodePort", s.name);
        assert.ok(plan.resources.some((r) => r.name === "keelson-dev-netpol.web-from-proxy"));
        assert.ok(
            plan.artifacts.some((a) => a.path.endsWith("httproute-web.yaml")),
            "rendered as an artifact",
        );
    });

    it("app-only mode without publish, and publish on a Keelson cluster, are config errors naming the fix", async () => {
        await assert.rejects(appOnly({}), (e: Error) => {
            assert.match(
                e.message,
                /app\.services\.web\.allowFrom: is not set and there are no edge hosts \(edgeSourceCidrs is empty\), so nothing can reach web's NodePort; set publish \(a Gateway or an IngressClass\) for its HTTP routes, or allowFrom/,
            );
            return true;
        });
        await assert.rejects(appOnly({ publish: { ingressClassName: "nginx" } }), (e: Error) => {
            assert.match(e.message, /app\.publish\.proxyNamespace: is required with ingressClassName/);
            return true;
        });
        const dev = loadStackConfig(path.join(__dirname, "../../Pulumi.dev.yaml"));
        const publish = { ingressClassName: "nginx", proxyNamespace: "ingress-nginx" };
        await assert.rejects(
            planStage({
                stack: "dev",
                config: {
                    values: {
                        ...dev.values,
                        "keelson:app": { ...(dev.values["keelson:app"] as Obj), publish },
                    },
                    secretKeys: dev.secretKeys,
                },
            }),
            (e: Error) => {
                assert.match(
                    e.message,
                    /app\.publish: "ingressClassName, proxyNamespace" is for an existing cluster \(keelson:kubeconfig\); a Keelson cluster publishes HTTP through its edge: remove app\.publish/,
                );
                return true;
            },
        );
    });
});
