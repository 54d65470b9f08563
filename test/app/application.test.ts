import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { parse } from "yaml";
import { Application } from "../../components/app/Application";
import { contextHash } from "../../components/app/content-hash";
import { container, fileStore, postgres, redis } from "../../components/app/services";
import { RecordedResource, runUnderMocks } from "../../tools/plan/runtime";
import { validateManifest } from "./support/schema";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";

async function smallApp() {
    let routes: unknown;
    let connection: Record<string, unknown> = {};
    const run = await runUnderMocks({ config: { "aws:region": "eu-west-1" } }, () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
        const gate = new random.RandomId("gate", { byteLength: 4 });
        const db = postgres("db", { storageGb: 20 });
        const files = fileStore("files");
        const web = container("web", {
            image: IMAGE,
            port: 3000,
            replicas: 2,
            secretEnv: { SESSION_KEY: "session-secret-value" },
            connects: [{ to: db, as: "DATABASE" }, files],
            routes: [{ kind: "http", hosts: ["shop.example.com"] }],
        });
        const app = new Application("shop", {
            services: [web],
            provider,
            edgeSourceCidrs: ["10.0.192.0/22"],
            dependsOn: [gate],
        });
        routes = app.routes;
        connection = { ...app.connection(db) };
        assert.throws(
            () => app.connection(redis("stranger")),
            /service stranger is not part of application shop/,
        );
        return { dbUrl: connection.url, dbHost: connection.host, dbPort: connection.port };
    });
    return { run, routes, connection };
}

const byName = (run: { resources: RecordedResource[] }, name: string) => {
    const r = run.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
};

