import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { computeCost, scorePlan, StackScore } from "../../components/score";
import type { PolicyViolation } from "../../policy/run";
import { main } from "../../tools/plan/cli";
import { diffPlans, PlanJson } from "../../tools/plan/diff";
import { marker, renderMarkdown, renderScoreText } from "../../tools/plan/markdown";
import { PROJECT_ROOT } from "../../tools/plan/plan";
import { res } from "../score/fixtures";

const nat = res("aws:ec2/natGateway:NatGateway", "nat-a", { subnetId: "s" }, { stack: "dev" });
const bucket = res("aws:s3/bucket:Bucket", "logs|x", {}, { stack: "dev" });
const plan: PlanJson = {
    stack: "dev",
    resources: [nat, bucket, res("aws:ec2/natGateway:NatGateway", "nat-b", {}, { stack: "dev" })],
};

const score: StackScore = {
    overall: "D",
    metrics: { availability: "D", security: "A", recoverability: "B", capacity: "A", operability: "A" },
    findings: [
        {
            metric: "availability",
            rule: "availability/single-master",
            resource: "urn:pulumi:dev::keelson::aws:ec2/instance:Instance::m0",
            severity: "high",
            message: "One master.",
            fix: "Use 3.",
        },
        {
            metric: "recoverability",
            rule: "recoverability/s3-versioning",
            resource: bucket.urn,
            severity: "medium",
            message: "Not | versioned.",
            fix: "Version it.",
        },
    ],
};

const violations: PolicyViolation[] = [
    {
        policy: "k8s-replicas",
        enforcementLevel: "advisory",
        urn: bucket.urn,
        message: "Deployment app/x runs 1 replica.",
    },
    {
        policy: "aws-ec2-imdsv2",
        enforcementLevel: "mandatory",
        urn: score.findings[0].resource,
        message: "m0 allows IMDSv1.",
    },
];

describe("renderMarkdown", () => {
    it("lists policy violations, mandatory first", () => {
        const text = renderMarkdown({ plan, policy: violations });
        assert.ok(
            text.includes(
                [
                    "### Policy pack: 1 mandatory, 1 advisory",
                    "",
                    "| Level | Policy | Resource | Violation |",
                    "|---|---|---|---|",
                    "| mandatory | `aws-ec2-imdsv2` | m0 | m0 allows IMDSv1. |",
                    "| advisory | `k8s-replicas` | logs\\|x | Deployment app/x runs 1 replica. |",
                    "",
                ].join("\n"),
            ),
        );
        assert.ok(
            renderMarkdown({ plan, policy: [] }).includes(
                "### Policy pack: 0 mandatory, 0 advisory\n\nNo violations.\n",
            ),
        );
    });

    it("renders score, cost, counts and changes for a PR comment", () => {
        const old: PlanJson = {
            stack: "dev",
            resources: [
                { ...nat, inputs: { subnetId: "t" } },
                res("aws:ec2/eip:Eip", "gone", {}, { stack: "dev" }),
            ],
        };
        const text = renderMarkdown({ plan, score, cost: computeCost([nat]), diff: diffPlans(old, plan) });
        assert.equal(
            text,
            [
                "<!-- keelson-plan:dev -->",
                "## Keelson plan: `dev`",
                "",
                "### StackScore: D",
                "",
                "| availability | security | recoverability | capacity | operability |",
                "|:-:|:-:|:-:|:-:|:-:|",
                "| D | A | B | A | A |",
                "",
                "2 finding(s):",
                "",
                "| Severity | Rule | Resource | Finding | Fix |",
                "|---|---|---|---|---|",
                "| high | `availability/single-master` | m0 | One master. | Use 3. |",
                "| medium | `recoverability/s3-versioning` | logs\\|x | Not \\| versioned. | Version it. |",
                "",
                "### Cost: $32.85 per month",
                "",
                "On-demand us-east-1 prices of 2026-11-22. An EKS control plane would add $73.00 per month; Keelson's masters are in the total above.",
                "",
                "<details><summary>Cost by resource</summary>",
                "",
                "| Resource | Priced as | Monthly |",
                "|---|---|--:|",
                "| nat-a | NAT gateway 730 h | $32.85 |",
                "",
                "- On-demand Linux prices for us-east-1 as of 2026-11-22; 730 hours per month.",
                "- NAT gateway data processing ($0.045/GB) and data transfer out are excluded.",
                "- Load balancers include one baseline LCU; S3 assumes 10 GB stored per bucket, requests excluded.",
                "",
                "</details>",
                "",
                "### Resources: 3 in 0 components",
                "",
                "<details><summary>By type</summary>",
                "",
                "| Type | Count |",
                "|---|--:|",
                "| `aws:ec2/natGateway:NatGateway` | 2 |",
                "| `aws:s3/bucket:Bucket` | 1 |",
                "",
                "</details>",
                "",
                "### Changes against the base branch: +2 ~0 +-1 -1",
                "",
                "| | Resource | Type | Changed fields |",
                "|---|---|---|---|",
                "| + create | nat-b | `aws:ec2/natGateway:NatGateway` | |",
                "| + create | logs\\|x | `aws:s3/bucket:Bucket` | |",
                "| +- replace | nat-a | `aws:ec2/natGateway:NatGateway` | `subnetId`: subnetId: the provider replaces aws:ec2/natGateway:NatGateway on this field |",
                "| - delete | gone | `aws:ec2/eip:Eip` | |",
                "",
                "_Offline plan under Pulumi mocks: secrets are masked and not compared._",
                "",
            ].join("\n"),
        );
    });

    it("shows only the sections it is given, caps findings and changes", () => {
        const many: StackScore = { ...score, findings: Array.from({ length: 12 }, () => score.findings[0]) };
        const text = renderMarkdown({
            plan,
            score: many,
            maxFindings: 3,
            diff: diffPlans({ stack: "dev", resources: [] }, plan),
            maxChanges: 2,
        });
        assert.match(text, /^<!-- keelson-plan:dev -->\n/);
        assert.ok(text.includes("12 finding(s), top 3:"));
        assert.equal(text.split("\n").filter((l) => l.startsWith("| high |")).length, 3);
        assert.ok(text.includes("\n… and 1 more.\n"));
        assert.ok(!text.includes("### Cost"));
    });

    it("says so when there are no findings and no changes", () => {
        const text = renderMarkdown({ plan, score: scorePlan([]), diff: diffPlans(plan, plan) });
        assert.ok(text.includes("### StackScore: A\n"));
        assert.ok(text.includes("No findings."));
        assert.ok(text.includes("### Changes against the base branch: +0 ~0 +-0 -0\n\nNo resource changes."));
        assert.equal(marker("prod"), "<!-- keelson-plan:prod -->");
    });
});

