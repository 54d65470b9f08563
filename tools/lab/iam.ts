// The lab's model of IAM policy evaluation for the calls its SSM stub serves: a node's rights are the
// inline policies the plan attaches to its instance role (tools/lab/stage.ts), evaluated as IAM does
// within one account: an explicit Deny wins, then an Allow, otherwise the implicit deny. Pure.
// Not modelled: resource-based and key policies (Keelson's keys delegate to IAM), permission
// boundaries, SCPs, session policies, managed policies (none grants an SSM parameter action to a
// Keelson role: the SSM agent's is a scoped inline copy), and condition operators Keelson does not use.

/** One IAM policy statement, as the plan renders it. */
import { globMatch, list } from "../../policy/rules/iam-eval";

export interface PolicyStatement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action?: string | readonly string[];
    readonly NotAction?: string | readonly string[];
    readonly Resource?: string | readonly string[];
    readonly NotResource?: string | readonly string[];
    readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
    readonly Version?: string;
    readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

/** The outcome of {@link evaluate}. */
export type Decision = "allow" | "implicit-deny" | "explicit-deny";

/** IAM's wildcard match, the policy pack's own (`*` any run of characters, `/` included; `?` one). */
export const wildcard = globMatch;

// Condition operators (the ones Keelson's policies use, and their negations). A key missing from
// the request context fails the condition, as in IAM (no `...IfExists` operator is used).
const OPERATORS: Record<string, (want: string, got: string) => boolean> = {
    StringEquals: (w, g) => w === g,
    StringLike: (w, g) => wildcard(w, g),
    ArnEquals: (w, g) => w === g,
    ArnLike: (w, g) => wildcard(w, g),
};

function conditionHolds(cond: PolicyStatement["Condition"], context: Record<string, string>): boolean {
    for (const [op, keys] of Object.entries(cond ?? {})) {
        const negated = op.startsWith("StringNot") || op.startsWith("ArnNot");
        const base = negated ? op.replace("Not", "") : op;
        const test = OPERATORS[base];
        if (!test)
            throw new Error(`lab IAM model: condition operator ${op} is not modelled (tools/lab/iam.ts)`);
        for (const [key, want] of Object.entries(keys)) {
            const got = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
            if (got === undefined) return false;
            const any = list(want).some((w) => test(w, got));
            if (negated ? any : !any) return false;
        }
    }
    return true;
}

function applies(
    s: PolicyStatement,
    action: string,
    resource: string,
    context: Record<string, string>,
): boolean {
    const actionMatch =
        s.Action !== undefined
            ? list(s.Action).some((a) => wildcard(a, action, true))
            : !list(s.NotAction).some((a) => wildcard(a, action, true));
    if (!actionMatch) return false;
    const resourceMatch =
        s.Resource !== undefined
            ? list(s.Resource).some((r) => wildcard(r, resource))
            : !list(s.NotResource).some((r) => wildcard(r, resource));
    return resourceMatch && conditionHolds(s.Condition, context);
}

/**
 * IAM's decision for `action` (`ssm:PutParameter`) on `resource` (an ARN) under `policies`, with the
 * request's condition keys in `context` (`kms:ViaService`, `kms:EncryptionContext:PARAMETER_ARN`).
 */
export function evaluate(
    policies: readonly PolicyDocument[],
    action: string,
    resource: string,
    context: Record<string, string> = {},
): Decision {
    const all: PolicyStatement[] = policies.flatMap((p) =>
        Array.isArray(p.Statement)
            ? [...(p.Statement as PolicyStatement[])]
            : [p.Statement as PolicyStatement],
    );
    if (all.some((s) => s.Effect === "Deny" && applies(s, action, resource, context))) return "explicit-deny";
    if (all.some((s) => s.Effect === "Allow" && applies(s, action, resource, context))) return "allow";
    return "implicit-deny";
}

/** The message AWS returns with an AccessDeniedException for a denied identity-based decision. */
export function accessDeniedMessage(
    principalArn: string,
    action: string,
    resource: string,
    decision: Exclude<Decision, "allow">,
): string {
    const why =
        decision === "explicit-deny"
            ? `with an explicit deny in an identity-based policy`
            : `because no identity-based policy allows the ${action} action`;
    return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}
