// AWS rules after Checkov/tfsec: IMDSv2, encryption, open ingress, secrets in user-data, TLS 1.2+.
import { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    declaredByEdge,
    ingressRulesOf,
    openToWorld,
    portsText,
    userDataSecrets,
} from "../../components/score/aws-rules";
import { weakTls } from "../../components/score/rules/artifacts";
import { arr, obj } from "../../components/score/workloads";
import { configWithDefaults, forTypes } from "./util";

const INSTANCE = "aws:ec2/instance:Instance";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const SG_TYPES = [
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:ec2/securityGroup:SecurityGroup",
];

/** IMDSv2 only (CKV_AWS_79). Mandatory. */
export const imdsv2: ResourceValidationPolicy = {
    name: "aws-ec2-imdsv2",
    description: "EC2 instances and launch templates require IMDSv2 (metadataOptions.httpTokens: required).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes([INSTANCE, LAUNCH_TEMPLATE], (args, report) => {
        if (obj(args.props.metadataOptions).httpTokens !== "required")
            report(`${args.name} allows IMDSv1: set metadataOptions.httpTokens to required.`);
    }),
};

/** Encrypted root and data volumes (CKV_AWS_8, CKV_AWS_3). Mandatory. */
export const ebsEncrypted: ResourceValidationPolicy = {
    name: "aws-ebs-encrypted",
    description: "EBS volumes, instance root volumes and block devices are encrypted.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes([INSTANCE, "aws:ebs/volume:Volume"], (args, report) => {
        if (args.type === "aws:ebs/volume:Volume") {
            if (args.props.encrypted !== true) report(`EBS volume ${args.name} is not encrypted.`);
            return;
        }
        if (obj(args.props.rootBlockDevice).encrypted !== true)
            report(`${args.name}'s root volume is not encrypted.`);
        arr(args.props.ebsBlockDevices).forEach((d, i) => {
            if (obj(d).encrypted !== true) report(`${args.name}'s ebsBlockDevices[${i}] is not encrypted.`);
        });
    }),
};

/** No SSH, RDP or all-ports ingress from the internet (CKV_AWS_24, CKV_AWS_25, CKV_AWS_277). Mandatory. */
export const noAdminIngress: ResourceValidationPolicy = {
    name: "aws-no-open-admin-ingress",
    description: "No security group admits 0.0.0.0/0 or ::/0 to every port, SSH (22) or RDP (3389).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: forTypes(SG_TYPES, (args, report) => {
        for (const r of ingressRulesOf(args.type, args.props, args.urn, args.name)) {
            if (!openToWorld(r)) continue;
            if (r.protocol === "-1" || [22, 3389].some((p) => r.fromPort <= p && p <= r.toPort))
                report(`${args.name} opens ${portsText(r)} to the internet.`);
        }
    }),
};

/** Config of {@link publicPorts}. */
export interface PublicPortsConfig {
    allowedPorts: number[];
}

const publicPortsSchema: PolicyConfigSchema = {
    properties: {
        allowedPorts: {
            type: "array",
            items: { type: "number" },
            default: [80, 443],
            description:
                "Ports that may be open to the internet: 80, 443 and the edge's declared stream ports.",
        },
    },
};

/** Only the edge's public ports are open to the internet. */
export const publicPorts: ResourceValidationPolicy = {
    name: "aws-public-ingress-ports",
    description:
        "Only 80, 443, the Edge's declared stream-route ports and the configured allowedPorts are open to 0.0.0.0/0 or ::/0.",
    enforcementLevel: "advisory",
    severity: "high",
    configSchema: publicPortsSchema,
    validateResource: forTypes(SG_TYPES, (args, report) => {
        const allowed = configWithDefaults<PublicPortsConfig>(args, { allowedPorts: [80, 443] }).allowedPorts;
        for (const r of ingressRulesOf(args.type, args.props, args.urn, args.name)) {
            if (!openToWorld(r) || r.protocol === "-1") continue;
            if (!(r.fromPort === r.toPort && allowed.includes(r.fromPort)) && !declaredByEdge(r))
                report(`${args.name} opens ${portsText(r)} to the internet.`);
        }
    }),
};

