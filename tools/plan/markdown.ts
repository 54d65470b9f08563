// The plan summary posted on a pull request: stage, StackScore with top findings, cost, resource
// counts by type, and the changes against the base branch's plan.
import type { CostEstimate } from "../../components/score/cost";
import type { PolicyViolation } from "../../policy/run";
import { CERT_RENEW_TIMER, CERT_RENEW_WITHIN_DAYS } from "../../components/cluster/render/units";
import { CertificateHorizon, renderHorizons } from "../../components/score/certificates";
import { METRICS, StackScore } from "../../components/score/types";
import type { PlanDiff, PlanJson } from "./diff";
import type { UpgradePlan } from "./upgrade-steps";

/** What the summary shows; everything but the plan is optional. */
export interface MarkdownInput {
    readonly plan: PlanJson;
    readonly score?: StackScore;
    readonly cost?: CostEstimate;
    /** Changes against the base branch's plan. */
    readonly diff?: PlanDiff;
    /** Version changes in that diff, as their upgrade steps (./upgrade-steps.ts). */
    readonly upgrades?: readonly UpgradePlan[];
    /** The policy pack's violations over the plan (mandatory ones fail `pulumi preview`). */
    readonly policy?: readonly PolicyViolation[];
    /** The certificates Pulumi issues, with their validity and renewal. */
    readonly certificates?: readonly CertificateHorizon[];
    /** Findings listed (worst first). Default 10. */
    readonly maxFindings?: number;
    /** Changed resources listed before "… and N more". Default 40. */
    readonly maxChanges?: number;
}

