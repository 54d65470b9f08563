// Runs a Pulumi program under the mock engine and records every registration: the heart of the offline
// plan and of every mocked component test.
import * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "@pulumi/pulumi/output";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as settingsModule from "@pulumi/pulumi/runtime/settings";
import * as stateModule from "@pulumi/pulumi/runtime/state";
import { collectArtifacts } from "./artifacts";
import { useLeanRegister, useLeanStructs } from "./lean-monitor";
import { MockCloud, mockInvoke, mockResourceState } from "./mock-state";
import { skipProviderSerialization } from "./provider-code";
import { PlanArtifact, PlanResource, SECRET_MASK, UNKNOWN_MASK } from "./types";

/** A registration with its unmasked inputs, for tests that must see secret values. */
export interface RecordedResource extends PlanResource {
    /** Inputs with secret values unwrapped. Never print these. */
    readonly rawInputs: Record<string, unknown>;
    /** The provider reference the registration names (`<provider urn>::<id>`), empty for the default. */
    readonly provider: string;
}

/** Options of one mocked run. */
export interface MockRunOptions {
    /** Stack name. Default `test`. */
    readonly stack?: string;
    /** Project name. Default `keelson`. */
    readonly project?: string;
    /** Config map with fully qualified keys (`keelson:cluster`, `aws:region`); objects are JSON-encoded. */
    readonly config?: Record<string, unknown>;
    /** Config keys whose values are secrets. */
    readonly secretKeys?: string[];
    /**
     * See the resources as a first `pulumi preview` does: attributes the provider computes at creation
     * (ids, ARNs, IPs, keys) are unknown, and so is everything derived from them. Default false: every
     * attribute has a deterministic mock value, so that artifacts can be rendered and reviewed.
     */
    readonly preview?: boolean;
    /**
     * Which registerResource answers: "lean" (tools/plan/lean-monitor.ts: the same answer without the
     * protobuf round trip of every state and request) or the SDK's own MockMonitor and Structs ("sdk", for
     * comparing). Default lean.
     */
    readonly monitor?: "lean" | "sdk";
}

/** What a mocked run produced. */
export interface MockRun<T> {
    /** Every registered resource in registration order. */
    readonly resources: RecordedResource[];
    /** The program's return value with every Output resolved; secrets masked as `"[secret]"`. */
    readonly outputs: T extends Record<string, unknown> ? Record<keyof T, unknown> : Record<string, unknown>;
    /** Names of the outputs that are secrets. */
    readonly secretOutputs: string[];
    /** Rendered artifacts; secret ones masked. */
    readonly artifacts: PlanArtifact[];
}

type Obj = Record<string, unknown>;

// The SDK's public setMocks installs its MockMonitor; recording needs what the Mocks interface does not
// pass (parent, dependencies, resource options), so the monitor's registerResource is wrapped. Two
// @internal functions remain (absent from the .d.ts, stable in the pinned @pulumi/pulumi): getMonitor, and
// waitForRPCs, which drains the registrations still in flight.
const settings = settingsModule as unknown as {
    getMonitor(): MockMonitor | undefined;
    waitForRPCs(): Promise<void>;
};

function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Obj)[specialSigKey] === specialSecretSig;
}

/** Replaces secret-wrapped values by the mask (`unwrap` false) or by their plain value (`unwrap` true). */
function transformSecrets(v: unknown, unwrap: boolean): unknown {
    if (isSecretValue(v)) return unwrap ? transformSecrets(v.value, true) : SECRET_MASK;
    if (isUnknown(v)) return UNKNOWN_MASK;
    if (Array.isArray(v)) return v.map((x) => transformSecrets(x, unwrap));
    if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
        const out: Obj = {};
        for (const [k, x] of Object.entries(v as Obj)) out[k] = transformSecrets(x, unwrap);
        return out;
    }
    return v;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getObject(): unknown;
    getDependenciesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getDeletebeforereplace(): boolean;
    getProtect(): boolean;
}

type Callback = (err: unknown, resp: unknown) => void;

