// The GitHub workflows, parsed: triggers, permissions, jobs, matrix and the steps that matter.
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";

type Step = {
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
};
type Job = {
    name?: string;
    needs?: string | string[];
    if?: string;
    uses?: string;
    with?: Record<string, unknown>;
    secrets?: string;
    environment?: string;
    permissions?: Record<string, string>;
    strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown> };
    env?: Record<string, string>;
    steps?: Step[];
};
type Workflow = {
    name: string;
    on: Record<string, unknown>;
    permissions: Record<string, string>;
    concurrency?: Record<string, unknown>;
    jobs: Record<string, Job>;
};

const load = (file: string): Workflow =>
    YAML.parse(fs.readFileSync(path.join(__dirname, "..", "..", ".github", "workflows", file), "utf8"), {
        strict: true,
    });
const uses = (job: Job) =>
    (job.steps ?? []).map((s) => s.uses ?? `run: ${(s.run ?? "").trim().split("\n")[0]}`);
const step = (job: Job, pred: (s: Step) => boolean) => {
    const s = (job.steps ?? []).find(pred);
    assert.ok(s, "step not found");
    return s;
};

describe("workflow: preview.yml", () => {
    const wf = load("preview.yml");

    it("runs on pull requests to main with read-only default permissions", () => {
        assert.equal(wf.name, "preview");
        assert.deepEqual(wf.on, { pull_request: { branches: ["main"] } });
        assert.deepEqual(wf.permissions, { contents: "read" });
        assert.deepEqual(wf.concurrency, {
            group: "preview-${{ github.event.pull_request.number }}",
            "cancel-in-progress": true,
        });
        assert.deepEqual(Object.keys(wf.jobs), ["test", "plan", "pulumi-preview"]);
    });

    it("tests with Node 20 through .ci/run", () => {
        const job = wf.jobs.test;
        assert.deepEqual(uses(job), [
            "actions/checkout@v4",
            "actions/setup-node@v4",
            'run: sudo env "PATH=$PATH" CI=true bash .ci/run',
        ]);
        assert.equal(step(job, (s) => s.uses === "actions/setup-node@v4").with?.["node-version"], 20);
    });

    it("plans every stage against the base branch and comments the summary", () => {
        const job = wf.jobs.plan;
        assert.equal(job.needs, "test");
        assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write" });
        assert.deepEqual(job.strategy, { "fail-fast": false, matrix: { stage: ["dev", "staging", "prod"] } });
        assert.deepEqual(job.env, {
            STAGE: "${{ matrix.stage }}",
            BASE_SHA: "${{ github.event.pull_request.base.sha }}",
        });
        assert.deepEqual(uses(job), [
            "actions/checkout@v4",
            "actions/setup-node@v4",
            "run: npm ci --no-audit --no-fund",
            'run: base="$RUNNER_TEMP/base"',
            "run: diff=()",
            "marocchino/sticky-pull-request-comment@v2",
            "actions/upload-artifact@v4",
        ]);
        assert.equal(step(job, (s) => s.uses === "actions/checkout@v4").with?.["fetch-depth"], 0);
        const base = step(job, (s) => s.name === "Plan the base branch").run ?? "";
        assert.ok(base.includes('git worktree add "$base" "$BASE_SHA"'));
        assert.ok(base.includes('if [ -f "$RUNNER_TEMP/base-out/plan.json" ]; then'));
        assert.ok(
            base.includes('npm run --silent plan -- --stack "$STAGE" --json --out "$RUNNER_TEMP/base-out"'),
        );
        const plan = step(job, (s) => s.name === "Plan this branch").run ?? "";
        assert.ok(plan.includes('diff=(--diff "$RUNNER_TEMP/base-plan.json")'));
        assert.ok(plan.includes('npm run --silent plan -- --stack "$STAGE" --json --markdown "${diff[@]}"'));
        const comment = step(job, (s) => s.uses === "marocchino/sticky-pull-request-comment@v2");
        assert.deepEqual(comment.with, {
            header: "keelson-plan-${{ matrix.stage }}",
            path: "out/${{ matrix.stage }}/summary.md",
        });
        assert.equal(
            comment.if,
            "${{ !cancelled() && hashFiles(format('out/{0}/summary.md', matrix.stage)) != '' }}",
        );
    });

    it("runs pulumi preview with the policy pack only when AWS credentials are configured", () => {
        const job = wf.jobs["pulumi-preview"];
        assert.equal(job.if, "${{ vars.AWS_ROLE_ARN != '' }}");
        assert.equal(job.needs, "test");
        assert.deepEqual(job.permissions, {
            contents: "read",
            "pull-requests": "write",
            "id-token": "write",
        });
        assert.deepEqual(job.strategy?.matrix, { stage: ["dev", "staging", "prod"] });
        assert.deepEqual(job.env, {
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        });
        assert.deepEqual(uses(job), [
            "actions/checkout@v4",
            "actions/setup-node@v4",
            "run: npm ci --no-audit --no-fund",
            "aws-actions/configure-aws-credentials@v4",
            "pulumi/actions@v6",
        ]);
        assert.deepEqual(step(job, (s) => s.uses === "pulumi/actions@v6").with, {
            command: "preview",
            "stack-name": "${{ matrix.stage }}",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
            policyPacks: "policy",
            "comment-on-pr": true,
            diff: true,
        });
    });
});

