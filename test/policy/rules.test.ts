import { strict as assert } from "node:assert";
import { ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import * as aws from "../../policy/rules/aws";
import { spotDrained } from "../../policy/rules/aws-spot";
import * as k8s from "../../policy/rules/kubernetes";
import { policies } from "../../policy/rules";
import { stackScore } from "../../policy/rules/stackscore";
import { mandatory, runPolicies } from "../../policy/run";
import { PlanResource } from "../../tools/plan/types";
import { container, edit, prodGraph, res, workload, workloadRes } from "../score/fixtures";

function defaults(policy: {
    configSchema?: { properties: Record<string, { default?: unknown }> };
}): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {}).map(([k, v]) => [k, v.default]),
    );
}

/** Calls a resource policy's validateResource with hand-built args and collects the messages. */
function validate(policy: ResourceValidationPolicy & { validateStack?: never }, r: PlanResource): string[] {
    const messages: string[] = [];
    const args = {
        type: r.type,
        props: r.inputs,
        urn: r.urn,
        name: r.name,
        opts: {
            protect: false,
            ignoreChanges: [],
            aliases: [],
            customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
            additionalSecretOutputs: [],
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: () => defaults(policy),
        notApplicable: () => {
            throw new Error("not applicable");
        },
    } as unknown as ResourceValidationArgs;
    const fn = policy.validateResource;
    if (typeof fn !== "function") throw new Error(`${policy.name} has one validateResource function`);
    fn(args, (m) => messages.push(m));
    return messages;
}

/** Runs one stack policy over a graph through the in-process runner. */
async function validateStack(
    policy: StackValidationPolicy,
    graph: PlanResource[],
): Promise<Array<[string, string]>> {
    return (await runPolicies(graph, [policy])).map((v) => [v.urn.split("::").pop() ?? v.urn, v.message]);
}

const deployment = (
    c: Record<string, unknown>,
    spec: Record<string, unknown> = { replicas: 2 },
    pod: Record<string, unknown> = {},
) => workloadRes(workload("Deployment", "web", "app", [c], spec, pod));
const good = () => deployment(container("web", "ghcr.io/example/web:1.0.0"));
const instance = (extra: Record<string, unknown>) =>
    res("aws:ec2/instance:Instance", "node-0", {
        instanceType: "t3.small",
        metadataOptions: { httpTokens: "required" },
        rootBlockDevice: { encrypted: true },
        userData: "#cloud-config\n",
        ...extra,
    });
const ingress = (inputs: Record<string, unknown>) =>
    res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rule", {
        ipProtocol: "tcp",
        description: "why",
        ...inputs,
    });