/** The first line of every summary, so that a workflow can find and update its own comment. */
export function marker(stack: string): string {
    return `<!-- keelson-plan:${stack} -->`;
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const shortUrn = (urn: string) => urn.split("::").pop() ?? urn;

function scoreSection(score: StackScore, max: number): string[] {
    const lines = [
        `### StackScore: ${score.overall}`,
        "",
        `| ${METRICS.join(" | ")} |`,
        `|${METRICS.map(() => ":-:").join("|")}|`,
        `| ${METRICS.map((m) => score.metrics[m]).join(" | ")} |`,
        "",
    ];
    if (score.findings.length === 0) return [...lines, "No findings."];
    lines.push(
        `${score.findings.length} finding(s)${score.findings.length > max ? `, top ${max}` : ""}:`,
        "",
        "| Severity | Rule | Resource | Finding | Fix |",
        "|---|---|---|---|---|",
    );
    for (const f of score.findings.slice(0, max))
        lines.push(
            `| ${f.severity} | \`${f.rule}\` | ${cell(shortUrn(f.resource))} | ${cell(f.message)} | ${cell(f.fix)} |`,
        );
    return lines;
}

function policySection(violations: readonly PolicyViolation[], max: number): string[] {
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
    const lines = [
        `### Policy pack: ${mandatory.length} mandatory, ${violations.length - mandatory.length} advisory`,
        "",
    ];
    if (violations.length === 0) return [...lines, "No violations."];
    const sorted = [...mandatory, ...violations.filter((v) => v.enforcementLevel !== "mandatory")];
    lines.push("| Level | Policy | Resource | Violation |", "|---|---|---|---|");
    for (const v of sorted.slice(0, max))
        lines.push(
            `| ${v.enforcementLevel} | \`${v.policy}\` | ${cell(shortUrn(v.urn) || "(stack)")} | ${cell(v.message)} |`,
        );
    if (sorted.length > max) lines.push("", `… and ${sorted.length - max} more.`);
    return lines;
}

function costSection(cost: CostEstimate): string[] {
    return [
        `### Cost: ${usd(cost.monthlyUsd)} per month`,
        "",
        `On-demand ${cost.region} prices of ${cost.priceDate}. An EKS control plane would add ${usd(cost.eksControlPlaneMonthlyUsd)} per month; Keelson's masters are in the total above.`,
        "",
        "<details><summary>Cost by resource</summary>",
        "",
        "| Resource | Priced as | Monthly |",
        "|---|---|--:|",
        ...cost.items.map((i) => `| ${cell(i.name)} | ${cell(i.detail)} | ${usd(i.monthlyUsd)} |`),
        "",
        ...cost.notes.map((n) => `- ${n}`),
        "",
        "</details>",
    ];
}

function countsSection(plan: PlanJson): string[] {
    const counts = new Map<string, number>();
    // Components (custom: false) are not resources of the cloud: counted apart, as in the text and JSON.
    const custom = plan.resources.filter((r) => r.custom !== false);
    for (const r of custom) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const rows = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    return [
        `### Resources: ${custom.length} in ${plan.resources.length - custom.length} components`,
        "",
        "<details><summary>By type</summary>",
        "",
        "| Type | Count |",
        "|---|--:|",
        ...rows.map(([t, n]) => `| \`${t}\` | ${n} |`),
        "",
        "</details>",
    ];
}

function upgradeSection(u: UpgradePlan): string[] {
    const head = `### Upgrade of ${cell(u.cluster)}: ${u.from} → ${u.to}`;
    if (u.problem) return [head, "", `**Refused:** ${cell(u.problem)}`];
    return [
        head,
        "",
        "Each step starts once the ones before it have succeeded; steps with the same number run together.",
        "",
        ...u.steps.map((s) => `${s.order}. ${cell(s.text)}`),
    ];
}

function diffSection(diff: PlanDiff, max: number): string[] {
    const total = diff.added.length + diff.updated.length + diff.replaced.length + diff.removed.length;
    const lines = [
        `### Changes against the base branch: +${diff.added.length} ~${diff.updated.length} ` +
            `+-${diff.replaced.length} -${diff.removed.length}`,
        "",
    ];
    const code = (fields: readonly string[]) => fields.map((f) => `\`${f}\``).join(", ");
    const rows = [
        ...diff.added.map((r) => `| + create | ${cell(r.name)} | \`${r.type}\` | |`),
        ...diff.updated.map((r) => `| ~ update | ${cell(r.name)} | \`${r.type}\` | ${code(r.fields)} |`),
        ...diff.replaced.map(
            (r) =>
                `| +- replace${r.deleteBeforeReplace ? " (delete first)" : ""} | ${cell(r.name)} | \`${r.type}\` | ` +
                `${code(r.fields)}: ${cell(r.reasons.join("; "))} |`,
        ),
        ...diff.removed.map((r) => `| - delete | ${cell(r.name)} | \`${r.type}\` | |`),
    ];
    if (total === 0) lines.push("No resource changes.");
    else {
        lines.push("| | Resource | Type | Changed fields |", "|---|---|---|---|", ...rows.slice(0, max));
        if (rows.length > max) lines.push("", `… and ${rows.length - max} more.`);
    }
    if (diff.ignored.length > 0)
        lines.push(
            "",
            `${diff.ignored.length} resource(s) unchanged because their changes are under \`ignoreChanges\`: ` +
                diff.ignored.map((r) => `${cell(r.name)} (${code(r.fields)})`).join(", "),
        );
    return lines;
}

/** Renders the PR comment for one stage. Pure; sections appear only for the inputs given. */
export function renderMarkdown(input: MarkdownInput): string {
    const { plan } = input;
    const lines = [marker(plan.stack), `## Keelson plan: \`${plan.stack}\``, ""];
    if (input.score) lines.push(...scoreSection(input.score, input.maxFindings ?? 10), "");
    if (input.policy) lines.push(...policySection(input.policy, input.maxFindings ?? 10), "");
    if (input.cost) lines.push(...costSection(input.cost), "");
    const horizon = horizonLines(input.certificates ?? [], hasCluster(plan.resources));
    if (horizon.length) lines.push("### Certificate horizon", "", ...horizon.map((l) => `- ${l}`), "");
    lines.push(...countsSection(plan), "");
    if (input.diff) lines.push(...diffSection(input.diff, input.maxChanges ?? 40), "");
    for (const u of input.upgrades ?? []) lines.push(...upgradeSection(u), "");
    lines.push("_Offline plan under Pulumi mocks: secrets are masked and not compared._", "");
    return lines.join("\n");
}

/** The certificates a cluster has that are not in the graph. */
export const KUBEADM_NOTE = `kubeadm's certificates on the masters (1 year): renewed in their last ${CERT_RENEW_WITHIN_DAYS} days by ${CERT_RENEW_TIMER} (every 7 days)`;

const hasCluster = (resources: readonly { type: string }[]) =>
    resources.some((r) => r.type === "keelson:cluster:Cluster");

/** Each certificate's validity and renewal, then kubeadm's when the plan has a cluster. */
function horizonLines(certificates: readonly CertificateHorizon[], cluster: boolean): string[] {
    return [...renderHorizons(certificates), ...(cluster ? [KUBEADM_NOTE] : [])];
}

/** The text plan's certificate lines. */
export function renderHorizonText(
    certificates: readonly CertificateHorizon[],
    resources: readonly { type: string }[],
): string {
    const lines = horizonLines(certificates, hasCluster(resources));
    return lines.length ? ["Certificate horizon:", ...lines.map((l) => `  ${l}`)].join("\n") : "";
}

/**
 * The score, policy and cost lines the plan prints in text mode (findings capped at
 * `maxFindings`, default 10; mandatory policy violations all listed).
 */
export function renderScoreText(
    score: StackScore,
    cost: CostEstimate,
    policy: readonly PolicyViolation[] = [],
    maxFindings = 10,
): string {
    const lines = [
        `StackScore: ${score.overall} (${METRICS.map((m) => `${m} ${score.metrics[m]}`).join(", ")})`,
        ...score.findings
            .slice(0, maxFindings)
            .map((f) => `  [${f.severity}] ${f.rule} on ${shortUrn(f.resource)}: ${f.message} Fix: ${f.fix}`),
    ];
    if (score.findings.length > maxFindings)
        lines.push(`  … and ${score.findings.length - maxFindings} more (see --json)`);
    const mandatory = policy.filter((v) => v.enforcementLevel === "mandatory");
    lines.push(
        "",
        `Policy pack: ${mandatory.length} mandatory, ${policy.length - mandatory.length} advisory violation(s)`,
        // Every violation, mandatory first: a reviewer reads them here, not only their count.
        ...[...mandatory, ...policy.filter((v) => v.enforcementLevel !== "mandatory")].map(
            (v) => `  [${v.enforcementLevel}] ${v.policy} on ${shortUrn(v.urn) || "the stack"}: ${v.message}`,
        ),
    );
    lines.push(
        "",
        `Cost: ${usd(cost.monthlyUsd)} per month (${cost.region} on-demand prices of ${cost.priceDate}); an EKS control plane would add ${usd(cost.eksControlPlaneMonthlyUsd)}`,
        ...(cost.warnings ?? []).map((w) => `  warning: ${w}`),
        ...cost.items.slice(0, 10).map((i) => `  ${usd(i.monthlyUsd).padStart(10)}  ${i.name} (${i.detail})`),
    );
    if (cost.items.length > 10) lines.push(`  … and ${cost.items.length - 10} more items (see --json)`);
    return lines.join("\n");
}
