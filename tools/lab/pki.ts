// Real key material for one lab run, made with the host's openssl: the lab CA (trusted by every node,
// it signs the hub's HTTPS names and the edge certificates) and the cluster's secrets that Pulumi
// would put in SSM (cluster CA, etcd CA, front-proxy CA, service-account key pair, bootstrap token,
// encryption key). The plan's own CA is a mock whose private key the lab cannot read.
import { execFileSync } from "child_process";
import { createHash, randomBytes, X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** A PEM certificate and its key. */
export interface Pem {
    readonly cert: string;
    readonly key: string;
}

function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/**
 * `openssl req -x509` for a new ECDSA P-256 key: `<name>.key` and `<name>.crt` in dir, subject
 * `/CN=<cn>`, valid `days`, with `extra` arguments (the signer, extensions).
 */
function newCert(dir: string, name: string, cn: string, days: number, extra: string[]): Pem {
    openssl(dir, [
        "req",
        "-x509",
        ...extra,
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt`,
        "-subj",
        `/CN=${cn}`,
        "-days",
        String(days),
    ]);
    return read(dir, name);
}

/** A self-signed ECDSA P-256 CA. */
export function makeCa(dir: string, name: string, cn: string): Pem {
    return newCert(dir, name, cn, 3650, [
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    ]);
}

/**
 * A certificate for `names` signed by `ca` (files `<name>.crt/.key` in dir), for TLS servers by default
 * (`usage` is the extendedKeyUsage: `clientAuth` for a client certificate).
 */
export function makeServerCert(
    dir: string,
    ca: string,
    name: string,
    names: readonly string[],
    usage: "serverAuth" | "clientAuth" = "serverAuth",
): Pem {
    const san = names.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    return newCert(dir, name, names[0], 30, [
        "-CA",
        `${ca}.crt`,
        "-CAkey",
        `${ca}.key`,
        "-addext",
        `subjectAltName=${san}`,
        "-addext",
        `extendedKeyUsage=${usage}`,
        "-addext",
        "basicConstraints=CA:FALSE",
    ]);
}

function read(dir: string, name: string): Pem {
    return {
        cert: fs.readFileSync(path.join(dir, `${name}.crt`), "utf8"),
        key: fs.readFileSync(path.join(dir, `${name}.key`), "utf8"),
    };
}

/** kubeadm's discovery hash of a CA certificate: sha256 of its DER SubjectPublicKeyInfo. */
export function spkiHash(certPem: string): string {
    const der = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
    return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}

/**
 * The values of the cluster's SSM parameters, by the last component of their name (as
 * components/cluster/render/ssm-layout.ts names them).
 */
export function clusterSecrets(dir: string): Record<string, string> {
    const ca = makeCa(dir, "cluster-ca", "kubernetes");
    const etcd = makeCa(dir, "etcd-ca", "etcd-ca");
    const front = makeCa(dir, "front-proxy-ca", "front-proxy-ca");
    openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sa.key"]);
    openssl(dir, ["pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
    const alnum = (n: number) =>
        Array.from(randomBytes(n), (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
    return {
        "ca-crt": ca.cert,
        "ca-key": ca.key,
        "etcd-ca-crt": etcd.cert,
        "etcd-ca-key": etcd.key,
        "front-proxy-ca-crt": front.cert,
        "front-proxy-ca-key": front.key,
        "sa-key": fs.readFileSync(path.join(dir, "sa.key"), "utf8"),
        "sa-pub": fs.readFileSync(path.join(dir, "sa.pub"), "utf8"),
        "bootstrap-token": `${alnum(6)}.${alnum(16)}`,
        "encryption-key": randomBytes(32).toString("base64"),
        "certificate-key": randomBytes(32).toString("hex"),
    };
}
