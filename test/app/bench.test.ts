import * as assert from "node:assert/strict";
import { linearity, runChild } from "../../tools/bench/plan/run";

describe("bench:plan (tools/bench/plan)", () => {
    it("computes per-service and marginal cost and their growth", () => {
        const run = (name: string, services: number, seconds: number) => ({
            name,
            services,
            resources: 0,
            seconds,
            cpu_seconds: 0,
            peak_mb: 0,
        });
        assert.deepEqual(
            linearity(
                [
                    run("app-10", 10, 1),
                    run("app-100", 100, 4.6),
                    run("app-1000", 1000, 40.6),
                    run("direct-10", 10, 1),
                ],
                "app-",
            ),
            [
                {
                    name: "app-10",
                    per_service_ms: 100,
                    per_service_ratio: null,
                    marginal_ms: null,
                    marginal_ratio: null,
                },
                {
                    name: "app-100",
                    per_service_ms: 46,
                    per_service_ratio: 0.46,
                    marginal_ms: 40,
                    marginal_ratio: null,
                },
                {
                    name: "app-1000",
                    per_service_ms: 40.6,
                    per_service_ratio: 0.88,
                    marginal_ms: 40,
                    marginal_ratio: 1,
                },
            ],
        );
    });

    it("measures a generated application in its own process", () => {
        const r = runChild("app-10", "app", "10");
        assert.equal(r.error, undefined);
        assert.deepEqual([r.name, r.services, r.resources], ["app-10", 10, 60]);
        assert.ok(r.seconds > 0 && r.cpu_seconds > 0 && r.peak_mb > 50, JSON.stringify(r));
    });
});
