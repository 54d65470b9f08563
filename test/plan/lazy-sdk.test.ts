// The plan launcher's deferred SDK modules (tools/plan/lazy-sdk.js), in a fresh Node process each (the
// require cache is the thing under test): the SDK loads without them, and they work on first use.
import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../../tools/plan/plan";

/** Runs `script` in a fresh node in the project root; returns its stdout lines. */
function node(script: string): string[] {
    const r = spawnSync(process.execPath, ["-e", script], { cwd: PROJECT_ROOT, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split("\n");
}

const PRELUDE = `
const defer = process.env.DEFER === "1";
if (defer) require("./tools/plan/lazy-sdk.js").deferSdkModules();
const loaded = (s) => Object.keys(require.cache).some((f) => f.includes(s));
const pulumi = require("@pulumi/pulumi");
require("@pulumi/aws");
require("@pulumi/kubernetes");
`;

describe("plan launcher: deferred SDK modules", function () {
    this.timeout(60000);

    it("loads @pulumi/pulumi, aws and kubernetes without typescript or @npmcli/arborist", function () {
        const script = `${PRELUDE}
console.log(loaded("node_modules/typescript/"), loaded("@npmcli/arborist"), Object.keys(require.cache).length);`;
        const [deferred, count] = [script, script].map((s, i) =>
            spawnSync(process.execPath, ["-e", s], {
                cwd: PROJECT_ROOT,
                encoding: "utf8",
                env: { ...process.env, DEFER: i === 0 ? "1" : "0" },
            }).stdout.trim(),
        );
        const [ts, arborist, modules] = deferred.split(" ");
        assert.deepEqual([ts, arborist], ["false", "false"]);
        const [tsEager, arboristEager, modulesEager] = count.split(" ");
        // Without the launcher the SDK loads both at import: the stand-ins are what keeps them out.
        assert.deepEqual([tsEager, arboristEager], ["true", "true"]);
        assert.ok(Number(modulesEager) - Number(modules) > 300, `${modulesEager} against ${modules} modules`);
    });

    it("loads the real modules on first use: serializeFunction and computeCodePaths work", function () {
        const out = node(`process.env.DEFER = "1";${PRELUDE}
(async () => {
    console.log(typeof pulumi.runtime.computeCodePaths, loaded("node_modules/typescript/"));
    const f = await pulumi.runtime.serializeFunction(() => 41 + 1);
    console.log(f.text.includes("41 + 1"), loaded("node_modules/typescript/"));
    const paths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: [] });
    console.log(paths instanceof Map, loaded("@npmcli/arborist"));
    console.log(require("@pulumi/pulumi/typescript-shim").version === require("typescript").version);
})().catch((e) => { console.error(e); process.exit(1); });`);
        assert.deepEqual(out, ["function false", "true true", "true true", "true"]);
    });

    it("plans a stage through the user's command without ever loading typescript", function () {
        this.timeout(600000); // builds dist/ first when a source is newer
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-lazy-"));
        try {
            // The dynamic resources' provider code is not serialized in a plan (tools/plan/provider-code.ts):
            // the serializer is what would load the compiler.
            const r = spawnSync(
                process.execPath,
                [
                    "-e",
                    `process.on("exit", (code) => process.stderr.write("typescript " + Object.keys(require.cache).some((f) => f.includes("node_modules/typescript/")) + " exit " + code + "\\n"));
process.argv = [process.argv[0], "launch.js", "--stack", "dev", "--out", ${JSON.stringify(out)}];
require("./tools/plan/launch.js");`,
                ],
                { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 590000 },
            );
            assert.equal(r.stderr.trim().split("\n").pop(), "typescript false exit 0", r.stderr);
            assert.ok(fs.existsSync(path.join(out, "plan.json")));
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("is a no-op once the SDK is loaded", function () {
        const out = node(`require("@pulumi/pulumi");
console.log(require("./tools/plan/lazy-sdk.js").deferSdkModules().length);`);
        assert.deepEqual(out, ["0"]);
    });
});
