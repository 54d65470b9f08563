// Faster start for `npm run plan`: @pulumi/pulumi's runtime loads its closure serializer at import
// (runtime/index.js requires closure/codePaths, which pulls in @npmcli/arborist, sigstore and ~460
// more modules, and closure/parseFunction, which requires the 9 MB typescript compiler through
// typescript-shim.js). The offline plan never serializes a function (no dynamic providers, no
// CallbackFunction), so these modules are replaced by stand-ins that load the real module on first
// use: the behaviour is the SDK's, only later. Measured by `npm run bench:plan` (command vs in-process).
// Plain JavaScript, loaded by launch.js before the SDK; never imported by the library.
"use strict";
const Module = require("module");
const path = require("path");

/** The SDK modules deferred, relative to @pulumi/pulumi, and whether every export is a function. */
const DEFERRED = [
    // module.exports = require("typescript"): an object read only inside functions (parseFunction, utils).
    { rel: "typescript-shim.js", functions: false },
    // exports.computeCodePaths is read at import by runtime/index.js: a forwarding function keeps it lazy.
    { rel: path.join("runtime", "closure", "codePaths.js"), functions: true },
];

/** The stand-in exports of one module: every property read loads the real module. */
function standIn(file, functions) {
    let real;
    const load = () => {
        if (!real) {
            const stub = require.cache[file];
            delete require.cache[file];
            try {
                real = require(file);
            } finally {
                require.cache[file] = stub;
            }
        }
        return real;
    };
    const forwarders = new Map();
    const target = {};
    return {
        load,
        exports: new Proxy(target, {
            get(_, key) {
                if (key === "__esModule") return true;
                if (!functions) return Reflect.get(load(), key);
                if (!forwarders.has(key)) forwarders.set(key, (...args) => load()[key](...args));
                return forwarders.get(key);
            },
            has: (_, key) => key in load(),
            ownKeys: () => [...new Set([...Reflect.ownKeys(load()), ...Reflect.ownKeys(target)])],
            getOwnPropertyDescriptor: (_, key) => {
                const d = Reflect.getOwnPropertyDescriptor(load(), key);
                return d && { ...d, configurable: true };
            },
        }),
    };
}

/**
 * Installs the stand-ins in the require cache, before @pulumi/pulumi is first loaded (a no-op after).
 * Returns the deferred module files and a function that loads one for real (tests).
 */
function deferSdkModules(from = path.resolve(__dirname, "..", "..")) {
    const root = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [from] }));
    const installed = [];
    if (require.cache[path.join(root, "index.js")]) return installed;
    for (const d of DEFERRED) {
        const file = path.join(root, d.rel);
        const s = standIn(file, d.functions);
        const m = new Module(file);
        m.filename = file;
        m.loaded = true;
        m.exports = s.exports;
        require.cache[file] = m;
        installed.push({ file, load: s.load });
    }
    return installed;
}

module.exports = { deferSdkModules, DEFERRED };
