// Auto Scaling Groups in the StackScore and the cost estimate: a group counts as its desired capacity of
// nodes shaped by its launch template, and a weakened template is found on the group.
import assert from "node:assert/strict";
import { PlanResource } from "../../components/core/graph";
import { computeCost } from "../../components/score/cost";
import { viewOf } from "../../components/score/graph-view";
import { groupInstances } from "../../components/score/groups";
import { infrastructureAvailability } from "../../components/score/rules/availability";
import { instanceSecurity } from "../../components/score/rules/security";

const urn = (type: string, name: string) =>
    `urn:pulumi:prod::keelson::keelson:cluster:Cluster$${type}::${name}`;

function pool(
    name: string,
    desired: number,
    encrypted: unknown = "true",
    tokens = "required",
): PlanResource[] {
    const lt: PlanResource = {
        urn: urn("aws:ec2/launchTemplate:LaunchTemplate", name),
        type: "aws:ec2/launchTemplate:LaunchTemplate",
        name,
        dependencies: [],
        custom: true,
        inputs: {
            instanceType: "m7i.large",
            metadataOptions: { httpTokens: tokens, httpPutResponseHopLimit: 1 },
            blockDeviceMappings: [
                { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", volumeSize: 50, encrypted } },
            ],
            tags: { "keelson:role": "worker", "keelson:pool": name },
        },
    };
    const group: PlanResource = {
        urn: urn("aws:autoscaling/group:Group", name),
        type: "aws:autoscaling/group:Group",
        name,
        dependencies: [lt.urn],
        custom: true,
        inputs: {
            minSize: 1,
            maxSize: 6,
            desiredCapacity: desired,
            vpcZoneIdentifiers: ["subnet-a", "subnet-b", "subnet-c"],
            launchTemplate: { id: "lt-1", version: "1" },
        },
    };
    return [lt, group];
}

describe("score: Auto Scaling Groups", () => {
    it("runs desired-capacity nodes from the template, spread over the group's subnets", () => {
        const nodes = groupInstances(pool("general", 3));
        assert.deepEqual(
            nodes.map((n) => [n.name, n.urn, n.inputs.instanceType, n.inputs.subnetId]),
            [
                ["general[0]", urn("aws:autoscaling/group:Group", "general"), "m7i.large", "subnet-a"],
                ["general[1]", urn("aws:autoscaling/group:Group", "general"), "m7i.large", "subnet-b"],
                ["general[2]", urn("aws:autoscaling/group:Group", "general"), "m7i.large", "subnet-c"],
            ],
        );
        assert.deepEqual(nodes[0].inputs.rootBlockDevice, {
            volumeSize: 50,
            volumeType: "gp3",
            encrypted: true,
        });
        const view = viewOf(pool("general", 3));
        assert.deepEqual(
            view.instances.map((i) => [i.role, i.zone]),
            [
                ["worker", "subnet-a"],
                ["worker", "subnet-b"],
                ["worker", "subnet-c"],
            ],
        );
    });

    it("finds a one-node pool, an unencrypted template volume and IMDSv1 on the group", () => {
        const master: PlanResource = {
            urn: urn("aws:ec2/instance:Instance", "master-0"),
            type: "aws:ec2/instance:Instance",
            name: "master-0",
            dependencies: [],
            custom: true,
            inputs: { instanceType: "m7i.large", tags: { "keelson:role": "master" } },
        };
        const resources = pool("general", 1, "false", "optional");
        const group = urn("aws:autoscaling/group:Group", "general");
        assert.deepEqual(
            infrastructureAvailability(viewOf([master, ...resources]))
                .filter((f) => f.rule === "availability/single-worker")
                .map((f) => f.resource),
            [group],
        );
        assert.deepEqual(
            instanceSecurity(viewOf(resources)).map((f) => [f.rule, f.resource]),
            [
                ["security/imdsv2", group],
                ["security/encrypted-volumes", group],
            ],
        );
        assert.deepEqual(instanceSecurity(viewOf(pool("general", 2))), []);
    });

    it("prices a group as its desired capacity of the template's type and root volume", () => {
        const cost = computeCost(pool("general", 3));
        const [item] = cost.items.filter((i) => i.type === "aws:autoscaling/group:Group");
        assert.equal(item.detail, "3 × (m7i.large 730 h + 50 GiB gp3)");
        const single = computeCost(pool("general", 1)).items.find((i) => i.name === "general")!;
        // Three times one node, to the cent (both are rounded).
        assert.ok(
            Math.abs(item.monthlyUsd - single.monthlyUsd * 3) <= 0.02,
            `${item.monthlyUsd} vs 3 × ${single.monthlyUsd}`,
        );
    });
});
