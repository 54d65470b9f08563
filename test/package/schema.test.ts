// The component provider's schema, as `pulumi package add` would get it, inferred from the TypeScript args and
// properties by the SDK's own analysis (ComponentProvider.getSchema), without the Pulumi CLI.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { PROVIDER_COMPONENTS } from "../../provider/components";

const SG = { $ref: "/aws/v7.48.0/schema.json#/resources/aws:ec2%2FsecurityGroup:SecurityGroup" };
const plainStrings = { type: "array", items: { type: "string", plain: true }, optional: true, plain: true };
const strings = { type: "array", items: { type: "string" } };

interface Schema {
    name: string;
    version: string;
    description: string;
    resources: Record<
        string,
        Record<string, unknown> & {
            inputProperties: Record<string, unknown>;
            properties: Record<string, unknown>;
            required: string[];
        }
    >;
    types: Record<string, unknown>;
}

describe("package: the component provider's inferred schema", function () {
    this.timeout(15 * 60 * 1000);
    let schema: Schema;
    before(async () => {
        const provider = new ComponentProvider({
            name: "keelson",
            dirname: path.resolve(__dirname, "..", "..", "provider"),
            components: [...PROVIDER_COMPONENTS],
        });
        schema = JSON.parse(await provider.getSchema()) as Schema;
    });

    it("names the package keelson and serves Network, Cluster and Edge as components", () => {
        assert.equal(schema.name, "keelson");
        assert.equal(schema.version, "0.1.0");
        assert.deepEqual(Object.keys(schema.resources).sort(), [
            "keelson:index:Cluster",
            "keelson:index:Edge",
            "keelson:index:Network",
        ]);
        for (const r of ["Network", "Cluster", "Edge"])
            assert.equal(schema.resources[`keelson:index:${r}`].isComponent, true, r);
    });

    it("infers Edge's inputs (the routes as one flat type, the pools as a Cluster's group names) and outputs", () => {
        const edge = schema.resources["keelson:index:Edge"];
        assert.deepEqual(edge.requiredInputs, ["network", "routes", "workerGroupNames"]);
        assert.deepEqual(Object.keys(edge.inputProperties), [
            "network",
            "workerGroupNames",
            "routes",
            "stage",
            "engine",
            "count",
            "instanceType",
            "nlb",
            "tlsMode",
            "keyAlgorithm",
            "managedCertificates",
            "acmeEmail",
            "certificates",
        ]);
        for (const [key, p] of Object.entries(edge.inputProperties) as [string, { description?: string }][])
            assert.ok(
                ["network", "workerGroupNames", "routes"].includes(key) ||
                    /Default /.test(p.description ?? ""),
                `${key}: ${p.description}`,
            );
        assert.deepEqual(edge.inputProperties.workerGroupNames, {
            type: "array",
            items: { type: "string" },
            plain: true,
            description:
                "The worker pools' Auto Scaling Group names (a Cluster's `workerGroupNames`): the nodes that serve the routes.",
        });
        const route = schema.types["keelson:index:EdgeRouteArgs"] as {
            properties: Record<string, unknown>;
            required: string[];
        };
        assert.deepEqual(Object.keys(route.properties), [
            "kind",
            "name",
            "nodePort",
            "healthCheckNodePort",
            "hosts",
            "path",
            "healthPath",
            "websocket",
            "listenPort",
        ]);
        assert.deepEqual(route.required, ["kind", "name", "nodePort"]);
        assert.deepEqual(
            (schema.types["keelson:index:EdgeRouteKind"] as { enum: { value: string }[] }).enum.map(
                (e) => e.value,
            ),
            ["http", "tcp", "udp"],
        );
        assert.deepEqual(Object.keys(edge.properties).sort(), [
            "ingressDnsName",
            "nlbDnsName",
            "publicIps",
            "url",
        ]);
        assert.deepEqual(edge.properties.publicIps, {
            ...strings,
            description: "Elastic IPs of the hosts, in host order.",
        });
    });

    it("infers Cluster's inputs: the network as a Network's outputs, every other arg optional and documented", () => {
        const cluster = schema.resources["keelson:index:Cluster"];
        assert.deepEqual(cluster.requiredInputs, ["network"]);
        assert.deepEqual(Object.keys(cluster.inputProperties), [
            "network",
            "stage",
            "region",
            "clusterName",
            "kubernetesVersion",
            "masters",
            "masterInstanceType",
            "masterRootVolumeGb",
            "dedicatedMasters",
            "endpoint",
            "apiLoadBalancers",
            "podCidr",
            "serviceCidr",
            "workerPools",
            "cni",
            "tags",
            "readiness",
            "upgrade",
            "clusterAutoscaler",
        ]);
        // Every arg has its TSDoc, and every optional one states its default.
        for (const [key, p] of Object.entries(cluster.inputProperties) as [
            string,
            { description?: string },
        ][])
            assert.ok(key === "network" || /Default /.test(p.description ?? ""), `${key}: ${p.description}`);
        assert.deepEqual(cluster.inputProperties.masters, {
            type: "number",
            optional: true,
            plain: true,
            description:
                "Control-plane nodes: 1 or an odd number >= 3, spread round-robin over the zones. Default 1.",
        });
        assert.deepEqual(cluster.inputProperties.workerPools, {
            type: "array",
            items: { $ref: "#/types/keelson:index:WorkerPoolArgs", plain: true },
            optional: true,
            plain: true,
            description: "Worker pools. Default one pool `general` of 1 `t3.medium`.",
        });
        const type = (name: string) =>
            schema.types[`keelson:index:${name}`] as {
                properties: Record<string, unknown>;
                required: string[];
            };
        const net = type("NetworkOutputsArgs");
        assert.deepEqual(Object.keys(net.properties), [
            "vpcId",
            "availabilityZones",
            "publicSubnetIds",
            "privateSubnetIds",
            "securityGroups",
        ]);
        assert.deepEqual(net.required, [
            "availabilityZones",
            "privateSubnetIds",
            "publicSubnetIds",
            "securityGroups",
            "vpcId",
        ]);
        // The Network's own output type: a Python program passes `net.security_groups` as it is.
        assert.equal(
            (net.properties.securityGroups as { $ref: string }).$ref,
            "#/types/keelson:index:NetworkSecurityGroups",
        );
        assert.deepEqual(net.properties.vpcId, { type: "string", description: "The VPC's ID." });
        const pool = type("WorkerPoolArgs");
        assert.deepEqual(Object.keys(pool.properties), [
            "name",
            "instanceType",
            "count",
            "minSize",
            "maxSize",
            "labels",
            "taints",
            "rootVolumeGb",
            "spot",
        ]);
        assert.deepEqual(pool.required, ["name"]);
        assert.deepEqual(type("Taint").required, ["effect", "key"]);
        assert.deepEqual(Object.keys(type("UpgradeArgs").properties), [
            "healthTimeoutSeconds",
            "drainTimeoutSeconds",
        ]);
        assert.deepEqual(Object.keys(type("SpotArgs").properties), [
            "instanceTypes",
            "onDemandBase",
            "onDemandPercentAboveBase",
            "allocationStrategy",
        ]);
        const values = (name: string) =>
            (schema.types[`keelson:index:${name}`] as { enum: { value: string }[] }).enum.map((e) => e.value);
        assert.deepEqual(values("TaintEffect"), ["NoSchedule", "PreferNoSchedule", "NoExecute"]);
        assert.deepEqual(values("SpotAllocationStrategy"), [
            "price-capacity-optimized",
            "capacity-optimized",
            "capacity-optimized-prioritized",
            "lowest-price",
        ]);
    });

    it("infers Cluster's outputs as plain strings: what another language builds its Kubernetes provider and IRSA roles from", () => {
        const cluster = schema.resources["keelson:index:Cluster"];
        const outputs = [
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
            "workerGroupNames",
        ];
        assert.deepEqual(cluster.required, outputs);
        assert.deepEqual(Object.keys(cluster.properties).sort(), outputs);
        assert.deepEqual(cluster.properties.kubeconfig, {
            type: "string",
            description: "Admin kubeconfig (a secret).",
        });
        assert.deepEqual(cluster.properties.workerGroupNames, {
            type: "array",
            items: { type: "string" },
            description: "Each worker pool's Auto Scaling Group name, in pool order.",
        });
    });

    it("infers Network's inputs: all optional, plain, each documented with its default", () => {
        const network = schema.resources["keelson:index:Network"];
        assert.deepEqual(network.requiredInputs, []);
        const doc = (key: string) => (network.inputProperties[key] as { description: string }).description;
        const zones = { ...(network.inputProperties.availabilityZones as Record<string, unknown>) };
        assert.equal(
            zones.description,
            "Availability zones, one public and one private subnet each. Default `<aws:region>a`, `b` and `c`.",
        );
        delete zones.description;
        assert.deepEqual(zones, plainStrings);
        assert.deepEqual(Object.keys(network.inputProperties), [
            "cidr",
            "availabilityZones",
            "natGateways",
            "publicSubnets",
            "privateSubnets",
            "firewall",
            "tags",
            "clusterName",
        ]);
        assert.deepEqual(network.inputProperties.cidr, {
            type: "string",
            optional: true,
            plain: true,
            description: "VPC CIDR, /16 to /22. Default `10.0.0.0/16`.",
        });
        assert.deepEqual(network.inputProperties.natGateways, {
            $ref: "#/types/keelson:index:NatGatewayMode",
            optional: true,
            plain: true,
            description: "NAT gateways. Default `single`.",
        });
        assert.equal(
            doc("firewall"),
            "Firewall shape. Default calico, a `single` API endpoint, the API open to `0.0.0.0/0`.",
        );
        assert.deepEqual(schema.types["keelson:index:NatGatewayMode"], {
            type: "string",
            enum: [
                { name: "Single", value: "single" },
                { name: "PerAz", value: "perAz" },
            ],
        });
        const firewall = schema.types["keelson:index:NetworkFirewallArgs"] as {
            properties: Record<string, unknown>;
        };
        assert.deepEqual(Object.keys(firewall.properties), ["cni", "endpoint", "apiAllowedCidrs"]);
        assert.deepEqual(
            (schema.types["keelson:index:ApiEndpointKind"] as { enum: { value: string }[] }).enum.map(
                (e) => e.value,
            ),
            ["single", "nlb", "haproxy"],
        );
        assert.deepEqual(
            (schema.types["keelson:index:CniName"] as { enum: { value: string }[] }).enum.map((e) => e.value),
            ["calico", "cilium"],
        );
    });

    it("infers Network's outputs, the security groups as references to the AWS provider's type", () => {
        const network = schema.resources["keelson:index:Network"];
        assert.deepEqual(network.properties.vpcId, { type: "string" });
        assert.deepEqual(network.properties.publicSubnetIds, strings);
        assert.deepEqual(network.properties.securityGroups, {
            $ref: "#/types/keelson:index:NetworkSecurityGroups",
        });
        assert.deepEqual(network.required, [
            "availabilityZones",
            "natPublicIps",
            "privateSubnetCidrs",
            "privateSubnetIds",
            "publicSubnetCidrs",
            "publicSubnetIds",
            "securityGroups",
            "vpcId",
        ]);
        const groups = schema.types["keelson:index:NetworkSecurityGroups"] as {
            properties: Record<string, { $ref: string }>;
        };
        assert.deepEqual(Object.fromEntries(Object.entries(groups.properties).map(([k, v]) => [k, v.$ref])), {
            masters: SG.$ref,
            workers: SG.$ref,
            apiLb: SG.$ref,
            workerLb: SG.$ref,
            edge: SG.$ref,
        });
    });
});
