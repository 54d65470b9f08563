// The admin kubeconfig, built from values Pulumi already knows (design decision 4). Pure.
import * as YAML from "yaml";

/** Inputs of {@link renderKubeconfig}. */
export interface KubeconfigOptions {
    readonly clusterName: string;
    /** `https://host:port`. */
    readonly server: string;
    readonly caCertPem: string;
    readonly clientCertPem: string;
    readonly clientKeyPem: string;
    /** Default `keelson-admin`. */
    readonly user?: string;
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** A one-cluster, one-user kubeconfig with embedded (base64) certificates and key. */
export function renderKubeconfig(o: KubeconfigOptions): string {
    const user = o.user ?? "keelson-admin";
    return YAML.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: o.clusterName,
                cluster: { server: o.server, "certificate-authority-data": b64(o.caCertPem) },
            },
        ],
        users: [
            {
                name: user,
                user: {
                    "client-certificate-data": b64(o.clientCertPem),
                    "client-key-data": b64(o.clientKeyPem),
                },
            },
        ],
        contexts: [{ name: `${user}@${o.clusterName}`, context: { cluster: o.clusterName, user } }],
        "current-context": `${user}@${o.clusterName}`,
        preferences: {},
    });
}
