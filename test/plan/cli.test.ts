// The plan CLI as a script sees it: exit codes, stderr lines, the --out marker, --diff before writing,
// determinism, and a real pipe through the command a user runs (`npm run plan` = tools/plan/launch.js).
import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main } from "../../tools/plan/cli";
import { MARKER } from "../../tools/plan/out-dir";
import { PROJECT_ROOT } from "../../tools/plan/plan";
import { UpgradePlan } from "../../tools/plan/upgrade-steps";
import { upgradeProblem } from "../../components/cluster/render/upgrade";

/** Runs the CLI in-process; returns the exit code, stdout and stderr lines. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(
        argv,
        (s) => out.push(s),
        (s) => err.push(s),
    );
    return { code, out: out.join("\n"), err };
}

/** Every file under `dir` with its bytes, by relative path. */
function snapshot(dir: string): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
        }
    };
    walk(dir);
    return out;
}

describe("plan CLI: scripting contract", function () {
    this.timeout(900000); // whole-stage plans and a child process on a shared 2-core machine
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-plan-cli-"));
    const devYaml = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8");
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("exits 2 with the usage on stderr for bad arguments", async () => {
        for (const [argv, first] of [
            [["--bogus"], "unknown argument --bogus"],
            [[], "--stack is required"],
            [["--stack"], "--stack needs a value"],
        ] as const) {
            const r = await cli([...argv]);
            assert.equal(r.code, 2);
            assert.equal(r.out, "");
            assert.equal(r.err.length, 1);
            assert.ok(r.err[0].startsWith(`${first}\nusage: npm run plan -- --stack <stage>`), r.err[0]);
        }
    });

    it("refuses a non-empty --out without the marker and leaves it untouched", async () => {
        const dir = path.join(tmp, "mine");
        fs.mkdirSync(dir);
        fs.writeFileSync(path.join(dir, "precious.txt"), "keep me");
        const r = await cli(["--stack", "dev", "--out", dir]);
        assert.equal(r.code, 2);
        assert.deepEqual(r.err, [
            `--out ${dir}: the directory is not empty and holds no .keelson-plan marker, so it was not written by a plan; the plan refuses to write into it (give an empty or new directory)`,
        ]);
        assert.deepEqual(snapshot(dir), { "precious.txt": "keep me" });
    });

    for (const [name, text, line] of [
        [
            "duplicate key",
            `${devYaml}  aws:region: us-west-2\n`,
            `Pulumi.dup.yaml:${devYaml.split("\n").length}: not valid YAML: Map keys must be unique`,
        ],
        [
            "YAML syntax",
            "config:\n  keelson:network: [1\n",
            "Pulumi.dup.yaml:3: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
        ],
        [
            "non-mapping config",
            "# a comment\nconfig: [a, b]\n",
            'Pulumi.dup.yaml:2: "config" is not a mapping of keys to values',
        ],
    ] as const) {
        it(`a ${name} in the stack config is one line with file and line, exit 1, nothing written`, async () => {
            const file = path.join(tmp, "Pulumi.dup.yaml");
            fs.writeFileSync(file, text);
            const out = path.join(tmp, `never-${name.replace(/ /g, "-")}`);
            const r = await cli(["--stack", "dev", "--config-file", file, "--out", out]);
            assert.deepEqual([r.code, r.out, r.err], [1, "", [`${path.join(tmp, line)}`]]);
            assert.equal(fs.existsSync(out), false);
        });
    }

    it("a missing config file or an unreadable --diff plan is one line, exit 1, before anything is written", async () => {
        const out = path.join(tmp, "never");
        let r = await cli(["--stack", "nosuch", "--out", out]);
        assert.deepEqual(r.err, [
            `${path.join(PROJECT_ROOT, "Pulumi.nosuch.yaml")}: no such stack config file`,
        ]);
        assert.equal(r.code, 1);
        r = await cli(["--stack", "dev", "--diff", path.join(tmp, "none.json"), "--out", out]);
        assert.deepEqual(
            [r.code, r.err],
            [1, [`${path.join(tmp, "none.json")}: cannot read the --diff plan (no such file)`]],
        );
        fs.writeFileSync(path.join(tmp, "bad.json"), '{\n  "stack": "dev",\n  "resources": [,]\n}\n');
        r = await cli(["--stack", "dev", "--diff", path.join(tmp, "bad.json"), "--out", out]);
        assert.equal(r.code, 1);
        assert.equal(r.err.length, 1);
        assert.match(
            r.err[0],
            new RegExp(`^${path.join(tmp, "bad.json")}:3: the --diff plan is not valid JSON \\(`),
        );
        fs.writeFileSync(path.join(tmp, "notplan.json"), "[1, 2]\n");
        r = await cli(["--stack", "dev", "--diff", path.join(tmp, "notplan.json"), "--out", out]);
        assert.deepEqual(r.err, [
            `${path.join(tmp, "notplan.json")}:1: not a plan.json: it needs a "resources" list of objects with a "urn"`,
        ]);
        assert.equal(fs.existsSync(out), false);
    });

    it("pipes --json whole through the user's command, with byte-identical files to an in-process plan", async () => {
        const viaPipe = path.join(tmp, "piped");
        // A real pipe (not a file): the consumer parses what arrives and reports its size.
        const child = spawnSync(
            "bash",
            [
                "-c",
                `set -o pipefail; node tools/plan/launch.js --stack dev --json --out '${viaPipe}' | ` +
                    `node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(s.length, j.resources.length)})'`,
            ],
            { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 800000 },
        );
        assert.equal(child.status, 0, child.stderr);
        const [bytes, resources] = child.stdout.trim().split("\n").pop()!.split(" ").map(Number);
        assert.ok(bytes > 128 * 1024, `only ${bytes} bytes arrived`);
        const inProcess = path.join(tmp, "in-process");
        const r = await cli(["--stack", "dev", "--json", "--out", inProcess]);
        assert.equal(r.code, 0);
        assert.equal(JSON.parse(r.out).resources.length, resources);
        // Planning twice, in two processes, gives the same bytes: keys, ids, names and IPs are not random.
        const [a, b] = [snapshot(inProcess), snapshot(viaPipe)];
        assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
        const differing = Object.keys(a).filter((k) => a[k] !== b[k]);
        const first = differing[0]
            ? a[differing[0]].split("\n").find((l, i) => l !== b[differing[0]].split("\n")[i])
            : undefined;
        assert.deepEqual(differing, [], `first differing line: ${first}`);
    });

    it("a file problem through the user's command: one stderr line, exit 1, no stack trace", () => {
        const file = path.join(tmp, "Pulumi.tab.yaml");
        fs.writeFileSync(file, "config:\n\tkeelson:network: {}\n");
        // Its own --out: the check of the repository's out/dev (a directory an older plan wrote) must not decide.
        const out = path.join(tmp, "tab-out");
        const child = spawnSync(
            "node",
            ["tools/plan/launch.js", "--stack", "dev", "--config-file", file, "--out", out],
            {
                cwd: PROJECT_ROOT,
                encoding: "utf8",
                timeout: 800000,
            },
        );
        assert.equal(child.status, 1);
        assert.equal(child.stdout, "");
        assert.equal(child.stderr, `${file}:2: not valid YAML: Tabs are not allowed as indentation\n`);
    });

    it("rewrites its own --out, deleting only the files it listed, and --diff reads the old plan first", async () => {
        const dir = path.join(tmp, "own");
        assert.equal((await cli(["--stack", "dev", "--out", dir])).code, 0);
        const first = snapshot(dir);
        assert.ok(first[MARKER].split("\n").includes("plan.json"));
        fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
        fs.writeFileSync(path.join(dir, "user-data", "stale.yaml"), "from before");
        // The natural call: diff against the plan.json in the very directory being rewritten.
        const r = await cli(["--stack", "dev", "--diff", path.join(dir, "plan.json"), "--out", dir]);
        assert.equal(r.code, 0);
        assert.ok(
            r.out.endsWith(
                `Changes against ${path.join(dir, "plan.json")}: 0 to create, 0 to update, 0 to replace, 0 to delete\n  no changes`,
            ),
        );
        const second = snapshot(dir);
        assert.equal(second["notes.txt"], "mine");
        assert.equal(second["user-data/stale.yaml"], "from before");
        delete second["notes.txt"];
        delete second["user-data/stale.yaml"];
        assert.deepEqual(second, first);
    });

    it("a one-line config change diffs to exactly the resources it touches, in text, markdown and JSON", async () => {
        const base = path.join(tmp, "base");
        assert.equal((await cli(["--stack", "dev", "--out", base])).code, 0);
        const file = path.join(tmp, "Pulumi.dev.yaml");
        // The edge host's instance type: updated in place (the provider stops and starts it).
        fs.writeFileSync(
            file,
            devYaml.replace("    instanceType: t3.small\n", "    instanceType: t3.large\n"),
        );
        const old = path.join(base, "plan.json");
        const common = ["--stack", "dev", "--config-file", file, "--diff", old];
        const json = await cli([...common, "--json", "--out", path.join(tmp, "j")]);
        const edge =
            "urn:pulumi:dev::keelson::keelson:edge:Edge$aws:ec2/instance:Instance::keelson-dev-edge-0";
        assert.deepEqual(JSON.parse(json.out).diff, {
            added: [],
            updated: [{ urn: edge, fields: ["instanceType"] }],
            replaced: [],
            removed: [],
            ignored: [],
            upgrades: [],
        });
        const text = await cli([...common, "--out", path.join(tmp, "t")]);
        assert.ok(
            text.out.endsWith(
                `Changes against ${old}: 0 to create, 1 to update, 0 to replace, 0 to delete\n` +
                    "  ~  aws:ec2/instance:Instance keelson-dev-edge-0: instanceType",
            ),
        );
        const md = await cli([...common, "--markdown", "--out", path.join(tmp, "m")]);
        assert.ok(
            md.out.includes(
                "### Changes against the base branch: +0 ~1 +-0 -0\n\n| | Resource | Type | Changed fields |\n|---|---|---|---|\n" +
                    "| ~ update | keelson-dev-edge-0 | `aws:ec2/instance:Instance` | `instanceType` |\n",
            ),
        );
    });

    it("a version bump diffs to its upgrade steps in kubeadm's order; a skipped minor or a downgrade fails the plan", async () => {
        const prodYaml = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.prod.yaml"), "utf8");
        const at = (version: string) => {
            const file = path.join(tmp, `Pulumi.prod-${version}.yaml`);
            fs.writeFileSync(
                file,
                prodYaml.replace("    masters: 3\n", `    masters: 3\n    kubernetesVersion: ${version}\n`),
            );
            return file;
        };
        const base = path.join(tmp, "v133");
        assert.equal((await cli(["--stack", "prod", "--config-file", at("1.33.4"), "--out", base])).code, 0);
        const old = path.join(base, "plan.json");
        const bump = ["--stack", "prod", "--config-file", at("1.34.3"), "--diff", old];
        const json = await cli([...bump, "--json", "--out", path.join(tmp, "v134j")]);
        assert.equal(json.code, 0, json.err.join("\n"));
        const [upgrade] = JSON.parse(json.out).diff.upgrades as UpgradePlan[];
        const cluster = "urn:pulumi:prod::keelson::keelson:cluster:Cluster$";
        assert.deepEqual(
            upgrade.steps.map((s) => [s.order, s.urn]),
            [
                [1, `${cluster}aws:ssm/association:Association::keelson-prod-upgrade-master-0`],
                [2, `${cluster}aws:ssm/association:Association::keelson-prod-upgrade-master-1`],
                [3, `${cluster}aws:ssm/association:Association::keelson-prod-upgrade-master-2`],
                [4, `${cluster}aws:ssm/association:Association::keelson-prod-upgrade-kubelet-master-0`],
                [5, `${cluster}aws:ssm/association:Association::keelson-prod-upgrade-kubelet-master-1`],
                [6, `${cluster}aws:ssm/association:Association::keelson-prod-upgrade-kubelet-master-2`],
                [
                    7,
                    "urn:pulumi:prod::keelson::keelson:cluster:CloudController$kubernetes:helm.sh/v4:Chart::keelson-prod-cloud-controller",
                ],
                [
                    7,
                    "urn:pulumi:prod::keelson::keelson:cluster:WorkerPool$aws:ec2/launchTemplate:LaunchTemplate::keelson-prod-data",
                ],
                [
                    7,
                    "urn:pulumi:prod::keelson::keelson:cluster:WorkerPool$aws:ec2/launchTemplate:LaunchTemplate::keelson-prod-general",
                ],
            ],
        );
        assert.deepEqual(
            [upgrade.cluster, upgrade.from, upgrade.to, upgrade.problem],
            ["keelson-prod", "1.33.4", "1.34.3", undefined],
        );
        const text = await cli([...bump, "--out", path.join(tmp, "v134t")]);
        const lines = text.out.split("\n");
        const from = lines.indexOf("Upgrade of keelson-prod: 1.33.4 -> 1.34.3");
        assert.ok(from > 0, text.out);
        assert.deepEqual(lines.slice(from + 2, from + 4), [
            "  1. master-0 (the instance of group keelson-prod-master-0) control plane: etcd and the API healthy, kubeadm 1.34.3, kubeadm " +
                "upgrade plan and kubeadm upgrade apply v1.34.3 (SSM association keelson-prod-upgrade-master-0-1-34-3, " +
                "waited for up to 3600 s)",
            "  2. master-1 (the instance of group keelson-prod-master-1) control plane: etcd and the API healthy, kubeadm 1.34.3, kubeadm " +
                "upgrade node (after the first master's apply) (SSM association keelson-prod-upgrade-master-1-1-34-3, " +
                "waited for up to 3600 s)",
        ]);
        assert.equal(
            lines[from + 5],
            "  4. master-0 (the instance of group keelson-prod-master-0) kubelet: every API server at v1.34.3, drain, kubelet and kubectl " +
                "1.34.3, Ready at v1.34.3, uncordon (SSM association keelson-prod-upgrade-kubelet-master-0-1-34-3, " +
                "waited for up to 3600 s)",
        );
        assert.ok(
            text.out.includes(
                "  7. pool keelson-prod-general: its launch template's new kubelet (1.34.3) rolls Auto Scaling Group " +
                    "keelson-prod-general by instance refresh, one node at a time, each drained before it terminates",
            ),
        );
        const md = await cli([...bump, "--markdown", "--out", path.join(tmp, "v134m")]);
        assert.ok(md.out.includes("### Upgrade of keelson-prod: 1.33.4 → 1.34.3\n\n"), md.out);
        // The guard: a skipped minor and a downgrade fail the plan with the version rule's message.
        for (const [from, to] of [
            ["1.32.12", "1.34.3"],
            ["1.34.3", "1.33.4"],
        ]) {
            const b = path.join(tmp, `g-${from}`);
            assert.equal((await cli(["--stack", "prod", "--config-file", at(from), "--out", b])).code, 0);
            const r = await cli([
                "--stack",
                "prod",
                "--config-file",
                at(to),
                "--diff",
                path.join(b, "plan.json"),
                "--out",
                `${b}-new`,
            ]);
            const problem = upgradeProblem(from, to)!;
            assert.equal(r.code, 1);
            assert.ok(
                r.out.includes(`Upgrade of keelson-prod: ${from} -> ${to}\n  REFUSED: ${problem}`),
                r.out,
            );
            assert.ok(r.err.includes(`upgrade of keelson-prod refused: ${problem}`), r.err.join("\n"));
        }
    });

    it("counts resources alike in text, markdown and JSON, lists violations and typed dependencies", async () => {
        const text = (await cli(["--stack", "dev", "--out", path.join(tmp, "c1")])).out;
        const json = JSON.parse((await cli(["--stack", "dev", "--json", "--out", path.join(tmp, "c2")])).out);
        const md = (await cli(["--stack", "dev", "--markdown", "--out", path.join(tmp, "c3")])).out;
        const { resources, components } = json.summary;
        assert.equal(resources, json.resources.filter((r: { custom: boolean }) => r.custom).length);
        assert.ok(
            text.startsWith(
                `Keelson offline plan: stack dev, ${resources} resources in ${components} components\n`,
            ),
        );
        assert.ok(md.includes(`### Resources: ${resources} in ${components} components\n`));
        assert.ok(json.policy.violations.length > 0, "dev has advisory violations to list");
        for (const v of json.policy.violations as {
            policy: string;
            enforcementLevel: string;
            message: string;
        }[])
            assert.ok(
                text.includes(`  [${v.enforcementLevel}] ${v.policy} on `) && text.includes(v.message),
                v.policy,
            );
        // The private route table and subnet of one name are told apart by their type.
        assert.match(
            text,
            /<- .*Subnet keelson-dev-private-us-east-1a.*RouteTable keelson-dev-private-us-east-1a|<- .*RouteTable keelson-dev-private-us-east-1a.*Subnet keelson-dev-private-us-east-1a/,
        );
    });
});
