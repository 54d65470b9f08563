// The lab's SSM model (tools/lab/ssm.ts) authorises every call with the instance role's policies from
// the dev plan, as IAM would: masters write the bootstrap state and rotate the join token (with the
// cluster key), a worker writes only its own report, the edge writes nothing, and each denial is
// AWS's AccessDeniedException with AWS's message. The last test drives the hub with the real AWS CLI
// (Debian 13's awscli from the lab image) over HTTPS, as a node does.
import assert from "node:assert/strict";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Hub, HubIdentity } from "../../tools/lab/hub";
import { evaluate, wildcard } from "../../tools/lab/iam";
import { makeCa, makeServerCert } from "../../tools/lab/pki";
import { ACCOUNT, parameterArn, ssmCall, SsmState } from "../../tools/lab/ssm";
import { planForLab, PlannedInstance, PlannedStage } from "../../tools/lab/stage";
import { requireLabRootfs } from "../support/lab";

const PREFIX = "/keelson/dev/keelson-dev";

function identity(inst: PlannedInstance, name: string): HubIdentity {
    return {
        name,
        instanceId: `i-0${name
            .replace(/[^0-9a-f]/g, "")
            .padEnd(16, "0")
            .slice(0, 16)}`,
        zone: "us-east-1a",
        region: "us-east-1",
        role: inst.role,
        instanceProfile: inst.instanceProfile,
        policies: inst.policies,
        hopLimit: inst.hopLimit,
    };
}

