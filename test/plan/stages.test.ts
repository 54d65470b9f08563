// The shipped stages end to end: the real index.ts under the mock engine with each Pulumi.<stage>.yaml.
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import * as YAML from "yaml";
import { csrApproverValues } from "../../components/addons/csr-approver";
import { main } from "../../tools/plan/cli";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { stableHex } from "../../tools/plan/mock-state";
import { secretPlaceholder } from "../../tools/plan/stack-config";
import { README_STAGES, currentRows, replaceFigures } from "../../tools/readme/figures";

// One plan per stage, shared by the tests. The promise is cached, never the result, so that two mock runs
// never overlap (the mock engine is process-global).
const plans: Record<string, Promise<FullPlan>> = {};
function plan(stage: string): Promise<FullPlan> {
    plans[stage] ??= planStage({ stack: stage });
    return plans[stage];
}

/** Every secret value the run handled: secret-wrapped inputs (raw vs masked) and the config placeholders. */
function secretValues(p: FullPlan): string[] {
    const found = new Set<string>();
    const walk = (raw: unknown, masked: unknown) => {
        if (masked === "[secret]" && typeof raw === "string" && raw.length >= 8) found.add(raw);
        else if (raw && typeof raw === "object" && masked && typeof masked === "object") {
            for (const k of Object.keys(raw)) walk((raw as never)[k], (masked as never)[k]);
        }
    };
    for (const r of p.recorded) walk(r.rawInputs, r.inputs);
    for (const key of ["keelson:tls-www-cert", "keelson:tls-www-key"]) found.add(secretPlaceholder(key));
    return [...found];
}

const instances = (p: FullPlan) => p.resources.filter((r) => r.type === "aws:ec2/instance:Instance");
const templates = (p: FullPlan) =>
    p.resources.filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate");
/** Every master as it boots: a plain instance, or a master slot's group of one and its launch template. */
const masterLaunches = (p: FullPlan) => [
    ...instances(p)
        .filter((i) => i.name.includes("-master-"))
        .map((i) => ({
            name: i.name,
            userData: i.inputs.userDataBase64 as string,
            subnetId: i.inputs.subnetId,
        })),
    ...p.resources
        .filter((g) => g.type === "aws:autoscaling/group:Group" && /-master-\d+$/.test(g.name))
        .map((g) => ({
            name: g.name,
            userData: templates(p).find((t) => t.name === g.name)!.inputs.userData as string,
            subnetId: (g.inputs.vpcZoneIdentifiers as string[])[0],
        })),
];
const notIngress = (r: { name: string }) => !r.name.includes("-ingress") && !r.name.includes("-ingres-");