describe("workflow: deploy.yml and pulumi-up.yml", () => {
    const wf = load("deploy.yml");
    const up = load("pulumi-up.yml");

    it("deploys on pushes to main, one run at a time, never cancelled midway", () => {
        assert.deepEqual(wf.on, { push: { branches: ["main"] } });
        assert.deepEqual(wf.permissions, { contents: "read" });
        assert.deepEqual(wf.concurrency, { group: "deploy", "cancel-in-progress": false });
        assert.deepEqual(Object.keys(wf.jobs), ["test", "dev", "staging", "prod"]);
        assert.deepEqual(uses(wf.jobs.test), [
            "actions/checkout@v4",
            "actions/setup-node@v4",
            'run: sudo env "PATH=$PATH" CI=true bash .ci/run',
        ]);
    });

    it("chains dev → staging → prod through the reusable workflow, gated on credentials", () => {
        const chain = ["dev", "staging", "prod"].map((s) => [
            s,
            wf.jobs[s].needs,
            wf.jobs[s].uses,
            wf.jobs[s].with,
            wf.jobs[s].secrets,
        ]);
        assert.deepEqual(chain, [
            ["dev", "test", "./.github/workflows/pulumi-up.yml", { stage: "dev" }, "inherit"],
            ["staging", "dev", "./.github/workflows/pulumi-up.yml", { stage: "staging" }, "inherit"],
            ["prod", "staging", "./.github/workflows/pulumi-up.yml", { stage: "prod" }, "inherit"],
        ]);
        assert.equal(wf.jobs.dev.if, "${{ vars.AWS_ROLE_ARN != '' }}");
        for (const s of ["dev", "staging", "prod"])
            assert.deepEqual(wf.jobs[s].permissions, { contents: "read", "id-token": "write" });
    });

    it("runs the offline plan gate, then pulumi up with the policy pack, in the stage's environment", () => {
        assert.deepEqual(up.on, {
            workflow_call: {
                inputs: { stage: { description: "Stack (stage) to deploy", required: true, type: "string" } },
            },
        });
        const job = up.jobs.up;
        assert.equal(job.environment, "${{ inputs.stage }}");
        assert.equal(job.env?.STAGE, "${{ inputs.stage }}");
        assert.deepEqual(uses(job), [
            "actions/checkout@v4",
            "actions/setup-node@v4",
            "run: npm ci --no-audit --no-fund",
            'run: npm run --silent plan -- --stack "$STAGE" --json > "$RUNNER_TEMP/plan.json"',
            "aws-actions/configure-aws-credentials@v4",
            "pulumi/actions@v6",
        ]);
        assert.deepEqual(step(job, (s) => s.uses === "pulumi/actions@v6").with, {
            command: "up",
            "stack-name": "${{ inputs.stage }}",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
            policyPacks: "policy",
        });
    });
});
