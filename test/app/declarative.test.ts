// The declarative application: a service file loads into the same typed graph the TypeScript API builds,
// with the same one-line errors, and the shipped reference app is such a file.
import * as assert from "node:assert/strict";
import { parse } from "yaml";
import { loadApplication } from "../../components/app/load";
import { planApplication } from "../../components/app/plan";
import { referenceServices } from "../../components/app/reference-app";
import {
    container,
    fileStore,
    memcached,
    postgres,
    rabbitmq,
    redis,
    worker,
} from "../../components/app/services";
import { Service } from "../../components/app/types";
import { validateStageConfig } from "../../components/config";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";
const load = (yaml: string, vars = {}) => loadApplication(parse(yaml), { prefix: "shop.yaml:", vars });
const messages = (yaml: string) => load(yaml).problems.map((p) => p.message);

/** The reference app written with the TypeScript API, as it was before it became a file. */
function referenceInTypeScript(web: number, workers: number, storageGb: number, hostname: string): Service[] {
    const replicated = web > 1;
    const files = fileStore("files");
    const db = postgres("db", { storageGb, backup: { to: files } });
    const cache = redis("cache", { storageGb: Math.max(1, Math.ceil(storageGb / 10)) });
    const sessions = memcached("sessions", { replicas: replicated ? 2 : 1, memoryMb: 64 });
    const queue = rabbitmq("queue", { storageGb });
    const common = {
        image: IMAGE,
        command: ["./podinfo"],
        readinessPath: "/readyz",
        livenessPath: "/healthz",
        writablePaths: ["/data"],
    };
    const webService = container("web", {
        ...common,
        args: ["--port=3000", "--port-metrics=9797", "--level=info"],
        port: 3000,
        env: { PODINFO_UI_MESSAGE: "Keelson reference application" },
        ...(replicated
            ? { autoscale: { minReplicas: web, maxReplicas: web * 3, cpuPercent: 70 } }
            : { replicas: web }),
        connects: [
            { to: db, as: "DATABASE" },
            { to: cache, as: "REDIS" },
            { to: sessions, as: "MEMCACHED" },
            { to: queue, as: "AMQP" },
            { to: files, as: "S3" },
        ],
        routes: [{ kind: "http", hosts: [hostname], path: "/", healthPath: "/readyz" }],
    });
    const jobs = worker("worker", {
        ...common,
        args: ["--port=8080", "--level=info"],
        replicas: workers,
        healthPort: 8080,
        connects: [
            { to: db, as: "DATABASE" },
            { to: queue, as: "AMQP" },
            { to: cache, as: "REDIS" },
            { to: files, as: "S3" },
        ],
    });
    return [webService, jobs];
}

