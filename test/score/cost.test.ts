import { strict as assert } from "node:assert";
import { computeCost, planRegion, PRICE_TABLES, PriceTable } from "../../components/score/cost";
import PRICES from "../../components/score/prices-us-east-1.json";
import { allocatable, INSTANCE_SIZES } from "../../components/score/instance-types";
import { instance, prodGraph, res } from "./fixtures";

describe("computeCost", () => {
    it("prices a prod stage per resource and in total, with the EKS fee beside it", () => {
        const cost = computeCost(prodGraph());
        assert.deepEqual(
            cost.items.map((i) => [i.name, i.detail, i.monthlyUsd]),
            [
                ["general-0", "t3.xlarge 730 h + 50 GiB gp3", 125.47],
                ["general-1", "t3.xlarge 730 h + 50 GiB gp3", 125.47],
                ["general-2", "t3.xlarge 730 h + 50 GiB gp3", 125.47],
                ["keelson-prod-master-0", "t3.medium 730 h + 50 GiB gp3", 34.37],
                ["keelson-prod-master-1", "t3.medium 730 h + 50 GiB gp3", 34.37],
                ["keelson-prod-master-2", "t3.medium 730 h + 50 GiB gp3", 34.37],
                ["nat-a", "NAT gateway 730 h", 32.85],
                ["nat-b", "NAT gateway 730 h", 32.85],
                ["nat-c", "NAT gateway 730 h", 32.85],
                ["api", "NLB 730 h + 1 LCU", 20.81],
                ["edge-0", "t3.small 730 h + 20 GiB gp3", 16.78],
                ["edge-1", "t3.small 730 h + 20 GiB gp3", 16.78],
                ["edge-0-eip", "public IPv4 730 h", 3.65],
                ["edge-1-eip", "public IPv4 730 h", 3.65],
                ["etcd-backups", "S3 Standard 10 GB", 0.23],
            ],
        );
        assert.equal(cost.monthlyUsd, 639.97);
        assert.equal(cost.eksControlPlaneMonthlyUsd, 73);
        assert.equal(cost.priceDate, "2026-11-22");
        assert.equal(cost.region, "us-east-1");
        assert.deepEqual(cost.notes, [
            "On-demand Linux prices for us-east-1 as of 2026-11-22; 730 hours per month.",
            "NAT gateway data processing ($0.045/GB) and data transfer out are excluded.",
            "Load balancers include one baseline LCU; S3 assumes 10 GB stored per bucket, requests excluded.",
        ]);
    });

    it("prices volumes by type, public IPs without an Elastic IP, ALBs and unknown types", () => {
        const cost = computeCost([
            instance("a", "m5.large", "s", [], {
                associatePublicIpAddress: true,
                rootBlockDevice: { volumeSize: 100, volumeType: "gp2" },
                ebsBlockDevices: [{ volumeSize: 500, volumeType: "st1" }],
            }),
            instance("b", "z1.mega", "s", [], { rootBlockDevice: {} }),
            res("aws:ebs/volume:Volume", "data", { size: 200, type: "io2" }),
            res("aws:lb/loadBalancer:LoadBalancer", "web", {
                loadBalancerType: "application",
                subnets: ["a", "b"],
            }),
        ]);
        assert.deepEqual(
            cost.items.map((i) => [i.name, i.detail, i.monthlyUsd]),
            [
                // 0.096 × 730 + 100 × 0.10 + 500 × 0.045 + 0.005 × 730
                ["a", "m5.large 730 h + 100 GiB gp2 + 500 GiB st1 + public IPv4", 106.23],
                // (0.0225 + 0.008 + 2 × 0.005) × 730
                ["web", "ALB 730 h + 1 LCU + 2 public IPv4", 29.57],
                ["data", "200 GiB io2", 25],
                ["b", "z1.mega (price unknown) + 8 GiB gp3", 0.64],
            ].sort((x, y) => (y[2] as number) - (x[2] as number)),
        );
        assert.equal(cost.monthlyUsd, 161.44);
        assert.deepEqual(cost.warnings, [
            "No us-east-1 price for instance type z1.mega (b): only its volumes are in the total.",
        ]);
        assert.equal(cost.notes[3], cost.warnings[0]);
    });

    it("takes another price table", () => {
        const cheap: PriceTable = { ...PRICES, natGatewayHourlyUsd: 0.01 };
        assert.equal(computeCost([res("aws:ec2/natGateway:NatGateway", "n", {})], cheap).monthlyUsd, 7.3);
    });

    it("has a price for every instance type of the size table in every region's table", () => {
        assert.deepEqual(Object.keys(PRICE_TABLES), [
            "us-east-1",
            "us-west-2",
            "eu-west-1",
            "eu-central-1",
            "ap-southeast-1",
        ]);
        for (const [region, table] of Object.entries(PRICE_TABLES)) {
            assert.equal(table.region, region);
            assert.match(table.date, /^\d{4}-\d{2}-\d{2}$/);
            assert.ok(table.source.length > 40, `${region} names no source`);
            assert.deepEqual(
                Object.keys(table.ec2HourlyUsd).sort(),
                Object.keys(INSTANCE_SIZES).sort(),
                region,
            );
        }
    });

    const provider = (region: string) =>
        res("pulumi:providers:aws", `keelson-dev-aws`, { region, defaultTags: "{}" });
    const small = (region: string) => [
        provider(region),
        instance("master-0", "t3.medium", "s", [], { rootBlockDevice: { volumeSize: 50 } }),
        res("aws:ec2/natGateway:NatGateway", "nat", {}),
        res("aws:lb/loadBalancer:LoadBalancer", "api", { loadBalancerType: "network", internal: true }),
    ];

    it("prices each region with its own table, found from the plan's AWS provider", () => {
        const cost = computeCost(small("eu-west-1"));
        assert.equal(cost.region, "eu-west-1");
        assert.deepEqual(
            cost.items.map((i) => [i.name, i.monthlyUsd]),
            [
                // 0.0456 × 730 + 50 × 0.088
                ["master-0", 37.69],
                // 0.048 × 730
                ["nat", 35.04],
                // (0.0252 + 0.006) × 730
                ["api", 22.78],
            ],
        );
        assert.equal(cost.monthlyUsd, 95.51);
        assert.deepEqual(cost.warnings, []);
        assert.deepEqual(
            ["us-east-1", "us-west-2", "eu-central-1", "ap-southeast-1"].map(
                (r) => computeCost(small(r)).monthlyUsd,
            ),
            // us-east-1: 34.37 + 32.85 + 20.81; Frankfurt: 39.80 (0.048 × 730 + 50 × 0.0952) + 37.96 + 24.09;
            // Singapore: 43.34 (0.0528 × 730 + 50 × 0.096) + 43.07 (0.059 × 730) + 22.78 (0.0312 × 730)
            [88.03, 88.03, 101.85, 109.19],
        );
    });

    it("names a region without a price table and prices it with us-east-1's, never leaving it out", () => {
        const cost = computeCost(small("us-east-2"));
        assert.equal(cost.monthlyUsd, 88.03);
        assert.deepEqual(cost.warnings, [
            "No price table for region us-east-2: priced with us-east-1 prices of 2026-11-22 (tables: us-east-1, us-west-2, eu-west-1, eu-central-1, ap-southeast-1).",
        ]);
        assert.equal(
            planRegion([res("aws:ec2/subnet:Subnet", "a", { availabilityZone: "eu-west-1b" })]),
            "eu-west-1",
        );
    });

    it("counts a public IPv4 held through an EipAssociation once (the dev master)", () => {
        const master = instance("keelson-dev-master-0", "t3.medium", "s", [], {
            associatePublicIpAddress: true,
            rootBlockDevice: { volumeSize: 50 },
        });
        const eip = res("aws:ec2/eip:Eip", "keelson-dev-master-0", { domain: "vpc" });
        const assoc = res(
            "aws:ec2/eipAssociation:EipAssociation",
            "keelson-dev-master-0",
            { instanceId: "i-1", allocationId: "eipalloc-1" },
            { dependencies: [master.urn, eip.urn] },
        );
        const cost = computeCost([master, eip, assoc]);
        assert.deepEqual(
            cost.items.map((i) => [i.type, i.detail, i.monthlyUsd]),
            [
                ["aws:ec2/instance:Instance", "t3.medium 730 h + 50 GiB gp3", 34.37],
                ["aws:ec2/eip:Eip", "public IPv4 730 h", 3.65],
            ],
        );
        assert.equal(cost.monthlyUsd, 38.02);
    });
});

describe("allocatable", () => {
    const cases: Array<[string, number, number]> = [
        ["t3.medium", 1930, 2972],
        ["t3.large", 1930, 6248],
        ["t3.xlarge", 3920, 13621],
        ["m5.4xlarge", 15890, 59824],
    ];
    for (const [type, cpu, mem] of cases) {
        it(`${type} leaves ${cpu}m and ${mem} MiB for pods`, () =>
            assert.deepEqual(allocatable(INSTANCE_SIZES[type]), { cpuMillis: cpu, memoryMiB: mem }));
    }
});
