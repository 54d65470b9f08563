#!/usr/bin/python3
"""Lab stub of the kubelet (installed as /usr/bin/kubelet by the lab's stub kubelet package).

Runs only static pods: every second it reads /etc/kubernetes/manifests/*.yaml and runs each pod's
first container command as a host-network process (etcd: the real Debian etcd; kube-apiserver: the lab's
apiserver.py, told its image in KEELSON_LAB_IMAGE), restarting it when it exits or when its manifest's
command or image changes (the real kubelet replaces a static pod whose spec changed: what `kubeadm upgrade`
relies on) and stopping it when its manifest goes. Its version is its package's (KEELSON_LAB_KUBE_VERSION,
set by the package's wrapper, tools/lab/packages.ts). With a kubeconfig that has a client certificate
(/etc/kubernetes/kubelet.conf) it reports its Node's status to the API server: nodeInfo.kubeletVersion and
the Ready condition, True while the container runtime's socket answers (the real kubelet's "container
runtime is down" NotReady), on every change and every 20 s. Without /var/lib/kubelet/config.yaml it exits 1
like the real kubelet before kubeadm ran. Not modelled: containers, images, the node lease, pods from the
API server, eviction, certificate rotation, TLS bootstrap (a worker's kubelet reports no status), and a
restart of the kubelet restarts its static pods (the real kubelet leaves their containers running).
"""
import glob
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

import yaml

LAB = "/opt/keelson-lab"
BINARIES = {"etcd": [f"{LAB}/bin/etcd"], "kube-apiserver": ["/usr/bin/python3", f"{LAB}/node/apiserver.py"]}
VERSION = os.environ.get("KEELSON_LAB_KUBE_VERSION", "v0.0.0-lab")
running = {}
status = {"sent": None, "at": 0.0}


def stop_all(*_):
    for p, _ in running.values():
        p.terminate()
    for p, _ in running.values():
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
    sys.exit(0)


def cri_socket():
    try:
        with open("/var/lib/kubelet/kubeadm-flags.env") as f:
            for word in f.read().replace('"', " ").split():
                if word.startswith("--container-runtime-endpoint="):
                    return word.split("=", 1)[1].replace("unix://", "")
    except OSError:
        pass
    return "/run/containerd/containerd.sock"


def runtime_ready():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    try:
        s.connect(cri_socket())
        return True
    except OSError:
        return False
    finally:
        s.close()


def report_status():
    """PUT /api/v1/nodes/<name>/status with the kubelet's client certificate (system:node:<name>)."""
    try:
        cfg = yaml.safe_load(open("/etc/kubernetes/kubelet.conf"))
    except (OSError, yaml.YAMLError):
        return
    user = cfg["users"][0]
    crt, key = user["user"].get("client-certificate"), user["user"].get("client-key")
    if not (crt and key and os.path.exists(crt) and os.path.exists(key)) or not user["name"].startswith("system:node:"):
        return
    name = user["name"][len("system:node:"):]
    ready = runtime_ready()
    body = {"kubeletVersion": VERSION, "ready": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready else "container runtime is down"}
    if body == status["sent"] and time.time() - status["at"] < 20:
        return
    import base64
    cluster = cfg["clusters"][0]["cluster"]
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    ctx.load_cert_chain(crt, key)
    req = urllib.request.Request(f"{cluster['server']}/api/v1/nodes/{name}/status", data=json.dumps(body).encode(),
                                 method="PUT", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=5):
            status.update(sent=body, at=time.time())
    except Exception as e:  # noqa: BLE001
        print(f"E0000 kubelet_node_status.go] \"Error updating node status, will retry\" err=\"{e}\"", file=sys.stderr, flush=True)


def main():
    if not os.path.exists("/var/lib/kubelet/config.yaml"):
        print("E0000 run.go:72] \"command failed\" err=\"failed to load kubelet config file, path: /var/lib/kubelet/config.yaml\"", file=sys.stderr)
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop_all)
    os.makedirs("/var/log/pods", exist_ok=True)
    print(f"I0000 server.go] \"Kubelet version\" kubeletVersion=\"{VERSION}\"", file=sys.stderr, flush=True)
    tick = 0
    while True:
        wanted = {}
        for f in glob.glob("/etc/kubernetes/manifests/*.yaml"):
            try:
                pod = yaml.safe_load(open(f))
            except Exception:  # noqa: BLE001
                continue
            # The kubelet's file source skips a manifest it cannot decode (an empty file is none) and reads it again.
            if not isinstance(pod, dict):
                continue
            if (pod.get("metadata", {}).get("annotations") or {}).get("lab.keelson.io/not-run"):
                continue
            c = pod["spec"]["containers"][0]
            if c["command"][0] in BINARIES:
                wanted[pod["metadata"]["name"]] = (BINARIES[c["command"][0]] + c["command"][1:], c.get("image", ""))
        for name in list(running):
            if name not in wanted or running[name][1] != wanted[name]:
                p = running.pop(name)[0]
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        for name, (cmd, image) in wanted.items():
            p = running.get(name, (None, None))[0]
            if p is None or p.poll() is not None:
                log = open(f"/var/log/pods/{name}.log", "a")
                env = {**os.environ, "KEELSON_LAB_IMAGE": image}
                running[name] = (subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env), (cmd, image))
        if tick % 2 == 0:
            report_status()
        tick += 1
        time.sleep(1)


if __name__ == "__main__":
    main()
