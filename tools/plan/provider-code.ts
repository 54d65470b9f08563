// A dynamic resource's provider code, which the offline plan never reads.
//
// `new pulumi.dynamic.Resource(provider, ...)` serializes its provider into the `__provider` input with
// the SDK's closure serializer (dynamic/index.js: serializeFunction(() => provider)): it loads the 9 MB
// TypeScript compiler to parse every function the provider reaches. The plan shows that input as a marker
// (plan.ts, readableInputs), so in a dev stage this was about a third of a second of every plan, for text
// thrown away. While a plan runs the serializer answers with the marker instead; whether each provider
// really serializes, and runs alone as the engine's dynamic-provider host runs it, is tested with the
// real serializer (test/cluster/upgrade.test.ts, test/cluster/readiness.test.ts).
// KEELSON_PLAN_PROVIDERS=1 keeps the real serializer.
import * as closure from "@pulumi/pulumi/runtime/closure/serializeClosure";

/** What a dynamic resource's `__provider` input holds in the plan. */
export const PROVIDER_CODE_MARKER = "[dynamic provider code]";

type Serialize = typeof closure.serializeFunction;

/** Replaces the closure serializer by the marker; returns the function that restores it. */
export function skipProviderSerialization(): () => void {
    if (process.env.KEELSON_PLAN_PROVIDERS === "1") return () => undefined;
    const sdk = closure as { serializeFunction: Serialize };
    const original = sdk.serializeFunction;
    const marker: Serialize = () =>
        Promise.resolve({ text: PROVIDER_CODE_MARKER, exportName: "handler", containsSecrets: false });
    sdk.serializeFunction = marker;
    return () => {
        if (sdk.serializeFunction === marker) sdk.serializeFunction = original;
    };
}
