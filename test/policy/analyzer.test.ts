// The pack as the Pulumi CLI runs it: policy/index.ts started as its own process serves the
// analyzer gRPC protocol; this test talks to it like the engine does (GetAnalyzerInfo, Analyze).
import { strict as assert } from "node:assert";
import { ChildProcess } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerGrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { call, startPlugin } from "../support/plugin";

const POLICY_DIR = path.join(__dirname, "..", "..", "policy");

type Client = InstanceType<typeof analyzerGrpc.AnalyzerClient>;

describe("policy pack over the analyzer protocol", function () {
    this.timeout(120000);
    let child: ChildProcess;
    let client: Client;

    before(async () => {
        let port: number;
        ({ child, port } = await startPlugin(POLICY_DIR));
        client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill("SIGTERM");
    });

    it("describes the keelson pack and its policies", async () => {
        const info = await call<Empty, analyzerPb.AnalyzerInfo>(
            client.getAnalyzerInfo.bind(client),
            new Empty(),
        );
        assert.equal(info.getName(), "keelson");
        const policies = info.getPoliciesList().map((p) => p.getName());
        assert.equal(policies.length, 25);
        assert.deepEqual(policies.slice(0, 2), ["k8s-pod-security-restricted", "k8s-container-resources"]);
        assert.deepEqual(policies.slice(-2), ["aws-asg-spot-drained", "keelson-stackscore"]);
    });

    it("reports a mandatory IMDSv1 violation on an instance and none on a secure one", async () => {
        const analyze = (name: string, props: Record<string, unknown>) => {
            const req = new analyzerPb.AnalyzeRequest();
            req.setType("aws:ec2/instance:Instance");
            req.setName(name);
            req.setUrn(`urn:pulumi:prod::keelson::aws:ec2/instance:Instance::${name}`);
            req.setProperties(Struct.fromJavaScript(props as never));
            req.setOptions(new analyzerPb.AnalyzerResourceOptions());
            return call<analyzerPb.AnalyzeRequest, analyzerPb.AnalyzeResponse>(
                client.analyze.bind(client),
                req,
            );
        };
        const bad = await analyze("node-0", {
            metadataOptions: { httpTokens: "optional" },
            rootBlockDevice: { encrypted: true },
        });
        assert.deepEqual(
            bad.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getEnforcementlevel(), d.getMessage()]),
            [
                [
                    "aws-ec2-imdsv2",
                    analyzerPb.EnforcementLevel.MANDATORY,
                    // The analyzer prefixes the policy's description.
                    "EC2 instances, spot requests, launch configurations and launch templates require IMDSv2 (metadataOptions.httpTokens: required).\n" +
                        "node-0 allows IMDSv1: set metadataOptions.httpTokens to required.",
                ],
            ],
        );
        const good = await analyze("node-1", {
            metadataOptions: { httpTokens: "required" },
            rootBlockDevice: { encrypted: true },
        });
        assert.deepEqual(good.getDiagnosticsList(), []);
    });
});
