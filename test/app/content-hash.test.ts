import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { contextHash } from "../../components/app/content-hash";

describe("app/content-hash: image tags from the build context", () => {
    let dir: string;
    const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
    };
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "keelson-ctx-"));
        write("Dockerfile", "FROM scratch\n");
        write("src/main.go", "package main\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("is 16 hex digits and stable", () => {
        const a = contextHash(dir);
        assert.match(a, /^[0-9a-f]{16}$/);
        assert.equal(contextHash(dir), a);
    });

    it("changes with a file's content, name or executable bit", () => {
        const base = contextHash(dir);
        write("src/main.go", "package main // changed\n");
        const changed = contextHash(dir);
        assert.notEqual(changed, base);
        fs.renameSync(path.join(dir, "src/main.go"), path.join(dir, "src/app.go"));
        assert.notEqual(contextHash(dir), changed);
        const renamed = contextHash(dir);
        fs.chmodSync(path.join(dir, "src/app.go"), 0o755);
        assert.notEqual(contextHash(dir), renamed);
    });

    it("ignores .git, node_modules and .dockerignore matches", () => {
        const base = contextHash(dir);
        write(".dockerignore", "# local files\n*.log\ntmp/\ndocs/**/*.md\n");
        const withIgnore = contextHash(dir);
        write(".git/HEAD", "ref: main\n");
        write("node_modules/x/index.js", "x\n");
        write("debug.log", "noise\n");
        write("tmp/cache", "noise\n");
        write("docs/a/b.md", "noise\n");
        assert.equal(contextHash(dir), withIgnore);
        assert.notEqual(withIgnore, base, "the .dockerignore itself is part of the context");
        write("docs/a/b.txt", "kept\n");
        assert.notEqual(contextHash(dir), withIgnore);
    });
});
