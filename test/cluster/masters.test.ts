// createMasters' guard: healing slots register their instance through the NLB endpoint's two target groups, so
// a front without them is refused before any slot is created.
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import type { EndpointFront } from "../../components/cluster/endpoint";
import { createMasters, mastersHeal } from "../../components/cluster/masters";

describe("cluster/masters createMasters", () => {
    it("heals only 3 or more masters behind the nlb endpoint", () => {
        assert.deepEqual(
            [mastersHeal(3, "nlb"), mastersHeal(5, "nlb"), mastersHeal(1, "nlb"), mastersHeal(3, "haproxy")],
            [true, true, false, false],
        );
    });

    it("refuses healing slots without the nlb endpoint's two target groups, creating nothing", () => {
        const front = { kind: "nlb", targetGroup: { arn: "tg-api" } } as unknown as EndpointFront;
        assert.throws(
            () =>
                createMasters(
                    "keelson-prod",
                    {
                        clusterName: "keelson-prod",
                        heal: true,
                        placements: [],
                        securityGroupIds: [],
                        instanceProfileName: "p",
                        front,
                        tags: {},
                        dependsOn: [],
                    },
                    {} as pulumi.Resource,
                ),
            { message: "createMasters: healing master slots need the nlb endpoint's two target groups" },
        );
    });
});
