"""`kubeadm upgrade plan|apply|node` of the lab's kubeadm stub (kubeadm.py dispatches here).

Modelled on upstream kubeadm (kubernetes/kubernetes, read for this stub):
  cmd/kubeadm/app/phases/upgrade/policy.go  EnforceVersionPolicies: the cluster's version (kubeadm-config),
      kubeadm's own and the kubelets'; mandatory: a target more than MaximumAllowedMinorVersionUpgradeSkew (1)
      minor above the cluster, more than 1 minor below it, or a minor above kubeadm's own; skippable with
      --force: a later patch than kubeadm's, a kubeadm minor above the target's, kubelets more than 1 minor
      below the target. Messages verbatim.
  cmd/kubeadm/app/cmd/upgrade/apply.go  runApply: health and configuration first (enforceRequirements), the
      policies ("[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors"),
      confirmation unless --yes/--force/--dry-run, then the static pod upgrade (each control-plane manifest's
      image to the target; kubelet replaces the pods), kubeadm-config's kubernetesVersion uploaded, SUCCESS.
  cmd/kubeadm/app/cmd/upgrade/node.go  a control-plane node (it has a kube-apiserver manifest) takes the
      version of the kubeadm-config ConfigMap and upgrades its own static pods to it; a worker only its
      kubelet configuration (not modelled: nothing to do).
  cmd/kubeadm/app/cmd/upgrade/plan.go  RunPlan: the same health and configuration checks, then prints the
      components' current and target versions; changes nothing.
The health checks are kubeadm's upgrade preflight: the API server answers /readyz and every control-plane
Node is Ready ("[ERROR ControlPlaneNodesReady]"), the static pod manifests exist ("[ERROR StaticPodManifest]").
"""
import json
import os
import re
import ssl
import sys
import time
import urllib.request

import labk8s as k
import yaml

MANIFESTS = "/etc/kubernetes/manifests"
ETCD = "https://127.0.0.1:2379"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def out(msg):
    print(msg, flush=True)


def fatal(msg):
    print(msg, file=sys.stderr)
    print("To see the stack trace of this error execute with --v=5 or higher", file=sys.stderr)
    sys.exit(1)


def parse_version(v):
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?", v or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4) or "") if m else None


def less(a, b):
    return a[:3] < b[:3]


def policy_errors(cluster_str, kubeadm_str, kubelets, new_str):
    """policy.go EnforceVersionPolicies: (mandatory, skippable) error messages."""
    mandatory, skippable = [], []
    cluster, kubeadm, new = parse_version(cluster_str), parse_version(kubeadm_str), parse_version(new_str)
    pre = bool(new[3])
    if new[1] > cluster[1] + 1:
        e = f'Specified version to upgrade to "{new_str}" is too high; kubeadm can upgrade only 1 minor version at a time'
        (skippable if pre else mandatory).append(e)
    if new[1] < cluster[1] - 1:
        e = f'Specified version to downgrade to "{new_str}" is too low; kubeadm can downgrade only 1 minor version at a time'
        (skippable if pre else mandatory).append(e)
    if less(kubeadm, new):
        if new[1] > kubeadm[1]:
            e = (f'Specified version to upgrade to "{new_str}" is at least one minor release higher than the kubeadm minor '
                 f"release ({new[1]} > {kubeadm[1]}). Such an upgrade is not supported")
            (skippable if pre else mandatory).append(e)
        else:
            skippable.append(f'Specified version to upgrade to "{new_str}" is higher than the kubeadm version "{kubeadm_str}". '
                             "Upgrade kubeadm first using the tool you used to install kubeadm")
    if kubeadm[0] > new[0] or kubeadm[1] > new[1]:
        skippable.append(f"Kubeadm version {kubeadm_str} can only be used to upgrade to Kubernetes version {kubeadm[0]}.{kubeadm[1]}")
    old = sorted(v for v in set(kubelets) if parse_version(v) and new[1] > parse_version(v)[1] + 1)
    if old:
        skippable.append(f"There are kubelets in this cluster that are too old that have these versions [{' '.join(old)}]")
    return mandatory, skippable


