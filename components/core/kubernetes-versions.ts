// The Kubernetes releases Keelson can install: kubeadm, kubelet and kubectl come from pkgs.k8s.io, which
// has one apt repository per minor (core:/stable:/v1.N) holding that minor's patch releases. A dated
// table, so that a version that was never released is refused before anything is created instead of
// failing `apt-get install` at boot.

/** When the table was last brought up to date. */
export const KUBERNETES_VERSIONS_AS_OF = "2026-02-10";
/**
 * Source: the Kubernetes patch release announcements (kubernetes.io/releases/patch-releases): on
 * 2026-02-10 the latest patches were 1.35.1, 1.34.4, 1.33.8 and 1.32.12; 1.31 (end of life 2025-10-28)
 * is listed up to 1.31.13. Later releases are refused until they are added here.
 */
export const KUBERNETES_VERSIONS_SOURCE = "kubernetes.io patch releases, as of 2026-02-10";

/** Latest released patch of each minor Keelson supports (1.31 and newer, kubeadm v1beta4). */
export const LATEST_PATCH: Readonly<Record<number, number>> = {
    31: 13,
    32: 12,
    33: 8,
    34: 4,
    35: 1,
};

/** True when `version` (`1.N.P`) is a released version of a supported minor. */
export function isReleasedKubernetesVersion(version: string): boolean {
    const m = /^1\.(\d+)\.(\d+)$/.exec(version);
    if (!m) return false;
    const latest = LATEST_PATCH[Number(m[1])];
    return latest !== undefined && Number(m[2]) <= latest;
}

/** The supported releases as ranges, for messages: `1.31.0-1.31.13, 1.32.0-1.32.12, ...`. */
export function releasedRanges(): string {
    return Object.entries(LATEST_PATCH)
        .map(([minor, patch]) => `1.${minor}.0-1.${minor}.${patch}`)
        .join(", ");
}
