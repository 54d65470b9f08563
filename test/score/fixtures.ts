// Hand-built plan graphs for the score, cost, policy and plan-rendering tests: a well-built prod
// stage (every rule satisfied) and helpers to derive broken variants from it.
import { PlanResource } from "../../tools/plan/types";

/** Builds a URN the way the engine does: parent type chain, then the resource's type and name. */
export function urnOf(stack: string, types: string[], name: string): string {
    return `urn:pulumi:${stack}::keelson::${types.join("$")}::${name}`;
}

/** One resource; `chain` is the parents' type tokens, outermost first. */
export function res(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    opts: { chain?: string[]; parent?: string; dependencies?: string[]; stack?: string } = {},
): PlanResource {
    const chain = opts.chain ?? [];
    return {
        urn: urnOf(opts.stack ?? "prod", [...chain, type], name),
        type,
        name,
        parent: opts.parent,
        dependencies: opts.dependencies ?? [],
        inputs,
        custom: !type.startsWith("keelson:"),
    };
}

const CLUSTER = "keelson:cluster:Cluster";
const CP = [CLUSTER, "keelson:cluster:ControlPlane"];
const POOL = [CLUSTER, "keelson:cluster:WorkerPool"];
const EDGE = ["keelson:edge:Edge"];
const NET = ["keelson:network:Network"];
const ADDONS = ["keelson:addons:Addons"];
const APP = ["keelson:app:Application"];

/** An instance with Keelson's secure defaults. */
export function instance(
    name: string,
    type: string,
    subnet: string,
    chain: string[],
    extra: Record<string, unknown> = {},
): PlanResource {
    return res(
        "aws:ec2/instance:Instance",
        name,
        {
            instanceType: type,
            subnetId: subnet,
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
            rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 50 },
            userData:
                "#cloud-config\nruncmd:\n  - [sh, -c, 'aws ssm get-parameter --with-decryption --name /keelson/prod/join']\n",
            ...extra,
        },
        { chain },
    );
}

/** The restricted container security context Keelson applies. */
export const RESTRICTED = {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** A well-formed container. */
export function container(
    name: string,
    image: string,
    cpu = "250m",
    memory = "256Mi",
): Record<string, unknown> {
    return {
        name,
        image,
        resources: { requests: { cpu, memory }, limits: { cpu: "1", memory } },
        readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: "/healthz", port: 8080 }, periodSeconds: 10, failureThreshold: 6 },
        securityContext: RESTRICTED,
    };
}

/** A workload manifest's inputs. */
export function workload(
    kind: "Deployment" | "StatefulSet" | "DaemonSet",
    name: string,
    namespace: string,
    containers: Record<string, unknown>[],
    spec: Record<string, unknown> = {},
    podSpec: Record<string, unknown> = {},
): Record<string, unknown> {
    const labels = { app: name };
    return {
        apiVersion: "apps/v1",
        kind,
        metadata: { name, namespace },
        spec: {
            selector: { matchLabels: labels },
            ...spec,
            template: {
                metadata: { labels },
                spec: {
                    containers,
                    topologySpreadConstraints: [
                        {
                            maxSkew: 1,
                            topologyKey: "topology.kubernetes.io/zone",
                            whenUnsatisfiable: "ScheduleAnyway",
                            labelSelector: { matchLabels: labels },
                        },
                    ],
                    ...podSpec,
                },
            },
        },
    };
}

const k8s = (kind: string) =>
    ({
        Deployment: "kubernetes:apps/v1:Deployment",
        StatefulSet: "kubernetes:apps/v1:StatefulSet",
        DaemonSet: "kubernetes:apps/v1:DaemonSet",
    })[kind] as string;

/** A PlanResource for a workload manifest. */
export function workloadRes(inputs: Record<string, unknown>, chain: string[] = APP): PlanResource {
    const meta = inputs.metadata as { name: string };
    return res(k8s(inputs.kind as string), meta.name, inputs, { chain });
}

