#!/usr/bin/python3
"""Lab stub of kubeadm (installed as /usr/bin/kubeadm by the lab's stub kubeadm package).

A state machine over the node's real etcd and the real containerd, following kubeadm 1.33's phases:
  init:  preflight (root, mandatory binaries, the CRI socket answering) -> certs (kubeadm's PKI layout
         below /etc/kubernetes/pki, from the CA files the bootstrap installed) -> kubeconfigs -> etcd and
         kube-apiserver static pod manifests with kubeadm's flags -> kubelet start (the kubelet stub runs
         the static pods: etcd is the real Debian etcd, kube-apiserver is tools/lab/node/apiserver.py)
         -> wait for /readyz -> upload-config, bootstrap token, cluster-info, node registration.
  join:  preflight -> discovery (cluster-info from the endpoint, the CA pinned by caCertHashes, the JWS
         signed by the bootstrap token; an expired token has no signature, as in kubeadm) -> for a control
         plane: certs, check-etcd (a Status call to every member in the member list; any failure fails
         the join, like CheckClusterHealth), etcd member add as learner, etcd static pod, promote, API
         server -> kubelet TLS bootstrap (node registration with the token) -> kubelet.conf.
  reset: removes the local etcd member if etcd answers, stops static pods, deletes kubeadm's files.
  token create: kubeadm's flags and validation; the Secret written with its expiration on the lab clock
         (the API server stub drops expired tokens from cluster-info and refuses them, as the token
         cleaner and the bootstrap signer do), the token or the join command printed.
  upgrade plan|apply|node: see upgrade_plan, upgrade_apply and upgrade_node below (kubeadm's version skew
         policy, its health checks, the static pod manifests' images and kubeadm-config rewritten).
The binary's own version is its package's (KEELSON_LAB_KUBE_VERSION, set by the package's wrapper); the
control-plane manifests' images carry the ClusterConfiguration's kubernetesVersion as their tag, as kubeadm's.
Messages reuse kubeadm's wording. Not modelled: pulling images, the real API server, RBAC, CSR approval, the
controller-manager and scheduler (their manifests are written, never run), etcd upgrades (the lab's etcd is
Debian's 3.5 whatever the version), addons, the kubelet-config ConfigMap, certificate renewal on upgrade.
"""
import glob
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labk8s as k  # noqa: E402
import yaml  # noqa: E402

MANIFESTS = "/etc/kubernetes/manifests"
VERSION = os.environ.get("KEELSON_LAB_KUBE_VERSION", "v0.0.0-lab")
# kubeadm 1.33's etcd image (cmd/kubeadm/app/constants: SupportedEtcdVersion); the lab runs Debian's etcd.
ETCD_IMAGE = "registry.k8s.io/etcd:3.5.21-0"


def out(msg):
    print(msg, flush=True)


def fail(phase, msg):
    print(f"error execution phase {phase}: {msg}" if phase else f"error: {msg}", file=sys.stderr)
    print("To see the stack trace of this error execute with --v=5 or higher", file=sys.stderr)
    sys.exit(1)


def parse_args(argv):
    cmd = argv[0] if argv else ""
    opts = {"config": None, "force": False}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--config":
            opts["config"] = argv[i + 1]
            i += 1
        elif a.startswith("--config="):
            opts["config"] = a.split("=", 1)[1]
        elif a in ("--force", "-f"):
            opts["force"] = True
        i += 1
    return cmd, opts


def load_config(path):
    docs = {}
    with open(path) as f:
        for d in yaml.safe_load_all(f):
            if d:
                docs[d.get("kind")] = d
    return docs


def extra(args, name, default=None):
    for a in args or []:
        if a.get("name") == name:
            return a.get("value")
    return default


