import * as assert from "node:assert/strict";
import { linearity, runChild, startupRatio } from "../../tools/bench/plan/run";

describe("bench:plan (tools/bench/plan)", () => {
    it("computes per-service cost and its growth on CPU seconds", () => {
        const run = (name: string, services: number, cpu: number) => ({
            name,
            services,
            resources: 0,
            process_seconds: 0,
            seconds: cpu * 2,
            cpu_seconds: cpu,
            process_cpu_seconds: 0,
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
                { name: "app-10", per_service_ms: 200, per_service_cpu_ms: 100, per_service_ratio: null },
                { name: "app-100", per_service_ms: 92, per_service_cpu_ms: 46, per_service_ratio: 0.46 },
                { name: "app-1000", per_service_ms: 81.2, per_service_cpu_ms: 40.6, per_service_ratio: 0.88 },
            ],
        );
    });

    it("times the command's own work in-process for a stage, and the start as the rest of its wall time", function () {
        this.timeout(600000); // builds dist/ first when a source is newer
        const r = runChild("command-dev", "command", "dev");
        assert.equal(r.error, undefined);
        // The dev stage as the plan counts it (README): 218 resources, 8 of them services.
        assert.deepEqual([r.services, r.resources], [8, 218]);
        assert.ok(r.process_seconds > r.seconds && r.seconds > 0, JSON.stringify(r));
        const stage = { ...r, command_seconds: 3, command_in_process_seconds: 2 };
        assert.equal(startupRatio(stage), 1.5);
    });

    it("measures a generated application in its own process", function () {
        this.timeout(600000); // builds dist/ first when a source is newer
        const r = runChild("app-10", "app", "10");
        assert.equal(r.error, undefined);
        // 60 objects, plus Postgres's role-script ConfigMap and superuser password (the secret-hash key is one more
        // resource only when a workload reads a Secret; here two more in all), plus the patches of the two
        // data volumes' claims (they grow in place).
        assert.deepEqual([r.name, r.services, r.resources], ["app-10", 10, 64]);
        assert.ok(r.seconds > 0 && r.cpu_seconds > 0 && r.peak_mb > 50, JSON.stringify(r));
        // The whole process (module loading included) takes longer than the plan inside it.
        assert.ok(r.process_seconds > r.seconds && r.process_cpu_seconds > r.cpu_seconds, JSON.stringify(r));
    });
});
