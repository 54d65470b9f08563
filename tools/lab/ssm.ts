// The lab's SSM Parameter Store (and the KMS calls SSM makes for SecureStrings), as the AWS CLI on a
// node sees it: GetParameter, GetParameters and PutParameter in the JSON 1.1 protocol, each call
// authorised by the caller's instance-role policies from the plan (tools/lab/iam.ts), with AWS's error
// codes and messages. Pure: the hub (tools/lab/hub.ts) parses the HTTP request and sends the answer.
// Not modelled: SigV4 (the caller is the node at the source address), key policies (Keelson's keys
// delegate to IAM; `alias/aws/ssm` allows every principal of the account through SSM), parameter
// policies, labels, version selectors, tags, advanced tier, throttling.
import { accessDeniedMessage, evaluate } from "./iam";
import type { HubIdentity } from "./hub";

/** The lab's AWS account (the plan's mock account: every ARN in the plan names it). */
export const ACCOUNT = "123456789012";

/** A stored parameter. */
export interface SsmParameter {
    value: string;
    type: string;
    /** KMS key of a SecureString (a key ARN); absent means `alias/aws/ssm`. */
    keyId?: string;
    /** 1 when created; each overwrite adds one. */
    version?: number;
    /** Who wrote the current value: "plan" (the lab seeded it from the plan) or a node's name. */
    writtenBy?: string;
    lastModified?: number;
    /**
     * Every put, oldest first: version, writer, time and, for a String, the value (the nodes' state
     * reports, which hold no secret); a SecureString's value is never kept here.
     */
    history?: { version: number; writtenBy: string; at: number; value?: string }[];
}

/**
 * An injected SSM failure: every call from the matching nodes fails with `code` for `durationMs`
 * from the first such call (as IAM propagation delays a new instance role's first calls).
 */
export interface SsmFault {
    readonly code: "AccessDeniedException" | "ParameterNotFound";
    readonly durationMs: number;
    /** Node names; all nodes when absent. */
    readonly nodes?: readonly string[];
    /**
     * SSM actions (`GetParameter`, ...) that fail; all when absent. IAM propagates each inline policy
     * on its own, so a role's read policy can lag behind its state-write policy.
     */
    readonly actions?: readonly string[];
    /** Set at the first matching call. */
    startedAt?: number;
}

/** What the model reads and changes. */
export interface SsmState {
    readonly region: string;
    readonly parameters: Map<string, SsmParameter>;
    readonly faults: SsmFault[];
}

/** The request fields the modelled actions read. */
export interface SsmInput {
    Name?: string;
    Names?: string[];
    WithDecryption?: boolean;
    Value?: string;
    Type?: string;
    KeyId?: string;
    Overwrite?: boolean;
    Description?: string;
}

/** The answer: HTTP status, the JSON body, and what the hub records (never a value). */
export interface SsmAnswer {
    readonly status: number;
    readonly body: Record<string, unknown>;
    readonly what: string;
}

const TYPES = ["String", "StringList", "SecureString"];
/** Standard-tier parameters hold at most 4 KB. */
export const STANDARD_MAX_VALUE = 4096;
/** AWS's managed key for SSM: its key policy allows every principal of the account, through SSM. */
const DEFAULT_KEY = "alias/aws/ssm";

/** The ARN of a parameter (names below `/` keep their slash, others get one). */
export function parameterArn(region: string, name: string): string {
    return `arn:aws:ssm:${region}:${ACCOUNT}:parameter${name.startsWith("/") ? "" : "/"}${name}`;
}

const error = (type: string, message: string, what: string, status = 400): SsmAnswer => ({
    status,
    body: { __type: type, message },
    what: `${what} -> ${type}`,
});

/**
 * Serves one SSM call: `target` is the X-Amz-Target header (`AmazonSSM.PutParameter`). Order as AWS:
 * the caller's identity, IAM on the parameter, validation, existence, the KMS call for a SecureString.
 * Every other action is refused: AccessDenied when the role has no right to it (as AWS would answer),
 * else `UnknownOperationException` naming the lab, so a node's new SSM call fails loudly here.
 */
