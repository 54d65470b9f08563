// The Kubernetes cluster on EC2: PKI and join secrets first, then every master and worker in parallel
// (kubeadm through cloud-init), the API endpoint, the readiness gate and a Kubernetes provider.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Artifacts, ArtifactSet } from "../artifact-set";
import { API_PORT, attachEndpoint, createEndpointFront } from "./endpoint";
import { createNodeIdentity, MANAGED_POLICIES } from "./iam";
import { renderKubeconfig } from "./kubeconfig";
import { architectureOf, DebianArchitecture, debianAmi } from "../ec2/debian";
import { compressUserData } from "../ec2/user-data";
import { createMasters, mastersHeal } from "./masters";
import { MasterSlot } from "./MasterSlot";
import { WorkerPool } from "./WorkerPool";
import { spotProblems } from "./spot";
import { createClusterPki } from "./pki";
import { ClusterReady } from "./readiness";
import { NodeEnvironment, planNodes, renderNode } from "./render/layout";
import { ssmPrefix } from "./render/ssm-layout";
import { createClusterSecrets } from "./secrets";
import { ServiceAccountIssuer } from "./ServiceAccountIssuer";
import { clusterTag } from "./render/cloud-controller";
import { WebIdentityIssuer } from "./irsa";
import { masterSlots } from "./render/bootstrap-masters";
import { createClusterState, createStatePolicy } from "./state";
import { createUpgradeSteps } from "./upgrade";
import { createJoinGatePolicy, createJoinHook } from "./join-gate";
import { renderUpgradeScript, upgradeScriptTimeouts } from "./render/upgrade";
import { POOL_LABEL } from "./render/kubeadm";
import {
    ClusterArgs,
    ClusterSpec,
    ClusterWorker,
    CniName,
    resolveClusterSpec,
    upgradeTimeoutProblems,
} from "./types";

/**
 * An HA kubeadm cluster on EC2 (`keelson:cluster:Cluster`). Masters sit in the private subnets, one
 * per AZ round-robin (master 0 of a `single`-endpoint dev cluster in a public subnet with an Elastic
 * IP, since that master is the endpoint); each worker pool is an Auto Scaling Group on a launch
 * template over the private subnets ({@link WorkerPool}). Secrets reach the nodes
 * only through SSM SecureStrings. `provider` waits for `ready`, which waits for `/readyz`.
 */
export class Cluster extends pulumi.ComponentResource {
    /** Kubernetes provider built from the endpoint, the CA and the admin certificate; depends on `ready`. */
    readonly provider: k8s.Provider;
    /** Admin kubeconfig (secret). */
    readonly kubeconfig: pulumi.Output<string>;
    /** `https://<internet-facing host>:6443`. */
    readonly endpoint: pulumi.Output<string>;
    /** `https://api.<cluster>.internal:6443`, what the nodes use. */
    readonly internalEndpoint: string;
    /** Cluster CA certificate (PEM). */
    readonly caCertPem: pulumi.Output<string>;
    /** Masters that are plain instances: a single master, or masters behind HAProxy hosts (else none). */
    readonly masters: aws.ec2.Instance[];
    /** Self-healing master slots, one Auto Scaling Group of one per slot (3+ masters behind the NLB; else none). */
    readonly masterSlots: MasterSlot[];
    /** One Auto Scaling Group per worker pool (see ./WorkerPool.ts). */
    readonly workers: ClusterWorker[];
    /** Role of the workers (and of nothing else). */
    readonly nodeRole: aws.iam.Role;
    /** Role of the masters; the etcd-backup add-on attaches its S3 policy here. */
    readonly masterRole: aws.iam.Role;
    /** The self-hosted OIDC issuer of the service-account tokens, for IRSA roles (see ./irsa.ts). */
    readonly serviceAccountIssuer: ServiceAccountIssuer;
    /** The issuer and its OIDC provider's ARN: what {@link createServiceAccountRole} roles trust. */
    readonly webIdentity: WebIdentityIssuer;
    /** The readiness gate. */
    readonly ready: ClusterReady;
    /**
     * The control plane's last upgrade step (./upgrade.ts): what must not move to a new version before every
     * master runs it (the pools' launch templates, the cloud controller).
     */
    readonly upgraded: pulumi.Resource;
    /** `/keelson/<stage>/<cluster>`. */
    readonly ssmPrefix: string;
    readonly clusterName: string;
    readonly cni: CniName;
    /** The cluster's shape with every default applied. */
    readonly spec: ClusterSpec;
    /** The NLB when `endpoint` is `nlb`. */
    readonly apiLoadBalancer?: aws.lb.LoadBalancer;
    /** HAProxy hosts when `endpoint` is `haproxy`. */
    readonly apiLoadBalancerHosts: aws.ec2.Instance[];
    /**
     * What this component rendered, by path under the plan's output folder (`user-data/<node>.yaml`, `kubeadm/*.yaml`,
     * `haproxy/api.cfg`). Also
     * registered as the component's `artifacts` output.
     */
    readonly artifacts: Artifacts;

