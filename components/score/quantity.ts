// Kubernetes resource quantities (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/).

const BINARY: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    "": 1,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
};

/**
 * Parses a quantity (`"500m"`, `"1.5"`, `"128Mi"`, `"1G"`, `2`) into its plain value, or returns
 * undefined when it is not a quantity (a masked secret, an unknown, a typo).
 */
export function parseQuantity(q: unknown): number | undefined {
    if (typeof q === "number") return Number.isFinite(q) && q >= 0 ? q : undefined;
    if (typeof q !== "string") return undefined;
    const m = /^([0-9]+(?:\.[0-9]+)?)(?:[eE]([0-9]+))?([A-Za-z]*)$/.exec(q.trim());
    if (!m) return undefined;
    const base = Number(m[1]) * (m[2] ? 10 ** Number(m[2]) : 1);
    const suffix = m[3];
    if (suffix in BINARY) return base * BINARY[suffix];
    if (suffix in DECIMAL) return base * DECIMAL[suffix];
    return undefined;
}

/** CPU quantity in millicores (`"500m"` → 500, `"2"` → 2000), or undefined. */
export function parseCpuMillis(q: unknown): number | undefined {
    const v = parseQuantity(q);
    return v === undefined ? undefined : Math.round(v * 1000);
}

/** Memory quantity in MiB (`"128Mi"` → 128, `"1G"` → 953.67…), or undefined. */
export function parseMemoryMiB(q: unknown): number | undefined {
    const v = parseQuantity(q);
    return v === undefined ? undefined : v / 2 ** 20;
}
