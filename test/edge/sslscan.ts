// The edge's TLS as a scanner sees it: sslscan (Debian's 2.0.x) run against a live engine, its XML
// report parsed into protocols, accepted ciphers and key exchange groups, compared with the Mozilla
// intermediate profile (https://ssl-config.mozilla.org/guidelines/5.7.json).
import { execFileSync } from "child_process";

/** What one scan found for one SNI name. */
export interface TlsScan {
    /** Enabled protocols, e.g. `TLSv1.2`, `TLSv1.3`. */
    readonly protocols: string[];
    /** Accepted ciphers per protocol (OpenSSL names), sorted. */
    readonly ciphers: Record<string, string[]>;
    /** The cipher the server chose per protocol when offered sslscan's full list (`preferred`). */
    readonly preferred: Record<string, string>;
    /** Key exchange groups accepted (sslscan's names: `x25519`, `secp256r1`, ...), sorted. */
    readonly groups: string[];
    /** Whether the server accepted client-initiated renegotiation insecurely, and TLS compression. */
    readonly insecureRenegotiation: boolean;
    readonly compression: boolean;
    readonly heartbleed: boolean;
}

/** Mozilla intermediate's TLS 1.2 ciphers (the ECDHE ones; Keelson offers no DHE) and TLS 1.3 suites. */
export const INTERMEDIATE = {
    protocols: ["TLSv1.2", "TLSv1.3"],
    tls12: [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ],
    tls13: ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"],
    groups: ["x25519", "secp256r1", "secp384r1"],
} as const;

const attrs = (tag: string): Record<string, string> =>
    Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));

/** Parses sslscan's `--xml=-` report. */
export function parseSslscan(xml: string): TlsScan {
    const tags = (name: string) =>
        [...xml.matchAll(new RegExp(`<${name}\\s[^>]*>`, "g"))].map((m) => attrs(m[0]));
    const protocols = tags("protocol")
        .filter((p) => p.type === "tls" && p.enabled === "1")
        .map((p) => `TLSv${p.version}`);
    const ciphers: Record<string, string[]> = {};
    const preferred: Record<string, string> = {};
    for (const c of tags("cipher")) {
        (ciphers[c.sslversion] ??= []).push(c.cipher);
        if (c.status === "preferred") preferred[c.sslversion] = c.cipher;
    }
    for (const k of Object.keys(ciphers)) ciphers[k].sort();
    // Names as `secp256r1 (NIST P-256)`: the curve name only.
    const groups = [...new Set(tags("group").map((g) => g.name.split(" ")[0]))].sort();
    const flag = (name: string, attr: string) => tags(name).some((t) => t[attr] === "1");
    return {
        protocols,
        ciphers,
        preferred,
        groups,
        insecureRenegotiation: tags("renegotiation").some((r) => r.supported === "1" && r.secure !== "1"),
        compression: flag("compression", "supported"),
        heartbleed: flag("heartbleed", "vulnerable"),
    };
}

/** Runs sslscan against `127.0.0.1:<port>` with SNI `host`; returns its XML report. */
export function runSslscan(port: number, host: string): string {
    return execFileSync("sslscan", ["--xml=-", "--no-colour", `--sni-name=${host}`, `127.0.0.1:${port}`], {
        encoding: "utf8",
        timeout: 120000,
    });
}
