// EC2 instance sizes and the share of each that the kubelet leaves for pods.

/** vCPUs and memory of an EC2 instance type. */
export interface InstanceSize {
    readonly vcpu: number;
    readonly memoryGiB: number;
}

/** Sizes of the instance types Keelson stages use (from the EC2 instance-type pages). */
export const INSTANCE_SIZES: Readonly<Record<string, InstanceSize>> = {
    "t3.nano": { vcpu: 2, memoryGiB: 0.5 },
    "t3.micro": { vcpu: 2, memoryGiB: 1 },
    "t3.small": { vcpu: 2, memoryGiB: 2 },
    "t3.medium": { vcpu: 2, memoryGiB: 4 },
    "t3.large": { vcpu: 2, memoryGiB: 8 },
    "t3.xlarge": { vcpu: 4, memoryGiB: 16 },
    "t3.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "t3a.small": { vcpu: 2, memoryGiB: 2 },
    "t3a.medium": { vcpu: 2, memoryGiB: 4 },
    "t3a.large": { vcpu: 2, memoryGiB: 8 },
    "t3a.xlarge": { vcpu: 4, memoryGiB: 16 },
    "t3a.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "t4g.small": { vcpu: 2, memoryGiB: 2 },
    "t4g.medium": { vcpu: 2, memoryGiB: 4 },
    "t4g.large": { vcpu: 2, memoryGiB: 8 },
    "m5.large": { vcpu: 2, memoryGiB: 8 },
    "m5.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m5.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "m5.4xlarge": { vcpu: 16, memoryGiB: 64 },
    "m6i.large": { vcpu: 2, memoryGiB: 8 },
    "m6i.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m6i.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "m6i.4xlarge": { vcpu: 16, memoryGiB: 64 },
    "m7i.large": { vcpu: 2, memoryGiB: 8 },
    "m7i.xlarge": { vcpu: 4, memoryGiB: 16 },
    "m7i.2xlarge": { vcpu: 8, memoryGiB: 32 },
    "m7i.4xlarge": { vcpu: 16, memoryGiB: 64 },
    "c5.large": { vcpu: 2, memoryGiB: 4 },
    "c5.xlarge": { vcpu: 4, memoryGiB: 8 },
    "c5.2xlarge": { vcpu: 8, memoryGiB: 16 },
    "c6i.large": { vcpu: 2, memoryGiB: 4 },
    "c6i.xlarge": { vcpu: 4, memoryGiB: 8 },
    "c6i.2xlarge": { vcpu: 8, memoryGiB: 16 },
    "c7i.large": { vcpu: 2, memoryGiB: 4 },
    "c7i.xlarge": { vcpu: 4, memoryGiB: 8 },
    "c7i.2xlarge": { vcpu: 8, memoryGiB: 16 },
    "r5.large": { vcpu: 2, memoryGiB: 16 },
    "r5.xlarge": { vcpu: 4, memoryGiB: 32 },
    "r6i.large": { vcpu: 2, memoryGiB: 16 },
    "r6i.xlarge": { vcpu: 4, memoryGiB: 32 },
    "r7i.large": { vcpu: 2, memoryGiB: 16 },
    "r7i.xlarge": { vcpu: 4, memoryGiB: 32 },
};

/** CPU (millicores) and memory (MiB) a node offers to pods. */
export interface Allocatable {
    readonly cpuMillis: number;
    readonly memoryMiB: number;
}

/** Hard eviction threshold the kubelet keeps free (`memory.available<100Mi`, the kubelet default). */
export const EVICTION_MEMORY_MIB = 100;

// Tiered reservations as [tier size, fraction]; the last tier is unbounded. These are GKE's
// published kube-reserved figures, the most widely used formula for kubeadm-style nodes too.
const CPU_TIERS: ReadonlyArray<readonly [number, number]> = [
    [1, 0.06],
    [1, 0.01],
    [2, 0.005],
    [Infinity, 0.0025],
];
const MEMORY_TIERS_GIB: ReadonlyArray<readonly [number, number]> = [
    [4, 0.25],
    [4, 0.2],
    [8, 0.1],
    [112, 0.06],
    [Infinity, 0.02],
];

function tiered(amount: number, tiers: ReadonlyArray<readonly [number, number]>): number {
    let left = amount;
    let reserved = 0;
    for (const [size, fraction] of tiers) {
        const part = Math.min(left, size);
        reserved += part * fraction;
        left -= part;
        if (left <= 0) break;
    }
    return reserved;
}

/**
 * What the kubelet leaves for pods on a node of this size: capacity minus kube-reserved
 * (CPU: 6 % of the first core, 1 % of the second, 0.5 % of cores 3 and 4, 0.25 % above;
 * memory: 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the next
 * 112, 2 % above 128 GiB) minus the 100 MiB hard eviction threshold. Rounded down.
 * A t3.medium (2 vCPU, 4 GiB) gives 1930m and 2972 MiB.
 */
export function allocatable(size: InstanceSize): Allocatable {
    const cpuMillis = Math.floor((size.vcpu - tiered(size.vcpu, CPU_TIERS)) * 1000);
    const memoryMiB = Math.floor(
        (size.memoryGiB - tiered(size.memoryGiB, MEMORY_TIERS_GIB)) * 1024 - EVICTION_MEMORY_MIB,
    );
    return { cpuMillis, memoryMiB: Math.max(0, memoryMiB) };
}
