// Small helpers for writing policies: type filters and config defaults.
import { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { asWorkloads, Workload } from "../../components/score/workloads";
import { PlanResource } from "../../components/core/graph";

/** A validation that runs only for resources of the given type tokens. */
export function forTypes(
    types: readonly string[],
    validate: (args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    return (args, report) => {
        if (types.includes(args.type)) validate(args, report);
    };
}

/**
 * A validation that runs for every pod-running Kubernetes workload (Deployment, StatefulSet, ...) of any
 * API version, every `<Kind>Patch` (`w.patch`: judge only the fields it sets) and every item of a `<Kind>List`.
 */
export function forWorkloads(
    validate: (w: Workload, args: ResourceValidationArgs, report: ReportViolation) => void,
): ResourceValidation {
    return (args, report) => {
        for (const w of asWorkloads(args.type, args.props, args.urn, args.name)) validate(w, args, report);
    };
}

/** `Deployment app/web` (`DeploymentPatch app/web` for a patch): how messages name a workload. */
export function label(w: Workload): string {
    return `${w.kind}${w.patch ? "Patch" : ""} ${w.namespace}/${w.name}`;
}

/** The stack's resources in the plan's shape, so that stack policies can use the StackScore's graph view. */
export function asPlanResources(resources: readonly PolicyResource[]): PlanResource[] {
    return resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        parent: r.parent?.urn,
        dependencies: r.dependencies.map((d) => d.urn),
        inputs: r.props,
        custom: !r.type.startsWith("keelson:"),
    }));
}

/**
 * A policy's config with its schema defaults filled in. The Pulumi engine sends the defaults when it
 * configures the pack, but an analyzer that is never configured gets `{}` from `getConfig`.
 */
export function configWithDefaults<T extends object>(
    args: { getConfig<C extends object>(): C },
    defaults: T,
): T {
    const given = args.getConfig<Partial<T>>();
    const out = { ...defaults };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
    return out;
}
