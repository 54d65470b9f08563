// The Cluster component under the mock engine: exact resources and inputs for prod-like (3 masters,
// NLB), dev-like (1 master, single endpoint) and HAProxy clusters.
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as YAML from "yaml";
import { gunzipSync } from "zlib";
import { boundedName } from "../../components/cluster/endpoint";
import { caCertHash } from "../../components/cluster/render/cahash";
import { SESSION_MANAGER_ACTIONS } from "../../components/cluster/iam";
import { renderApiHaproxyConfig } from "../../components/cluster/render/haproxy-api";
import { stableHex } from "../../tools/plan/mock-state";
import { resolveOutput, RecordedResource } from "../../tools/plan/runtime";
import { clusterConfig, prodClusterConfig } from "./fixtures";
import { ofType, runCluster } from "./graph-support";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const INSTANCE = "aws:ec2/instance:Instance";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const ASG = "aws:autoscaling/group:Group";
const PREFIX = "arn:aws:ssm:eu-west-1:123456789012:parameter/keelson/prod/keelson-prod";

function byName(resources: RecordedResource[], name: string): RecordedResource {
    const found = resources.filter((r) => r.name === name);
    assert.equal(found.length, 1, `exactly one resource named ${name}`);
    return found[0];
}

function userData(r: RecordedResource): string {
    return gunzipSync(Buffer.from(String(r.rawInputs.userDataBase64), "base64")).toString("utf8");
}

