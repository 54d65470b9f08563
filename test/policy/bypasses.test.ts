// The review's bypass classes against the AWS rules, each with its control: encodings of user-data, other
// launch paths, the SSM-stored edge config, split CIDRs, prefix lists, the default group, ELB policy names.
import { strict as assert } from "node:assert";
import { Policies } from "@pulumi/policy";
import * as zlib from "zlib";
import * as aws from "../../policy/rules/aws";
import { edgeTlsWeakness, publicReach, tooBroad } from "../../policy/rules/aws-inputs";
import { runPolicies } from "../../policy/run";
import { PlanResource } from "../../tools/plan/types";
import { res } from "../score/fixtures";

const gz64 = (text: string) => zlib.gzipSync(Buffer.from(text)).toString("base64");
const b64 = (text: string) => Buffer.from(text).toString("base64");
const KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----";
const TOKEN = "abcdef.0123456789abcdef";

async function messages(policy: Policies[number], graph: PlanResource[]) {
    return (await runPolicies(graph, [policy])).map((v) => v.message);
}

describe("policy bypasses: user-data in every encoding and launch path", () => {
    const launch = (type: string, name: string, inputs: Record<string, unknown>) =>
        res(type, name, { metadataOptions: { httpTokens: "required" }, ...inputs });

    it("finds secrets in gzipped userDataBase64, base64 launch-template user-data and launch configurations", async () => {
        const graph = [
            launch("aws:ec2/instance:Instance", "gz", {
                userDataBase64: gz64(`#cloud-config\n${KEY}\n${TOKEN}`),
            }),
            launch("aws:ec2/instance:Instance", "plain", { userData: KEY }),
            launch("aws:ec2/launchTemplate:LaunchTemplate", "lt", { userData: b64(`#!/bin/sh\n${KEY}`) }),
            launch("aws:ec2/launchTemplate:LaunchTemplate", "lt-gz", {
                userData: gz64(`kubeadm join --token ${TOKEN}`),
            }),
            launch("aws:ec2/launchConfiguration:LaunchConfiguration", "lc", { userDataBase64: b64(KEY) }),
            launch("aws:ec2/spotInstanceRequest:SpotInstanceRequest", "spot", { userData: `echo ${TOKEN}` }),
            launch("aws:ec2/instance:Instance", "clean", {
                userDataBase64: gz64("#cloud-config\nruncmd: [true]\n"),
            }),
        ];
        assert.deepEqual(await messages(aws.userDataSecretsPolicy, graph), [
            "gz's user-data carries a private key, a kubeadm bootstrap token: read secrets from SSM at boot.",
            "plain's user-data carries a private key: read secrets from SSM at boot.",
            "lt's user-data carries a private key: read secrets from SSM at boot.",
            "lt-gz's user-data carries a kubeadm bootstrap token: read secrets from SSM at boot.",
            "lc's user-data carries a private key: read secrets from SSM at boot.",
            "spot's user-data carries a kubeadm bootstrap token: read secrets from SSM at boot.",
        ]);
    });

    it("requires IMDSv2 and encrypted volumes on launch configurations, templates and spot requests", async () => {
        const graph = [
            res("aws:ec2/launchConfiguration:LaunchConfiguration", "lc", {
                rootBlockDevice: { encrypted: false },
            }),
            res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {
                metadataOptions: { httpTokens: "required" },
                blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }],
            }),
            res("aws:ec2/launchTemplate:LaunchTemplate", "lt-none", {
                metadataOptions: { httpTokens: "required" },
            }),
            res("aws:ec2/launchTemplate:LaunchTemplate", "lt-ok", {
                metadataOptions: { httpTokens: "required" },
                blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true" } }],
            }),
            res("aws:ec2/spotInstanceRequest:SpotInstanceRequest", "spot", {
                rootBlockDevice: { encrypted: true },
            }),
        ];
        assert.deepEqual(await messages(aws.imdsv2, graph), [
            "lc allows IMDSv1: set metadataOptions.httpTokens to required.",
            "spot allows IMDSv1: set metadataOptions.httpTokens to required.",
        ]);
        assert.deepEqual(await messages(aws.ebsEncrypted, graph), [
            "lc's root volume is not encrypted.",
            "lt's blockDeviceMappings[0] is not encrypted.",
            "lt-none maps no block device: add blockDeviceMappings with ebs.encrypted true for the root volume.",
        ]);
    });
});

