// The lab's model of a master slot's Auto Scaling group of one (tools/lab/group.ts), against the prod and dev
// plans: prod's three slots heal (a group of exactly one in one subnet, EC2 health, no refresh); dev's single
// master is a plain instance. Each way a slot could stop healing is refused with its reason, and a refused slot
// boots nothing.
import assert from "node:assert/strict";
import { LabCluster } from "../../tools/lab/cluster";
import { groupOfOneProblem, replaceInGroup } from "../../tools/lab/group";
import { LabNode } from "../../tools/lab/lab";
import { planForLab, PlannedInstance, PlannedStage } from "../../tools/lab/stage";

describe("lab: a master slot's group of one", function () {
    this.timeout(120000);
    let prod: PlannedStage;
    let dev: PlannedStage;
    const masters = (p: PlannedStage) => p.instances.filter((i) => i.kind === "master");
    before(async () => {
        prod = await planForLab("prod");
        dev = await planForLab("dev");
    });

    it("reads prod's three slots from the plan, each a group of one in one subnet booting the slot's user-data", () => {
        assert.deepEqual(
            masters(prod).map((m) => [m.name, m.group]),
            [0, 1, 2].map((i) => [
                `master-${i}`,
                {
                    name: `keelson-prod-master-${i}`,
                    minSize: 1,
                    maxSize: 1,
                    desiredCapacity: 1,
                    subnets: 1,
                    healthCheckType: "EC2",
                    instanceRefresh: false,
                },
            ]),
        );
        for (const m of masters(prod)) {
            assert.equal(groupOfOneProblem(m), undefined, m.name);
            // The slot's own bootstrap: its index (slot 0 alone may init a new cluster).
            assert.match(m.userData, new RegExp(`readonly MASTER_INDEX=${m.name.slice(-1)}\\b`));
            assert.equal(m.hopLimit, 1);
        }
    });

    it("says why a slot does not heal: dev's single master and every broken group", () => {
        assert.deepEqual(
            masters(dev).map((m) => groupOfOneProblem(m)),
            ["master-0 is a plain instance: nothing replaces it when it dies"],
        );
        const m1 = masters(prod)[1];
        const broken = (g: Partial<NonNullable<PlannedInstance["group"]>>): PlannedInstance => ({
            ...m1,
            group: { ...m1.group!, ...g },
        });
        assert.deepEqual(
            [
                broken({ maxSize: 2 }),
                broken({ subnets: 3 }),
                broken({ healthCheckType: "ELB" }),
                broken({ instanceRefresh: true }),
            ].map(groupOfOneProblem),
            [
                "master-1's group keelson-prod-master-1 has min/max/desired 1/2/1, not 1/1/1",
                "master-1's group keelson-prod-master-1 spans 3 subnets: a replacement could leave the slot's zone",
                "master-1's group keelson-prod-master-1 uses ELB health: a master whose API is down for a moment would be terminated",
                "master-1's group keelson-prod-master-1 has an instance refresh: a template change would replace every master at once",
            ],
        );
    });

    it("launches the replacement from the slot's template once the old instance is gone, and nothing for a slot that does not heal", async () => {
        const booted: [string, string | undefined][] = [];
        const fake = {
            boot: (inst: PlannedInstance, o: { label?: string }) => {
                booted.push([inst.name, o.label]);
                return { name: o.label } as unknown as LabNode;
            },
        } as unknown as LabCluster;
        const old = { name: "master-1", exited: false } as LabNode;
        setTimeout(() => (old.exited = true), 300);
        const healed = await replaceInGroup(fake, masters(prod)[1], old, { label: "master-1-new" });
        assert.ok("node" in healed);
        assert.deepEqual(booted, [["master-1", "master-1-new"]]);
        const refused = await replaceInGroup(
            fake,
            masters(dev)[0],
            { name: "master-0", exited: true } as LabNode,
            {
                label: "master-0-new",
            },
        );
        assert.deepEqual(refused, {
            problem: "master-0 is a plain instance: nothing replaces it when it dies",
        });
        assert.equal(booted.length, 1);
    });
});