describe("app/declarative: a service file is the TypeScript API as data", () => {
    for (const [web, workers, gb] of [
        [1, 1, 10],
        [3, 2, 100],
    ]) {
        it(`reference-app.yaml plans exactly like the TypeScript definition (web ${web}, storage ${gb} GiB)`, () => {
            const def = (services: readonly Service[]) => ({
                name: "keelson-x",
                namespace: "app",
                services,
                edgeSourceCidrs: ["10.0.192.0/22"],
            });
            const fromFile = planApplication(
                def(
                    referenceServices({
                        hostname: "a.example.com",
                        webReplicas: web,
                        workerReplicas: workers,
                        databaseStorageGb: gb,
                    }),
                ),
            );
            const fromTs = planApplication(def(referenceInTypeScript(web, workers, gb, "a.example.com")));
            assert.deepEqual(fromFile.objects, fromTs.objects);
            assert.deepEqual(fromFile.routes, fromTs.routes);
            assert.deepEqual(
                fromFile.services.map((s) => s.name),
                fromTs.services.map((s) => s.name),
            );
        });
    }

    it("resolves names to service objects at load time (connects, after, backup.to)", () => {
        const app = load(`
services:
  store: { kind: filestore }
  db: { kind: postgres, backup: { to: store } }
  migrate: { kind: job, image: "shop/api:1.4.2", command: [./migrate], connects: [db] }
  api: { kind: container, image: "shop/api:1.4.2", port: 8080, connects: [{ to: db, as: DATABASE }, store], after: [migrate] }
`);
        assert.deepEqual(app.problems, []);
        const byName = Object.fromEntries(app.services.map((s) => [s.name, s]));
        assert.deepEqual(
            app.services.map((s) => s.name),
            ["store", "db", "migrate", "api"],
        );
        assert.equal(byName.api.connections[0].to, byName.db);
        assert.equal(byName.api.connections[0].prefix, "DATABASE");
        assert.equal(byName.api.connections[1].to, byName.store);
        assert.equal((byName.api.args as { after: Service[] }).after[0], byName.migrate);
        assert.equal((byName.db.args as { backup: { to: Service } }).backup.to, byName.store);
        assert.deepEqual(
            app.roots.map((s) => s.name),
            ["api"],
        );
    });

    it("an unknown connection target names the services that exist", () => {
        assert.deepEqual(
            messages(`
services:
  db: { kind: postgres }
  api: { kind: container, image: "shop/api:1.4.2", port: 8080, connects: [dbb] }
`),
            [
                'shop.yaml:services.api.connects[0]: "dbb" is not a service of this application; use one of db, api',
            ],
        );
    });

    it("a cycle is refused with its path", () => {
        assert.deepEqual(
            messages(`
services:
  a: { kind: container, image: "x/a:1.0", port: 80, connects: [b] }
  b: { kind: container, image: "x/b:1.0", port: 80, connects: [c] }
  c: { kind: container, image: "x/c:1.0", port: 80, connects: [a] }
`),
            [
                'shop.yaml:services.a: "a -> b -> c -> a" is a cycle; a dependency must not depend on its dependent (remove one of these edges)',
            ],
        );
    });

    it("types, unknown keys (did you mean), missing keys and kinds: one line each, all at once", () => {
        assert.deepEqual(
            messages(`
services:
  web: { kind: container, image: "x/web:1.0", prot: 80, replicas: two }
  db: { kind: postgress }
  cron: { kind: cronjob, image: "x/c:1.0" }
`),
            [
                "shop.yaml:services.web.prot: 80 is not a known key for a container; did you mean services.web.port?",
                'shop.yaml:services.web.replicas: "two" is not a whole number; write an integer such as 3',
                "shop.yaml:services.web.port: (missing) is required; set port (a whole number)",
                'shop.yaml:services.db.kind: "postgress" is not a service kind; use one of "container", "worker", "daemonset", "cronjob", "job", "postgres", "mysql", "redis", "rabbitmq", "memcached", "filestore", "external"',
                "shop.yaml:services.cron.schedule: (missing) is required; set schedule (a string)",
            ],
        );
    });

    it("placeholders: whole values keep their type, unknown ones name the defined vars", () => {
        const ok = load(`services: { web: { kind: container, image: "x/web:\${tag}", port: "\${port}" } }`, {
            tag: "1.2",
            port: 8080,
        });
        assert.deepEqual(ok.problems, []);
        assert.equal((ok.services[0].args as { port: number }).port, 8080);
        assert.equal((ok.services[0].args as { image: string }).image, "x/web:1.2");
        assert.deepEqual(
            load(`services: { web: { kind: container, image: "x/web:\${version}", port: 80 } }`, {
                tag: "1",
            }).problems.map((p) => p.message),
            [
                'shop.yaml:services.web.image: "x/web:${version}" uses ${version}, which is not defined; define it in keelson:app.vars (defined: tag)',
            ],
        );
    });
});

