// AWS rules after Checkov/tfsec: IMDSv2, encryption, open ingress, secrets in user-data, TLS 1.2+, egress.
// They read every launch path (instances, spot requests, launch configurations and templates), user-data in
// every encoding, the edge config in SSM and every security-group rule shape (see ./aws-inputs.ts).
import { PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    declaredByEdge,
    ingressRulesOf,
    openToWorld,
    portsText,
    userDataSecrets,
} from "../../components/score/aws-rules";
import { arr, obj } from "../../components/score/workloads";
import {
    adminPorts,
    edgeTlsWeakness,
    grantsOf,
    LAUNCH_TYPE_LIST,
    LAUNCH_TYPES,
    parameterTexts,
    publicReach,
    SG_TYPES,
    terminatesTls,
    tooBroad,
    userDataTexts,
} from "./aws-inputs";
import { spotDrained } from "./aws-spot";
import { configWithDefaults, forTypes } from "./util";

const SSM_PARAMETER = "aws:ssm/parameter:Parameter";

/** IMDSv2 only (CKV_AWS_79). Mandatory. */
export const imdsv2: ResourceValidationPolicy = {
    name: "aws-ec2-imdsv2",
    description:
        "EC2 instances, spot requests, launch configurations and launch templates require IMDSv2 (metadataOptions.httpTokens: required).",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes(LAUNCH_TYPE_LIST, (args, report) => {
        if (obj(args.props.metadataOptions).httpTokens !== "required")
            report(`${args.name} allows IMDSv1: set metadataOptions.httpTokens to required.`);
    }),
};

/** Encrypted root and data volumes (CKV_AWS_8, CKV_AWS_3, CKV_AWS_79's launch paths). Mandatory. */
export const ebsEncrypted: ResourceValidationPolicy = {
    name: "aws-ebs-encrypted",
    description:
        "EBS volumes and the root and data volumes of instances, spot requests, launch configurations and launch templates are encrypted.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes([...LAUNCH_TYPE_LIST, "aws:ebs/volume:Volume"], (args, report) => {
        if (args.type === "aws:ebs/volume:Volume") {
            if (args.props.encrypted !== true) report(`EBS volume ${args.name} is not encrypted.`);
            return;
        }
        if (args.type === LAUNCH_TYPES.launchTemplate) {
            const devices = arr(args.props.blockDeviceMappings).map(obj);
            if (devices.length === 0)
                report(
                    `${args.name} maps no block device: add blockDeviceMappings with ebs.encrypted true for the root volume.`,
                );
            devices.forEach((d, i) => {
                const e = obj(d.ebs).encrypted;
                if (e !== true && e !== "true")
                    report(`${args.name}'s blockDeviceMappings[${i}] is not encrypted.`);
            });
            return;
        }
        if (obj(args.props.rootBlockDevice).encrypted !== true)
            report(`${args.name}'s root volume is not encrypted.`);
        arr(args.props.ebsBlockDevices).forEach((d, i) => {
            if (obj(d).encrypted !== true) report(`${args.name}'s ebsBlockDevices[${i}] is not encrypted.`);
        });
    }),
};

/**
 * No SSH, RDP or all-ports ingress from the internet (CKV_AWS_24, CKV_AWS_25, CKV_AWS_277, CKV2_AWS_12 for
 * the default group). Mandatory. Per security group and port class, the union of every rule's sources is
 * measured (CIDRs, and the entries of the managed prefix lists the rules use), so 0.0.0.0/1 plus
 * 128.0.0.0/1, or a prefix list holding 0.0.0.0/0, is the internet; more than a /16 of public IPv4 or a
 * /48 of IPv6 counts as open. A prefix list the stack does not define cannot be verified and is reported.
 */
