// A small IAM evaluator for the statements Keelson writes: identity policies (inline and managed) and KMS key
// policies, same account. It answers "may this role call this action on this resource with this request
// context?" the way AWS does for those shapes: an explicit Deny anywhere wins; otherwise an identity Allow is
// needed, and for KMS the key policy must also allow (directly, or by delegating to the account's IAM).
// Anything it does not model (an unknown condition operator, Principal shapes other than AWS/"*") throws, so
// a new statement shape fails the proof instead of being misread.

/** One policy statement as JSON. */
export interface Statement {
    readonly Sid?: string;
    readonly Effect: "Allow" | "Deny";
    readonly Action?: string | readonly string[];
    readonly NotAction?: string | readonly string[];
    readonly Resource?: string | readonly string[];
    readonly NotResource?: string | readonly string[];
    readonly Principal?: "*" | { readonly AWS: string | readonly string[] };
    readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** A policy document. */
export interface PolicyDocument {
    readonly Version?: string;
    readonly Statement: Statement | readonly Statement[];
}

/** One API request. */
export interface Request {
    /** The caller's role ARN (`aws:PrincipalArn`). */
    readonly principalArn: string;
    readonly action: string;
    readonly resource: string;
    /** Condition keys of the request (`kms:ViaService`, `kms:EncryptionContext:...`). */
    readonly context?: Record<string, string>;
}

/** A policy element as a list (IAM allows a single string or an array). */
export const list = (v: string | readonly string[] | undefined): readonly string[] =>
    v === undefined ? [] : typeof v === "string" ? [v] : v;

/** IAM wildcard match: `*` any run (`/` and newlines included), `?` one character; case-insensitive when `ignoreCase`. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
    const re = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${re}$`, ignoreCase ? "is" : "s").test(value);
}

const statementsOf = (doc: PolicyDocument): readonly Statement[] =>
    Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement as Statement];

function conditionHolds(cond: Statement["Condition"], req: Request): boolean {
    if (!cond) return true;
    const ctx: Record<string, string> = { "aws:PrincipalArn": req.principalArn, ...req.context };
    return Object.entries(cond).every(([operator, keys]) =>
        Object.entries(keys).every(([key, expected]) => {
            const actual = ctx[key];
            const values = list(expected);
            switch (operator) {
                case "StringEquals":
                case "ArnEquals":
                    return actual !== undefined && values.includes(actual);
                case "StringLike":
                case "ArnLike":
                    return actual !== undefined && values.some((v) => globMatch(v, actual));
                case "StringNotEquals":
                case "ArnNotEquals":
                    return actual === undefined || !values.includes(actual);
                case "StringNotLike":
                case "ArnNotLike":
                    return actual === undefined || !values.some((v) => globMatch(v, actual));
                default:
                    throw new Error(`iam-eval: condition operator ${operator} is not modelled`);
            }
        }),
    );
}

/** How a key policy statement's Principal relates to the caller: named ("direct"), the account ("root"), or not. */
function principalRelation(
    p: Statement["Principal"],
    principalArn: string,
    accountId: string,
): "direct" | "root" | "none" {
    if (p === undefined) throw new Error("iam-eval: a key policy statement without Principal");
    if (p === "*") return "direct";
    if (typeof p !== "object" || !("AWS" in p))
        throw new Error(`iam-eval: principal ${JSON.stringify(p)} is not modelled`);
    const named = list(p.AWS);
    if (named.some((a) => a === "*" || a === principalArn)) return "direct";
    const root = (a: string) => a === accountId || /^arn:[^:]+:iam::(\d+):root$/.exec(a)?.[1] === accountId;
    return named.some(root) ? "root" : "none";
}

/** Whether the statement applies to the request (action, resource, condition; principal not checked). */
export function statementMatches(s: Statement, req: Request): boolean {
    const action =
        s.Action !== undefined
            ? list(s.Action).some((a) => globMatch(a, req.action, true))
            : !list(s.NotAction).some((a) => globMatch(a, req.action, true));
    if (!action) return false;
    const resource =
        s.Resource !== undefined
            ? list(s.Resource).some((r) => globMatch(r, req.resource))
            : s.NotResource !== undefined
              ? !list(s.NotResource).some((r) => globMatch(r, req.resource))
              : false;
    return resource && conditionHolds(s.Condition, req);
}

/** "Allow", "Deny" (explicit) or "None" (implicit deny) of identity policies alone. */
export function identityDecision(
    policies: readonly PolicyDocument[],
    req: Request,
): "Allow" | "Deny" | "None" {
    let allowed = false;
    for (const doc of policies)
        for (const s of statementsOf(doc)) {
            if (!statementMatches(s, req)) continue;
            if (s.Effect === "Deny") return "Deny";
            allowed = true;
        }
    return allowed ? "Allow" : "None";
}

/**
 * Whether a role may call a KMS action on a key: no explicit Deny in the identity or the key policy, and
 * either the key policy allows the role directly, or it allows the account root (delegation) and an
 * identity policy allows the request.
 */
export function kmsAllowed(
    identity: readonly PolicyDocument[],
    keyPolicy: PolicyDocument,
    accountId: string,
    req: Request,
): boolean {
    const id = identityDecision(identity, req);
    if (id === "Deny") return false;
    let direct = false;
    let delegated = false;
    for (const s of statementsOf(keyPolicy)) {
        if (!statementMatches(s, req)) continue;
        const relation = principalRelation(s.Principal, req.principalArn, accountId);
        if (relation === "none") continue;
        if (s.Effect === "Deny") return false;
        if (relation === "direct") direct = true;
        else delegated = true;
    }
    return direct || (delegated && id === "Allow");
}
