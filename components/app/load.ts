// The declarative application: a service file (YAML, or the stage config's `keelson:app.services`) loaded
// into the same typed graph the TypeScript API builds. Names are resolved to service objects here, in
// dependency order, so an unknown name or a cycle is a load error and the result is ordinary Services.
import * as pulumi from "@pulumi/pulumi";
import { Problem as ConfigProblem } from "../core/problems";
import { Report, check, checkObject, problemMessage } from "./spec-check";
import { KIND_FIELDS, KIND_REQUIRED } from "./spec-fields";
import { ArgsByKind, Service, ServiceKind } from "./types";

type Obj = Record<string, unknown>;

/** What a loaded file needs from its surroundings. */
export interface LoadContext {
    /** Prefix of every problem key: `app.` for the stage config, `<file>:` for a file. */
    readonly prefix: string;
    /** Values of `${name}` placeholders. A placeholder that is the whole value keeps the value's type. */
    readonly vars?: Readonly<Record<string, unknown>>;
    /** The value of secret `<name>` (config key `keelson:secret-<name>`), or undefined when it is not set. */
    readonly secret?: (name: string) => pulumi.Input<string> | undefined;
}

/** A loaded application. */
export interface LoadedApp {
    /** Every service, each dependency before its dependents; empty when there are problems. */
    readonly services: readonly Service[];
    /** The services no other service refers to, in declaration order. */
    readonly roots: readonly Service[];
    readonly namespace?: string;
    /** Secret names the services read (`secretEnv` values). */
    readonly secrets: readonly string[];
    readonly problems: readonly ConfigProblem[];
}

/** The kinds a file may declare. */
export const KINDS = Object.keys(KIND_FIELDS) as ServiceKind[];

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Replaces `${name}` placeholders; a whole-value placeholder keeps its type (`null` removes the key). */
export function interpolate(
    value: unknown,
    vars: Readonly<Record<string, unknown>>,
    key: string,
    report: Report,
): unknown {
    if (typeof value === "string") {
        const unknown = [...value.matchAll(PLACEHOLDER)].map((m) => m[1]).filter((n) => !(n in vars));
        if (unknown.length > 0) {
            const known = Object.keys(vars);
            report(
                key,
                value,
                `uses \${${unknown[0]}}, which is not defined; define it in keelson:app.vars${known.length ? ` (defined: ${known.join(", ")})` : ""}`,
            );
            return value;
        }
        const whole = WHOLE.exec(value);
        if (whole) return vars[whole[1]];
        return value.replace(PLACEHOLDER, (_, n: string) => String(vars[n]));
    }
    if (Array.isArray(value)) return value.map((v, i) => interpolate(v, vars, `${key}[${i}]`, report));
    if (typeof value === "object" && value !== null) {
        const out: Obj = {};
        for (const [k, v] of Object.entries(value as Obj)) {
            const x = interpolate(v, vars, key ? `${key}.${k}` : k, report);
            if (x !== null && x !== undefined) out[k] = x;
        }
        return out;
    }
    return value;
}

/** Deep merge of `over` onto `base`: mappings merge, anything else replaces, `null` removes the key. */
export function mergeSpecs(base: unknown, over: unknown): unknown {
    const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
    if (!isObj(base) || !isObj(over)) return over === undefined ? base : over;
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
        if (v === null) delete out[k];
        else out[k] = mergeSpecs(base[k], v);
    }
    return out;
}

/** The names a service refers to, with the key each reference sits at. */
function references(spec: Obj, at: string): { name: string; key: string }[] {
    const out: { name: string; key: string }[] = [];
    ((spec.connects as unknown[]) ?? []).forEach((c, i) => {
        const name = typeof c === "string" ? c : ((c as Obj).to as string);
        out.push({ name, key: `${at}.connects[${i}]` });
    });
    ((spec.after as string[]) ?? []).forEach((name, i) => out.push({ name, key: `${at}.after[${i}]` }));
    const backup = spec.backup as Obj | undefined;
    if (backup?.to !== undefined) out.push({ name: backup.to as string, key: `${at}.backup.to` });
    return out;
}

/**
 * Loads `doc` (`{ namespace?, services: { <name>: { kind, ... } } }`) into Services. Every problem is
 * reported (types, unknown keys with a did-you-mean, unknown service names with the list of services,
 * cycles with their path); semantic checks are `validateApplication`'s, run on the result.
 */
