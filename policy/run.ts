// Runs the policy pack's rules in-process over an offline plan, without the Pulumi CLI: the same
// validateResource/validateStack functions `pulumi preview --policy-pack policy` calls.
import {
    EnforcementLevel,
    Policies,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidation,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { PlanResource } from "../components/core/graph";
import { policies as shipped } from "./rules";

/** One violation reported by a policy. */
export interface PolicyViolation {
    readonly policy: string;
    readonly enforcementLevel: EnforcementLevel;
    /** The resource the violation is about (the validated resource unless the policy named another). */
    readonly urn: string;
    readonly message: string;
}

class NotApplicable extends Error {}

const OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

function configOf(
    policy: { configSchema?: { properties: Record<string, unknown> } },
    overrides: Record<string, unknown>,
): Record<string, unknown> {
    const defaults: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(policy.configSchema?.properties ?? {})) {
        const d = (v as { default?: unknown }).default;
        if (d !== undefined) defaults[k] = structuredClone(d);
    }
    return { ...defaults, ...overrides };
}

// Type-class checks need Pulumi resource classes, which a plan does not have; the shipped rules
// match on type tokens instead, so these only compare the class's registered type token.
const typeOf = (cls: unknown) => (cls as { __pulumiType?: string }).__pulumiType;

function policyResources(resources: readonly PlanResource[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const out = resources.map((r) => {
        const pr: PolicyResource = {
            type: r.type,
            props: r.inputs,
            urn: r.urn,
            name: r.name,
            opts: { ...OPTIONS, parent: r.parent },
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => typeOf(cls) === r.type,
            asType: (cls) => (typeOf(cls) === r.type ? (r.inputs as never) : undefined),
        };
        byUrn.set(r.urn, pr);
        return pr;
    });
    resources.forEach((r, i) => {
        const pr = out[i] as { parent?: PolicyResource; dependencies: PolicyResource[] };
        pr.parent = r.parent ? byUrn.get(r.parent) : undefined;
        pr.dependencies = r.dependencies.flatMap((d) => byUrn.get(d) ?? []);
    });
    return out;
}

/**
 * Runs every resource and stack policy over a plan's resources and returns the violations in
 * policy order, then resource order. `config` overrides a policy's config defaults by policy name,
 * like a policy-pack config file. Disabled policies are skipped.
 */
export async function runPolicies(
    resources: readonly PlanResource[],
    policies: Policies = shipped,
    config: Record<string, Record<string, unknown>> = {},
): Promise<PolicyViolation[]> {
    const violations: PolicyViolation[] = [];
    const notApplicable = (reason?: string): never => {
        throw new NotApplicable(reason);
    };
    const stackResources = policyResources(resources);
    for (const policy of policies) {
        const level = policy.enforcementLevel ?? "advisory";
        if (level === "disabled") continue;
        const cfg = configOf(policy, config[policy.name] ?? {});
        const report = (urn: string) => (message: string, other?: string) =>
            violations.push({ policy: policy.name, enforcementLevel: level, urn: other ?? urn, message });
        try {
            if ("validateStack" in policy) {
                await (policy as StackValidationPolicy).validateStack(
                    {
                        resources: stackResources,
                        stackTags: new Map(),
                        getConfig: <T>() => cfg as T,
                        notApplicable,
                    },
                    report(""),
                );
                continue;
            }
            const validations = (policy as ResourceValidationPolicy).validateResource;
            const list: ResourceValidation[] =
                validations === undefined ? [] : Array.isArray(validations) ? validations : [validations];
            for (const r of stackResources) {
                for (const validate of list) {
                    try {
                        await validate(
                            {
                                type: r.type,
                                props: r.props,
                                urn: r.urn,
                                name: r.name,
                                opts: r.opts,
                                stackTags: new Map(),
                                isType: r.isType,
                                asType: r.asType as never,
                                getConfig: <T>() => cfg as T,
                                notApplicable,
                            },
                            report(r.urn),
                        );
                    } catch (e) {
                        if (!(e instanceof NotApplicable)) throw e;
                    }
                }
            }
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return violations;
}

/** Only the mandatory violations: the ones that fail `pulumi preview --policy-pack`. */
export function mandatory(violations: readonly PolicyViolation[]): PolicyViolation[] {
    return violations.filter((v) => v.enforcementLevel === "mandatory");
}