describe("app/Application (mocked)", () => {
    let small: Awaited<ReturnType<typeof smallApp>>;
    before(async () => {
        small = await smallApp();
    });

    it("registers exactly these children under the component", () => {
        const app = byName(small.run, "shop");
        assert.equal(app.type, "keelson:app:Application");
        const children = small.run.resources
            .filter((r) => r.parent === app.urn)
            .map((r) => `${r.type} ${r.name}`)
            .sort();
        assert.deepEqual(children, [
            "keelson:app:FileStore shop-files",
            "kubernetes:apps/v1:Deployment shop-web.deployment",
            "kubernetes:apps/v1:StatefulSet shop-db.statefulset",
            "kubernetes:core/v1:ConfigMap shop-db.config",
            "kubernetes:core/v1:Namespace shop-namespace",
            "kubernetes:core/v1:PersistentVolumeClaimPatch shop-db.claim-0",
            "kubernetes:core/v1:Secret shop-db.secret",
            "kubernetes:core/v1:Secret shop-files.secret",
            "kubernetes:core/v1:Secret shop-web.env-secret",
            "kubernetes:core/v1:Service shop-db.headless",
            "kubernetes:core/v1:Service shop-db.service",
            "kubernetes:core/v1:Service shop-web.service",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol.allow-dns",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol.db-from-web",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol.default-deny",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol.web-from-outside",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol.web-to-db",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol.web-to-files",
            "kubernetes:policy/v1:PodDisruptionBudget shop-web.pdb",
            "random:index/randomPassword:RandomPassword shop-db.secret-password",
            "random:index/randomPassword:RandomPassword shop-db.secret-superuser-password",
            "random:index/randomPassword:RandomPassword shop-secret-hash-key",
        ]);
        const store = byName(small.run, "shop-files");
        assert.deepEqual(
            small.run.resources
                .filter((r) => r.parent === store.urn)
                .map((r) => r.type)
                .sort(),
            [
                "aws:iam/accessKey:AccessKey",
                "aws:iam/user:User",
                "aws:iam/userPolicy:UserPolicy",
                "aws:s3/bucket:Bucket",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                "aws:s3/bucketPolicy:BucketPolicy",
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "aws:s3/bucketVersioning:BucketVersioning",
            ],
        );
    });

    it("orders the dependent after the dependency's workload and its Secrets, and everything after the gate", () => {
        const urn = (n: string) => byName(small.run, n).urn;
        const web = byName(small.run, "shop-web.deployment");
        for (const dep of [
            "shop-db.statefulset",
            "shop-files.secret",
            "shop-web.env-secret",
            "shop-namespace",
        ]) {
            assert.ok(web.dependencies.includes(urn(dep)), `web waits for ${dep}`);
        }
        assert.ok(byName(small.run, "shop-namespace").dependencies.includes(urn("gate")));
        assert.ok(byName(small.run, "shop-db.statefulset").dependencies.includes(urn("shop-db.secret")));
    });

    it("generates credentials as Pulumi secrets and builds the URL from the generated password", () => {
        const secret = byName(small.run, "shop-db.secret");
        assert.equal(secret.inputs.stringData, "[secret]");
        const password = String(
            (byName(small.run, "shop-db.secret-password").rawInputs as { length: number }).length,
        );
        assert.equal(password, "32");
        const data = (secret.rawInputs as { stringData: Record<string, string> }).stringData;
        assert.match(data.password, /^[A-Za-z0-9]{32}$/);
        assert.match(data["superuser-password"], /^[A-Za-z0-9]{32}$/);
        assert.notEqual(data["superuser-password"], data.password);
        assert.deepEqual(data, {
            username: "app",
            password: data.password,
            "superuser-password": data["superuser-password"],
            url: `postgres://app:${data.password}@db.shop.svc:5432/app`,
        });
        const files = (
            byName(small.run, "shop-files.secret").rawInputs as { stringData: Record<string, string> }
        ).stringData;
        assert.equal(files.region, "eu-west-1");
        assert.equal(files.url, `s3://${files.bucket}`);
        assert.match(files["access-key-id"], /^AKIA/);
        assert.equal(byName(small.run, "shop-files.secret").inputs.stringData, "[secret]");
        assert.equal(byName(small.run, "shop-web.env-secret").inputs.stringData, "[secret]");
    });

    it("never lets a secret value reach a plain input, an artifact, or a plain env value", () => {
        const secrets = [
            ...Object.values(
                (byName(small.run, "shop-db.secret").rawInputs as { stringData: Record<string, string> })
                    .stringData,
            ),
            "session-secret-value",
            (byName(small.run, "shop-files.secret").rawInputs as { stringData: Record<string, string> })
                .stringData["secret-access-key"],
        ].filter((v) => v.length > 8);
        for (const r of small.run.resources) {
            const text = JSON.stringify(r.inputs);
            for (const s of secrets) assert.ok(!text.includes(s), `${r.name} has a secret in a plain input`);
            // The only ConfigMap is Postgres's init script, which names the password variable only.
            if (r.type === "kubernetes:core/v1:ConfigMap") assert.equal(r.name, "shop-db.config");
        }
        for (const a of small.run.artifacts)
            for (const s of secrets) assert.ok(!a.content.includes(s), `${a.path} leaks`);
    });

    it("puts a keyed hash of the Secrets a pod reads on its template, in plain view (it reveals no value)", () => {
        type Tpl = { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
        const web = byName(small.run, "shop-web.deployment");
        const hash = (web.inputs as Tpl).spec.template.metadata.annotations?.["keelson.io/secret-hash"];
        assert.match(String(hash), /^[0-9a-f]{64}$/);
        const db = byName(small.run, "shop-db.statefulset");
        assert.equal(
            (db.inputs as Tpl).spec.template.metadata.annotations?.["keelson.io/secret-hash"],
            undefined,
        );
        assert.match(
            String((db.inputs as Tpl).spec.template.metadata.annotations?.["keelson.io/config-hash"]),
            /^[0-9a-f]{64}$/,
        );
    });

    it("returns typed connection info, credentials as secrets", () => {
        assert.deepEqual(small.run.outputs, { dbUrl: "[secret]", dbHost: "db.shop.svc", dbPort: 5432 });
        assert.deepEqual(small.run.secretOutputs, ["dbUrl"]);
        assert.deepEqual(Object.keys(small.connection).sort(), [
            "host",
            "password",
            "port",
            "url",
            "username",
        ]);
    });

    it("returns the edge routes and publishes the web service with source IPs kept and kube-proxy's health check", () => {
        assert.deepEqual(small.routes, [
            {
                kind: "http",
                name: "shop-web",
                hosts: ["shop.example.com"],
                path: "/",
                nodePort: 32314,
                healthPath: "/",
                healthCheckNodePort: 32363,
            },
        ]);
        const spec = byName(small.run, "shop-web.service").inputs.spec as Record<string, unknown>;
        assert.deepEqual(
            [spec.type, spec.loadBalancerClass, spec.externalTrafficPolicy, spec.healthCheckNodePort],
            ["LoadBalancer", "keelson.dev/worker-ingress", "Local", 32363],
        );
    });

    it("records every manifest as an artifact that passes the Kubernetes schema, Secret data masked", () => {
        const manifests = small.run.artifacts.filter((a) => a.path.startsWith("manifests/"));
        assert.equal(manifests.length, 18); // the claim patch too: persistentvolumeclaim-data-db-0.yaml
        for (const a of manifests) validateManifest(parse(a.content), a.path);
        assert.deepEqual(
            parse(
                small.run.artifacts.find((a) => a.path === "manifests/shop/secret-db-credentials.yaml")!
                    .content,
            ).stringData,
            {
                password: "[secret]",
                "superuser-password": "[secret]",
                url: "[secret]",
                username: "[secret]",
            },
        );
    });

    it("needs no VM layer: only the provider, Kubernetes objects and the file store's AWS resources", () => {
        const types = new Set(small.run.resources.map((r) => r.type.split(":")[0]));
        assert.deepEqual([...types].sort(), ["aws", "keelson", "kubernetes", "pulumi", "random"]);
        assert.ok(
            small.run.resources.every((r) => !r.type.startsWith("aws:ec2") && !r.type.startsWith("aws:ssm")),
        );
    });
});

describe("app/ImageBuild through an Application (mocked)", () => {
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-build-"));
        fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\nCOPY app /app\n");
        fs.writeFileSync(path.join(dir, "app"), "binary");
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("builds into an immutable, scanned ECR repository tagged by content and deploys that tag", async () => {
        const run = await runUnderMocks({ config: { "aws:region": "us-east-1" } }, () => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
            new Application("shop", {
                services: [container("api", { image: { context: dir }, port: 8080 })],
                provider,
            });
            return {};
        });
        const tag = contextHash(dir);
        const repo = byName(run, "shop-api-repo");
        assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE");
        assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
        const image = byName(run, "shop-api-image");
        // The repository's name is its autoname, `shop-api-repo-` plus 7 characters.
        const url = String(image.inputs.imageName).split(":")[0];
        assert.match(url, /^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com\/shop-api-repo-[0-9a-f]{7}$/);
        assert.equal(image.inputs.imageName, `${url}:${tag}`);
        assert.deepEqual(image.inputs.build, {
            context: dir,
            dockerfile: `${dir}/Dockerfile`,
            platform: "linux/amd64",
        });
        // The registry block carries the ECR token, so the whole block is a secret.
        assert.equal(image.inputs.registry, "[secret]");
        assert.deepEqual(image.rawInputs.registry, {
            server: url,
            username: "AWS",
            password: "offline-plan-ecr-token",
        });
        const deployment = byName(run, "shop-api.deployment").rawInputs as {
            spec: { template: { spec: { containers: { image: string }[] } } };
        };
        assert.equal(deployment.spec.template.spec.containers[0].image, `${url}:${tag}`);
        assert.ok(byName(run, "shop-api.deployment").dependencies.includes(image.urn));
    });
});

describe("app/Application into an existing namespace (mocked)", () => {
    it("creates no Namespace and makes every object wait for the gate instead", async () => {
        const run = await runUnderMocks({}, () => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
            const gate = new random.RandomId("gate", { byteLength: 4 });
            new Application("shop", {
                namespace: "team-a",
                createNamespace: false,
                services: [container("web", { image: IMAGE, port: 3000 })],
                provider,
                dependsOn: [gate],
            });
            return {};
        });
        assert.equal(
            run.resources.some((r) => r.type === "kubernetes:core/v1:Namespace"),
            false,
        );
        const gate = byName(run, "gate").urn;
        for (const r of run.resources.filter(
            (x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:core/v1:Namespace"),
        )) {
            if (r.type === "pulumi:providers:kubernetes") continue;
            assert.ok(r.dependencies.includes(gate), `${r.name} waits for the gate`);
        }
        assert.deepEqual(
            run.artifacts.map((a) => a.path),
            [
                "manifests/team-a/deployment-web.yaml",
                "manifests/team-a/networkpolicy-allow-dns.yaml",
                "manifests/team-a/networkpolicy-default-deny.yaml",
                "manifests/team-a/service-web.yaml",
            ],
        );
    });
});