describe("policy: Kubernetes workload rules", () => {
    it("k8s-pod-security-restricted passes the restricted context and names each gap", () => {
        assert.deepEqual(validate(k8s.podSecurityRestricted, good()), []);
        const bad = deployment(
            {
                name: "web",
                image: "web:1",
                securityContext: { privileged: true, capabilities: { add: ["SYS_ADMIN"] } },
            },
            {},
            { hostNetwork: true },
        );
        assert.deepEqual(validate(k8s.podSecurityRestricted, bad), [
            "Deployment app/web fails restricted hostNamespaces: hostNetwork=true.",
            'Deployment app/web fails restricted privileged: container "web" must not set securityContext.privileged=true.',
            'Deployment app/web fails restricted allowPrivilegeEscalation: container "web" must set securityContext.allowPrivilegeEscalation=false.',
            'Deployment app/web fails restricted capabilities_restricted: container "web" must set securityContext.capabilities.drop=["ALL"].',
            'Deployment app/web fails restricted capabilities_restricted: container "web" must not include "SYS_ADMIN" in securityContext.capabilities.add.',
            'Deployment app/web fails restricted runAsNonRoot: pod or container "web" must set securityContext.runAsNonRoot=true.',
            'Deployment app/web fails restricted seccompProfile_restricted: pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost".',
        ]);
    });
    it("k8s-pod-security-restricted exempts system namespaces", () => {
        const agent = workloadRes(
            workload(
                "DaemonSet",
                "agent",
                "kube-system",
                [{ name: "a", image: "a:1" }],
                {},
                { hostPID: true },
            ),
        );
        assert.deepEqual(validate(k8s.podSecurityRestricted, agent), []);
    });
    it("k8s-container-resources", () => {
        assert.deepEqual(validate(k8s.containerResources, good()), []);
        assert.deepEqual(
            validate(
                k8s.containerResources,
                deployment({ name: "web", image: "w:1", resources: { requests: { cpu: "1" } } }),
            ),
            ["Deployment app/web container web has no requests.memory, limits.memory."],
        );
    });
    it("k8s-container-probes", () => {
        assert.deepEqual(validate(k8s.containerProbes, good()), []);
        const same = {
            ...container("web", "w:1"),
            livenessProbe: { tcpSocket: { port: 80 } },
            readinessProbe: { tcpSocket: { port: 80 } },
        };
        assert.deepEqual(validate(k8s.containerProbes, deployment(same)), [
            "Deployment app/web container web uses identical readiness and liveness probes.",
        ]);
        assert.deepEqual(validate(k8s.containerProbes, deployment({ name: "web", image: "w:1" })), [
            "Deployment app/web container web has no readinessProbe or livenessProbe.",
        ]);
    });
    it("k8s-image-pinned", () => {
        assert.deepEqual(
            validate(k8s.imagePinned, deployment(container("web", "nginx@sha256:" + "a".repeat(64)))),
            [],
        );
        assert.deepEqual(validate(k8s.imagePinned, deployment(container("web", "nginx:latest"))), [
            "Deployment app/web container web image nginx:latest is latest.",
        ]);
        assert.deepEqual(validate(k8s.imagePinned, deployment(container("web", "registry:5000/nginx"))), [
            "Deployment app/web container web image registry:5000/nginx is untagged.",
        ]);
    });
    it("k8s-read-only-root-filesystem", () => {
        assert.deepEqual(validate(k8s.readOnlyRoot, good()), []);
        assert.deepEqual(validate(k8s.readOnlyRoot, deployment({ name: "web", image: "w:1" })), [
            "Deployment app/web container web has a writable root filesystem.",
        ]);
    });
    it("k8s-no-secrets-in-env", () => {
        const fromSecret = {
            ...container("web", "w:1"),
            env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }],
        };
        assert.deepEqual(validate(k8s.noSecretsInEnv, deployment(fromSecret)), []);
        const plain = {
            ...container("web", "w:1"),
            env: [
                { name: "API_KEY", value: "x" },
                { name: "DB_URL", value: "[secret]" },
                { name: "MODE", value: "prod" },
            ],
        };
        assert.deepEqual(validate(k8s.noSecretsInEnv, deployment(plain)), [
            "Deployment app/web container web sets API_KEY, DB_URL as plain env values.",
        ]);
    });
    it("k8s-replicas (stack): counts an HPA's minReplicas when the Deployment leaves replicas to it", async () => {
        assert.deepEqual(await validateStack(k8s.replicas, [good()]), []);
        const single = deployment(container("web", "w:1"), { replicas: 1 });
        assert.deepEqual(await validateStack(k8s.replicas, [single]), [
            ["web", "Deployment app/web runs 1 replica."],
        ]);
        const unset = deployment(container("web", "w:1"), {});
        const hpa = res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web-hpa", {
            metadata: { name: "web", namespace: "app" },
            spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, minReplicas: 2, maxReplicas: 5 },
        });
        assert.deepEqual(await validateStack(k8s.replicas, [unset, hpa]), []);
        assert.deepEqual(await validateStack(k8s.replicas, [unset]), [
            ["web", "Deployment app/web runs 1 replica."],
        ]);
    });
    it("k8s-topology-spread", () => {
        assert.deepEqual(validate(k8s.topologySpread, good()), []);
        assert.deepEqual(
            validate(
                k8s.topologySpread,
                deployment(container("web", "w:1"), { replicas: 3 }, { topologySpreadConstraints: [] }),
            ),
            ["Deployment app/web has 3 replicas and no topology spread or pod anti-affinity."],
        );
    });
    it("k8s-service-account-token", () => {
        assert.deepEqual(
            validate(
                k8s.serviceAccountToken,
                deployment(container("web", "w:1"), {}, { automountServiceAccountToken: false }),
            ),
            [],
        );
        assert.deepEqual(validate(k8s.serviceAccountToken, good()), [
            "Deployment app/web mounts a service-account token.",
        ]);
    });
    it("k8s-pod-disruption-budget (stack)", async () => {
        assert.deepEqual(await validateStack(k8s.podDisruptionBudget, prodGraph()), []);
        const g = prodGraph().filter((r) => r.name !== "web-pdb");
        assert.deepEqual(await validateStack(k8s.podDisruptionBudget, g), [
            ["web", "Deployment app/web has 3 replicas and no PodDisruptionBudget."],
        ]);
    });
    it("k8s-network-policy (stack)", async () => {
        assert.deepEqual(await validateStack(k8s.networkPolicyCoverage, prodGraph()), []);
        const g = edit(prodGraph(), "default-deny", (i) => ({
            ...i,
            spec: { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Ingress"] },
        }));
        assert.deepEqual(await validateStack(k8s.networkPolicyCoverage, g), [
            ["worker", "No NetworkPolicy covering ingress selects the pods of Deployment app/worker."],
            ["postgres", "No NetworkPolicy covering ingress selects the pods of StatefulSet app/postgres."],
            [
                "postgres-backup",
                "No NetworkPolicy covering ingress selects the pods of CronJob app/postgres-backup.",
            ],
        ]);
    });
});

