// Keelson as an installed package: `npm pack`, installed into an empty folder outside the repository, used by
// a separate plain-JavaScript Pulumi program (test/package/consumer/index.js) run with `node`, no ts-node.
// The install is `npm ci --offline`: the lockfile is the repository's, minus its dev-only entries, so every
// dependency comes from the npm cache at the version the repository pins (no registry, no network).
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Application } from "../../components/app/Application";
import { container, postgres } from "../../components/app/services";
import { Cluster } from "../../components/cluster/Cluster";
import { runUnderMocks } from "../../tools/plan/runtime";

const ROOT = path.resolve(__dirname, "..", "..");

interface ConsumerRun {
    exports: string[];
    keelsonPath: string;
    pulumiSeenByKeelson: string;
    pulumiSeenByProgram: string;
    tsNodeLoaded: boolean;
    endpoint: string;
    clusterName: string;
    routes: unknown[];
    clusterArtifacts: string[];
    registered: [string, string][];
}

type LockEntry = { dev?: boolean; link?: boolean; [k: string]: unknown };

/** The consumer's lockfile: keelson from the tarball, every other entry the repository's non-dev one. */
function consumerLock(tarball: string): unknown {
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
        packages: Record<string, LockEntry>;
    };
    const root = lock.packages[""] as { version: string; dependencies: Record<string, string> };
    const packages: Record<string, unknown> = {
        "": { name: "consumer", version: "1.0.0", dependencies: { keelson: `file:${tarball}` } },
        "node_modules/keelson": {
            version: root.version,
            resolved: `file:${tarball}`,
            dependencies: root.dependencies,
        },
    };
    for (const [p, entry] of Object.entries(lock.packages)) {
        if (p !== "" && !entry.dev && !entry.link) packages[p] = entry;
    }
    return { name: "consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

describe("package: npm pack installed into a separate program, run with plain node", function () {
    this.timeout(20 * 60 * 1000);
    let dir: string;
    let files: string[];
    let run: ConsumerRun;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-consumer-"));
        const npm = (args: string[], cwd: string) =>
            execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        npm(["run", "build"], ROOT);
        const [packed] = JSON.parse(
            npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dir], ROOT),
        ) as {
            filename: string;
            files: { path: string }[];
        }[];
        files = packed.files.map((f) => f.path).sort();
        fs.writeFileSync(
            path.join(dir, "package.json"),
            JSON.stringify({
                name: "consumer",
                version: "1.0.0",
                private: true,
                dependencies: { keelson: `file:${packed.filename}` },
            }),
        );
        fs.writeFileSync(path.join(dir, "package-lock.json"), JSON.stringify(consumerLock(packed.filename)));
        npm(["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], dir);
        fs.copyFileSync(path.join(__dirname, "consumer", "index.js"), path.join(dir, "index.js"));
        const out = execFileSync(process.execPath, ["index.js"], { cwd: dir, encoding: "utf8" });
        run = JSON.parse(out) as ConsumerRun;
    });

    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("ships compiled JavaScript with declarations, no TypeScript sources, tests or tools", () => {
        const outside = files.filter((f) => !f.startsWith("dist/"));
        assert.deepEqual(outside, ["README.md", "package.json"]);
        assert.ok(files.includes("dist/components/index.js"));
        assert.ok(files.includes("dist/components/index.d.ts"));
        assert.deepEqual(
            files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
            [],
        );
        assert.deepEqual(
            files.filter((f) => !/^dist\/(components\/|tools\/plan\/types\.)/.test(f)),
            ["README.md", "package.json"],
        );
    });

    it("exports the components and the service factories", () => {
        assert.deepEqual(run.exports, [
            "Addons",
            "AddonsError",
            "Application",
            "ApplicationError",
            "Cluster",
            "Edge",
            "FileStore",
            "ImageBuild",
            "Network",
            "REFERENCE_IMAGE",
            "Service",
            "WorkerIngress",
            "WorkerPool",
            "container",
            "cronJob",
            "daemonSet",
            "externalService",
            "fileStore",
            "ingressPorts",
            "memcached",
            "mysql",
            "postgres",
            "rabbitmq",
            "redis",
            "referenceApp",
            "worker",
        ]);
    });

    it("loads from the installed package with the program's one @pulumi/pulumi, without ts-node", () => {
        const installed = fs.realpathSync(path.join(dir, "node_modules"));
        assert.equal(run.keelsonPath, path.join(installed, "keelson", "dist", "components", "index.js"));
        assert.equal(run.pulumiSeenByKeelson, path.join(installed, "@pulumi", "pulumi", "index.js"));
        assert.equal(run.pulumiSeenByProgram, run.pulumiSeenByKeelson);
        assert.equal(run.tsNodeLoaded, false);
    });

    it("plans the Cluster and the Application exactly as the repository's sources do", async () => {
        assert.equal(run.clusterName, "c");
        assert.equal(run.endpoint, "https://203.0.113.10:6443");
        assert.deepEqual(run.clusterArtifacts, [
            "kubeadm/control-plane-join.yaml",
            "kubeadm/init.yaml",
            "kubeadm/worker-general.yaml",
            "upgrade/keelson-upgrade.sh",
            "user-data/general.yaml",
            "user-data/master-0.yaml",
        ]);
        const reference = await runUnderMocks(
            { stack: "dev", project: "consumer", config: { "aws:region": "eu-west-1" } },
            () => {
                const network = {
                    vpcId: "vpc-1",
                    availabilityZones: ["eu-west-1a"],
                    publicSubnetIds: ["subnet-public-a"],
                    privateSubnetIds: ["subnet-private-a"],
                    securityGroups: {
                        masters: { id: pulumi.output("sg-masters") },
                        workers: { id: pulumi.output("sg-workers") },
                        apiLb: { id: pulumi.output("sg-apilb") },
                    },
                };
                const cluster = new Cluster("c", { network });
                const db = postgres("db");
                const web = container("web", {
                    image: "ghcr.io/stefanprodan/podinfo:6.9.2",
                    port: 3000,
                    connects: [db],
                    routes: [{ kind: "http", hosts: ["shop.example.com"] }],
                });
                const app = new Application("shop", {
                    services: [web],
                    provider: cluster.provider as k8s.Provider,
                });
                return { routes: app.routes };
            },
        );
        const sorted = (l: [string, string][]) => [...l].sort((a, b) => `${a}`.localeCompare(`${b}`));
        assert.deepEqual(
            sorted(run.registered),
            sorted(reference.resources.map((r): [string, string] => [r.type, r.name])),
        );
        assert.deepEqual(run.routes, reference.outputs.routes);
        const names = run.registered.map(([, n]) => n);
        for (const n of [
            "c",
            "c-master-0",
            "c-general",
            "c-k8s",
            "shop",
            "shop-web.deployment",
            "shop-db.statefulset",
        ]) {
            assert.ok(names.includes(n), `${n} registered`);
        }
    });
});