/** The SDK's mock monitor, wrapped to record each registration's parent, dependencies, inputs and options. */
class Recorder {
    readonly recorded: RecordedResource[] = [];
    /** The registration in progress: its URN and additionalSecretOutputs (the mocks read them). */
    current: { urn: string; secretOutputs: string[]; inputs?: Obj } = { urn: "", secretOutputs: [] };
    /** Component outputs registered under `artifacts`, by component URN. */
    readonly componentOutputs = new Map<string, unknown>();

    constructor(readonly monitor: MockMonitor) {
        const register = monitor.registerResource.bind(monitor) as (
            r: RegisterRequest,
            cb: Callback,
        ) => unknown;
        const registerOutputs = monitor.registerResourceOutputs.bind(monitor) as (
            r: { getUrn(): string; getOutputs(): unknown },
            cb: Callback,
        ) => unknown;
        const m = monitor as unknown as Record<string, unknown>;
        m.registerResource = (req: RegisterRequest, cb: Callback) => this.register(req, cb, register);
        m.registerResourceOutputs = (req: { getUrn(): string; getOutputs(): unknown }, cb: Callback) => {
            const outputs = req.getOutputs() as { toJavaScript?(): Obj } | undefined;
            const artifacts = outputs?.toJavaScript?.().artifacts;
            if (artifacts !== undefined) this.componentOutputs.set(req.getUrn(), artifacts);
            return registerOutputs(req, cb);
        };
    }

    private register(
        req: RegisterRequest,
        callback: Callback,
        register: (r: RegisterRequest, cb: Callback) => unknown,
    ) {
        this.current = {
            urn: (this.monitor as unknown as { newUrn(p: string, t: string, n: string): string }).newUrn(
                req.getParent(),
                req.getType(),
                req.getName(),
            ),
            secretOutputs: req.getAdditionalsecretoutputsList(),
        };
        const options = {
            ...(req.getIgnorechangesList().length ? { ignoreChanges: req.getIgnorechangesList() } : {}),
            ...(req.getReplaceonchangesList().length
                ? { replaceOnChanges: req.getReplaceonchangesList() }
                : {}),
            ...(req.getDeletebeforereplace() ? { deleteBeforeReplace: true } : {}),
            ...(req.getProtect() ? { protect: true } : {}),
        };
        // MockMonitor calls the mocks synchronously before its first await, so `current` is this request's,
        // and the mocks keep the inputs it deserialized for them (deserializing them again costs a lot).
        const registered = register(req, (err: unknown, resp: unknown) => {
            if (!err && resp) {
                const urn = (resp as { getUrn(): string }).getUrn();
                this.recorded.push({
                    urn,
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent() || undefined,
                    dependencies: [...new Set(req.getDependenciesList())].sort(),
                    inputs: transformSecrets(inputs, false) as Obj,
                    rawInputs: transformSecrets(inputs, true) as Obj,
                    custom: req.getCustom(),
                    provider: req.getProvider(),
                    ...(Object.keys(options).length ? { options } : {}),
                });
            }
            callback(err, resp);
        });
        const inputs =
            this.current.inputs ??
            (deserializeProperties(req.getObject() as Parameters<typeof deserializeProperties>[0]) as Obj);
        this.current = { urn: "", secretOutputs: [] };
        return registered;
    }
}

/**
 * Turns off stack capture while a plan runs; returns the function that turns it back on.
 *
 * The SDK captures a stack for every resource (Resource.callsites sets Error.stackTraceLimit to Infinity
 * and formats `new Error().stack`, for source positions the offline plan never reads) and for every
 * promise it creates (debuggablePromise keeps `new Error().stack` on it): about a fifth of a large plan's
 * CPU, and memory held by every promise. @pulumi/pulumi 3.248 has no option or environment variable for
 * it, so this uses V8's switch, `Error.stackTraceLimit`: pinned to a non-number while the program runs,
 * no stack is captured (and the SDK's temporary Infinity is ignored). Errors thrown meanwhile keep their
 * messages, not their stacks; KEELSON_PLAN_STACKS=1 keeps stacks for debugging.
 */
export function disableStackCapture(): () => void {
    if (process.env.KEELSON_PLAN_STACKS === "1") return () => undefined;
    const saved = Object.getOwnPropertyDescriptor(Error, "stackTraceLimit");
    Object.defineProperty(Error, "stackTraceLimit", {
        configurable: true,
        enumerable: saved?.enumerable ?? true,
        get: () => undefined,
        set: () => undefined,
    });
    return () => {
        if (saved) Object.defineProperty(Error, "stackTraceLimit", saved);
    };
}

