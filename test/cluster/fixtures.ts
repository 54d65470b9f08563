// Shared inputs for the cluster tests: validated-looking ClusterConfigs and node environments.
import { ClusterConfig } from "../../components/config/types";
import {
    NodeEnvironment,
    planNodes,
    renderNode,
    RenderedNode,
    NodeSpec,
} from "../../components/cluster/render/layout";

/** A dev-like cluster config (1 shared master, single endpoint); override any field. */
export function clusterConfig(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
    return {
        name: "keelson-dev",
        kubernetesVersion: "1.33.4",
        masters: 1,
        masterInstanceType: "t3.medium",
        masterRootVolumeGb: 50,
        dedicatedMasters: false,
        endpoint: "single",
        apiAllowedCidrs: ["0.0.0.0/0"],
        apiLoadBalancers: 2,
        podCidr: "192.168.0.0/16",
        serviceCidr: "10.96.0.0/12",
        workerPools: [
            {
                name: "general",
                instanceType: "t3.medium",
                count: 1,
                minSize: 1,
                maxSize: 1,
                labels: {},
                taints: [],
                rootVolumeGb: 30,
            },
        ],
        upgrade: { healthTimeoutSeconds: 600, drainTimeoutSeconds: 600 },
        ...overrides,
    };
}

/** A prod-like config: 3 dedicated masters behind an NLB, two pools (one tainted). */
export function prodClusterConfig(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
    return clusterConfig({
        name: "keelson-prod",
        masters: 3,
        dedicatedMasters: true,
        endpoint: "nlb",
        workerPools: [
            {
                name: "general",
                instanceType: "m6i.large",
                count: 3,
                minSize: 2,
                maxSize: 6,
                labels: {},
                taints: [],
                rootVolumeGb: 50,
            },
            {
                name: "batch",
                instanceType: "c6i.xlarge",
                count: 2,
                minSize: 2,
                maxSize: 2,
                labels: { "workload.keelson.io/kind": "batch" },
                taints: [{ key: "workload.keelson.io/batch", value: "true", effect: "NoSchedule" }],
                rootVolumeGb: 80,
            },
        ],
        ...overrides,
    });
}

/** The zones of the fake network. */
export const ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

/** A fixed CA hash (the real one is computed from the generated CA key). */
export const CA_HASH = "sha256:0f2c5d4b8e3a1f6d7c9b0a2e4f6d8c1b3a5e7f9d0c2b4a6e8f1d3c5b7a9e0f2d";

/** A fixed cluster KMS key ARN. */
export const KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/** The node environment a config implies. */
export function environment(config: ClusterConfig, stage = "dev"): NodeEnvironment {
    return {
        clusterName: config.name,
        kubernetesVersion: config.kubernetesVersion,
        endpointHost: `api.${config.name}.internal`,
        extraSans:
            config.endpoint === "nlb" ? [`${config.name}-api-0123456789.elb.eu-west-1.amazonaws.com`] : [],
        podCidr: config.podCidr,
        serviceCidr: config.serviceCidr,
        caCertHash: CA_HASH,
        region: "eu-west-1",
        ssmPrefix: `/keelson/${stage}/${config.name}`,
        kmsKeyArn: KMS_KEY_ARN,
        masterCount: config.masters,
    };
}

/** Every node of every interesting shape: 1 and 3 masters, shared and dedicated, with pools. */
export function renderMatrix(): { label: string; node: NodeSpec; rendered: RenderedNode }[] {
    const out: { label: string; node: NodeSpec; rendered: RenderedNode }[] = [];
    for (const masters of [1, 3]) {
        for (const dedicated of [false, true]) {
            const config = prodClusterConfig({
                masters,
                dedicatedMasters: dedicated,
                endpoint: masters === 1 ? "single" : "nlb",
            });
            const env = environment(config);
            for (const node of planNodes(config, ZONES, "eu-west-1")) {
                const label = `${masters}m-${dedicated ? "dedicated" : "shared"}-${node.name}`;
                out.push({ label, node, rendered: renderNode(node, env) });
            }
        }
    }
    return out;
}