def preflight(docs, control_plane):
    out("[preflight] Running pre-flight checks")
    errors = []
    if os.geteuid() != 0:
        errors.append("[ERROR IsPrivilegedUser]: user is not running as root")
    for exe in ("ip", "iptables", "mount", "nsenter"):
        if shutil.which(exe) is None:
            errors.append(f"[ERROR FileExisting-{exe}]: {exe} not found in system path")
    for exe in ("ethtool", "losetup", "socat", "tc", "touch"):
        if shutil.which(exe) is None:
            print(f"\t[WARNING FileExisting-{exe}]: {exe} not found in system path", file=sys.stderr)
    reg = (docs.get("InitConfiguration") or docs.get("JoinConfiguration") or {}).get("nodeRegistration", {})
    sock = reg.get("criSocket", "unix:///var/run/containerd/containerd.sock").replace("unix://", "")
    r = subprocess.run(["ctr", "--address", sock, "plugins", "ls"], capture_output=True, text=True)
    cri_ok = r.returncode == 0 and any(
        line.split()[:2] == ["io.containerd.grpc.v1", "cri"] and line.split()[-1] == "ok" for line in r.stdout.splitlines()
    )
    if not cri_ok:
        errors.append(f"[ERROR CRI]: container runtime is not running: output: {(r.stderr or r.stdout).strip()[:300]}, error: exit status 1")
    if control_plane:
        for port in (6443, 2379, 2380, 10250):
            s = socket.socket()
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                errors.append(f"[ERROR Port-{port}]: Port {port} is in use")
            finally:
                s.close()
    if errors:
        fail("preflight", "[preflight] Some fatal errors occurred:\n\t" + "\n\t".join(errors))


