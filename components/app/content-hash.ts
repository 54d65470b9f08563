// Content hash of a Docker build context, so that an image tag names exactly the files it was built from.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** Directories never sent to the builder in practice and never part of the hash. */
const ALWAYS_IGNORED = new Set([".git", "node_modules"]);

/** Patterns of a `.dockerignore` (exact paths, directory prefixes, `*` and `**` globs). */
export function readDockerignore(context: string): RegExp[] {
    const file = path.join(context, ".dockerignore");
    if (!fs.existsSync(file)) return [];
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("!"))
        .map((l) => {
            const glob = l.replace(/^\/+|\/+$/g, "");
            const re = glob
                .split("**")
                .map((part) =>
                    part
                        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                        .replace(/\*/g, "[^/]*")
                        .replace(/\?/g, "[^/]"),
                )
                .join(".*");
            return new RegExp(`^${re}(/.*)?$`);
        });
}

/**
 * SHA-256 over every file of the context (sorted relative paths, each path, mode bit for executables, and
 * content), skipping `.git`, `node_modules` and `.dockerignore` matches. Returns the first 16 hex digits:
 * a tag like `c0ffee...` that changes exactly when a built file changes.
 */
export function contextHash(context: string): string {
    const ignore = readDockerignore(context);
    const files: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const abs = path.join(dir, entry.name);
            const rel = path.relative(context, abs).split(path.sep).join("/");
            if (ALWAYS_IGNORED.has(entry.name) || ignore.some((re) => re.test(rel))) continue;
            if (entry.isDirectory()) walk(abs);
            else if (entry.isFile()) files.push(rel);
        }
    };
    walk(context);
    const hash = crypto.createHash("sha256");
    for (const rel of files.sort()) {
        const abs = path.join(context, rel);
        const executable = (fs.statSync(abs).mode & 0o111) !== 0;
        hash.update(`${rel}\0${executable ? "x" : "-"}\0`);
        hash.update(fs.readFileSync(abs));
        hash.update("\0");
    }
    return hash.digest("hex").slice(0, 16);
}
