// The engine-neutral view of an EdgeSpec that both renderers walk: virtual hosts with their routes
// (longest path first) and their certificate, pools, and the TLS policy both engines share.
import { EdgeCertificateRef, EdgeSpec, HttpRoute, StreamRoute } from "../types";
import { certificateFor, normalizePath } from "../validate";

/** One host name served over HTTPS, with the certificate it is served with and its routes. */
export interface VirtualHost {
    readonly host: string;
    readonly certificate: EdgeCertificateRef;
    /** Longest path first, so that the first match is the most specific one. */
    readonly routes: readonly HttpRoute[];
}

/** ECDHE with AEAD only (Mozilla "intermediate"): TLS 1.2 suites; TLS 1.3 suites are OpenSSL's defaults. */
export const TLS12_CIPHERS = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

/** TLS 1.3 cipher suites, in preference order. */
export const TLS13_CIPHERSUITES =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/** HSTS max-age in seconds: two years, the value preload lists ask for. */
export const DEFAULT_HSTS_MAX_AGE = 63072000;

/** Options both engines' renderers take: where they listen and what they promise clients and nodes. */
export interface EdgeListenOptions {
    /** Address to bind, e.g. `127.0.0.1`. Default: all addresses. */
    readonly listenAddress?: string;
    /** Plain HTTP port (redirects and ACME). Default 80. */
    readonly httpPort?: number;
    /** HTTPS port. Default 443. */
    readonly httpsPort?: number;
    /** HSTS max-age in seconds. Default two years. */
    readonly hstsMaxAge?: number;
    /**
     * Seconds a backend may stay silent (no response byte) before the request is given up on it; an
     * idempotent request is then resent to another node, so a hung node costs at most this long.
     * Routes with `websocket: true` keep upgraded connections for an hour. Default 30.
     */
    readonly upstreamTimeout?: number;
}

/** {@link EdgeListenOptions} with their defaults applied. */
export function resolveListen(o: EdgeListenOptions): Required<EdgeListenOptions> {
    return {
        listenAddress: o.listenAddress ?? "",
        httpPort: o.httpPort ?? 80,
        httpsPort: o.httpsPort ?? 443,
        hstsMaxAge: o.hstsMaxAge ?? DEFAULT_HSTS_MAX_AGE,
        upstreamTimeout: o.upstreamTimeout ?? 30,
    };
}

/** Where ACME HTTP-01 challenges are asked for. */
export const ACME_CHALLENGE_PATH = "/.well-known/acme-challenge/";

/** The HTTP routes of a spec. */
export function httpRoutes(spec: Pick<EdgeSpec, "routes">): HttpRoute[] {
    return spec.routes.filter((r): r is HttpRoute => r.kind === "http");
}

/** The TCP and UDP routes of a spec. */
export function streamRoutes(spec: Pick<EdgeSpec, "routes">): StreamRoute[] {
    return spec.routes.filter((r): r is StreamRoute => r.kind === "tcp" || r.kind === "udp");
}

/**
 * Groups HTTP routes by host in order of first appearance. Throws when a host has no certificate:
 * callers validate with `validateCertificates` first, so this is a programming error.
 */
export function virtualHosts(spec: EdgeSpec): VirtualHost[] {
    const byHost = new Map<string, HttpRoute[]>();
    for (const route of httpRoutes(spec)) {
        for (const host of route.hosts) {
            const list = byHost.get(host) ?? [];
            if (!list.includes(route)) list.push(route);
            byHost.set(host, list);
        }
    }
    return [...byHost.entries()].map(([host, routes]) => {
        const certificate = certificateFor(host, spec.certificates);
        if (!certificate) throw new Error(`no certificate serves ${host}; run validateCertificates first`);
        const sorted = [...routes].sort(
            (a, b) => normalizePath(b.path).length - normalizePath(a.path).length,
        );
        return { host, certificate, routes: sorted };
    });
}

/** `host:port` members of a route's pool, one per backend, in backend order. */
export function poolMembers(spec: EdgeSpec, nodePort: number): { name: string; endpoint: string }[] {
    return spec.backends.map((b) => ({ name: b.name, endpoint: `${b.address}:${nodePort}` }));
}

/** The Host header health checks send: the route's first exact host name, else `localhost`. */
export function healthHost(route: Pick<HttpRoute, "hosts">): string {
    return route.hosts.find((h) => !h.startsWith("*.")) ?? "localhost";
}

/** `address:port`, or just `port` when the address is empty (all addresses). */
export function listenOn(address: string, port: number): string {
    return address ? `${address}:${port}` : `${port}`;
}

/** Throws unless a spec with HTTP routes has a certificate to serve them with. */
export function requireCertificates(spec: EdgeSpec): void {
    if (httpRoutes(spec).length > 0 && spec.certificates.length === 0) {
        throw new Error("edge spec has HTTP routes but no certificate; pass at least one certificate");
    }
}
