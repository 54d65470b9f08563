// Differences between two offline plans (e.g. the base branch's and the pull request's) as `pulumi preview`
// would report them: resources created, updated in place, replaced, deleted, and changes ignored.
//
// The engine's rules (pulumi/pulumi pkg/resource/deploy/step_generator.go, and the docs of the options):
// - `ignoreChanges` paths take the old value before diffing, so changes under them are never an update;
// - a change under a `replaceOnChanges` path (`*` for any) replaces, as does a change the provider marks
//   replace-on-change (tools/plan/replacements.ts); other changes update in place;
// - a replacement creates the new resource before deleting the old one, unless `deleteBeforeReplace` is
//   set, or the provider asks for it because the physical name was set explicitly (it cannot exist twice).
import { AWS_NAME_RULES } from "./mock-names";
import { pathCovered, providerReplaceFields } from "./replacements";
import { ResourceOptionsRecord } from "./types";

/** A resource as `--json` writes it (plan.json). */
export interface PlanJsonResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string | null;
    readonly dependencies?: readonly string[];
    readonly inputs: Record<string, unknown>;
    /** False for component resources (plans written before this field count every resource). */
    readonly custom?: boolean;
    readonly options?: ResourceOptionsRecord;
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

/** A resource `pulumi up` would replace. */
export interface ResourceReplacement extends ResourceChange {
    /** Why, one entry per field that forces it (`ami: the provider replaces on this field`). */
    readonly reasons: readonly string[];
    /** The old resource is deleted before the new one is created (a gap in service). */
    readonly deleteBeforeReplace: boolean;
}

/** What a new plan adds, updates, replaces and removes relative to an old one; each list sorted by URN. */
export interface PlanDiff {
    readonly added: readonly ResourceRef[];
    readonly updated: readonly ResourceChange[];
    readonly replaced: readonly ResourceReplacement[];
    readonly removed: readonly ResourceRef[];
    /** Resources whose only changes are under `ignoreChanges`: unchanged for `pulumi up`. */
    readonly ignored: readonly ResourceChange[];
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

/** Whether the provider deletes first on replacement: the physical name was given, not autonamed. */
function providerDeletesFirst(r: PlanJsonResource): boolean {
    if (r.type.startsWith("kubernetes:")) {
        const meta = r.inputs.metadata as { name?: unknown } | undefined;
        return typeof meta?.name === "string";
    }
    const rule = AWS_NAME_RULES[r.type];
    return rule !== undefined && typeof r.inputs[rule.field] === "string";
}

/** Classifies one resource present in both plans. */
function classify(
    old: PlanJsonResource,
    r: PlanJsonResource,
): { kind: "same" | "ignored" | "updated" | "replaced"; change?: ResourceChange | ResourceReplacement } {
    const all = changedPaths(old.inputs, r.inputs);
    if (all.length === 0) return { kind: "same" };
    const ignore = r.options?.ignoreChanges ?? [];
    const fields = all.filter((f) => !ignore.some((rule) => pathCovered(f, rule)));
    if (fields.length === 0) return { kind: "ignored", change: { ...ref(r), fields: all } };
    const reasons: string[] = [];
    const byOption = r.options?.replaceOnChanges ?? [];
    const byProvider = providerReplaceFields(r.type, r.inputs);
    for (const f of fields) {
        const option = byOption.find((rule) => pathCovered(f, rule));
        if (option !== undefined) reasons.push(`${f}: replaceOnChanges ${JSON.stringify(option)}`);
        else if (byProvider.some((rule) => pathCovered(f, rule)))
            reasons.push(`${f}: the provider replaces ${r.type} on this field`);
    }
    if (reasons.length === 0) return { kind: "updated", change: { ...ref(r), fields } };
    const deleteBeforeReplace = r.options?.deleteBeforeReplace === true || providerDeletesFirst(r);
    return { kind: "replaced", change: { ...ref(r), fields, reasons, deleteBeforeReplace } };
}

/** Lists what `pulumi up` would do to go from the old plan's resources to the new plan's. */
export function diffPlans(oldPlan: PlanJson, newPlan: PlanJson): PlanDiff {
    const before = new Map(oldPlan.resources.map((r) => [r.urn, r]));
    const after = new Map(newPlan.resources.map((r) => [r.urn, r]));
    const added = newPlan.resources.filter((r) => !before.has(r.urn)).map(ref);
    const removed = oldPlan.resources.filter((r) => !after.has(r.urn)).map(ref);
    const updated: ResourceChange[] = [];
    const replaced: ResourceReplacement[] = [];
    const ignored: ResourceChange[] = [];
    for (const r of newPlan.resources) {
        const old = before.get(r.urn);
        if (!old) continue;
        const { kind, change } = classify(old, r);
        if (kind === "updated") updated.push(change as ResourceChange);
        else if (kind === "replaced") replaced.push(change as ResourceReplacement);
        else if (kind === "ignored") ignored.push(change as ResourceChange);
    }
    return {
        added: added.sort(byUrn),
        updated: updated.sort(byUrn),
        replaced: replaced.sort(byUrn),
        removed: removed.sort(byUrn),
        ignored: ignored.sort(byUrn),
    };
}

/** The diff as `--json` prints it: URNs for added and removed, URN and fields for the others. */
export function diffJson(diff: PlanDiff): Record<string, unknown> {
    return {
        added: diff.added.map((r) => r.urn),
        updated: diff.updated.map((r) => ({ urn: r.urn, fields: r.fields })),
        replaced: diff.replaced.map((r) => ({
            urn: r.urn,
            fields: r.fields,
            reasons: r.reasons,
            deleteBeforeReplace: r.deleteBeforeReplace,
        })),
        removed: diff.removed.map((r) => r.urn),
        ignored: diff.ignored.map((r) => ({ urn: r.urn, fields: r.fields })),
    };
}

/** The diff as text lines, in `pulumi preview`'s symbols: + create, ~ update, +- replace, - delete. */
export function renderDiffText(diff: PlanDiff, against: string): string[] {
    const lines = [
        `Changes against ${against}: ${diff.added.length} to create, ${diff.updated.length} to update, ` +
            `${diff.replaced.length} to replace, ${diff.removed.length} to delete` +
            (diff.ignored.length ? `, ${diff.ignored.length} unchanged (ignoreChanges)` : ""),
    ];
    for (const r of diff.added) lines.push(`  +  ${r.type} ${r.name}`);
    for (const r of diff.updated) lines.push(`  ~  ${r.type} ${r.name}: ${r.fields.join(", ")}`);
    for (const r of diff.replaced) {
        const order = r.deleteBeforeReplace ? "delete, then create" : "create, then delete";
        lines.push(`  +- ${r.type} ${r.name} (${order}): ${r.reasons.join("; ")}`);
        const other = r.fields.filter((f) => !r.reasons.some((x) => x.startsWith(`${f}:`)));
        if (other.length) lines.push(`       also changed: ${other.join(", ")}`);
    }
    for (const r of diff.removed) lines.push(`  -  ${r.type} ${r.name}`);
    for (const r of diff.ignored)
        lines.push(`  =  ${r.type} ${r.name}: ignored changes to ${r.fields.join(", ")}`);
    if (lines.length === 1) lines.push("  no changes");
    return lines;
}