export function loadApplication(doc: unknown, ctx: LoadContext): LoadedApp {
    const problems: ConfigProblem[] = [];
    const report: Report = (key, value, fix) => {
        const k = `${ctx.prefix}${key}`;
        problems.push({ key: k, value, message: problemMessage(k, value, fix) });
    };
    const none = (): LoadedApp => ({ services: [], roots: [], secrets: [], problems });
    const data = interpolate(doc, ctx.vars ?? {}, "", report);
    if (problems.length > 0) return none();
    if (
        !checkObject((data ?? {}) as Obj, { namespace: "string", services: { map: "json" } }, "", report, [
            "services",
        ])
    )
        return none();
    const top = data as { namespace?: string; services: Record<string, unknown> };
    const specs: Record<string, Obj> = {};
    for (const [name, raw] of Object.entries(top.services)) {
        const at = `services.${name}`;
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
            report(at, raw, "is not a mapping; write the service as kind: <kind> plus its fields");
            continue;
        }
        if (!check((raw as Obj).kind, { oneOf: KINDS }, `${at}.kind`, () => undefined)) {
            const kinds = KINDS.map((k) => `"${k}"`).join(", ");
            report(`${at}.kind`, (raw as Obj).kind, `is not a service kind; use one of ${kinds}`);
            continue;
        }
        const spec = raw as Obj;
        const kind = spec.kind as ServiceKind;
        const fields = { kind: "string" as const, ...KIND_FIELDS[kind] };
        if (!checkObject(spec, fields, at, report, KIND_REQUIRED[kind] ?? [], ` for a ${kind}`)) continue;
        const rest: Obj = { ...spec };
        delete rest.kind;
        Object.defineProperty(rest, "__kind", { value: kind, enumerable: false });
        specs[name] = rest;
    }
    if (problems.length > 0) return none();

    // Every reference names a declared service; then build in dependency order, refusing cycles with their path.
    const names = Object.keys(specs);
    for (const name of names) {
        for (const ref of references(specs[name], `services.${name}`)) {
            if (!(ref.name in specs))
                report(
                    ref.key,
                    ref.name,
                    `is not a service of this application; use one of ${names.join(", ")}`,
                );
        }
    }
    if (problems.length > 0) return none();
    const built = new Map<string, Service>();
    const secrets: string[] = [];
    const onPath: string[] = [];
    const build = (name: string): Service | undefined => {
        const done = built.get(name);
        if (done) return done;
        const at = onPath.indexOf(name);
        if (at >= 0) {
            const cycle = [...onPath.slice(at), name];
            report(
                `services.${cycle[0]}`,
                cycle.join(" -> "),
                `is a cycle; a dependency must not depend on its dependent (remove one of these edges)`,
            );
            return undefined;
        }
        onPath.push(name);
        const spec = specs[name];
        const refs = references(spec, `services.${name}`).map((r) => build(r.name));
        onPath.pop();
        if (refs.some((r) => r === undefined)) return undefined;
        const service = new Service(
            kindOf(spec),
            name,
            argsOf(spec, built, ctx, secrets) as ArgsByKind[ServiceKind],
        );
        built.set(name, service);
        return service;
    };
    for (const name of names) if (build(name) === undefined) return none();
    const referenced = new Set(names.flatMap((n) => references(specs[n], "").map((r) => r.name)));
    return {
        services: [...built.values()],
        roots: names.filter((n) => !referenced.has(n)).map((n) => built.get(n) as Service),
        namespace: top.namespace,
        secrets: [...new Set(secrets)],
        problems,
    };
}

function kindOf(spec: Obj): ServiceKind {
    return (spec as unknown as { __kind: ServiceKind }).__kind;
}

/** The TypeScript args of one spec: names replaced by the (already built) service objects. */
function argsOf(spec: Obj, built: Map<string, Service>, ctx: LoadContext, secrets: string[]): Obj {
    const args: Obj = { ...spec };
    const svc = (name: string) => built.get(name) as Service;
    if (spec.connects)
        args.connects = (spec.connects as unknown[]).map((c) =>
            typeof c === "string" ? svc(c) : { ...(c as Obj), to: svc((c as Obj).to as string) },
        );
    if (spec.after) args.after = (spec.after as string[]).map(svc);
    if (spec.backup) args.backup = { ...(spec.backup as Obj), to: svc((spec.backup as Obj).to as string) };
    if (spec.secretEnv) {
        const env: Record<string, pulumi.Input<string>> = {};
        for (const [k, name] of Object.entries(spec.secretEnv as Record<string, string>)) {
            secrets.push(name);
            env[k] = ctx.secret?.(name) ?? "";
        }
        args.secretEnv = env;
    }
    return args;
}
