// The component provider as `pulumi package add` starts it: provider/index.ts in its own process serves the
// resource provider gRPC protocol; this test asks it for its schema as the CLI does (GetSchema), the schema
// from which the CLI generates the Python, Go, .NET and Java SDKs.
import { strict as assert } from "node:assert";
import { ChildProcess } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as providerGrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as providerPb from "@pulumi/pulumi/proto/provider_pb";
import { call, startPlugin } from "../support/plugin";

describe("package: the component provider over the provider protocol", function () {
    this.timeout(300000);
    let child: ChildProcess;
    let client: InstanceType<typeof providerGrpc.ResourceProviderClient>;

    before(async () => {
        let port: number;
        ({ child, port } = await startPlugin(path.join(__dirname, "..", "..", "provider")));
        client = new providerGrpc.ResourceProviderClient(
            `127.0.0.1:${port}`,
            grpc.credentials.createInsecure(),
        );
    });

    after(() => {
        client?.close();
        child?.kill("SIGTERM");
    });

    it("answers GetSchema with the keelson package, Network, Cluster and Edge as components", async () => {
        const res = await call<providerPb.GetSchemaRequest, providerPb.GetSchemaResponse>(
            client.getSchema.bind(client),
            new providerPb.GetSchemaRequest().setVersion(0),
        );
        const schema = JSON.parse(res.getSchema()) as {
            name: string;
            resources: Record<string, { isComponent: boolean; requiredInputs: string[] }>;
        };
        assert.equal(schema.name, "keelson");
        assert.deepEqual(
            Object.entries(schema.resources)
                .map(([token, r]) => [token, r.isComponent, r.requiredInputs])
                .sort(),
            [
                ["keelson:index:Cluster", true, ["network"]],
                ["keelson:index:Edge", true, ["network", "routes", "workerGroupNames"]],
                ["keelson:index:Network", true, []],
            ],
        );
    });
});
