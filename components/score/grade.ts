// From findings to letter grades, and the stage's minimum-grade gate.
import { Finding, Grade, GRADES, StackScore } from "./types";

/**
 * The grade of one metric from its findings, worst rule first:
 * any critical → F; two or more high → E; one high → D; three or more medium → C;
 * one or two medium → B; four or more low → B; otherwise A (up to three low findings are advice).
 */
export function gradeFindings(findings: readonly Finding[]): Grade {
    const count = (s: Finding["severity"]) => findings.filter((f) => f.severity === s).length;
    if (count("critical") > 0) return "F";
    const high = count("high");
    if (high >= 2) return "E";
    if (high === 1) return "D";
    const medium = count("medium");
    if (medium >= 3) return "C";
    if (medium >= 1) return "B";
    return count("low") >= 4 ? "B" : "A";
}

/** The worse of two grades. */
export function worst(a: Grade, b: Grade): Grade {
    return GRADES.indexOf(a) >= GRADES.indexOf(b) ? a : b;
}

/** True when `grade` is at least as good as `minimum`. */
export function gradeAtLeast(grade: Grade, minimum: Grade): boolean {
    return GRADES.indexOf(grade) <= GRADES.indexOf(minimum);
}

/** True when the overall StackScore is at least the stage's `score.minimumGrade`. */
export function meetsMinimum(score: StackScore, minimum: Grade): boolean {
    return gradeAtLeast(score.overall, minimum);
}

/**
 * The error for a score below the stage's minimum: the overall grade, each metric below the
 * minimum, and the findings (rule, resource, fix) that pulled it down. Undefined when it passes.
 */
export function minimumGradeError(score: StackScore, minimum: Grade): string | undefined {
    if (meetsMinimum(score, minimum)) return undefined;
    const failing = Object.entries(score.metrics).filter(([, g]) => !gradeAtLeast(g, minimum));
    const lines = [
        `score.minimumGrade: StackScore ${score.overall} is below the required ${minimum} (` +
            failing.map(([m, g]) => `${m} ${g}`).join(", ") +
            ")",
    ];
    const failingMetrics = new Set(failing.map(([m]) => m));
    // Low findings never pull a metric below B, so when B is required they are not the cause.
    const relevant = score.findings.filter(
        (f) => failingMetrics.has(f.metric) && (f.severity !== "low" || minimum === "A"),
    );
    for (const f of relevant)
        lines.push(`  - [${f.severity}] ${f.rule} on ${f.resource}: ${f.message} Fix: ${f.fix}`);
    return lines.join("\n");
}