describe("lab: SSM with the plan's IAM policies", function () {
    this.timeout(120000);
    let plan: PlannedStage;
    let master: HubIdentity, worker: HubIdentity, edge: HubIdentity;
    let state: SsmState;
    before(async () => {
        plan = await planForLab("dev");
        const kind = (k: string) => plan.instances.find((i) => i.kind === k)!;
        master = identity(kind("master"), "master-0");
        worker = identity(kind("worker"), "general-0");
        edge = identity(kind("edge"), "edge-0");
    });
    beforeEach(() => {
        state = { region: plan.region, parameters: new Map(), faults: [] };
        for (const [name, type] of plan.parameters)
            state.parameters.set(name, {
                value: plan.parameterValues.get(name) ?? "lab",
                type,
                keyId: plan.parameterKeys.get(name),
            });
    });
    const put = (id: HubIdentity, input: Record<string, unknown>) =>
        ssmCall(state, id, "AmazonSSM.PutParameter", input, id.name);
    const get = (id: HubIdentity, name: string) =>
        ssmCall(state, id, "AmazonSSM.GetParameter", { Name: name, WithDecryption: true }, id.name);

    it("takes each node's role and its inline policies from the plan", () => {
        assert.match(master.role, /^keelson-dev-master-[0-9a-f]{7}$/);
        assert.match(worker.role, /^keelson-dev-worker-[0-9a-f]{7}$/);
        assert.deepEqual(
            master.policies
                .flatMap((p) => [p.Statement].flat().map((s) => s.Sid))
                .filter(Boolean)
                .sort(),
            [
                "DecryptClusterParameters",
                "EncryptRotatedToken",
                "NoOtherKeys",
                "NoOtherParameters",
                "ReadClusterParameters",
                "ReportBootstrapState",
                "SessionManager",
            ],
        );
        assert.equal(plan.parameterValues.get(`${PREFIX}/state/initialised`), "no");
        assert.equal(plan.parameterValues.get(`${PREFIX}/state/masters/master-0`), "none");
    });

    it("lets a master set the marker and its slot record (overwrite, versions counted)", () => {
        const r = put(master, {
            Name: `${PREFIX}/state/initialised`,
            Type: "String",
            Overwrite: true,
            Value: "yes 2026-12-02T05:00:00Z i-1",
        });
        assert.deepEqual([r.status, r.body], [200, { Version: 2, Tier: "Standard" }]);
        assert.equal(
            state.parameters.get(`${PREFIX}/state/initialised`)?.value,
            "yes 2026-12-02T05:00:00Z i-1",
        );
        assert.equal(state.parameters.get(`${PREFIX}/state/initialised`)?.writtenBy, "master-0");
        const again = put(master, {
            Name: `${PREFIX}/state/masters/master-0`,
            Type: "String",
            Value: "n i-1 10.0.0.1",
        });
        assert.equal(again.status, 400);
        assert.equal(again.body.__type, "ParameterAlreadyExists");
        assert.equal(get(master, `${PREFIX}/state/initialised`).status, 200);
    });

    it("lets a master rotate the join token with the cluster key, and no other key", () => {
        const token = `${PREFIX}/join/bootstrap-token`;
        const key = plan.parameterKeys.get(token)!;
        assert.match(key, /^arn:aws:kms:us-east-1:123456789012:key\//);
        const ok = put(master, {
            Name: token,
            Type: "SecureString",
            KeyId: key,
            Overwrite: true,
            Value: "abcdef.0123456789abcdef",
        });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.equal(
            get(worker, token).body.Parameter &&
                (get(worker, token).body.Parameter as { Value: string }).Value,
            "abcdef.0123456789abcdef",
        );
        const other = put(master, {
            Name: token,
            Type: "SecureString",
            KeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:key/other`,
            Overwrite: true,
            Value: "x",
        });
        assert.equal(other.body.__type, "AccessDeniedException");
        assert.match(
            String(other.body.message),
            /is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:123456789012:key\/other because no identity-based policy allows the kms:Encrypt action/,
        );
    });

    it("refuses a worker everything but its own report, with AWS's AccessDenied", () => {
        assert.equal(
            put(worker, {
                Name: `${PREFIX}/state/nodes/general-0`,
                Type: "String",
                Overwrite: true,
                Value: "done",
            }).status,
            200,
        );
        for (const name of [
            `${PREFIX}/state/initialised`,
            `${PREFIX}/state/masters/master-0`,
            `${PREFIX}/join/bootstrap-token`,
        ]) {
            const r = put(worker, { Name: name, Type: "String", Overwrite: true, Value: "evil" });
            assert.equal(r.status, 400, name);
            assert.equal(r.body.__type, "AccessDeniedException");
            assert.equal(
                r.body.message,
                `User: arn:aws:sts::${ACCOUNT}:assumed-role/${worker.role}/${worker.instanceId} is not authorized to perform: ssm:PutParameter on resource: ${parameterArn("us-east-1", name)} because no identity-based policy allows the ssm:PutParameter action`,
            );
        }
        assert.equal(state.parameters.get(`${PREFIX}/state/initialised`)?.value, "no");
        const secret = get(worker, `${PREFIX}/control-plane/ca-key`);
        assert.equal(secret.body.__type, "AccessDeniedException");
        assert.match(
            String(secret.body.message),
            /ssm:GetParameter on resource: .*control-plane\/ca-key with an explicit deny in an identity-based policy$/,
        );
        assert.equal(get(worker, `${PREFIX}/state/initialised`).body.__type, "AccessDeniedException");
        assert.equal(
            put(edge, { Name: `${PREFIX}/state/nodes/edge-0`, Type: "String", Value: "done" }).body.__type,
            "AccessDeniedException",
        );
    });

    it("validates puts as SSM does and refuses actions it does not model", () => {
        const name = `${PREFIX}/state/nodes/new`;
        assert.equal(
            put(worker, { Name: name, Value: "x" }).body.message,
            "A parameter type is required when you create a parameter.",
        );
        assert.equal(
            put(worker, { Name: name, Type: "String", Value: "" }).body.__type,
            "ValidationException",
        );
        assert.equal(
            put(worker, { Name: name, Type: "String", Value: "x".repeat(4097) }).body.__type,
            "ValidationException",
        );
        assert.equal(
            put(worker, { Name: name, Type: "Text", Value: "x" }).body.__type,
            "ValidationException",
        );
        const del = ssmCall(state, worker, "AmazonSSM.DeleteParameter", { Name: name }, "general-0");
        assert.deepEqual([del.status, del.body.__type], [400, "AccessDeniedException"]);
        assert.match(String(del.body.message), /not authorized to perform: ssm:DeleteParameter/);
        const agent = ssmCall(state, worker, "AmazonSSM.UpdateInstanceInformation", {}, "general-0");
        assert.deepEqual([agent.status, agent.body.__type], [400, "UnknownOperationException"]);
        assert.equal(
            ssmCall(state, worker, "Nonsense", {}, "general-0").body.__type,
            "UnknownOperationException",
        );
    });

    it("injects AccessDenied on reads only when the fault names them, and keeps the reports' history", () => {
        const report = `${PREFIX}/state/nodes/general-0`;
        const token = `${PREFIX}/join/bootstrap-token`;
        state.faults.push({
            code: "AccessDeniedException",
            durationMs: 60_000,
            nodes: ["general-0"],
            actions: ["GetParameter"],
        });
        const denied = ssmCall(
            state,
            worker,
            "AmazonSSM.GetParameter",
            { Name: token, WithDecryption: true },
            "general-0",
            1000,
        );
        assert.equal(denied.body.__type, "AccessDeniedException");
        assert.match(denied.what, /\(injected\)$/);
        assert.equal(state.faults[0].startedAt, 1000, "the fault starts at the first read, not at a put");
        const at = (value: string, now: number) =>
            ssmCall(
                state,
                worker,
                "AmazonSSM.PutParameter",
                { Name: report, Type: "String", Overwrite: true, Value: value },
                "general-0",
                now,
            );
        assert.equal(at("failed 2026-12-02T05:00:00Z i-1 cannot read", 2000).status, 200);
        assert.equal(get(master, token).status, 200, "other nodes read");
        assert.equal(
            ssmCall(
                state,
                worker,
                "AmazonSSM.GetParameter",
                { Name: token, WithDecryption: true },
                "general-0",
                61_001,
            ).status,
            200,
            "the fault is over",
        );
        assert.equal(at("ready 2026-12-02T05:10:00Z i-1 ip-10-0-0-1", 62_000).status, 200);
        assert.deepEqual(state.parameters.get(report)?.history, [
            {
                version: 1,
                writtenBy: "general-0",
                at: 2000,
                value: "failed 2026-12-02T05:00:00Z i-1 cannot read",
            },
            {
                version: 2,
                writtenBy: "general-0",
                at: 62_000,
                value: "ready 2026-12-02T05:10:00Z i-1 ip-10-0-0-1",
            },
        ]);
        // A SecureString's value is never kept in the history.
        put(master, {
            Name: token,
            Type: "SecureString",
            KeyId: plan.parameterKeys.get(token),
            Overwrite: true,
            Value: "abcdef.0123456789abcdef",
        });
        assert.deepEqual(Object.keys(state.parameters.get(token)?.history?.[0] ?? {}).sort(), [
            "at",
            "version",
            "writtenBy",
        ]);
    });

    it("evaluates IAM wildcards, NotResource and conditions as IAM does", () => {
        assert.ok(wildcard("arn:aws:ssm:*:*:parameter/a/*", "arn:aws:ssm:r:1:parameter/a/b/c"));
        assert.ok(!wildcard("arn:aws:ssm:*:*:parameter/a/?", "arn:aws:ssm:r:1:parameter/a/bc"));
        assert.ok(wildcard("ssm:GetParameter*", "SSM:getparameters", true));
        const doc = {
            Statement: [
                {
                    Effect: "Allow" as const,
                    Action: "kms:Decrypt",
                    Resource: "k",
                    Condition: { StringLike: { "kms:EncryptionContext:PARAMETER_ARN": "p/*" } },
                },
            ],
        };
        assert.equal(
            evaluate([doc], "kms:Decrypt", "k", { "kms:EncryptionContext:PARAMETER_ARN": "p/x" }),
            "allow",
        );
        assert.equal(
            evaluate([doc], "kms:Decrypt", "k", { "kms:EncryptionContext:PARAMETER_ARN": "q/x" }),
            "implicit-deny",
        );
        assert.equal(evaluate([doc], "kms:Decrypt", "k"), "implicit-deny");
    });

    it("serves the real AWS CLI over HTTPS: a worker's put-parameter is denied, a master's stored", async function () {
        const img = requireLabRootfs(this);
        const dir = fs.mkdtempSync(path.join(img.tools, "tmp", "keelson-ssm-"));
        const inside = "/" + path.relative(img.tools, dir);
        const host = `ssm.${plan.region}.amazonaws.com`;
        const pki = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-ssm-pki-"));
        makeCa(pki, "lab-ca", "lab test CA");
        const tls = makeServerCert(pki, "lab-ca", "hub", [host]);
        fs.copyFileSync(path.join(pki, "lab-ca.crt"), path.join(dir, "ca.crt"));
        fs.writeFileSync(path.join(dir, "hosts"), `127.0.0.1 localhost ${host}\n`);
        const hub = new Hub({
            debianArchive: dir,
            kubeRepo: dir,
            kubeSeries: "1.33",
            ssmAgentDeb: path.join(dir, "none.deb"),
            region: plan.region,
            tlsCert: tls.cert,
            tlsKey: tls.key,
            internetAddress: "127.0.0.1",
            imdsAddress: "127.0.0.2",
            ports: { http: 0, https: 0 },
        });
        for (const [k, v] of state.parameters) hub.parameters.set(k, v);
        await hub.start();
        // The CLI in its own mount namespace, where only its /etc/hosts names the hub (nothing is left behind).
        const aws = async (args: string[]) => {
            const cmd = `mount --bind ${dir}/hosts ${img.tools}/etc/hosts && exec chroot ${img.tools} aws ${args.map((a) => `'${a}'`).join(" ")}`;
            const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", cmd], {
                env: {
                    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
                    AWS_ACCESS_KEY_ID: "ASIALAB",
                    AWS_SECRET_ACCESS_KEY: "lab",
                    AWS_SESSION_TOKEN: "lab",
                    AWS_CA_BUNDLE: `${inside}/ca.crt`,
                    AWS_EC2_METADATA_DISABLED: "true",
                    HOME: "/root",
                },
            });
            let out = "";
            child.stdout.on("data", (c: Buffer) => (out += c));
            child.stderr.on("data", (c: Buffer) => (out += c));
            const code: number = await new Promise((r) => child.on("exit", r));
            return { code, out };
        };
        const endpoint = ["--region", plan.region, "--endpoint-url", `https://${host}:${hub.httpsPort}`];
        try {
            hub.identities.set("127.0.0.1", worker);
            const denied = await aws([
                "ssm",
                "put-parameter",
                ...endpoint,
                "--name",
                `${PREFIX}/state/initialised`,
                "--type",
                "String",
                "--overwrite",
                "--value",
                "yes",
            ]);
            assert.equal(denied.code, 254, denied.out);
            assert.match(
                denied.out,
                /An error occurred \(AccessDeniedException\) when calling the PutParameter operation: User: arn:aws:sts::123456789012:assumed-role\/keelson-dev-worker-[0-9a-f]{7}\/i-0\w+ is not authorized to perform: ssm:PutParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter\/keelson\/dev\/keelson-dev\/state\/initialised because no identity-based policy allows the ssm:PutParameter action/,
            );
            hub.identities.set("127.0.0.1", master);
            const ok = await aws([
                "ssm",
                "put-parameter",
                ...endpoint,
                "--name",
                `${PREFIX}/state/initialised`,
                "--type",
                "String",
                "--overwrite",
                "--value",
                "yes now i-1",
            ]);
            assert.equal(ok.code, 0, ok.out);
            assert.deepEqual(JSON.parse(ok.out), { Version: 2, Tier: "Standard" });
            const read = await aws([
                "ssm",
                "get-parameter",
                ...endpoint,
                "--name",
                `${PREFIX}/state/initialised`,
                "--query",
                "Parameter.Value",
                "--output",
                "text",
            ]);
            assert.equal(read.out.trim(), "yes now i-1");
            assert.deepEqual(
                hub.requests.map((r) => `${r.service} ${r.what} ${r.status}`),
                [
                    `ssm PutParameter ${PREFIX}/state/initialised -> AccessDeniedException 400`,
                    `ssm PutParameter ${PREFIX}/state/initialised (version 2) 200`,
                    `ssm GetParameter ${PREFIX}/state/initialised 200`,
                ],
            );
        } finally {
            await hub.stop();
            fs.rmSync(dir, { recursive: true, force: true });
            fs.rmSync(pki, { recursive: true, force: true });
        }
    });
});
