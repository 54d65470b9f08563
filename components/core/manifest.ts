// Kubernetes objects as plain values, shared by the app and add-on renderers, and where each is written.

/** A Kubernetes object as a plain value. The image may be an Output when it comes from a build. */
export interface Manifest {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: {
        readonly name: string;
        readonly namespace?: string;
        readonly labels?: Readonly<Record<string, string>>;
        readonly annotations?: Readonly<Record<string, string>>;
    };
    readonly [field: string]: unknown;
}

/** `manifests/<namespace>/<kind>-<name>.yaml`, the artifact path of an object. */
export function manifestPath(manifest: Manifest): string {
    // A Namespace files under itself; other cluster-scoped objects under `cluster/`.
    const ns =
        manifest.metadata.namespace ?? (manifest.kind === "Namespace" ? manifest.metadata.name : "cluster");
    return `manifests/${ns}/${manifest.kind.toLowerCase()}-${manifest.metadata.name}.yaml`;
}
