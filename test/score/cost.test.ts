import { strict as assert } from "node:assert";
import { computeCost, PriceTable } from "../../components/score/cost";
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
        assert.equal(cost.notes[3], "No price for instance type z1.mega (b); only its volumes are counted.");
    });

    it("takes another price table", () => {
        const cheap: PriceTable = { ...PRICES, natGatewayHourlyUsd: 0.01 };
        assert.equal(computeCost([res("aws:ec2/natGateway:NatGateway", "n", {})], cheap).monthlyUsd, 7.3);
    });

    it("has a price and a size for every instance type in the size table", () => {
        assert.deepEqual(
            Object.keys(PRICES.ec2HourlyUsd).sort(),
            Object.keys(INSTANCE_SIZES)
                .filter((t) => t !== "t3.nano")
                .concat("t3.nano")
                .sort(),
        );
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