export function ssmCall(
    state: SsmState,
    id: HubIdentity | undefined,
    target: string,
    input: SsmInput,
    node: string,
    now = Date.now(),
): SsmAnswer {
    const action = target.startsWith("AmazonSSM.") ? target.slice("AmazonSSM.".length) : "";
    const names = action === "GetParameters" ? (input.Names ?? []) : [input.Name ?? ""];
    const what = `${action || target || "(no target)"} ${names.join(",")}`;
    if (!action) return error("UnknownOperationException", "", what);
    const fault = state.faults.find((f) => {
        if (f.nodes && !f.nodes.includes(node)) return false;
        if (f.actions && !f.actions.includes(action)) return false;
        f.startedAt ??= now;
        return now < f.startedAt + f.durationMs;
    });
    const principal = `arn:aws:sts::${ACCOUNT}:assumed-role/${id?.role}/${id?.instanceId}`;
    if (fault) {
        const message =
            fault.code === "AccessDeniedException"
                ? accessDeniedMessage(
                      principal,
                      `ssm:${action}`,
                      parameterArn(state.region, names[0]),
                      "implicit-deny",
                  )
                : "";
        return { ...error(fault.code, message, what), what: `${what} -> ${fault.code} (injected)` };
    }
    if (!id)
        return error(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            what,
        );
    for (const n of names) {
        const arn = parameterArn(state.region, n);
        const d = evaluate(id.policies, `ssm:${action}`, arn);
        if (d !== "allow")
            return error(
                "AccessDeniedException",
                accessDeniedMessage(principal, `ssm:${action}`, arn, d),
                what,
            );
    }
    // The KMS call SSM makes with the caller's credentials (encryption context: the parameter ARN).
    const kms = (op: "Decrypt" | "Encrypt", name: string, key: string | undefined): SsmAnswer | undefined => {
        if (!key || key === DEFAULT_KEY || key === `alias/aws/ssm`) return undefined;
        const context = {
            "kms:ViaService": `ssm.${state.region}.amazonaws.com`,
            "kms:EncryptionContext:PARAMETER_ARN": parameterArn(state.region, name),
        };
        const d = evaluate(id.policies, `kms:${op}`, key, context);
        if (d === "allow") return undefined;
        return error(
            "AccessDeniedException",
            `${accessDeniedMessage(principal, `kms:${op}`, key, d)} (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)`,
            what,
        );
    };
    if (action === "GetParameter" || action === "GetParameters") {
        if (action === "GetParameters" && (names.length < 1 || names.length > 10))
            return error(
                "ValidationException",
                `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10`,
                what,
            );
        const found = names.map((n) => ({ n, p: state.parameters.get(n) }));
        for (const f of found)
            if (f.p?.type === "SecureString" && input.WithDecryption) {
                const denied = kms("Decrypt", f.n, f.p.keyId);
                if (denied) return denied;
            }
        const param = (n: string, p: SsmParameter) => ({
            Name: n,
            Type: p.type,
            Value: p.type === "SecureString" && !input.WithDecryption ? "AQICAH-lab-ciphertext" : p.value,
            Version: p.version ?? 1,
            LastModifiedDate: (p.lastModified ?? now) / 1000,
            ARN: parameterArn(state.region, n),
            DataType: "text",
        });
        if (action === "GetParameter") {
            const f = found[0];
            if (!f.p) return error("ParameterNotFound", "", what);
            return { status: 200, body: { Parameter: param(f.n, f.p) }, what };
        }
        return {
            status: 200,
            body: {
                Parameters: found.filter((f) => f.p).map((f) => param(f.n, f.p!)),
                InvalidParameters: found.filter((f) => !f.p).map((f) => f.n),
            },
            what,
        };
    }
    if (action === "PutParameter") return put(state, input, node, now, what, kms);
    return error(
        "UnknownOperationException",
        `lab stub: ssm:${action} is allowed to ${id.role} but not modelled by the lab's SSM (tools/lab/ssm.ts)`,
        what,
    );
}

function put(
    state: SsmState,
    input: SsmInput,
    node: string,
    now: number,
    what: string,
    kms: (op: "Encrypt", name: string, key: string | undefined) => SsmAnswer | undefined,
): SsmAnswer {
    const name = input.Name ?? "";
    const value = input.Value ?? "";
    const invalid = (m: string) => error("ValidationException", m, what);
    if (!name)
        return invalid(
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        );
    if (!value)
        return invalid(
            `1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1`,
        );
    if (input.Type !== undefined && !TYPES.includes(input.Type))
        return invalid(
            `1 validation error detected: Value '${input.Type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
        );
    if (value.length > STANDARD_MAX_VALUE)
        return invalid(
            `Standard tier parameters support a maximum parameter value of ${STANDARD_MAX_VALUE} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`,
        );
    const old = state.parameters.get(name);
    if (old && !input.Overwrite)
        return error(
            "ParameterAlreadyExists",
            "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.",
            what,
        );
    const type = input.Type ?? old?.type;
    if (!type) return invalid("A parameter type is required when you create a parameter.");
    if (input.KeyId && type !== "SecureString")
        return invalid("KeyId is required for SecureString type parameter only.");
    // Without KeyId, a SecureString is encrypted with alias/aws/ssm, also on overwrite.
    const keyId = type === "SecureString" ? input.KeyId : undefined;
    if (type === "SecureString") {
        const denied = kms("Encrypt", name, keyId);
        if (denied) return denied;
    }
    const version = (old?.version ?? (old ? 1 : 0)) + 1;
    const history = [
        ...(old?.history ?? []),
        { version, writtenBy: node, at: now, ...(type === "String" ? { value } : {}) },
    ];
    state.parameters.set(name, { value, type, keyId, version, writtenBy: node, lastModified: now, history });
    return {
        status: 200,
        body: { Version: version, Tier: "Standard" },
        what: `${what} (version ${version})`,
    };
}
