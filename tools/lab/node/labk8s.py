"""Shared helpers of the lab's Kubernetes stubs (kubeadm.py, kubelet.py, apiserver.py).

State lives in the real etcd under kubeadm's /registry layout (JSON values); certificates are made with
python3-cryptography exactly where kubeadm puts them. See tools/lab/README.md for what is modelled.
"""
import datetime
import hashlib
import hmac
import base64
import ipaddress
import json
import os
import subprocess
import time

LAB = "/opt/keelson-lab"
ETCD = f"{LAB}/bin/etcd"
ETCDCTL = f"{LAB}/bin/etcdctl"
PKI = "/etc/kubernetes/pki"


def lab_now():
    """Wall clock plus the lab's clock offset (the 'days later' scenarios advance it)."""
    try:
        with open(f"{LAB}/state/clock-offset-seconds") as f:
            return time.time() + float(f.read().strip() or 0)
    except FileNotFoundError:
        return time.time()


def etcdctl(endpoints, *args, cert="apiserver-etcd-client", timeout="3s", check=True):
    cmd = [
        ETCDCTL, f"--endpoints={endpoints}", f"--cacert={PKI}/etcd/ca.crt", f"--cert={PKI}/{cert}.crt",
        f"--key={PKI}/{cert}.key", f"--dial-timeout={timeout}", f"--command-timeout={timeout}", *args,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError((r.stderr or r.stdout).strip())
    return r


def get_json(endpoints, key, cert="apiserver-etcd-client"):
    r = etcdctl(endpoints, "get", key, "--print-value-only", cert=cert)
    return json.loads(r.stdout) if r.stdout.strip() else None


def list_json(endpoints, prefix, cert="apiserver-etcd-client"):
    r = etcdctl(endpoints, "get", prefix, "--prefix", "--print-value-only", cert=cert)
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def put_json(endpoints, key, value, cert="apiserver-etcd-client"):
    etcdctl(endpoints, "put", key, json.dumps(value, sort_keys=True), cert=cert)


# --- certificates (kubeadm's PKI layout) ---------------------------------------------------------
def _load(path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    with open(f"{path}.crt", "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(f"{path}.key", "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return cert, key


def issue(ca, name, cn, orgs=(), dns=(), ips=(), server=False, client=False):
    """Writes <PKI>/<name>.crt/.key (ECDSA P-256, one year, like kubeadm's ECDSA-P256), signed by <PKI>/<ca>."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    ca_cert, ca_key = _load(f"{PKI}/{ca}")
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    now = datetime.datetime.now(datetime.timezone.utc)
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    b = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca_cert.subject)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=365))
         .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                      encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    sans = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    os.makedirs(os.path.dirname(f"{PKI}/{name}"), exist_ok=True)
    with open(f"{PKI}/{name}.crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(f"{PKI}/{name}.key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))


def spki_hash(pem):
    """kubeadm's discovery hash: sha256 of the CA certificate's DER SubjectPublicKeyInfo."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


# --- bootstrap tokens and the cluster-info JWS (what the bootstrap signer controller does) --------
def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jws_detached(content, token_id, token_secret):
    header = b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    payload = b64url(content.encode())
    sig = hmac.new(f"{token_id}.{token_secret}".encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}..{b64url(sig)}"


def token_valid(secret, now):
    exp = secret.get("expiration")
    if not exp:
        return True
    return datetime.datetime.fromisoformat(exp.replace("Z", "+00:00")).timestamp() > now


def node_ip():
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"], capture_output=True, text=True).stdout
    return out.split()[3].split("/")[0]


def write_manifest(path, text):
    """A static pod manifest as kubeadm writes one (0600), moved into place whole: kubeadm's upgrade writes the new
    manifest under /etc/kubernetes/tmp and renames it over the old one, so the kubelet never reads half a file."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.rename(tmp, path)
