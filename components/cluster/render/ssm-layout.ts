// Where each cluster secret lives in SSM Parameter Store and where it lands on a node. Shared by the
// bootstrap script renderer (which fetches) and secrets.ts / iam.ts (which create and grant).

/** One SecureString parameter, relative to the cluster's prefix `/keelson/<stage>/<cluster>`. */
export interface ParameterSpec {
    /** Stable key, used to name the Pulumi resource. */
    readonly key: string;
    /** Path below the prefix, e.g. `join/bootstrap-token`. */
    readonly path: string;
    /** File the node writes (mode 600), or undefined for values used only inside the script. */
    readonly file?: string;
}

/** Parameters every node reads: the cluster CA certificate and the bootstrap token. */
export const JOIN_PARAMETERS: readonly ParameterSpec[] = [
    { key: "ca-crt", path: "join/ca-crt" },
    { key: "bootstrap-token", path: "join/bootstrap-token" },
];

/** Parameters only masters read: the CA keys, the service-account key pair and the encryption key. */
export const CONTROL_PLANE_PARAMETERS: readonly ParameterSpec[] = [
    { key: "ca-key", path: "control-plane/ca-key", file: "ca.key" },
    { key: "etcd-ca-crt", path: "control-plane/etcd-ca-crt", file: "etcd/ca.crt" },
    { key: "etcd-ca-key", path: "control-plane/etcd-ca-key", file: "etcd/ca.key" },
    { key: "front-proxy-ca-crt", path: "control-plane/front-proxy-ca-crt", file: "front-proxy-ca.crt" },
    { key: "front-proxy-ca-key", path: "control-plane/front-proxy-ca-key", file: "front-proxy-ca.key" },
    { key: "sa-key", path: "control-plane/sa-key", file: "sa.key" },
    { key: "sa-pub", path: "control-plane/sa-pub", file: "sa.pub" },
    { key: "encryption-key", path: "control-plane/encryption-key" },
    // Not read by Keelson's masters (they take the CA keys from SSM); kept for an operator who
    // wants `kubeadm init phase upload-certs --certificate-key` by hand.
    { key: "certificate-key", path: "control-plane/certificate-key" },
];

/** The parameter prefix of a cluster: `/keelson/<stage>/<cluster>` (no trailing slash). */
export function ssmPrefix(stage: string, clusterName: string): string {
    return `/keelson/${stage}/${clusterName}`;
}
