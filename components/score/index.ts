// StackScore: five metrics graded A to F from a plan's resource graph; the overall grade is the lowest.
import { PlanResource } from "../core/graph";
import { certificateFindings } from "./certificates";
import { gradeFindings, worst } from "./grade";
import { viewOf } from "./graph-view";
import { infrastructureAvailability, workloadAvailability } from "./rules/availability";
import { artifactSecurity } from "./rules/artifacts";
import { capacityFindings } from "./rules/capacity";
import { operabilityFindings } from "./rules/operability";
import { databaseRecoverability, stateRecoverability, volumeRecoverability } from "./rules/recoverability";
import { firewallSecurity, instanceSecurity, podSecurity } from "./rules/security";
import { Finding, Grade, MetricName, METRICS, ScoreOptions, StackScore, SYSTEM_NAMESPACES } from "./types";

export * from "./types";
export { gradeFindings, meetsMinimum, minimumGradeError } from "./grade";
export { computeCost } from "./cost";
export { certificateHorizons, renderHorizons } from "./certificates";
export type { CertificateHorizon } from "./certificates";
export type { CostEstimate, CostItem } from "./cost";

const SEVERITY_ORDER = ["critical", "high", "medium", "low"];

/**
 * Scores a plan's resources. Pure: the same resources always give the same score, with findings
 * sorted by severity (critical first), metric, rule and resource.
 */
export function scorePlan(resources: readonly PlanResource[], opts: ScoreOptions = {}): StackScore {
    const view = viewOf(resources);
    const system = opts.systemNamespaces ?? SYSTEM_NAMESPACES;
    const findings: Finding[] = [
        ...infrastructureAvailability(view),
        ...workloadAvailability(view, system),
        ...instanceSecurity(view),
        ...firewallSecurity(view, opts.publicPorts ?? []),
        ...podSecurity(view, system),
        ...artifactSecurity(opts.artifacts ?? []),
        ...stateRecoverability(view),
        ...volumeRecoverability(view),
        ...databaseRecoverability(view),
        ...certificateFindings(resources),
        ...capacityFindings(view),
        ...operabilityFindings(view),
    ];
    findings.sort(
        (a, b) =>
            SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
            METRICS.indexOf(a.metric) - METRICS.indexOf(b.metric) ||
            a.rule.localeCompare(b.rule) ||
            a.resource.localeCompare(b.resource),
    );
    const metrics = {} as Record<MetricName, Grade>;
    let overall: Grade = "A";
    for (const m of METRICS) {
        metrics[m] = gradeFindings(findings.filter((f) => f.metric === m));
        overall = worst(overall, metrics[m]);
    }
    return { overall, metrics, findings };
}
