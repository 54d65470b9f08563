// Pure decisions of the Edge component, made from plain values before any resource exists: which
// certificates exist and where they come from, the ACME challenge, the SSM layout, and every problem.
import { EdgeSettings } from "./args";
import { DNS_LABEL } from "../core/names";
import { EdgeTlsSource } from "./render/bootstrap";
import { EdgeCertificateRef, EdgeProblem, EdgeRoute } from "./types";
import { validateCertificates, validateRoutes } from "./validate";

/** How the Edge component gets its certificates. */
export type CertificateSource = "provided" | "self-signed" | "acme";

/** What the Edge component will build, decided from plain values. */
export interface EdgePlan {
    readonly source: CertificateSource;
    /** Certificates by name and hosts (the first is the default for unknown SNI names). */
    readonly certificates: readonly EdgeCertificateRef[];
    /** SSM prefix of everything the hosts read: `/keelson/<stage>/<component>`; the role may read below it. */
    readonly ssmPrefix: string;
    /** SSM prefix of the TLS parameters: `<ssmPrefix>/tls`. */
    readonly parameterPrefix: string;
    /** SSM parameter holding the rendered config (gzip + base64): `<ssmPrefix>/config`. */
    readonly configParameter: string;
    /** ACME challenge; DNS-01 (Route 53) when several hosts share the names or a name is a wildcard. */
    readonly acmeChallenge?: "http-01" | "dns-01";
    readonly problems: readonly EdgeProblem[];
}

/** Inputs of {@link planEdge}: the plain parts of the Edge component's args. */
export interface EdgePlanInput {
    readonly stage: string;
    /** The component's name; names the SSM prefix. */
    readonly name: string;
    readonly config: EdgeSettings;
    readonly routes: readonly EdgeRoute[];
    readonly backendNames: readonly string[];
    /** Names and hosts of the certificates passed in (provided mode). */
    readonly provided: readonly EdgeCertificateRef[];
    /** Number of public subnets / availability zones the network offers. */
    readonly subnetCount: number;
}

/** Every distinct HTTP host in route order, for a certificate that has to serve them all. */
export function routeHosts(routes: readonly EdgeRoute[]): string[] {
    return [...new Set(routes.flatMap((r) => (r.kind === "http" ? r.hosts : [])))];
}

/**
 * Decides certificates and TLS source and collects every problem: bad routes, hosts without a
 * certificate, bad backend names, a provided mode without certificates, no public subnet.
 * Certificates passed in always win; otherwise `self-signed` and `acme` use `edge.certificates`
 * from config, or one certificate `default` for every route host.
 */
export function planEdge(input: EdgePlanInput): EdgePlan {
    const { config } = input;
    const problems: EdgeProblem[] = [...validateRoutes(input.routes, config.engine)];
    const source: CertificateSource =
        input.provided.length > 0 && config.tlsMode !== "acme" ? "provided" : config.tlsMode;
    let certificates: readonly EdgeCertificateRef[];
    if (input.provided.length > 0 && source === "provided") {
        certificates = input.provided;
    } else if (config.certificates.length > 0) {
        certificates = config.certificates;
    } else {
        const hosts = routeHosts(input.routes);
        certificates = [{ name: "default", hosts: hosts.length > 0 ? hosts : ["localhost"] }];
    }
    if (source === "provided" && input.provided.length === 0) {
        problems.push({
            key: "edge.certificates",
            value: [],
            message:
                'edge.certificates: none were passed but edge.tlsMode is "provided"; set keelson:tls-<name>-cert and keelson:tls-<name>-key for each',
        });
    }
    problems.push(...validateCertificates(input.routes, certificates));
    const seen = new Set<string>();
    input.backendNames.forEach((name, i) => {
        const key = `backends[${i}].name`;
        if (!DNS_LABEL.test(name)) {
            problems.push({
                key,
                value: name,
                message: `${key}: "${name}" is not DNS-safe; use the worker's node name`,
            });
        } else if (seen.has(name)) {
            problems.push({
                key,
                value: name,
                message: `${key}: "${name}" is listed twice; list each worker once`,
            });
        }
        seen.add(name);
    });
    if (input.subnetCount === 0) {
        problems.push({
            key: "network.publicSubnets",
            value: [],
            message:
                "network.publicSubnets: the edge needs at least one public subnet; give the network one per AZ",
        });
    }
    let acmeChallenge: EdgePlan["acmeChallenge"];
    if (source === "acme") {
        const wildcard = certificates.some((c) => c.hosts.some((h) => h.startsWith("*.")));
        // HTTP-01 only works when the host that asked is the one Let's Encrypt reaches.
        acmeChallenge = config.count > 1 || config.nlb || wildcard ? "dns-01" : "http-01";
    }
    return {
        source,
        certificates,
        ssmPrefix: `/keelson/${input.stage}/${input.name}`,
        parameterPrefix: `/keelson/${input.stage}/${input.name}/tls`,
        configParameter: `/keelson/${input.stage}/${input.name}/config`,
        acmeChallenge,
        problems,
    };
}

/** The bootstrap script's TLS source for a plan. */
export function tlsSource(plan: EdgePlan, config: EdgeSettings): EdgeTlsSource {
    if (plan.source !== "acme") return { kind: "ssm", parameterPrefix: plan.parameterPrefix };
    return {
        kind: "acme",
        email: config.acmeEmail ?? "",
        challenge: plan.acmeChallenge ?? "http-01",
        keyAlgorithm: config.keyAlgorithm,
    };
}
