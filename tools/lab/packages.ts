// The lab's stub Debian packages: kubeadm, kubelet, kubectl, kubernetes-cni and cri-tools at the
// pinned version (plus one older and one newer release, so that the bootstrap's version pin and
// `apt-mark hold` are really exercised), laid out and signed as pkgs.k8s.io's flat repository, and
// the amazon-ssm-agent package the bootstrap downloads from S3. Their programs are the lab's stubs
// (tools/lab/node/*.py), reached through /opt/keelson-lab inside a node.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** One stub package. */
interface StubPackage {
    readonly name: string;
    readonly version: string;
    readonly depends?: string;
    readonly recommends?: string;
    /** path inside the package -> [mode, content] */
    readonly files: Record<string, [number, string]>;
}

// Each package's program knows its release, as a real binary does (kubelet --version, kubeadm version).
const wrapper = (script: string, version: string) =>
    `#!/bin/sh\n# Keelson boot lab stub (tools/lab/node/${script})\nKEELSON_LAB_KUBE_VERSION=v${version.replace(/-.*$/, "")} exec /usr/bin/python3 /opt/keelson-lab/node/${script} "$@"\n`;
const refuse = (name: string) =>
    `#!/bin/sh\necho "${name}: not available in the Keelson boot lab (stub package; no API server runs here)" >&2\nexit 1\n`;

/** Versions released "around" the pinned one: the pin must win over the newer one. */
function neighbours(pkgVersion: string): string[] {
    const m = /^(\d+)\.(\d+)\.(\d+)-(.*)$/.exec(pkgVersion);
    if (!m) throw new Error(`packages: unexpected package version ${pkgVersion}`);
    const patch = Number(m[3]);
    return [
        ...(patch > 0 ? [`${m[1]}.${m[2]}.${patch - 1}-${m[4]}`] : []),
        pkgVersion,
        `${m[1]}.${m[2]}.${patch + 1}-${m[4]}`,
    ];
}

function kubePackages(pkgVersion: string): StubPackage[] {
    const out: StubPackage[] = [];
    for (const v of neighbours(pkgVersion)) {
        out.push(
            { name: "kubeadm", version: v, files: { "usr/bin/kubeadm": [0o755, wrapper("kubeadm.py", v)] } },
            {
                name: "kubelet",
                version: v,
                depends: "kubernetes-cni (>= 1.2.0), iproute2, mount",
                recommends: "iptables (>= 1.8.4), conntrack, ebtables, ethtool, socat",
                files: {
                    "usr/bin/kubelet": [0o755, wrapper("kubelet.py", v)],
                    "usr/lib/systemd/system/kubelet.service": [
                        0o644,
                        "[Unit]\nDescription=kubelet: The Kubernetes Node Agent (lab stub)\n\n[Service]\nExecStart=/usr/bin/kubelet\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n",
                    ],
                },
            },
            { name: "kubectl", version: v, files: { "usr/bin/kubectl": [0o755, wrapper("kubectl.py", v)] } },
        );
    }
    out.push(
        {
            name: "kubernetes-cni",
            version: "1.6.0-1.1",
            files: Object.fromEntries(
                ["bridge", "host-local", "loopback", "portmap"].map((p) => [
                    `opt/cni/bin/${p}`,
                    [0o755, refuse(p)],
                ]),
            ),
        },
        {
            name: "cri-tools",
            version: `${pkgVersion.replace(/\.\d+-.*$/, "")}.0-1.1`,
            files: { "usr/bin/crictl": [0o755, refuse("crictl")] },
        },
    );
    return out;
}

const ssmAgent: StubPackage = {
    name: "amazon-ssm-agent",
    version: "3.3.1802.0-1",
    files: {
        "usr/bin/amazon-ssm-agent": [
            0o755,
            "#!/bin/sh\n# Keelson boot lab stub: Session Manager cannot reach a lab node.\nwhile :; do sleep 3600; done\n",
        ],
        "lib/systemd/system/amazon-ssm-agent.service": [
            0o644,
            "[Unit]\nDescription=amazon-ssm-agent (lab stub)\n[Service]\nExecStart=/usr/bin/amazon-ssm-agent\n",
        ],
    },
};

function buildDeb(p: StubPackage, dir: string): string {
    const root = fs.mkdtempSync(path.join(dir, `.${p.name}-`));
    for (const [file, [mode, content]] of Object.entries(p.files)) {
        fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), content, { mode });
    }
    fs.mkdirSync(path.join(root, "DEBIAN"));
    const control = [
        `Package: ${p.name}`,
        `Version: ${p.version}`,
        "Architecture: amd64",
        "Maintainer: Keelson boot lab <lab@keelson.invalid>",
        ...(p.depends ? [`Depends: ${p.depends}`] : []),
        ...(p.recommends ? [`Recommends: ${p.recommends}`] : []),
        `Description: ${p.name} (Keelson boot lab stub)`,
        "",
    ].join("\n");
    fs.writeFileSync(path.join(root, "DEBIAN", "control"), control);
    const deb = path.join(dir, `${p.name}_${p.version}_amd64.deb`);
    execFileSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, deb], { stdio: "pipe" });
    fs.rmSync(root, { recursive: true, force: true });
    return deb;
}

