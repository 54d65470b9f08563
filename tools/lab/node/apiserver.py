#!/usr/bin/python3
"""Lab stub of kube-apiserver, run by the kubelet stub from kubeadm's static pod manifest (its flags).

Serves HTTPS with --tls-cert-file on --secure-port and stores everything in the real etcd named by
--etcd-servers with the --etcd-* client certificate:
  GET  /readyz /livez /healthz   200 "ok" only while etcd answers (as the real etcd readiness check)
  GET  /api/v1/namespaces/kube-public/configmaps/cluster-info  with a jws-kubeconfig-<id> entry per
       unexpired bootstrap token (what the bootstrap signer controller maintains)
  GET  /lab/kubeadm-config, /lab/etcd-endpoints   (bootstrap-token authenticated)
  POST /api/v1/nodes            node registration, authenticated by an unexpired bootstrap token
  GET  /api/v1/nodes            the registered nodes
  DELETE /api/v1/nodes/<name>   with a client certificate signed by --client-ca-file whose
       organisation is kubeadm:cluster-admins or system:masters (RBAC's cluster-admin binding)
  GET  /version                 gitVersion: the tag of the image its static pod runs (KEELSON_LAB_IMAGE)
  GET  /api/v1/nodes/<name>, PATCH /api/v1/nodes/<name> (spec.unschedulable: cordon, uncordon),
  GET  /api/v1/namespaces/kube-system/configmaps/kubeadm-config   as cluster admins (above)
  PUT  /api/v1/nodes/<name>/status   by that node's kubelet only (client certificate CN system:node:<name>,
       O system:nodes: the NodeRestriction admission plugin); nodeInfo.kubeletVersion and Ready
Each change of a Node is one write of /registry/minions/<name> (none when nothing changed), and each API
server records its version at start in /registry/lab/apiservers/<address>: etcd's revision history is
the lab's ordered record of an upgrade (tools/lab/upgrade.ts).
Not modelled: every other API, authorization, admission, watch, the real kube-apiserver's flags checks.
"""
import json
import os
import ssl
import threading
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, "/opt/keelson-lab/node")
import labk8s as k  # noqa: E402

flags = {}
for a in sys.argv[1:]:
    if a.startswith("--") and "=" in a:
        n, v = a[2:].split("=", 1)
        flags[n] = v
ETCD = flags["etcd-servers"]
IMAGE = os.environ.get("KEELSON_LAB_IMAGE", "")
VERSION = IMAGE.rsplit(":", 1)[1] if ":" in IMAGE else "v0.0.0-lab"
health = {"at": 0.0, "ok": False}
ADMINS = {"kubeadm:cluster-admins", "system:masters"}


def etcd_ok():
    if time.time() - health["at"] > 1:
        r = k.etcdctl(ETCD, "endpoint", "health", timeout="2s", check=False)
        health.update(at=time.time(), ok=r.returncode == 0)
    return health["ok"]


def tokens():
    return k.list_json(ETCD, "/registry/secrets/kube-system/bootstrap-token-")


def authenticated(header):
    if not header.startswith("Bearer "):
        return False
    tid, _, secret = header[7:].partition(".")
    now = k.lab_now()
    return any(t["token-id"] == tid and t["token-secret"] == secret and k.token_valid(t, now) for t in tokens())


def node_object(n):
    """A stored node (flat, the lab's) as the v1 Node kubectl reads."""
    conds = [{"type": "Ready", "status": n["ready"], "reason": n.get("reason", ""), "message": n.get("message", "")}] if "ready" in n else []
    return {"kind": "Node", "apiVersion": "v1", "metadata": {"name": n["name"], "labels": n.get("labels") or {}},
            "spec": {"unschedulable": bool(n.get("unschedulable")), "providerID": n.get("providerID", "")},
            "status": {"nodeInfo": {"kubeletVersion": n.get("kubeletVersion", "")}, "conditions": conds}}


