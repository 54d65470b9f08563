// One owner per firewall rule and per IAM attachment, and the stage tags on every taggable AWS resource,
// in the plan of every shipped stage (the real program under the mock engine). A duplicate attachment
// (the EBS CSI policy was attached by Cluster and by Addons) or rule would be detached or deleted for
// both owners when either goes away; AWS refuses a second identical security group rule outright.
import { strict as assert } from "node:assert";
import { PlanResource } from "../../components/core/graph";
import { planStage } from "../../tools/plan/plan";

type Obj = Record<string, unknown>;
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";

/** What makes two attachments or rules the same thing in AWS, or undefined for other resources. */
function identity(r: PlanResource): string | undefined {
    const i = r.inputs;
    if (r.type === ATTACHMENT) return `attach ${String(i.role)} ${String(i.policyArn)}`;
    if (r.type === INGRESS || r.type === EGRESS) {
        const peer = i.cidrIpv4 ?? i.cidrIpv6 ?? i.referencedSecurityGroupId ?? i.prefixListId;
        return `${r.type === INGRESS ? "in" : "out"} ${String(i.securityGroupId)} ${String(i.ipProtocol)} ${String(i.fromPort)}-${String(i.toPort)} ${String(peer)}`;
    }
    return undefined;
}

/** Every identity claimed by more than one resource, with the resources' names. */
export function duplicates(resources: readonly PlanResource[]): string[] {
    const owners = new Map<string, string[]>();
    for (const r of resources) {
        const id = identity(r);
        if (id) owners.set(id, [...(owners.get(id) ?? []), r.name]);
    }
    return [...owners]
        .filter(([, names]) => names.length > 1)
        .map(([id, names]) => `${id}: ${names.join(", ")}`);
}

describe("ownership and tags in every shipped stage's plan", function () {
    this.timeout(600000);
    const plans = new Map<string, Promise<Awaited<ReturnType<typeof planStage>>>>();
    const plan = (stack: string) => {
        if (!plans.has(stack)) plans.set(stack, planStage({ stack }));
        return plans.get(stack)!;
    };

    it("finds a duplicate attachment or rule when there is one", () => {
        const attach = (name: string, role: string): PlanResource => ({
            urn: `urn:${name}`,
            type: ATTACHMENT,
            name,
            dependencies: [],
            inputs: { role, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" },
            custom: true,
        });
        const rule = (name: string): PlanResource => ({
            urn: `urn:${name}`,
            type: INGRESS,
            name,
            dependencies: [],
            inputs: {
                securityGroupId: "sg-1",
                ipProtocol: "tcp",
                fromPort: 6443,
                toPort: 6443,
                cidrIpv4: "203.0.113.0/24",
            },
            custom: true,
        });
        assert.deepEqual(duplicates([attach("a", "worker"), attach("b", "master"), rule("r")]), []);
        assert.deepEqual(duplicates([attach("a", "worker"), attach("b", "worker"), rule("r"), rule("s")]), [
            "attach worker arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy: a, b",
            "in sg-1 tcp 6443-6443 203.0.113.0/24: r, s",
        ]);
    });

    for (const stack of ["dev", "staging", "prod"]) {
        it(`${stack}: every IAM attachment and security group rule has one owner`, async () => {
            const { resources } = await plan(stack);
            assert.ok(
                resources.some((r) => r.type === ATTACHMENT) && resources.some((r) => r.type === INGRESS),
            );
            assert.deepEqual(duplicates(resources), []);
        });

        it(`${stack}: every AWS resource goes through the stage's provider, whose defaultTags carry the stage tags`, async () => {
            const { resources, recorded } = await plan(stack);
            const providerOf = new Map(recorded.map((r) => [r.urn, r.provider]));
            const providers = resources.filter((r) => r.type === "pulumi:providers:aws");
            assert.deepEqual(
                providers.map((p) => p.name),
                [`keelson-${stack}-aws`],
            );
            const raw = providers[0].inputs.defaultTags;
            const defaultTags = (typeof raw === "string" ? JSON.parse(raw) : raw) as Obj;
            assert.deepEqual(defaultTags, {
                tags: { "keelson:stage": stack, "keelson:managed-by": "pulumi" },
            });
            assert.equal(providers[0].inputs.region, "us-east-1");
            const viaOther = resources
                .filter((r) => r.custom && r.type.startsWith("aws:"))
                .filter((r) => !String(providerOf.get(r.urn)).startsWith(`${providers[0].urn}::`))
                .map((r) => `${r.type} ${r.name}`);
            assert.deepEqual(viaOther, []);
        });
    }
});
