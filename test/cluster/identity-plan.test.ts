// Node identity over the real prod plan (index.ts with Pulumi.prod.yaml under the mock engine): IMDS hop
// limit 1 on every launch path, and the permissions the add-ons moved to IRSA roles are on no node role.
import assert from "node:assert/strict";
import { physicalName } from "../../tools/plan/mock-names";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { RecordedResource } from "../../tools/plan/runtime";

type Doc = {
    Statement: { Effect: string; Action: string | string[]; Principal?: Record<string, unknown> }[];
};

const EC2_PRINCIPAL = "ec2.amazonaws.com";
/** What left the node roles for the add-ons' own roles (EBS CSI, fluent-bit, termination handler, backup). */
const MOVED_MANAGED = [
    "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
];
const MOVED_ACTIONS = [
    /^ec2:(Attach|Detach|Create|Delete)Volume$/,
    /^logs:/,
    /^sqs:(ReceiveMessage|DeleteMessage)$/,
    /^autoscaling:CompleteLifecycleAction$/,
    /^s3:(PutObject|GetObject)$/,
];

const actions = (doc: Doc) =>
    doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action],
    );

describe("node identity in the prod plan", function () {
    this.timeout(300000);
    let plan: FullPlan;
    let nodeRoles: RecordedResource[];
    let roleName: (r: RecordedResource) => string;
    before(async () => {
        plan = await planStage({ stack: "prod" });
        roleName = (r) => String(physicalName(r.type, r.name, r.rawInputs, r.urn)?.value ?? r.name);
        nodeRoles = plan.recorded.filter(
            (r) =>
                r.type === "aws:iam/role:Role" &&
                (JSON.parse(String(r.rawInputs.assumeRolePolicy)) as Doc).Statement.some((s) =>
                    JSON.stringify(s.Principal ?? {}).includes(EC2_PRINCIPAL),
                ),
        );
    });

    /** Launch paths that let pods reach the instance role, or allow IMDSv1. */
    const imdsProblems = (recorded: RecordedResource[]) =>
        recorded
            .filter(
                (r) =>
                    r.type === "aws:ec2/instance:Instance" ||
                    r.type === "aws:ec2/launchTemplate:LaunchTemplate",
            )
            .map((r) => {
                const m = r.inputs.metadataOptions as Record<string, unknown>;
                return [r.name, m.httpPutResponseHopLimit, m.httpTokens];
            })
            .filter(([, hop, tokens]) => hop !== 1 || tokens !== "required");
    /** Moved managed policies and actions found on a node role, as `<resource>: <policy or action>`. */
    const movedOnNodeRoles = (recorded: RecordedResource[]) => {
        const names = new Set(nodeRoles.map(roleName));
        const onNodeRoles = recorded.filter(
            (r) =>
                (r.type === "aws:iam/rolePolicy:RolePolicy" ||
                    r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment") &&
                names.has(String(r.rawInputs.role)),
        );
        return onNodeRoles.flatMap((r) =>
            r.type === "aws:iam/rolePolicy:RolePolicy"
                ? actions(JSON.parse(String(r.rawInputs.policy)) as Doc)
                      .filter((a) => MOVED_ACTIONS.some((re) => re.test(a)))
                      .map((a) => `${r.name}: ${a}`)
                : MOVED_MANAGED.includes(String(r.rawInputs.policyArn))
                  ? [`${r.name}: ${String(r.rawInputs.policyArn)}`]
                  : [],
        );
    };

    it("has hop limit 1 and IMDSv2 on every instance and launch template", () => {
        const launchPaths = plan.recorded.filter(
            (r) =>
                r.type === "aws:ec2/instance:Instance" || r.type === "aws:ec2/launchTemplate:LaunchTemplate",
        );
        // 3 masters, 2 edge hosts, 2 worker pools.
        assert.equal(launchPaths.length, 7);
        assert.deepEqual(imdsProblems(plan.recorded), []);
        // The check fires on a pool template at hop limit 2 (what the workers had before IRSA).
        const pool = launchPaths.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")!;
        const weakened = {
            ...pool,
            inputs: {
                ...pool.inputs,
                metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 2 },
            },
        };
        assert.deepEqual(imdsProblems([weakened]), [[pool.name, 2, "required"]]);
    });

    it("keeps the moved permissions off every node role (masters, workers, edge)", () => {
        assert.deepEqual(nodeRoles.map((r) => r.name).sort(), [
            "keelson-prod-edge-role",
            "keelson-prod-master",
            "keelson-prod-worker",
        ]);
        // One exception, exactly: the workers complete their own launch hook (the pools' launch gate,
        // components/cluster/render/join-gate.ts), on groups tagged with this cluster only.
        assert.deepEqual(movedOnNodeRoles(plan.recorded), [
            "keelson-prod-worker-join: autoscaling:CompleteLifecycleAction",
        ]);
        const join = plan.recorded.find((r) => r.name === "keelson-prod-worker-join")!;
        assert.equal(join.rawInputs.role, roleName(nodeRoles.find((r) => r.name === "keelson-prod-worker")!));
        assert.deepEqual(JSON.parse(String(join.rawInputs.policy)), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "FindOwnGroup",
                    Effect: "Allow",
                    Action: "autoscaling:DescribeAutoScalingInstances",
                    Resource: "*",
                },
                {
                    Sid: "CompleteOwnLaunchHook",
                    Effect: "Allow",
                    Action: "autoscaling:CompleteLifecycleAction",
                    Resource: "*",
                    Condition: {
                        StringEquals: { "autoscaling:ResourceTag/keelson:cluster": "keelson-prod" },
                    },
                },
            ],
        });
        // Not vacuous: the node roles' own policies (parameters, Session Manager) are found by role name.
        const names = new Set(nodeRoles.map(roleName));
        assert.deepEqual(
            plan.recorded
                .filter(
                    (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && names.has(String(r.rawInputs.role)),
                )
                .map((r) => r.name)
                .filter((n) => n.endsWith("-session-manager"))
                .sort(),
            [
                "keelson-prod-edge-session-manager",
                "keelson-prod-master-session-manager",
                "keelson-prod-worker-session-manager",
            ],
        );
        // The check fires on what the node roles carried before: the EBS CSI policy and the backup's write.
        const worker = roleName(nodeRoles.find((r) => r.name === "keelson-prod-worker")!);
        const master = roleName(nodeRoles.find((r) => r.name === "keelson-prod-master")!);
        const old = [
            {
                type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                name: "ebs",
                rawInputs: { role: worker, policyArn: MOVED_MANAGED[0] },
            },
            {
                type: "aws:iam/rolePolicy:RolePolicy",
                name: "backup",
                rawInputs: {
                    role: master,
                    policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["s3:PutObject"] }] }),
                },
            },
        ] as unknown as RecordedResource[];
        assert.deepEqual(movedOnNodeRoles(old), [
            "ebs: arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy",
            "backup: s3:PutObject",
        ]);
    });

    it("gives each AWS-calling add-on and file-store consumer a role that exactly its service account can assume", () => {
        const irsa = plan.recorded
            .filter((r) => r.type === "aws:iam/role:Role" && !nodeRoles.includes(r))
            .map((r) => {
                const [s] = (JSON.parse(String(r.rawInputs.assumeRolePolicy)) as Doc)
                    .Statement as unknown as {
                    Action: string;
                    Condition: { StringEquals: Record<string, string> };
                }[];
                const sub = Object.entries(s.Condition.StringEquals).find(([k]) => k.endsWith(":sub"));
                return [r.name, s.Action, sub?.[1]];
            })
            .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        assert.deepEqual(irsa, [
            [
                "keelson-prod-addons-ebs-csi-role",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:kube-system:ebs-csi-controller-sa",
            ],
            [
                "keelson-prod-addons-etcd-backup-role",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:kube-system:etcd-backup",
            ],
            [
                "keelson-prod-addons-fluent-bit-role",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:logging:fluent-bit",
            ],
            [
                "keelson-prod-cloud-controller",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:kube-system:cloud-controller-manager",
            ],
            [
                "keelson-prod-db-backup-role",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:app:db-backup-aws",
            ],
            [
                "keelson-prod-termination-handler",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:kube-system:aws-node-termination-handler",
            ],
            ["keelson-prod-web-role", "sts:AssumeRoleWithWebIdentity", "system:serviceaccount:app:web-aws"],
            [
                "keelson-prod-worker-role",
                "sts:AssumeRoleWithWebIdentity",
                "system:serviceaccount:app:worker-aws",
            ],
        ]);
    });

    it("has no IAM user and no access key: the file stores' consumers use their roles", () => {
        const types = new Set(plan.recorded.map((r) => r.type));
        for (const t of ["aws:iam/user:User", "aws:iam/userPolicy:UserPolicy", "aws:iam/accessKey:AccessKey"])
            assert.equal(types.has(t), false, t);
    });
});
