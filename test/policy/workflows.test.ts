// The GitHub workflows, parsed: triggers, permissions, jobs, matrix and the steps that matter, plus the rules
// that keep production credentials out of pull requests and environment variables where GitHub shows them.
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

const DIR = path.join(__dirname, "..", "..", ".github", "workflows");
const load = (file: string): Workflow =>
    YAML.parse(fs.readFileSync(path.join(DIR, file), "utf8"), { strict: true });
const uses = (job: Job) =>
    (job.steps ?? []).map((s) => s.uses ?? `run: ${(s.run ?? "").trim().split("\n")[0]}`);
const step = (job: Job, pred: (s: Step) => boolean) => {
    const s = (job.steps ?? []).find(pred);
    assert.ok(s, "step not found");
    return s;
};

/**
 * The current major of every action the workflows use, checked against each action's tags on
 * 2026-12-01 (all run on node24): checkout v7.0.1, setup-node v7.0.0, upload-artifact v7.0.0,
 * configure-aws-credentials v6.2.3, pulumi/actions v7.0.0, sticky-pull-request-comment v3.0.5.
 */
const CURRENT = {
    checkout: "actions/checkout@v7",
    node: "actions/setup-node@v7",
    upload: "actions/upload-artifact@v7",
    aws: "aws-actions/configure-aws-credentials@v6",
    pulumi: "pulumi/actions@v7",
    comment: "marocchino/sticky-pull-request-comment@v3",
} as const;
const SAME_REPO = "github.event.pull_request.head.repo.full_name == github.repository";
const CI_RUN = 'run: sudo env "PATH=$PATH" CI=true bash .ci/run';

