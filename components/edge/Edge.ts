// The edge load balancers: nginx or haproxy hosts in the public subnets, TLS terminated there,
// forwarding to every worker's NodePort. Config is rendered by the pure renderers beside this file.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Artifacts, ArtifactSet } from "../artifact-set";
import { ConfigError } from "../core/problems";
import { EdgeArgs, EdgeKeyAlgorithm, resolveEdgeSettings } from "./args";
import { createEdgeAccess, createEdgeKey } from "./access";
import { NlbPort, createEdgeNlb } from "./nlb";
import { planEdge, tlsSource } from "./plan";
import { renderHaproxyConfig } from "./render/haproxy";
import { streamRoutes } from "./render/model";
import { renderNginxConfig } from "./render/nginx";
import { architectureOf, debianAmi } from "../ec2/debian";
import { compressUserData } from "../ec2/user-data";
import { renderEdgeUserData } from "./render/userdata";
import { EdgeCertificateInput, EdgeRoute, EdgeSpec } from "./types";

export {
    EdgeArgs,
    EdgeBackend,
    EdgeKeyAlgorithm,
    EdgeManagedCertificate,
    EdgeSettings,
    EdgeShapeArgs,
    EdgeTlsMode,
    resolveEdgeSettings,
} from "./args";

/**
 * Edge load balancer hosts (`keelson:edge:Edge`): `count` Debian 12 instances spread over the
 * public subnets, each with an Elastic IP, IMDSv2 only and an encrypted gp3 root volume, running
 * nginx or haproxy installed by cloud-init. The rendered config is an SSM parameter that the hosts
 * apply every minute (after the engine's own check), so new workers or routes reload in place;
 * private keys reach the hosts only as SSM SecureStrings read by a role scoped to this edge's
 * prefix. Optionally an NLB in front. Throws a ConfigError, with nothing registered, when routes,
 * certificates or backends are unusable.
 */
export class Edge extends pulumi.ComponentResource {
    /** Elastic IPs of the hosts, in host order. Point DNS here (or at `nlbDnsName`). */
    readonly publicIps: pulumi.Output<string>[];
    readonly hosts: aws.ec2.Instance[];
    /** `https://<first route host>`, or the NLB / first host address when no HTTP route exists. */
    readonly url: pulumi.Output<string>;
    /** DNS name of the NLB when `nlb` is true. */
    readonly nlbDnsName?: pulumi.Output<string>;
    /**
     * What this component rendered, by path under the plan's output folder (`edge/nginx.conf` or `edge/haproxy.cfg`,
     * `user-data/<host>.yaml`). Also
     * registered as the component's `artifacts` output.
     */
    readonly artifacts: Artifacts;