    constructor(name: string, args: ClusterArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const region = args.region ?? defaultRegion();
        const cfg = resolveClusterSpec(name, args);
        // Refused before anything is registered (the stage config reports the same problems earlier).
        const problems = [
            ...cfg.workerPools.flatMap((p, i) =>
                p.spot ? spotProblems(`workerPools[${i}].spot`, p.instanceType, p.spot, p.maxSize) : [],
            ),
            ...upgradeTimeoutProblems("upgrade", cfg.upgrade),
        ];
        if (problems.length > 0)
            throw new Error(
                `Cluster ${name}: ${problems.map((p) => `${p.key}: ${JSON.stringify(p.value)} ${p.fix}`).join("\n")}`,
            );
        super("keelson:cluster:Cluster", name, {}, opts);
        const artifacts = new ArtifactSet();
        const stage = args.stage ?? pulumi.getStack();
        const net = args.network;
        const tags = { ...args.tags, "keelson:cluster": cfg.name };
        this.spec = cfg;
        this.clusterName = cfg.name;
        this.cni = args.cni ?? "calico";
        this.ssmPrefix = ssmPrefix(stage, cfg.name);

        const pki = createClusterPki(name, cfg.kubernetesVersion, this);
        const secrets = createClusterSecrets(name, this.ssmPrefix, pki, tags, this);
        this.serviceAccountIssuer = new ServiceAccountIssuer(
            `${name}-oidc`,
            { publicKeyPem: pki.serviceAccountKey.publicKeyPem, region, tags },
            { parent: this },
        );
        const sa = this.serviceAccountIssuer;
        this.webIdentity = { issuer: sa.issuer, providerArn: sa.provider.arn };
        const state = createClusterState(name, this.ssmPrefix, cfg.masters, tags, this);
        const masterId = createNodeIdentity(
            `${name}-master`,
            {
                region,
                parameterArns: [...secrets.joinParameterArns, ...secrets.controlPlaneParameterArns],
                // The marker and the slot records (String parameters: no key involved).
                plainParameterArns: [state.stateArnPattern],
                kmsKeyArn: secrets.kmsKey.arn,
                // Nothing for workloads: pods cannot reach this role (IMDS hop limit 1), which can
                // read the CA keys; add-ons that call AWS use IRSA roles. ECR read: built images of
                // pods on shared masters (the kubelet pulls with the node's role).
                managedPolicies: [MANAGED_POLICIES.ecrRead],
                tags,
            },
            this,
        );
        const workerId = createNodeIdentity(
            `${name}-worker`,
            {
                region,
                parameterArns: secrets.joinParameterArns,
                deniedParameterArns: secrets.controlPlaneParameterArns,
                kmsKeyArn: secrets.kmsKey.arn,
                managedPolicies: [MANAGED_POLICIES.ecrRead],
                tags,
            },
            this,
        );
        this.masterRole = masterId.role;
        this.nodeRole = workerId.role;
        const stateAccess = {
            region,
            state,
            tokenArn: secrets.parameters["bootstrap-token"].arn,
            kmsKeyArn: secrets.kmsKey.arn,
        };
        const statePolicies = [
            createStatePolicy(`${name}-master`, masterId.role, "master", stateAccess, this),
            createStatePolicy(`${name}-worker`, workerId.role, "worker", stateAccess, this),
        ];

        const front = createEndpointFront(
            name,
            {
                kind: cfg.endpoint,
                clusterName: cfg.name,
                vpcId: net.vpcId,
                publicSubnetIds: net.publicSubnetIds,
                privateSubnetIds: net.privateSubnetIds,
                apiLbSecurityGroupId: net.securityGroups.apiLb.id,
                apiLoadBalancers: cfg.apiLoadBalancers,
                tags,
            },
            this,
        );
        this.apiLoadBalancer = front.loadBalancer;
        this.internalEndpoint = `https://${front.internalHost}:${API_PORT}`;

        const env: pulumi.Output<NodeEnvironment> = pulumi
            .all([pki.caCertHash, front.externalSans, secrets.kmsKey.arn, sa.issuer, sa.jwksUri])
            .apply(([caCertHash, externalSans, kmsKeyArn, issuer, jwksUri]) => ({
                clusterName: cfg.name,
                kubernetesVersion: cfg.kubernetesVersion,
                endpointHost: front.internalHost,
                endpointPort: API_PORT,
                extraSans: externalSans,
                podCidr: cfg.podCidr,
                serviceCidr: cfg.serviceCidr,
                caCertHash,
                region,
                ssmPrefix: this.ssmPrefix,
                kmsKeyArn,
                masterCount: cfg.masters,
                serviceAccountIssuer: { issuer, jwksUri },
            }));
        // One lookup per architecture the nodes need (Graviton types boot the arm64 image).
        const amis = new Map<DebianArchitecture, pulumi.Output<string>>();
        const amiFor = (instanceType: string) => {
            const arch = architectureOf(instanceType);
            if (!amis.has(arch)) amis.set(arch, debianAmi(this, arch));
            return amis.get(arch)!;
        };
        const bootDeps = [
            ...Object.values(secrets.parameters),
            masterId.parameterPolicy,
            workerId.parameterPolicy,
            state.marker,
            ...state.slots,
            ...statePolicies,
        ];
        const nodes = planNodes(cfg, net.availabilityZones, region);
        const rendered = new Map(
            nodes.map((node) => {
                const r = env.apply((e) => renderNode(node, e));
                artifacts.add(
                    `user-data/${node.name}.yaml`,
                    r.apply((x) => x.userData),
                );
                return [node.name, r] as const;
            }),
        );
        const masterNodes = nodes.filter((n) => n.role === "master");
        const first = rendered.get("master-0")!;
        artifacts.add(
            "kubeadm/init.yaml",
            first.apply((r) => r.kubeadmInit ?? ""),
        );
        artifacts.add(
            "kubeadm/control-plane-join.yaml",
            first.apply((r) => r.kubeadmJoin),
        );
        const masters = createMasters(
            name,
            {
                clusterName: cfg.name,
                heal: mastersHeal(cfg.masters, cfg.endpoint),
                placements: masterNodes.map((node) => ({
                    slot: node.name,
                    instanceType: node.instanceType,
                    ami: amiFor(node.instanceType),
                    subnetId: node.publicMaster ? net.publicSubnetIds[0] : net.privateSubnetIds[node.azIndex],
                    userDataBase64: rendered.get(node.name)!.apply((r) => compressUserData(r.userData)),
                    rootVolumeGb: node.rootVolumeGb,
                    publicIp: node.publicMaster,
                })),
                securityGroupIds: [net.securityGroups.masters.id],
                instanceProfileName: masterId.profile.name,
                front,
                tags: { ...tags, ...clusterTag(cfg.name) },
                dependsOn: bootDeps,
            },
            this,
        );
        this.masters = masters.instances;
        this.masterSlots = masters.slots;
        // Masters upgrade in place, one at a time; the pools' templates (the new kubelet) only after them.
        const upgrade = createUpgradeSteps(
            name,
            {
                clusterName: cfg.name,
                kubernetesVersion: cfg.kubernetesVersion,
                region,
                ssmPrefix: this.ssmPrefix,
                masters: masters.bySlot,
                timeouts: cfg.upgrade,
                tags,
            },
            this,
        );
        this.upgraded = upgrade.done;
        const joinPolicy = createJoinGatePolicy(`${name}-worker`, cfg.name, workerId.role, this);
        artifacts.add(
            "upgrade/keelson-upgrade.sh",
            renderUpgradeScript({
                region,
                ssmPrefix: this.ssmPrefix,
                masters: cfg.masters,
                ...upgradeScriptTimeouts(cfg.upgrade),
            }),
        );
        this.workers = cfg.workerPools.map((p) => {
            const r = rendered.get(p.name)!;
            artifacts.add(
                `kubeadm/worker-${p.name}.yaml`,
                r.apply((x) => x.kubeadmJoin),
            );
            const pool = new WorkerPool(
                `${name}-${p.name}`,
                {
                    pool: p.name,
                    ami: amiFor(p.instanceType),
                    instanceType: p.instanceType,
                    minSize: p.minSize,
                    maxSize: p.maxSize,
                    desiredCapacity: p.count,
                    rootVolumeGb: p.rootVolumeGb,
                    userDataBase64: r.apply((x) => compressUserData(x.userData)),
                    subnetIds: net.privateSubnetIds,
                    securityGroupIds: [net.securityGroups.workers.id],
                    instanceProfileName: workerId.profile.name,
                    // No pod reaches the worker role: add-ons that call AWS have roles of their own (IRSA).
                    metadataHopLimit: 1,
                    tags: { ...tags, ...clusterTag(cfg.name) },
                    dependsOn: [...bootDeps, joinPolicy, upgrade.done],
                    ...(p.spot ? { spot: p.spot } : {}),
                    ...(args.clusterAutoscaler
                        ? {
                              autoscaler: {
                                  clusterName: cfg.name,
                                  nodes: { labels: { [POOL_LABEL]: p.name, ...p.labels }, taints: p.taints },
                              },
                          }
                        : {}),
                },
                { parent: this },
            );
            createJoinHook(`${name}-${p.name}`, pool.group, pool.launchTemplate, this);
            return {
                pool: p.name,
                groupName: pool.group.name,
                group: pool.group,
                launchTemplate: pool.launchTemplate,
            };
        });

        const lbId =
            cfg.endpoint === "haproxy"
                ? createNodeIdentity(
                      `${name}-api-lb`,
                      {
                          region,
                          parameterArns: [],
                          managedPolicies: [],
                          tags,
                      },
                      this,
                  )
                : undefined;
        const back = attachEndpoint(
            name,
            front,
            {
                masters: masters.endpointMasters,
                region,
                haproxy: lbId && {
                    ami: amiFor("t3.small"),
                    instanceType: "t3.small",
                    publicSubnetIds: net.publicSubnetIds,
                    securityGroupId: net.securityGroups.apiLb.id,
                    instanceProfile: lbId.profile.name,
                },
                tags,
            },
            this,
        );
        this.apiLoadBalancerHosts = back.haproxyHosts;
        artifacts.addAll(back.artifacts);
        this.artifacts = artifacts.files;

        this.endpoint = pulumi.interpolate`https://${front.externalHost}:${API_PORT}`;
        this.caCertPem = pki.ca.cert.certPem;
        this.ready = new ClusterReady(
            `${name}-ready`,
            {
                url: this.endpoint,
                caCertPem: pki.ca.cert.certPem,
                clientCertPem: pki.adminCert.certPem,
                clientKeyPem: pki.adminKey.privateKeyPem,
                attempts: args.readiness?.attempts,
                intervalMs: args.readiness?.intervalMs,
                // "Ready" means every master is an etcd member and every pool has its nodes.
                expectedMasters: masterSlots(cfg.masters),
                expectedPools: Object.fromEntries(cfg.workerPools.map((p) => [p.name, p.count])),
            },
            {
                parent: this,
                dependsOn: [...masters.bySlot, back.record, ...back.attachments, ...back.haproxyHosts],
            },
        );
        this.kubeconfig = pulumi.secret(
            pulumi
                .all([this.endpoint, pki.ca.cert.certPem, pki.adminCert.certPem, pki.adminKey.privateKeyPem])
                .apply(([server, caCertPem, clientCertPem, clientKeyPem]) =>
                    renderKubeconfig({
                        clusterName: cfg.name,
                        server,
                        caCertPem,
                        clientCertPem,
                        clientKeyPem,
                    }),
                ),
        );
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig },
            { parent: this, dependsOn: [this.ready] },
        );

        this.registerOutputs({
            artifacts: this.artifacts,
            endpoint: this.endpoint,
            internalEndpoint: this.internalEndpoint,
            kubeconfig: this.kubeconfig,
            caCertPem: this.caCertPem,
            masterPrivateIps: this.masters.map((m) => m.privateIp),
            workerGroups: this.workers.map((w) => w.groupName),
        });
    }
}

/** The `aws:region` config, which the AWS provider uses too; a clear error when it is not set. */
function defaultRegion(): string {
    const region = aws.config.region;
    if (!region) {
        throw new Error(
            "Cluster: region is not given and aws:region is not set; pass region or set aws:region",
        );
    }
    return region;
}
