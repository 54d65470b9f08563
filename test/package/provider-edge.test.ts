// The provider's Edge as a Python, Go or YAML program reaches it: the flat routes become the TypeScript Edge's
// routes (pure), and ComponentProvider.construct with the engine's inputs builds exactly what the TypeScript stage
// program builds for its edge (the workers' internal NLB and the Edge forwarding to it), under the SDK's mocks.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { WorkerIngress } from "../../components/cluster/WorkerIngress";
import { Edge } from "../../components/edge/Edge";
import { EdgeRoute } from "../../components/edge/types";
import { Network } from "../../components/network/Network";
import { EdgeRouteArgs, edgeRoutes } from "../../provider/edge";
import { runUnderMocks } from "../../tools/plan/runtime";
import { below, keelsonProvider, networkOutputs } from "./provider-support";

const CONFIG = { "aws:region": "eu-west-1" };
const ROUTES: EdgeRouteArgs[] = [
    { kind: "http", name: "web", hosts: ["shop.example.com"], nodePort: 30080, healthCheckNodePort: 30081 },
    {
        kind: "http",
        name: "api",
        hosts: ["shop.example.com"],
        path: "/api",
        healthPath: "/api/healthz",
        nodePort: 30090,
        websocket: true,
    },
    { kind: "tcp", name: "db", listenPort: 5432, nodePort: 30432 },
];
const AS_TYPESCRIPT: EdgeRoute[] = [
    {
        kind: "http",
        name: "web",
        hosts: ["shop.example.com"],
        path: "/",
        nodePort: 30080,
        healthPath: "/",
        healthCheckNodePort: 30081,
    },
    {
        kind: "http",
        name: "api",
        hosts: ["shop.example.com"],
        path: "/api",
        nodePort: 30090,
        healthPath: "/api/healthz",
        websocket: true,
    },
    { kind: "tcp", name: "db", listenPort: 5432, nodePort: 30432 },
];
const network = () =>
    new Network("net", { availabilityZones: ["eu-west-1a", "eu-west-1b"], firewall: { endpoint: "single" } });

describe("package: the provider's Edge routes (pure)", () => {
    it("become the TypeScript Edge's routes: path `/` and the health path the route's path by default", () => {
        assert.deepEqual(edgeRoutes(ROUTES), { routes: AS_TYPESCRIPT, problems: [] });
    });

    it("refuses a field its kind has no use for, a missing one, and an unknown kind, each with key, value and fix", () => {
        const { problems } = edgeRoutes([
            { kind: "http", name: "web", nodePort: 30080, listenPort: 8443 },
            { kind: "tcp", name: "db", nodePort: 30432, hosts: ["db.example.com"], path: "/" },
            { kind: "sctp" as "tcp", name: "x", nodePort: 30500, listenPort: 9000 },
        ]);
        assert.deepEqual(
            problems.map((p) => p.message),
            [
                "routes[0].listenPort: 8443 is only for tcp and udp routes; remove it (http is served on 443)",
                "routes[0].hosts: (missing) is required for an http route; list its host names, e.g. [app.example.com]",
                'routes[1].hosts: ["db.example.com"] is only for http routes; remove it from this tcp route',
                'routes[1].path: "/" is only for http routes; remove it from this tcp route',
                "routes[1].listenPort: (missing) is required for a tcp route; give the public port, e.g. 5432",
                'routes[2].kind: "sctp" is not a route kind; use "http", "tcp" or "udp"',
            ],
        );
    });
});

