// Pure validation of edge routes and certificates: every problem at once, each with key, value and fix.
import { EdgeCertificateRef, EdgeEngine, EdgeProblem, EdgeRoute } from "./types";
import { DNS_LABEL } from "../core/names";

const HOST = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// Only characters that need no quoting in nginx.conf or haproxy.cfg, so a path can never inject config.
const PATH = /^\/([A-Za-z0-9._~-]+\/?)*$/;

/** Ports an edge host serves HTTP and HTTPS on; stream routes cannot take them. */
export const RESERVED_PORTS: readonly number[] = [80, 443];

/** True for an integer TCP/UDP port 1..65535. */
export function isPort(value: unknown): value is number {
    return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** `/api/` and `/api` are the same route; `/` stays `/`. */
export function normalizePath(path: string): string {
    return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/** True when `certHost` (exact or `*.` wildcard of one label) serves `host`. */
export function certificateCovers(certHost: string, host: string): boolean {
    if (certHost === host) return true;
    if (!certHost.startsWith("*.") || host.startsWith("*.")) return false;
    const dot = host.indexOf(".");
    return dot > 0 && host.slice(dot + 1) === certHost.slice(2);
}

/** The first certificate that serves `host`, or undefined. */
export function certificateFor<C extends EdgeCertificateRef>(
    host: string,
    certs: readonly C[],
): C | undefined {
    return certs.find((c) => c.hosts.some((h) => certificateCovers(h, host)));
}

/**
 * Checks routes before anything is rendered or registered: DNS-safe unique names, valid hosts and
 * paths, no two HTTP routes on the same host and path, valid ports, stream listen ports neither
 * reserved (80, 443) nor taken twice for one protocol, and UDP only with nginx (haproxy 2.6 has no
 * UDP proxying). Returns every problem; an empty array means the routes are usable.
 */
export function validateRoutes(routes: readonly EdgeRoute[], engine?: EdgeEngine): EdgeProblem[] {
    const problems: EdgeProblem[] = [];
    const add = (key: string, value: unknown, message: string) =>
        problems.push({ key, value, message: `${key}: ${message}` });
    const names = new Map<string, number>();
    const httpClaims = new Map<string, string>();
    const listenClaims = new Map<string, string>();

    routes.forEach((route, i) => {
        const at =
            typeof route.name === "string" && DNS_LABEL.test(route.name)
                ? `routes.${route.name}`
                : `routes[${i}]`;
        if (!DNS_LABEL.test(String(route.name))) {
            add(
                `${at}.name`,
                route.name,
                `${JSON.stringify(route.name)} is not DNS-safe; use lowercase letters, digits and '-' (max 63)`,
            );
        } else if (names.has(route.name)) {
            add(
                `${at}.name`,
                route.name,
                `"${route.name}" is used by routes[${names.get(route.name)}] too; give each route a unique name`,
            );
        } else {
            names.set(route.name, i);
        }
        if (!isPort(route.nodePort)) {
            add(
                `${at}.nodePort`,
                route.nodePort,
                `${route.nodePort} is not a port; use an integer 1-65535 (NodePorts are 30000-32767 by default)`,
            );
        }
        if (route.kind === "http") {
            if (route.hosts.length === 0) add(`${at}.hosts`, route.hosts, "is empty; name at least one host");
            for (const host of route.hosts) {
                if (!HOST.test(host))
                    add(
                        `${at}.hosts`,
                        host,
                        `"${host}" is not a lowercase host name; use e.g. app.example.com or *.example.com`,
                    );
            }
            for (const [field, path] of [
                ["path", route.path],
                ["healthPath", route.healthPath],
            ] as const) {
                if (typeof path !== "string" || !PATH.test(path)) {
                    add(
                        `${at}.${field}`,
                        path,
                        `${JSON.stringify(path)} is not a plain path; use '/' followed by letters, digits, '.', '_', '~', '-' and single '/' separators`,
                    );
                }
            }
            if (typeof route.path !== "string") return;
            for (const host of new Set(route.hosts)) {
                const claim = `${host} ${normalizePath(route.path)}`;
                const owner = httpClaims.get(claim);
                if (owner !== undefined) {
                    add(
                        `${at}.path`,
                        route.path,
                        `${host}${route.path} is already routed by "${owner}"; use another path or host`,
                    );
                } else {
                    httpClaims.set(claim, route.name);
                }
            }
        } else if (route.kind === "tcp" || route.kind === "udp") {
            if (!isPort(route.listenPort)) {
                add(
                    `${at}.listenPort`,
                    route.listenPort,
                    `${route.listenPort} is not a port; use an integer 1-65535`,
                );
            } else if (RESERVED_PORTS.includes(route.listenPort)) {
                add(
                    `${at}.listenPort`,
                    route.listenPort,
                    `${route.listenPort} is reserved for HTTP(S); use another port or an http route`,
                );
            } else {
                const claim = `${route.kind}/${route.listenPort}`;
                const owner = listenClaims.get(claim);
                if (owner !== undefined) {
                    add(
                        `${at}.listenPort`,
                        route.listenPort,
                        `${route.kind} ${route.listenPort} is already taken by "${owner}"; use another port`,
                    );
                } else {
                    listenClaims.set(claim, route.name);
                }
            }
            if (route.kind === "udp" && engine === "haproxy") {
                add(
                    `${at}.kind`,
                    route.kind,
                    "udp is not supported by haproxy 2.6; use edge.engine nginx or a tcp route",
                );
            }
        } else {
            add(
                `${at}.kind`,
                (route as { kind: unknown }).kind,
                `${JSON.stringify((route as { kind: unknown }).kind)} is not a route kind; use http, tcp or udp`,
            );
        }
    });
    return problems;
}

/**
 * Checks that certificates have DNS-safe unique names and that every HTTP route host is served by
 * one of them (exactly or through a one-label wildcard). Returns every problem.
 */
export function validateCertificates(
    routes: readonly EdgeRoute[],
    certs: readonly EdgeCertificateRef[],
): EdgeProblem[] {
    const problems: EdgeProblem[] = [];
    const seen = new Set<string>();
    certs.forEach((cert, i) => {
        const key = `certificates[${i}].name`;
        if (!DNS_LABEL.test(cert.name)) {
            problems.push({
                key,
                value: cert.name,
                message: `${key}: "${cert.name}" is not DNS-safe; use lowercase letters, digits and '-'`,
            });
        } else if (seen.has(cert.name)) {
            problems.push({
                key,
                value: cert.name,
                message: `${key}: "${cert.name}" is used twice; give each certificate a unique name`,
            });
        }
        seen.add(cert.name);
    });
    for (const route of routes) {
        if (route.kind !== "http") continue;
        for (const host of route.hosts) {
            if (certificateFor(host, certs)) continue;
            const key = `routes.${route.name}.hosts`;
            problems.push({
                key,
                value: host,
                message: `${key}: no certificate serves "${host}"; add it to the hosts of a certificate in edge.certificates`,
            });
        }
    }
    return problems;
}
