// Where pods run: a worker pool by name (its label, and tolerations of its taints), extra selectors and
// tolerations, and the data services' preference for a pool labelled for data.
import { Placement, Toleration } from "./types";

/** The node label every Keelson worker carries: its pool's name (components/cluster/render/kubeadm.ts). */
export const POOL_LABEL = "keelson.io/pool";

/** The pool data services prefer when one carries this label value. */
export const DATA_POOL = "data";

/** A worker pool as the application sees it: name, node labels and taints. */
export interface PoolInfo {
    readonly name: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly taints?: readonly {
        readonly key: string;
        readonly value?: string;
        readonly effect: Toleration["effect"];
    }[];
}

/** The scheduling fields of a pod. */
export interface PodPlacement {
    readonly nodeSelector?: Readonly<Record<string, string>>;
    readonly tolerations?: readonly Toleration[];
    readonly preferNodes?: readonly { readonly key: string; readonly value: string }[];
}

const tolerate = (p: PoolInfo): Toleration[] =>
    (p.taints ?? []).map((t) => ({
        key: t.key,
        operator: t.value === undefined ? "Exists" : "Equal",
        ...(t.value === undefined ? {} : { value: t.value }),
        effect: t.effect,
    }));

/**
 * The pod placement of `placement`. A data service without a pool prefers (never requires) nodes labelled
 * `keelson.io/pool=data` and tolerates the taints of the pools so labelled, so it lands there when such a
 * pool exists and anywhere otherwise.
 */
export function podPlacement(
    placement: Placement | undefined,
    pools: readonly PoolInfo[],
    dataService: boolean,
): PodPlacement {
    const label = (p: PoolInfo) => p.labels?.[POOL_LABEL] ?? p.name;
    const tolerations: Toleration[] = [];
    const nodeSelector: Record<string, string> = { ...(placement?.nodeSelector ?? {}) };
    let preferNodes: { key: string; value: string }[] = [];
    if (placement?.pool) {
        nodeSelector[POOL_LABEL] = placement.pool;
        for (const p of pools) if (p.name === placement.pool) tolerations.push(...tolerate(p));
    } else if (dataService) {
        preferNodes = [{ key: POOL_LABEL, value: DATA_POOL }];
        for (const p of pools) if (label(p) === DATA_POOL) tolerations.push(...tolerate(p));
    }
    tolerations.push(...(placement?.tolerations ?? []));
    return {
        ...(Object.keys(nodeSelector).length > 0 ? { nodeSelector } : {}),
        ...(tolerations.length > 0 ? { tolerations } : {}),
        ...(preferNodes.length > 0 ? { preferNodes } : {}),
    };
}
