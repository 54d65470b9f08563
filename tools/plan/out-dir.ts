// The plan's output directory: written only where the plan may write, and emptied only of what it wrote.
import * as fs from "fs";
import * as path from "path";

/** The marker file a plan leaves in its output directory: it lists every file the plan wrote there. */
export const MARKER = ".keelson-plan";

/** Why a directory may not take a plan. */
export class OutDirError extends Error {}

function listed(dir: string): string[] | undefined {
    const marker = path.join(dir, MARKER);
    if (!fs.existsSync(marker)) return undefined;
    const lines = fs.readFileSync(marker, "utf8").split("\n");
    if (lines[0] !== "# written by the Keelson offline plan (npm run plan); it deletes only the files listed")
        return undefined;
    return lines.slice(1).filter((l) => l !== "");
}

/**
 * Checks that `dir` may take a plan: it does not exist, is empty, or holds a plan's marker. Throws an
 * {@link OutDirError} naming the directory otherwise, before anything is planned or written.
 */
export function checkOutDir(dir: string): void {
    if (!fs.existsSync(dir)) return;
    if (!fs.statSync(dir).isDirectory()) throw new OutDirError(`--out ${dir}: exists and is not a directory`);
    if (fs.readdirSync(dir).length === 0) return;
    if (listed(dir) === undefined)
        throw new OutDirError(
            `--out ${dir}: the directory is not empty and holds no ${MARKER} marker, so it was not written by ` +
                `a plan; the plan refuses to write into it (give an empty or new directory)`,
        );
}

/** Whether `file` (resolved) lies strictly inside `dir`. */
const inside = (dir: string, file: string) => {
    const rel = path.relative(dir, file);
    return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

/**
 * Writes `files` (path relative to `dir`, content) into `dir`: first deletes the files the previous plan
 * listed in the marker (and the folders that leaves empty), never anything else, then writes the files and
 * a new marker listing them. Throws when a path would escape `dir`.
 */
export function writeOutDir(dir: string, files: ReadonlyMap<string, string>): void {
    checkOutDir(dir);
    const root = path.resolve(dir);
    for (const rel of files.keys()) {
        if (!inside(root, path.resolve(root, rel)) || rel === MARKER)
            throw new OutDirError(`artifact path ${rel} escapes ${dir}`);
    }
    for (const rel of listed(root) ?? []) {
        const file = path.resolve(root, rel);
        if (!inside(root, file)) continue;
        fs.rmSync(file, { force: true });
        for (let d = path.dirname(file); inside(root, d); d = path.dirname(d)) {
            if (fs.existsSync(d) && fs.readdirSync(d).length === 0) fs.rmdirSync(d);
            else break;
        }
    }
    fs.mkdirSync(root, { recursive: true });
    const names = [...files.keys()].sort();
    fs.writeFileSync(
        path.join(root, MARKER),
        [
            "# written by the Keelson offline plan (npm run plan); it deletes only the files listed",
            ...names,
            "",
        ].join("\n"),
    );
    for (const rel of names) {
        const file = path.resolve(root, rel);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, files.get(rel) as string);
    }
}
