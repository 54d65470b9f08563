// The Edge component's arguments and how their defaults resolve. Pure.
import * as pulumi from "@pulumi/pulumi";
import { EdgeCertificateInput, EdgeCertificateRef, EdgeEngine, EdgeNetwork, EdgeRoute } from "./types";

/** Where the edge's certificates come from: created with @pulumi/tls, passed in, or issued on the hosts by ACME. */
export const EdgeTlsMode = { SelfSigned: "self-signed", Provided: "provided", Acme: "acme" } as const;
/** Where the edge's certificates come from: created with @pulumi/tls, passed in, or issued on the hosts by ACME. */
export type EdgeTlsMode = (typeof EdgeTlsMode)[keyof typeof EdgeTlsMode];

/** Key algorithm of self-signed certificates (and of ACME account and certificate keys). */
export const EdgeKeyAlgorithm = { EcdsaP256: "ecdsa-p256", Rsa2048: "rsa-2048" } as const;
/** Key algorithm of self-signed certificates (and of ACME account and certificate keys). */
export type EdgeKeyAlgorithm = (typeof EdgeKeyAlgorithm)[keyof typeof EdgeKeyAlgorithm];

/** A pool member: a worker by node name and private IP. */
export interface EdgeBackend {
    /** Stable, DNS-safe name (the worker's node name). */
    readonly name: string;
    readonly address: pulumi.Input<string>;
}

/** A certificate the edge creates (`self-signed`) or issues (`acme`), by name and the hosts it serves. */
export interface EdgeManagedCertificate {
    /** DNS-safe name of the certificate. */
    readonly name: string;
    /** Host names (exact or `*.` wildcard). */
    readonly hosts: string[];
}

/** Arguments of {@link Edge}. `network`, `backends` and `routes` are required; every other field has the default it states. */
export interface EdgeArgs extends EdgeShapeArgs {
    /** The public subnets and the `edge` security group (a {@link Network} satisfies it). */
    readonly network: EdgeNetwork;
    /** Every worker, by node name and private IP: each HTTP route's pool is `<address>:<nodePort>`. */
    readonly backends: EdgeBackend[];
    /** What to serve, e.g. `Application.routes`. */
    readonly routes: readonly EdgeRoute[];
}

/**
 * Every argument of {@link Edge} but what it serves and where (network, backends, routes), each with the default it
 * states (the component provider's Edge takes these too, provider/edge.ts).
 */
export interface EdgeShapeArgs {
    /** Stage (stack) name; names the SSM prefix `/keelson/<stage>/<name>` and the hosts' Name tags. Default the Pulumi stack name. */
    readonly stage?: string;
    /** Load balancer software on the hosts. Default `nginx`. */
    readonly engine?: EdgeEngine;
    /** Number of hosts, spread over the public subnets, each with an Elastic IP. Default 1. */
    readonly count?: number;
    /** Host instance type. Default `t3.small`. */
    readonly instanceType?: string;
    /** Put an AWS NLB in front of the hosts. Default false. */
    readonly nlb?: boolean;
    /** Where certificates come from. Default `self-signed`; `certificates` passed in win unless this is `acme`. */
    readonly tlsMode?: EdgeTlsMode;
    /** Key algorithm of self-signed and ACME keys. Default `ecdsa-p256`. */
    readonly keyAlgorithm?: EdgeKeyAlgorithm;
    /**
     * Certificates to create (`self-signed`) or issue (`acme`), by name and hosts. Default one certificate
     * `default` for every route host.
     */
    readonly managedCertificates?: EdgeManagedCertificate[];
    /** Contact email for ACME registration (`acme` mode). Default none. */
    readonly acmeEmail?: string;
    /**
     * Certificates with their keys (secrets), e.g. from `keelson:tls-<name>-cert/-key` in `provided`
     * mode. Default none: `self-signed` creates them with @pulumi/tls, `acme` issues them on the hosts.
     */
    readonly certificates?: EdgeCertificateInput[];
}

/** The edge's settings with every default applied: what the pure plan and renderers decide from. */
export interface EdgeSettings {
    readonly engine: EdgeEngine;
    readonly count: number;
    readonly instanceType: string;
    readonly nlb: boolean;
    readonly tlsMode: EdgeTlsMode;
    readonly keyAlgorithm: EdgeKeyAlgorithm;
    /** The managed certificates (empty: one `default` certificate for every route host). */
    readonly certificates: readonly EdgeCertificateRef[];
    readonly acmeEmail?: string;
}

/** Applies the defaults {@link EdgeArgs} documents. Pure. */
export function resolveEdgeSettings(args: EdgeShapeArgs): EdgeSettings {
    return {
        engine: args.engine ?? "nginx",
        count: args.count ?? 1,
        instanceType: args.instanceType ?? "t3.small",
        nlb: args.nlb ?? false,
        tlsMode: args.tlsMode ?? "self-signed",
        keyAlgorithm: args.keyAlgorithm ?? "ecdsa-p256",
        certificates: args.managedCertificates ?? [],
        ...(args.acmeEmail !== undefined ? { acmeEmail: args.acmeEmail } : {}),
    };
}
