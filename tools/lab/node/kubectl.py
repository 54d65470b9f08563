#!/usr/bin/python3
"""Lab stub of kubectl (installed as /usr/bin/kubectl by the lab's stub kubectl package).

Models what Keelson's node scripts run: `kubectl [--server URL --certificate-authority CA
--client-certificate CRT --client-key KEY | --kubeconfig FILE] delete node NAME [--ignore-not-found]
[--wait=false]` against the API server stub (tools/lab/node/apiserver.py), which authenticates the
client certificate with the cluster CA and lets only kubeadm:cluster-admins and system:masters delete.
Also what the upgrade script (components/cluster/render/upgrade.ts) runs: `get --raw PATH`, `get node NAME
-o jsonpath=...`, `-n NS get configmap NAME -o jsonpath=...` (jsonpath: `{.a.b}` and `[?(@.k=="v")]` filters),
`drain NAME` (cordons: spec.unschedulable; the lab runs no pods, so there is nothing to evict), `cordon` and
`uncordon`. Messages are kubectl's. Every other command fails naming the lab, so a new call in a script is seen.
"""
import json
import os
import ssl
import sys
import tempfile
import urllib.error
import urllib.request

import yaml


def die(msg, code=1):
    print(msg, file=sys.stderr)
    sys.exit(code)


def parse(argv):
    flags, args, i = {}, [], 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            flags[k] = v
        elif a in ("--ignore-not-found", "--ignore-daemonsets", "--delete-emptydir-data", "--force"):
            flags[a[2:]] = "true"
        elif a in ("-n", "-o"):
            if i + 1 >= len(argv):
                die(f"error: flag needs an argument: {a}")
            flags[{"-n": "namespace", "-o": "output"}[a]] = argv[i + 1]
            i += 1
        elif a.startswith("--"):
            if i + 1 >= len(argv):
                die(f"error: flag needs an argument: {a}")
            flags[a[2:]] = argv[i + 1]
            i += 1
        else:
            args.append(a)
        i += 1
    return flags, args


