// `npm run readme:figures [-- --check]`: the README's stage figures (resources, StackScore, monthly cost)
// regenerated from the offline plans of the shipped stages, in the stage table between the
// `<!-- figures:stages -->` markers. `--check` changes nothing and exits 1 when the README is stale; test/plan/stages.test.ts
// runs the same comparison, so a change that moves a figure fails until the figures are regenerated.
import * as fs from "fs";
import * as path from "path";
import { computeCost, scorePlan } from "../../components/score";
import { FullPlan, PROJECT_ROOT, planStage } from "../plan/plan";
import { loadStackConfig } from "../plan/stack-config";

/** The shipped stages, in the README's column order. */
export const README_STAGES = ["dev", "staging", "prod"] as const;

/** What the README says of one stage. */
export interface StageFigures {
    readonly resources: number;
    readonly components: number;
    readonly grade: string;
    /** Metrics below A with their grades, e.g. `capacity F`. */
    readonly weakMetrics: string[];
    /** The stage's `score.minimumGrade`, when it sets one. */
    readonly minimumGrade?: string;
    readonly monthlyUsd: number;
}

/** The figures of one planned stage: the same functions the plan CLI prints them with. */
export function stageFigures(plan: FullPlan, minimumGrade?: string): StageFigures {
    const score = scorePlan(plan.resources, { artifacts: plan.artifacts });
    const custom = plan.resources.filter((r) => r.custom).length;
    return {
        resources: custom,
        components: plan.resources.length - custom,
        grade: score.overall,
        weakMetrics: Object.entries(score.metrics)
            .filter(([, g]) => g !== "A")
            .map(([m, g]) => `${m} ${g}`),
        ...(minimumGrade ? { minimumGrade } : {}),
        monthlyUsd: computeCost(plan.resources).monthlyUsd,
    };
}

const usd = (n: number) =>
    `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The generated table rows, one cell per stage in {@link README_STAGES} order. */
export function renderStageRows(figures: readonly StageFigures[]): string[] {
    const row = (label: string, cell: (f: StageFigures) => string) =>
        `| ${label} | ${figures.map(cell).join(" | ")} |`;
    return [
        row("resources", (f) => `${f.resources} in ${f.components} components`),
        row("StackScore", (f) =>
            [
                f.grade,
                f.weakMetrics.length ? ` (${f.weakMetrics.join(", ")})` : "",
                f.minimumGrade ? `, required: \`score.minimumGrade: ${f.minimumGrade}\`` : "",
            ].join(""),
        ),
        row("cost / month", (f) => usd(f.monthlyUsd)),
    ];
}

const BEGIN = "<!-- figures:stages -->";
const END = "<!-- /figures:stages -->";

const GENERATED = ["| resources |", "| StackScore |", "| cost / month |"];

/**
 * `readme` with the generated rows of the stage table (between the markers, which sit around the whole
 * table: a comment line inside a Markdown table would end it) replaced by `rows`, after its last row.
 * Throws when a marker is missing.
 */
export function replaceFigures(readme: string, rows: readonly string[]): string {
    const start = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    if (start < 0 || end < start) throw new Error(`README.md: the markers ${BEGIN} and ${END} are missing`);
    const table = readme
        .slice(start + BEGIN.length, end)
        .split("\n")
        .filter((l) => l.startsWith("|") && !GENERATED.some((g) => l.startsWith(g)));
    return `${readme.slice(0, start + BEGIN.length)}\n${[...table, ...rows].join("\n")}\n${readme.slice(end)}`;
}

/** Plans every shipped stage and returns the README rows. */
export async function currentRows(plans?: Partial<Record<string, FullPlan>>): Promise<string[]> {
    const figures: StageFigures[] = [];
    for (const stage of README_STAGES) {
        const plan = plans?.[stage] ?? (await planStage({ stack: stage }));
        const config = loadStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stage}.yaml`)).values[
            "keelson:score"
        ];
        const minimum = (config as { minimumGrade?: string } | undefined)?.minimumGrade;
        figures.push(stageFigures(plan, minimum));
    }
    return renderStageRows(figures);
}

async function main(argv: string[]): Promise<number> {
    const file = path.join(PROJECT_ROOT, "README.md");
    const readme = fs.readFileSync(file, "utf8");
    const updated = replaceFigures(readme, await currentRows());
    if (argv.includes("--check")) {
        if (updated === readme) return 0;
        process.stderr.write("README.md: the stage figures are stale; run npm run readme:figures\n");
        return 1;
    }
    if (updated !== readme) fs.writeFileSync(file, updated);
    process.stdout.write(
        updated === readme ? "README.md: figures unchanged\n" : "README.md: figures updated\n",
    );
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(3);
        },
    );
}
