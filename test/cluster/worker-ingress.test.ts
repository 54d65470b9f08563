// The worker pools' internal NLB: the distinct NodePorts of the routes (pure), and its exact children
// under the mock engine.
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
    ingressPorts,
    targetHealth,
    WORKER_DRAIN_SECONDS,
    WorkerIngress,
} from "../../components/cluster/WorkerIngress";
import { runUnderMocks } from "../../tools/plan/runtime";
import { ofType } from "./graph-support";

const ROUTES = [
    { kind: "http", nodePort: 30080 },
    { kind: "http", nodePort: 30080 },
    { kind: "tcp", nodePort: 30443, healthCheckNodePort: 31500 },
    { kind: "udp", nodePort: 30053 },
    { kind: "tcp", nodePort: 30053 },
];

describe("cluster/WorkerIngress", function () {
    this.timeout(120000);

    it("listens once per distinct NodePort and protocol, HTTP and TCP as TCP", () => {
        assert.deepEqual(ingressPorts(ROUTES), [
            { protocol: "TCP", port: 30053 },
            { protocol: "UDP", port: 30053 },
            { protocol: "TCP", port: 30080 },
            { protocol: "TCP", port: 30443, healthCheckNodePort: 31500 },
        ]);
        assert.deepEqual(ingressPorts([]), []);
    });

    it("keeps an unhealthy node's connections on TCP target groups only (UDP has no such setting)", () => {
        assert.deepEqual(targetHealth({ protocol: "TCP", port: 30080 }).targetHealthStates, [
            { enableUnhealthyConnectionTermination: false, unhealthyDrainingInterval: WORKER_DRAIN_SECONDS },
        ]);
        assert.equal("targetHealthStates" in targetHealth({ protocol: "UDP", port: 30053 }), false);
        assert.equal(
            targetHealth({ protocol: "UDP", port: 30053 }).deregistrationDelay,
            WORKER_DRAIN_SECONDS,
        );
    });

    it("puts an internal NLB over every pool's group: a listener and target group per port, each group attached", async () => {
        const run = await runUnderMocks({ stack: "prod", config: { "aws:region": "eu-west-1" } }, () => {
            const ingress = new WorkerIngress("keelson-prod-ingress", {
                vpcId: pulumi.output("vpc-0abc"),
                subnetIds: ["a", "b", "c"].map((z) => pulumi.output(`subnet-private-${z}`)),
                securityGroupId: pulumi.output("sg-workerlb"),
                groups: { general: pulumi.output("asg-general"), data: pulumi.output("asg-data") },
                routes: ROUTES.slice(0, 3),
                tags: { "keelson:cluster": "keelson-prod" },
            });
            return { dnsName: ingress.dnsName };
        });
        const [lb] = ofType(run.resources, "aws:lb/loadBalancer:LoadBalancer");
        assert.deepEqual(
            [
                lb.name,
                lb.inputs.internal,
                lb.inputs.loadBalancerType,
                lb.inputs.subnets,
                lb.inputs.securityGroups,
            ],
            [
                "keelson-prod-ingress",
                true,
                "network",
                ["subnet-private-a", "subnet-private-b", "subnet-private-c"],
                ["sg-workerlb"],
            ],
        );
        assert.equal(lb.inputs.enableCrossZoneLoadBalancing, true);
        assert.match(
            String(run.outputs.dnsName),
            /^internal-keelson-prod-ingress-[0-9a-f]{16}\.elb\.eu-west-1\.amazonaws\.com$/,
        );
        // Names cut to fit AWS's 32 characters with Pulumi's suffix (boundedName).
        const tgs = ofType(run.resources, "aws:lb/targetGroup:TargetGroup");
        assert.deepEqual(
            tgs.map((t) => [
                t.name,
                t.inputs.port,
                t.inputs.protocol,
                t.inputs.targetType,
                t.inputs.preserveClientIp,
            ]),
            [
                ["keelson-prod-ingres-9e06", 30080, "TCP", "instance", "false"],
                ["keelson-prod-ingres-c112", 30443, "TCP", "instance", "false"],
            ],
        );
        assert.deepEqual(tgs[0].inputs.healthCheck, {
            enabled: true,
            protocol: "TCP",
            port: "30080",
            interval: 10,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
        });
        // With kube-proxy's health-check NodePort, its /healthz: 503 once the node's pods all terminate.
        assert.deepEqual(tgs[1].inputs.healthCheck, {
            enabled: true,
            protocol: "HTTP",
            port: "31500",
            path: "/healthz",
            matcher: "200",
            interval: 5,
            timeout: 2,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
        });
        assert.equal(tgs[0].inputs.deregistrationDelay, 30);
        // A node that turns unhealthy keeps its established connections 30 s (unhealthy.draining) instead
        // of AWS's default reset, which fails the requests in flight on pods still serving their preStop.
        for (const tg of tgs) {
            assert.deepEqual(tg.inputs.targetHealthStates, [
                { enableUnhealthyConnectionTermination: false, unhealthyDrainingInterval: 30 },
            ]);
        }
        const listeners = ofType(run.resources, "aws:lb/listener:Listener");
        assert.deepEqual(
            listeners.map((l) => [l.name, l.inputs.port, l.inputs.protocol]),
            [
                ["keelson-prod-ingress-tcp-30080", 30080, "TCP"],
                ["keelson-prod-ingress-tcp-30443", 30443, "TCP"],
            ],
        );
        assert.deepEqual(
            ofType(run.resources, "aws:autoscaling/attachment:Attachment").map((a) => [
                a.name,
                a.inputs.autoscalingGroupName,
            ]),
            [
                ["keelson-prod-ingress-tcp-30080-general", "asg-general"],
                ["keelson-prod-ingress-tcp-30080-data", "asg-data"],
                ["keelson-prod-ingress-tcp-30443-general", "asg-general"],
                ["keelson-prod-ingress-tcp-30443-data", "asg-data"],
            ],
        );
    });
});
