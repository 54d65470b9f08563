// Where the shipped reference application's service file is, and the stage sizing it is filled with.
import * as path from "path";

/** The reference application as a service file (`components/app/reference-app.yaml`). */
export const REFERENCE_APP_FILE = path.join(__dirname, "reference-app.yaml");

/** The stage sizing the reference file's placeholders use (`keelson:app`). */
export interface ReferenceSizing {
    readonly hostname: string;
    readonly webReplicas: number;
    readonly workerReplicas: number;
    readonly databaseStorageGb: number;
}

/**
 * The derived placeholders of the reference file: with more than one web replica (prod) the web service
 * autoscales from `webReplicas` to three times that and memcached runs two pods; the cache volume is a
 * tenth of the database's (at least 1 GiB).
 */
export function referenceVars(s: ReferenceSizing): Record<string, unknown> {
    const replicated = s.webReplicas > 1;
    return {
        cacheStorageGb: Math.max(1, Math.ceil(s.databaseStorageGb / 10)),
        sessionReplicas: replicated ? 2 : 1,
        webAutoscale: replicated
            ? { minReplicas: s.webReplicas, maxReplicas: s.webReplicas * 3, cpuPercent: 70 }
            : null,
    };
}