describe("renderScoreText", () => {
    it("prints the grades, the findings with fixes, every policy violation (mandatory first) and the cost", () => {
        assert.equal(
            renderScoreText(score, computeCost([nat]), violations),
            [
                "StackScore: D (availability D, security A, recoverability B, capacity A, operability A)",
                "  [high] availability/single-master on m0: One master. Fix: Use 3.",
                "  [medium] recoverability/s3-versioning on logs|x: Not | versioned. Fix: Version it.",
                "",
                "Policy pack: 1 mandatory, 1 advisory violation(s)",
                "  [mandatory] aws-ec2-imdsv2 on m0: m0 allows IMDSv1.",
                "  [advisory] k8s-replicas on logs|x: Deployment app/x runs 1 replica.",
                "",
                "Cost: $32.85 per month (us-east-1 on-demand prices of 2026-11-22); an EKS control plane would add $73.00",
                "      $32.85  nat-a (NAT gateway 730 h)",
            ].join("\n"),
        );
    });
    it("caps the findings", () => {
        const many: StackScore = { ...score, findings: Array.from({ length: 3 }, () => score.findings[0]) };
        assert.equal(
            renderScoreText(many, computeCost([]), [], 1).split("\n")[2],
            "  … and 2 more (see --json)",
        );
    });
});

describe("plan CLI: --markdown, --diff and the minimum grade", function () {
    this.timeout(120000);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-cli-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("writes plan.json with score and cost, graph.md and summary.md with the diff", async () => {
        const base = path.join(tmp, "base");
        assert.equal(await main(["--stack", "dev", "--json", "--out", base], () => undefined), 0);
        const old = JSON.parse(fs.readFileSync(path.join(base, "plan.json"), "utf8"));
        assert.deepEqual(Object.keys(old.score), ["overall", "metrics", "findings"]);
        assert.deepEqual(Object.keys(old.score.metrics), [
            "availability",
            "security",
            "recoverability",
            "capacity",
            "operability",
        ]);
        assert.equal(old.cost.monthlyUsd, computeCost(old.resources).monthlyUsd);
        assert.deepEqual(old.score.metrics, scorePlan(old.resources).metrics);
        assert.equal(old.policy.mandatory, 0);
        assert.ok(Array.isArray(old.policy.violations));
        old.resources.pop();
        fs.writeFileSync(path.join(tmp, "old.json"), JSON.stringify(old));

        const out = path.join(tmp, "new");
        const printed: string[] = [];
        const code = await main(
            ["--stack", "dev", "--markdown", "--diff", path.join(tmp, "old.json"), "--out", out],
            (s) => printed.push(s),
        );
        assert.equal(code, 0);
        const summary = fs.readFileSync(path.join(out, "summary.md"), "utf8");
        assert.equal(printed.join("\n"), summary);
        assert.ok(summary.startsWith("<!-- keelson-plan:dev -->\n## Keelson plan: `dev`\n"));
        assert.ok(summary.includes("### Changes against the base branch: +1 ~0 +-0 -0\n"));
        assert.ok(
            fs
                .readFileSync(path.join(out, "graph.md"), "utf8")
                .startsWith("# Keelson stage `dev`\n\n```mermaid\nflowchart LR\n"),
        );
    });

    it("fails with the failing findings when the score is below score.minimumGrade", async () => {
        const file = path.join(tmp, "Pulumi.dev.yaml");
        const text = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8");
        fs.writeFileSync(file, `${text.trimEnd()}\n  keelson:score:\n    minimumGrade: A\n`);
        const out = path.join(tmp, "gated");
        const errors: string[] = [];
        const original = console.error;
        console.error = (s: string) => errors.push(s);
        let code: number;
        try {
            code = await main(
                ["--stack", "dev", "--config-file", file, "--json", "--out", out],
                () => undefined,
            );
        } finally {
            console.error = original;
        }
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8"));
        // dev is not highly available by design, so it never reaches A.
        assert.notEqual(plan.score.overall, "A");
        assert.equal(code, 1);
        assert.equal(errors.length, 1);
        assert.ok(
            errors[0].startsWith(
                `score.minimumGrade: StackScore ${plan.score.overall} is below the required A (`,
            ),
        );
    });
});