/** Where the lab serves what. */
export interface StubRepositories {
    /** Directory served as https://pkgs.k8s.io/core:/stable:/v<series>/deb/ for the pinned version's series. */
    readonly kubeRepo: string;
    /** Every series' directory (pkgs.k8s.io has one repository per minor), by series (`1.33`). */
    readonly kubeRepos: Readonly<Record<string, string>>;
    /** The amazon-ssm-agent .deb served from S3. */
    readonly ssmAgentDeb: string;
    /** Versions of kubeadm/kubelet/kubectl in the pinned version's repository. */
    readonly kubeVersions: string[];
}

/** `1.33` of a package version `1.33.4-1.1`. */
export function seriesOf(pkgVersion: string): string {
    const m = /^(\d+\.\d+)\./.exec(pkgVersion);
    if (!m) throw new Error(`packages: unexpected package version ${pkgVersion}`);
    return m[1];
}

/**
 * Builds the stub repositories under `dir`: one flat pkgs.k8s.io repository per minor (Packages, Release,
 * InRelease signed with a fresh key whose armoured public key is served as Release.key), for the
 * pinned version's minor and for each of `otherVersions` (an upgrade's targets: each minor's repository
 * holds that minor's releases only, as pkgs.k8s.io's), and the SSM agent package. Needs dpkg-deb,
 * dpkg-scanpackages and gpg (all on Debian).
 */
export function buildStubRepositories(
    dir: string,
    pkgVersion: string,
    otherVersions: readonly string[] = [],
): StubRepositories {
    fs.mkdirSync(dir, { recursive: true });
    const gnupg = fs.mkdtempSync(path.join(dir, ".gnupg-"));
    const gpg = (cwd: string, ...args: string[]) =>
        execFileSync("gpg", ["--batch", "--quiet", "--homedir", gnupg, ...args], { cwd, stdio: "pipe" });
    gpg(
        dir,
        "--passphrase",
        "",
        "--quick-gen-key",
        "pkgs.k8s.io lab stub <lab@keelson.invalid>",
        "ed25519",
        "sign",
        "never",
    );
    const kubeRepos: Record<string, string> = {};
    for (const v of [pkgVersion, ...otherVersions]) {
        const series = seriesOf(v);
        const kubeRepo = path.join(dir, series === seriesOf(pkgVersion) ? "kube" : `kube-${series}`);
        if (kubeRepos[series]) throw new Error(`packages: two versions of the series ${series}`);
        kubeRepos[series] = kubeRepo;
        fs.mkdirSync(kubeRepo, { recursive: true });
        for (const p of kubePackages(v)) buildDeb(p, kubeRepo);
        const packages = execFileSync("dpkg-scanpackages", ["--multiversion", "."], {
            cwd: kubeRepo,
            stdio: "pipe",
        });
        fs.writeFileSync(path.join(kubeRepo, "Packages"), packages);
        fs.writeFileSync(path.join(kubeRepo, "Release.key"), gpg(kubeRepo, "--armor", "--export"));
        const sha = execFileSync("sha256sum", ["Packages"], { cwd: kubeRepo, encoding: "utf8" }).split(
            " ",
        )[0];
        const size = fs.statSync(path.join(kubeRepo, "Packages")).size;
        const release = [
            "Origin: obs://build.opensuse.org/isv:kubernetes (lab stub)",
            `Label: isv:kubernetes:core:stable:v${series} (lab stub)`,
            "Architectures: amd64",
            `Date: ${new Date().toUTCString().replace("GMT", "UTC")}`,
            "SHA256:",
            ` ${sha} ${size} Packages`,
            "",
        ].join("\n");
        fs.writeFileSync(path.join(kubeRepo, "Release"), release);
        gpg(kubeRepo, "--yes", "--clearsign", "-o", "InRelease", "Release");
    }
    fs.rmSync(gnupg, { recursive: true, force: true });
    const ssmDir = path.join(dir, "ssm-agent");
    fs.mkdirSync(ssmDir, { recursive: true });
    const ssmAgentDeb = buildDeb(ssmAgent, ssmDir);
    return {
        kubeRepo: kubeRepos[seriesOf(pkgVersion)],
        kubeRepos,
        ssmAgentDeb,
        kubeVersions: neighbours(pkgVersion),
    };
}
