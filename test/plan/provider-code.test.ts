// The plan's stand-in for the closure serializer (tools/plan/provider-code.ts): installed for a plan only.
import assert from "node:assert/strict";
import * as closure from "@pulumi/pulumi/runtime/closure/serializeClosure";
import { PROVIDER_CODE_MARKER, skipProviderSerialization } from "../../tools/plan/provider-code";

describe("plan/provider-code", () => {
    it("answers with the marker while installed and restores the SDK's serializer", async () => {
        const original = closure.serializeFunction;
        const restore = skipProviderSerialization();
        try {
            assert.notEqual(closure.serializeFunction, original);
            assert.deepEqual(await closure.serializeFunction(() => 1), {
                text: PROVIDER_CODE_MARKER,
                exportName: "handler",
                containsSecrets: false,
            });
        } finally {
            restore();
        }
        assert.equal(closure.serializeFunction, original);
        assert.match((await closure.serializeFunction(() => 41 + 1)).text, /41 \+ 1/);
    });

    it("keeps the real serializer with KEELSON_PLAN_PROVIDERS=1", () => {
        const original = closure.serializeFunction;
        process.env.KEELSON_PLAN_PROVIDERS = "1";
        try {
            const restore = skipProviderSerialization();
            assert.equal(closure.serializeFunction, original);
            restore();
        } finally {
            delete process.env.KEELSON_PLAN_PROVIDERS;
        }
    });
});
