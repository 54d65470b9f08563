// Planning HTTP routes through the cluster's own proxy (`publish`): the HTTPRoutes or the Ingress of a
// service, each after the service's Service object.
import { Manifest } from "./render/meta";
import { HttpRouteSpec, PublishVia, renderHttpRoutes, renderIngress } from "./render/routes";
import { ContainerArgs, DaemonSetArgs, Service } from "./types";
import type { AppDefinition } from "./validate";

/** The HTTP routes of a service (path default `/`). */
export function httpRoutes(s: Service): HttpRouteSpec[] {
    if (s.kind !== "container" && s.kind !== "daemonset") return [];
    const a = s.args as ContainerArgs | DaemonSetArgs;
    return (a.routes ?? []).flatMap((r) =>
        r.kind === "http" ? [{ hosts: r.hosts, path: r.path ?? "/" }] : [],
    );
}

/** The namespace of the proxy pods the NetworkPolicy admits: `proxyNamespace`, else the Gateway's. */
export function proxyNamespace(p: PublishVia): string {
    return p.proxyNamespace ?? p.gateway?.namespace ?? "";
}

/** Adds the route objects of `s` (keys `<service>.httproute[-<n>]` or `<service>.ingress`). */
export function planProxyRoutes(
    s: Service,
    def: AppDefinition,
    add: (key: string, manifest: Manifest, dependsOn: string[], service: string) => void,
): void {
    const routes = httpRoutes(s);
    const port = (s.args as ContainerArgs | DaemonSetArgs).port;
    if (!def.publish || routes.length === 0 || port === undefined) return;
    const after = [`${s.name}.service`];
    if (def.publish.gateway) {
        renderHttpRoutes(def.name, s.name, def.namespace, port, routes, def.publish.gateway).forEach((m, i) =>
            add(`${s.name}.httproute${i === 0 ? "" : `-${i + 1}`}`, m, after, s.name),
        );
    } else if (def.publish.ingressClassName) {
        const m = renderIngress(def.name, s.name, def.namespace, port, routes, def.publish.ingressClassName);
        add(`${s.name}.ingress`, m, after, s.name);
    }
}
