// Who can decrypt each secret of the prod plan: the IAM and key policies the program registers under the mock
// engine, evaluated per role and per SecureString parameter. Each secret must be readable by exactly its
// consumer: the cluster's join parameters by masters and workers, the control plane's by masters, the edge's
// TLS keys by the edge role. A mutated plan (the old managed policy and the shared aws/ssm key) must fail.
import { strict as assert } from "node:assert";
import * as path from "path";
import {
    globMatch,
    identityDecision,
    kmsAllowed,
    PolicyDocument,
    Request,
} from "../../policy/rules/iam-eval";
import { MOCK_ACCOUNT, mockResourceState } from "../../tools/plan/mock-state";
import { FullPlan, planStage, PROJECT_ROOT } from "../../tools/plan/plan";
import { loadStackConfig } from "../../tools/plan/stack-config";

type Obj = Record<string, unknown>;
interface Resource {
    /** The URN: the mock engine derives autonamed physical names (role names) from it. */
    readonly urn?: string;
    readonly type: string;
    readonly name: string;
    readonly inputs: Obj;
}

/**
 * The AWS managed policies Keelson may attach, reduced to what matters for parameters and keys (checked
 * against the published documents): an unknown ARN fails the test instead of being assumed harmless.
 */
const MANAGED: Record<string, PolicyDocument> = {
    // Only ec2:* volume, snapshot and tag actions.
    "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy": {
        Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }],
    },
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy": {
        Statement: [
            {
                Effect: "Allow",
                Action: ["logs:*", "cloudwatch:PutMetricData", "ec2:Describe*"],
                Resource: "*",
            },
            {
                Effect: "Allow",
                Action: "ssm:GetParameter",
                Resource: "arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*",
            },
        ],
    },
    // v3: ECR reads only (the kubelet's ecr-credential-provider pulls built images with the node role).
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly": {
        Statement: [
            {
                Effect: "Allow",
                Action: [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:GetRepositoryPolicy",
                    "ecr:DescribeRepositories",
                    "ecr:ListImages",
                    "ecr:DescribeImages",
                    "ecr:BatchGetImage",
                    "ecr:GetLifecyclePolicy",
                    "ecr:GetLifecyclePolicyPreview",
                    "ecr:ListTagsForResource",
                    "ecr:DescribeImageScanFindings",
                ],
                Resource: "*",
            },
        ],
    },
    // v2: ssm:GetParameter(s) on "*" among the agent's actions.
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": {
        Statement: [
            {
                Effect: "Allow",
                Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:UpdateInstanceInformation"],
                Resource: "*",
            },
            { Effect: "Allow", Action: ["ssmmessages:*", "ec2messages:*"], Resource: "*" },
        ],
    },
};

