// The shape of an offline plan, shared by the plan CLI, the score, the cost estimate, the policy pack and the diff.

/** One registered resource, as the mock engine saw it. */
export interface PlanResource {
    readonly urn: string;
    /** Pulumi type token, e.g. `aws:ec2/instance:Instance` or `keelson:cluster:Cluster`. */
    readonly type: string;
    readonly name: string;
    /** URN of the parent resource, if any. */
    readonly parent?: string;
    /** URNs this resource depends on (dependsOn plus every input's dependencies), sorted. */
    readonly dependencies: string[];
    /** Inputs as registered, every secret value replaced by `"[secret]"`. */
    readonly inputs: Record<string, unknown>;
    /** False for component resources. */
    readonly custom: boolean;
    /** The resource options that decide what `pulumi up` does with a change (absent when none is set). */
    readonly options?: ResourceOptionsRecord;
}

/** The resource options a plan records: they decide whether a change updates, replaces or is ignored. */
export interface ResourceOptionsRecord {
    readonly ignoreChanges?: readonly string[];
    readonly replaceOnChanges?: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    readonly protect?: boolean;
}

/** A rendered file written under `out/<stage>/`. */
export interface PlanArtifact {
    readonly path: string;
    /** `"[secret]"` when the content is a secret. */
    readonly content: string;
}

/** The result of running a stage's program under the mock engine. */
export interface PlanResult {
    readonly stack: string;
    readonly resources: PlanResource[];
    /** Stack outputs, secrets masked as `"[secret]"`. */
    readonly outputs: Record<string, unknown>;
    readonly artifacts: PlanArtifact[];
}

/** The marker every secret value is replaced with in plan output. */
export const SECRET_MASK = "[secret]";

/** The marker for a value unknown until the resource is created (in `--preview` plans). */
export const UNKNOWN_MASK = "[unknown]";
