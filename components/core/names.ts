// Names Keelson checks or derives: one DNS label rule for every component, and DNS names.

/**
 * A DNS label (RFC 1123): 1 to 63 lowercase letters, digits and '-', starting and ending with a
 * letter or digit. Kubernetes namespaces, node names and Keelson's route, certificate and pool names
 * follow it; where a name must also start with a letter (RFC 1035: Kubernetes Service names), use
 * {@link isDnsLabel} with `letterFirst`.
 */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** A DNS name made of {@link DNS_LABEL}s, at most 253 characters, e.g. `app.example.com`. */
export const DNS_NAME =
    /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** A DNS name whose first label may be `*`, as certificates allow: `*.example.com`. */
export const WILDCARD_DNS_NAME =
    /^(?=.{1,253}$)(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/**
 * True when `value` is a {@link DNS_LABEL}; with `letterFirst` it must also start with a letter
 * (RFC 1035), and with `max` it may be at most that long (default 63).
 */
export function isDnsLabel(
    value: unknown,
    options: { readonly letterFirst?: boolean; readonly max?: number } = {},
): boolean {
    if (typeof value !== "string" || !DNS_LABEL.test(value)) return false;
    if (options.letterFirst && !/^[a-z]/.test(value)) return false;
    return value.length <= (options.max ?? 63);
}
