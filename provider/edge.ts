// The Edge as other Pulumi languages see it (`keelson:index:Edge`): the TypeScript Edge's settings, the network
// as a Network's outputs, the worker pools as a Cluster's `workerGroupNames`, and the routes as one flat type (a
// schema has no union of object types: `kind` says which fields apply). It builds what the TypeScript stage program
// builds for its edge: the workers' internal NLB (WorkerIngress, one listener per NodePort, every pool's group
// attached) and the TypeScript Edge forwarding to it.
import * as pulumi from "@pulumi/pulumi";
import { Edge as KeelsonEdge, EdgeRoute, EdgeShapeArgs, WorkerIngress } from "../components";
import { Problem, show, ValidationError } from "../components/core/problems";
import { NetworkOutputsArgs } from "./network-outputs";

/** What a route forwards: `http` (TLS terminated, by host and path) or raw `tcp` / `udp` on a port of its own. */
export const EdgeRouteKind = { Http: "http", Tcp: "tcp", Udp: "udp" } as const;
/** What a route forwards: `http` (TLS terminated, by host and path) or raw `tcp` / `udp` on a port of its own. */
export type EdgeRouteKind = (typeof EdgeRouteKind)[keyof typeof EdgeRouteKind];

/** One route. `http` takes `hosts`, `path`, `healthPath` and `websocket`; `tcp` and `udp` take `listenPort`. */
export interface EdgeRouteArgs {
    /** `http`, `tcp` or `udp`. */
    readonly kind: EdgeRouteKind;
    /** DNS-safe, unique among the routes; names the pool. */
    readonly name: string;
    /** The Kubernetes NodePort the service is published on (30000-32767 in a default cluster). */
    readonly nodePort: number;
    /** kube-proxy's health-check NodePort of the service (`externalTrafficPolicy: Local`). Default none (TCP checks). */
    readonly healthCheckNodePort?: number;
    /** `http`: host names, exact or with one leading `*.` label; at least one. */
    readonly hosts?: string[];
    /** `http`: path prefix starting with `/`. Default `/`. */
    readonly path?: string;
    /** `http`: path a node with a ready pod answers 200. Default the route's `path`. */
    readonly healthPath?: string;
    /** `http`: allow websocket upgrades. Default false. */
    readonly websocket?: boolean;
    /** `tcp` and `udp`: the public port on the edge hosts (not 80 or 443). */
    readonly listenPort?: number;
}

/** The Edge's args (each documented with its default), the network and the pools as a Network's and a Cluster's outputs. */
export interface EdgeArgs extends EdgeShapeArgs {
    /** The network the edge and the workers run in. */
    readonly network: NetworkOutputsArgs;
    /** The worker pools' Auto Scaling Group names (a Cluster's `workerGroupNames`): the nodes that serve the routes. */
    readonly workerGroupNames: pulumi.Input<string>[];
    /** What to serve. */
    readonly routes: EdgeRouteArgs[];
}

const HTTP_ONLY = ["hosts", "path", "healthPath", "websocket"] as const;

/** The routes as the TypeScript Edge takes them, and every field given to a kind that has no use for it. Pure. */
export function edgeRoutes(routes: readonly EdgeRouteArgs[]): { routes: EdgeRoute[]; problems: Problem[] } {
    const problems: Problem[] = [];
    const add = (key: string, value: unknown, fix: string) =>
        problems.push({ key, value, message: `${key}: ${show(value)} ${fix}` });
    const out = routes.map((r, i): EdgeRoute => {
        const at = `routes[${i}]`;
        const health =
            r.healthCheckNodePort === undefined ? {} : { healthCheckNodePort: r.healthCheckNodePort };
        if (r.kind === "http") {
            if (r.listenPort !== undefined)
                add(
                    `${at}.listenPort`,
                    r.listenPort,
                    "is only for tcp and udp routes; remove it (http is served on 443)",
                );
            if (r.hosts === undefined)
                add(
                    `${at}.hosts`,
                    undefined,
                    "is required for an http route; list its host names, e.g. [app.example.com]",
                );
            const path = r.path ?? "/";
            return {
                kind: "http",
                name: r.name,
                hosts: r.hosts ?? [],
                path,
                nodePort: r.nodePort,
                healthPath: r.healthPath ?? path,
                ...health,
                ...(r.websocket ? { websocket: true } : {}),
            };
        }
        if (r.kind !== "tcp" && r.kind !== "udp")
            add(`${at}.kind`, r.kind, 'is not a route kind; use "http", "tcp" or "udp"');
        for (const k of HTTP_ONLY)
            if (r[k] !== undefined)
                add(`${at}.${k}`, r[k], `is only for http routes; remove it from this ${r.kind} route`);
        if (r.listenPort === undefined)
            add(
                `${at}.listenPort`,
                undefined,
                `is required for a ${r.kind} route; give the public port, e.g. 5432`,
            );
        return {
            kind: r.kind === "udp" ? "udp" : "tcp",
            name: r.name,
            listenPort: r.listenPort ?? 0,
            nodePort: r.nodePort,
            ...health,
        };
    });
    return { routes: out, problems };
}

/**
 * Edge load balancer hosts (nginx or HAProxy, TLS terminated, the TypeScript `Edge`) in front of the workers'
 * internal NLB. Point DNS at `publicIps` (or `nlbDnsName`).
 */
export class Edge extends pulumi.ComponentResource {
    /** `https://<first route host>`, or the first host's address when no route is http. */
    readonly url: pulumi.Output<string>;
    /** Elastic IPs of the hosts, in host order. */
    readonly publicIps: pulumi.Output<string>[];
    /** DNS name of the edge's NLB when `nlb` is true, else empty. */
    readonly nlbDnsName: pulumi.Output<string>;
    /** DNS name of the workers' internal NLB the edge forwards to. */
    readonly ingressDnsName: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const { network, workerGroupNames, routes: flat, ...shape } = args;
        const { routes, problems } = edgeRoutes(flat);
        // Refused before anything is registered (the TypeScript Edge then checks the routes themselves).
        if (problems.length > 0) throw new ValidationError(`edge ${name}`, problems);
        super("keelson:index:Edge", name, {}, opts);
        const ingress = new WorkerIngress(
            `${name}-ingress`,
            {
                vpcId: network.vpcId,
                subnetIds: network.privateSubnetIds,
                securityGroupId: network.securityGroups.workerLb.id,
                groups: Object.fromEntries(workerGroupNames.map((g, i) => [`pool-${i}`, g])),
                routes,
                tags: {},
            },
            { parent: this },
        );
        const edge = new KeelsonEdge(
            name,
            { ...shape, network, backends: [{ name: "workers", address: ingress.dnsName }], routes },
            { parent: this },
        );
        this.url = edge.url;
        this.publicIps = edge.publicIps;
        this.nlbDnsName = edge.nlbDnsName ?? pulumi.output("");
        this.ingressDnsName = ingress.dnsName;
        this.registerOutputs({
            url: this.url,
            publicIps: this.publicIps,
            nlbDnsName: this.nlbDnsName,
            ingressDnsName: this.ingressDnsName,
        });
    }
}
