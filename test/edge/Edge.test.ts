// Mocked component tests of the Edge: exact children, exact security-relevant inputs, secrets kept
// out of user-data and every non-secret input.
import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SESSION_MANAGER_ACTIONS } from "../../components/cluster/iam";
import { edgeConfigArgs } from "../../components/config";
import { EdgeConfig } from "../../components/config/types";
import { Edge, EdgeArgs } from "../../components/edge/Edge";
import { EdgeRoute } from "../../components/edge/types";
import { stableHex } from "../../tools/plan/mock-state";
import { RecordedResource, runUnderMocks } from "../../tools/plan/runtime";
import { gunzipSync } from "zlib";

const KEY_PEM = "-----BEGIN EC PRIVATE KEY-----\nS3CR3T-EDGE-KEY-MATERIAL\n-----END EC PRIVATE KEY-----\n";
const CERT_PEM = "-----BEGIN CERTIFICATE-----\nPUBLIC-CHAIN\n-----END CERTIFICATE-----\n";

const ROUTES: EdgeRoute[] = [
    {
        kind: "http",
        name: "web",
        hosts: ["www.example.com", "example.com"],
        path: "/",
        nodePort: 30080,
        healthPath: "/healthz",
    },
    { kind: "tcp", name: "pg", listenPort: 5432, nodePort: 30432 },
];

function config(overrides: Partial<EdgeConfig> = {}): EdgeConfig {
    return {
        engine: "nginx",
        count: 2,
        instanceType: "t3.small",
        nlb: false,
        tlsMode: "provided",
        keyAlgorithm: "ecdsa-p256",
        certificates: [{ name: "www", hosts: ["www.example.com", "example.com"] }],
        ...overrides,
    };
}

function program(overrides: Partial<EdgeArgs> = {}, cfg: Partial<EdgeConfig> = {}) {
    return () => {
        const sg = new aws.ec2.SecurityGroup("edge-sg", { vpcId: "vpc-1", description: "edge" });
        const edge = new Edge("edge", {
            stage: "prod",
            ...edgeConfigArgs(config(cfg)),
            network: {
                vpcId: pulumi.output("vpc-1"),
                availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
                publicSubnetIds: [
                    pulumi.output("subnet-a"),
                    pulumi.output("subnet-b"),
                    pulumi.output("subnet-c"),
                ],
                securityGroups: { edge: sg },
            },
            backends: [
                { name: "general-0", address: pulumi.output("10.0.64.10") },
                { name: "general-1", address: pulumi.output("10.0.96.11") },
            ],
            routes: ROUTES,
            certificates: [
                {
                    name: "www",
                    hosts: ["www.example.com", "example.com"],
                    certPem: pulumi.secret(CERT_PEM),
                    keyPem: pulumi.secret(KEY_PEM),
                },
            ],
            ...overrides,
        });
        return { url: edge.url, ip0: edge.publicIps[0], ip1: edge.publicIps[1], nlb: edge.nlbDnsName };
    };
}

/** The instance's user-data as cloud-init sees it (the input is gzip + base64). */
const userDataOf = (r: RecordedResource) =>
    gunzipSync(Buffer.from(String(r.inputs.userDataBase64), "base64")).toString();

/** The config parameter's value unpacked (it is stored gzip + base64). */
const configOf = (r: RecordedResource) =>
    gunzipSync(Buffer.from(String(r.rawInputs.value), "base64")).toString();

const byName = (rs: RecordedResource[], name: string) => {
    const found = rs.find((r) => r.name === name && r.custom);
    assert.ok(found, `no resource ${name}`);
    return found;
};

const run = (args: Partial<EdgeArgs> = {}, cfg: Partial<EdgeConfig> = {}, stack = "prod") =>
    runUnderMocks({ stack, config: { "aws:region": "eu-west-1" } }, program(args, cfg));

const EDGE_URN = "urn:pulumi:prod::keelson::keelson:edge:Edge::edge";

