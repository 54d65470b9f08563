// What makes a Spot pool's instance types a set one launch template can serve, and the group's mixed
// instances policy. Pure: the stage config reports these problems before anything is registered, and the
// Cluster refuses the same args from a library caller.
import { architectureOf } from "../ec2/debian";
import { INSTANCE_SIZES } from "../score/instance-types";
import { SpotSpec } from "./types";

/** Most instance types a Spot pool may list (EC2 Auto Scaling takes up to 40 overrides). */
export const MAX_SPOT_INSTANCE_TYPES = 20;

/** One problem with a pool's Spot settings: the key, the value and what to do. */
export interface SpotProblem {
    readonly key: string;
    readonly value: unknown;
    readonly fix: string;
}

/**
 * Every problem with a pool's Spot settings at `path` (`cluster.workerPools[1].spot`): an empty or too long
 * list, a list that does not start with the pool's `instanceType`, a type listed twice, a type of another
 * architecture than the first (the launch template boots one Debian image) or of another size (the
 * cluster-autoscaler and the capacity figures plan every node as the first type), an On-Demand base above
 * `maxSize` (no node would ever be Spot), a percentage outside 0 to 100.
 */
export function spotProblems(
    path: string,
    instanceType: string,
    spot: SpotSpec,
    maxSize: number,
): SpotProblem[] {
    const problems: SpotProblem[] = [];
    const types = spot.instanceTypes;
    if (types.length === 0) {
        problems.push({
            key: `${path}.instanceTypes`,
            value: [],
            fix: `is empty; list the instance types the pool may launch, ${instanceType} first, e.g. [${instanceType}, ...]`,
        });
    } else if (types.length > MAX_SPOT_INSTANCE_TYPES) {
        problems.push({
            key: `${path}.instanceTypes`,
            value: types.length,
            fix: `is too long; list at most ${MAX_SPOT_INSTANCE_TYPES}`,
        });
    } else if (types[0] !== instanceType) {
        problems.push({
            key: `${path}.instanceTypes[0]`,
            value: types[0],
            fix: `is not the pool's instanceType ${instanceType}; start the list with ${instanceType} (the launch template, the capacity figures and the cluster-autoscaler plan every node as the first type), or leave instanceType out to take ${types[0]}`,
        });
    }
    const base = arch(instanceType);
    const size = INSTANCE_SIZES[instanceType];
    const seen = new Set<string>();
    types.forEach((t, i) => {
        const key = `${path}.instanceTypes[${i}]`;
        if (seen.has(t)) {
            problems.push({ key, value: t, fix: "is listed twice; list each instance type once" });
            return;
        }
        seen.add(t);
        const a = arch(t);
        if (typeof a !== "string" || typeof base !== "string") {
            if (typeof a !== "string")
                problems.push({ key, value: t, fix: `${a.error}; use an EC2 instance type` });
            return;
        }
        if (a !== base) {
            problems.push({
                key,
                value: t,
                fix: `is ${a}, but the pool's launch template boots the ${base} Debian image of ${instanceType}; list instance types of one architecture (give the others a pool of their own)`,
            });
            return;
        }
        const s = INSTANCE_SIZES[t];
        if (size && s && (s.vcpu !== size.vcpu || s.memoryGiB !== size.memoryGiB)) {
            problems.push({
                key,
                value: t,
                fix: `has ${s.vcpu} vCPUs and ${s.memoryGiB} GiB, ${instanceType} ${size.vcpu} and ${size.memoryGiB}; list instance types of the same size (the cluster-autoscaler and the capacity figures plan every node as the first type)`,
            });
        }
    });
    if (!Number.isInteger(spot.onDemandBase) || spot.onDemandBase < 0) {
        problems.push({
            key: `${path}.onDemandBase`,
            value: spot.onDemandBase,
            fix: "is not a whole number >= 0; use 0 or more",
        });
    } else if (spot.onDemandBase > maxSize) {
        problems.push({
            key: `${path}.onDemandBase`,
            value: spot.onDemandBase,
            fix: `is more than the pool's maxSize ${maxSize}, so no node would ever be Spot; use ${maxSize} or less`,
        });
    }
    const pct = spot.onDemandPercentAboveBase;
    if (!Number.isInteger(pct) || pct < 0 || pct > 100) {
        problems.push({
            key: `${path}.onDemandPercentAboveBase`,
            value: pct,
            fix: "is not a whole percentage; use a number from 0 to 100",
        });
    }
    return problems;
}

function arch(instanceType: string): string | { error: string } {
    try {
        return architectureOf(instanceType);
    } catch (e) {
        return { error: (e as Error).message };
    }
}

/**
 * The group's mixed instances policy: the pool's launch template at `version` (a number, so a new version
 * starts an instance refresh), one override per instance type in order, and the distribution: On-Demand in
 * the listed order (`prioritized`), Spot by `allocationStrategy`.
 */
export function mixedInstancesPolicy<Id, Version>(
    launchTemplateId: Id,
    version: Version,
    spot: SpotSpec,
): {
    launchTemplate: {
        launchTemplateSpecification: { launchTemplateId: Id; version: Version };
        overrides: { instanceType: string }[];
    };
    instancesDistribution: {
        onDemandAllocationStrategy: string;
        onDemandBaseCapacity: number;
        onDemandPercentageAboveBaseCapacity: number;
        spotAllocationStrategy: string;
    };
} {
    return {
        launchTemplate: {
            launchTemplateSpecification: { launchTemplateId, version },
            overrides: spot.instanceTypes.map((instanceType) => ({ instanceType })),
        },
        instancesDistribution: {
            onDemandAllocationStrategy: "prioritized",
            onDemandBaseCapacity: spot.onDemandBase,
            onDemandPercentageAboveBaseCapacity: spot.onDemandPercentAboveBase,
            spotAllocationStrategy: spot.allocationStrategy,
        },
    };
}
