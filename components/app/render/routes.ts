// HTTP routes through a cluster's own proxy (app-only mode, no Keelson edge): Gateway API HTTPRoutes
// attached to an existing Gateway, or Ingresses of an IngressClass, plus the NetworkPolicy that admits
// only that proxy's pods. Pure renderers.
import { Manifest, NAME_LABEL, selectorLabels, serviceLabels } from "./meta";

/** How HTTP routes are published on a cluster that has its own Gateway or Ingress controller. */
export interface PublishVia {
    /** Attach HTTPRoutes (`gateway.networking.k8s.io/v1`) to this Gateway; it must allow routes from the app's namespace. */
    readonly gateway?: {
        readonly name: string;
        readonly namespace: string;
        /** The Gateway listener to attach to. Default every listener that allows the route. */
        readonly sectionName?: string;
    };
    /** Or: publish through Ingresses (`networking.k8s.io/v1`) of this IngressClass. */
    readonly ingressClassName?: string;
    /**
     * Namespace of the proxy pods that forward to the services: the only pods the NetworkPolicy admits.
     * Default the Gateway's namespace; required with `ingressClassName`.
     */
    readonly proxyNamespace?: string;
}

/** One HTTP route of a service: hosts and a path prefix. */
export interface HttpRouteSpec {
    readonly hosts: readonly string[];
    readonly path: string;
}

/** The HTTPRoutes of a service: one per route (hostnames are per HTTPRoute), `<service>`, `<service>-2`... */
export function renderHttpRoutes(
    app: string,
    service: string,
    namespace: string,
    port: number,
    routes: readonly HttpRouteSpec[],
    gateway: NonNullable<PublishVia["gateway"]>,
): Manifest[] {
    return routes.map((r, i) => ({
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: {
            name: i === 0 ? service : `${service}-${i + 1}`,
            namespace,
            labels: serviceLabels(app, service, "route"),
        },
        spec: {
            parentRefs: [
                {
                    group: "gateway.networking.k8s.io",
                    kind: "Gateway",
                    name: gateway.name,
                    namespace: gateway.namespace,
                    ...(gateway.sectionName ? { sectionName: gateway.sectionName } : {}),
                },
            ],
            hostnames: [...r.hosts],
            rules: [
                {
                    matches: [{ path: { type: "PathPrefix", value: r.path } }],
                    backendRefs: [{ group: "", kind: "Service", name: service, port }],
                },
            ],
        },
    }));
}

/** The Ingress of a service: one rule per host and route, path prefixes to the service's port. */
export function renderIngress(
    app: string,
    service: string,
    namespace: string,
    port: number,
    routes: readonly HttpRouteSpec[],
    ingressClassName: string,
): Manifest {
    const backend = { service: { name: service, port: { number: port } } };
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "Ingress",
        metadata: { name: service, namespace, labels: serviceLabels(app, service, "route") },
        spec: {
            ingressClassName,
            rules: routes.flatMap((r) =>
                r.hosts.map((host) => ({
                    host,
                    http: { paths: [{ path: r.path, pathType: "Prefix", backend }] },
                })),
            ),
        },
    };
}

/** Ingress to a published service's pods from the proxy's namespace only, on the service's port. */
export function renderProxyIngress(
    app: string,
    namespace: string,
    service: string,
    proxyNamespace: string,
    port: number,
): Manifest {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: `${service}-from-proxy`, namespace, labels: { [NAME_LABEL]: service } },
        spec: {
            podSelector: { matchLabels: selectorLabels(app, service) },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [
                        {
                            namespaceSelector: {
                                matchLabels: { "kubernetes.io/metadata.name": proxyNamespace },
                            },
                        },
                    ],
                    ports: [{ protocol: "TCP", port }],
                },
            ],
        },
    };
}