/** Every security group rule says why it exists (CKV_AWS_23). */
export const ruleDescription: ResourceValidationPolicy = {
    name: "aws-security-group-rule-description",
    description: "Every ingress rule has a description.",
    enforcementLevel: "advisory",
    severity: "low",
    validateResource: forTypes(SG_TYPES, (args, report) => {
        if (
            ingressRulesOf(args.type, args.props, args.urn, args.name).some(
                (r) => r.description === undefined,
            )
        )
            report(`${args.name} has an ingress rule without a description.`);
    }),
};

/** No secrets in user-data (CKV_AWS_46). Mandatory. */
export const userDataSecretsPolicy: ResourceValidationPolicy = {
    name: "aws-ec2-user-data-secrets",
    description: "EC2 user-data carries no secrets (private keys, access keys, join tokens, Pulumi secrets).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: forTypes([INSTANCE, LAUNCH_TEMPLATE], (args, report) => {
        const leaks = userDataSecrets(args.props.userData);
        if (leaks.length > 0)
            report(`${args.name}'s user-data carries ${leaks.join(", ")}: read secrets from SSM at boot.`);
    }),
};

/** AWS TLS negotiation policies that allow only TLS 1.2 and 1.3. */
export const TLS12_POLICY = /TLS13|TLS-1-2|FS-1-2/;

/** HTTPS/TLS listeners use a TLS 1.2+ policy; HTTP listeners only redirect to HTTPS (CKV_AWS_103, CKV_AWS_2). Mandatory. */
export const listenerTls: ResourceValidationPolicy = {
    name: "aws-lb-listener-tls",
    description:
        "Load balancer HTTPS/TLS listeners use a TLS 1.2+ security policy; HTTP listeners redirect to HTTPS.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes(["aws:lb/listener:Listener", "aws:alb/listener:Listener"], (args, report) => {
        const protocol = String(args.props.protocol ?? "");
        if (protocol === "HTTPS" || protocol === "TLS") {
            const policy = args.props.sslPolicy;
            if (typeof policy !== "string" || !TLS12_POLICY.test(policy))
                report(
                    `${args.name} (${protocol}) uses ssl policy ${String(policy ?? "default")}; use ELBSecurityPolicy-TLS13-1-2-2021-06.`,
                );
        } else if (protocol === "HTTP") {
            const redirects = arr(args.props.defaultActions).every(
                (a) => obj(a).type === "redirect" && obj(obj(a).redirect).protocol === "HTTPS",
            );
            if (!redirects || arr(args.props.defaultActions).length === 0)
                report(`${args.name} serves plain HTTP; redirect it to HTTPS.`);
        }
    }),
};

/** Edge hosts' nginx/haproxy configuration in user-data allows TLS 1.2+ only. Mandatory. */
export const edgeTls: ResourceValidationPolicy = {
    name: "edge-tls-1-2",
    description:
        "nginx ssl_protocols / haproxy ssl-min-ver rendered into user-data allow only TLS 1.2 and 1.3.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes([INSTANCE, LAUNCH_TEMPLATE], (args, report) => {
        const ud = args.props.userData;
        const weak = typeof ud === "string" ? weakTls(ud) : undefined;
        if (weak) report(`${args.name}'s edge configuration allows ${weak}: use TLSv1.2 TLSv1.3 only.`);
    }),
};

/** Buckets block public access (CKV_AWS_53..56). */
export const s3PublicAccessBlock: StackValidationPolicy = {
    name: "aws-s3-public-access-block",
    description: "Every S3 bucket has a public access block with all four settings true.",
    enforcementLevel: "advisory",
    severity: "high",
    validateStack: (args, report) => {
        const blocks = args.resources.filter(
            (r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        );
        for (const b of args.resources.filter(
            (r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2",
        )) {
            const ok = blocks.some(
                (p) =>
                    p.dependencies.some((d) => d.urn === b.urn) &&
                    [
                        "blockPublicAcls",
                        "blockPublicPolicy",
                        "ignorePublicAcls",
                        "restrictPublicBuckets",
                    ].every((k) => p.props[k] === true),
            );
            if (!ok) report(`Bucket ${b.name} has no complete public access block.`, b.urn);
        }
    },
};

/** The AWS policies. */
export const awsPolicies = [
    imdsv2,
    ebsEncrypted,
    noAdminIngress,
    publicPorts,
    ruleDescription,
    userDataSecretsPolicy,
    listenerTls,
    edgeTls,
    s3PublicAccessBlock,
];
