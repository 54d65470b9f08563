// Validation of how services are reached: `publish` (a cluster's own Gateway or Ingress controller) and
// that every service published on NodePorts admits some source.
import { PublishVia } from "./render/routes";
import { ContainerArgs, DaemonSetArgs, Service } from "./types";
import { Add } from "./validate-ports";

/** A DNS-1123 subdomain (Gateway, namespace and IngressClass names). */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

function checkName(key: string, value: unknown, pattern: RegExp, what: string, add: Add): void {
    if (typeof value !== "string" || value.length > 253 || !pattern.test(value))
        add(key, value, `${show(value)} is not ${what}; use lowercase letters, digits and '-'`);
}

/**
 * Checks `publish` (exactly one of a Gateway or an IngressClass, the proxy's namespace, HTTP routes only)
 * and, when the edge hosts are known (`edgeSourceCidrs` given, app-only mode gives none), that no service
 * is published on NodePorts that nothing may reach (no `allowFrom`, no edge hosts).
 */
export function validatePublish(
    services: readonly Service[],
    publish: PublishVia | undefined,
    edgeSourceCidrs: readonly string[] | undefined,
    add: Add,
): void {
    if (publish) {
        if (publish.gateway && publish.ingressClassName !== undefined)
            add("publish", "gateway, ingressClassName", "sets both gateway and ingressClassName; choose one");
        else if (!publish.gateway && publish.ingressClassName === undefined)
            add(
                "publish",
                undefined,
                "names no proxy; set gateway: { name, namespace } (Gateway API) or ingressClassName (Ingress)",
            );
        if (publish.gateway) {
            checkName("publish.gateway.name", publish.gateway.name, SUBDOMAIN, "a Gateway name", add);
            checkName("publish.gateway.namespace", publish.gateway.namespace, LABEL, "a namespace", add);
            if (publish.gateway.sectionName !== undefined)
                checkName(
                    "publish.gateway.sectionName",
                    publish.gateway.sectionName,
                    LABEL,
                    "a listener name",
                    add,
                );
        }
        if (publish.ingressClassName !== undefined)
            checkName(
                "publish.ingressClassName",
                publish.ingressClassName,
                SUBDOMAIN,
                "an IngressClass name",
                add,
            );
        if (publish.proxyNamespace !== undefined)
            checkName("publish.proxyNamespace", publish.proxyNamespace, LABEL, "a namespace", add);
        else if (publish.ingressClassName !== undefined && !publish.gateway)
            add(
                "publish.proxyNamespace",
                undefined,
                "is required with ingressClassName; name the namespace of the ingress controller's pods, e.g. ingress-nginx",
            );
    }
    for (const s of services) {
        if (s.kind !== "container" && s.kind !== "daemonset") continue;
        const at = `services.${s.name}`;
        const a = s.args as ContainerArgs | DaemonSetArgs;
        const routes = a.routes ?? [];
        if (publish)
            routes.forEach((r, i) => {
                if (r.kind !== "http")
                    add(
                        `${at}.routes[${i}]`,
                        r.kind,
                        `a ${r.kind} route needs Keelson's edge, and publish carries HTTP only; use expose "LoadBalancer" for it`,
                    );
            });
        if (a.port === undefined || a.allowFrom !== undefined || edgeSourceCidrs?.length !== 0) continue;
        const nodePort = a.expose === "NodePort" || (a.expose === undefined && !publish && routes.length > 0);
        if (nodePort)
            add(
                `${at}.allowFrom`,
                undefined,
                `is not set and there are no edge hosts (edgeSourceCidrs is empty), so nothing can reach ${s.name}'s NodePort; ` +
                    `set publish (a Gateway or an IngressClass) for its HTTP routes, or allowFrom`,
            );
    }
}