def record_version():
    """The API server's record of its version (etcd history orders it against the nodes' changes)."""
    while True:
        try:
            k.put_json(ETCD, f"/registry/lab/apiservers/{flags.get('advertise-address', '')}",
                       {"version": VERSION, "started": time.time()})
            return
        except Exception:  # noqa: BLE001
            time.sleep(1)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("apiserver: " + fmt % args + "\n")

    def reply(self, code, body):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def subject(self):
        cert = self.connection.getpeercert() or {}
        cn = next((v for rdn in cert.get("subject", ()) for kk, v in rdn if kk == "commonName"), "")
        orgs = {v for rdn in cert.get("subject", ()) for kk, v in rdn if kk == "organizationName"}
        return bool(cert), cn, orgs

    def admin(self, verb, resource):
        """None when the client is a cluster admin, else the reply already sent."""
        has, cn, orgs = self.subject()
        if not has:
            self.reply(401, {"kind": "Status", "reason": "Unauthorized", "message": "Unauthorized"})
            return False
        if not ADMINS & orgs:
            self.reply(403, {"kind": "Status", "reason": "Forbidden", "message": f'User "{cn}" cannot {verb} {resource}'})
            return False
        return True

    def body(self):
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")

    def update_node(self, name, fields):
        n = k.get_json(ETCD, f"/registry/minions/{name}")
        if n is None:
            return self.reply(404, {"kind": "Status", "reason": "NotFound", "message": f'nodes "{name}" not found'})
        changed = {**n, **fields}
        if changed != n:
            changed["changedAt"] = time.time()
            k.put_json(ETCD, f"/registry/minions/{name}", changed)
        self.reply(200, node_object(changed))

    def do_PUT(self):
        path = self.path.split("?")[0]
        if not (path.startswith("/api/v1/nodes/") and path.endswith("/status")):
            return self.reply(404, {"kind": "Status", "reason": "NotFound"})
        name = path[len("/api/v1/nodes/"):-len("/status")]
        has, cn, orgs = self.subject()
        if not has:
            return self.reply(401, {"kind": "Status", "reason": "Unauthorized", "message": "Unauthorized"})
        if cn != f"system:node:{name}" or "system:nodes" not in orgs:
            return self.reply(403, {"kind": "Status", "reason": "Forbidden",
                                    "message": f'nodes "{name}" is forbidden: node "{cn}" is not allowed to modify node "{name}"'})
        if not etcd_ok():
            return self.reply(503, {"kind": "Status", "reason": "ServiceUnavailable", "message": "etcd unavailable"})
        b = self.body()
        self.update_node(name, {f: b[f] for f in ("kubeletVersion", "ready", "reason", "message") if f in b})

    def do_PATCH(self):
        path = self.path.split("?")[0]
        if not path.startswith("/api/v1/nodes/"):
            return self.reply(404, {"kind": "Status", "reason": "NotFound"})
        name = path[len("/api/v1/nodes/"):]
        if not self.admin("patch", f'resource "nodes" "{name}"'):
            return
        if not etcd_ok():
            return self.reply(503, {"kind": "Status", "reason": "ServiceUnavailable", "message": "etcd unavailable"})
        spec = self.body().get("spec") or {}
        self.update_node(name, {"unschedulable": bool(spec.get("unschedulable"))} if "unschedulable" in spec else {})

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/version":
            return self.reply(200, {"gitVersion": VERSION, "major": "1", "minor": VERSION.split(".")[1] if "." in VERSION else "0"})
        if path.startswith("/api/v1/nodes/") or path == "/api/v1/namespaces/kube-system/configmaps/kubeadm-config":
            if not self.admin("get", path):
                return
            if not etcd_ok():
                return self.reply(503, {"kind": "Status", "reason": "ServiceUnavailable", "message": "etcd unavailable"})
            if path.startswith("/api/v1/nodes/"):
                name = path[len("/api/v1/nodes/"):]
                n = k.get_json(ETCD, f"/registry/minions/{name}")
                if n is None:
                    return self.reply(404, {"kind": "Status", "reason": "NotFound", "message": f'nodes "{name}" not found'})
                return self.reply(200, node_object(n))
            cm = k.get_json(ETCD, "/registry/configmaps/kube-system/kubeadm-config")
            if cm is None:
                return self.reply(404, {"kind": "Status", "reason": "NotFound", "message": 'configmaps "kubeadm-config" not found'})
            return self.reply(200, {"kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": "kube-system"}, "data": cm})
        if path in ("/readyz", "/livez", "/healthz"):
            return self.reply(200, "ok") if etcd_ok() else self.reply(500, "[-]etcd failed: reason withheld\nreadyz check failed")
        if not etcd_ok():
            return self.reply(503, "etcd unavailable")
        if path == "/api/v1/namespaces/kube-public/configmaps/cluster-info":
            cm = k.get_json(ETCD, "/registry/configmaps/kube-public/cluster-info")
            if cm is None:
                return self.reply(404, {"kind": "Status", "reason": "NotFound"})
            now = k.lab_now()
            data = {"kubeconfig": cm["kubeconfig"]}
            for t in tokens():
                if k.token_valid(t, now) and "signing" in t.get("usages", ["signing"]):
                    data[f"jws-kubeconfig-{t['token-id']}"] = k.jws_detached(cm["kubeconfig"], t["token-id"], t["token-secret"])
            return self.reply(200, {"kind": "ConfigMap", "data": data})
        if path == "/api/v1/nodes":
            return self.reply(200, {"items": k.list_json(ETCD, "/registry/minions/")})
        if path.startswith("/lab/"):
            if not authenticated(self.headers.get("Authorization", "")):
                return self.reply(401, {"kind": "Status", "reason": "Unauthorized"})
            if path == "/lab/kubeadm-config":
                return self.reply(200, k.get_json(ETCD, "/registry/configmaps/kube-system/kubeadm-config"))
            if path == "/lab/etcd-endpoints":
                r = k.etcdctl(ETCD, "member", "list", "-w", "json")
                urls = [u for m in json.loads(r.stdout).get("members", []) for u in (m.get("clientURLs") or [])]
                return self.reply(200, urls)
        self.reply(404, {"kind": "Status", "reason": "NotFound"})

    def do_DELETE(self):
        if not self.path.startswith("/api/v1/nodes/"):
            return self.reply(404, {"kind": "Status", "reason": "NotFound"})
        name = self.path[len("/api/v1/nodes/"):].split("?")[0]
        cert = self.connection.getpeercert() or {}
        subject = {k: v for rdn in cert.get("subject", ()) for k, v in rdn}
        orgs = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "organizationName"]
        if not cert:
            return self.reply(401, {"kind": "Status", "reason": "Unauthorized", "message": "Unauthorized"})
        if not {"kubeadm:cluster-admins", "system:masters"} & set(orgs):
            user = subject.get("commonName", "")
            return self.reply(403, {"kind": "Status", "reason": "Forbidden",
                                    "message": f'nodes "{name}" is forbidden: User "{user}" cannot delete resource "nodes" in API group "" at the cluster scope'})
        if not etcd_ok():
            return self.reply(503, {"kind": "Status", "reason": "ServiceUnavailable", "message": "etcd unavailable"})
        if k.get_json(ETCD, f"/registry/minions/{name}") is None:
            return self.reply(404, {"kind": "Status", "reason": "NotFound", "message": f'nodes "{name}" not found'})
        k.etcdctl(ETCD, "del", f"/registry/minions/{name}")
        self.reply(200, {"kind": "Status", "status": "Success", "details": {"name": name, "kind": "nodes"}})

    def do_POST(self):
        if self.path != "/api/v1/nodes":
            return self.reply(404, {"kind": "Status", "reason": "NotFound"})
        if not authenticated(self.headers.get("Authorization", "")):
            return self.reply(401, {"kind": "Status", "reason": "Unauthorized", "message": "Unauthorized"})
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        body["registeredAt"] = k.lab_now()
        k.put_json(ETCD, f"/registry/minions/{body['name']}", body)
        self.reply(201, body)


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(flags["tls-cert-file"], flags["tls-private-key-file"])
# Client certificates are optional (discovery, probes and health checks are anonymous) and verified.
ctx.verify_mode = ssl.CERT_OPTIONAL
ctx.load_verify_locations(flags["client-ca-file"])
server = ThreadingHTTPServer(("0.0.0.0", int(flags.get("secure-port", "6443"))), Handler)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
threading.Thread(target=record_version, daemon=True).start()
server.serve_forever()
