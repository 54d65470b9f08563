// Bad input everywhere: random and mutated stage configs (from the shipped Pulumi.<stage>.yaml
// files) either validate and plan cleanly, or fail with one named problem per mistake (every
// message starts with the config key path) before any resource is registered; never a crash.
import { strict as assert } from "node:assert";
import * as path from "path";
import fc from "fast-check";
import { ConfigError, parseConfigValue, validateStageConfig } from "../../components/config";
import { PROJECT_ROOT, projectProgram } from "../../tools/plan/plan";
import { runUnderMocks } from "../../tools/plan/runtime";
import { loadStackConfig, LoadedStackConfig } from "../../tools/plan/stack-config";

const STAGES = ["dev", "staging", "prod"] as const;
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const shipped: Record<string, LoadedStackConfig> = Object.fromEntries(
    STAGES.map((s) => [s, loadStackConfig(path.join(PROJECT_ROOT, `Pulumi.${s}.yaml`))]),
);

type Segment = string | number;
type Op = { kind: "set" | "delete" | "add"; pick: number; key: string; value: unknown };

/** Every path into the config values (top-level keys, nested keys, array items). */
function paths(v: unknown, prefix: Segment[] = []): Segment[][] {
    const out: Segment[][] = prefix.length > 0 ? [prefix] : [];
    if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
    else if (v !== null && typeof v === "object")
        for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
    return out;
}

function containerAt(
    root: Record<string, unknown>,
    p: Segment[],
): Record<string | number, unknown> | undefined {
    let cur: unknown = root;
    for (const s of p) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string | number, unknown>)[s];
    }
    return cur !== null && typeof cur === "object" ? (cur as Record<string | number, unknown>) : undefined;
}

/** Applies the mutations to a copy of a shipped config. */
function mutate(base: LoadedStackConfig, ops: readonly Op[]): LoadedStackConfig {
    const values = structuredClone(base.values) as Record<string, unknown>;
    for (const op of ops) {
        const all = paths(values);
        if (op.kind === "add") {
            const objects = [[], ...all].filter((p) => {
                const c = containerAt(values, p);
                return c !== undefined && !Array.isArray(c);
            });
            const target = containerAt(values, objects[op.pick % objects.length]);
            if (target) target[op.key] = op.value;
            continue;
        }
        if (all.length === 0) continue;
        const p = all[op.pick % all.length];
        const parent = containerAt(values, p.slice(0, -1));
        if (!parent) continue;
        const last = p[p.length - 1];
        if (op.kind === "set") parent[last] = op.value;
        else if (Array.isArray(parent) && typeof last === "number") parent.splice(last, 1);
        else delete parent[last];
    }
    return { values, secretKeys: base.secretKeys };
}

const value: fc.Arbitrary<unknown> = fc.oneof(
    fc.integer({ min: -3, max: 200 }),
    fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 1.5, -0, 1e9),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
        "",
        "perAz",
        "single",
        "nlb",
        "haproxy",
        "nginx",
        "t3.medium",
        "m7i.large",
        "10.0.0.0/16",
        "10.0.0.0/33",
        "192.168.0.0/16",
        "us-east-1a",
        "eu-west-1",
        "A",
        "F",
        "acme",
        "provided",
        "self-signed",
        "calico",
        "cilium",
        "1.33.4",
        "1.33.99",
        "[secret]",
        "kube-system",
        "logging",
        "monitoring",
        "shop.example.com",
        "us-east-1z",
        "0.0.0.0/0",
        "-----BEGIN PRIVATE KEY-----",
    ),
    fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e309),
    fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -1, max: 9 })), { maxLength: 3 }),
    fc.dictionary(
        fc.string({ maxLength: 6 }),
        fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean()),
        {
            maxKeys: 3,
        },
    ),
);

const key = fc.oneof(
    fc.constantFrom(
        "keelson:clustr",
        "keelson:tls-extra-cert",
        "keelson:production",
        "keelson:kubeconfig",
        "masters",
        "count",
        "name",
        "instanceType",
        "minimumGrade",
        "natGateways",
        "extra",
        "namespace",
        "hostname",
        "workerPools",
        "apiAllowedCidrs",
        "aws:regoin",
        "aws:secretKey",
    ),
    fc.string({ minLength: 1, maxLength: 8 }),
);

const op: fc.Arbitrary<Op> = fc.record({
    kind: fc.constantFrom("set" as const, "delete" as const, "add" as const),
    pick: fc.nat(),
    key,
    value,
});

/**
 * What the program sees: Pulumi hands config to the program as text (structured values as JSON)
 * and readStageConfig parses it back, so a string "0" arrives as the number 0.
 */
function asRuntimeSees(raw: LoadedStackConfig): LoadedStackConfig {
    const values: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw.values))
        values[k] = parseConfigValue(typeof v === "string" ? v : JSON.stringify(v));
    return { values, secretKeys: raw.secretKeys };
}

const input = fc.record({
    stage: fc.constantFrom(...STAGES),
    ops: fc.array(op, { minLength: 1, maxLength: 4 }),
});

/**
 * A key path: `keelson:<key>`, `aws:region`, or a section (`cluster`) followed by `.<key>` and
 * `[<i>]` steps; the keys after the section are whatever the user typed, so they are not checked.
 */
