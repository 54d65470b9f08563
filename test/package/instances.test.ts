// Two Clusters, two Edges and two Applications in one program under the mock engine: every component keeps
// its own resources and artifacts (no process-global registry), and the plan writes each one's files apart.
import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Application } from "../../components/app/Application";
import { container } from "../../components/app/services";
import { Cluster } from "../../components/cluster/Cluster";
import { WorkerIngress } from "../../components/cluster/WorkerIngress";
import { Edge } from "../../components/edge/Edge";
import { MockRun, runUnderMocks } from "../../tools/plan/runtime";
import { fakeNetwork } from "../cluster/graph-support";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";

interface Built {
    readonly clusters: Cluster[];
    readonly edges: Edge[];
    readonly apps: Application[];
}

async function twoOfEach(): Promise<{ run: MockRun<Record<string, unknown>>; built: Built }> {
    let built: Built | undefined;
    const run = await runUnderMocks({ stack: "dev", config: { "aws:region": "eu-west-1" } }, () => {
        const network = fakeNetwork(1);
        const clusters = ["alpha", "beta"].map((n) => new Cluster(n, { network, stage: "dev" }));
        const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
        const apps = ["shop", "blog"].map(
            (n) =>
                new Application(n, {
                    provider,
                    services: [
                        container("web", {
                            image: IMAGE,
                            port: 3000,
                            routes: [{ kind: "http", hosts: [`${n}.example.com`] }],
                        }),
                    ],
                }),
        );
        // Each edge forwards to its cluster's pools through their internal NLB.
        const ingresses = clusters.map(
            (c, i) =>
                new WorkerIngress(`${c.clusterName}-ingress`, {
                    vpcId: network.vpcId,
                    subnetIds: network.privateSubnetIds,
                    securityGroupId: pulumi.output(`sg-workerlb-${i}`),
                    groups: Object.fromEntries(c.workers.map((w) => [w.pool, w.groupName])),
                    routes: apps[i].routes,
                    tags: {},
                }),
        );
        const edges = clusters.map(
            (c, i) =>
                new Edge(`${c.clusterName}-edge`, {
                    stage: "dev",
                    network: {
                        ...network,
                        securityGroups: { edge: { id: pulumi.output(`sg-edge-${i}`) } },
                    },
                    backends: [{ name: "workers", address: ingresses[i].dnsName }],
                    routes: apps[i].routes,
                }),
        );
        built = { clusters, edges, apps };
        return {};
    });
    return { run, built: built! };
}

describe("package: two of each component in one program (mocked)", function () {
    this.timeout(300000);
    let run: MockRun<Record<string, unknown>>;
    let built: Built;
    before(async () => {
        ({ run, built } = await twoOfEach());
    });

    it("registers every resource once, the second instance a renamed copy of the first", () => {
        const urns = run.resources.map((r) => r.urn);
        assert.equal(new Set(urns).size, urns.length);
        const names = (prefix: string) =>
            run.resources
                .filter((r) => r.name.startsWith(prefix))
                .map((r) => `${r.type} ${r.name.slice(prefix.length)}`)
                .sort();
        for (const [a, b] of [
            ["alpha", "beta"],
            ["alpha-edge", "beta-edge"],
            ["shop", "blog"],
        ]) {
            assert.ok(names(`${a}-`).length > 0, `${a} registered resources`);
            if (a === "alpha") {
                // alpha-* also matches alpha-edge-* and alpha-ingress-*, whose listeners follow each app's
                // NodePorts: compare the clusters without them.
                const own = (p: string) =>
                    names(`${p}-`).filter((n) => !n.includes(" edge") && !n.includes(" ingress"));
                assert.deepEqual(own(a), own(b));
            } else {
                assert.deepEqual(names(`${a}-`), names(`${b}-`));
            }
        }
    });

    it("keeps each component's artifacts on the component, under its own paths", () => {
        const [alpha, beta] = built.clusters;
        const clusterPaths = [
            "kubeadm/control-plane-join.yaml",
            "kubeadm/init.yaml",
            "kubeadm/worker-general.yaml",
            "upgrade/keelson-upgrade.sh",
            "user-data/general.yaml",
            "user-data/master-0.yaml",
        ];
        assert.deepEqual(Object.keys(alpha.artifacts).sort(), clusterPaths);
        assert.deepEqual(Object.keys(beta.artifacts).sort(), clusterPaths);
        assert.deepEqual(Object.keys(built.edges[0].artifacts).sort(), [
            "edge/nginx.conf",
            "user-data/alpha-edge-0.yaml",
        ]);
        assert.deepEqual(Object.keys(built.edges[1].artifacts).sort(), [
            "edge/nginx.conf",
            "user-data/beta-edge-0.yaml",
        ]);
        assert.deepEqual(Object.keys(built.apps[0].artifacts).sort(), [
            "manifests/shop/deployment-web.yaml",
            "manifests/shop/namespace-shop.yaml",
            "manifests/shop/networkpolicy-allow-dns.yaml",
            "manifests/shop/networkpolicy-default-deny.yaml",
            "manifests/shop/service-web.yaml",
        ]);
    });

    it("writes a path two components rendered under each component's name, nothing overwritten", () => {
        const paths = run.artifacts.map((a) => a.path);
        const expected = [
            ...["alpha", "beta"].flatMap((c) =>
                [
                    "kubeadm/control-plane-join.yaml",
                    "kubeadm/init.yaml",
                    "kubeadm/worker-general.yaml",
                    "upgrade/keelson-upgrade.sh",
                    "user-data/general.yaml",
                    "user-data/master-0.yaml",
                ].map((p) => `${c}/${p}`),
            ),
            "alpha-edge/edge/nginx.conf",
            "beta-edge/edge/nginx.conf",
            ...Object.keys(built.apps[1].artifacts),
            ...Object.keys(built.apps[0].artifacts),
            "user-data/alpha-edge-0.yaml",
            "user-data/beta-edge-0.yaml",
        ].sort((a, b) => a.localeCompare(b));
        assert.deepEqual(paths, expected);
        const content = (p: string) => run.artifacts.find((a) => a.path === p)!.content;
        assert.match(content("alpha/kubeadm/init.yaml"), /^clusterName: alpha$/m);
        assert.match(content("beta/kubeadm/init.yaml"), /^clusterName: beta$/m);
        assert.match(content("alpha-edge/edge/nginx.conf"), /server_name shop\.example\.com;/);
        assert.doesNotMatch(content("alpha-edge/edge/nginx.conf"), /blog\.example\.com/);
        assert.match(content("beta-edge/edge/nginx.conf"), /server_name blog\.example\.com;/);
    });
});
