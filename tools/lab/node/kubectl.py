#!/usr/bin/python3
"""Lab stub of kubectl (installed as /usr/bin/kubectl by the lab's stub kubectl package).

Models what Keelson's node scripts run: `kubectl [--server URL --certificate-authority CA
--client-certificate CRT --client-key KEY | --kubeconfig FILE] delete node NAME [--ignore-not-found]
[--wait=false]` against the API server stub (tools/lab/node/apiserver.py), which authenticates the
client certificate with the cluster CA and lets only kubeadm:cluster-admins and system:masters delete.
Messages are kubectl's. Every other command fails naming the lab, so a new call in a script is seen.
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
        elif a in ("--ignore-not-found",):
            flags[a[2:]] = "true"
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
    """server, ssl context with the client certificate, from flags or the kubeconfig."""
    if "server" in flags:
        server, ca, crt, key = flags["server"], flags.get("certificate-authority"), flags.get("client-certificate"), flags.get("client-key")
        ca_data = None
    else:
        path = flags.get("kubeconfig") or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        if not os.path.exists(path):
            die("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
        cfg = yaml.safe_load(open(path))
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        server, ca, crt, key = cluster["server"], cluster.get("certificate-authority"), user.get("client-certificate"), user.get("client-key")
        import base64
        ca_data = base64.b64decode(cluster["certificate-authority-data"]).decode() if "certificate-authority-data" in cluster else None
    for f in (ca, crt, key):
        if f and not os.path.exists(f):
            die(f"error: unable to read client-cert {f} for cluster due to open {f}: no such file or directory")
    ctx = ssl.create_default_context(cafile=ca, cadata=ca_data)
    if crt and key:
        ctx.load_cert_chain(crt, key)
    return server, ctx


def main():
    flags, args = parse(sys.argv[1:])
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
