// Publishing: which Service type and ports a service gets, its NodePort requests, and its edge routes.
import { EdgeRoute, HttpRoute } from "../edge/types";
import * as o from "./render/objects";
import { PodPort } from "./render/pod";
import { ContainerArgs, DaemonSetArgs, Service } from "./types";

const slug = (path: string) =>
    path
        .replace(/[^a-z0-9]+/gi, "-")
        .replace(/^-+|-+$/g, "")
        .toLowerCase();

/**
 * The load balancer class of Services the edge reaches through the workers' NLB: no controller owns it
 * (the cloud controller skips a Service with a class it does not implement), so no cloud load balancer is
 * made; it only makes the Service a LoadBalancer with externalTrafficPolicy Local, for which Kubernetes
 * allocates a health-check NodePort. kube-proxy answers `/healthz` there with 200 only on nodes that have
 * a ready local pod, and with 503 once the node's pods are all terminating (KEP-1669): the NLB stops
 * sending new connections to a node before its last pod stops, where a TCP check of the NodePort
 * passes until the pod is gone and then drops connections for two check intervals.
 */
export const EDGE_LOAD_BALANCER_CLASS = "keelson.dev/worker-ingress";

/**
 * Seconds a pod behind the edge sleeps in preStop before SIGTERM (unless it sets its own preStop): longer
 * than the worker NLB needs to take its node out (2 failed checks 5 s apart, WorkerIngress) once
 * kube-proxy's health check fails, so that no new connection reaches a pod that has stopped listening, and
 * than it needs to bring in the node of the pod replacing it (2 passed checks), which the Deployment does
 * not wait for. Measured live in test/edge/rollout-drain.test.ts: out after 7.7-8.5 s, in after 8.9-10 s.
 */
export const EDGE_DRAIN_SECONDS = 15;

/** How a service with a port is published. */
export interface Published {
    readonly type: "ClusterIP" | "NodePort" | "LoadBalancer";
    readonly ports: o.ServicePortPlan[];
    readonly extraPorts: PodPort[];
    /**
     * Reached by the edge through the worker NLB (routes, no `expose`): the Service is a LoadBalancer of
     * {@link EDGE_LOAD_BALANCER_CLASS} with this health-check NodePort (when allocated).
     */
    readonly edge?: { readonly healthCheckNodePort?: number };
}

/** The NodePort request key of a service's kube-proxy health check. */
const healthKey = (ns: string, service: string) => `${ns}/${service}/healthz`;

/**
 * The Service type and ports of `s`; NodePorts filled from `nodePorts` when given. Routes make it a
 * NodePort for the edge, unless `viaProxy` (the cluster's Gateway or Ingress controller reaches it).
 */
export function publishing(
    s: Service,
    ns: string,
    nodePorts: Map<string, number> | undefined,
    viaProxy = false,
): Published | undefined {
    const a = s.args as ContainerArgs | DaemonSetArgs;
    if (a.port === undefined) return undefined;
    const routes = a.routes ?? [];
    const type = a.expose ?? (routes.length > 0 && !viaProxy ? "NodePort" : "ClusterIP");
    const np = (port: number, proto: string) =>
        type === "ClusterIP" ? undefined : nodePorts?.get(`${ns}/${s.name}/${port}/${proto}`);
    const portPlan = (name: string, port: number, protocol: "TCP" | "UDP"): o.ServicePortPlan => {
        const nodePort = np(port, protocol);
        return { name, port, targetPort: port, protocol, ...(nodePort === undefined ? {} : { nodePort }) };
    };
    const ports: o.ServicePortPlan[] = [portPlan("main", a.port, "TCP")];
    const extraPorts: PodPort[] = [];
    for (const r of routes) {
        if (r.kind === "http") continue;
        const port = r.port ?? a.port;
        const protocol = r.kind === "tcp" ? "TCP" : "UDP";
        if (ports.some((p) => p.port === port && p.protocol === protocol)) continue;
        const name = `${r.kind}-${port}`;
        ports.push(portPlan(name, port, protocol));
        extraPorts.push({ name, containerPort: port, protocol });
    }
    const edge = a.expose === undefined && routes.length > 0 && !viaProxy;
    const health = nodePorts?.get(healthKey(ns, s.name));
    return {
        type,
        ports,
        extraPorts,
        ...(edge ? { edge: health === undefined ? {} : { healthCheckNodePort: health } } : {}),
    };
}

/** One NodePort request per port of every NodePort/LoadBalancer service, explicit ports kept. */
export function nodePortRequests(services: readonly Service[], ns: string, viaProxy = false) {
    const requests: { key: string; explicit?: number }[] = [];
    for (const s of services) {
        if (s.kind !== "container" && s.kind !== "daemonset") continue;
        const a = s.args as ContainerArgs | DaemonSetArgs;
        const pub = publishing(s, ns, undefined, viaProxy);
        if (!pub || pub.type === "ClusterIP" || a.port === undefined) continue;
        for (const p of pub.ports) {
            const route = (a.routes ?? []).find(
                (r) =>
                    r.kind !== "http" &&
                    (r.port ?? a.port) === p.port &&
                    r.kind.toUpperCase() === p.protocol &&
                    r.nodePort !== undefined,
            );
            const explicit =
                p.name === "main" ? a.nodePort : route && route.kind !== "http" ? route.nodePort : undefined;
            requests.push({ key: `${ns}/${s.name}/${p.port}/${p.protocol}`, explicit });
        }
        if (pub.edge) requests.push({ key: healthKey(ns, s.name), explicit: undefined });
    }
    return requests;
}

/** The edge routes of a published service. */
export function routesOf(s: Service, ns: string, pub: Published): EdgeRoute[] {
    const a = s.args as ContainerArgs | DaemonSetArgs;
    const routes: EdgeRoute[] = [];
    const names = new Set<string>();
    (a.routes ?? []).forEach((r, i) => {
        if (r.kind === "http") {
            const path = r.path ?? "/";
            let name = `${ns}-${s.name}${path === "/" ? "" : `-${slug(path)}`}`.slice(0, 63);
            if (names.has(name)) name = `${name.slice(0, 58)}-r${i}`;
            names.add(name);
            const route: HttpRoute = {
                kind: "http",
                name,
                hosts: [...r.hosts],
                path,
                nodePort: pub.ports[0].nodePort as number,
                healthPath: r.healthPath ?? a.readinessPath ?? "/",
                ...(r.websocket ? { websocket: true } : {}),
                ...(pub.edge?.healthCheckNodePort
                    ? { healthCheckNodePort: pub.edge.healthCheckNodePort }
                    : {}),
            };
            routes.push(route);
        } else {
            const port = r.port ?? a.port;
            const proto = r.kind === "tcp" ? "TCP" : "UDP";
            const nodePort = pub.ports.find((p) => p.port === port && p.protocol === proto)
                ?.nodePort as number;
            routes.push({
                kind: r.kind,
                name: `${ns}-${s.name}-${r.kind}-${r.listenPort}`.slice(0, 63),
                listenPort: r.listenPort,
                nodePort,
                ...(pub.edge?.healthCheckNodePort
                    ? { healthCheckNodePort: pub.edge.healthCheckNodePort }
                    : {}),
            });
        }
    });
    return routes;
}
