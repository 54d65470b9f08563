import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { Application, ApplicationError } from "../../components/app/Application";
import { container, cronJob, externalService, postgres, redis, worker } from "../../components/app/services";
import { AppDefinition, unpinnedImage, validateApplication } from "../../components/app/validate";
import { Service } from "../../components/app/types";
import { runUnderMocks } from "../../tools/plan/runtime";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";
const def = (services: Service[], extra: Partial<AppDefinition> = {}): AppDefinition => ({
    name: "shop",
    namespace: "shop",
    services,
    ...extra,
});
const messages = (d: AppDefinition) => validateApplication(d).map((p) => p.message);

describe("app: validation of the service graph", () => {
    it("accepts a valid graph", () => {
        const db = postgres("db");
        const web = container("web", {
            image: IMAGE,
            port: 3000,
            connects: [db],
            routes: [{ kind: "http", hosts: ["a.example.com"] }],
        });
        assert.deepEqual(validateApplication(def([web])), []);
    });

    it("rejects duplicate names, with key, value and fix", () => {
        const a = container("web", { image: IMAGE, port: 3000 });
        const b = redis("web");
        assert.deepEqual(validateApplication(def([a, b])), [
            {
                key: "services.web.name",
                value: "web",
                message:
                    'services.web.name: "web" names two different services (container and redis); give each service a unique name',
            },
        ]);
    });

    it("rejects names that are not DNS labels", () => {
        assert.deepEqual(messages(def([redis("Cache_1"), redis("x".repeat(41))])), [
            `services.Cache_1.name: "Cache_1" is not a DNS label; use lowercase letters, digits and '-', starting with a letter (max 40)`,
            `services.${"x".repeat(41)}.name: "${"x".repeat(41)}" is not a DNS label; use lowercase letters, digits and '-', starting with a letter (max 40)`,
        ]);
        assert.deepEqual(messages({ ...def([]), namespace: "My-NS" }), [
            `namespace: "My-NS" is not a DNS label; use lowercase letters, digits and '-', starting with a letter (max 63)`,
        ]);
    });

    it("rejects negative and fractional replicas", () => {
        assert.deepEqual(messages(def([container("web", { image: IMAGE, port: 3000, replicas: -1 })])), [
            "services.web.replicas: -1 is negative; use 0 or more",
        ]);
        assert.deepEqual(messages(def([worker("jobs", { image: IMAGE, replicas: 1.5, healthPort: 8080 })])), [
            "services.jobs.replicas: 1.5 is not an integer; use a whole number of replicas",
        ]);
    });

    it("rejects unpinned images", () => {
        assert.equal(unpinnedImage("nginx@sha256:abc"), undefined);
        assert.equal(unpinnedImage("localhost:5000/app:1.0"), undefined);
        assert.deepEqual(
            messages(
                def([
                    container("a", { image: "nginx", port: 80 }),
                    container("b", { image: "localhost:5000/app:latest", port: 80 }),
                ]),
            ),
            [
                'services.a.image: "nginx" has no tag; pin a version, e.g. "nginx:1.2.3", or a digest',
                'services.b.image: "localhost:5000/app:latest" uses latest; pin a version, e.g. "localhost:5000/app:1.2.3", or a digest',
            ],
        );
        assert.deepEqual(messages(def([postgres("db", { image: "postgres" })])), [
            'services.db.image: "postgres" has no tag; pin a version, e.g. "postgres:1.2.3", or a digest',
        ]);
    });

    it("rejects NodePort clashes, ports out of range and reserved edge ports", () => {
        const a = container("a", { image: IMAGE, port: 3000, expose: "NodePort", nodePort: 30080 });
        const b = container("b", { image: IMAGE, port: 70000, expose: "NodePort", nodePort: 30080 });
        const c = container("c", {
            image: IMAGE,
            port: 53,
            routes: [{ kind: "udp", listenPort: 443 }],
            nodePort: 29999,
        });
        const d = container("d", { image: IMAGE, port: 5000, routes: [{ kind: "tcp", listenPort: 7000 }] });
        const e = container("e", { image: IMAGE, port: 5000, routes: [{ kind: "tcp", listenPort: 7000 }] });
        assert.deepEqual(messages(def([a, b, c, d, e], { nodePortsInUse: [31000] })), [
            "services.b.port: 70000 is not a port; use an integer 1-65535",
            "services.b.nodePort: 30080 is already used by services.a.nodePort; use another NodePort or leave it out to allocate one",
            "services.c.nodePort: 29999 is outside the NodePort range; use 30000-32767 or leave it out to allocate one",
            "services.c.routes[0].listenPort: 443 is not usable; use a port 1-65535 other than 80 and 443 (the edge serves HTTP(S) there)",
            "services.e.routes[0].listenPort: tcp 7000 is already published by services.d.routes[0]; use another listen port",
        ]);
        assert.deepEqual(
            messages(
                def([container("f", { image: IMAGE, port: 80, nodePort: 31000, expose: "NodePort" })], {
                    nodePortsInUse: [31000],
                }),
            ),
            [
                "services.f.nodePort: 31000 is already used by nodePortsInUse; use another NodePort or leave it out to allocate one",
            ],
        );
    });

    it("rejects two services routing the same host and path, and routes on a ClusterIP service", () => {
        const a = container("a", {
            image: IMAGE,
            port: 3000,
            routes: [{ kind: "http", hosts: ["x.example.com"], path: "/api/" }],
        });
        const b = container("b", {
            image: IMAGE,
            port: 3000,
            expose: "ClusterIP",
            routes: [{ kind: "http", hosts: ["x.example.com"], path: "/api" }],
        });
        assert.deepEqual(messages(def([a, b])), [
            `services.b.expose: "ClusterIP" cannot carry edge routes; use "NodePort" or leave expose out`,
            "services.b.routes[0].hosts: x.example.com /api is already routed by services.a.routes[0]; use another host or path",
        ]);
    });

    it("rejects edges to services without a port, duplicate edges and clashing prefixes", () => {
        const jobs = worker("jobs", { image: IMAGE, healthCommand: ["true"] });
        const nightly = cronJob("nightly", { image: IMAGE, schedule: "0 3 * * *" });
        const db = postgres("db");
        const db2 = postgres("db2");
        const web = container("web", {
            image: IMAGE,
            port: 3000,
            connects: [
                jobs,
                nightly,
                db,
                db,
                { to: db2, as: "DB" },
                { to: redis("cache"), as: "bad-prefix" },
            ],
        });
        assert.deepEqual(messages(def([web])), [
            'services.web.connects[0]: worker "jobs" has no port to connect to; connect to a service with a port',
            'services.web.connects[1]: cronjob "nightly" has no port to connect to; connect to a service with a port',
            'services.web.connects[3]: "db" is connected twice; connect once',
            'services.web.connects[3].as: prefix "DB" is used by another connection; give this one a different "as"',
            'services.web.connects[4].as: prefix "DB" is used by another connection; give this one a different "as"',
            `services.web.connects[5].as: "bad-prefix" is not an env prefix; use upper-case letters, digits and '_'`,
        ]);
    });

    it("rejects credentials in plain env, bad schedules, workers without health checks and bad external hosts", () => {
        const w = worker("jobs", {
            image: IMAGE,
            env: { API_TOKEN: "abc", MODE: "fast" },
            secretEnv: { MODE: "x" },
        });
        const c = cronJob("nightly", { image: IMAGE, schedule: "every day" });
        const x = externalService("pay", { host: "Pay Provider", port: 443 });
        assert.deepEqual(messages(def([w, c, x])), [
            "services.jobs: a worker without a port needs a health check; set healthPort, healthCommand, or readinessProbe and livenessProbe",
            "services.jobs.env.API_TOKEN: looks like a credential; move it to secretEnv so it is stored in a Kubernetes Secret",
            "services.jobs.secretEnv.MODE: is also set in env; set it in one place",
            'services.nightly.schedule: "every day" is not a cron schedule; use five fields, e.g. "*/15 * * * *"',
            'services.pay.host: "Pay Provider" is not a DNS name; use e.g. "api.example.com"',
        ]);
        const problem = validateApplication(def([w])).find((p) => p.key === "services.jobs.env.API_TOKEN");
        assert.equal(problem?.value, "(hidden)", "a credential value must not be echoed in the error");
    });

    it("rejects names that collide once suffixed into object names", () => {
        const web = container("a-to-b", { image: IMAGE, port: 80, connects: [postgres("c")] });
        const api = container("a", { image: IMAGE, port: 80, connects: [postgres("b-to-c")] });
        assert.deepEqual(validateApplication(def([web, api])), [
            {
                key: "services",
                value: ["a-to-b", "a"],
                message:
                    "services: two NetworkPolicies would be named a-to-b-to-c; rename one of the services it derives from",
            },
        ]);
    });

    it("throws ApplicationError listing every problem, and registers nothing", async () => {
        const web = container("web", { image: "nginx", port: 3000, replicas: -2 });
        let thrown: unknown;
        const run = await runUnderMocks({}, () => {
            const provider = undefined as unknown as k8s.Provider;
            try {
                new Application("shop", { services: [web, redis("web")], provider });
            } catch (e) {
                thrown = e;
            }
            return {};
        });
        assert.ok(thrown instanceof ApplicationError);
        assert.equal(
            (thrown as Error).message,
            [
                "application shop is invalid:",
                '  - services.web.image: "nginx" has no tag; pin a version, e.g. "nginx:1.2.3", or a digest',
                "  - services.web.replicas: -2 is negative; use 0 or more",
                '  - services.web.name: "web" names two different services (container and redis); give each service a unique name',
            ].join("\n"),
        );
        assert.deepEqual(run.resources, []);
    });
});