describe("edge/Edge (mocked)", () => {
    it("builds exactly the prod-like graph: 2 hosts, EIPs, SSM parameters, role, ingress", async () => {
        const { resources, outputs, artifacts } = await run();
        const children = resources.filter((r) => r.parent === EDGE_URN).map((r) => `${r.type} ${r.name}`);
        assert.deepEqual(children.sort(), [
            "aws:ec2/eip:Eip edge-0-eip",
            "aws:ec2/eip:Eip edge-1-eip",
            "aws:ec2/instance:Instance edge-0",
            "aws:ec2/instance:Instance edge-1",
            "aws:iam/instanceProfile:InstanceProfile edge-profile",
            "aws:iam/role:Role edge-role",
            "aws:iam/rolePolicy:RolePolicy edge-session-manager",
            "aws:iam/rolePolicy:RolePolicy edge-tls",
            "aws:kms/key:Key edge-tls-key",
            "aws:ssm/parameter:Parameter edge-config",
            "aws:ssm/parameter:Parameter edge-tls-www-cert",
            "aws:ssm/parameter:Parameter edge-tls-www-key",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule edge-in-http",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule edge-in-https",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule edge-in-route-pg",
        ]);
        assert.equal(resources.filter((r) => r.type === "keelson:edge:Edge").length, 1);
        assert.deepEqual(
            artifacts.map((a) => a.path),
            ["edge/nginx.conf", "user-data/edge-0.yaml", "user-data/edge-1.yaml"],
        );
        assert.equal(outputs.url, "https://www.example.com");
        // The mock engine gives each EIP a distinct documentation-range address.
        assert.match(String(outputs.ip0), /^203\.0\.113\.\d+$/);
        assert.match(String(outputs.ip1), /^203\.0\.113\.\d+$/);
        assert.notEqual(outputs.ip0, outputs.ip1);
        assert.equal(outputs.nlb, undefined);
    });

    it("puts each host in its own public subnet with IMDSv2, encrypted gp3 and its own Elastic IP", async () => {
        const { resources } = await run();
        const sg = resources.find((r) => r.name === "edge-sg")!;
        const profile = byName(resources, "edge-profile");
        const hosts = ["edge-0", "edge-1"].map((n) => byName(resources, n));
        assert.deepEqual(
            hosts.map((h) => h.inputs.subnetId),
            ["subnet-a", "subnet-b"],
        );
        for (const host of hosts) {
            assert.deepEqual(host.inputs.metadataOptions, {
                httpEndpoint: "enabled",
                httpPutResponseHopLimit: 1,
                httpTokens: "required",
            });
            assert.deepEqual(host.inputs.rootBlockDevice, {
                deleteOnTermination: true,
                encrypted: true,
                volumeSize: 10,
                volumeType: "gp3",
            });
            assert.equal(host.inputs.ami, "ami-0d1e2b3c4f5a6b7c8");
            assert.equal(host.inputs.instanceType, "t3.small");
            // The provider autonames the profile: `edge-profile-` plus 7 characters (mocked from the URN).
            assert.match(String(host.inputs.iamInstanceProfile), /^edge-profile-[0-9a-f]{7}$/);
            assert.equal(host.inputs.userDataReplaceOnChange, true);
            assert.ok(host.dependencies.includes(profile.urn));
            assert.ok(host.dependencies.includes(byName(resources, "edge-tls-www-key").urn));
            assert.ok(host.dependencies.includes(byName(resources, "edge-config").urn));
            assert.deepEqual(host.inputs.vpcSecurityGroupIds, [`sg-${stableHex("edge-sg")}`]);
            assert.ok(host.dependencies.includes(sg.urn));
        }
        for (const [i, host] of hosts.entries()) {
            const eip = byName(resources, `edge-${i}-eip`);
            assert.deepEqual(eip.inputs, {
                domain: "vpc",
                instance: `i-${stableHex(`edge-${i}`)}`,
                tags: { Name: `prod-edge-${i}` },
            });
            assert.ok(eip.dependencies.includes(host.urn));
        }
    });

    it("keeps the private key in a SecureString only: never in user-data, artifacts or other inputs", async () => {
        const { resources, artifacts } = await run();
        const key = byName(resources, "edge-tls-www-key");
        assert.deepEqual(key.inputs, {
            description: "Keelson edge private key www",
            keyId: `arn:aws:kms:eu-west-1:123456789012:key/${stableHex("edge-tls-key", 32)}`,
            name: "/keelson/prod/edge/tls/www/key",
            type: "SecureString",
            value: "[secret]",
        });
        assert.equal(key.rawInputs.value, KEY_PEM);
        const cert = byName(resources, "edge-tls-www-cert");
        assert.deepEqual(cert.inputs, {
            description: "Keelson edge certificate chain www (www.example.com, example.com)",
            name: "/keelson/prod/edge/tls/www/cert",
            tier: "Intelligent-Tiering",
            type: "String",
            value: "[secret]",
        });
        for (const r of resources) {
            if (r === key) continue;
            assert.ok(
                !JSON.stringify(r.rawInputs).includes("S3CR3T-EDGE-KEY-MATERIAL"),
                `${r.name} holds the key`,
            );
            assert.ok(!JSON.stringify(r.inputs).includes("PRIVATE KEY"), `${r.name} holds a private key`);
        }
        for (const a of artifacts) {
            assert.notEqual(a.content, "[secret]", `${a.path} became a secret`);
            assert.ok(
                !a.content.includes("PRIVATE KEY") && !a.content.includes("S3CR3T"),
                `${a.path} holds the key`,
            );
        }
        const userData = userDataOf(byName(resources, "edge-0"));
        assert.match(userData, /^#cloud-config\n/);
        assert.match(userData, /^\s+SSM_PREFIX='\/keelson\/prod\/edge\/tls'$/m);
        assert.match(userData, /^\s+CONFIG_PARAMETER='\/keelson\/prod\/edge\/config'$/m);
        assert.equal(userData, artifacts.find((a) => a.path === "user-data/edge-0.yaml")?.content);
        // Worker addresses live in the config parameter, so new workers never replace an edge host.
        assert.doesNotMatch(userData, /10\.0\.64\.10/);
        const stored = byName(resources, "edge-config");
        assert.deepEqual(
            [stored.inputs.name, stored.inputs.type, stored.inputs.tier],
            ["/keelson/prod/edge/config", "String", "Intelligent-Tiering"],
        );
        const config = configOf(stored);
        assert.equal(config, artifacts.find((a) => a.path === "edge/nginx.conf")?.content);
        assert.match(
            config,
            /^        server 10\.0\.64\.10:30080 max_fails=1 fail_timeout=5s; # health http:\/\/10\.0\.64\.10:30080\//m,
        );
        assert.match(
            config,
            /^        server 10\.0\.96\.11:30080 max_fails=1 fail_timeout=5s; # health http:\/\/10\.0\.96\.11:30080\//m,
        );
    });

    it("scopes the instance role to the edge's SSM prefix, its own TLS key and Session Manager", async () => {
        const { resources } = await run();
        const policy = JSON.parse(String(byName(resources, "edge-tls").inputs.policy));
        const [key] = resources.filter((r) => r.type === "aws:kms/key:Key");
        assert.equal(key.name, "edge-tls-key");
        const keyArn = `arn:aws:kms:eu-west-1:123456789012:key/${stableHex("edge-tls-key", 32)}`;
        const prefix = "arn:aws:ssm:eu-west-1:123456789012:parameter/keelson/prod/edge";
        assert.deepEqual(policy, {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ReadEdgeConfigAndTls",
                    Effect: "Allow",
                    Action: ["ssm:GetParameter", "ssm:GetParameters"],
                    Resource: `${prefix}/*`,
                },
                {
                    Sid: "DecryptEdgeTls",
                    Effect: "Allow",
                    Action: "kms:Decrypt",
                    Resource: keyArn,
                    Condition: {
                        StringEquals: { "kms:ViaService": "ssm.eu-west-1.amazonaws.com" },
                        StringLike: { "kms:EncryptionContext:PARAMETER_ARN": `${prefix}/tls/*` },
                    },
                },
                {
                    Sid: "NoOtherParameters",
                    Effect: "Deny",
                    Action: ["ssm:GetParameter*"],
                    NotResource: [`${prefix}/*`],
                },
                { Sid: "NoOtherKeys", Effect: "Deny", Action: ["kms:Decrypt"], NotResource: [keyArn] },
            ],
        });
        for (const p of resources.filter(
            (r) => r.type === "aws:ssm/parameter:Parameter" && r.inputs.type === "SecureString",
        ))
            assert.equal(p.inputs.keyId, keyArn, p.name);
        const sm = JSON.parse(String(byName(resources, "edge-session-manager").inputs.policy));
        assert.deepEqual(sm.Statement[0].Action, [...SESSION_MANAGER_ACTIONS]);
        assert.equal(
            resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length,
            0,
        );
    });

    it("opens exactly 80, 443 and each stream route's port, each rule described", async () => {
        const routes: EdgeRoute[] = [
            ...ROUTES,
            { kind: "udp", name: "dns", listenPort: 53, nodePort: 30053 },
        ];
        const { resources } = await run({ routes });
        const sg = resources.find((r) => r.name === "edge-sg")!;
        const rules = resources.filter(
            (r) => r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        );
        assert.deepEqual(
            rules.map((r) => ({ name: r.name, ...r.inputs })),
            [
                [
                    "edge-in-http",
                    "tcp",
                    80,
                    "Keelson edge: HTTP (redirect to HTTPS, ACME HTTP-01) from anywhere",
                ],
                ["edge-in-https", "tcp", 443, "Keelson edge: HTTPS from anywhere"],
                ["edge-in-route-pg", "tcp", 5432, "Keelson edge: TCP route pg from anywhere"],
                ["edge-in-route-dns", "udp", 53, "Keelson edge: UDP route dns from anywhere"],
            ].map(([name, ipProtocol, port, description]) => ({
                name,
                cidrIpv4: "0.0.0.0/0",
                description,
                fromPort: port,
                ipProtocol,
                securityGroupId: `sg-${stableHex("edge-sg")}`,
                toPort: port,
            })),
        );
        for (const rule of rules) assert.ok(rule.dependencies.includes(sg.urn));
    });

    it("creates an ECDSA P-256 self-signed certificate for every route host in self-signed mode", async () => {
        const cfg = { count: 1, tlsMode: "self-signed" as const, certificates: [] };
        const { resources } = await run({ certificates: undefined }, cfg, "dev");
        const key = resources.find((r) => r.type === "tls:index/privateKey:PrivateKey")!;
        assert.deepEqual(
            [key.name, key.inputs],
            ["edge-default-key", { algorithm: "ECDSA", ecdsaCurve: "P256" }],
        );
        const cert = resources.find((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert")!;
        assert.equal(cert.name, "edge-default-cert");
        assert.deepEqual(cert.inputs.dnsNames, ["www.example.com", "example.com"]);
        assert.deepEqual(cert.inputs.subject, {
            commonName: "www.example.com",
            organization: "Keelson self-signed",
        });
        assert.equal(cert.inputs.privateKeyPem, "[secret]");
        const param = resources.find((r) => r.name === "edge-tls-default-key")!;
        assert.deepEqual([param.inputs.type, param.inputs.value], ["SecureString", "[secret]"]);
        assert.match(String(param.rawInputs.value), /^-----BEGIN EC PRIVATE KEY-----/);
        const config = configOf(byName(resources, "edge-config"));
        // Self-signed certificates name no OCSP responder, so stapling stays off.
        assert.doesNotMatch(config, /ssl_stapling/);
        assert.match(config, /^        ssl_certificate \/etc\/keelson\/tls\/default\.crt;$/m);
    });

    it("falls back to RSA-2048 for self-signed certificates when configured", async () => {
        const cfg = { count: 1, tlsMode: "self-signed" as const, keyAlgorithm: "rsa-2048" as const };
        const { resources } = await run({ certificates: undefined }, cfg, "dev");
        const key = resources.find((r) => r.type === "tls:index/privateKey:PrivateKey")!;
        assert.deepEqual([key.name, key.inputs], ["edge-www-key", { algorithm: "RSA", rsaBits: 2048 }]);
    });

    it("puts an NLB in front with a listener, target group and attachment per port and host", async () => {
        const { resources, outputs } = await run({}, { nlb: true });
        const nlb = byName(resources, "edge-nlb");
        assert.deepEqual(nlb.inputs, {
            enableCrossZoneLoadBalancing: true,
            internal: false,
            loadBalancerType: "network",
            subnets: ["subnet-a", "subnet-b", "subnet-c"],
        });
        const groups = resources.filter((r) => r.type === "aws:lb/targetGroup:TargetGroup");
        assert.deepEqual(
            groups.map((g) => [
                g.name,
                g.inputs.port,
                g.inputs.protocol,
                g.inputs.preserveClientIp,
                g.inputs.targetType,
            ]),
            [
                ["edge-http", 80, "TCP", "true", "instance"],
                ["edge-https", 443, "TCP", "true", "instance"],
                ["edge-route-pg", 5432, "TCP", "true", "instance"],
            ],
        );
        const listeners = resources.filter((r) => r.type === "aws:lb/listener:Listener");
        assert.deepEqual(
            listeners.map((l) => [l.name, l.inputs.port, l.inputs.protocol]),
            [
                ["edge-http", 80, "TCP"],
                ["edge-https", 443, "TCP"],
                ["edge-route-pg", 5432, "TCP"],
            ],
        );
        const attachments = resources.filter(
            (r) => r.type === "aws:lb/targetGroupAttachment:TargetGroupAttachment",
        );
        assert.deepEqual(attachments.map((a) => [a.name, a.inputs.targetId, a.inputs.port]).sort(), [
            ["edge-http-0", `i-${stableHex("edge-0")}`, 80],
            ["edge-http-1", `i-${stableHex("edge-1")}`, 80],
            ["edge-https-0", `i-${stableHex("edge-0")}`, 443],
            ["edge-https-1", `i-${stableHex("edge-1")}`, 443],
            ["edge-route-pg-0", `i-${stableHex("edge-0")}`, 5432],
            ["edge-route-pg-1", `i-${stableHex("edge-1")}`, 5432],
        ]);
        assert.match(String(outputs.nlb), /^edge-nlb-[0-9a-f]{16}\.elb\.eu-west-1\.amazonaws\.com$/);
    });

    it("renders haproxy.cfg for the haproxy engine", async () => {
        const { artifacts } = await run({}, { engine: "haproxy" });
        assert.deepEqual(
            artifacts.map((a) => a.path),
            ["edge/haproxy.cfg", "user-data/edge-0.yaml", "user-data/edge-1.yaml"],
        );
        const cfg = artifacts[0].content;
        assert.match(cfg, /^    bind :443 ssl crt \/etc\/keelson\/tls\/www\.pem alpn h2,http\/1\.1/m);
        assert.match(cfg, /^    server general-1 10\.0\.96\.11:30080 check$/m);
    });

    it("issues ACME certificates on the hosts with DNS-01 when several hosts share the names", async () => {
        const cfg = { tlsMode: "acme" as const, acmeEmail: "ops@example.com" };
        const { resources, artifacts } = await run({ certificates: undefined }, cfg);
        // No key material anywhere in Pulumi: only the config parameter, no edge key, no kms:Decrypt at all.
        assert.equal(resources.filter((r) => r.type === "aws:kms/key:Key").length, 0);
        assert.deepEqual(
            resources.filter((r) => r.type === "aws:ssm/parameter:Parameter").map((r) => r.name),
            ["edge-config"],
        );
        const policy = JSON.parse(String(byName(resources, "edge-tls").inputs.policy));
        assert.deepEqual(
            policy.Statement.map((s: { Sid: string }) => s.Sid),
            [
                "ReadEdgeConfigAndTls",
                "NoOtherParameters",
                "NoOtherKeys",
                "AcmeDns01Lookup",
                "AcmeDns01Records",
            ],
        );
        const userData = artifacts.find((a) => a.path === "user-data/edge-0.yaml")!.content;
        assert.match(userData, /- python3-certbot-dns-route53/);
        assert.match(userData, /--dns-route53 --cert-name 'www' -d 'www.example.com' -d 'example.com'/);
        assert.match(artifacts[0].content, /location \/\.well-known\/acme-challenge\/ \{/);
    });

    it("refuses bad routes before registering anything, naming every problem", async () => {
        const routes: EdgeRoute[] = [
            ...ROUTES,
            {
                kind: "http",
                name: "web",
                hosts: ["api.example.com"],
                path: "/",
                nodePort: 30081,
                healthPath: "/healthz",
            },
            { kind: "tcp", name: "web-tls", listenPort: 443, nodePort: 30443 },
        ];
        let caught: Error | undefined;
        const result = await runUnderMocks({ stack: "prod", config: { "aws:region": "eu-west-1" } }, () => {
            try {
                program({ routes })();
            } catch (e) {
                caught = e as Error;
            }
            return {};
        });
        // Only the test's own security group exists: the Edge registered nothing, not even itself.
        assert.deepEqual(
            result.resources.map((r) => r.name),
            ["edge-sg"],
        );
        assert.equal(caught?.name, "ConfigError");
        assert.equal(
            caught?.message,
            [
                "stage prod: 3 config problems; nothing was created:",
                '  - routes.web.name: "web" is used by routes[0] too; give each route a unique name',
                "  - routes.web-tls.listenPort: 443 is reserved for HTTP(S); use another port or an http route",
                '  - routes.web.hosts: no certificate serves "api.example.com"; add it to the hosts of a certificate in edge.certificates',
            ].join("\n"),
        );
    });
});
