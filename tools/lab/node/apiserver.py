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
Not modelled: every other API, authorization, admission, watch, the real kube-apiserver's flags checks.
"""
import json
import ssl
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
health = {"at": 0.0, "ok": False}


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

    def do_GET(self):
        path = self.path.split("?")[0]
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
server.serve_forever()