const KEY_PATH = /^(stage|aws:.*|keelson:.*|(network|cluster|edge|app|addons|score)([.[].*)?)$/s;

function checkProblems(problems: ReadonlyArray<{ key: string; message: string }>): void {
    for (const p of problems) {
        assert.match(p.key, KEY_PATH, `problem key ${JSON.stringify(p.key)} is not a config key path`);
        assert.ok(p.message.startsWith(`${p.key}: `), `message does not start with its key: ${p.message}`);
        assert.ok(!/\n\s+at /.test(p.message), `message carries a stack trace: ${p.message}`);
        assert.ok(!p.message.includes("BEGIN PRIVATE KEY"), `message echoes a secret: ${p.message}`);
        assert.ok(p.message.length < 700, `message is not capped: ${p.message.slice(0, 80)}...`);
    }
}

/** A copy of a shipped config with one section merged with `patch`. */
function with_(base: LoadedStackConfig, key: string, patch: Record<string, unknown>): LoadedStackConfig {
    const values = structuredClone(base.values) as Record<string, unknown>;
    values[key] = { ...((values[key] as Record<string, unknown>) ?? {}), ...patch };
    return { values, secretKeys: base.secretKeys };
}

/** Runs index.ts under the mock engine with `raw`, catching the program's error. */
async function runProgram(stage: string, raw: LoadedStackConfig) {
    let caught: unknown = undefined;
    const program = projectProgram();
    const run = await runUnderMocks(
        { stack: stage, project: "keelson", config: raw.values, secretKeys: raw.secretKeys },
        async () => {
            try {
                return (await program()) as Record<string, unknown>;
            } catch (err) {
                caught = err;
                return {};
            }
        },
    );
    return { caught, run };
}

describe("config fuzzing", function () {
    this.timeout(600000);

    it("the shipped stage configs are valid", () => {
        for (const s of STAGES) assert.deepEqual(validateStageConfig(s, shipped[s]).problems, [], s);
    });

    it("validation: 200 mutated configs give a config or named problems, never a crash", () => {
        fc.assert(
            fc.property(input, ({ stage, ops }) => {
                const raw = mutate(shipped[stage], ops);
                const result = validateStageConfig(stage, raw);
                assert.equal(
                    result.config === undefined,
                    result.problems.length > 0,
                    "config iff no problems",
                );
                checkProblems(result.problems);
            }),
            { numRuns: 200, seed: SEED },
        );
    });

    it("plan: configs only the components refused before register nothing (the real program, under mocks)", async () => {
        const prod = shipped.prod;
        const broken: [string, string, LoadedStackConfig, string][] = [
            [
                "a route host without a certificate",
                "prod",
                with_(prod, "keelson:app", { hostname: "shop.example.com" }),
                "app.hostname",
            ],
            [
                "the app in kube-system",
                "dev",
                with_(shipped.dev, "keelson:app", { namespace: "kube-system" }),
                "app.namespace",
            ],
            [
                "the app in an add-on namespace",
                "staging",
                with_(shipped.staging, "keelson:app", { namespace: "logging" }),
                "app.namespace",
            ],
            [
                "no workers behind the edge",
                "dev",
                with_(shipped.dev, "keelson:cluster", { workerPools: [] }),
                "cluster.workerPools",
            ],
            ["a stage name with an underscore", "feature_x", shipped.dev, "stage"],
            ["a capitalised stage name", "Prod", shipped.dev, "stage"],
            [
                "NaN masters",
                "dev",
                with_(shipped.dev, "keelson:cluster", { masters: Number.NaN }),
                "cluster.masters",
            ],
            [
                "10,000 pools",
                "dev",
                with_(shipped.dev, "keelson:cluster", {
                    workerPools: Array.from({ length: 10000 }, (_, i) => ({ name: `p${i}` })),
                }),
                "cluster.workerPools",
            ],
        ];
        for (const [title, stage, raw, key] of broken) {
            const { caught, run } = await runProgram(stage, raw);
            assert.ok(
                caught instanceof ConfigError,
                `${title}: did not fail with ConfigError: ${String(caught)}`,
            );
            assert.ok(
                caught.problems.some((p) => p.key === key),
                `${title}: no problem at ${key}: ${caught.message}`,
            );
            checkProblems(caught.problems);
            assert.deepEqual(
                run.resources.map((r) => r.urn),
                [],
                `${title}: resources were registered`,
            );
        }
    });

    it("plan: 20 mutated configs plan cleanly, or fail with the same problems and register nothing", async () => {
        await fc.assert(
            fc.asyncProperty(input, async ({ stage, ops }) => {
                const raw = mutate(shipped[stage], ops);
                const expected = validateStageConfig(stage, asRuntimeSees(raw));
                const { caught, run } = await runProgram(stage, raw);
                if (expected.config) {
                    assert.equal(caught, undefined, `valid config crashed the plan: ${String(caught)}`);
                    assert.ok(run.resources.length > 0, "a valid config registered nothing");
                } else {
                    assert.ok(
                        caught instanceof ConfigError,
                        `invalid config did not fail with ConfigError: ${String(caught)}`,
                    );
                    assert.deepEqual(
                        caught.problems.map((p) => p.message),
                        expected.problems.map((p) => p.message),
                    );
                    assert.deepEqual(
                        run.resources.map((r) => r.urn),
                        [],
                        "resources were registered for an invalid config",
                    );
                }
            }),
            { numRuns: 20, seed: SEED },
        );
    });
});
