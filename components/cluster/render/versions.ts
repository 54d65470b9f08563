// Version arithmetic for the Kubernetes release the cluster is pinned to.

/** A parsed `1.N.P` Kubernetes version. */
export interface KubernetesVersion {
    readonly major: number;
    readonly minor: number;
    readonly patch: number;
    /** The version as given, e.g. `1.33.4`. */
    readonly text: string;
}

/** Parses `1.N.P`; throws on anything else (config validation rejects bad versions earlier). */
export function parseKubernetesVersion(text: string): KubernetesVersion {
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(text);
    if (!m)
        throw new Error(`cluster.kubernetesVersion: ${JSON.stringify(text)} is not 1.N.P; use e.g. 1.33.4`);
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
}

/** The `major.minor` series used by the pkgs.k8s.io repository path (`v1.33`). */
export function minorSeries(v: KubernetesVersion): string {
    return `${v.major}.${v.minor}`;
}

/** The Debian package version pkgs.k8s.io publishes for a release: `1.33.4-1.1`. */
export function aptPackageVersion(v: KubernetesVersion): string {
    return `${v.text}-1.1`;
}

/** kubeadm config API: v1beta4 from 1.31 (list-style extraArgs, timeouts), v1beta3 before. */
export function kubeadmApiVersion(v: KubernetesVersion): "kubeadm.k8s.io/v1beta4" | "kubeadm.k8s.io/v1beta3" {
    return v.minor >= 31 ? "kubeadm.k8s.io/v1beta4" : "kubeadm.k8s.io/v1beta3";
}

/**
 * The apiVersion of `AuthenticationConfiguration` that can restrict anonymous requests to chosen
 * paths (KEP-4633: beta and on by default in 1.32, GA in 1.34), or undefined before 1.32, where
 * the only choices are anonymous on for every path or off (which breaks the kubelet's probes).
 */
export function anonymousAuthConfigApiVersion(v: KubernetesVersion): string | undefined {
    if (v.minor >= 34) return "apiserver.config.k8s.io/v1";
    if (v.minor >= 32) return "apiserver.config.k8s.io/v1beta1";
    return undefined;
}

/**
 * The release a per-minor pin table holds for the cluster's minor (an add-on whose minor must follow
 * Kubernetes', e.g. the cloud controller or the autoscaler); a minor without a pin is refused with the choices.
 */
export function releaseForMinor(
    releases: Readonly<Record<number, string>>,
    kubernetesVersion: string,
    what: string,
): string {
    const { minor } = parseKubernetesVersion(kubernetesVersion);
    const tag = releases[minor];
    if (!tag) {
        throw new Error(
            `cluster.kubernetesVersion: ${kubernetesVersion} has no pinned ${what} release; use 1.${Object.keys(releases).join(", 1.")}`,
        );
    }
    return tag;
}