def fmt(errors):
    return "".join(f"\t- {e}\n" for e in errors)


def nodes():
    return k.list_json(ETCD, "/registry/minions/")


def cluster_configuration():
    cm = k.get_json(ETCD, "/registry/configmaps/kube-system/kubeadm-config")
    if cm is None:
        fatal('[upgrade/config] FATAL: failed to get config map: configmaps "kubeadm-config" not found')
    return cm, yaml.safe_load(cm["ClusterConfiguration"])


def local_version(component="kube-apiserver"):
    try:
        pod = yaml.safe_load(open(f"{MANIFESTS}/{component}.yaml"))
        return pod["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    except (OSError, KeyError, IndexError):
        return ""


def api_version(ip):
    ctx = ssl.create_default_context(cafile=f"{k.PKI}/ca.crt")
    try:
        with urllib.request.urlopen(f"https://{ip}:6443/readyz", context=ctx, timeout=3) as r:
            if r.status != 200:
                return ""
        with urllib.request.urlopen(f"https://{ip}:6443/version", context=ctx, timeout=3) as r:
            return json.load(r).get("gitVersion", "")
    except Exception:  # noqa: BLE001
        return ""


def require_root():
    if os.geteuid() != 0:
        fatal("[preflight] Some fatal errors occurred:\n\t[ERROR IsPrivilegedUser]: user is not running as root")


def health(ip):
    """enforceRequirements' health checks (upgrade preflight), in kubeadm's wording."""
    out("[upgrade] Running cluster health checks")
    errors = []
    if not api_version(ip):
        errors.append(f"[ERROR APIServerHealth]: the API Server is unhealthy; /readyz on https://{ip}:6443 didn't return \"ok\"")
    else:
        bad = [n["name"] for n in nodes() if n.get("role") == "control-plane" and n.get("ready") != "True"]
        if bad:
            errors.append(f"[ERROR ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: {bad}")
    missing = [c for c in ("etcd", *COMPONENTS) if not os.path.exists(f"{MANIFESTS}/{c}.yaml")]
    if missing:
        errors.append(f"[ERROR StaticPodManifest]: the manifest for {missing[0]} does not exist")
    if errors:
        fatal("[upgrade/health] FATAL: [preflight] Some fatal errors occurred:\n\t" + "\n\t".join(errors) +
              "\n[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`")


def rewrite_manifests(version):
    """The static pod upgrade: each control-plane component's image to the target (etcd unchanged: the lab's)."""
    for c in COMPONENTS:
        f = f"{MANIFESTS}/{c}.yaml"
        pod = yaml.safe_load(open(f))
        pod["spec"]["containers"][0]["image"] = f"registry.k8s.io/{c}:{version}"
        k.write_manifest(f, yaml.safe_dump(pod))
        out(f"[upgrade/staticpods] Component \"{c}\" upgraded successfully!")


def wait_api(ip, version, seconds=300):
    """UpgradeManifestTimeout (5 min): the kubelet restarted the API server at the new version, and it is ready."""
    out(f"[upgrade/staticpods] Waiting for the kubelet to restart the component")
    deadline = time.time() + seconds
    while time.time() < deadline:
        if api_version(ip) == version:
            return
        time.sleep(1)
    fatal(f"[upgrade/apply] FATAL: couldn't upgrade control plane. kubeadm has tried to recover everything into the earlier state. "
          f"Errors faced: timed out waiting for the condition: kube-apiserver did not come up at {version}")


def upgrade_plan(args):
    require_root()
    ip = k.node_ip()
    health(ip)
    out('[upgrade/config] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    _, cfg = cluster_configuration()
    cluster = cfg.get("kubernetesVersion", "")
    target = next((a for a in args if not a.startswith("-")), k_version())
    out(f"[upgrade/versions] Cluster version: {cluster}")
    out(f"[upgrade/versions] kubeadm version: {k_version()}")
    out(f"[upgrade/versions] Target version: {target}")
    out("Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':")
    out("COMPONENT   NODE   CURRENT   TARGET")
    for n in nodes():
        if n.get("kubeletVersion"):
            out(f"kubelet     {n['name']}   {n['kubeletVersion']}   {target}")
    out("Upgrade to the latest stable version:")
    out("COMPONENT                 NODE   CURRENT   TARGET")
    for c in COMPONENTS:
        out(f"{c:<25} {os.uname().nodename}   {local_version(c)}   {target}")
    out("You can now apply the upgrade by executing the following command:")
    out(f"\tkubeadm upgrade apply {target}")


def k_version():
    return os.environ.get("KEELSON_LAB_KUBE_VERSION", "v0.0.0-lab")


def upgrade_apply(args):
    flags = {a for a in args if a.startswith("-")}
    positional = [a for a in args if not a.startswith("-")]
    if len(positional) != 1:
        fatal("error: missing one or more required arguments. Required arguments: [version]")
    target = positional[0] if positional[0].startswith("v") else f"v{positional[0]}"
    if not parse_version(target):
        fatal(f'[upgrade/version] FATAL: unable to parse normalized version "{target}" as a semantic version')
    force = bool(flags & {"--force", "-f"})
    require_root()
    ip = k.node_ip()
    health(ip)
    out('[upgrade/config] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    cm, cfg = cluster_configuration()
    cluster = cfg.get("kubernetesVersion", "")
    out(f'[upgrade/version] You have chosen to change the cluster version to "{target}"')
    out(f"[upgrade/versions] Cluster version: {cluster}")
    out(f"[upgrade/versions] kubeadm version: {k_version()}")
    kubelets = [n["kubeletVersion"] for n in nodes() if n.get("kubeletVersion")]
    mandatory, skippable = policy_errors(cluster, k_version(), kubelets, target)
    if mandatory:
        fatal("[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors:\n\n"
              f"{fmt(mandatory)}\nPlease fix the misalignments highlighted above and try upgrading again")
    if skippable and not force:
        fatal("[upgrade/version] FATAL: the --version argument is invalid due to these errors:\n\n"
              f"{fmt(skippable)}\nCan be bypassed if you pass the --force flag")
    if not flags & {"--yes", "-y", "--force", "-f", "--dry-run"}:
        print("[upgrade] Are you sure you want to proceed with the upgrade? [y/N]: ", end="", flush=True)
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            fatal("won't proceed; the user didn't answer (Y|y) in order to continue")
    out(f'[upgrade/apply] Upgrading your Static Pod-hosted control plane to version "{target}"...')
    rewrite_manifests(target)
    wait_api(ip, target)
    cfg["kubernetesVersion"] = target
    k.put_json(ETCD, "/registry/configmaps/kube-system/kubeadm-config", {**cm, "ClusterConfiguration": yaml.safe_dump(cfg)})
    out('[upgrade/postupgrade] Uploaded the configuration to the "kubeadm-config" ConfigMap')
    out("")
    out(f'[upgrade/successful] SUCCESS! Your cluster was upgraded to "{target}". Enjoy!')
    out("")
    out("[upgrade/kubelet] Now that your control plane is upgraded, please proceed with upgrading your kubelets if you haven't already done so.")


def upgrade_node(args):
    del args
    require_root()
    if not os.path.exists(f"{MANIFESTS}/kube-apiserver.yaml"):
        out("[upgrade] Skipping phase. Not a control plane node.")
        out("[upgrade] The configuration for this node was successfully upgraded!")
        return
    ip = k.node_ip()
    out('[upgrade/config] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...')
    _, cfg = cluster_configuration()
    target = cfg.get("kubernetesVersion", "")
    out(f'[upgrade] Upgrading your Static Pod-hosted control plane instance to version "{target}"...')
    rewrite_manifests(target)
    wait_api(ip, target)
    out("[upgrade] The control plane instance for this node was successfully upgraded!")
    out("[upgrade] The configuration for this node was successfully upgraded!")


def main(argv):
    sub, rest = (argv[0], argv[1:]) if argv else ("", [])
    if sub == "plan":
        upgrade_plan(rest)
    elif sub == "apply":
        upgrade_apply(rest)
    elif sub == "node":
        upgrade_node(rest)
    else:
        fatal(f'unknown command "{sub}" for "kubeadm upgrade" (lab stub)')