describe("workflows: rules that hold for every file", () => {
    const files = fs
        .readdirSync(DIR)
        .filter((f) => f.endsWith(".yml"))
        .sort();
    const all = files.map((f) => [f, load(f)] as const);

    it("covers the three workflows", () => {
        assert.deepEqual(files, ["deploy.yml", "preview.yml", "pulumi-up.yml"]);
    });

    it("uses only the current major of each action", () => {
        const used = new Set(
            all.flatMap(([, wf]) =>
                Object.values(wf.jobs)
                    .flatMap((j) => j.steps ?? [])
                    .flatMap((s) => (s.uses ? [s.uses] : [])),
            ),
        );
        assert.deepEqual([...used].sort(), Object.values(CURRENT).sort());
    });

    it("runs Node 22 (Node 20 is end-of-life) and never persists the checkout token", () => {
        for (const [file, wf] of all)
            for (const [id, job] of Object.entries(wf.jobs))
                for (const s of job.steps ?? []) {
                    if (s.uses === CURRENT.node) assert.equal(s.with?.["node-version"], 22, `${file} ${id}`);
                    if (s.uses === CURRENT.checkout)
                        assert.equal(s.with?.["persist-credentials"], false, `${file} ${id}`);
                }
    });

    it("reads vars.AWS_ROLE_ARN and the Pulumi secrets only in jobs that run in an environment", () => {
        for (const [file, wf] of all)
            for (const [id, job] of Object.entries(wf.jobs)) {
                const text = YAML.stringify(job);
                const sensitive = /vars\.AWS_ROLE_ARN|secrets\.PULUMI_|id-token/.test(text);
                if (sensitive && job.uses === undefined)
                    assert.ok(job.environment, `${file} ${id} has no environment`);
                // A job-level `if` is evaluated before the environment applies: it never sees its variables.
                assert.ok(!/vars\.AWS_ROLE_ARN/.test(job.if ?? ""), `${file} ${id}: if reads AWS_ROLE_ARN`);
            }
    });

    it("gives pull-request jobs no credentials outside a preview-* environment, and none to forks", () => {
        const wf = load("preview.yml");
        for (const [id, job] of Object.entries(wf.jobs)) {
            const text = YAML.stringify(job);
            const credentials = /secrets\.|id-token|configure-aws-credentials|pulumi\/actions/.test(text);
            if (!credentials) continue;
            assert.equal(id, "pulumi-preview");
            assert.equal(job.environment, "preview-${{ matrix.stage }}");
            assert.ok(job.if?.includes(SAME_REPO), "fork PRs must not reach the credentials");
        }
    });
});

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

    it("tests through .ci/run without credentials", () => {
        const job = wf.jobs.test;
        assert.deepEqual(uses(job), [CURRENT.checkout, CURRENT.node, CI_RUN]);
        assert.equal(job.permissions, undefined);
        assert.equal(job.env, undefined);
    });

    it("plans every stage offline against the base branch: comment for same-repo PRs, job summary and artifact for all", () => {
        const job = wf.jobs.plan;
        assert.equal(job.needs, "test");
        assert.equal(job.environment, undefined);
        assert.deepEqual(job.permissions, { contents: "read", "pull-requests": "write" });
        assert.deepEqual(job.strategy, { "fail-fast": false, matrix: { stage: ["dev", "staging", "prod"] } });
        assert.deepEqual(job.env, {
            STAGE: "${{ matrix.stage }}",
            BASE_SHA: "${{ github.event.pull_request.base.sha }}",
        });
        assert.deepEqual(uses(job), [
            CURRENT.checkout,
            CURRENT.node,
            "run: npm ci --no-audit --no-fund",
            'run: base="$RUNNER_TEMP/base"',
            "run: diff=()",
            'run: cat "out/$STAGE/summary.md" >> "$GITHUB_STEP_SUMMARY"',
            CURRENT.comment,
            CURRENT.upload,
        ]);
        assert.equal(step(job, (s) => s.uses === CURRENT.checkout).with?.["fetch-depth"], 0);
        const base = step(job, (s) => s.name === "Plan the base branch").run ?? "";
        assert.ok(base.includes('git worktree add "$base" "$BASE_SHA"'));
        assert.ok(base.includes('if [ -f "$RUNNER_TEMP/base-out/plan.json" ]; then'));
        assert.ok(
            base.includes('npm run --silent plan -- --stack "$STAGE" --json --out "$RUNNER_TEMP/base-out"'),
        );
        const plan = step(job, (s) => s.name === "Plan this branch").run ?? "";
        assert.ok(plan.includes('diff=(--diff "$RUNNER_TEMP/base-plan.json")'));
        assert.ok(plan.includes('npm run --silent plan -- --stack "$STAGE" --json --markdown "${diff[@]}"'));
        const hasSummary = "hashFiles(format('out/{0}/summary.md', matrix.stage)) != ''";
        assert.equal(step(job, (s) => s.name === "Job summary").if, `\${{ !cancelled() && ${hasSummary} }}`);
        const comment = step(job, (s) => s.uses === CURRENT.comment);
        assert.deepEqual(comment.with, {
            header: "keelson-plan-${{ matrix.stage }}",
            path: "out/${{ matrix.stage }}/summary.md",
        });
        assert.equal(comment.if, `\${{ !cancelled() && ${hasSummary} && ${SAME_REPO} }}`);
        assert.deepEqual(
            step(job, (s) => s.uses === CURRENT.upload),
            {
                name: "Keep the rendered artifacts",
                if: "${{ !cancelled() }}",
                uses: CURRENT.upload,
                with: {
                    name: "plan-${{ matrix.stage }}",
                    path: "out/${{ matrix.stage }}/",
                    "if-no-files-found": "ignore",
                },
            },
        );
    });

    it("runs pulumi preview only for same-repo PRs, in preview-<stage> environments (prod's with reviewers)", () => {
        const job = wf.jobs["pulumi-preview"];
        assert.equal(job.if, `\${{ vars.KEELSON_PREVIEW == 'true' && ${SAME_REPO} }}`);
        assert.equal(job.needs, "plan");
        assert.equal(job.environment, "preview-${{ matrix.stage }}");
        assert.deepEqual(job.permissions, {
            contents: "read",
            "pull-requests": "write",
            "id-token": "write",
        });
        assert.deepEqual(job.strategy?.matrix, { stage: ["dev", "staging", "prod"] });
        assert.deepEqual(job.env, {
            STAGE: "${{ matrix.stage }}",
            AWS_ROLE_ARN: "${{ vars.AWS_ROLE_ARN }}",
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        });
        assert.deepEqual(uses(job), [
            'run: if [ -z "$AWS_ROLE_ARN" ]; then',
            CURRENT.checkout,
            CURRENT.node,
            "run: npm ci --no-audit --no-fund",
            CURRENT.aws,
            CURRENT.pulumi,
        ]);
        const check = step(job, (s) => s.name === "Check the environment").run ?? "";
        assert.ok(check.includes("::error::variable AWS_ROLE_ARN is not set in environment preview-$STAGE"));
        assert.ok(check.includes("exit 1"));
        assert.deepEqual(step(job, (s) => s.uses === CURRENT.aws).with, {
            "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
            "aws-region": "${{ vars.AWS_REGION || 'us-east-1' }}",
        });
        assert.deepEqual(step(job, (s) => s.uses === CURRENT.pulumi).with, {
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
        assert.deepEqual(uses(wf.jobs.test), [CURRENT.checkout, CURRENT.node, CI_RUN]);
    });

    it("chains dev → staging → prod through the reusable workflow, switched on by a repository variable", () => {
        const chain = ["dev", "staging", "prod"].map((s) => [
            s,
            wf.jobs[s].needs,
            wf.jobs[s].uses,
            wf.jobs[s].with,
            wf.jobs[s].secrets,
            wf.jobs[s].if,
        ]);
        assert.deepEqual(chain, [
            [
                "dev",
                "test",
                "./.github/workflows/pulumi-up.yml",
                { stage: "dev" },
                "inherit",
                "${{ vars.KEELSON_DEPLOY == 'true' }}",
            ],
            [
                "staging",
                "dev",
                "./.github/workflows/pulumi-up.yml",
                { stage: "staging" },
                "inherit",
                undefined,
            ],
            ["prod", "staging", "./.github/workflows/pulumi-up.yml", { stage: "prod" }, "inherit", undefined],
        ]);
        for (const s of ["dev", "staging", "prod"])
            assert.deepEqual(wf.jobs[s].permissions, { contents: "read", "id-token": "write" });
    });

    it("reads AWS_ROLE_ARN inside the stage's environment, fails clearly without it, plans, then pulumi up", () => {
        assert.deepEqual(up.on, {
            workflow_call: {
                inputs: { stage: { description: "Stack (stage) to deploy", required: true, type: "string" } },
            },
        });
        const job = up.jobs.up;
        assert.equal(job.environment, "${{ inputs.stage }}");
        assert.deepEqual(job.env, {
            STAGE: "${{ inputs.stage }}",
            AWS_ROLE_ARN: "${{ vars.AWS_ROLE_ARN }}",
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        });
        assert.deepEqual(uses(job), [
            'run: if [ -z "$AWS_ROLE_ARN" ]; then',
            CURRENT.checkout,
            CURRENT.node,
            "run: npm ci --no-audit --no-fund",
            'run: npm run --silent plan -- --stack "$STAGE" --json > "$RUNNER_TEMP/plan.json"',
            CURRENT.aws,
            CURRENT.pulumi,
        ]);
        const check = step(job, (s) => s.name === "Check the environment").run ?? "";
        assert.ok(check.includes("::error::variable AWS_ROLE_ARN is not set for environment $STAGE"));
        assert.deepEqual(step(job, (s) => s.uses === CURRENT.pulumi).with, {
            command: "up",
            "stack-name": "${{ inputs.stage }}",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
            policyPacks: "policy",
        });
    });
});
