// The nginx and haproxy the edge tests and the benchmark run: Debian 13's (nginx 1.26, haproxy 3.0,
// what the edge hosts ship), from the boot lab's Debian 13 rootfs (tools/lab), run with chroot in a
// private mount namespace where the test's directories are bind-mounted at the same paths. Without a
// built rootfs (outside CI) the host's engines run instead, with configs rendered for their version.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HaproxyVersion } from "../../components/edge/render/haproxy";
import { NginxVersion } from "../../components/edge/render/nginx";
import { EdgeEngine } from "../../components/edge/types";
import { findTool, inCI } from "../support/live";

/** One engine binary, where it comes from, and how to start it. */
export interface EdgeBinary {
    readonly engine: EdgeEngine;
    /** Full version, e.g. `1.26.3` or `3.0.11-1+deb13u4`. */
    readonly version: string;
    /** The renderer's `version` option for this binary. */
    readonly renderVersion: NginxVersion | HaproxyVersion;
    /** `debian-13 rootfs <dir>` or `host`. */
    readonly source: string;
    /**
     * The command that runs the engine with `args`, seeing `dirs` at their own paths and each of `files`
     * (engine path to a test file, e.g. `/etc/hosts`) bind-mounted over that path. Same PID as the engine.
     */
    command(
        args: readonly string[],
        dirs: readonly string[],
        files?: Readonly<Record<string, string>>,
    ): { cmd: string; args: string[] };
}

const WRAPPER = `root=$1 n=$2; shift 2
while [ "$n" -gt 0 ]; do mkdir -p "$root$1" && mount --bind "$1" "$root$1"; shift; n=$((n - 1)); done
n=$1; shift
while [ "$n" -gt 0 ]; do mount --bind "$1" "$root$2"; shift 2; n=$((n - 1)); done
mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" && exec chroot "$root" "$@"`;

/** {@link WRAPPER}'s file binds for the host's engine (no chroot). */
const HOST_FILES = `n=$1; shift
while [ "$n" -gt 0 ]; do mount --bind "$1" "$2"; shift 2; n=$((n - 1)); done
exec "$@"`;

/** `files` as the wrapper's arguments: the count, then source and target of each. */
const fileArgs = (files: Readonly<Record<string, string>> = {}) => [
    String(Object.keys(files).length),
    ...Object.entries(files).flatMap(([target, source]) => [source, target]),
];

/**
 * The boot lab's Debian 13 `tools` rootfs: `KEELSON_EDGE_ROOTFS` when set, else the newest complete
 * image in the lab cache (`KEELSON_LAB_CACHE`, default /var/cache/keelson-lab) that has both engines.
 */
export function debian13Rootfs(): string | undefined {
    if (process.env.KEELSON_EDGE_ROOTFS) return process.env.KEELSON_EDGE_ROOTFS;
    const cache = process.env.KEELSON_LAB_CACHE ?? "/var/cache/keelson-lab";
    if (!fs.existsSync(cache)) return undefined;
    const images = fs
        .readdirSync(cache)
        .filter((d) => d.startsWith("trixie-") && fs.existsSync(path.join(cache, d, "ok")))
        .map((d) => path.join(cache, d, "tools"))
        .filter((t) => ["nginx", "haproxy"].every((e) => fs.existsSync(path.join(t, "usr/sbin", e))))
        .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    return images[0];
}

/** `<command> -v` (nginx prints to stderr): `1.26.3`, `3.0.11-1+deb13u4`. */
function versionOf(command: string[]): string {
    const out = execFileSync("sh", ["-c", '"$@" -v 2>&1', "_", ...command], { encoding: "utf8" });
    const m = /nginx\/([\d.]+)/.exec(out) ?? /HAProxy version (\S+)/.exec(out);
    if (!m) throw new Error(`cannot read the version from ${command.join(" ")} -v: ${out}`);
    return m[1];
}

function renderVersion(engine: EdgeEngine, version: string): NginxVersion | HaproxyVersion {
    const [major, minor] = version.split(/[.-]/).map(Number);
    if (engine === "nginx") return major > 1 || minor >= 25 ? "1.26" : "1.22";
    return major >= 3 ? "3.0" : "2.6";
}

const cache = new Map<EdgeEngine, EdgeBinary | undefined>();

/**
 * Debian 13's engine when the lab rootfs is built, else the host's. Undefined when neither exists;
 * with CI=true, anything but Debian 13's engine throws (CI tests what ships).
 */
export function edgeBinary(engine: EdgeEngine): EdgeBinary | undefined {
    if (cache.has(engine)) return cache.get(engine);
    let found: EdgeBinary | undefined;
    let root = debian13Rootfs();
    const builder = path.join(__dirname, "..", "..", "tools", "lab", "rootfs.ts");
    if (!root && inCI && fs.existsSync(builder)) {
        // CI tests what ships: build the lab's Debian 13 rootfs (cached) when it is not there yet.
        execFileSync("npx", ["ts-node", "--transpile-only", builder], {
            stdio: ["ignore", "ignore", "inherit"],
        });
        root = debian13Rootfs();
    }
    if (root) {
        const version = versionOf(["chroot", root, engine]);
        found = {
            engine,
            version,
            renderVersion: renderVersion(engine, version),
            source: `debian-13 rootfs ${root}`,
            command: (args, dirs, files) => ({
                cmd: "unshare",
                args: [
                    "--mount",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    WRAPPER,
                    "_",
                    root,
                    String(dirs.length),
                    ...dirs,
                    ...fileArgs(files),
                    engine,
                    ...args,
                ],
            }),
        };
    } else if (inCI) {
        throw new Error(
            `CI=true needs the Debian 13 ${engine}: build the lab rootfs (tools/lab/rootfs.ts) first`,
        );
    } else {
        const bin = findTool(engine);
        if (bin) {
            const version = versionOf([bin]);
            found = {
                engine,
                version,
                renderVersion: renderVersion(engine, version),
                source: "host",
                command: (args, _dirs, files) =>
                    files && Object.keys(files).length > 0
                        ? {
                              cmd: "unshare",
                              args: [
                                  "--mount",
                                  "--propagation",
                                  "private",
                                  "sh",
                                  "-c",
                                  HOST_FILES,
                                  "_",
                              ].concat(fileArgs(files), [bin, ...args]),
                          }
                        : { cmd: bin, args: [...args] },
            };
        }
    }
    cache.set(engine, found);
    return found;
}

/** The engine for a live suite: skips the suite when there is none (outside CI). */
export function requireEdge(ctx: Mocha.Context, engine: EdgeEngine): EdgeBinary {
    const found = edgeBinary(engine);
    if (found) return found;
    if (inCI) throw new Error(`${engine} is not installed; .ci/run must install it (CI=true)`);
    ctx.skip();
}
