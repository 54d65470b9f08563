import * as assert from "node:assert/strict";
import { networkConfigArgs, requireValidStageConfig } from "../../components/config";
import { defaultSubnets, overlaps, parseCidr, subnet, formatCidr } from "../../components/core/cidr";
import { firewallRules } from "../../components/network/firewall";
import { Network } from "../../components/network/Network";
import { stableHex } from "../../tools/plan/mock-state";
import { runUnderMocks } from "../../tools/plan/runtime";

const show = (rules: ReturnType<typeof firewallRules>) =>
    rules.map(
        (r) =>
            `${r.group} ${r.protocol} ${r.fromPort}-${r.toPort} <- ${"group" in r.source ? r.source.group : r.source.cidr}: ${r.description}`,
    );

describe("CIDR arithmetic", () => {
    it("carves subnets like cidrsubnet and detects overlap", () => {
        const vpc = parseCidr("10.30.0.0/16")!;
        assert.equal(formatCidr(subnet(vpc, 3, 2)), "10.30.64.0/19");
        assert.equal(formatCidr(subnet(vpc, 6, 56)), "10.30.224.0/22");
        assert.deepEqual(defaultSubnets(vpc, 3), {
            privateSubnets: ["10.30.0.0/19", "10.30.32.0/19", "10.30.64.0/19"],
            publicSubnets: ["10.30.224.0/22", "10.30.228.0/22", "10.30.232.0/22"],
        });
        assert.equal(overlaps(parseCidr("10.0.0.0/24")!, parseCidr("10.0.0.128/25")!), true);
        assert.equal(overlaps(parseCidr("10.0.0.0/25")!, parseCidr("10.0.0.128/25")!), false);
        assert.equal(parseCidr("10.0.0.1/24"), undefined);
        assert.equal(parseCidr("256.0.0.0/8"), undefined);
        assert.throws(() => subnet(vpc, 3, 8), /cannot carve block 8 of \/19 from 10.30.0.0\/16/);
    });

    it("never lets default subnets overlap, for every VPC size and zone count", () => {
        for (let prefix = 16; prefix <= 22; prefix++) {
            for (let zones = 1; zones <= 6; zones++) {
                const vpc = parseCidr(`10.0.0.0/${prefix}`)!;
                const { publicSubnets, privateSubnets } = defaultSubnets(vpc, zones);
                const all = [...publicSubnets, ...privateSubnets].map((c) => parseCidr(c)!);
                for (let i = 0; i < all.length; i++) {
                    assert.ok(all[i].prefix <= 28, `${formatCidr(all[i])} is too small for AWS`);
                    for (let j = i + 1; j < all.length; j++) assert.equal(overlaps(all[i], all[j]), false);
                }
            }
        }
    });
});

describe("firewall rules", () => {
    it("opens exactly the cluster's paths for an NLB endpoint with Calico", () => {
        assert.deepEqual(
            show(firewallRules({ cni: "calico", endpoint: "nlb", apiAllowedCidrs: ["203.0.113.0/24"] })),
            [
                "apiLb tcp 6443-6443 <- masters: Kubernetes API from the masters",
                "apiLb tcp 6443-6443 <- workers: Kubernetes API from the workers",
                "masters tcp 6443-6443 <- apiLb: Kubernetes API from the API load balancer",
                "masters tcp 6443-6443 <- masters: Kubernetes API from the masters",
                "masters tcp 6443-6443 <- workers: Kubernetes API from the workers",
                "apiLb tcp 6443-6443 <- 203.0.113.0/24: Kubernetes API from allowed operators and CI (cluster.apiAllowedCidrs[0])",
                "masters tcp 2379-2380 <- masters: etcd client and peer traffic between masters",
                "masters tcp 10250-10250 <- masters: kubelet API from the control plane (logs, exec, metrics)",
                "workers tcp 10250-10250 <- masters: kubelet API from the control plane (logs, exec, metrics)",
                "masters udp 4789-4789 <- masters: Calico VXLAN pod network from the masters",
                "masters tcp 5473-5473 <- masters: Calico Typha from the masters",
                "masters udp 4789-4789 <- workers: Calico VXLAN pod network from the workers",
                "masters tcp 5473-5473 <- workers: Calico Typha from the workers",
                "workers udp 4789-4789 <- masters: Calico VXLAN pod network from the masters",
                "workers tcp 5473-5473 <- masters: Calico Typha from the masters",
                "workers udp 4789-4789 <- workers: Calico VXLAN pod network from the workers",
                "workers tcp 5473-5473 <- workers: Calico Typha from the workers",
                // The edge reaches the pools only through their internal NLB.
                "workerLb tcp 30000-32767 <- edge: Published services (TCP NodePorts) from the edge load balancers",
                "workers tcp 30000-32767 <- workerLb: Published services (TCP NodePorts) from the worker ingress NLB",
                "workerLb udp 30000-32767 <- edge: Published services (UDP NodePorts) from the edge load balancers",
                "workers udp 30000-32767 <- workerLb: Published services (UDP NodePorts) from the worker ingress NLB",
            ],
        );
    });

    it("exposes the single master itself for dev, and uses Cilium's ports when asked", () => {
        const rules = show(
            firewallRules({ cni: "cilium", endpoint: "single", apiAllowedCidrs: ["0.0.0.0/0"] }),
        );
        assert.deepEqual(rules.slice(0, 3), [
            "masters tcp 6443-6443 <- masters: Kubernetes API from the masters",
            "masters tcp 6443-6443 <- workers: Kubernetes API from the workers",
            "masters tcp 6443-6443 <- 0.0.0.0/0: Kubernetes API from allowed operators and CI (cluster.apiAllowedCidrs[0])",
        ]);
        assert.ok(rules.every((r) => !r.startsWith("apiLb")));
        assert.ok(
            rules.includes("workers udp 8472-8472 <- masters: Cilium VXLAN pod network from the masters"),
        );
        assert.ok(rules.includes("masters tcp 4240-4240 <- workers: Cilium health checks from the workers"));
    });

    it("never opens SSH, RDP or all ports, and describes every rule", () => {
        for (const endpoint of ["single", "nlb", "haproxy"] as const) {
            for (const r of firewallRules({ cni: "calico", endpoint, apiAllowedCidrs: ["0.0.0.0/0"] })) {
                assert.ok(
                    !(r.fromPort <= 22 && r.toPort >= 22) && !(r.fromPort <= 3389 && r.toPort >= 3389),
                    r.key,
                );
                assert.ok(r.toPort - r.fromPort < 2768, `${r.key} opens a wide range`);
                assert.ok(r.description.length > 10, r.key);
                if ("cidr" in r.source)
                    assert.equal(r.fromPort, 6443, `${r.key}: only the API is open to CIDRs`);
            }
        }
    });
});

