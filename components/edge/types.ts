// The contract between the application graph (which produces routes) and the edge load balancers.
import * as pulumi from "@pulumi/pulumi";
import { SecurityGroupRef } from "../cluster/types";
import { Problem } from "../core/problems";

/**
 * An HTTP(S) route: requests whose Host is one of `hosts` and whose path is `path` or below it
 * (segment-wise: `/api` matches `/api` and `/api/x`, not `/apix`) go to the route's pool, which is
 * every worker at `<privateIp>:<nodePort>`. TLS terminates at the edge; the pool speaks plain HTTP/1.1.
 */
export interface HttpRoute {
    readonly kind: "http";
    /** DNS-safe, unique among all routes; names the pool (`nginx upstream` / `haproxy backend`). */
    readonly name: string;
    /** Host names, exact (`app.example.com`) or one leading wildcard label (`*.example.com`). */
    readonly hosts: readonly string[];
    /** Path prefix starting with `/`. `/` catches everything not claimed by a longer path. */
    readonly path: string;
    /** The Kubernetes NodePort the service is published on (30000-32767 in a default cluster). */
    readonly nodePort: number;
    /**
     * Path answered 200 by a node that has a ready pod. Services use externalTrafficPolicy Local,
     * so nodes without a ready pod fail it and are skipped (actively by haproxy, passively by nginx).
     */
    readonly healthPath: string;
    /** kube-proxy's health-check NodePort of the service (`/healthz`), checked by the worker NLB. */
    readonly healthCheckNodePort?: number;
    /** Allow websocket upgrades and keep idle upgraded connections for an hour. Default false. */
    readonly websocket?: boolean;
}

/** A raw TCP or UDP route: the edge listens on `listenPort` and forwards to every worker's `nodePort`. */
export interface StreamRoute {
    readonly kind: "tcp" | "udp";
    /** DNS-safe, unique among all routes. */
    readonly name: string;
    /** Public port on the edge hosts; 80 and 443 are reserved for HTTP(S). */
    readonly listenPort: number;
    /** The Kubernetes NodePort the service is published on. */
    readonly nodePort: number;
    /** kube-proxy's health-check NodePort of the service (`/healthz`), checked by the worker NLB. */
    readonly healthCheckNodePort?: number;
}

/** Any route the edge can serve. */
export type EdgeRoute = HttpRoute | StreamRoute;

/** The load balancer software on the edge hosts. */
export const EdgeEngine = { Nginx: "nginx", Haproxy: "haproxy" } as const;
/** The load balancer software on the edge hosts. */
export type EdgeEngine = (typeof EdgeEngine)[keyof typeof EdgeEngine];

/** One bad input: the key, the value, and a message that says how to fix it (same shape as config problems). */
export type EdgeProblem = Problem;

/** A pool member as the renderers see it: a stable name and a plain address (IP or host name). */
export interface EdgeBackendAddress {
    /** Stable, DNS-safe name (the worker's node name); used as the server name in the configs. */
    readonly name: string;
    readonly address: string;
}

/** A certificate as the renderers see it: only its name and the host names it serves (SNI). */
export interface EdgeCertificateRef {
    /** DNS-safe; the files are `<certDir>/<name>.crt` + `.key` (nginx) or `<certDir>/<name>.pem` (haproxy). */
    readonly name: string;
    /** Host names (exact or `*.` wildcard) this certificate is served for. */
    readonly hosts: readonly string[];
}

/** Everything a renderer needs to know about what to serve, independent of where files live. */
export interface EdgeSpec {
    readonly routes: readonly EdgeRoute[];
    readonly backends: readonly EdgeBackendAddress[];
    /** At least one when there is an HTTP route; the first is the default for unknown SNI names. */
    readonly certificates: readonly EdgeCertificateRef[];
    /** Answer ACME HTTP-01 challenges on the HTTP port (`/.well-known/acme-challenge/`). Default false. */
    readonly acme?: boolean;
}

/**
 * What the edge needs from the network (the Network component satisfies it). The Network creates the
 * `edge` security group with egress only; the Edge component adds its own ingress rules.
 */
export interface EdgeNetwork {
    readonly vpcId: pulumi.Input<string>;
    readonly availabilityZones: string[];
    /** One public subnet per availability zone, in the same order. */
    readonly publicSubnetIds: pulumi.Input<string>[];
    readonly securityGroups: EdgeSecurityGroups;
}

/** The security group of the edge hosts. */
export interface EdgeSecurityGroups {
    readonly edge: SecurityGroupRef;
}

/** A certificate and its private key (both secrets when read from stage config). */
export interface EdgeCertificateInput {
    /** DNS-safe name; the SSM parameters are `/keelson/<stage>/<edge component name>/tls/<name>/{cert,key}`. */
    readonly name: string;
    readonly hosts: string[];
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
}