    constructor(name: string, args: EdgeArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const config = resolveEdgeSettings(args);
        const stage = args.stage ?? pulumi.getStack();
        const plan = planEdge({
            stage,
            name,
            config,
            routes: args.routes,
            backendNames: args.backends.map((b) => b.name),
            provided: (args.certificates ?? []).map((c) => ({ name: c.name, hosts: c.hosts })),
            subnetCount: args.network.publicSubnetIds.length,
        });
        if (plan.problems.length > 0) throw new ConfigError(stage, plan.problems);
        super("keelson:edge:Edge", name, {}, opts);
        const artifacts = new ArtifactSet();
        const parent = { parent: this };

        // TLS material into SSM: the cert as a String, the key as a SecureString under the edge's own KMS
        // key (only the edge role decrypts; see ./access.ts), both Pulumi secrets.
        const material: EdgeCertificateInput[] =
            plan.source === "provided"
                ? [...(args.certificates ?? [])]
                : plan.source === "self-signed"
                  ? plan.certificates.map((c) => this.selfSigned(name, c.name, c.hosts, config.keyAlgorithm))
                  : [];
        const tlsKey = material.length > 0 ? createEdgeKey(name, this) : undefined;
        const parameters = material.flatMap((c) => [
            new aws.ssm.Parameter(
                `${name}-tls-${c.name}-cert`,
                {
                    name: `${plan.parameterPrefix}/${c.name}/cert`,
                    type: "String",
                    // Full chains can pass the 4 KB of the standard tier.
                    tier: "Intelligent-Tiering",
                    value: c.certPem,
                    description: `Keelson edge certificate chain ${c.name} (${c.hosts.join(", ")})`,
                },
                parent,
            ),
            new aws.ssm.Parameter(
                `${name}-tls-${c.name}-key`,
                {
                    name: `${plan.parameterPrefix}/${c.name}/key`,
                    type: "SecureString",
                    keyId: tlsKey!.arn,
                    value: pulumi.secret(c.keyPem),
                    description: `Keelson edge private key ${c.name}`,
                },
                { parent: this, additionalSecretOutputs: ["value"] },
            ),
        ]);

        this.addIngress(name, args);
        const access = createEdgeAccess(
            name,
            { ssm: plan.ssmPrefix, tls: plan.parameterPrefix },
            tlsKey,
            plan.acmeChallenge === "dns-01",
            this,
        );

        const spec = (addresses: string[]): EdgeSpec => ({
            routes: args.routes,
            backends: args.backends.map((b, i) => ({ name: b.name, address: addresses[i] })),
            certificates: plan.certificates,
            acme: plan.source === "acme",
        });
        const render = (s: EdgeSpec) =>
            config.engine === "nginx"
                ? renderNginxConfig(s, { ocspStapling: plan.source !== "self-signed" })
                : renderHaproxyConfig(s);
        const engineConfig = pulumi.all(args.backends.map((b) => b.address)).apply((a) => render(spec(a)));
        artifacts.add(`edge/${config.engine === "nginx" ? "nginx.conf" : "haproxy.cfg"}`, engineConfig);
        // The hosts read the config from here at boot and every minute: new workers or routes update
        // this parameter and are reloaded in place, instead of replacing the hosts.
        const configParameter = new aws.ssm.Parameter(
            `${name}-config`,
            {
                name: plan.configParameter,
                type: "String",
                tier: "Intelligent-Tiering",
                value: engineConfig.apply(compressUserData),
                description: `Keelson edge ${config.engine} config (gzip + base64)`,
            },
            parent,
        );

        const region = aws.getRegionOutput({}, parent).region;
        const ami = debianAmi(this, architectureOf(config.instanceType));
        const subnets = args.network.publicSubnetIds;
        this.hosts = [];
        this.publicIps = [];
        for (let i = 0; i < config.count; i++) {
            const hostName = `${name}-${i}`;
            const userData = region.apply((r) =>
                renderEdgeUserData({
                    hostname: hostName,
                    engine: config.engine,
                    region: r,
                    configParameter: plan.configParameter,
                    streams: streamRoutes(args).length > 0,
                    certificates: plan.certificates,
                    tls: tlsSource(plan, config),
                }),
            );
            artifacts.add(`user-data/${hostName}.yaml`, userData);
            const host = new aws.ec2.Instance(
                hostName,
                {
                    ami,
                    instanceType: config.instanceType,
                    subnetId: subnets[i % subnets.length],
                    vpcSecurityGroupIds: [args.network.securityGroups.edge.id],
                    iamInstanceProfile: access.profile.name,
                    userDataBase64: userData.apply(compressUserData),
                    // cloud-init runs once: a new script means a new host (config changes go through SSM).
                    userDataReplaceOnChange: true,
                    metadataOptions: {
                        httpTokens: "required",
                        httpEndpoint: "enabled",
                        httpPutResponseHopLimit: 1,
                    },
                    rootBlockDevice: {
                        volumeType: "gp3",
                        volumeSize: 10,
                        encrypted: true,
                        deleteOnTermination: true,
                    },
                    tags: {
                        Name: `${stage}-${hostName}`,
                        "keelson:role": "edge",
                        "keelson:engine": config.engine,
                    },
                },
                // The host reads its parameters at boot: they must exist first.
                { parent: this, dependsOn: [...parameters, configParameter] },
            );
            const eip = new aws.ec2.Eip(
                `${hostName}-eip`,
                { domain: "vpc", instance: host.id, tags: { Name: `${stage}-${hostName}` } },
                parent,
            );
            this.hosts.push(host);
            this.publicIps.push(eip.publicIp);
        }

        if (config.nlb) {
            const nlb = createEdgeNlb(
                name,
                {
                    vpcId: args.network.vpcId,
                    subnetIds: [...subnets],
                    ports: nlbPorts(args.routes),
                    hosts: this.hosts,
                },
                this,
            );
            this.nlbDnsName = nlb.dnsName;
        }
        const firstHost = args.routes
            .flatMap((r) => (r.kind === "http" ? r.hosts : []))
            .find((h) => !h.startsWith("*."));
        this.url = firstHost
            ? pulumi.output(`https://${firstHost}`)
            : pulumi.interpolate`https://${this.nlbDnsName ?? this.publicIps[0]}`;
        this.artifacts = artifacts.files;
        this.registerOutputs({
            publicIps: this.publicIps,
            url: this.url,
            nlbDnsName: this.nlbDnsName,
            artifacts: this.artifacts,
        });
    }

