// Validation of ports across services: NodePorts, edge listen ports, HTTP host/path claims, route shapes.
import { NODE_PORT_MAX, NODE_PORT_MIN } from "./nodeports";
import { ContainerArgs, DaemonSetArgs, Service } from "./types";

/** Reports one problem: key, value, and the fix (the message is prefixed with the key). */
export type Add = (key: string, value: unknown, fix: string) => void;

const HOST = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PATH = /^\/([A-Za-z0-9._~-]+\/?)*$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const isPort = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

/** Checks NodePorts (range, clashes, `inUse`), edge listen ports, HTTP host/path claims and route shapes. */
export function validatePorts(services: readonly Service[], inUse: readonly number[], add: Add): void {
    const nodePorts = new Map<number, string>(inUse.map((p) => [p, "nodePortsInUse"]));
    const listen = new Map<string, string>();
    const httpClaims = new Map<string, string>();
    const claimNodePort = (key: string, port: number | undefined) => {
        if (port === undefined) return;
        if (!Number.isInteger(port) || port < NODE_PORT_MIN || port > NODE_PORT_MAX) {
            return add(
                key,
                port,
                `${show(port)} is outside the NodePort range; use ${NODE_PORT_MIN}-${NODE_PORT_MAX} or leave it out to allocate one`,
            );
        }
        const owner = nodePorts.get(port);
        if (owner)
            return add(
                key,
                port,
                `${port} is already used by ${owner}; use another NodePort or leave it out to allocate one`,
            );
        nodePorts.set(port, key);
    };
    for (const s of services) {
        if (s.kind !== "container" && s.kind !== "daemonset") continue;
        const at = `services.${s.name}`;
        const a = s.args as ContainerArgs | DaemonSetArgs;
        const routes = a.routes ?? [];
        if (a.expose === "ClusterIP" && routes.length > 0)
            add(
                `${at}.expose`,
                a.expose,
                `"ClusterIP" cannot carry edge routes; use "NodePort" or leave expose out`,
            );
        if (a.nodePort !== undefined && a.expose === "ClusterIP")
            add(
                `${at}.nodePort`,
                a.nodePort,
                `is set but expose is "ClusterIP"; use expose "NodePort" or remove nodePort`,
            );
        claimNodePort(`${at}.nodePort`, a.nodePort);
        (a.allowFrom ?? []).forEach((c, i) => {
            if (!CIDR.test(c))
                add(`${at}.allowFrom[${i}]`, c, `${show(c)} is not an IPv4 CIDR; use e.g. "203.0.113.0/24"`);
        });
        routes.forEach((r, i) => {
            const rk = `${at}.routes[${i}]`;
            if (r.kind === "http") {
                if (a.port === undefined)
                    return add(rk, r.kind, "an http route needs the service's port; set port");
                if (!Array.isArray(r.hosts) || r.hosts.length === 0)
                    add(`${rk}.hosts`, r.hosts, "is empty; list at least one host name");
                const path = r.path ?? "/";
                if (!PATH.test(path))
                    add(
                        `${rk}.path`,
                        path,
                        `${show(path)} is not a path; start with '/' and use letters, digits, '.', '_', '~', '-'`,
                    );
                for (const h of r.hosts ?? []) {
                    if (!HOST.test(h))
                        add(
                            `${rk}.hosts`,
                            h,
                            `${show(h)} is not a host name; use e.g. "app.example.com" or "*.example.com"`,
                        );
                    const claim = `${h}${path.length > 1 ? path.replace(/\/$/, "") : path}`;
                    const owner = httpClaims.get(claim);
                    if (owner)
                        add(
                            `${rk}.hosts`,
                            h,
                            `${h} ${path} is already routed by ${owner}; use another host or path`,
                        );
                    else httpClaims.set(claim, rk);
                }
                if (r.healthPath !== undefined && !PATH.test(r.healthPath))
                    add(
                        `${rk}.healthPath`,
                        r.healthPath,
                        `${show(r.healthPath)} is not a path; start with '/'`,
                    );
            } else {
                if (!isPort(r.listenPort) || r.listenPort === 80 || r.listenPort === 443) {
                    add(
                        `${rk}.listenPort`,
                        r.listenPort,
                        `${show(r.listenPort)} is not usable; use a port 1-65535 other than 80 and 443 (the edge serves HTTP(S) there)`,
                    );
                } else {
                    const lk = `${r.kind}/${r.listenPort}`;
                    const owner = listen.get(lk);
                    if (owner)
                        add(
                            `${rk}.listenPort`,
                            r.listenPort,
                            `${r.kind} ${r.listenPort} is already published by ${owner}; use another listen port`,
                        );
                    else listen.set(lk, rk);
                }
                const port = r.port ?? a.port;
                if (!isPort(port))
                    add(
                        `${rk}.port`,
                        port,
                        `${show(port)} is not a port; set the container port of this route`,
                    );
                else if (
                    r.nodePort !== undefined &&
                    port === a.port &&
                    r.kind === "tcp" &&
                    a.nodePort !== undefined &&
                    r.nodePort !== a.nodePort
                ) {
                    add(
                        `${rk}.nodePort`,
                        r.nodePort,
                        `${r.nodePort} differs from nodePort ${a.nodePort} of port ${port}/TCP; use one NodePort per port`,
                    );
                } else if (!(port === a.port && r.kind === "tcp" && a.nodePort !== undefined)) {
                    claimNodePort(`${rk}.nodePort`, r.nodePort);
                }
            }
        });
    }
}
