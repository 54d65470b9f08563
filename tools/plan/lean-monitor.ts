// A lighter registerResource for the SDK's MockMonitor: the same answer, without building a protobuf
// Struct for every resource's state and reading it back.
//
// @pulumi/pulumi's MockMonitor.registerResource (runtime/mocks.js, pinned 3.248) deserializes the request,
// awaits the mocks, runs serializeProperties over the returned state (a promise per property), stores it,
// and answers with a RegisterResourceResponse whose object is `Struct.fromJavaScript(state)`; the SDK then
// reads that Struct back with `toJavaScript()` (runtime/rpc.js deserializeProperties) and only calls
// getUrn, getId, getObject, getPropertydependenciesMap and getResult on the response (runtime/resource.js).
// Keelson's mocks return plain JSON data (secrets already in the SDK's serialized signature form), for which serializeProperties and the Struct round trip are the identity: so this answers with
// the state itself behind the same five getters, and falls back to serializeProperties for any state that
// is not plain data. tools/plan's runtime test plans every shipped stage both ways and compares them whole.
//
// The requests go the other way: the SDK builds every RegisterResourceRequest's object, every invoke's
// arguments and every component's outputs with `Struct.fromJavaScript` (runtime/resource.js, invoke.js) and
// the mock monitor reads them back with `toJavaScript()`, in the same process: a protobuf Value per
// property, built and read once. While a plan runs, {@link useLeanStructs} makes `fromJavaScript` of plain
// data return a Struct that answers `toJavaScript()` with that data and builds its protobuf fields only when
// something else reads them (`getFieldsMap`, `serializeBinary`, `toObject`).
import * as path from "path";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, serializeProperties } from "@pulumi/pulumi/runtime/rpc";

type Obj = Record<string, unknown>;
type Callback = (err: unknown, resp: unknown) => void;

/** What registerResource reads of a request (a pulumirpc.RegisterResourceRequest). */
export interface LeanRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getImportid(): string;
    getObject(): unknown;
}

/** The mocks' answer (pulumi.runtime.Mocks.newResource), synchronous in Keelson's mocks. */
type NewResource = (args: {
    type: string;
    name: string;
    inputs: Obj;
    provider?: string;
    custom?: boolean;
    id?: string;
}) => { id: string | undefined; state: Obj } | Promise<{ id: string | undefined; state: Obj }>;

/**
 * True when `v` is JSON-like data: primitives, arrays and plain objects, no `undefined` anywhere.
 * Exactly the values that serializeProperties and a protobuf Struct round trip leave unchanged.
 */
export function isPlainData(v: unknown): boolean {
    if (v === null) return true;
    const t = typeof v;
    if (t === "string" || t === "boolean") return true;
    if (t === "number") return Number.isFinite(v);
    if (Array.isArray(v)) return v.every(isPlainData);
    if (t === "object" && Object.getPrototypeOf(v) === Object.prototype)
        return Object.values(v as Obj).every(isPlainData);
    return false;
}

/** A struct-like object whose `toJavaScript()` returns the state, as the SDK reads a response's object. */
function structOf(state: Obj): { toJavaScript(): Obj } {
    return { toJavaScript: () => state };
}

/**
 * Replaces `monitor.registerResource` by the lean one (MockRunOptions.monitor "sdk" keeps the SDK's, to compare).
 * The monitor still records every resource in its `resources` map (read by its `pulumi:pulumi:getResource`
 * invoke and registerResourceOutputs), with the same URN and state as the SDK's version stores.
 */
export function useLeanRegister(monitor: MockMonitor, newResource: NewResource): void {
    const m = monitor as unknown as {
        newUrn(parent: string, type: string, name: string): string;
        resources: Map<string, { urn: string; id: string | null; state: unknown }>;
        registerResource: (req: LeanRequest, cb: Callback) => Promise<void>;
    };
    m.registerResource = async (req: LeanRequest, callback: Callback) => {
        try {
            const result = await newResource({
                type: req.getType(),
                name: req.getName(),
                inputs: deserializeProperties(req.getObject() as Parameters<typeof deserializeProperties>[0]),
                provider: req.getProvider(),
                custom: req.getCustom(),
                id: req.getImportid(),
            });
            const urn = m.newUrn(req.getParent(), req.getType(), req.getName());
            const state = isPlainData(result.state)
                ? result.state
                : ((await serializeProperties("", result.state)) as Obj);
            m.resources.set(urn, { urn, id: result.id ?? null, state });
            const object = structOf(state);
            callback(null, {
                getUrn: () => urn,
                getId: () => result.id || "",
                getObject: () => object,
                getPropertydependenciesMap: () => undefined,
                getResult: () => 0, // pulumirpc.Result.SUCCESS
            });
        } catch (err) {
            callback(err, undefined);
        }
    };
}

/** The SDK's own copy of google-protobuf's struct_pb (the module its runtime builds requests with). */
export function sdkStructModule(): typeof structPb {
    const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(
        require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdk] }),
    ) as typeof structPb;
}

/** The Struct methods that read its protobuf fields: each builds them from the data first. */
const FIELD_READERS = ["getFieldsMap", "serializeBinary", "toObject", "clearFieldsMap"] as const;

/**
 * Makes `Struct.fromJavaScript` lazy for plain data ({@link isPlainData}) until the returned function is
 * called: the Struct it returns is a real (empty) Struct whose `toJavaScript()` returns the data itself (the
 * same values the protobuf round trip gives for plain data) and whose field readers first fill its fields
 * map as `fromJavaScript` would have. Anything else goes to the SDK's `fromJavaScript`. Only for the mock
 * engine: nothing is sent over the wire, and `toArray()` (what a parent message keeps) stays empty until
 * a field reader has run.
 */
export function useLeanStructs(): () => void {
    const { Struct, Value } = sdkStructModule();
    const original = Struct.fromJavaScript;
    Struct.fromJavaScript = (value: { [key: string]: structPb.JavaScriptValue }) => {
        if (!isPlainData(value)) return original.call(Struct, value);
        const struct = new Struct();
        let filled = false;
        const fill = () => {
            if (filled) return;
            filled = true;
            const fields = Struct.prototype.getFieldsMap.call(struct);
            for (const [k, v] of Object.entries(value)) fields.set(k, Value.fromJavaScript(v));
        };
        const own = struct as unknown as Record<string, unknown>;
        own.toJavaScript = () => value;
        for (const name of FIELD_READERS) {
            const read = (Struct.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
            own[name] = (...args: unknown[]) => {
                fill();
                return read.apply(struct, args);
            };
        }
        return struct;
    };
    return () => {
        Struct.fromJavaScript = original;
    };
}
