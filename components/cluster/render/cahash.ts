// The discovery hash `kubeadm join` pins the cluster CA with, computed by Pulumi from the CA key.
import { createHash } from "crypto";

/**
 * `sha256:<hex>` of the DER SubjectPublicKeyInfo of a PEM public key (`-----BEGIN PUBLIC KEY-----`,
 * as `tls.PrivateKey.publicKeyPem` gives it): the body of such a PEM block already is that DER.
 * Throws when the text holds no PUBLIC KEY block.
 */
export function caCertHash(publicKeyPem: string): string {
    const m = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(publicKeyPem);
    if (!m) throw new Error("caCertHash: expected a PEM block 'BEGIN PUBLIC KEY' (SubjectPublicKeyInfo)");
    const der = Buffer.from(m[1].replace(/\s+/g, ""), "base64");
    return `sha256:${createHash("sha256").update(der).digest("hex")}`;
}
