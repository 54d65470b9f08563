// Deterministic NodePort allocation: a port is a function of a stable key (namespace/service/port), so adding
// a service does not move the ports of the others unless two keys hash to the same port.

/** The default Kubernetes NodePort range. */
export const NODE_PORT_MIN = 30000;
/** The default Kubernetes NodePort range (inclusive). */
export const NODE_PORT_MAX = 32767;

/** A request for a NodePort: a stable key and an optional explicit port. */
export interface NodePortRequest {
    readonly key: string;
    readonly explicit?: number;
}

function fnv1a(text: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
}

/**
 * Assigns every request a NodePort. Explicit ports are kept (validation rejects explicit clashes first);
 * the others start at `30000 + fnv1a(key) mod 2768` and probe upwards, wrapping, past ports already taken
 * (explicit ones, `inUse`, and earlier keys in sorted order). Throws when the range is exhausted.
 */
export function allocateNodePorts(
    requests: readonly NodePortRequest[],
    inUse: readonly number[] = [],
): Map<string, number> {
    const size = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    const taken = new Set<number>(inUse);
    const result = new Map<string, number>();
    for (const r of requests) {
        if (r.explicit !== undefined) {
            taken.add(r.explicit);
            result.set(r.key, r.explicit);
        }
    }
    const open = requests.filter((r) => r.explicit === undefined).map((r) => r.key);
    for (const key of [...new Set(open)].sort()) {
        if (result.has(key)) continue;
        const start = fnv1a(key) % size;
        let port: number | undefined = undefined;
        for (let i = 0; i < size; i++) {
            const candidate = NODE_PORT_MIN + ((start + i) % size);
            if (!taken.has(candidate)) {
                port = candidate;
                break;
            }
        }
        if (port === undefined)
            throw new Error(`no free NodePort left in ${NODE_PORT_MIN}-${NODE_PORT_MAX} for ${key}`);
        taken.add(port);
        result.set(key, port);
    }
    return result;
}
