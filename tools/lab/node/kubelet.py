#!/usr/bin/python3
"""Lab stub of the kubelet (installed as /usr/bin/kubelet by the lab's stub kubelet package).

Runs only static pods: every second it reads /etc/kubernetes/manifests/*.yaml and runs each pod's
first container command as a host-network process (etcd: the real Debian etcd; kube-apiserver: the lab's
apiserver.py), restarting it when it exits and stopping it when its manifest goes. Without
/var/lib/kubelet/config.yaml it exits 1 like the real kubelet before kubeadm ran. Not modelled:
containers, images, the node lease, pods from the API server, eviction, certificate rotation.
"""
import glob
import os
import signal
import subprocess
import sys
import time

import yaml

LAB = "/opt/keelson-lab"
BINARIES = {"etcd": [f"{LAB}/bin/etcd"], "kube-apiserver": ["/usr/bin/python3", f"{LAB}/node/apiserver.py"]}
running = {}


def stop_all(*_):
    for p in running.values():
        p.terminate()
    for p in running.values():
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
    sys.exit(0)


def main():
    if not os.path.exists("/var/lib/kubelet/config.yaml"):
        print("E0000 run.go:72] \"command failed\" err=\"failed to load kubelet config file, path: /var/lib/kubelet/config.yaml\"", file=sys.stderr)
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop_all)
    os.makedirs("/var/log/pods", exist_ok=True)
    while True:
        wanted = {}
        for f in glob.glob("/etc/kubernetes/manifests/*.yaml"):
            try:
                pod = yaml.safe_load(open(f))
            except Exception:  # noqa: BLE001
                continue
            if (pod.get("metadata", {}).get("annotations") or {}).get("lab.keelson.io/not-run"):
                continue
            cmd = pod["spec"]["containers"][0]["command"]
            if cmd[0] in BINARIES:
                wanted[pod["metadata"]["name"]] = BINARIES[cmd[0]] + cmd[1:]
        for name in list(running):
            if name not in wanted:
                running.pop(name).terminate()
        for name, cmd in wanted.items():
            p = running.get(name)
            if p is None or p.poll() is not None:
                log = open(f"/var/log/pods/{name}.log", "a")
                running[name] = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        time.sleep(1)


if __name__ == "__main__":
    main()