describe("Network component (mocked)", () => {
    it("builds the prod network: 3 zones, NAT per zone, private routes through their own zone's NAT", async () => {
        const cfg = requireValidStageConfig("prod", {
            values: {
                "aws:region": "us-east-1",
                "keelson:network": { cidr: "10.30.0.0/16" },
                "keelson:cluster": { apiAllowedCidrs: ["203.0.113.0/24"] },
                "keelson:edge": { tlsMode: "self-signed" },
            },
            secretKeys: [],
        });
        const run = await runUnderMocks({ stack: "prod" }, () => {
            const n = new Network("net", {
                ...networkConfigArgs(cfg.network),
                firewall: {
                    cni: "calico",
                    endpoint: "nlb",
                    apiAllowedCidrs: [...cfg.cluster.apiAllowedCidrs],
                },
            });
            return { natIps: n.natPublicIps, publicSubnets: n.publicSubnetIds };
        });
        const of = (type: string) => run.resources.filter((r) => r.type === type);
        const find = (type: string, name: string) => {
            const found = run.resources.find((r) => r.type === type && r.name === name);
            assert.ok(found, `${type} ${name} is registered`);
            return found;
        };
        assert.deepEqual(of("aws:ec2/vpc:Vpc")[0].inputs, {
            cidrBlock: "10.30.0.0/16",
            enableDnsHostnames: true,
            enableDnsSupport: true,
            tags: { Name: "net-vpc" },
        });
        assert.deepEqual(
            of("aws:ec2/subnet:Subnet")
                .map((s) => [
                    s.name,
                    s.inputs.availabilityZone,
                    s.inputs.cidrBlock,
                    s.inputs.mapPublicIpOnLaunch,
                ])
                .sort(),
            [
                ["net-private-us-east-1a", "us-east-1a", "10.30.0.0/19", false],
                ["net-private-us-east-1b", "us-east-1b", "10.30.32.0/19", false],
                ["net-private-us-east-1c", "us-east-1c", "10.30.64.0/19", false],
                ["net-public-us-east-1a", "us-east-1a", "10.30.224.0/22", false],
                ["net-public-us-east-1b", "us-east-1b", "10.30.228.0/22", false],
                ["net-public-us-east-1c", "us-east-1c", "10.30.232.0/22", false],
            ],
        );
        const nats = of("aws:ec2/natGateway:NatGateway");
        assert.equal(nats.length, 3);
        for (const zone of ["us-east-1a", "us-east-1b", "us-east-1c"]) {
            const nat = find("aws:ec2/natGateway:NatGateway", `net-nat-${zone}`);
            assert.ok(nat.dependencies.includes(find("aws:ec2/subnet:Subnet", `net-public-${zone}`).urn));
            const table = find("aws:ec2/routeTable:RouteTable", `net-private-${zone}`);
            // mock ids derive from names: the route goes through this zone's own NAT gateway
            assert.deepEqual(table.inputs.routes, [
                { cidrBlock: "0.0.0.0/0", natGatewayId: `nat-${stableHex(`net-nat-${zone}`)}` },
            ]);
            assert.ok(table.dependencies.includes(nat.urn));
        }
        const ingress = of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
        assert.equal(ingress.length, 21, "the 21 rules from firewall.ts");
        assert.ok(ingress.every((r) => typeof r.inputs.description === "string" && r.inputs.fromPort !== 22));
        // Nodes reach the API on an internal path: no rule admits the NAT gateways' public addresses.
        assert.deepEqual(
            ingress
                .filter((r) => typeof r.inputs.cidrIpv4 === "string" && r.inputs.fromPort === 6443)
                .map((r) => r.name),
            ["net-apiLb-api-from-allowed-0"],
        );
        assert.deepEqual(
            of("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
                .map((r) => r.name)
                .sort(),
            [
                "net-apiLb-egress",
                "net-edge-egress",
                "net-masters-egress",
                "net-workerLb-egress",
                "net-workers-egress",
            ],
        );
        assert.ok(
            run.resources
                .filter((r) => r.custom)
                .every((r) => r.parent === "urn:pulumi:prod::keelson::keelson:network:Network::net"),
        );
    });
});