describe("policy: AWS rules", () => {
    it("aws-ec2-imdsv2", () => {
        assert.deepEqual(validate(aws.imdsv2, instance({})), []);
        assert.deepEqual(validate(aws.imdsv2, instance({ metadataOptions: { httpTokens: "optional" } })), [
            "node-0 allows IMDSv1: set metadataOptions.httpTokens to required.",
        ]);
    });
    it("aws-ebs-encrypted", () => {
        assert.deepEqual(
            validate(aws.ebsEncrypted, instance({ ebsBlockDevices: [{ encrypted: true }] })),
            [],
        );
        assert.deepEqual(
            validate(
                aws.ebsEncrypted,
                instance({
                    rootBlockDevice: {},
                    ebsBlockDevices: [{ encrypted: true }, { encrypted: false }],
                }),
            ),
            ["node-0's root volume is not encrypted.", "node-0's ebsBlockDevices[1] is not encrypted."],
        );
        assert.deepEqual(validate(aws.ebsEncrypted, res("aws:ebs/volume:Volume", "data", { size: 10 })), [
            "EBS volume data is not encrypted.",
        ]);
    });
    it("aws-no-open-admin-ingress", async () => {
        const sg = res("aws:ec2/securityGroup:SecurityGroup", "sg", {
            ingress: [
                { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], description: "all" },
                { protocol: "tcp", fromPort: 3389, toPort: 3389, cidrBlocks: ["0.0.0.0/0"] },
            ],
        });
        assert.deepEqual(
            await validateStack(aws.noAdminIngress, [
                ingress({ cidrIpv4: "10.0.0.0/16", fromPort: 22, toPort: 22 }),
                ingress({ cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 }),
            ]),
            [],
        );
        const open = "to the internet: admit only the operators' /32s (or use Session Manager).";
        assert.deepEqual(
            await validateStack(aws.noAdminIngress, [
                ingress({ cidrIpv6: "::/0", fromPort: 0, toPort: 1024 }),
            ]),
            [["rule", `rule opens SSH (22) ${open}`]],
        );
        assert.deepEqual(await validateStack(aws.noAdminIngress, [sg]), [
            ["sg", `sg opens all ports ${open}`],
            ["sg", `sg opens RDP (3389) ${open}`],
        ]);
    });
    it("aws-public-ingress-ports", () => {
        assert.deepEqual(
            validate(aws.publicPorts, ingress({ cidrIpv4: "0.0.0.0/0", fromPort: 80, toPort: 80 })),
            [],
        );
        const rule = res("aws:ec2/securityGroupRule:SecurityGroupRule", "np", {
            type: "ingress",
            protocol: "tcp",
            fromPort: 30000,
            toPort: 32767,
            cidrBlocks: ["0.0.0.0/0"],
        });
        assert.deepEqual(validate(aws.publicPorts, rule), ["np opens tcp 30000-32767 to the internet."]);
        const edgeRoute = res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "edge-in-route-mqtt",
            {
                ipProtocol: "tcp",
                fromPort: 8883,
                toPort: 8883,
                cidrIpv4: "0.0.0.0/0",
                description: "TCP route mqtt",
            },
            { chain: ["keelson:edge:Edge"] },
        );
        assert.deepEqual(validate(aws.publicPorts, edgeRoute), []);
    });
    it("aws-security-group-rule-description", () => {
        assert.deepEqual(
            validate(aws.ruleDescription, ingress({ cidrIpv4: "10.0.0.0/8", fromPort: 1, toPort: 1 })),
            [],
        );
        assert.deepEqual(
            validate(
                aws.ruleDescription,
                ingress({ cidrIpv4: "10.0.0.0/8", fromPort: 1, toPort: 1, description: " " }),
            ),
            ["rule has an ingress rule without a description."],
        );
    });
    it("aws-ec2-user-data-secrets", () => {
        assert.deepEqual(
            validate(
                aws.userDataSecretsPolicy,
                instance({ userData: "aws ssm get-parameter --name /join-token --with-decryption" }),
            ),
            [],
        );
        assert.deepEqual(
            validate(
                aws.userDataSecretsPolicy,
                instance({ userData: "-----BEGIN EC PRIVATE KEY-----\nAKIAABCDEFGHIJKLMNOP" }),
            ),
            ["node-0's user-data carries a private key, an AWS access key: read secrets from SSM at boot."],
        );
        assert.deepEqual(validate(aws.userDataSecretsPolicy, instance({ userData: "[secret]" })), [
            "node-0's user-data carries a Pulumi secret: read secrets from SSM at boot.",
        ]);
    });
    it("aws-lb-listener-tls", () => {
        const listener = (inputs: Record<string, unknown>) => res("aws:lb/listener:Listener", "l", inputs);
        assert.deepEqual(
            validate(
                aws.listenerTls,
                listener({ protocol: "TLS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" }),
            ),
            [],
        );
        assert.deepEqual(validate(aws.listenerTls, listener({ protocol: "TCP", port: 6443 })), []);
        assert.deepEqual(
            validate(
                aws.listenerTls,
                listener({
                    protocol: "HTTP",
                    defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443" } }],
                }),
            ),
            [],
        );
        assert.deepEqual(
            validate(
                aws.listenerTls,
                listener({ protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-2016-08" }),
            ),
            ["l (HTTPS) uses ssl policy ELBSecurityPolicy-2016-08; use ELBSecurityPolicy-TLS13-1-2-2021-06."],
        );
        assert.deepEqual(
            validate(aws.listenerTls, listener({ protocol: "HTTP", defaultActions: [{ type: "forward" }] })),
            ["l serves plain HTTP; redirect it to HTTPS."],
        );
    });
    it("edge-tls-1-2", () => {
        assert.deepEqual(
            validate(
                aws.edgeTls,
                instance({ userData: "ssl_protocols TLSv1.2 TLSv1.3;\nssl-min-ver TLSv1.2" }),
            ),
            [],
        );
        assert.deepEqual(
            validate(aws.edgeTls, instance({ userData: "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;" })),
            ["node-0's edge configuration allows TLSv1: use TLSv1.2 TLSv1.3 only."],
        );
        assert.deepEqual(
            validate(
                aws.edgeTls,
                instance({ userData: "bind :443 ssl crt /etc/haproxy/certs ssl-min-ver TLSv1.1" }),
            ),
            ["node-0's edge configuration allows TLSv1.1: use TLSv1.2 TLSv1.3 only."],
        );
    });
    it("aws-s3-public-access-block (stack)", async () => {
        assert.deepEqual(await validateStack(aws.s3PublicAccessBlock, prodGraph()), []);
        const g = edit(prodGraph(), "etcd-backups-pab", (i) => ({ ...i, restrictPublicBuckets: false }));
        assert.deepEqual(await validateStack(aws.s3PublicAccessBlock, g), [
            ["etcd-backups", "Bucket etcd-backups has no complete public access block."],
        ]);
    });
});