export const noAdminIngress: StackValidationPolicy = {
    name: "aws-no-open-admin-ingress",
    description:
        "No security group admits the internet (any split of it, directly or through prefix lists) to every port, SSH (22) or RDP (3389).",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateStack: (args, report) => {
        const lists = args.resources.filter((r) => r.type === "aws:ec2/managedPrefixList:ManagedPrefixList");
        const entries = args.resources.filter(
            (r) => r.type === "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
        );
        const cidrsOfList = (list: (typeof lists)[number]) => [
            ...arr(list.props.entries).map((e) => String(obj(e).cidr)),
            ...entries
                .filter((e) => e.dependencies.some((d) => d.urn === list.urn))
                .map((e) => String(e.props.cidr)),
        ];
        const groups = new Map<
            string,
            { cidrs: string[]; urns: Set<string>; names: Set<string>; ports: string }
        >();
        for (const r of args.resources.filter((x) => SG_TYPES.includes(x.type))) {
            for (const g of grantsOf("ingress", r)) {
                const ports = adminPorts(g);
                if (!ports) continue;
                const used = lists.filter((l) => r.dependencies.some((d) => d.urn === l.urn));
                const unresolved = g.prefixListIds.filter(
                    (id) =>
                        !used.some(
                            (l) =>
                                l.name === id || String(l.props.name) === id || id.startsWith(`${l.name}-`),
                        ),
                );
                const cidrs = [...g.cidrs, ...used.flatMap(cidrsOfList)];
                if (unresolved.length > 0 && used.length === 0)
                    report(
                        `${g.name} admits ${ports} from prefix list ${unresolved.join(", ")}, which this stack does not define: use CIDRs or a list in the stack.`,
                        r.urn,
                    );
                const key = `${g.group} ${ports}`;
                const acc = groups.get(key) ?? {
                    cidrs: [],
                    urns: new Set<string>(),
                    names: new Set<string>(),
                    ports,
                };
                acc.cidrs.push(...cidrs);
                acc.urns.add(r.urn);
                acc.names.add(g.name);
                groups.set(key, acc);
            }
        }
        for (const acc of groups.values()) {
            if (!tooBroad(publicReach(acc.cidrs))) continue;
            const names = [...acc.names].sort().join(", ");
            report(
                `${names} open${acc.names.size > 1 ? " together" : "s"} ${acc.ports} to the internet: admit only the operators' /32s (or use Session Manager).`,
                [...acc.urns][0],
            );
        }
    },
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
    validateResource: forTypes(LAUNCH_TYPE_LIST, (args, report) => {
        const leaks = [...new Set(userDataTexts(args.type, args.props).flatMap(userDataSecrets))];
        if (leaks.length > 0)
            report(`${args.name}'s user-data carries ${leaks.join(", ")}: read secrets from SSM at boot.`);
    }),
};

/** No key material in plain-text SSM parameters (String, StringList): that is what SecureString is for. Mandatory. */
export const ssmPlaintextSecrets: ResourceValidationPolicy = {
    name: "aws-ssm-plaintext-secrets",
    description:
        "String and StringList SSM parameters (decoded when gzip + base64) carry no private key, access key or join token.",
    enforcementLevel: "mandatory",
    severity: "critical",
    validateResource: forTypes([SSM_PARAMETER], (args, report) => {
        if (args.props.type === "SecureString") return;
        // A Pulumi secret stored as String is visible to whoever reads SSM, but certificates are often config
        // secrets and public: only real key material counts here.
        const leaks = [...new Set(parameterTexts(args.props).flatMap(userDataSecrets))].filter(
            (l) => l !== "a Pulumi secret",
        );
        if (leaks.length > 0)
            report(
                `${args.name} (${String(args.props.type)}) carries ${leaks.join(", ")}: store it as a SecureString under a customer-managed key.`,
            );
    }),
};

/**
 * ELB security policies that allow only TLS 1.2 and 1.3: `TLS13-1-2*` and `TLS13-1-3*` (not `TLS13-1-0`
 * or `TLS13-1-1`, which still allow TLS 1.0/1.1), `TLS-1-2*` and `FS-1-2*`.
 */
export const TLS12_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)(-|$)/;

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