def connection(flags):
    """server, ssl context with the client certificate: the kubeconfig's (--kubeconfig, $KUBECONFIG, ~/.kube/config),
    each of --server, --certificate-authority, --client-certificate, --client-key overriding its part, as kubectl's."""
    import base64
    server = ca = crt = key = ca_data = None
    path = flags.get("kubeconfig") or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    if os.path.exists(path):
        cfg = yaml.safe_load(open(path))
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        server, ca, crt, key = cluster["server"], cluster.get("certificate-authority"), user.get("client-certificate"), user.get("client-key")
        ca_data = base64.b64decode(cluster["certificate-authority-data"]).decode() if "certificate-authority-data" in cluster else None
    elif "server" not in flags:
        die("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
    server = flags.get("server", server)
    if "certificate-authority" in flags:
        ca, ca_data = flags["certificate-authority"], None
    crt, key = flags.get("client-certificate", crt), flags.get("client-key", key)
    for f in (ca, crt, key):
        if f and not os.path.exists(f):
            die(f"error: unable to read client-cert {f} for cluster due to open {f}: no such file or directory")
    ctx = ssl.create_default_context(cafile=ca, cadata=ca_data)
    if crt and key:
        ctx.load_cert_chain(crt, key)
    return server, ctx


def request(flags, method, path, body=None):
    server, ctx = connection(flags)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{server}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/merge-patch+json"} if data else {})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=float(flags.get("request-timeout", "30").rstrip("s") or 30)) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        raw = e.read().decode()
        try:
            body = json.loads(raw or "{}")
        except ValueError:
            body = {"message": raw.strip()}
        if e.code == 401:
            die("error: You must be logged in to the server (Unauthorized)")
        die(f"Error from server ({body.get('reason', e.code)}): {body.get('message', '')}")
    except (urllib.error.URLError, OSError) as e:
        die(f"Unable to connect to the server: {getattr(e, 'reason', e)}")


def jsonpath(template, obj):
    """kubectl's -o jsonpath for `{.a.b}` and `{.a[?(@.k=="v")].b}` (what Keelson's scripts use)."""
    import re
    m = re.fullmatch(r"\{(.*)\}", template.strip())
    if not m:
        die(f"error: error parsing jsonpath {template}, lab stub: only {{...}} templates")
    items = [obj]
    for part in re.findall(r'\.[A-Za-z0-9_-]+|\[\?\(@\.[A-Za-z0-9_]+=="[^"]*"\)\]', m.group(1)):
        nxt = []
        for it in items:
            if part.startswith("[?"):
                key, val = re.fullmatch(r'\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]', part).groups()
                nxt += [x for x in (it if isinstance(it, list) else []) if isinstance(x, dict) and str(x.get(key)) == val]
            elif isinstance(it, dict) and part[1:] in it:
                nxt.append(it[part[1:]])
        items = nxt
    return " ".join(v if isinstance(v, str) else json.dumps(v) for v in items)


def cordon(flags, name, on):
    node = json.loads(request(flags, "GET", f"/api/v1/nodes/{name}"))
    if bool(node["spec"].get("unschedulable")) == on:
        print(f"node/{name} already {'cordoned' if on else 'uncordoned'}")
        return
    request(flags, "PATCH", f"/api/v1/nodes/{name}", {"spec": {"unschedulable": on}})
    print(f"node/{name} {'cordoned' if on else 'uncordoned'}")


def main():
    flags, args = parse(sys.argv[1:])
    if args[:1] == ["get"] and "raw" in flags and len(args) == 1:
        print(request(flags, "GET", flags["raw"]), end="")
        return
    if args[:1] == ["get"] and len(args) == 3 and args[1] in ("node", "nodes", "no", "configmap", "configmaps", "cm"):
        ns = flags.get("namespace", "default")
        path = f"/api/v1/nodes/{args[2]}" if args[1].startswith("no") else f"/api/v1/namespaces/{ns}/configmaps/{args[2]}"
        obj = json.loads(request(flags, "GET", path))
        out = flags.get("output", "")
        if out.startswith("jsonpath="):
            print(jsonpath(out[len("jsonpath="):], obj), end="")
        elif out == "json":
            print(json.dumps(obj, indent=4))
        else:
            die(f"kubectl get -o {out or '(table)'}: not modelled by the Keelson boot lab's kubectl stub")
        return
    if args[:1] in (["drain"], ["cordon"], ["uncordon"]) and len(args) == 2:
        cordon(flags, args[1], args[0] != "uncordon")
        if args[0] == "drain":
            # No pods run in the lab: nothing to evict (DaemonSet pods would be ignored, as asked).
            print(f"node/{args[1]} drained")
        return
    if args[:2] not in (["delete", "node"], ["delete", "nodes"]) or len(args) != 3:
        die(f"kubectl {' '.join(args)}: not modelled by the Keelson boot lab's kubectl stub (tools/lab/node/kubectl.py)")
    name = args[2]
    server, ctx = connection(flags)
    req = urllib.request.Request(f"{server}/api/v1/nodes/{name}", method="DELETE")
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=float(flags.get("request-timeout", "30").rstrip("s") or 30)) as r:
            json.load(r)
        print(f'node "{name}" deleted')
    except urllib.error.HTTPError as e:
        body = json.loads(e.read() or b"{}")
        if e.code == 404:
            if flags.get("ignore-not-found") == "true":
                return
            die(f'Error from server (NotFound): nodes "{name}" not found')
        if e.code == 401:
            die("error: You must be logged in to the server (Unauthorized)")
        die(f"Error from server ({body.get('reason', e.code)}): {body.get('message', '')}")
    except (urllib.error.URLError, OSError) as e:
        die(f"Unable to connect to the server: {getattr(e, 'reason', e)}")


if __name__ == "__main__":
    main()