describe("policy: aws-iam-no-static-keys", () => {
    const key = res("aws:iam/accessKey:AccessKey", "shop-files-key", { user: "shop-files-user" });
    const issuer = res("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "keelson-prod-oidc", {
        url: "https://oidc.s3.eu-west-1.amazonaws.com",
        clientIdLists: ["sts.amazonaws.com"],
    });
    it("refuses an access key in a stack with a web-identity issuer, and nothing else", async () => {
        assert.deepEqual(await validateStack(aws.noStaticKeysWithIssuer, [...prodGraph(), issuer]), []);
        assert.deepEqual(await validateStack(aws.noStaticKeysWithIssuer, [...prodGraph(), issuer, key]), [
            [
                "shop-files-key",
                "shop-files-key is a long-lived access key in a stack with the web-identity issuer keelson-prod-oidc: give its consumers an IRSA role instead (Application's webIdentity, createServiceAccountRole).",
            ],
        ]);
        assert.equal(mandatory(await runPolicies([...prodGraph(), issuer, key])).length, 1);
    });
    it("lets a stack without an issuer (app-only mode) keep a file store's key", async () => {
        assert.deepEqual(await validateStack(aws.noStaticKeysWithIssuer, [...prodGraph(), key]), []);
    });
});

describe("policy: aws-asg-spot-drained", () => {
    const ASG = "aws:autoscaling/group:Group";
    const distribution = (onDemandPercentageAboveBaseCapacity?: number) => ({
        launchTemplate: { launchTemplateSpecification: { launchTemplateId: "lt-1", version: "1" } },
        instancesDistribution: {
            onDemandBaseCapacity: 1,
            ...(onDemandPercentageAboveBaseCapacity === undefined
                ? {}
                : { onDemandPercentageAboveBaseCapacity }),
        },
    });
    const group = (inputs: Record<string, unknown> = {}) =>
        res(ASG, "keelson-prod-data", {
            mixedInstancesPolicy: distribution(0),
            capacityRebalance: true,
            ...inputs,
        });
    const hook = (on: PlanResource, inputs: Record<string, unknown> = {}) =>
        res(
            "aws:autoscaling/lifecycleHook:LifecycleHook",
            "keelson-prod-termination-data",
            { name: "keelson-drain", lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING", ...inputs },
            { dependencies: [on.urn] },
        );
    const warning = (detail = "EC2 Spot Instance Interruption Warning") =>
        res("aws:cloudwatch/eventRule:EventRule", "keelson-prod-termination-spot-interruption", {
            eventPattern: JSON.stringify({ source: ["aws.ec2"], "detail-type": [detail] }),
        });
    const run = (graph: PlanResource[]) => validateStack(spotDrained, graph);
    const fix = {
        rebalance:
            "keelson-prod-data launches Spot instances without Capacity Rebalancing: set capacityRebalance to true, so that a node at elevated risk of interruption is replaced and drained before EC2 reclaims it.",
        hook: "keelson-prod-data launches Spot instances without a termination lifecycle hook: add an aws.autoscaling.LifecycleHook on autoscaling:EC2_INSTANCE_TERMINATING (a Keelson cluster's NodeTermination makes one per pool), so that no node leaves undrained.",
        warning:
            "keelson-prod-data launches Spot instances, but no EventBridge rule matches \"EC2 Spot Instance Interruption Warning\": EC2 reclaims the node 2 minutes after it without waiting for a hook; send it to the termination handler's queue (a Keelson cluster's NodeTermination does).",
    };

    it("passes a Spot group with rebalancing, its termination hook and the interruption rule", async () => {
        const g = group();
        assert.deepEqual(await run([g, hook(g), warning()]), []);
        // The hook may name the group instead of depending on it (a group imported by name).
        const named = res("aws:autoscaling/lifecycleHook:LifecycleHook", "drain", {
            lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
            autoscalingGroupName: "keelson-prod-data",
        });
        assert.deepEqual(await run([g, named, warning()]), []);
    });

    it("fires on each missing piece, naming the group and the fix", async () => {
        const g = group({ capacityRebalance: undefined });
        assert.deepEqual(await run([g, hook(g), warning()]), [["keelson-prod-data", fix.rebalance]]);
        const h = group();
        assert.deepEqual(await run([h, warning()]), [["keelson-prod-data", fix.hook]]);
        // A launching hook, or one of another group, is not this group's drain.
        const other = res(ASG, "keelson-prod-general", {});
        assert.deepEqual(await run([h, hook(other), warning()]), [["keelson-prod-data", fix.hook]]);
        assert.deepEqual(
            await run([h, hook(h, { lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING" }), warning()]),
            [["keelson-prod-data", fix.hook]],
        );
        assert.deepEqual(await run([h, hook(h)]), [["keelson-prod-data", fix.warning]]);
        assert.deepEqual(await run([h, hook(h), warning("EC2 Instance Rebalance Recommendation")]), [
            ["keelson-prod-data", fix.warning],
        ]);
        assert.equal(
            mandatory(await runPolicies([...prodGraph(), group({ capacityRebalance: false })])).length,
            3,
        );
    });

    it("leaves On-Demand groups alone: no mixed policy, 100 % On-Demand above the base, or AWS's default", async () => {
        assert.deepEqual(
            await run([res(ASG, "keelson-prod-general", { launchTemplate: { id: "lt-1" } })]),
            [],
        );
        assert.deepEqual(
            await run([group({ mixedInstancesPolicy: distribution(100), capacityRebalance: undefined })]),
            [],
        );
        assert.deepEqual(
            await run([group({ mixedInstancesPolicy: distribution(), capacityRebalance: undefined })]),
            [],
        );
    });
});

describe("policy pack", () => {
    it("ships every rule once, with the documented enforcement", () => {
        assert.deepEqual(
            policies.map((p) => [p.name, p.enforcementLevel]),
            [
                ["k8s-pod-security-restricted", "mandatory"],
                ["k8s-container-resources", "advisory"],
                ["k8s-container-probes", "advisory"],
                ["k8s-image-pinned", "mandatory"],
                ["k8s-read-only-root-filesystem", "advisory"],
                ["k8s-no-secrets-in-env", "mandatory"],
                ["k8s-replicas", "advisory"],
                ["k8s-topology-spread", "advisory"],
                ["k8s-service-account-token", "advisory"],
                ["k8s-pod-disruption-budget", "advisory"],
                ["k8s-network-policy", "advisory"],
                ["aws-ec2-imdsv2", "mandatory"],
                ["aws-ebs-encrypted", "mandatory"],
                ["aws-no-open-admin-ingress", "mandatory"],
                ["aws-public-ingress-ports", "advisory"],
                ["aws-security-group-rule-description", "advisory"],
                ["aws-ec2-user-data-secrets", "mandatory"],
                ["aws-ssm-plaintext-secrets", "mandatory"],
                ["aws-lb-listener-tls", "mandatory"],
                ["edge-tls-1-2", "mandatory"],
                ["aws-no-unrestricted-egress", "advisory"],
                ["aws-s3-public-access-block", "advisory"],
                ["aws-iam-no-static-keys", "mandatory"],
                ["aws-asg-spot-drained", "mandatory"],
                ["keelson-stackscore", "mandatory"],
            ],
        );
    });

    it("runs over a whole plan: the prod fixture has advisory findings only", async () => {
        const v = await runPolicies(prodGraph());
        assert.deepEqual(mandatory(v), []);
        assert.deepEqual(
            v.map((x) => [x.policy, x.urn.split("::").pop()]),
            [
                ["k8s-service-account-token", "web"],
                ["k8s-service-account-token", "worker"],
                ["k8s-service-account-token", "postgres"],
                ["k8s-service-account-token", "postgres-backup"],
            ],
        );
    });

    it("reports mandatory violations of a broken plan, honours config and skips disabled policies", async () => {
        const g = edit(prodGraph(), "general-0", (i) => ({ ...i, metadataOptions: {} }));
        g.push(ingress({ cidrIpv4: "0.0.0.0/0", fromPort: 8443, toPort: 8443 }));
        assert.deepEqual(
            mandatory(await runPolicies(g)).map((x) => [x.policy, x.message]),
            [["aws-ec2-imdsv2", "general-0 allows IMDSv1: set metadataOptions.httpTokens to required."]],
        );
        const ports = await runPolicies(g, [aws.publicPorts]);
        assert.deepEqual(
            ports.map((x) => x.message),
            ["rule opens tcp 8443 to the internet."],
        );
        assert.deepEqual(
            await runPolicies(g, [aws.publicPorts], {
                "aws-public-ingress-ports": { allowedPorts: [80, 443, 8443] },
            }),
            [],
        );
        assert.deepEqual(await runPolicies(g, [{ ...aws.imdsv2, enforcementLevel: "disabled" }]), []);
    });

    it("flags a plain-text secret in a workload as mandatory", async () => {
        const g = prodGraph();
        g.push(
            workloadRes(
                workload(
                    "Deployment",
                    "leaky",
                    "app",
                    [{ ...container("leaky", "l:1"), env: [{ name: "TOKEN", value: "t" }] }],
                    { replicas: 2 },
                ),
            ),
        );
        assert.deepEqual(
            mandatory(await runPolicies(g)).map((x) => [x.policy, x.urn.split("::").pop(), x.message]),
            [
                [
                    "k8s-no-secrets-in-env",
                    "leaky",
                    "Deployment app/leaky container leaky sets TOKEN as plain env values.",
                ],
            ],
        );
    });
});

describe("policy: keelson-stackscore", () => {
    it("passes by default (minimum F) and when the score meets the configured grade", async () => {
        const broken = prodGraph().filter(
            (r) => !r.name.startsWith("keelson-prod-master-") || r.name.endsWith("-0"),
        );
        assert.deepEqual(await runPolicies(broken, [stackScore]), []);
        assert.deepEqual(
            await runPolicies(prodGraph(), [stackScore], { "keelson-stackscore": { minimumGrade: "A" } }),
            [],
        );
    });
    it("reports the minimum-grade error naming the failing findings", async () => {
        const broken = prodGraph().filter(
            (r) => !r.name.startsWith("keelson-prod-master-") || r.name.endsWith("-0"),
        );
        const v = await runPolicies(broken, [stackScore], { "keelson-stackscore": { minimumGrade: "B" } });
        assert.deepEqual(
            v.map((x) => [x.policy, x.enforcementLevel, x.urn]),
            [["keelson-stackscore", "mandatory", ""]],
        );
        assert.equal(
            v[0].message,
            "score.minimumGrade: StackScore D is below the required B (availability D)\n" +
                "  - [high] availability/single-master on urn:pulumi:prod::keelson::keelson:cluster:Cluster$keelson:cluster:ControlPlane$aws:ec2/instance:Instance::keelson-prod-master-0: " +
                "The control plane is one master: losing it stops the Kubernetes API and etcd. Fix: Set cluster.masters to 3 (one per availability zone).",
        );
    });
});

describe("policy pack without engine config", () => {
    it("every policy falls back to its schema defaults when getConfig returns {}", async () => {
        const g = prodGraph();
        g.push(ingress({ cidrIpv4: "0.0.0.0/0", fromPort: 8443, toPort: 8443 }));
        const args = (r: PlanResource) =>
            ({
                type: r.type,
                props: r.inputs,
                urn: r.urn,
                name: r.name,
                getConfig: () => ({}),
            }) as unknown as ResourceValidationArgs;
        const messages: string[] = [];
        for (const p of policies) {
            if ("validateStack" in p) {
                const resources = g.map((r) => ({
                    type: r.type,
                    props: r.inputs,
                    urn: r.urn,
                    name: r.name,
                    dependencies: r.dependencies.map((urn) => ({ urn })),
                }));
                await p.validateStack({ resources, getConfig: () => ({}) } as never, (m) =>
                    messages.push(`${p.name}: ${m}`),
                );
                continue;
            }
            const fn = p.validateResource;
            if (typeof fn !== "function") throw new Error(p.name);
            for (const r of g) await fn(args(r), (m) => messages.push(`${p.name}: ${m}`));
        }
        assert.deepEqual(
            messages.filter((m) => !m.startsWith("k8s-service-account-token")),
            ["aws-public-ingress-ports: rule opens tcp 8443 to the internet."],
        );
    });
});
