// The lean mock registerResource (tools/plan/lean-monitor.ts) answers exactly as the SDK's MockMonitor:
// every shipped stage and the preview of prod planned both ways, compared whole; and the plain-data test
// that decides when the lean path may skip serializeProperties; the lean Structs read and serialize as the
// SDK's own.
import * as assert from "node:assert/strict";
import type * as structPb from "google-protobuf/google/protobuf/struct_pb";
import { isPlainData, sdkStructModule, useLeanStructs } from "../../tools/plan/lean-monitor";
import { FullPlan, planStage } from "../../tools/plan/plan";

const comparable = (p: FullPlan) => ({
    resources: p.resources,
    outputs: p.outputs,
    artifacts: p.artifacts,
    secretOutputs: p.secretOutputs,
    raw: p.recorded.map((r) => r.rawInputs),
});

describe("plan runtime: the lean mock monitor", function () {
    this.timeout(600000);
    for (const [stack, preview] of [
        ["dev", false],
        ["staging", false],
        ["prod", false],
        ["prod", true],
    ] as const) {
        it(`${stack}${preview ? " (preview)" : ""}: the same resources, inputs, outputs and artifacts as the SDK's MockMonitor`, async () => {
            const sdk = await planStage({ stack, preview, monitor: "sdk" });
            const lean = await planStage({ stack, preview, monitor: "lean" });
            assert.ok(sdk.resources.length > 90);
            assert.deepEqual(comparable(lean), comparable(sdk));
        });
    }

    it("takes only JSON-like data as already serialized", () => {
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "x" };
        assert.equal(isPlainData({ a: [1, "b", true, null, { c: secret }] }), true);
        for (const bad of [
            { a: undefined },
            [undefined],
            { n: Number.NaN },
            { d: new Date(0) },
            { b: Buffer.from("x") },
        ])
            assert.equal(isPlainData(bad), false, JSON.stringify(bad));
    });

    describe("lean Structs (useLeanStructs)", () => {
        // The copy of struct_pb the SDK's runtime uses, as the lean Structs patch it.
        const { Struct } = sdkStructModule();
        const data = { a: [1, "b", true, null, { c: { d: 2.5 } }], e: "f" };

        it("answers toJavaScript with the data and reads and serializes as the SDK's Struct", () => {
            const real = Struct.fromJavaScript(data);
            const restore = useLeanStructs();
            let lean: structPb.Struct;
            let other: structPb.Struct;
            try {
                lean = Struct.fromJavaScript(data);
                other = Struct.fromJavaScript(data);
            } finally {
                restore();
            }
            assert.equal(lean.toJavaScript(), data, "toJavaScript returns the data itself, unconverted");
            assert.deepEqual(real.toJavaScript(), data, "the SDK's round trip gives the same values");
            assert.deepEqual(Buffer.from(lean.serializeBinary()), Buffer.from(real.serializeBinary()));
            assert.deepEqual(other.toObject(), real.toObject());
            assert.deepEqual(
                [...lean.getFieldsMap().entries()].map(([k, v]) => [k, v.toJavaScript()]),
                [...real.getFieldsMap().entries()].map(([k, v]) => [k, v.toJavaScript()]),
            );
        });

        it("leaves data that is not plain to the SDK, and restores its fromJavaScript", () => {
            const original = Struct.fromJavaScript;
            const restore = useLeanStructs();
            try {
                assert.notEqual(Struct.fromJavaScript, original);
                // The SDK's own conversion, which refuses undefined.
                const withUndefined = { n: 1, u: undefined } as unknown as Record<string, null>;
                assert.throws(
                    () => Struct.fromJavaScript(withUndefined),
                    /^Error: Unexpected struct type\.$/,
                );
                const nan = { n: Number.NaN };
                const converted = Struct.fromJavaScript(nan);
                assert.notEqual(converted.toJavaScript(), nan);
                assert.deepEqual(converted.toJavaScript(), nan);
            } finally {
                restore();
            }
            assert.equal(Struct.fromJavaScript, original);
        });
    });
});
