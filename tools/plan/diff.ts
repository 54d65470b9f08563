// Differences between two offline plans (e.g. the base branch's and the pull request's), by URN.

/** A resource as `--json` writes it (plan.json). */
export interface PlanJsonResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string | null;
    readonly dependencies?: readonly string[];
    readonly inputs: Record<string, unknown>;
}

/** The part of a `--json` plan the diff and the markdown summary read. */
export interface PlanJson {
    readonly stack: string;
    readonly resources: readonly PlanJsonResource[];
}

/** A resource that exists in only one of the plans. */
export interface ResourceRef {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
}

/** A resource in both plans whose inputs differ. */
export interface ResourceChange extends ResourceRef {
    /** Changed input/manifest fields as paths (`spec.replicas`, `spec.template.spec.containers[0].image`), sorted. */
    readonly fields: readonly string[];
}

/** What a new plan adds, changes and removes relative to an old one; each list sorted by URN. */
export interface PlanDiff {
    readonly added: readonly ResourceRef[];
    readonly changed: readonly ResourceChange[];
    readonly removed: readonly ResourceRef[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * The paths at which two values differ: object keys joined with dots, array items as `[i]`. A
 * value whose kind changes (object to string, array to object) is reported at its own path.
 * Masked secrets compare equal, so a changed secret does not show.
 */
export function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    if (isObject(a) && isObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap((k) => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        const out: string[] = [];
        for (let i = 0; i < Math.max(a.length, b.length); i++)
            out.push(...changedPaths(a[i], b[i], `${prefix}[${i}]`));
        return out;
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || "(value)"];
}

const ref = (r: PlanJsonResource): ResourceRef => ({ urn: r.urn, type: r.type, name: r.name });
const byUrn = (x: ResourceRef, y: ResourceRef) => (x.urn < y.urn ? -1 : x.urn > y.urn ? 1 : 0);

/** Lists the resources added, changed (with their changed fields) and removed between two plans. */
export function diffPlans(oldPlan: PlanJson, newPlan: PlanJson): PlanDiff {
    const before = new Map(oldPlan.resources.map((r) => [r.urn, r]));
    const after = new Map(newPlan.resources.map((r) => [r.urn, r]));
    const added = newPlan.resources.filter((r) => !before.has(r.urn)).map(ref);
    const removed = oldPlan.resources.filter((r) => !after.has(r.urn)).map(ref);
    const changed: ResourceChange[] = [];
    for (const r of newPlan.resources) {
        const old = before.get(r.urn);
        if (!old) continue;
        const fields = changedPaths(old.inputs, r.inputs);
        if (fields.length > 0) changed.push({ ...ref(r), fields });
    }
    return { added: added.sort(byUrn), changed: changed.sort(byUrn), removed: removed.sort(byUrn) };
}
