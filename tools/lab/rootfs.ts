// The boot lab's Debian 13 rootfs and local apt archive, cached outside the repository and keyed by
// a hash of the package lists and the build script (see tools/lab/README.md).
//   npx ts-node --transpile-only tools/lab/rootfs.ts [--json]   builds if needed, prints the paths
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { MASTER_PACKAGES, NODE_PACKAGES } from "../../components/cluster/render/cloudinit";
import { edgePackages } from "../../components/edge/render/userdata";

/** Debian release the lab (and the nodes) run. */
export const LAB_SUITE = "trixie";
/** Where debootstrap and apt download from: the only network target besides the lab's own. */
export const LAB_MIRROR = process.env.KEELSON_LAB_MIRROR ?? "http://deb.debian.org/debian";
/** Cache root; override with KEELSON_LAB_CACHE. */
export const LAB_CACHE = process.env.KEELSON_LAB_CACHE ?? "/var/cache/keelson-lab";

/**
 * What a Debian 13 EC2 image has before user-data runs (cloud-init, curl, ip, python3): installed in
 * `base`. Everything a node installs itself is NOT here, so that cloud-init really installs it.
 */
export const BASE_PACKAGES: readonly string[] = [
    "cloud-init",
    "ca-certificates",
    "curl",
    "iproute2",
    "iputils-ping",
    "kmod",
    "netbase",
    "procps",
    "python3",
];

/** Lab-side programs (not installed by nodes): etcd for the kubeadm stub, dnsmasq, apt tooling. */
export const TOOLS_PACKAGES: readonly string[] = [
    "etcd-server",
    "etcd-client",
    "dnsmasq-base",
    "openssl",
    "gpg",
];

/**
 * Every package any Keelson user-data installs, in the lab archive with its dependency closure:
 * node packages (masters' too), the API load balancer's, the edge's (both engines, with and without streams, SSM and
 * ACME), plus `iptables` (kubeadm's mandatory preflight binary, see the bootstrap review).
 */
export function archivePackages(): string[] {
    const edge = [
        ...edgePackages({ engine: "nginx", streams: true, tls: { kind: "ssm", parameterPrefix: "/" } }),
        ...edgePackages({ engine: "haproxy", streams: false, tls: { kind: "ssm", parameterPrefix: "/" } }),
    ];
    return [
        ...new Set([...NODE_PACKAGES, ...MASTER_PACKAGES, "haproxy", "curl", ...edge, "iptables"]),
    ].sort();
}

/** Paths of one built lab image. */
export interface LabRootfs {
    /** Cache key (hash of the lists and the build script). */
    readonly key: string;
    readonly dir: string;
    /** What a node boots from (read-only lower layer of each node's overlayfs). */
    readonly base: string;
    /** base with every archive and tools package installed: chroot here for nginx 1.26, haproxy 3.0, etcd 3.5, cloud-init 25's schema. */
    readonly tools: string;
    /** The signed apt archive served to nodes as http://deb.debian.org/debian. */
    readonly archive: string;
    /** ASCII-armoured public key of the archive. */
    readonly archiveKey: string;
}

function key(archive: readonly string[]): string {
    const script = fs.readFileSync(path.join(__dirname, "rootfs.sh"));
    return createHash("sha256")
        .update(JSON.stringify([LAB_SUITE, LAB_MIRROR, BASE_PACKAGES, archive, TOOLS_PACKAGES]))
        .update(script)
        .digest("hex")
        .slice(0, 16);
}

/** The paths for the current package lists, whether or not they are built yet. */
export function labRootfsPaths(): LabRootfs {
    const archive = archivePackages();
    const k = key(archive);
    const dir = path.join(LAB_CACHE, `${LAB_SUITE}-${k}`);
    return {
        key: k,
        dir,
        base: path.join(dir, "base"),
        tools: path.join(dir, "tools"),
        archive: path.join(dir, "archive"),
        archiveKey: path.join(dir, "archive-key.asc"),
    };
}

/** True when the image for the current lists is built. */
export function labRootfsReady(): boolean {
    return fs.existsSync(path.join(labRootfsPaths().dir, "ok"));
}

/**
 * Returns the lab image for the current package lists, building it first (debootstrap from
 * {@link LAB_MIRROR}, 3-8 minutes cold) when the lists or the build script changed. Needs root and
 * debootstrap; serialized across processes with a lock file in {@link LAB_CACHE}.
 */
export function ensureLabRootfs(log: (line: string) => void = () => undefined): LabRootfs {
    const p = labRootfsPaths();
    if (fs.existsSync(path.join(p.dir, "ok"))) return p;
    fs.mkdirSync(LAB_CACHE, { recursive: true });
    const args = [
        path.join(__dirname, "rootfs.sh"),
        p.dir,
        LAB_SUITE,
        LAB_MIRROR,
        BASE_PACKAGES.join(","),
        archivePackages().join(","),
        TOOLS_PACKAGES.join(","),
    ];
    log(`building the lab rootfs ${p.dir} (debootstrap ${LAB_SUITE})`);
    const r = spawnSync("flock", [path.join(LAB_CACHE, ".lock"), "bash", ...args], {
        stdio: ["ignore", "inherit", "inherit"],
    });
    if (r.status !== 0) throw new Error(`lab rootfs build failed (exit ${r.status}); see the lines above`);
    return p;
}

/** Version of a package installed in the tools rootfs (`dpkg-query`), e.g. "1.26.3-3+deb13u1". */
export function toolsPackageVersion(p: LabRootfs, pkg: string): string {
    return execFileSync("chroot", [p.tools, "dpkg-query", "-W", "-f=${Version}", pkg], { encoding: "utf8" });
}

if (require.main === module) {
    const p = ensureLabRootfs((l) => console.error(l));
    if (process.argv.includes("--json")) console.log(JSON.stringify(p, null, 2));
    else for (const [k, v] of Object.entries(p)) console.log(`${k}\t${v}`);
}