describe("package: the provider's Edge, constructed as another language's program does", function () {
    this.timeout(300000);

    it("builds the workers' internal NLB and the TypeScript Edge, and answers with the schema's outputs", async () => {
        const groups = ["shop-general-asg", "shop-data-asg"];
        const viaProvider = await runUnderMocks({ stack: "dev", config: CONFIG }, async () => {
            const net = network();
            const { urn, state } = await keelsonProvider().construct(
                "shop-edge",
                "keelson:index:Edge",
                {
                    network: networkOutputs(net),
                    workerGroupNames: groups.map((g) => pulumi.output(g)),
                    routes: ROUTES,
                    engine: "haproxy",
                    count: 2,
                },
                {},
            );
            return { urn, ...(state as Record<string, pulumi.Output<unknown>>) };
        });
        // What the TypeScript stage program makes for its edge, with the same routes and pools.
        const direct = await runUnderMocks({ stack: "dev", config: CONFIG }, () => {
            const net = network();
            const parent = new pulumi.ComponentResource("keelson:index:Edge", "shop-edge");
            const ingress = new WorkerIngress(
                "shop-edge-ingress",
                {
                    vpcId: net.vpcId,
                    subnetIds: net.privateSubnetIds,
                    securityGroupId: net.securityGroups.workerLb.id,
                    groups: { "pool-0": groups[0], "pool-1": groups[1] },
                    routes: AS_TYPESCRIPT,
                    tags: {},
                },
                { parent },
            );
            new Edge(
                "shop-edge",
                {
                    network: net,
                    backends: [{ name: "workers", address: ingress.dnsName }],
                    routes: AS_TYPESCRIPT,
                    engine: "haproxy",
                    count: 2,
                },
                { parent },
            );
            return { urn: parent.urn };
        });

        const wrapper = viaProvider.resources.find((r) => r.type === "keelson:index:Edge")!;
        assert.equal(wrapper.name, "shop-edge");
        assert.deepEqual(
            viaProvider.resources.filter((r) => r.parent === wrapper.urn).map((r) => [r.type, r.name]),
            [
                ["keelson:cluster:WorkerIngress", "shop-edge-ingress"],
                ["keelson:edge:Edge", "shop-edge"],
            ],
        );
        const got = below(viaProvider.resources, wrapper.urn);
        assert.deepEqual(
            got.filter((r) => r[0] === "aws:autoscaling/attachment:Attachment").map((r) => r[1]),
            [
                "shop-edge-ingress-tcp-30080-pool-0",
                "shop-edge-ingress-tcp-30080-pool-1",
                "shop-edge-ingress-tcp-30090-pool-0",
                "shop-edge-ingress-tcp-30090-pool-1",
                "shop-edge-ingress-tcp-30432-pool-0",
                "shop-edge-ingress-tcp-30432-pool-1",
            ],
        );
        assert.equal(got.filter((r) => r[0] === "aws:ec2/instance:Instance").length, 2);
        assert.deepEqual(got, below(direct.resources, String(direct.outputs.urn)));

        const out = viaProvider.outputs as Record<string, unknown>;
        assert.deepEqual(Object.keys(out).sort(), [
            "ingressDnsName",
            "nlbDnsName",
            "publicIps",
            "url",
            "urn",
        ]);
        assert.equal(out.url, "https://shop.example.com");
        assert.equal(out.nlbDnsName, "");
        assert.equal((out.publicIps as string[]).length, 2);
        assert.match(String(out.ingressDnsName), /\.elb\.eu-west-1\.amazonaws\.com$/);
    });

    it("refuses bad routes before registering anything, naming each", async () => {
        const run = await runUnderMocks({ stack: "dev", config: CONFIG }, async () => {
            await assert.rejects(
                keelsonProvider().construct(
                    "shop-edge",
                    "keelson:index:Edge",
                    {
                        network: {
                            vpcId: "vpc-1",
                            availabilityZones: ["eu-west-1a"],
                            publicSubnetIds: ["s"],
                            privateSubnetIds: ["p"],
                            securityGroups: {},
                        },
                        workerGroupNames: ["g"],
                        routes: [{ kind: "tcp", name: "db", nodePort: 30432 }],
                    },
                    {},
                ),
                {
                    message:
                        "edge shop-edge: 1 problem; nothing was created:\n  - routes[0].listenPort: (missing) is required for a tcp route; give the public port, e.g. 5432",
                },
            );
            return {};
        });
        assert.deepEqual(run.resources, []);
    });
});
