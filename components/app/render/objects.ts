// Pure renderers of the non-workload objects: Namespace, Services, Secrets (without data) and the
// NetworkPolicies that allow exactly the declared edges.
import { SECRET_MASK } from "../../core/graph";
import { Manifest, NAME_LABEL, PlannedSecret, selectorLabels, serviceLabels } from "./meta";

/** One port of a Service. */
export interface ServicePortPlan {
    readonly name: string;
    readonly port: number;
    readonly targetPort: number;
    readonly protocol: "TCP" | "UDP";
    readonly nodePort?: number;
}

/** A namespace that enforces the "restricted" Pod Security Standard. */
export function renderNamespace(namespace: string, app: string): Manifest {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name: namespace,
            labels: {
                "app.kubernetes.io/part-of": app,
                "app.kubernetes.io/managed-by": "keelson",
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    };
}

/**
 * A Service in front of a service's pods. NodePort/LoadBalancer keep the client source IP (policy Local);
 * a LoadBalancer with `sourceRanges` sets them as `loadBalancerSourceRanges`. Default no ranges (any source).
 * `edge` (a NodePort the edge reaches through the worker NLB) makes it a LoadBalancer of class
 * `edge.loadBalancerClass`, which no controller implements, for kube-proxy's health-check NodePort.
 */
export function renderService(
    app: string,
    service: string,
    component: string,
    namespace: string,
    type: "ClusterIP" | "NodePort" | "LoadBalancer",
    ports: readonly ServicePortPlan[],
    sourceRanges?: readonly string[],
    edge?: { readonly loadBalancerClass: string; readonly healthCheckNodePort?: number },
): Manifest {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: service, namespace, labels: serviceLabels(app, service, component) },
        spec: {
            type: edge ? "LoadBalancer" : type,
            ...(edge ? { loadBalancerClass: edge.loadBalancerClass } : {}),
            selector: selectorLabels(app, service),
            ports: ports.map((p) => ({ ...p })),
            ...(type === "ClusterIP" ? {} : { externalTrafficPolicy: "Local" }),
            ...(edge?.healthCheckNodePort ? { healthCheckNodePort: edge.healthCheckNodePort } : {}),
            // The cloud load balancer's own firewall admits the same sources as the NetworkPolicy.
            ...(type === "LoadBalancer" && sourceRanges
                ? { loadBalancerSourceRanges: [...sourceRanges] }
                : {}),
        },
    };
}

/** The headless Service a StatefulSet's pods get stable DNS names from (`<pod>.<name>-headless`). */
export function renderHeadlessService(
    app: string,
    service: string,
    component: string,
    namespace: string,
    ports: readonly ServicePortPlan[],
): Manifest {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: `${service}-headless`, namespace, labels: serviceLabels(app, service, component) },
        spec: {
            clusterIP: "None",
            publishNotReadyAddresses: false,
            selector: selectorLabels(app, service),
            ports: ports.map((p) => ({ ...p })),
        },
    };
}

/** An ExternalName Service: a cluster DNS name that is a CNAME of an external host. */
export function renderExternalName(
    app: string,
    service: string,
    namespace: string,
    host: string,
    port: number,
): Manifest {
    return {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: service, namespace, labels: serviceLabels(app, service, "external") },
        spec: { type: "ExternalName", externalName: host, ports: [{ name: "tcp", port, protocol: "TCP" }] },
    };
}

/** A Secret as recorded in artifacts: its keys, every value masked. The real data never leaves Pulumi secrets. */
export function renderSecretSkeleton(
    app: string,
    service: string,
    namespace: string,
    secret: PlannedSecret,
): Manifest {
    const stringData: Record<string, string> = {};
    for (const key of Object.keys(secret.keys).sort()) stringData[key] = SECRET_MASK;
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: secret.name, namespace, labels: serviceLabels(app, service, "credentials") },
        type: "Opaque",
        stringData,
    };
}

/** Denies all ingress and egress of every pod in the namespace; the allow rules below open exact paths. */
export function renderDefaultDeny(namespace: string): Manifest {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "default-deny", namespace },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    };
}

/** Lets every pod in the namespace resolve names through kube-dns, and nothing else. */
export function renderDnsEgress(namespace: string): Manifest {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "allow-dns", namespace },
        spec: {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [
                        {
                            namespaceSelector: {
                                matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                            },
                            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                        },
                    ],
                    ports: [
                        { protocol: "UDP", port: 53 },
                        { protocol: "TCP", port: 53 },
                    ],
                },
            ],
        },
    };
}

/** A port in a NetworkPolicy rule. */
export interface PolicyPort {
    readonly protocol: "TCP" | "UDP";
    readonly port: number;
}

const pods = (app: string, service: string) => ({
    podSelector: { matchLabels: selectorLabels(app, service) },
});

/** Ingress half of an edge: the dependency's pods accept the dependent's pods on the dependency's port. */
export function renderEdgeIngress(
    app: string,
    namespace: string,
    from: string,
    to: string,
    ports: readonly PolicyPort[],
): Manifest {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: `${to}-from-${from}`, namespace, labels: { [NAME_LABEL]: to } },
        spec: {
            ...pods(app, to),
            policyTypes: ["Ingress"],
            ingress: [{ from: [pods(app, from)], ports: ports.map((p) => ({ ...p })) }],
        },
    };
}

/**
 * Egress half of an edge: the dependent's pods may open connections to the dependency's pods on its port,
 * or, for a service outside the cluster (external, S3), to any address on that port only.
 */
export function renderEdgeEgress(
    app: string,
    namespace: string,
    from: string,
    to: string,
    ports: readonly PolicyPort[],
    outside: boolean,
): Manifest {
    const peer = outside ? { ipBlock: { cidr: "0.0.0.0/0" } } : pods(app, to);
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: `${from}-to-${to}`, namespace, labels: { [NAME_LABEL]: from } },
        spec: {
            ...pods(app, from),
            policyTypes: ["Egress"],
            egress: [{ to: [peer], ports: ports.map((p) => ({ ...p })) }],
        },
    };
}

/** Ingress from outside the cluster to a published service: only from the given CIDRs (the edge hosts). */
export function renderPublishedIngress(
    app: string,
    namespace: string,
    service: string,
    cidrs: readonly string[],
    ports: readonly PolicyPort[],
): Manifest {
    return {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: `${service}-from-outside`, namespace, labels: { [NAME_LABEL]: service } },
        spec: {
            ...pods(app, service),
            policyTypes: ["Ingress"],
            ingress: [
                { from: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: ports.map((p) => ({ ...p })) },
            ],
        },
    };
}

/** A ConfigMap of files (keys are file names, values their content). */
export function renderConfigMap(
    app: string,
    service: string,
    namespace: string,
    name: string,
    data: Readonly<Record<string, string>>,
): Manifest {
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, namespace, labels: serviceLabels(app, service, "config") },
        data: { ...data },
    };
}

/**
 * A ReadWriteOnce PersistentVolumeClaim. Its size may grow in place (the StorageClass allows expansion);
 * Pulumi patches the claim, and nothing is replaced.
 */
export function renderClaim(
    app: string,
    service: string,
    namespace: string,
    name: string,
    sizeGb: number,
    storageClass?: string,
): Manifest {
    return {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, namespace, labels: serviceLabels(app, service, "storage") },
        spec: {
            accessModes: ["ReadWriteOnce"],
            ...(storageClass ? { storageClassName: storageClass } : {}),
            resources: { requests: { storage: `${sizeGb}Gi` } },
        },
    };
}
