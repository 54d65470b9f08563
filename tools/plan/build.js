// Keeps dist/ (the compiled program, `npm run build`) up to date for `npm run plan` and `bench:plan`:
// rebuilds when any TypeScript source, shipped service file or build setting is newer than the last build.
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const root = path.resolve(__dirname, "..", "..");
const dist = path.join(root, "dist");
const stamp = path.join(dist, ".build-stamp");
const SOURCES = [
    "index.ts",
    "components",
    "policy",
    "tools",
    "package.json",
    "tsconfig.json",
    "tsconfig.build.json",
];

/** The newest modification time (ms) of the TypeScript sources and build settings. */
function newestSource() {
    let newest = 0;
    const visit = (p) => {
        let st;
        try {
            st = fs.statSync(p);
        } catch {
            return;
        }
        if (st.isDirectory()) {
            if (path.basename(p) === "node_modules") return;
            for (const e of fs.readdirSync(p)) visit(path.join(p, e));
        } else if (/\.(ts|json|yaml)$/.test(p) && !p.endsWith(".d.ts")) {
            newest = Math.max(newest, st.mtimeMs);
        }
    };
    for (const s of SOURCES) visit(path.join(root, s));
    return newest;
}

/** The time of the last build: this launcher's stamp or tsc's build info (`npm run build`), newest. */
function lastBuild() {
    let t = 0;
    for (const f of [stamp, path.join(dist, ".tsbuildinfo")]) {
        try {
            t = Math.max(t, fs.statSync(f).mtimeMs);
        } catch {
            // not built that way yet
        }
    }
    return fs.existsSync(path.join(dist, "tools", "plan", "cli.js")) ? t : 0;
}

const stale = () => lastBuild() < newestSource();

/** Files the compiled program reads beside its modules (tsc copies none): the shipped service files. */
const ASSETS = ["components/app/reference-app.yaml"];

/** Copies {@link ASSETS} into dist/ (part of `npm run build`). */
function copyAssets() {
    for (const a of ASSETS) {
        fs.mkdirSync(path.dirname(path.join(dist, a)), { recursive: true });
        fs.copyFileSync(path.join(root, a), path.join(dist, a));
    }
}

/** Builds dist/ when stale; returns false (after printing why) when the build fails. */
function ensureBuilt() {
    if (!stale()) return true;
    process.stderr.write(
        "plan: sources changed since the last build; running npm run build (tsc to dist/)\n",
    );
    const started = new Date();
    const tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
    const built = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], {
        cwd: root,
        stdio: ["ignore", "inherit", "inherit"],
    });
    if (built.status !== 0) {
        process.stderr.write("plan: the build failed (see above); fix the TypeScript errors and run again\n");
        return false;
    }
    copyAssets();
    // Stamped with the build's start: a source saved while tsc ran is seen as newer next time.
    fs.writeFileSync(stamp, `${started.toISOString()}\n`);
    fs.utimesSync(stamp, started, started);
    return true;
}

module.exports = { ensureBuilt, copyAssets, dist, root };