def write_kubeconfig(name, user, server, ca_pem):
    import base64
    os.makedirs("/etc/kubernetes", exist_ok=True)
    cfg = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kubernetes", "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode()}}],
        "users": [{"name": user, "user": {"client-certificate": f"{k.PKI}/lab-{name}.crt", "client-key": f"{k.PKI}/lab-{name}.key"}}],
        "contexts": [{"name": f"{user}@kubernetes", "context": {"cluster": "kubernetes", "user": user}}],
        "current-context": f"{user}@kubernetes",
    }
    fd = os.open(f"/etc/kubernetes/{name}.conf", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(cfg, f)


def require_ca_files(names):
    missing = [n for n in names if not os.path.exists(f"{k.PKI}/{n}")]
    if missing:
        fail("certs/ca", f"failure loading certificate authority: couldn't load {k.PKI}/{missing[0]}: no such file or directory")


def certs(node, ip, cluster, extra_sans):
    out("[certs] Using certificateDir folder \"/etc/kubernetes/pki\"")
    require_ca_files(["ca.crt", "ca.key", "etcd/ca.crt", "etcd/ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub"])
    host = cluster.get("controlPlaneEndpoint", "").rsplit(":", 1)[0]
    sans = [node, "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
    sans += [s for s in [host, *extra_sans] if s and not s[0].isdigit()]
    ips = ["10.96.0.1", ip] + [s for s in extra_sans if s and s[0].isdigit()]
    k.issue("ca", "apiserver", "kube-apiserver", dns=sans, ips=ips, server=True)
    k.issue("ca", "apiserver-kubelet-client", "kube-apiserver-kubelet-client", orgs=["kubeadm:cluster-admins"], client=True)
    k.issue("front-proxy-ca", "front-proxy-client", "front-proxy-client", client=True)
    k.issue("etcd/ca", "etcd/server", node, dns=[node, "localhost"], ips=[ip, "127.0.0.1", "::1"], server=True, client=True)
    k.issue("etcd/ca", "etcd/peer", node, dns=[node, "localhost"], ips=[ip, "127.0.0.1", "::1"], server=True, client=True)
    k.issue("etcd/ca", "etcd/healthcheck-client", "kube-etcd-healthcheck-client", client=True)
    k.issue("etcd/ca", "apiserver-etcd-client", "kube-apiserver-etcd-client", client=True)
    for name, cn, org in (("admin", "kubernetes-admin", "kubeadm:cluster-admins"), ("super-admin", "kubernetes-super-admin", "system:masters"),
                          ("controller-manager", "system:kube-controller-manager", None), ("scheduler", "system:kube-scheduler", None)):
        k.issue("ca", f"lab-{name}", cn, orgs=[org] if org else [], client=True)
        write_kubeconfig(name, cn, f"https://{ip}:6443", open(f"{k.PKI}/ca.crt").read())
    # kubelet.conf's identity (kubeadm init signs it with the CA; a joining control plane's kubelet gets the
    # same identity by TLS bootstrap, which the lab does not model): what the kubelet reports its status as.
    k.issue("ca", "lab-kubelet", f"system:node:{node}", orgs=["system:nodes"], client=True)


def etcd_manifest(node, ip, initial_cluster, state, cluster):
    local = (cluster.get("etcd") or {}).get("local") or {}
    flags = {
        "advertise-client-urls": f"https://{ip}:2379", "cert-file": f"{k.PKI}/etcd/server.crt", "client-cert-auth": "true",
        "data-dir": local.get("dataDir", "/var/lib/etcd"), "experimental-initial-corrupt-check": "true",
        "experimental-watch-progress-notify-interval": "5s", "initial-advertise-peer-urls": f"https://{ip}:2380",
        "initial-cluster": initial_cluster, "key-file": f"{k.PKI}/etcd/server.key",
        "listen-client-urls": f"https://127.0.0.1:2379,https://{ip}:2379", "listen-metrics-urls": "http://127.0.0.1:2381",
        "listen-peer-urls": f"https://{ip}:2380", "name": node, "peer-cert-file": f"{k.PKI}/etcd/peer.crt",
        "peer-client-cert-auth": "true", "peer-key-file": f"{k.PKI}/etcd/peer.key", "peer-trusted-ca-file": f"{k.PKI}/etcd/ca.crt",
        "snapshot-count": "10000", "trusted-ca-file": f"{k.PKI}/etcd/ca.crt",
    }
    if state == "existing":
        flags["initial-cluster-state"] = "existing"
    for a in local.get("extraArgs") or []:
        flags[a["name"]] = a["value"]
    write_pod("etcd", ["etcd"] + [f"--{n}={v}" for n, v in sorted(flags.items())], {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"},
              image=ETCD_IMAGE)


def apiserver_manifest(ip, cluster, etcd_servers):
    api = cluster.get("apiServer") or {}
    flags = {
        "advertise-address": ip, "allow-privileged": "true", "authorization-mode": "Node,RBAC",
        "client-ca-file": f"{k.PKI}/ca.crt", "enable-admission-plugins": "NodeRestriction", "enable-bootstrap-token-auth": "true",
        "etcd-cafile": f"{k.PKI}/etcd/ca.crt", "etcd-certfile": f"{k.PKI}/apiserver-etcd-client.crt",
        "etcd-keyfile": f"{k.PKI}/apiserver-etcd-client.key", "etcd-servers": etcd_servers, "secure-port": "6443",
        "service-account-issuer": "https://kubernetes.default.svc.cluster.local", "service-account-key-file": f"{k.PKI}/sa.pub",
        "service-account-signing-key-file": f"{k.PKI}/sa.key", "service-cluster-ip-range": (cluster.get("networking") or {}).get("serviceSubnet", "10.96.0.0/12"),
        "tls-cert-file": f"{k.PKI}/apiserver.crt", "tls-private-key-file": f"{k.PKI}/apiserver.key",
    }
    for a in api.get("extraArgs") or []:
        flags[a["name"]] = a["value"]
    for flag in ("audit-policy-file", "encryption-provider-config", "authentication-config"):
        if flag in flags and not os.path.exists(flags[flag]):
            fail("control-plane", f"kube-apiserver would not start: --{flag}={flags[flag]}: no such file or directory")
    tag = image_tag(cluster.get("kubernetesVersion") or VERSION)
    write_pod("kube-apiserver", ["kube-apiserver"] + [f"--{n}={v}" for n, v in sorted(flags.items())], {},
              image=f"registry.k8s.io/kube-apiserver:{tag}")
    for comp in ("kube-controller-manager", "kube-scheduler"):
        write_pod(comp, [comp, "--kubeconfig=/etc/kubernetes/" + comp.split("-", 1)[1] + ".conf"], {}, run=False,
                  image=f"registry.k8s.io/{comp}:{tag}")


def image_tag(version):
    return version if version.startswith("v") else f"v{version}"


def write_pod(name, command, annotations, run=True, image=None):
    os.makedirs(MANIFESTS, exist_ok=True)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "kube-system", "annotations": annotations,
           "labels": {"component": name, "tier": "control-plane"}},
           "spec": {"hostNetwork": True, "containers": [{"name": name, "image": image or f"registry.k8s.io/{name}", "command": command}]}}
    if not run:
        pod["metadata"]["annotations"]["lab.keelson.io/not-run"] = "true"
    k.write_manifest(f"{MANIFESTS}/{name}.yaml", yaml.safe_dump(pod))


def kubelet_start(docs, node, ip):
    os.makedirs("/var/lib/kubelet", exist_ok=True)
    kcfg = docs.get("KubeletConfiguration") or {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}
    with open("/var/lib/kubelet/config.yaml", "w") as f:
        yaml.safe_dump(kcfg, f)
    reg = (docs.get("InitConfiguration") or docs.get("JoinConfiguration") or {}).get("nodeRegistration", {})
    args = " ".join(f"--{a['name']}={a['value']}" for a in reg.get("kubeletExtraArgs") or [])
    with open("/var/lib/kubelet/kubeadm-flags.env", "w") as f:
        f.write(f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={reg.get("criSocket", "")} {args}"\n')
    out("[kubelet-start] Starting the kubelet")
    r = subprocess.run(["systemctl", "restart", "kubelet"], capture_output=True, text=True)
    if r.returncode != 0:
        fail("kubelet-start", f"error starting the kubelet: {r.stderr.strip()}")


def wait_ready(url, seconds, phase):
    ctx = ssl.create_default_context(cafile=f"{k.PKI}/ca.crt")
    deadline = time.time() + seconds
    last = ""
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=3) as r:
                if r.status == 200:
                    return
        except Exception as e:  # noqa: BLE001
            last = str(e)
        time.sleep(1)
    fail(phase, f"could not check the health of {url}: {last}; the API server did not become ready within {seconds}s")


def node_name(docs):
    """kubeadm's node name: nodeRegistration.name, defaulted to the lower-cased hostname. It names the
    Node, the etcd member, the certificates' SANs and the kubelet's client identity."""
    reg = (docs.get("InitConfiguration") or docs.get("JoinConfiguration") or {}).get("nodeRegistration", {})
    return reg.get("name") or socket.gethostname().lower()


def registration(docs, node):
    reg = (docs.get("InitConfiguration") or docs.get("JoinConfiguration") or {}).get("nodeRegistration", {})
    labels = {}
    for kv in (extra(reg.get("kubeletExtraArgs"), "node-labels") or "").split(","):
        if "=" in kv:
            labels[kv.split("=", 1)[0]] = kv.split("=", 1)[1]
    return {"name": reg.get("name", node), "labels": labels, "taints": reg.get("taints") or [],
            "providerID": extra(reg.get("kubeletExtraArgs"), "provider-id", "")}


def ttl_seconds(ttl):
    if not ttl:
        return 24 * 3600
    units = {"s": 1, "m": 60, "h": 3600}
    total, num = 0, ""
    for ch in str(ttl):
        if ch.isdigit() or ch == ".":
            num += ch
        else:
            total += float(num or 0) * units[ch]
            num = ""
    return total


def init(opts):
    docs = load_config(opts["config"])
    initc, cluster = docs.get("InitConfiguration", {}), docs.get("ClusterConfiguration", {})
    node, ip = node_name(docs), k.node_ip()
    preflight(docs, True)
    certs(node, ip, cluster, (cluster.get("apiServer") or {}).get("certSANs") or [])
    out("[etcd] Creating static Pod manifest for local etcd in \"/etc/kubernetes/manifests\"")
    etcd_manifest(node, ip, f"{node}=https://{ip}:2380", "new", cluster)
    apiserver_manifest(ip, cluster, "https://127.0.0.1:2379")
    kubelet_start(docs, node, ip)
    out("[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods")
    wait_ready(f"https://{ip}:6443/readyz", 240, "wait-control-plane")
    ep = "https://127.0.0.1:2379"
    k.put_json(ep, "/registry/configmaps/kube-system/kubeadm-config", {"ClusterConfiguration": yaml.safe_dump(cluster)})
    now = k.lab_now()
    for t in initc.get("bootstrapTokens") or []:
        tid, secret = t["token"].split(".")
        ttl = ttl_seconds(t.get("ttl"))
        exp = None if ttl == 0 else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + ttl))
        k.put_json(ep, f"/registry/secrets/kube-system/bootstrap-token-{tid}", {"token-id": tid, "token-secret": secret,
                   "expiration": exp, "usages": t.get("usages") or [], "groups": t.get("groups") or []})
    endpoint = cluster.get("controlPlaneEndpoint") or f"{ip}:6443"
    import base64
    kubeconfig = yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [{"name": "", "cluster": {
        "server": f"https://{endpoint}", "certificate-authority-data": base64.b64encode(open(f"{k.PKI}/ca.crt", "rb").read()).decode()}}]})
    k.put_json(ep, "/registry/configmaps/kube-public/cluster-info", {"kubeconfig": kubeconfig})
    k.put_json(ep, f"/registry/minions/{node}", {**registration(docs, node), "role": "control-plane", "address": ip, "registeredAt": now})
    write_kubeconfig("kubelet", f"system:node:{node}", f"https://{endpoint}", open(f"{k.PKI}/ca.crt").read())
    out("Your Kubernetes control-plane has initialized successfully!")


