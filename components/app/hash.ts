// Content hashes on pod templates (a change rolls the pods) and the ConfigMap keys of mounted files.
import { createHash } from "crypto";

/** Pod template annotation: SHA-256 of the mounted files, so a change rolls the pods. */
export const CONFIG_HASH = "keelson.io/config-hash";
/** Pod template annotation: SHA-256 of the Secrets the pods read (set by Application from the real values). */
export const SECRET_HASH = "keelson.io/secret-hash";

/** SHA-256 hex of a value's JSON. */
export function sha256(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** `/etc/app/config.yaml` becomes `etc-app-config.yaml`, a valid ConfigMap key. */
export function fileKey(path: string): string {
    return path.replace(/^\/+/, "").replace(/[^-._a-zA-Z0-9]+/g, "-");
}