/** The default key policy of an AWS managed key (aws/ssm): every principal of the account, through SSM. */
const AWS_SSM_KEY: PolicyDocument = {
    Statement: [
        {
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "kms:Decrypt",
            Resource: "*",
            Condition: {
                StringEquals: {
                    "kms:CallerAccount": MOCK_ACCOUNT,
                    "kms:ViaService": "ssm.us-east-1.amazonaws.com",
                },
            },
        },
    ],
};
const DEFAULT_KEY_POLICY: PolicyDocument = {
    Statement: [
        {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${MOCK_ACCOUNT}:root` },
            Action: "kms:*",
            Resource: "*",
        },
    ],
};

/** Per SecureString parameter name, the roles (by resource name) that can read and decrypt it. */
function decryptSets(resources: readonly Resource[], region: string): Record<string, string[]> {
    const out = (r: Resource) => mockResourceState(r.type, r.name, r.inputs, region, r.urn).state;
    const of = (type: string) => resources.filter((r) => r.type === type);
    const roles = of("aws:iam/role:Role").map((r) => ({
        name: r.name,
        roleName: String(out(r).name),
        arn: String(out(r).arn),
    }));
    const customer = new Map(
        of("aws:iam/policy:Policy").map((p) => [String(out(p).arn), JSON.parse(String(p.inputs.policy))]),
    );
    const identity = (roleName: string): PolicyDocument[] => [
        ...of("aws:iam/rolePolicy:RolePolicy")
            .filter((p) => p.inputs.role === roleName)
            .map((p) => JSON.parse(String(p.inputs.policy)) as PolicyDocument),
        ...of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((a) => a.inputs.role === roleName)
            .map((a) => {
                const arn = String(a.inputs.policyArn);
                const doc = MANAGED[arn] ?? customer.get(arn);
                assert.ok(doc, `no document for attached policy ${arn}: add it to MANAGED`);
                return doc;
            }),
    ];
    const keys = new Map(
        of("aws:kms/key:Key").map((k) => [
            String(out(k).arn),
            k.inputs.policy ? (JSON.parse(String(k.inputs.policy)) as PolicyDocument) : DEFAULT_KEY_POLICY,
        ]),
    );
    const sets: Record<string, string[]> = {};
    for (const p of of("aws:ssm/parameter:Parameter").filter((p) => p.inputs.type === "SecureString")) {
        const paramArn = String(out(p).arn);
        const keyArn =
            p.inputs.keyId === undefined
                ? `arn:aws:kms:${region}:${MOCK_ACCOUNT}:alias/aws/ssm`
                : String(p.inputs.keyId);
        const keyPolicy = p.inputs.keyId === undefined ? AWS_SSM_KEY : keys.get(keyArn);
        assert.ok(keyPolicy, `${p.name}: key ${keyArn} is not in the plan`);
        sets[String(p.inputs.name)] = roles
            .filter((role) => {
                const docs = identity(role.roleName);
                const get: Request = {
                    principalArn: role.arn,
                    action: "ssm:GetParameter",
                    resource: paramArn,
                };
                const decrypt: Request = {
                    principalArn: role.arn,
                    action: "kms:Decrypt",
                    resource: keyArn,
                    context: {
                        "kms:ViaService": `ssm.${region}.amazonaws.com`,
                        "kms:EncryptionContext:PARAMETER_ARN": paramArn,
                        "kms:CallerAccount": MOCK_ACCOUNT,
                    },
                };
                return (
                    identityDecision(docs, get) === "Allow" &&
                    kmsAllowed(docs, keyPolicy, MOCK_ACCOUNT, decrypt)
                );
            })
            .map((role) => role.name)
            .sort();
    }
    return sets;
}

/** Who should read a parameter, from its path (`/keelson/<stage>/<component>/...`). */
function consumers(name: string): string[] {
    const m = /^\/keelson\/prod\/([^/]+)\/(join|control-plane|tls)\//.exec(name);
    assert.ok(m, `unexpected secret parameter ${name}`);
    if (m[2] === "join") return ["keelson-prod-master", "keelson-prod-worker"];
    if (m[2] === "control-plane") return ["keelson-prod-master"];
    return [`${m[1]}-role`];
}

describe("iam-eval: the statements Keelson writes", () => {
    const role = "arn:aws:iam::123456789012:role/r";
    const req = (action: string, resource: string, context?: Record<string, string>): Request => ({
        principalArn: role,
        action,
        resource,
        context,
    });

    it("matches IAM wildcards: actions case-insensitively, resources exactly", () => {
        assert.ok(globMatch("ssm:GetParameter*", "ssm:getparameters", true));
        assert.ok(!globMatch("ssm:GetParameter*", "ssm:PutParameter", true));
        assert.ok(globMatch("arn:aws:ssm:*:*:parameter/a/*", "arn:aws:ssm:us-east-1:1:parameter/a/b/c"));
        assert.ok(!globMatch("arn:aws:ssm:*:*:parameter/a/*", "arn:aws:ssm:us-east-1:1:parameter/ab"));
        assert.ok(globMatch("a?c", "abc") && !globMatch("a?c", "abbc"));
    });

    it("lets an explicit Deny (also NotResource) win over any Allow, and needs an Allow", () => {
        const allowAll: PolicyDocument = {
            Statement: [{ Effect: "Allow", Action: "ssm:GetParameter", Resource: "*" }],
        };
        const denyOthers: PolicyDocument = {
            Statement: [{ Effect: "Deny", Action: "ssm:GetParameter*", NotResource: ["arn:p/mine/*"] }],
        };
        assert.equal(identityDecision([allowAll], req("ssm:GetParameter", "arn:p/theirs/k")), "Allow");
        assert.equal(
            identityDecision([allowAll, denyOthers], req("ssm:GetParameter", "arn:p/theirs/k")),
            "Deny",
        );
        assert.equal(
            identityDecision([allowAll, denyOthers], req("ssm:GetParameter", "arn:p/mine/k")),
            "Allow",
        );
        assert.equal(identityDecision([denyOthers], req("ssm:GetParameter", "arn:p/mine/k")), "None");
    });

    it("evaluates conditions: every operator ANDed, values of one key ORed, a missing key fails", () => {
        const doc: PolicyDocument = {
            Statement: [
                {
                    Effect: "Allow",
                    Action: "kms:Decrypt",
                    Resource: "k",
                    Condition: {
                        StringEquals: { "kms:ViaService": "ssm.r.amazonaws.com" },
                        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": ["arn:p/a/*", "arn:p/b"] },
                    },
                },
            ],
        };
        const ctx = (arn?: string) => ({
            "kms:ViaService": "ssm.r.amazonaws.com",
            ...(arn ? { "kms:EncryptionContext:PARAMETER_ARN": arn } : {}),
        });
        assert.equal(identityDecision([doc], req("kms:Decrypt", "k", ctx("arn:p/a/x"))), "Allow");
        assert.equal(identityDecision([doc], req("kms:Decrypt", "k", ctx("arn:p/b"))), "Allow");
        assert.equal(identityDecision([doc], req("kms:Decrypt", "k", ctx("arn:p/c"))), "None");
        assert.equal(identityDecision([doc], req("kms:Decrypt", "k", ctx())), "None");
        const bad: PolicyDocument = {
            Statement: [
                { Effect: "Allow", Action: "kms:Decrypt", Resource: "k", Condition: { Bool: { x: "true" } } },
            ],
        };
        assert.throws(() => identityDecision([bad], req("kms:Decrypt", "k", ctx())), /Bool is not modelled/);
    });

    it("needs both the key policy and, when the key delegates to the account, an identity Allow", () => {
        const allow: PolicyDocument = {
            Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "k" }],
        };
        const r = req("kms:Decrypt", "k");
        assert.ok(kmsAllowed([allow], DEFAULT_KEY_POLICY, MOCK_ACCOUNT, r));
        assert.ok(!kmsAllowed([], DEFAULT_KEY_POLICY, MOCK_ACCOUNT, r));
        const named: PolicyDocument = {
            Statement: [{ Effect: "Allow", Principal: { AWS: role }, Action: "kms:Decrypt", Resource: "*" }],
        };
        assert.ok(kmsAllowed([], named, MOCK_ACCOUNT, r));
        assert.ok(!kmsAllowed([allow], { Statement: [] }, MOCK_ACCOUNT, r));
        const deny: PolicyDocument = {
            Statement: [{ Effect: "Deny", Action: "kms:*", NotResource: ["other"] }],
        };
        assert.ok(!kmsAllowed([allow, deny], named, MOCK_ACCOUNT, r));
    });
});

describe("prod plan: every secret is decryptable by exactly its consumer", function () {
    this.timeout(300000);
    const region = String(
        loadStackConfig(path.join(PROJECT_ROOT, "Pulumi.prod.yaml")).values["aws:region"] ?? "us-east-1",
    );
    let plan: Promise<FullPlan> | undefined;
    const resources = async (): Promise<Resource[]> => {
        plan ??= planStage({ stack: "prod" });
        return (await plan).recorded.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            inputs: r.rawInputs,
        }));
    };

    it("per SecureString parameter: join → masters and workers, control plane → masters, edge TLS → the edge role", async () => {
        const sets = decryptSets(await resources(), region);
        const names = Object.keys(sets).sort();
        assert.ok(
            names.some((n) => n.includes("/control-plane/ca-key")),
            "the CA key is a secret parameter",
        );
        assert.ok(
            names.some((n) => /\/tls\/[^/]+\/key$/.test(n)),
            "prod has an edge TLS key",
        );
        assert.deepEqual(
            names.map((n) => [n, sets[n]]),
            names.map((n) => [n, consumers(n)]),
        );
    });

    it("fails when the old shape comes back: AmazonSSMManagedInstanceCore and the edge key under aws/ssm", async () => {
        const mutated = (await resources())
            // Drop the Denies and the scoped Session Manager policy, attach the managed one to every role.
            .filter((r) => r.type !== "aws:iam/rolePolicy:RolePolicy" || !/session-manager$/.test(r.name))
            .map((r) =>
                r.type === "aws:iam/rolePolicy:RolePolicy"
                    ? {
                          ...r,
                          inputs: {
                              ...r.inputs,
                              policy: JSON.stringify({
                                  Statement: (
                                      JSON.parse(String(r.inputs.policy)).Statement as { Effect: string }[]
                                  ).filter((s) => s.Effect === "Allow"),
                              }),
                          },
                      }
                    : r.type === "aws:ssm/parameter:Parameter" && /\/tls\//.test(String(r.inputs.name))
                      ? { ...r, inputs: { ...r.inputs, keyId: undefined } }
                      : r,
            );
        for (const role of mutated.filter((r) => r.type === "aws:iam/role:Role"))
            mutated.push({
                type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                name: `${role.name}-core`,
                inputs: {
                    // The role's physical (autonamed) name, as a real attachment would reference it.
                    role: String(
                        mockResourceState(role.type, role.name, role.inputs, region, role.urn).state.name,
                    ),
                    policyArn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                },
            });
        const sets = decryptSets(mutated, region);
        const edgeKey = Object.keys(sets).find((n) => /\/tls\/[^/]+\/key$/.test(n))!;
        const roles = mutated
            .filter((r) => r.type === "aws:iam/role:Role")
            .map((r) => r.name)
            .sort();
        assert.deepEqual(sets[edgeKey], roles, "under aws/ssm with SSM core, every role reads the edge key");
    });
});