describe("policy bypasses: the edge config where Keelson keeps it", () => {
    const nginx = (protocols: string | undefined) =>
        `http {\n  server {\n    listen 443 ssl;\n    ssl_certificate /etc/x.pem;\n${protocols ? `    ssl_protocols ${protocols};\n` : ""}  }\n}\n`;

    it("reads the gzip + base64 SSM config parameter: old protocols, nginx defaults and haproxy spellings", async () => {
        const param = (name: string, text: string) =>
            res("aws:ssm/parameter:Parameter", name, {
                type: "String",
                value: gz64(text),
                name: `/keelson/prod/${name}/config`,
            });
        const graph = [
            param("ok", nginx("TLSv1.2 TLSv1.3")),
            param("tls10", nginx("TLSv1 TLSv1.2")),
            param("default", nginx(undefined)),
            param("hap", "frontend f\n  bind :443 ssl crt /etc/x.pem ssl-min-ver TLSv1.0\n"),
            param(
                "hap-ok",
                "global\n  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\nfrontend f\n  bind :443 ssl crt /x\n",
            ),
        ];
        assert.deepEqual(await messages(aws.edgeTls, graph), [
            "tls10's edge configuration allows TLSv1: use TLSv1.2 TLSv1.3 only.",
            "default's edge configuration allows nginx's default protocols (TLSv1, TLSv1.1): use TLSv1.2 TLSv1.3 only.",
            "hap's edge configuration allows TLSv1.0: use TLSv1.2 TLSv1.3 only.",
        ]);
        assert.equal(edgeTlsWeakness("bind :443 ssl crt /x force-tlsv10"), "force-tlsv10");
    });

    it("finds key material in plain-text SSM parameters, not in SecureStrings", async () => {
        const graph = [
            res("aws:ssm/parameter:Parameter", "leak", { type: "String", value: gz64(KEY) }),
            res("aws:ssm/parameter:Parameter", "secure", { type: "SecureString", value: KEY }),
            res("aws:ssm/parameter:Parameter", "cert", { type: "String", value: "[secret]" }),
        ];
        assert.deepEqual(await messages(aws.ssmPlaintextSecrets, graph), [
            "leak (String) carries a private key: store it as a SecureString under a customer-managed key.",
        ]);
    });
});

