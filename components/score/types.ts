// The StackScore's public shapes: grades, findings and the per-metric result.
import type { PlanArtifact } from "../core/graph";

/** Letter grades, best first. The overall grade is the worst metric grade. */
export type Grade = "A" | "B" | "C" | "D" | "E" | "F";

/** Every grade, best first; the index is the rank used to compare grades. */
export const GRADES: readonly Grade[] = ["A", "B", "C", "D", "E", "F"];

/** The five StackScore metrics. */
export type MetricName = "availability" | "security" | "recoverability" | "capacity" | "operability";

/** Every metric, in the order the plan prints them. */
export const METRICS: readonly MetricName[] = [
    "availability",
    "security",
    "recoverability",
    "capacity",
    "operability",
];

/** How much a finding weighs in its metric's grade (see ./grade.ts for the thresholds). */
export type Severity = "low" | "medium" | "high" | "critical";

/** One problem found in the resource graph, with the resource it concerns and how to fix it. */
export interface Finding {
    readonly metric: MetricName;
    /** Stable rule id, e.g. `availability/single-master`. */
    readonly rule: string;
    /** URN of the resource concerned, or a name (`cluster`, a namespace) when no single resource is. */
    readonly resource: string;
    readonly severity: Severity;
    readonly message: string;
    readonly fix: string;
}

/** A finding constructor for one metric: rules prefix their ids with the metric (`security/imdsv2`). */
export function findingsFor(
    metric: MetricName,
): (rule: string, resource: string, severity: Severity, message: string, fix: string) => Finding {
    return (rule, resource, severity, message, fix) => ({
        metric,
        rule: `${metric}/${rule}`,
        resource,
        severity,
        message,
        fix,
    });
}

/** The StackScore of a plan: one grade per metric, the overall (lowest) grade and every finding. */
export interface StackScore {
    readonly overall: Grade;
    readonly metrics: Readonly<Record<MetricName, Grade>>;
    /** Sorted by severity (critical first), then metric, rule and resource. */
    readonly findings: readonly Finding[];
}

/** What the graph alone cannot say. Every field is optional; the defaults suit a Keelson stage. */
export interface ScoreOptions {
    /**
     * Ports that may be open to 0.0.0.0/0 besides 80 and 443. Single-port rules declared by a
     * `keelson:edge:*` component (its stream routes) are always allowed. Default none.
     */
    readonly publicPorts?: readonly number[];
    /**
     * The plan's rendered artifacts: user-data and edge configs are checked for secrets and TLS
     * below 1.2, kubeadm configs against the CIS benchmark. Default none (the policy pack has none).
     */
    readonly artifacts?: readonly PlanArtifact[];
    /**
     * Namespaces whose workloads are platform add-ons (node agents, CNI): exempt from the
     * replica/PDB/spread rules and allowed host access. Default {@link SYSTEM_NAMESPACES}.
     */
    readonly systemNamespaces?: readonly string[];
}

/** The default {@link ScoreOptions.systemNamespaces}. */
export const SYSTEM_NAMESPACES: readonly string[] = [
    "kube-system",
    "kube-node-lease",
    "kube-public",
    "calico-system",
    "tigera-operator",
    "monitoring",
    "logging",
];