describe("shipped stages, planned offline through index.ts", function () {
    this.timeout(300000); // three whole-stage plans; slow when the machine is shared
    for (const stage of ["dev", "staging", "prod"]) {
        it(`${stage}: every instance is IMDSv2-only with an encrypted gp3 root volume`, async () => {
            const p = await plan(stage);
            assert.ok(instances(p).length >= 2);
            assert.ok(templates(p).length >= 1, "one launch template per worker pool");
            for (const t of templates(p)) {
                assert.equal(
                    (t.inputs.metadataOptions as { httpTokens: string }).httpTokens,
                    "required",
                    t.name,
                );
                const [root] = t.inputs.blockDeviceMappings as {
                    ebs: { encrypted: string; volumeType: string };
                }[];
                assert.deepEqual([root.ebs.encrypted, root.ebs.volumeType], ["true", "gp3"], t.name);
            }
            for (const i of instances(p)) {
                assert.equal(
                    (i.inputs.metadataOptions as { httpTokens: string }).httpTokens,
                    "required",
                    i.name,
                );
                const root = i.inputs.rootBlockDevice as { encrypted: boolean; volumeType: string };
                assert.deepEqual([root.encrypted, root.volumeType], [true, "gp3"], i.name);
            }
        });

        it(`${stage}: no secret value appears in user-data, artifacts, plain inputs or plain outputs`, async () => {
            const p = await plan(stage);
            const secrets = secretValues(p);
            assert.ok(secrets.length > 5, "the run handled secrets");
            const templateUserData = templates(p).map((t) =>
                zlib.gunzipSync(Buffer.from(t.inputs.userData as string, "base64")).toString("utf8"),
            );
            const userData = instances(p).map((i) => {
                const raw = i.inputs.userDataBase64 ?? i.inputs.userData;
                assert.equal(typeof raw, "string", `${i.name} has plain user-data`);
                return i.inputs.userDataBase64
                    ? zlib.gunzipSync(Buffer.from(raw as string, "base64")).toString("utf8")
                    : (raw as string);
            });
            const haystacks = [
                ...userData,
                ...templateUserData,
                ...p.artifacts.map((a) => a.content),
                JSON.stringify(p.resources.map((r) => r.inputs)),
                JSON.stringify(p.outputs),
            ];
            for (const s of secrets) {
                for (const h of haystacks)
                    assert.ok(!h.includes(s), `a secret (${s.slice(0, 12)}...) leaked`);
            }
            assert.equal(p.outputs.kubeconfig, "[secret]");
            assert.ok(p.secretOutputs.includes("kubeconfig"));
        });

        it(`${stage}: the worker NLB checks each routed port on its Service's kube-proxy health-check NodePort`, async () => {
            const p = await plan(stage);
            const services = p.resources
                .filter((r) => r.type === "kubernetes:core/v1:Service")
                .map(
                    (r) =>
                        r.inputs.spec as {
                            type: string;
                            ports: { nodePort?: number }[];
                            healthCheckNodePort?: number;
                        },
                )
                .filter((spec) => spec.healthCheckNodePort !== undefined);
            assert.ok(services.length >= 1);
            const tgs = p.resources.filter(
                (r) =>
                    r.type === "aws:lb/targetGroup:TargetGroup" &&
                    (r.parent ?? "").includes("keelson:cluster:WorkerIngress"),
            );
            assert.ok(tgs.length >= 1);
            for (const tg of tgs) {
                const svc = services.find((spec) => spec.ports.some((x) => x.nodePort === tg.inputs.port));
                assert.ok(svc, `${tg.name}: port ${String(tg.inputs.port)} is no routed Service's NodePort`);
                assert.equal(svc.type, "LoadBalancer");
                const hc = tg.inputs.healthCheck as Record<string, unknown>;
                assert.deepEqual(
                    [hc.protocol, hc.port, hc.path],
                    ["HTTP", String(svc.healthCheckNodePort), "/healthz"],
                    tg.name,
                );
            }
        });

        it(`${stage}: the edge's published-service NetworkPolicies admit the worker NLB's subnets, the source the pods see`, async () => {
            const p = await plan(stage);
            const cidrOf = new Map(
                p.resources
                    .filter((r) => r.type === "aws:ec2/subnet:Subnet")
                    .map((r) => [`subnet-${stableHex(r.name)}`, r.inputs.cidrBlock as string]),
            );
            const nlb = p.resources.filter(
                (r) => r.type === "aws:lb/loadBalancer:LoadBalancer" && r.name.endsWith("-ingress"),
            );
            assert.equal(nlb.length, 1, "one worker ingress NLB");
            assert.equal(nlb[0].inputs.internal, true);
            const nlbCidrs = (nlb[0].inputs.subnets as string[]).map((id) => cidrOf.get(id)).sort();
            const policies = p.resources.filter(
                (r) =>
                    r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
                    (r.inputs.metadata as { name: string }).name.endsWith("-from-outside"),
            );
            assert.ok(policies.length >= 1, "the routed services have a policy admitting the edge");
            for (const pol of policies) {
                const rules = (pol.inputs.spec as { ingress: { from: { ipBlock: { cidr: string } }[] }[] })
                    .ingress;
                assert.deepEqual(rules[0].from.map((f) => f.ipBlock.cidr).sort(), nlbCidrs, pol.name);
            }
        });
        it(`${stage}: the kubelet CSR approver gets the tight identity values (VPC CIDR only, one DNS name)`, async () => {
            const p = await plan(stage);
            const stack = YAML.parse(fs.readFileSync(`Pulumi.${stage}.yaml`, "utf8")) as {
                config: Record<string, { cidr?: string } & string>;
            };
            const approver = p.resources.find((r) => r.name === `keelson-${stage}-addons-csr-approver`)!;
            assert.deepEqual(
                approver.inputs.values,
                csrApproverValues({
                    region: stack.config["aws:region"],
                    vpcCidr: stack.config["keelson:network"].cidr!,
                    publicMasters: stage === "dev",
                }),
            );
            // Dev's master-0 is the public master those values cannot approve (addons/csr-approval.test.ts):
            // a public subnet, a public IPv4 and the endpoint's Elastic IP. No other stage has one.
            const publicMasters = instances(p).filter(
                (i) => i.name.includes("-master-") && i.inputs.associatePublicIpAddress === true,
            );
            assert.deepEqual(
                publicMasters.map((m) => m.name),
                stage === "dev" ? ["keelson-dev-master-0"] : [],
            );
            // So only dev's approver leaves what it does not approve Pending, for that master's own timer.
            assert.equal((approver.inputs.values as { skipDenyStep: boolean }).skipDenyStep, stage === "dev");
        });

        it(`${stage}: only the public master's user-data carries the own-serving-CSR script, service and timer`, async () => {
            const p = await plan(stage);
            const own = [
                "0700 /usr/local/sbin/keelson-approve-own-serving-csr",
                "0644 /etc/systemd/system/keelson-approve-own-serving-csr.service",
                "0644 /etc/systemd/system/keelson-approve-own-serving-csr.timer",
            ];
            const masters = masterLaunches(p);
            assert.equal(masters.length, stage === "dev" ? 1 : 3);
            const carried = masters.map((m) => {
                const doc = YAML.parse(
                    zlib.gunzipSync(Buffer.from(m.userData, "base64")).toString("utf8"),
                ) as { write_files: { path: string; permissions: string }[]; runcmd: string[][] };
                const files = doc.write_files
                    .map((f) => `${f.permissions} ${f.path}`)
                    .filter((f) => f.includes("approve-own-serving-csr"));
                const enabled = doc.runcmd[1].includes("keelson-approve-own-serving-csr.timer");
                return [m.name, files, enabled];
            });
            assert.deepEqual(
                carried,
                masters.map((m) =>
                    stage === "dev" && m.name === "keelson-dev-master-0"
                        ? [m.name, own, true]
                        : [m.name, [], false],
                ),
            );
            // Worker pools' launch templates never do.
            for (const t of templates(p)) {
                const text = zlib
                    .gunzipSync(Buffer.from(t.inputs.userData as string, "base64"))
                    .toString("utf8");
                assert.ok(!text.includes("approve-own-serving-csr"), t.name);
            }
        });
    }

    it("README's stage figures (resources, StackScore, cost) are these plans' (npm run readme:figures)", async () => {
        const planned: Record<string, FullPlan> = {};
        for (const stage of README_STAGES) planned[stage] = await plan(stage);
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        assert.equal(
            replaceFigures(readme, await currentRows(planned)),
            readme,
            "README's stage figures are stale: run npm run readme:figures",
        );
    });

    it("the README check fails on a stale figure and names the fix", async () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        const stale = readme.replace(/(\| cost \/ month \| )\$[\d,.]+/, "$1$$1.00");
        assert.notEqual(stale, readme);
        const planned: Record<string, FullPlan> = {};
        for (const stage of README_STAGES) planned[stage] = await plan(stage);
        assert.equal(replaceFigures(stale, await currentRows(planned)), readme);
        assert.throws(() => replaceFigures("no markers", []), {
            message:
                "README.md: the markers <!-- figures:stages --> and <!-- /figures:stages --> are missing",
        });
    });

    it("prod: 3 masters in 3 distinct private subnets behind an NLB on 6443 with a /readyz health check", async () => {
        const p = await plan("prod");
        // Each a master slot: a group of one in one private subnet (components/cluster/MasterSlot.ts).
        const masters = masterLaunches(p);
        assert.deepEqual(
            masters.map((m) => m.name),
            ["keelson-prod-master-0", "keelson-prod-master-1", "keelson-prod-master-2"],
        );
        assert.equal(new Set(masters.map((m) => m.subnetId)).size, 3);
        const privateSubnetIds = p.resources
            .filter((r) => r.type === "aws:ec2/subnet:Subnet" && r.name.includes("-private-"))
            .map((r) => `subnet-${stableHex(r.name)}`);
        for (const m of masters) assert.ok(privateSubnetIds.includes(m.subnetId as string), m.name);
        const listener = p.resources.filter((r) => r.type === "aws:lb/listener:Listener" && notIngress(r));
        assert.deepEqual(
            listener.map((l) => [l.name, l.inputs.port, l.inputs.protocol]),
            // The operators' internet-facing NLB and the nodes' internal one.
            [
                ["keelson-prod-api", 6443, "TCP"],
                ["keelson-prod-api-internal", 6443, "TCP"],
            ],
        );
        const tg = p.resources.filter((r) => r.type === "aws:lb/targetGroup:TargetGroup" && notIngress(r));
        assert.equal(tg.length, 2);
        for (const t of tg) {
            const hc = t.inputs.healthCheck as Record<string, unknown>;
            assert.deepEqual([hc.protocol, hc.path, hc.port], ["HTTPS", "/readyz", "traffic-port"]);
            assert.deepEqual([t.inputs.port, t.inputs.protocol], [6443, "TCP"]);
        }
        // The slots' groups register their instance in both API target groups; no per-instance attachment.
        assert.deepEqual(
            p.resources.filter((r) => r.type === "aws:lb/targetGroupAttachment:TargetGroupAttachment"),
            [],
        );
        for (const m of masters) {
            const g = p.resources.find((r) => r.type === "aws:autoscaling/group:Group" && r.name === m.name)!;
            assert.equal((g.inputs.targetGroupArns as string[]).length, 2, m.name);
        }
    });

    it("dev: one shared master as the endpoint, no API load balancer", async () => {
        const p = await plan("dev");
        assert.deepEqual(
            instances(p)
                .map((i) => i.name)
                .sort(),
            ["keelson-dev-edge-0", "keelson-dev-master-0"],
        );
        // The workers are a group; the only load balancer is the pools' internal NLB (the edge's upstream).
        assert.deepEqual(
            p.resources
                .filter((r) => r.type === "aws:autoscaling/group:Group")
                .map((r) => [r.name, r.inputs.minSize, r.inputs.maxSize, r.inputs.desiredCapacity]),
            [["keelson-dev-general", 1, 1, 1]],
        );
        assert.deepEqual(
            p.resources
                .filter((r) => r.type === "aws:lb/loadBalancer:LoadBalancer")
                .map((r) => [r.name, r.inputs.internal]),
            [["keelson-dev-ingress", true]],
        );
    });
});