    private selfSigned(name: string, cert: string, hosts: readonly string[], algorithm: EdgeKeyAlgorithm) {
        const key = new tls.PrivateKey(
            `${name}-${cert}-key`,
            algorithm === "rsa-2048"
                ? { algorithm: "RSA", rsaBits: 2048 }
                : { algorithm: "ECDSA", ecdsaCurve: "P256" },
            { parent: this },
        );
        const certificate = new tls.SelfSignedCert(
            `${name}-${cert}-cert`,
            {
                privateKeyPem: key.privateKeyPem,
                subject: { commonName: hosts[0], organization: "Keelson self-signed" },
                dnsNames: [...hosts],
                validityPeriodHours: 24 * 365,
                earlyRenewalHours: 24 * 30,
                allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
            },
            { parent: this },
        );
        return { name: cert, hosts: [...hosts], certPem: certificate.certPem, keyPem: key.privateKeyPem };
    }

    private addIngress(name: string, args: EdgeArgs): void {
        const rules = [
            { key: "http", protocol: "tcp", port: 80, what: "HTTP (redirect to HTTPS, ACME HTTP-01)" },
            { key: "https", protocol: "tcp", port: 443, what: "HTTPS" },
            ...streamRoutes(args).map((r) => ({
                key: `route-${r.name}`,
                protocol: r.kind,
                port: r.listenPort,
                what: `${r.kind.toUpperCase()} route ${r.name}`,
            })),
        ];
        for (const rule of rules) {
            new aws.vpc.SecurityGroupIngressRule(
                `${name}-in-${rule.key}`,
                {
                    securityGroupId: args.network.securityGroups.edge.id,
                    ipProtocol: rule.protocol,
                    fromPort: rule.port,
                    toPort: rule.port,
                    cidrIpv4: "0.0.0.0/0",
                    description: `Keelson edge: ${rule.what} from anywhere`,
                },
                { parent: this },
            );
        }
    }
}

/** The NLB's ports: 80, 443 and every stream route. */
export function nlbPorts(routes: readonly EdgeRoute[]): NlbPort[] {
    return [
        { key: "http", port: 80, protocol: "TCP" },
        { key: "https", port: 443, protocol: "TCP" },
        ...streamRoutes({ routes }).map((r) => ({
            key: `route-${r.name}`,
            port: r.listenPort,
            protocol: r.kind === "udp" ? ("UDP" as const) : ("TCP" as const),
        })),
    ];
}
