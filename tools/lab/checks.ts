// What the lab checks on a booted node, each against the node's real state (never against the render).
import { CNI_BIN_DIR, SANDBOX_IMAGE } from "../../components/cluster/render/containerd";
import { declared, LabCluster } from "./cluster";
import { LabNode } from "./lab";

/** One check's result. */
export interface Check {
    readonly node: string;
    readonly check: string;
    readonly ok: boolean;
    readonly detail: string;
}

export const ETCDCTL = [
    "/opt/keelson-lab/bin/etcdctl",
    "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
    "--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt",
    "--key=/etc/kubernetes/pki/apiserver-etcd-client.key",
    "--dial-timeout=3s",
    "--command-timeout=5s",
];

/** etcd's member list as a master sees it, with each member's health. */
export function etcdMembers(
    c: LabCluster,
    node: LabNode,
): { name: string; url: string; healthy: boolean }[] | string {
    const r = c.lab.exec(node, [
        ...ETCDCTL,
        "--endpoints=https://127.0.0.1:2379",
        "member",
        "list",
        "-w",
        "json",
    ]);
    if (r.code !== 0) return `etcdctl member list failed: ${(r.stderr || r.stdout).trim().split("\n").pop()}`;
    const members = (JSON.parse(r.stdout).members ?? []) as {
        name?: string;
        clientURLs?: string[];
        peerURLs?: string[];
    }[];
    return members.map((m) => {
        const url = m.clientURLs?.[0] ?? "";
        const healthy =
            url !== "" &&
            c.lab.exec(node, [...ETCDCTL, `--endpoints=${url}`, "endpoint", "health"]).code === 0;
        return { name: m.name || "(unstarted)", url: url || (m.peerURLs ?? [])[0] || "", healthy };
    });
}

/**
 * The node-level checks: cloud-init finished without errors, every declared package installed, every
 * declared file with its declared mode, the bootstrap's final log line; for Kubernetes nodes containerd
 * answering with the CRI plugin loaded and the rendered settings, the kube packages at the pin and held.
 */
export function checkNode(
    c: LabCluster,
    node: LabNode,
    userData: string,
    kind: string,
    pinnedVersion: string,
): Check[] {
    const out: Check[] = [];
    const add = (check: string, ok: boolean, detail: string) =>
        out.push({ node: node.name, check, ok, detail });
    const status = node.cloudInitStatus;
    add(
        "cloud-init finished",
        /status: done/.test(status) && !/status: error/.test(status),
        status
            .split("\n")
            .filter((l) => /status|errors|recoverable|ERROR|WARNING/i.test(l))
            .slice(0, 6)
            .join("; ") || "no status",
    );
    const d = declared(userData);
    if (d.packages.length) {
        const r = c.lab.exec(node, [
            "dpkg-query",
            "-W",
            "-f=${Package} ${db:Status-Status}\\n",
            ...d.packages,
        ]);
        const installed = new Set(
            r.stdout
                .split("\n")
                .filter((l) => l.endsWith(" installed"))
                .map((l) => l.split(" ")[0]),
        );
        const missing = d.packages.filter((p) => !installed.has(p));
        add(
            "declared packages installed",
            missing.length === 0,
            missing.length ? `not installed: ${missing.join(", ")}` : d.packages.join(", "),
        );
    }
    const wrong: string[] = [];
    for (const f of d.files) {
        const r = c.lab.exec(node, ["stat", "-c", "%a", f.path]);
        const want = f.permissions.replace(/^0+(?=\d{3})/, "");
        if (r.code !== 0) wrong.push(`${f.path} missing`);
        else if (r.stdout.trim() !== want)
            wrong.push(`${f.path} is ${r.stdout.trim()}, declared ${f.permissions}`);
    }
    add(
        "declared file modes",
        wrong.length === 0,
        wrong.length ? wrong.join("; ") : `${d.files.length} files`,
    );
    const text = node.consoleText();
    if (kind === "edge") {
        add("edge bootstrap", /started with/.test(text), lastLines(text, /keelson-edge/));
        return out;
    }
    // The script's own lines and bash's errors in it (`.../keelson-bootstrap: line N: ...`), not the systemctl
    // stub's attempt and restart lines (`<time> keelson-bootstrap.service: ...`).
    add(
        "bootstrap done",
        /done: node registered/.test(text),
        lastLines(text, /keelson-bootstrap(?!\.service: )/),
    );
    const v = c.lab.exec(node, ["ctr", "--address", "/run/containerd/containerd.sock", "version"]);
    const server = /Server:[\s\S]*?Version:\s*(\S+)/.exec(v.stdout)?.[1];
    const plugins = c.lab.exec(node, [
        "ctr",
        "--address",
        "/run/containerd/containerd.sock",
        "plugins",
        "ls",
    ]).stdout;
    const cri = plugins.split("\n").find((l) => /io\.containerd\.grpc\.v1\s+cri\s/.test(l));
    add(
        "containerd answers, CRI loaded",
        !!server && !!cri && /\sok\s*$/.test(cri),
        server
            ? `containerd ${server}; cri: ${cri?.trim().split(/\s+/).pop() ?? "absent"}`
            : `no answer on the socket: ${(v.stderr || v.stdout).trim().slice(0, 160)}`,
    );
    const dump = c.lab.exec(node, ["containerd", "config", "dump"]).stdout;
    const cg = /SystemdCgroup = (\w+)/.exec(dump)?.[1];
    const sandbox = /sandbox_image = "([^"]+)"/.exec(dump)?.[1];
    const cniBin = /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.cni\]\s+bin_dir = "([^"]*)"/.exec(dump)?.[1];
    add(
        "containerd settings",
        cg === "true" && sandbox === SANDBOX_IMAGE && cniBin === CNI_BIN_DIR,
        `SystemdCgroup = ${cg}, sandbox_image = ${sandbox}, cni bin_dir = ${cniBin}`,
    );
    const kube = c.lab
        .exec(node, ["dpkg-query", "-W", "-f=${Package}=${Version} ", "kubeadm", "kubelet", "kubectl"])
        .stdout.trim();
    const holds = c.lab.exec(node, ["apt-mark", "showhold"]).stdout.split("\n").filter(Boolean);
    const pinned = ["kubeadm", "kubelet", "kubectl"].every((p) => kube.includes(`${p}=${pinnedVersion}`));
    add(
        "kube packages pinned and held",
        pinned && ["kubeadm", "kubelet", "kubectl"].every((p) => holds.includes(p)),
        `${kube || "not installed"}; held: ${holds.join(",") || "none"}`,
    );
    return out;
}

function lastLines(text: string, re: RegExp): string {
    return (
        text
            .split("\n")
            .filter((l) => re.test(l))
            // Three: a failed attempt logs the failing command, its FAILED line, and may add a WARNING that its
            // failure report did not reach SSM (the lab tears the node down as the second attempt fails).
            .slice(-3)
            .join(" | ")
            .slice(0, 500) || "no output"
    );
}