describe("plan CLI", () => {
    it("exits 1 with one line per problem and registers nothing on a bad config file", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-cli-"));
        const file = path.join(dir, "bad.yaml");
        fs.writeFileSync(
            file,
            "config:\n  aws:region: us-east-1\n  keelson:cluster:\n    masters: 2\n    mastres: 3\n",
        );
        const printed: string[] = [];
        const errors: string[] = [];
        const code = await main(
            ["--stack", "dev", "--config-file", file, "--out", path.join(dir, "out")],
            (s) => printed.push(s),
            (s) => errors.push(s),
        );
        assert.equal(code, 1);
        assert.deepEqual(printed, [], "errors go to stderr, not stdout");
        assert.equal(
            errors.join("\n"),
            [
                "stage dev: 2 config problems; nothing was created:",
                "  - cluster.mastres: 3 is not a known key; did you mean cluster.masters?",
                "  - cluster.masters: 2 is even; use 1 or an odd number >= 3",
            ].join("\n"),
        );
        assert.equal(fs.existsSync(path.join(dir, "out")), false);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("prints one JSON object with --json and writes the artifacts under the out dir", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-cli-"));
        const printed: string[] = [];
        const code = await main(["--stack", "dev", "--json", "--out", dir], (s) => printed.push(s));
        assert.equal(code, 0);
        const json = JSON.parse(printed.join("\n"));
        assert.equal(json.stack, "dev");
        assert.deepEqual(Object.keys(json.resources[0]).sort(), [
            "custom",
            "dependencies",
            "inputs",
            "name",
            "parent",
            "type",
            "urn",
        ]);
        assert.equal(json.outputs.kubeconfig, "[secret]");
        assert.ok(["A", "B", "C", "D", "E", "F"].includes(json.score.overall));
        assert.equal(typeof json.cost.monthlyUsd, "number");
        for (const f of ["plan.json", "user-data/master-0.yaml", "kubeadm/init.yaml", "edge/nginx.conf"]) {
            assert.ok(fs.existsSync(path.join(dir, f)), f);
        }
        assert.ok(fs.readdirSync(path.join(dir, "manifests", "app")).length > 10);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
