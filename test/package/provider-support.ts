// The component provider as the tests construct it (what its Construct call runs, without the gRPC server), and
// the resources a construct made, to compare with what the TypeScript components make.
import * as path from "node:path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { Network } from "../../components/network/Network";
import { PROVIDER_COMPONENTS } from "../../provider/components";
import { NetworkOutputsArgs } from "../../provider/network-outputs";
import { RecordedResource } from "../../tools/plan/runtime";

/** The provider over provider/ with every component it serves. */
export function keelsonProvider(): ComponentProvider {
    return new ComponentProvider({
        name: "keelson",
        dirname: path.resolve(__dirname, "..", "..", "provider"),
        components: [...PROVIDER_COMPONENTS],
    });
}

/** Each resource below `root` as (type, name, parent's type, inputs), the parent chain's root left out, sorted. */
export function below(resources: RecordedResource[], root: string): unknown[][] {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const under = (r: RecordedResource): boolean =>
        r.parent === root || (r.parent !== undefined && under(byUrn.get(r.parent)!));
    return resources
        .filter(under)
        .map((r) => [r.type, r.name, r.parent === root ? "" : byUrn.get(r.parent!)!.type, r.rawInputs])
        .sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
}

/** A Network's outputs as another language's program passes them to the Cluster or the Edge: each by its name. */
export function networkOutputs(net: Network): NetworkOutputsArgs {
    return {
        vpcId: net.vpcId,
        availabilityZones: net.availabilityZones,
        publicSubnetIds: net.publicSubnetIds,
        privateSubnetIds: net.privateSubnetIds,
        securityGroups: net.securityGroups,
    };
}