describe("policy bypasses: every security-group rule shape", () => {
    const open = "to the internet: admit only the operators' /32s (or use Session Manager).";
    const rule = (name: string, inputs: Record<string, unknown>, dependencies: string[] = []) =>
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            name,
            {
                securityGroupId: "sg-1",
                ipProtocol: "tcp",
                fromPort: 22,
                toPort: 22,
                description: "x",
                ...inputs,
            },
            { dependencies },
        );

    it("measures split CIDRs together per group, and ignores private and small ranges", async () => {
        assert.deepEqual(
            await messages(aws.noAdminIngress, [
                rule("a", { cidrIpv4: "0.0.0.0/1" }),
                rule("b", { cidrIpv4: "128.0.0.0/1" }),
            ]),
            [`a, b open together SSH (22) ${open}`],
        );
        const sixteenths = Array.from({ length: 16 }, (_, i) =>
            rule(`r${i}`, { cidrIpv4: `${i * 16}.0.0.0/4` }),
        );
        assert.equal((await messages(aws.noAdminIngress, sixteenths)).length, 1);
        assert.deepEqual(
            await messages(aws.noAdminIngress, [
                rule("office", { cidrIpv4: "203.0.113.0/24" }),
                rule("vpc", { cidrIpv4: "10.0.0.0/8" }),
                rule("other-group", {
                    cidrIpv4: "0.0.0.0/1",
                    securityGroupId: "sg-2",
                    fromPort: 443,
                    toPort: 443,
                }),
            ]),
            [],
        );
        assert.ok(tooBroad(publicReach(["::/0"])) && !tooBroad(publicReach(["2001:db8::/56"])));
        assert.ok(tooBroad(publicReach(["not-a-cidr"])), "an unparseable source counts as the internet");
    });

    it("resolves managed prefix lists (inline entries and entry resources) and reports undefined ones", async () => {
        const list = res("aws:ec2/managedPrefixList:ManagedPrefixList", "pl", {
            name: "pl",
            addressFamily: "IPv4",
            entries: [{ cidr: "0.0.0.0/0" }],
        });
        const small = res("aws:ec2/managedPrefixList:ManagedPrefixList", "ops", { name: "ops", entries: [] });
        const entry = res(
            "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
            "ops-all",
            { cidr: "0.0.0.0/0" },
            {
                dependencies: [small.urn],
            },
        );
        assert.deepEqual(
            await messages(aws.noAdminIngress, [
                list,
                rule("via-list", { prefixListId: "pl-id" }, [list.urn]),
            ]),
            [`via-list opens SSH (22) ${open}`],
        );
        assert.deepEqual(
            await messages(aws.noAdminIngress, [
                small,
                entry,
                rule("via-entry", { prefixListId: "ops-id" }, [small.urn]),
            ]),
            [`via-entry opens SSH (22) ${open}`],
        );
        assert.deepEqual(
            await messages(aws.noAdminIngress, [rule("foreign", { prefixListId: "pl-0123456789abcdef0" })]),
            [
                "foreign admits SSH (22) from prefix list pl-0123456789abcdef0, which this stack does not define: use CIDRs or a list in the stack.",
            ],
        );
    });

    it("reads ec2.SecurityGroupRule, inline rules and the default security group", async () => {
        const graph = [
            res("aws:ec2/securityGroupRule:SecurityGroupRule", "sgr", {
                type: "ingress",
                securityGroupId: "sg-3",
                protocol: "tcp",
                fromPort: 0,
                toPort: 65535,
                cidrBlocks: ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"],
            }),
            res("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {
                ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }],
            }),
        ];
        assert.deepEqual(await messages(aws.noAdminIngress, graph), [
            `sgr opens SSH (22) ${open}`,
            `default opens all ports ${open}`,
        ]);
    });

    it("reports all-protocol egress to the internet outside the exempt Keelson network (CKV_AWS_382)", async () => {
        const egress = (chain: string[]) =>
            res(
                "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
                "out",
                { securityGroupId: "sg", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" },
                { chain },
            );
        assert.deepEqual(await messages(aws.unrestrictedEgress, [egress([])]), [
            "out allows all outbound traffic to the internet: allow only the ports and destinations it needs.",
        ]);
        assert.deepEqual(await messages(aws.unrestrictedEgress, [egress(["keelson:network:Network"])]), []);
    });

    it("accepts only ELB policies that exclude TLS 1.0 and 1.1", () => {
        const ok = [
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "ELBSecurityPolicy-TLS13-1-3-2021-06",
            "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
            "ELBSecurityPolicy-FS-1-2-Res-2020-10",
        ];
        const weak = [
            "ELBSecurityPolicy-TLS13-1-0-2021-06",
            "ELBSecurityPolicy-TLS13-1-1-2021-06",
            "ELBSecurityPolicy-2016-08",
            "ELBSecurityPolicy-FS-2018-06",
            "x-TLS13",
        ];
        assert.deepEqual(
            ok.map((p) => aws.TLS12_POLICY.test(p)),
            ok.map(() => true),
        );
        assert.deepEqual(
            weak.map((p) => aws.TLS12_POLICY.test(p)),
            weak.map(() => false),
        );
    });
});
