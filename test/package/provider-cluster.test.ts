// The provider's Cluster as a Python, Go or YAML program reaches it: ComponentProvider.construct (what the
// provider's Construct call runs, without the gRPC server) with the inputs the engine passes (plain values, the
// network's IDs as outputs, the security groups as resource references), under the SDK's mocks. It builds
// exactly the TypeScript Cluster, as its only child, and answers with the outputs its schema names.
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../../components/cluster/Cluster";
import { Network } from "../../components/network/Network";
import { runUnderMocks } from "../../tools/plan/runtime";
import { below, keelsonProvider, networkOutputs } from "./provider-support";

const CONFIG = { "aws:region": "eu-west-1" };
const SHAPE = {
    clusterName: "shop",
    masters: 3,
    workerPools: [{ name: "general", instanceType: "m7i.large", count: 2 }],
};
const network = () =>
    new Network("net", {
        availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        firewall: { endpoint: "nlb" },
    });

describe("package: the provider's Cluster, constructed as another language's program does", function () {
    this.timeout(300000);

    it("builds the TypeScript Cluster as its only child and answers with the schema's outputs", async () => {
        const provider = keelsonProvider();
        const viaProvider = await runUnderMocks({ stack: "dev", config: CONFIG }, async () => {
            const net = network();
            const { urn, state } = await provider.construct(
                "shop",
                "keelson:index:Cluster",
                {
                    ...SHAPE,
                    network: networkOutputs(net),
                },
                {},
            );
            return { urn, ...(state as Record<string, pulumi.Output<unknown>>) };
        });
        const direct = await runUnderMocks({ stack: "dev", config: CONFIG }, () => {
            const net = network();
            const c = new Cluster("shop", { ...SHAPE, network: net });
            return { urn: c.urn };
        });

        const wrapper = viaProvider.resources.find((r) => r.type === "keelson:index:Cluster")!;
        assert.equal(wrapper.name, "shop");
        const children = viaProvider.resources.filter((r) => r.parent === wrapper.urn);
        assert.deepEqual(
            children.map((r) => [r.type, r.name]),
            [["keelson:cluster:Cluster", "shop"]],
        );
        // The same resources with the same inputs as the TypeScript Cluster makes.
        const inner = children[0].urn;
        const directRoot = String(direct.outputs.urn);
        const got = below(viaProvider.resources, inner);
        assert.equal(got.length, below(direct.resources, directRoot).length);
        assert.deepEqual(
            got
                .filter((r) => r[0] === "keelson:cluster:MasterSlot" || r[0] === "keelson:cluster:WorkerPool")
                .map((r) => r[1]),
            ["shop-master-0", "shop-master-1", "shop-master-2", "shop-general"],
        );
        assert.deepEqual(got, below(direct.resources, directRoot));

        const out = viaProvider.outputs as Record<string, unknown>;
        assert.deepEqual(Object.keys(out).sort(), [
            "caCertPem",
            "clusterName",
            "endpoint",
            "internalEndpoint",
            "kubeconfig",
            "masterRoleArn",
            "nodeRoleArn",
            "oidcIssuer",
            "oidcProviderArn",
            "ssmPrefix",
            "urn",
            "workerGroupNames",
        ]);
        assert.ok(viaProvider.secretOutputs.includes("kubeconfig"));
        assert.equal(out.kubeconfig, "[secret]");
        assert.equal(out.clusterName, "shop");
        assert.equal(out.ssmPrefix, "/keelson/dev/shop");
        assert.equal(out.internalEndpoint, "https://api.shop.internal:6443");
        assert.match(String(out.endpoint), /^https:\/\/.+:6443$/);
        assert.match(String(out.caCertPem), /^-----BEGIN CERTIFICATE-----/);
        assert.match(String(out.oidcIssuer), /^https:\/\/.+\.s3\.eu-west-1\.amazonaws\.com$/);
        assert.match(String(out.oidcProviderArn), /^arn:aws:iam::\d{12}:oidc-provider\//);
        assert.match(String(out.nodeRoleArn), /^arn:aws:iam::\d{12}:role\//);
        assert.equal((out.workerGroupNames as string[]).length, 1);
    });
});
