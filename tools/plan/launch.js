#!/usr/bin/env node
// `npm run plan` starts here: plain JavaScript, so that the plan runs the compiled program in dist/ instead
// of compiling TypeScript at every run. Rebuilds dist/ (`npm run build`: tsc -p tsconfig.build.json) first
// when any source is newer than the last build, then runs dist/tools/plan/cli.js in this process, with the
// SDK's closure serializer loaded only when used (lazy-sdk.js).
// KEELSON_PLAN_NO_BUILD=1 skips the check (benchmarks that measure a warm start). `npm run plan` starts Node
// with 64 MB semi-spaces (package.json; why: NODE_FLAGS in tools/bench/plan/run.ts).
"use strict";
const path = require("path");
const { ensureBuilt, dist } = require("./build.js");
const { deferSdkModules } = require("./lazy-sdk.js");

if (process.env.KEELSON_PLAN_NO_BUILD !== "1" && !ensureBuilt()) process.exit(3);
deferSdkModules();
require(path.join(dist, "tools", "plan", "cli.js")).run();