/**
 * The nginx/haproxy configs that terminate TLS allow TLS 1.2+ only, wherever they are rendered: user-data
 * of any launch path, or an SSM parameter (Keelson's edge hosts read theirs from `<edge>/config`, gzip +
 * base64). Mandatory.
 */
export const edgeTls: ResourceValidationPolicy = {
    name: "edge-tls-1-2",
    description:
        "nginx ssl_protocols / haproxy ssl-min-ver in user-data or in an SSM-stored config allow only TLS 1.2 and 1.3.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateResource: forTypes([...LAUNCH_TYPE_LIST, SSM_PARAMETER], (args, report) => {
        const texts =
            args.type === SSM_PARAMETER ? parameterTexts(args.props) : userDataTexts(args.type, args.props);
        const weak = texts
            .filter(terminatesTls)
            .map(edgeTlsWeakness)
            .find((w) => w !== undefined);
        if (weak) report(`${args.name}'s edge configuration allows ${weak}: use TLSv1.2 TLSv1.3 only.`);
    }),
};

/** Config of {@link unrestrictedEgress}. */
export interface EgressConfig {
    exemptParents: string[];
}

/**
 * No all-protocol egress to the internet (Checkov CKV_AWS_382). Advisory. Keelson's own security groups
 * (`keelson:network:Network`) are exempt by default, for the reason in the README: no VPC endpoints or
 * egress proxy, so nodes reach the Debian mirror, image registries and AWS APIs (SSM, KMS, S3, ECR, EC2)
 * wherever they are. Set `exemptParents: []` to see them.
 */
export const unrestrictedEgress: ResourceValidationPolicy = {
    name: "aws-no-unrestricted-egress",
    description: "Security groups do not allow all protocols to 0.0.0.0/0 or ::/0 outbound (CKV_AWS_382).",
    enforcementLevel: "advisory",
    severity: "medium",
    configSchema: {
        properties: {
            exemptParents: {
                type: "array",
                items: { type: "string" },
                default: ["keelson:network:Network"],
                description: "Component types whose security groups may keep all-protocol egress.",
            },
        },
    },
    validateResource: forTypes(
        [...SG_TYPES, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"],
        (args, report) => {
            const exempt = configWithDefaults<EgressConfig>(args, {
                exemptParents: ["keelson:network:Network"],
            }).exemptParents;
            const parents = (args.urn.split("::")[2] ?? "").split("$").slice(0, -1);
            if (parents.some((t) => exempt.includes(t))) return;
            for (const g of grantsOf("egress", args))
                if (g.protocol === "-1" && tooBroad(publicReach(g.cidrs)))
                    report(
                        `${args.name} allows all outbound traffic to the internet: allow only the ports and destinations it needs.`,
                    );
        },
    ),
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

/**
 * No long-lived IAM access key where workloads can assume roles: a stack with an IAM OIDC provider (a
 * Keelson cluster's service-account issuer) gives each consumer an IRSA role, so an `aws:iam/accessKey`
 * beside it is a static credential nobody needs (design decision 15). Mandatory. A stack without a
 * provider (app-only mode on a cluster Keelson did not make) may keep a file store's key.
 */
export const noStaticKeysWithIssuer: StackValidationPolicy = {
    name: "aws-iam-no-static-keys",
    description:
        "No IAM access key in a stack that has an IAM OIDC provider: workloads assume IRSA roles of their own.",
    enforcementLevel: "mandatory",
    severity: "high",
    validateStack: (args, report) => {
        const issuer = args.resources.find(
            (r) => r.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        );
        if (!issuer) return;
        for (const key of args.resources.filter((r) => r.type === "aws:iam/accessKey:AccessKey"))
            report(
                `${key.name} is a long-lived access key in a stack with the web-identity issuer ${issuer.name}: give its consumers an IRSA role instead (Application's webIdentity, createServiceAccountRole).`,
                key.urn,
            );
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
    ssmPlaintextSecrets,
    listenerTls,
    edgeTls,
    unrestrictedEgress,
    s3PublicAccessBlock,
    noStaticKeysWithIssuer,
    spotDrained,
];