/** A well-built prod stage: 3 masters and 3 workers in 3 AZs, NAT per AZ, 2 edge hosts, a replicated app. */
export function prodGraph(): PlanResource[] {
    const zones = ["a", "b", "c"];
    const out: PlanResource[] = [
        res(CLUSTER, "keelson-prod", {}),
        res(CP[1], "keelson-prod-cp", {}, { chain: [CLUSTER] }),
    ];
    zones.forEach((z, i) =>
        out.push(instance(`keelson-prod-master-${i}`, "t3.medium", `subnet-private-${z}`, CP)),
    );
    out.push(res(POOL[1], "general", {}, { chain: [CLUSTER] }));
    zones.forEach((z, i) => out.push(instance(`general-${i}`, "t3.xlarge", `subnet-private-${z}`, POOL)));
    zones.forEach((z) => {
        out.push(
            res(
                "aws:ec2/subnet:Subnet",
                `public-${z}`,
                { mapPublicIpOnLaunch: true, availabilityZone: `us-east-1${z}` },
                { chain: NET },
            ),
        );
        out.push(
            res(
                "aws:ec2/subnet:Subnet",
                `private-${z}`,
                { mapPublicIpOnLaunch: false, availabilityZone: `us-east-1${z}` },
                { chain: NET },
            ),
        );
        out.push(
            res(
                "aws:ec2/natGateway:NatGateway",
                `nat-${z}`,
                { subnetId: `subnet-public-${z}` },
                { chain: NET },
            ),
        );
    });
    const edgeHosts = ["a", "b"].map((z, i) =>
        instance(`edge-${i}`, "t3.small", `subnet-public-${z}`, EDGE, {
            rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 20 },
        }),
    );
    out.push(...edgeHosts);
    edgeHosts.forEach((h, i) =>
        out.push(
            res(
                "aws:ec2/eip:Eip",
                `edge-${i}-eip`,
                { domain: "vpc", instance: `i-${i}` },
                { chain: EDGE, dependencies: [h.urn] },
            ),
        ),
    );
    const rule = (name: string, inputs: Record<string, unknown>) =>
        res(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            name,
            { ipProtocol: "tcp", ...inputs },
            { chain: NET },
        );
    out.push(
        rule("edge-https", {
            cidrIpv4: "0.0.0.0/0",
            fromPort: 443,
            toPort: 443,
            description: "HTTPS from the internet",
        }),
        rule("edge-http", {
            cidrIpv4: "0.0.0.0/0",
            fromPort: 80,
            toPort: 80,
            description: "HTTP redirect from the internet",
        }),
        rule("api-from-vpc", {
            cidrIpv4: "10.0.0.0/16",
            fromPort: 6443,
            toPort: 6443,
            description: "Kubernetes API from the VPC",
        }),
        rule("nodeports-from-edge", {
            referencedSecurityGroupId: "sg-edge",
            fromPort: 30000,
            toPort: 32767,
            description: "NodePorts from the edge",
        }),
    );
    out.push(
        res(
            "aws:lb/loadBalancer:LoadBalancer",
            "api",
            { loadBalancerType: "network", internal: true },
            { chain: [CLUSTER] },
        ),
    );
    out.push(
        res("aws:lb/listener:Listener", "api-6443", { port: 6443, protocol: "TCP" }, { chain: [CLUSTER] }),
    );
    const bucket = res("aws:s3/bucket:Bucket", "etcd-backups", { forceDestroy: false }, { chain: ADDONS });
    out.push(bucket);
    out.push(
        res(
            "aws:s3/bucketVersioning:BucketVersioning",
            "etcd-backups-versioning",
            { versioningConfiguration: { status: "Enabled" } },
            { chain: ADDONS, dependencies: [bucket.urn] },
        ),
    );
    out.push(
        res(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "etcd-backups-lifecycle",
            { rules: [{ id: "expire", status: "Enabled" }] },
            { chain: ADDONS, dependencies: [bucket.urn] },
        ),
    );
    out.push(
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "etcd-backups-sse",
            { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] },
            { chain: ADDONS, dependencies: [bucket.urn] },
        ),
    );
    out.push(
        res(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "etcd-backups-pab",
            {
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            },
            { chain: ADDONS, dependencies: [bucket.urn] },
        ),
    );
    out.push(
        res(
            "kubernetes:storage.k8s.io/v1:StorageClass",
            "gp3-encrypted",
            {
                metadata: {
                    name: "gp3-encrypted",
                    annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
                },
                provisioner: "ebs.csi.aws.com",
                parameters: { type: "gp3", encrypted: "true" },
            },
            { chain: ADDONS },
        ),
    );
    const fluent = workload(
        "DaemonSet",
        "fluent-bit",
        "kube-system",
        [container("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:3.2.4", "100m", "128Mi")],
        {},
        {
            volumes: [{ name: "varlog", hostPath: { path: "/var/log" } }],
        },
    );
    out.push(workloadRes(fluent, ADDONS));
    out.push(
        workloadRes(
            workload(
                "Deployment",
                "metrics-server",
                "kube-system",
                [
                    container(
                        "metrics-server",
                        "registry.k8s.io/metrics-server/metrics-server:v0.7.2",
                        "100m",
                        "200Mi",
                    ),
                ],
                { replicas: 2 },
            ),
            ADDONS,
        ),
    );
    out.push(
        res(
            "kubernetes:policy/v1:PodDisruptionBudget",
            "metrics-server-pdb",
            {
                metadata: { name: "metrics-server", namespace: "kube-system" },
                spec: { maxUnavailable: 1, selector: { matchLabels: { app: "metrics-server" } } },
            },
            { chain: ADDONS },
        ),
    );
    out.push(res("kubernetes:core/v1:Namespace", "app", { metadata: { name: "app" } }, { chain: APP }));
    out.push(
        workloadRes(
            workload(
                "Deployment",
                "web",
                "app",
                [container("web", "ghcr.io/example/web:1.4.2", "500m", "512Mi")],
                { replicas: 3 },
            ),
        ),
    );
    out.push(
        workloadRes(
            workload(
                "Deployment",
                "worker",
                "app",
                [container("worker", "ghcr.io/example/worker:1.4.2", "250m", "256Mi")],
                { replicas: 2 },
            ),
        ),
    );
    for (const n of ["web", "worker"]) {
        out.push(
            res(
                "kubernetes:policy/v1:PodDisruptionBudget",
                `${n}-pdb`,
                {
                    metadata: { name: n, namespace: "app" },
                    spec: { maxUnavailable: 1, selector: { matchLabels: { app: n } } },
                },
                { chain: APP },
            ),
        );
    }
    const pg = workload(
        "StatefulSet",
        "postgres",
        "app",
        [container("postgres", "postgres:17.2", "500m", "1Gi")],
        {
            replicas: 1,
            serviceName: "postgres",
            volumeClaimTemplates: [
                {
                    metadata: { name: "data" },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        storageClassName: "gp3-encrypted",
                        resources: { requests: { storage: "100Gi" } },
                    },
                },
            ],
        },
    );
    out.push(workloadRes(pg));
    out.push(
        res(
            "kubernetes:batch/v1:CronJob",
            "postgres-backup",
            {
                metadata: { name: "postgres-backup", namespace: "app" },
                spec: {
                    schedule: "0 * * * *",
                    jobTemplate: {
                        spec: {
                            template: {
                                metadata: { labels: { app: "postgres-backup" } },
                                spec: {
                                    restartPolicy: "OnFailure",
                                    securityContext: {
                                        runAsNonRoot: true,
                                        seccompProfile: { type: "RuntimeDefault" },
                                    },
                                    containers: [
                                        {
                                            ...container("backup", "postgres:17.2", "100m", "128Mi"),
                                            readinessProbe: undefined,
                                            livenessProbe: undefined,
                                            env: [
                                                {
                                                    name: "PGPASSWORD",
                                                    valueFrom: {
                                                        secretKeyRef: { name: "postgres", key: "password" },
                                                    },
                                                },
                                            ],
                                        },
                                    ],
                                },
                            },
                        },
                    },
                },
            },
            { chain: APP },
        ),
    );
    out.push(
        res(
            "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "default-deny",
            {
                metadata: { name: "default-deny", namespace: "app" },
                spec: { podSelector: {}, policyTypes: ["Ingress"] },
            },
            { chain: APP },
        ),
    );
    return out;
}

/** A copy of a graph with the named resource's inputs replaced by `edit(inputs)`. */
export function edit(
    graph: PlanResource[],
    name: string,
    change: (inputs: Record<string, unknown>) => Record<string, unknown>,
): PlanResource[] {
    let found = false;
    const out = graph.map((r) => {
        if (r.name !== name) return r;
        found = true;
        return { ...r, inputs: change(structuredClone(r.inputs)) };
    });
    if (!found) throw new Error(`fixture has no resource named ${name}`);
    return out;
}

/** A copy of a graph without the named resources. */
export function without(graph: PlanResource[], ...names: string[]): PlanResource[] {
    return graph.filter((r) => !names.includes(r.name));
}