describe("app/declarative: keelson:app in the stage config", () => {
    const base = { "aws:region": "us-east-1" };
    const validate = (
        app: unknown,
        extra: Record<string, unknown> = {},
        secretKeys: string[] = [],
        files: Record<string, string> = {},
    ) =>
        validateStageConfig("dev", {
            values: { ...base, "keelson:app": app, ...extra },
            secretKeys,
            readFile: (f) => {
                if (!(f in files)) throw new Error(`ENOENT: no such file ${f}`);
                return files[f];
            },
        });

    it("without file or services the stage runs the reference app (web and worker as roots)", () => {
        const { config, problems } = validate(undefined);
        assert.deepEqual(problems, []);
        assert.equal(config?.app.source, "reference");
        assert.deepEqual(
            config?.app.roots.map((s) => s.name),
            ["web", "worker"],
        );
    });

    it("a named file is loaded, and the stage's services are merged over it per service", () => {
        const file = `services:\n  api: { kind: container, image: "shop/api:1.0", port: 8080, replicas: 1 }\n`;
        const { config, problems } = validate(
            { file: "shop.yaml", services: { api: { replicas: 3 } } },
            {},
            [],
            { "shop.yaml": file },
        );
        assert.deepEqual(problems, []);
        assert.equal(config?.app.source, "shop.yaml");
        assert.equal((config?.app.roots[0].args as { replicas: number }).replicas, 3);
    });

    it("semantic errors are the TypeScript API's, prefixed by the file; nothing is returned", () => {
        const file = `services:\n  api: { kind: container, image: "shop/api:latest", port: 70000 }\n`;
        const { config, problems } = validate({ file: "shop.yaml" }, {}, [], { "shop.yaml": file });
        assert.equal(config, undefined);
        assert.deepEqual(
            problems.map((p) => p.message),
            [
                'shop.yaml:services.api.image: "shop/api:latest" uses latest; pin a version, e.g. "shop/api:1.2.3", or a digest',
                "shop.yaml:services.api.port: 70000 is not a port; use an integer 1-65535",
            ],
        );
    });

    it("a missing file is one line naming the key and the fix", () => {
        const { problems } = validate({ file: "nope.yaml" });
        assert.deepEqual(
            problems.map((p) => p.message),
            [
                'app.file: "nope.yaml" cannot be read (ENOENT: no such file nope.yaml); name a YAML file relative to the project',
            ],
        );
    });

    it("secretEnv names secret config keys: missing, plain-text and unused keys are errors; a set one is a Pulumi secret", async () => {
        const services = {
            api: {
                kind: "container",
                image: "shop/api:1.0",
                port: 8080,
                secretEnv: { STRIPE_KEY: "stripe" },
            },
        };
        assert.deepEqual(
            validate({ services }).problems.map((p) => p.message),
            [
                "keelson:secret-stripe: (missing) is required by the application's secretEnv; run `pulumi config set --secret secret-stripe <value>`",
            ],
        );
        assert.deepEqual(
            validate({ services }, { "keelson:secret-stripe": "sk_live" }).problems.map((p) => p.message),
            [
                "keelson:secret-stripe: (plain text) is not a secret; run `pulumi config set --secret secret-stripe <value>`",
            ],
        );
        assert.deepEqual(
            validate({ services }, { "keelson:secret-stripe": "sk", "keelson:secret-old": "x" }, [
                "keelson:secret-stripe",
                "keelson:secret-old",
            ]).problems.map((p) => p.message),
            [
                "keelson:secret-old: [secret] is not read by any service's secretEnv; remove it or reference it",
            ],
        );
        const { config } = validate({ services }, { "keelson:secret-stripe": "sk_live_1" }, [
            "keelson:secret-stripe",
        ]);
        const value = (config?.app.roots[0].args as { secretEnv: Record<string, unknown> }).secretEnv
            .STRIPE_KEY;
        assert.ok(value && typeof value === "object", "a Pulumi Output");
    });

    it("placement names a worker pool of the stage's cluster", () => {
        const services = {
            api: { kind: "container", image: "shop/api:1.0", port: 8080, placement: { pool: "gpu" } },
        };
        assert.deepEqual(
            validate({ services }).problems.map((p) => p.message),
            [
                'app.services.api.placement.pool: "gpu" is not a worker pool of this cluster; use one of general',
            ],
        );
    });
});