def discovery(join):
    bt = (join.get("discovery") or {}).get("bootstrapToken") or {}
    endpoint, token = bt.get("apiServerEndpoint"), bt.get("token", "")
    tid, _, tsecret = token.partition(".")
    out(f"[preflight] Reading configuration from the \"kubeadm-config\" ConfigMap; discovery via {endpoint}")
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    url = f"https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info"
    # Like kubeadm's token discovery: retry until the signed cluster-info appears, within timeouts.discovery.
    timeout = ttl_seconds((join.get("timeouts") or {}).get("discovery") or "5m")
    deadline, last = time.time() + timeout, ""
    while True:
        try:
            with urllib.request.urlopen(url, context=insecure, timeout=10) as r:
                cm = json.load(r)
            jws = (cm.get("data") or {}).get(f"jws-kubeconfig-{tid}")
            if jws:
                break
            last = f"could not find a JWS signature in the cluster-info ConfigMap for token ID \"{tid}\""
        except Exception as e:  # noqa: BLE001
            last = f"failed to request the cluster-info ConfigMap: Get \"{url}\": {e}"
        if time.time() > deadline:
            fail("preflight", f"couldn't validate the identity of the API Server: {last}")
        print(f"[discovery] {last}; will try again", file=sys.stderr, flush=True)
        time.sleep(5)
    content = cm["data"]["kubeconfig"]
    if k.jws_detached(content, tid, tsecret) != jws:
        fail("preflight", "couldn't validate the identity of the API Server: failed to verify JWS signature of received cluster info object, can't trust this API Server")
    import base64
    ca = base64.b64decode(yaml.safe_load(content)["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    pins = bt.get("caCertHashes") or []
    if not bt.get("unsafeSkipCAVerification") and k.spki_hash(ca) not in pins:
        fail("preflight", f"couldn't validate the identity of the API Server: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys \"{k.spki_hash(ca)}\" are pinned")
    return endpoint, token, ca


def check_etcd(ip, token):
    """kubeadm's check-etcd: endpoints from the etcd pods' annotations (read with the bootstrap token's
    client, as kubeadm's join data client), then a Status call to every listed member."""
    out("[check-etcd] Checking that the etcd cluster is healthy")
    pods = api_get("/lab/etcd-endpoints", token)
    endpoints = ",".join(pods)
    r = k.etcdctl(endpoints, "member", "list", "-w", "json", timeout="5s", check=False)
    if r.returncode != 0:
        fail("check-etcd", f"etcd cluster is not healthy: failed to list members: {r.stderr.strip()}")
    members = json.loads(r.stdout).get("members", [])
    for m in members:
        for url in m.get("clientURLs") or []:
            s = k.etcdctl(url, "endpoint", "status", timeout="5s", check=False)
            if s.returncode != 0:
                fail("check-etcd", f"etcd cluster is not healthy: failed to dial endpoint {url} with maintenance client: context deadline exceeded")
    return members, endpoints


API = {}


def api_get(path, token=None):
    req = urllib.request.Request(f"https://{API['endpoint']}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    ctx = ssl.create_default_context(cadata=API["ca"])
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.load(r)


def api_post(path, body, token):
    req = urllib.request.Request(f"https://{API['endpoint']}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    ctx = ssl.create_default_context(cadata=API["ca"])
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        fail("kubelet-start", f"error uploading crisocket: TLS bootstrap failed: the server has asked for the client to provide credentials ({e.code} {e.read().decode()[:200]})")


def join(opts):
    docs = load_config(opts["config"])
    jc = docs.get("JoinConfiguration", {})
    node, ip = node_name(docs), k.node_ip()
    control_plane = "controlPlane" in jc
    preflight(docs, control_plane)
    endpoint, token, ca = discovery(jc)
    API.update(endpoint=endpoint, ca=ca)
    if control_plane:
        cluster = yaml.safe_load(api_get("/lab/kubeadm-config", token)["ClusterConfiguration"])
        certs(node, ip, cluster, (cluster.get("apiServer") or {}).get("certSANs") or [])
        members, endpoints = check_etcd(ip, token)
        peers = [f"{m['name']}={m['peerURLs'][0]}" for m in members if m.get("name")]
        out(f"[etcd] Announced new etcd member joining to the existing etcd cluster")
        r = k.etcdctl(endpoints, "member", "add", node, f"--peer-urls=https://{ip}:2380", "--learner", timeout="5s", check=False)
        if r.returncode != 0:
            fail("etcd-join", f"error creating local etcd static pod manifest file: etcdserver: {r.stderr.strip()}")
        etcd_manifest(node, ip, ",".join(peers + [f"{node}=https://{ip}:2380"]), "existing", cluster)
        apiserver_manifest(ip, cluster, "https://127.0.0.1:2379")
    kubelet_start(docs, node, ip)
    if control_plane:
        deadline = time.time() + 120
        while True:
            r = k.etcdctl(endpoints, "member", "list", "-w", "json", check=False)
            mid = next((m["ID"] for m in json.loads(r.stdout or "{}").get("members", []) if m.get("name") == node or
                        f"https://{ip}:2380" in (m.get("peerURLs") or [])), None) if r.returncode == 0 else None
            if mid is not None and k.etcdctl(endpoints, "member", "promote", format(mid, "x"), check=False).returncode == 0:
                break
            if time.time() > deadline:
                fail("etcd-join", "error waiting for etcd learner to be promoted: timed out waiting for the condition")
            time.sleep(2)
        out("[etcd] Waiting for the new etcd member to join the cluster")
        wait_ready(f"https://{ip}:6443/readyz", 240, "control-plane-join")
    out("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap")
    api_post("/api/v1/nodes", {**registration(docs, node), "role": "control-plane" if control_plane else "worker", "address": ip}, token)
    write_kubeconfig("kubelet", f"system:node:{node}", f"https://{endpoint}", ca)
    out("This node has joined the cluster")


def reset(opts):
    out("[reset] Reading configuration from the cluster...")
    if os.path.exists(f"{MANIFESTS}/etcd.yaml") and os.path.exists(f"{k.PKI}/apiserver-etcd-client.crt"):
        r = k.etcdctl("https://127.0.0.1:2379", "member", "list", "-w", "json", check=False)
        if r.returncode == 0:
            # As kubeadm: the member whose peer URL is this node's advertise address.
            peer = f"https://{k.node_ip()}:2380"
            for m in json.loads(r.stdout).get("members", []):
                if peer in (m.get("peerURLs") or []):
                    k.etcdctl("https://127.0.0.1:2379", "member", "remove", format(m["ID"], "x"), check=False)
                    out(f"[reset] Removed the etcd member {m.get('name')} ({peer})")
        else:
            print("[reset] WARNING: etcd is not reachable; the local member was not removed", file=sys.stderr)
    for f in glob.glob(f"{MANIFESTS}/*.yaml"):
        os.remove(f)
    subprocess.run(["systemctl", "stop", "kubelet"], capture_output=True)
    time.sleep(1)
    for d in ("/var/lib/etcd", "/var/lib/kubelet"):
        shutil.rmtree(d, ignore_errors=True)
    for f in glob.glob("/etc/kubernetes/*.conf"):
        os.remove(f)
    shutil.rmtree(k.PKI, ignore_errors=True)
    out("[reset] Deleted contents of the etcd data directory, kubeconfigs and certificates")


TOKEN_RE = r"\A[a-z0-9]{6}\.[a-z0-9]{16}\Z"
GROUP_RE = r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\Z"


def token_create(argv):
    """`kubeadm token create [token] [--ttl 24h0m0s] [--usages signing,authentication] [--groups ...]
    [--description ...] [--print-join-command] [--kubeconfig /etc/kubernetes/admin.conf]`: validates as
    kubeadm does, needs the kubeconfig and an answering API server, stores the bootstrap-token Secret
    (expiration = the lab clock + ttl; 0 never expires) and prints the token or the join command."""
    import re
    import secrets as rnd
    o = {"ttl": "24h0m0s", "usages": "signing,authentication", "groups": "system:bootstrappers:kubeadm:default-node-token",
         "description": "", "kubeconfig": "/etc/kubernetes/admin.conf"}
    print_join, positional, i = False, [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--print-join-command":
            print_join = True
        elif a.startswith("--") and "=" in a:
            o[a[2:].split("=", 1)[0]] = a.split("=", 1)[1]
        elif a.startswith("--"):
            if i + 1 >= len(argv):
                fail("", f"flag needs an argument: {a}")
            o[a[2:]] = argv[i + 1]
            i += 1
        else:
            positional.append(a)
        i += 1
    unknown = set(o) - {"ttl", "usages", "groups", "description", "kubeconfig"}
    if unknown:
        fail("", f"unknown flag: --{sorted(unknown)[0]} (lab stub)")
    token = positional[0] if positional else "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(6)) + "." + "".join(
        rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
    if not re.match(TOKEN_RE, token):
        fail("", f"the bootstrap token \"{token[:6]}...\" was not of the form \"[a-z0-9]{{6}}.[a-z0-9]{{16}}\"")
    usages = [u for u in o["usages"].split(",") if u]
    bad = [u for u in usages if u not in ("signing", "authentication")]
    if bad:
        fail("", f"invalid bootstrap token usage string: {bad[0]}, valid usage options: authentication, signing")
    groups = [g for g in o["groups"].split(",") if g]
    for g in groups:
        if not re.match(GROUP_RE, g):
            fail("", f"bootstrap group {g!r} is invalid (must match {GROUP_RE[2:-2]})")
    if not os.path.exists(o["kubeconfig"]):
        fail("", f"failed to load admin kubeconfig: open {o['kubeconfig']}: no such file or directory")
    with open(o["kubeconfig"]) as f:
        cfg = yaml.safe_load(f)
    server = cfg["clusters"][0]["cluster"]["server"]
    wait_ready(f"{server}/readyz", 10, "")
    ttl = ttl_seconds(o["ttl"])
    now = k.lab_now()
    tid, secret = token.split(".")
    exp = None if ttl == 0 else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + ttl))
    k.put_json("https://127.0.0.1:2379", f"/registry/secrets/kube-system/bootstrap-token-{tid}", {
        "token-id": tid, "token-secret": secret, "expiration": exp, "usages": usages, "groups": groups,
        "description": o["description"]})
    if print_join:
        endpoint = server.replace("https://", "")
        cm = k.get_json("https://127.0.0.1:2379", "/registry/configmaps/kube-public/cluster-info")
        if cm:
            endpoint = yaml.safe_load(cm["kubeconfig"])["clusters"][0]["cluster"]["server"].replace("https://", "")
        ca = open(f"{k.PKI}/ca.crt").read()
        out(f"kubeadm join {endpoint} --token {token} --discovery-token-ca-cert-hash {k.spki_hash(ca)} ")
    else:
        out(token)


def main():
    # What this node's kubeadm was asked to do, and when (the lab's record; not a kubeadm file).
    try:
        os.makedirs("/var/log/keelson-lab", exist_ok=True)
        with open("/var/log/keelson-lab/kubeadm.log", "a") as f:
            f.write(f"{time.time():.3f} {VERSION} start {' '.join(sys.argv[1:])}\n")
        import atexit
        atexit.register(lambda: open("/var/log/keelson-lab/kubeadm.log", "a").write(
            f"{time.time():.3f} {VERSION} end {' '.join(sys.argv[1:])}\n"))
    except OSError:
        pass
    if sys.argv[1:3] == ["token", "create"]:
        return token_create(sys.argv[3:])
    if sys.argv[1:2] == ["upgrade"]:
        import kubeadm_upgrade
        return kubeadm_upgrade.main(sys.argv[2:])
    cmd, opts = parse_args(sys.argv[1:])
    if cmd == "version":
        out(f"kubeadm version: &version.Info{{GitVersion:\"{VERSION}\"}}")
    elif cmd == "init":
        init(opts)
    elif cmd == "join":
        join(opts)
    elif cmd == "reset":
        reset(opts)
    else:
        fail("", f"unknown command \"{cmd}\" for \"kubeadm\" (lab stub)")


if __name__ == "__main__":
    main()