/** Resolves an Output (or plain value) to its value and whether it is secret. */
export async function resolveOutput(
    value: unknown,
): Promise<{ value: unknown; secret: boolean; known: boolean }> {
    const out = pulumi.output(value) as unknown as {
        promise(): Promise<unknown>;
        isSecret: Promise<boolean>;
        isKnown: Promise<boolean>;
    };
    const [resolved, secret, known] = await Promise.all([out.promise(), out.isSecret, out.isKnown]);
    return { value: known ? resolved : UNKNOWN_MASK, secret, known };
}

/**
 * Runs `program` under Pulumi's mock engine with the given config and returns every registration, the
 * program's outputs and the rendered artifacts. Throws the program's error, or the first registration error.
 */
export async function runUnderMocks<T>(
    options: MockRunOptions,
    program: () => T | Promise<T>,
): Promise<MockRun<T>> {
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.config ?? {})) {
        config[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    const region = typeof config["aws:region"] === "string" ? config["aws:region"] : "us-east-1";
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);
    const cloud = new MockCloud(region);
    const preview = options.preview ?? false;
    let recorder: Recorder | undefined = undefined;
    let invokeError: Error | undefined = undefined;
    const mocks: pulumi.runtime.Mocks = {
        newResource: (args) => {
            if (recorder) recorder.current.inputs = args.inputs;
            const urn = recorder?.current.urn ?? "";
            const result = mockResourceState(
                args.type,
                args.name,
                args.inputs,
                cloud,
                urn,
                preview && args.custom !== false,
            );
            for (const key of recorder?.current.secretOutputs ?? []) {
                if (key in result.state && !isSecretValue(result.state[key])) {
                    result.state[key] = { [specialSigKey]: specialSecretSig, value: result.state[key] };
                }
            }
            return result;
        },
        call: (args) => {
            try {
                return mockInvoke(args.token, args.inputs, region);
            } catch (err) {
                // The SDK replaces an invoke's error by a bare "Error"; keep ours to rethrow it.
                invokeError ??= err as Error;
                throw err;
            }
        },
    };
    // The SDK's own setMocks (its feature flags included; dry run, as the plan is one), then the recorder.
    await pulumi.runtime.setMocks(mocks, options.project ?? "keelson", options.stack ?? "test", true);
    const monitor = settings.getMonitor();
    if (!(monitor instanceof MockMonitor))
        throw new Error("offline plan: setMocks did not install a MockMonitor");
    const lean = (options.monitor ?? "lean") === "lean";
    if (lean) useLeanRegister(monitor, mocks.newResource);
    recorder = new Recorder(monitor);
    const store = stateModule as unknown as { getStore(): { logErrorCount: number } };
    const errorsBefore = store.getStore().logErrorCount;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const restoreStacks = disableStackCapture();
    const restoreStructs = lean ? useLeanStructs() : () => undefined;
    const restoreSerializer = skipProviderSerialization();
    try {
        const returned = await program();
        const outputs: Obj = {};
        const secretOutputs: string[] = [];
        if (returned && typeof returned === "object") {
            for (const [k, v] of Object.entries(returned as Obj)) {
                const r = await resolveOutput(v);
                outputs[k] = r.secret ? SECRET_MASK : r.value;
                if (r.secret) secretOutputs.push(k);
            }
        }
        await settings.waitForRPCs();
        const artifacts = collectArtifacts(recorder.componentOutputs);
        // Let rejected registrations surface before judging the run.
        await new Promise((r) => setImmediate(r));
        if (rejections.length > 0) throw rejections[0];
        if (store.getStore().logErrorCount > errorsBefore) {
            throw new Error("the program logged errors while registering resources (see above)");
        }
        return {
            resources: recorder.recorded,
            outputs: outputs as MockRun<T>["outputs"],
            secretOutputs,
            artifacts,
        };
    } catch (err) {
        throw invokeError ?? err;
    } finally {
        restoreSerializer();
        restoreStructs();
        restoreStacks();
        process.off("unhandledRejection", onRejection);
    }
}
