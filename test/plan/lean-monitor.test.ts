// The lean mock registerResource (tools/plan/lean-monitor.ts) answers exactly as the SDK's MockMonitor:
// every shipped stage and the preview of prod planned both ways, compared whole; and the plain-data test
// that decides when the lean path may skip serializeProperties.
import * as assert from "node:assert/strict";
import { isPlainData } from "../../tools/plan/lean-monitor";
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
});