describe("cluster/Cluster (mocked, prod-like: 3 dedicated masters behind an NLB)", function () {
    this.timeout(120000);
    let run: Awaited<ReturnType<typeof runCluster>>;
    before(async () => {
        run = await runCluster(prodClusterConfig(), "prod");
    });

    it("parents every resource to the cluster component", () => {
        const [component] = ofType(run.resources, "keelson:cluster:Cluster");
        assert.equal(component.name, "keelson-prod");
        const pools = ofType(run.resources, "keelson:cluster:WorkerPool");
        assert.deepEqual(
            pools.map((p) => [p.name, p.parent]),
            [
                ["keelson-prod-general", component.urn],
                ["keelson-prod-batch", component.urn],
            ],
        );
        const slots = ofType(run.resources, "keelson:cluster:MasterSlot");
        assert.deepEqual(
            slots.map((p) => [p.name, p.parent]),
            [0, 1, 2].map((i) => [`keelson-prod-master-${i}`, component.urn]),
        );
        const [issuer] = ofType(run.resources, "keelson:cluster:ServiceAccountIssuer");
        assert.deepEqual([issuer.name, issuer.parent], ["keelson-prod-oidc", component.urn]);
        // Every resource is the cluster's child, or a pool's or slot's (templates, groups) or the issuer's (see irsa.test.ts).
        const orphans = run.resources.filter(
            (r) =>
                r !== component &&
                r.parent !== component.urn &&
                r.parent !== issuer.urn &&
                ![...pools, ...slots].some((p) => p.urn === r.parent),
        );
        assert.deepEqual(
            orphans.map((r) => r.name),
            [],
        );
        for (const p of [...pools, ...slots]) {
            assert.deepEqual(
                run.resources.filter((r) => r.parent === p.urn).map((r) => `${r.type} ${r.name}`),
                [`${LT} ${p.name}`, `${ASG} ${p.name}`],
            );
        }
    });

    it("runs each of the 3 master slots as a group of exactly one in its own private subnet, registered in both API target groups", () => {
        // No plain instance: every master is its slot's group's instance.
        assert.deepEqual(ofType(run.resources, INSTANCE), []);
        assert.equal(run.cluster.masters.length, 0);
        assert.deepEqual(
            run.cluster.masterSlots.map((s) => s.slot),
            ["master-0", "master-1", "master-2"],
        );
        const tg = (n: string) =>
            `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${n}/${stableHex(n, 16)}`;
        const slots = ofType(run.resources, ASG).filter((g) => /-master-\d$/.test(g.name));
        assert.deepEqual(
            slots.map((g) => [
                g.name,
                g.inputs.vpcZoneIdentifiers,
                g.inputs.minSize,
                g.inputs.maxSize,
                g.inputs.desiredCapacity,
                g.inputs.launchTemplate,
                g.inputs.targetGroupArns,
            ]),
            ["a", "b", "c"].map((zone, i) => [
                `keelson-prod-master-${i}`,
                [`subnet-private-${zone}`],
                1,
                1,
                1,
                { id: `lt-${stableHex(`keelson-prod-master-${i}`, 17)}`, version: "1" },
                [tg("keelson-prod-api"), tg("keelson-prod-api-in-91f5")],
            ]),
        );
        for (const [i, g] of slots.entries()) {
            // EC2 health only: a master whose API is down for a moment (an upgrade step) is not terminated.
            assert.equal(g.inputs.healthCheckType, "EC2");
            assert.equal(g.inputs.healthCheckGracePeriod, 600);
            // No instance refresh: a new template version never replaces a running master (quorum); the next
            // replacement boots it.
            assert.equal(g.inputs.instanceRefresh, undefined);
            assert.equal(g.inputs.mixedInstancesPolicy, undefined);
            assert.equal(g.inputs.waitForCapacityTimeout, "10m");
            assert.deepEqual(g.inputs.tags, [
                { key: "keelson:cluster", value: "keelson-prod", propagateAtLaunch: true },
                { key: "kubernetes.io/cluster/keelson-prod", value: "owned", propagateAtLaunch: true },
                { key: "keelson:role", value: "master", propagateAtLaunch: true },
                // What the slot's upgrade steps target, whichever instance runs the slot.
                { key: "keelson:master-slot", value: `keelson-prod-master-${i}`, propagateAtLaunch: true },
                { key: "Name", value: g.name, propagateAtLaunch: true },
            ]);
        }
    });

    it("runs one group per pool over all the private subnets", () => {
        const groups = ofType(run.resources, ASG).filter((g) => !/-master-\d$/.test(g.name));
        assert.deepEqual(
            groups.map((g) => [
                g.name,
                g.inputs.vpcZoneIdentifiers,
                g.inputs.minSize,
                g.inputs.maxSize,
                g.inputs.desiredCapacity,
                g.inputs.launchTemplate,
            ]),
            [
                [
                    "keelson-prod-general",
                    ["subnet-private-a", "subnet-private-b", "subnet-private-c"],
                    2,
                    6,
                    3,
                    // The template's version number: "$Latest" would never start a refresh.
                    { id: `lt-${stableHex("keelson-prod-general", 17)}`, version: "1" },
                ],
                [
                    "keelson-prod-batch",
                    ["subnet-private-a", "subnet-private-b", "subnet-private-c"],
                    2,
                    2,
                    2,
                    { id: `lt-${stableHex("keelson-prod-batch", 17)}`, version: "1" },
                ],
            ],
        );
        assert.deepEqual(
            run.cluster.workers.map((w) => w.pool),
            ["general", "batch"],
        );
    });

    it("rolls a pool on a template change keeping its capacity, and tags its nodes for the score and the policy pack", () => {
        for (const g of ofType(run.resources, ASG).filter((x) => !/-master-\d$/.test(x.name))) {
            assert.deepEqual(
                g.inputs.instanceRefresh,
                {
                    strategy: "Rolling",
                    preferences: {
                        minHealthyPercentage: 100,
                        maxHealthyPercentage: 110,
                        instanceWarmup: "300",
                        skipMatching: true,
                        autoRollback: true,
                    },
                },
                g.name,
            );
            assert.equal(g.inputs.healthCheckType, "EC2");
            assert.equal(g.inputs.healthCheckGracePeriod, 300);
            assert.equal(g.inputs.defaultInstanceWarmup, 300);
            assert.equal(g.inputs.waitForCapacityTimeout, "0");
            const pool = g.name.replace("keelson-prod-", "");
            assert.deepEqual(g.inputs.tags, [
                { key: "keelson:cluster", value: "keelson-prod", propagateAtLaunch: true },
                // The AWS cloud controller finds the cluster's instances by it.
                { key: "kubernetes.io/cluster/keelson-prod", value: "owned", propagateAtLaunch: true },
                { key: "keelson:role", value: "worker", propagateAtLaunch: true },
                { key: "keelson:pool", value: pool, propagateAtLaunch: true },
                // aws-node-termination-handler drains only instances with this tag.
                { key: "aws-node-termination-handler/managed", value: "", propagateAtLaunch: true },
                { key: "Name", value: g.name, propagateAtLaunch: true },
            ]);
        }
    });

    it("makes every launch path IMDSv2-only with an encrypted gp3 root volume and no public IP", () => {
        for (const r of ofType(run.resources, INSTANCE)) {
            assert.deepEqual(
                r.inputs.metadataOptions,
                {
                    httpEndpoint: "enabled",
                    httpTokens: "required",
                    httpPutResponseHopLimit: 1,
                    instanceMetadataTags: "disabled",
                },
                r.name,
            );
            assert.deepEqual(
                r.inputs.rootBlockDevice,
                { volumeType: "gp3", volumeSize: 50, encrypted: true, deleteOnTermination: true },
                r.name,
            );
            assert.equal(r.inputs.associatePublicIpAddress, false, r.name);
            assert.equal(r.inputs.ami, "ami-0d1e2b3c4f5a6b7c8", r.name);
            assert.equal(r.inputs.userData, undefined, r.name);
        }
        for (const r of ofType(run.resources, LT)) {
            const pool = r.name.replace("keelson-prod-", "");
            const master = pool.startsWith("master-");
            assert.deepEqual(
                r.inputs.metadataOptions,
                {
                    httpEndpoint: "enabled",
                    httpTokens: "required",
                    // No pod reaches the worker role: the add-ons that call AWS use IRSA roles.
                    httpPutResponseHopLimit: 1,
                    instanceMetadataTags: "disabled",
                },
                r.name,
            );
            assert.deepEqual(
                r.inputs.blockDeviceMappings,
                [
                    {
                        deviceName: "/dev/xvda",
                        ebs: {
                            volumeType: "gp3",
                            volumeSize: pool === "batch" ? 80 : 50,
                            encrypted: "true",
                            deleteOnTermination: "true",
                        },
                    },
                ],
                r.name,
            );
            assert.equal(r.inputs.imageId, "ami-0d1e2b3c4f5a6b7c8", r.name);
            assert.equal(
                r.inputs.instanceType,
                master ? "t3.medium" : pool === "batch" ? "c6i.xlarge" : "m6i.large",
            );
            assert.deepEqual(r.inputs.vpcSecurityGroupIds, [master ? "sg-masters" : "sg-workers"]);
            // The node role's instance profile (autonamed `<name>-<7 random characters>`).
            assert.match(
                String((r.inputs.iamInstanceProfile as Obj).name),
                master ? /^keelson-prod-master-[0-9a-z]{7}$/ : /^keelson-prod-worker-[0-9a-z]{7}$/,
            );
            assert.equal(r.inputs.networkInterfaces, undefined, "no public address: none is asked for");
            assert.equal(r.inputs.updateDefaultVersion, true);
            assert.deepEqual(
                (r.inputs.tagSpecifications as Obj[]).map((t) => [
                    t.resourceType,
                    t.tags[master ? "keelson:master-slot" : "keelson:pool"],
                ]),
                [
                    ["instance", master ? `keelson-prod-${pool}` : pool],
                    ["volume", master ? `keelson-prod-${pool}` : pool],
                ],
            );
            // A newer Debian image alone does not roll the pool (it waits for the next template change).
            assert.deepEqual(r.options?.ignoreChanges, ["imageId"]);
        }
    });

    it("puts an internet-facing NLB for operators and an internal one for the nodes on 6443/TCP in front of the masters", () => {
        const lbs = ofType(run.resources, "aws:lb/loadBalancer:LoadBalancer");
        assert.deepEqual(
            lbs.map((lb) => [lb.name, lb.inputs.internal, lb.inputs.subnets]),
            [
                ["keelson-prod-api", false, ["subnet-public-a", "subnet-public-b", "subnet-public-c"]],
                [
                    "keelson-prod-api-in-91f5",
                    true,
                    ["subnet-private-a", "subnet-private-b", "subnet-private-c"],
                ],
            ],
        );
        for (const lb of lbs) {
            assert.equal(lb.inputs.loadBalancerType, "network");
            assert.deepEqual(lb.inputs.securityGroups, ["sg-apilb"]);
            assert.equal(lb.inputs.enableCrossZoneLoadBalancing, true);
        }
        const tgs = ofType(run.resources, "aws:lb/targetGroup:TargetGroup");
        assert.deepEqual(
            tgs.map((t) => t.name),
            ["keelson-prod-api", "keelson-prod-api-in-91f5"],
        );
        for (const tg of tgs) {
            assert.equal(tg.inputs.port, 6443);
            assert.equal(tg.inputs.protocol, "TCP");
            assert.equal(tg.inputs.targetType, "instance");
            assert.equal(tg.inputs.preserveClientIp, "false");
            assert.deepEqual(tg.inputs.healthCheck, {
                enabled: true,
                protocol: "HTTPS",
                path: "/readyz",
                port: "traffic-port",
                matcher: "200",
                interval: 10,
                timeout: 6,
                healthyThreshold: 2,
                unhealthyThreshold: 2,
            });
        }
        const listeners = ofType(run.resources, "aws:lb/listener:Listener");
        assert.deepEqual(
            listeners.map((l) => [l.name, l.inputs.port, l.inputs.protocol, l.inputs.defaultActions]),
            [
                ["keelson-prod-api", "keelson-prod-api"],
                ["keelson-prod-api-internal", "keelson-prod-api-in-91f5"],
            ].map(([n, aws]) => [
                n,
                6443,
                "TCP",
                [
                    {
                        type: "forward",
                        targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${aws}/${stableHex(aws, 16)}`,
                    },
                ],
            ]),
        );
        assert.match(String(listeners[0].inputs.loadBalancerArn), /:loadbalancer\/net\/keelson-prod-api\//);
        assert.match(
            String(listeners[1].inputs.loadBalancerArn),
            /:loadbalancer\/net\/keelson-prod-api-in-91f5\//,
        );
        // The masters' groups register their instances (see above): no attachment names an instance that a
        // healed slot would no longer run.
        assert.deepEqual(ofType(run.resources, "aws:lb/targetGroupAttachment:TargetGroupAttachment"), []);
        // The nodes' name resolves to the internal NLB: no kubelet goes through NAT to the public one.
        const [record] = ofType(run.resources, "aws:route53/record:Record");
        assert.equal(record.inputs.name, "api.keelson-prod.internal");
        assert.equal(record.inputs.type, "A");
        const internalDns = `internal-keelson-prod-api-in-91f5-${stableHex("keelson-prod-api-in-91f5", 16)}.elb.eu-west-1.amazonaws.com`;
        assert.deepEqual(record.inputs.aliases, [
            { name: internalDns, zoneId: "Z26RNL4JYFTOTI", evaluateTargetHealth: true },
        ]);
        const dnsName = `keelson-prod-api-${stableHex("keelson-prod-api", 16)}.elb.eu-west-1.amazonaws.com`;
        assert.equal(run.outputs.endpoint, `https://${dnsName}:6443`);
    });

    it("stores every secret as a secret SecureString under the cluster's path, encrypted with the cluster key", () => {
        // The bootstrap state (marker, slot records: plain Strings) is asserted in lifecycle.test.ts.
        const params = ofType(run.resources, "aws:ssm/parameter:Parameter").filter(
            (p) => !String(p.inputs.name).includes("/state/"),
        );
        assert.deepEqual(
            params.map((p) => p.inputs.name).sort(),
            [
                "control-plane/ca-key",
                "control-plane/certificate-key",
                "control-plane/encryption-key",
                "control-plane/etcd-ca-crt",
                "control-plane/etcd-ca-key",
                "control-plane/front-proxy-ca-crt",
                "control-plane/front-proxy-ca-key",
                "control-plane/sa-key",
                "control-plane/sa-pub",
                "join/bootstrap-token",
                "join/ca-crt",
            ].map((p) => `/keelson/prod/keelson-prod/${p}`),
        );
        const [key] = ofType(run.resources, "aws:kms/key:Key");
        assert.equal(key.inputs.enableKeyRotation, true);
        for (const p of params) {
            assert.equal(p.inputs.type, "SecureString", p.name);
            assert.equal(p.inputs.value, "[secret]", p.name);
            assert.match(String(p.inputs.keyId), /^arn:aws:kms:eu-west-1:123456789012:key\//, p.name);
        }
        const raw = (k: string) => String(byName(run.resources, `keelson-prod-ssm-${k}`).rawInputs.value);
        assert.match(raw("bootstrap-token"), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
        assert.match(raw("certificate-key"), /^[0-9a-f]{64}$/);
        assert.equal(Buffer.from(raw("encryption-key"), "base64").length, 32);
        assert.match(raw("ca-key"), /^-----BEGIN EC PRIVATE KEY-----/);
    });

    it("grants exactly the parameter ARNs: masters all, workers the join ones; decrypt only via SSM", () => {
        const doc = (name: string) => JSON.parse(String(byName(run.resources, name).inputs.policy));
        const master = doc("keelson-prod-master-parameters");
        const worker = doc("keelson-prod-worker-parameters");
        const join = ["join/ca-crt", "join/bootstrap-token"].map((p) => `${PREFIX}/${p}`);
        assert.deepEqual(worker.Statement[0], {
            Sid: "ReadClusterParameters",
            Effect: "Allow",
            Action: ["ssm:GetParameter", "ssm:GetParameters"],
            Resource: join,
        });
        // 11 SecureStrings and the bootstrap state pattern (String parameters, last).
        assert.equal(master.Statement[0].Resource.length, 12);
        assert.equal(master.Statement[0].Resource[11], `${PREFIX}/state/*`);
        assert.ok(master.Statement[0].Resource.every((a: string) => a.startsWith(`${PREFIX}/`)));
        assert.deepEqual(master.Statement[0].Resource.slice(0, 2), join);
        const [key] = ofType(run.resources, "aws:kms/key:Key");
        assert.deepEqual(worker.Statement[1], {
            Sid: "DecryptClusterParameters",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: `arn:aws:kms:eu-west-1:123456789012:key/${stableHex(key.name, 32)}`,
            Condition: {
                StringEquals: {
                    "kms:ViaService": "ssm.eu-west-1.amazonaws.com",
                    "kms:EncryptionContext:PARAMETER_ARN": join,
                },
            },
        });
        // The worker is denied the control plane's parameters by name, and could not decrypt them anyway
        // (encryption context above); every role denies every parameter and key that is not its own.
        const controlPlane = master.Statement[0].Resource.slice(2, 11);
        assert.equal(controlPlane.length, 9);
        const boundary = (own: string[]) => [
            { Sid: "NoOtherParameters", Effect: "Deny", Action: ["ssm:GetParameter*"], NotResource: own },
            {
                Sid: "NoOtherKeys",
                Effect: "Deny",
                Action: ["kms:Decrypt"],
                NotResource: [worker.Statement[1].Resource],
            },
        ];
        assert.deepEqual(worker.Statement.slice(2), [
            ...boundary(join),
            {
                Sid: "NoControlPlaneParameters",
                Effect: "Deny",
                Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParameterHistory"],
                Resource: controlPlane,
            },
        ]);
        assert.ok(controlPlane.every((a: string) => a.startsWith(`${PREFIX}/control-plane/`)));
        assert.deepEqual(
            master.Statement.slice(2),
            boundary([...join, ...controlPlane, `${PREFIX}/state/*`]),
        );
        assert.deepEqual(master.Statement[1].Condition.StringEquals["kms:EncryptionContext:PARAMETER_ARN"], [
            ...join,
            ...controlPlane,
        ]);
        // Session Manager without any parameter read, instead of AmazonSSMManagedInstanceCore.
        for (const role of ["master", "worker"]) {
            const sm = JSON.parse(
                String(byName(run.resources, `keelson-prod-${role}-session-manager`).inputs.policy),
            );
            assert.deepEqual(sm, {
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "SessionManager",
                        Effect: "Allow",
                        Action: [...SESSION_MANAGER_ACTIONS],
                        Resource: "*",
                    },
                ],
            });
            assert.ok(!sm.Statement[0].Action.some((a: string) => a.startsWith("ssm:GetParameter")));
        }
        const attached = ofType(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
            (a) => [a.name, a.inputs.policyArn],
        );
        // The EBS CSI policy is attached by Addons, once (test/config/ownership.test.ts). ECR read on
        // both roles: the kubelet's ecr-credential-provider pulls built images with the node's role.
        const ecr = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
        assert.deepEqual(attached, [
            ["keelson-prod-master-AmazonEC2ContainerRegistryReadOnly", ecr],
            ["keelson-prod-worker-AmazonEC2ContainerRegistryReadOnly", ecr],
        ]);
    });

    it("never puts a secret value in user-data, an artifact, a non-secret input or output", () => {
        const secretKeys = [
            "bootstrap-token",
            "certificate-key",
            "encryption-key",
            "ca-key",
            "etcd-ca-key",
            "front-proxy-ca-key",
            "sa-key",
        ];
        const secrets = secretKeys.map((k) =>
            String(byName(run.resources, `keelson-prod-ssm-${k}`).rawInputs.value).trim(),
        );
        const tokenSecret = secrets[0].split(".")[1];
        const haystacks: [string, string][] = [
            ...ofType(run.resources, INSTANCE).map((r): [string, string] => [
                `${r.name} user-data`,
                userData(r),
            ]),
            ...ofType(run.resources, LT).map((r): [string, string] => [
                `${r.name} user-data`,
                gunzipSync(Buffer.from(String(r.rawInputs.userData), "base64")).toString("utf8"),
            ]),
            ...run.artifacts.map((a): [string, string] => [a.path, a.content]),
            ...run.resources.map((r): [string, string] => [`${r.name} inputs`, JSON.stringify(r.inputs)]),
            ["outputs", JSON.stringify(run.outputs)],
        ];
        for (const [where, text] of haystacks) {
            for (const [i, s] of [...secrets, tokenSecret].entries()) {
                const body = s
                    .replace(/-----[A-Z ]+-----/g, "")
                    .replace(/\s+/g, "")
                    .slice(0, 40);
                assert.ok(
                    !text.includes(s) && !text.replace(/\\n|\s/g, "").includes(body),
                    `${where} leaks ${secretKeys[i] ?? "token secret"}`,
                );
            }
        }
        assert.deepEqual(run.secretOutputs, ["kubeconfig"]);
        assert.equal(run.outputs.kubeconfig, "[secret]");
    });

    it("records user-data per master and per pool equal to what the instances and templates get, with the computed CA hash", () => {
        for (const r of ofType(run.resources, INSTANCE)) {
            const node = r.name.replace("keelson-prod-", "");
            const artifact = run.artifacts.find((a) => a.path === `user-data/${node}.yaml`);
            assert.equal(artifact?.content, userData(r), node);
        }
        for (const r of ofType(run.resources, LT)) {
            const pool = r.name.replace("keelson-prod-", "");
            const artifact = run.artifacts.find((a) => a.path === `user-data/${pool}.yaml`);
            const text = gunzipSync(Buffer.from(String(r.rawInputs.userData), "base64")).toString("utf8");
            assert.equal(artifact?.content, text, pool);
            // One template for every zone: the zone label is filled in from IMDS at boot.
            if (!pool.startsWith("master-")) assert.match(text, /topology\.kubernetes\.io\/zone=__ZONE__/);
        }
        const caKey = String(byName(run.resources, "keelson-prod-ssm-ca-key").rawInputs.value);
        const publicPem = crypto.createPublicKey(caKey).export({ type: "spki", format: "pem" }).toString();
        const join = YAML.parse(
            run.artifacts.find((a) => a.path === "kubeadm/control-plane-join.yaml")!.content,
        );
        assert.deepEqual(join.discovery.bootstrapToken.caCertHashes, [caCertHash(publicPem)]);
        assert.deepEqual(
            run.artifacts.map((a) => a.path).filter((p) => p.startsWith("kubeadm/")),
            [
                "kubeadm/control-plane-join.yaml",
                "kubeadm/init.yaml",
                "kubeadm/worker-batch.yaml",
                "kubeadm/worker-general.yaml",
            ],
        );
        const init = YAML.parseAllDocuments(
            run.artifacts.find((a) => a.path === "kubeadm/init.yaml")!.content,
        ).map((d) => d.toJS());
        const endpointHost = String(run.outputs.endpoint).replace(/^https:\/\/|:6443$/g, "");
        assert.deepEqual(init[1].apiServer.certSANs, [
            "api.keelson-prod.internal",
            endpointHost,
            "localhost",
            "127.0.0.1",
        ]);
        assert.equal(init[1].controlPlaneEndpoint, "api.keelson-prod.internal:6443");
        // Tokens are issued as the S3 issuer that the OIDC provider trusts (see irsa.test.ts).
        const [oidc] = ofType(run.resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        assert.match(
            String(oidc.inputs.url),
            /^https:\/\/keelson-prod-oidc-[0-9a-f]{7}\.s3\.eu-west-1\.amazonaws\.com$/,
        );
        assert.deepEqual(
            (init[1].apiServer.extraArgs as { name: string; value: string }[]).filter(
                (a) => a.name.startsWith("service-account-issuer") || a.name === "service-account-jwks-uri",
            ),
            [
                { name: "service-account-issuer", value: oidc.inputs.url },
                { name: "service-account-issuer", value: "https://kubernetes.default.svc.cluster.local" },
                { name: "service-account-jwks-uri", value: `${oidc.inputs.url}/keys.json` },
            ],
        );
    });

    it("gates the Kubernetes provider on the readiness resource, which waits for masters and the NLB", () => {
        const [gate] = ofType(run.resources, "pulumi-nodejs:dynamic/keelson:ClusterReady");
        const [provider] = ofType(run.resources, "pulumi:providers:kubernetes");
        assert.ok(provider.dependencies.includes(gate.urn), "provider depends on the gate");
        assert.equal(provider.inputs.kubeconfig, "[secret]");
        const needed = run.resources
            .filter((r) => (r.type === ASG && /master-\d$/.test(r.name)) || r.type.endsWith("record:Record"))
            .map((r) => r.urn);
        // 3 master slots' groups (each registers its instance in both target groups), the API record.
        assert.equal(needed.length, 4);
        for (const urn of needed) assert.ok(gate.dependencies.includes(urn), `gate depends on ${urn}`);
        assert.equal(gate.inputs.url, run.outputs.endpoint);
        assert.equal(gate.inputs.clientKeyPem, "[secret]");
        assert.equal(gate.inputs.attempts, 90);
        // Ready means every master slot runs its etcd member and every pool has registered its nodes.
        assert.deepEqual(gate.inputs.expectedMasters, ["master-0", "master-1", "master-2"]);
        assert.deepEqual(gate.inputs.expectedPools, { general: 3, batch: 2 });
        assert.equal(gate.inputs.intervalMs, 10000);
    });

    it("builds the kubeconfig from the endpoint, the generated CA and the admin certificate", async () => {
        const { value, secret } = await resolveOutput(run.cluster.kubeconfig);
        assert.equal(secret, true);
        const kc = YAML.parse(String(value));
        assert.equal(kc.clusters[0].cluster.server, run.outputs.endpoint);
        assert.equal(
            Buffer.from(kc.clusters[0].cluster["certificate-authority-data"], "base64").toString(),
            run.outputs.caCertPem,
        );
        assert.equal(kc["current-context"], "keelson-admin@keelson-prod");
        assert.match(
            Buffer.from(kc.users[0].user["client-key-data"], "base64").toString(),
            /^-----BEGIN EC PRIVATE KEY-----/,
        );
        const [csr] = ofType(run.resources, "tls:index/certRequest:CertRequest");
        assert.deepEqual(csr.inputs.subject, {
            commonName: "keelson-admin",
            organization: "kubeadm:cluster-admins",
        });
    });
});

describe("cluster/endpoint boundedName", () => {
    it("keeps NLB and target group names within AWS's 32 characters after Pulumi's suffix", () => {
        assert.equal(boundedName("keelson-prod-api"), "keelson-prod-api");
        assert.equal(boundedName("keelson-production-api"), "keelson-production-api");
        const long = boundedName("keelson-customer-acceptance-api");
        assert.equal(long.length, 24);
        assert.match(long, /^keelson-customer-ac-[0-9a-f]{4}$/);
        assert.equal(boundedName("keelson-customer-acceptance-api"), long);
        assert.notEqual(boundedName("keelson-customer-acceptance2-api"), long);
    });
});

describe("cluster/Cluster (mocked, dev-like: 1 shared master, single endpoint)", function () {
    this.timeout(120000);
    let run: Awaited<ReturnType<typeof runCluster>>;
    before(async () => {
        run = await runCluster(clusterConfig(), "dev", 1);
    });

    it("registers no load balancer, one master with an Elastic IP as the endpoint", () => {
        assert.deepEqual(
            run.resources.filter((r) => r.type.startsWith("aws:lb/")),
            [],
        );
        const instances = ofType(run.resources, INSTANCE);
        assert.deepEqual(
            instances.map((r) => [r.name, r.inputs.subnetId, r.inputs.associatePublicIpAddress]),
            [["keelson-dev-master-0", "subnet-public-a", true]],
        );
        // Even a shared master keeps pods away from its role (it reads the CA keys): hop limit 1.
        assert.equal((instances[0].inputs.metadataOptions as Obj).httpPutResponseHopLimit, 1);
        const [group] = ofType(run.resources, ASG);
        assert.deepEqual(
            [group.name, group.inputs.vpcZoneIdentifiers, group.inputs.minSize, group.inputs.maxSize],
            ["keelson-dev-general", ["subnet-private-a"], 1, 1],
        );
        assert.deepEqual(
            ofType(run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.name),
            [
                "keelson-dev-master-AmazonEC2ContainerRegistryReadOnly",
                "keelson-dev-worker-AmazonEC2ContainerRegistryReadOnly",
            ],
        );
        const [eip] = ofType(run.resources, "aws:ec2/eip:Eip");
        assert.equal(eip.name, "keelson-dev-master-0");
        const [assoc] = ofType(run.resources, "aws:ec2/eipAssociation:EipAssociation");
        assert.equal(assoc.inputs.instanceId, `i-${stableHex("keelson-dev-master-0")}`);
        const [record] = ofType(run.resources, "aws:route53/record:Record");
        assert.deepEqual(
            [record.inputs.name, record.inputs.type, record.inputs.records],
            ["api.keelson-dev.internal", "A", [(run.outputs.masterIps as string[])[0]]],
        );
        assert.match(String(run.outputs.endpoint), /^https:\/\/203\.0\.113\.\d+:6443$/);
        const init = YAML.parseAllDocuments(
            run.artifacts.find((a) => a.path === "kubeadm/init.yaml")!.content,
        ).map((d) => d.toJS());
        assert.deepEqual(init[0].nodeRegistration.taints, []);
        assert.deepEqual(init[1].apiServer.certSANs, [
            "api.keelson-dev.internal",
            String(run.outputs.endpoint).replace(/^https:\/\/|:6443$/g, ""),
            "localhost",
            "127.0.0.1",
        ]);
    });
});

describe("cluster/Cluster (mocked, 3 masters behind HAProxy hosts)", function () {
    this.timeout(120000);
    it("runs two HAProxy hosts in public subnets over the three masters' private IPs", async () => {
        const run = await runCluster(prodClusterConfig({ endpoint: "haproxy" }), "prod");
        assert.deepEqual(
            run.resources.filter((r) => r.type.startsWith("aws:lb/")),
            [],
        );
        const hosts = ofType(run.resources, INSTANCE).filter((r) => r.name.includes("api-lb"));
        assert.deepEqual(
            hosts.map((h) => [
                h.name,
                h.inputs.subnetId,
                h.inputs.vpcSecurityGroupIds,
                h.inputs.userDataReplaceOnChange,
            ]),
            [
                ["keelson-prod-api-lb-0", "subnet-public-a", ["sg-apilb"], true],
                ["keelson-prod-api-lb-1", "subnet-public-b", ["sg-apilb"], true],
            ],
        );
        const ips = run.outputs.masterIps as string[];
        const expected = renderApiHaproxyConfig({
            backends: ips.map((address, i) => ({ name: `master-${i}`, address })),
        });
        assert.equal(run.artifacts.find((a) => a.path === "haproxy/api.cfg")?.content, expected);
        const written = YAML.parse(userData(hosts[0])).write_files.find(
            (f: Obj) => f.path === "/etc/haproxy/haproxy.cfg",
        );
        assert.equal(written.content, expected);
        for (const h of hosts) {
            assert.deepEqual(h.inputs.metadataOptions, {
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 1,
                instanceMetadataTags: "disabled",
            });
            assert.deepEqual(h.inputs.rootBlockDevice, {
                volumeType: "gp3",
                volumeSize: 20,
                encrypted: true,
                deleteOnTermination: true,
            });
        }
        const [record] = ofType(run.resources, "aws:route53/record:Record");
        assert.equal(record.inputs.name, "api.keelson-prod.internal");
        assert.equal((record.inputs.records as string[]).length, 2);
        assert.deepEqual(
            ofType(run.resources, "aws:ec2/eip:Eip").map((e) => e.name),
            ["keelson-prod-api-lb-0", "keelson-prod-api-lb-1"],
        );
    });
});
