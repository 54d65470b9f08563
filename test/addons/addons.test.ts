import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { parse } from "yaml";
import { Addons, AddonsArgs, AddonsError } from "../../components/addons/Addons";
import { addonsConfigArgs } from "../../components/config";
import { AddonsConfig } from "../../components/config/types";
import { physicalName } from "../../tools/plan/mock-names";
import { RecordedResource, runUnderMocks } from "../../tools/plan/runtime";
import { validateManifest } from "../app/support/schema";

const all: AddonsConfig = {
    cni: "calico",
    metricsServer: true,
    logging: true,
    nodeMetrics: true,
    etcdBackups: true,
    clusterAutoscaler: false,
};

const ISSUER = "https://keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com";
const PROVIDER =
    "arn:aws:iam::123456789012:oidc-provider/keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com";
const HOST = "keelson-prod-oidc-1a2b3c4.s3.eu-west-1.amazonaws.com";

async function plan(config: AddonsConfig) {
    return runUnderMocks({ config: { "aws:region": "eu-west-1" } }, () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
        const gate = new random.RandomId("gate", { byteLength: 4 });
        const args: AddonsArgs = {
            ...addonsConfigArgs(config),
            provider,
            clusterName: "keelson-prod",
            region: "eu-west-1",
            vpcCidr: "10.30.0.0/16",
            podCidr: "192.168.0.0/16",
            webIdentity: { issuer: ISSUER, providerArn: PROVIDER },
            dependsOn: [gate],
        };
        new Addons("addons", args);
        return {};
    });
}

const get = (rs: RecordedResource[], name: string) => {
    const r = rs.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}`);
    return r;
};

describe("addons/Addons (mocked)", () => {
    let run: Awaited<ReturnType<typeof plan>>;
    before(async () => {
        run = await plan(all);
    });

    it("registers exactly these children", () => {
        const parent = get(run.resources, "addons").urn;
        assert.deepEqual(
            run.resources
                .filter((r) => r.parent === parent)
                .map((r) => `${r.type} ${r.name}`)
                .sort(),
            [
                "aws:iam/role:Role addons-ebs-csi-role",
                "aws:iam/role:Role addons-etcd-backup-role",
                "aws:iam/role:Role addons-fluent-bit-role",
                "aws:iam/rolePolicy:RolePolicy addons-etcd-backup-role",
                "aws:iam/rolePolicy:RolePolicy addons-fluent-bit-role",
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment addons-ebs-csi-role-AmazonEBSCSIDriverPolicy",
                "aws:s3/bucket:Bucket addons-etcd-backups",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration addons-etcd-backups-lifecycle",
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls addons-etcd-backups-ownership",
                "aws:s3/bucketPolicy:BucketPolicy addons-etcd-backups-tls-only",
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock addons-etcd-backups-public-access",
                "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration addons-etcd-backups-sse",
                "aws:s3/bucketVersioning:BucketVersioning addons-etcd-backups-versioning",
                "kubernetes:batch/v1:CronJob addons-etcd-backup",
                "kubernetes:core/v1:Namespace addons-ns-logging",
                "kubernetes:core/v1:Namespace addons-ns-monitoring",
                "kubernetes:core/v1:Namespace addons-ns-tigera-operator",
                "kubernetes:core/v1:ServiceAccount addons-etcd-backup",
                "kubernetes:helm.sh/v4:Chart addons-calico",
                "kubernetes:helm.sh/v4:Chart addons-csr-approver",
                "kubernetes:helm.sh/v4:Chart addons-ebs-csi",
                "kubernetes:helm.sh/v4:Chart addons-fluent-bit",
                "kubernetes:helm.sh/v4:Chart addons-metrics-server",
                "kubernetes:helm.sh/v4:Chart addons-node-exporter",
                "kubernetes:storage.k8s.io/v1:StorageClass addons-storage-class",
            ],
        );
    });

    it("installs charts from pinned upstream repositories, CNI after the gate and everything else after the CNI", () => {
        const cni = get(run.resources, "addons-calico");
        assert.deepEqual(
            {
                chart: cni.inputs.chart,
                version: cni.inputs.version,
                repo: cni.inputs.repositoryOpts,
                ns: cni.inputs.namespace,
            },
            {
                chart: "tigera-operator",
                version: "v3.30.3",
                repo: { repo: "https://docs.tigera.io/calico/charts" },
                ns: "tigera-operator",
            },
        );
        assert.ok(cni.dependencies.includes(get(run.resources, "gate").urn));
        for (const name of [
            "addons-ebs-csi",
            "addons-metrics-server",
            "addons-fluent-bit",
            "addons-node-exporter",
        ]) {
            assert.ok(get(run.resources, name).dependencies.includes(cni.urn), `${name} waits for the CNI`);
        }
        assert.ok(
            get(run.resources, "addons-storage-class").dependencies.includes(
                get(run.resources, "addons-ebs-csi").urn,
            ),
        );
        assert.equal(
            (get(run.resources, "addons-ns-logging").inputs.metadata as { labels: Record<string, string> })
                .labels["pod-security.kubernetes.io/enforce"],
            "privileged",
        );
    });

    it("gives the EBS CSI controller, fluent-bit and the etcd backup each a role only their service account can assume", () => {
        const trust = (ns: string, sa: string) => ({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "ServiceAccount",
                    Effect: "Allow",
                    Principal: { Federated: PROVIDER },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: {
                            [`${HOST}:sub`]: `system:serviceaccount:${ns}:${sa}`,
                            [`${HOST}:aud`]: "sts.amazonaws.com",
                        },
                    },
                },
            ],
        });
        const role = (n: string) => JSON.parse(String(get(run.resources, n).inputs.assumeRolePolicy));
        assert.deepEqual(role("addons-ebs-csi-role"), trust("kube-system", "ebs-csi-controller-sa"));
        assert.deepEqual(role("addons-fluent-bit-role"), trust("logging", "fluent-bit"));
        assert.deepEqual(role("addons-etcd-backup-role"), trust("kube-system", "etcd-backup"));
        const ebs = get(run.resources, "addons-ebs-csi-role-AmazonEBSCSIDriverPolicy").inputs;
        assert.match(String(ebs.role), /^addons-ebs-csi-role-[0-9a-f]{7}$/);
        assert.equal(ebs.policyArn, "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy");
        // The bucket's name is the provider's autoname, derived from its URN by the mock engine.
        const bucket = get(run.resources, "addons-etcd-backups");
        assert.equal(bucket.inputs.forceDestroy, false);
        const arn = `arn:aws:s3:::${physicalName(bucket.type, bucket.name, bucket.inputs, bucket.urn)?.value}`;
        const write = run.resources.find(
            (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "addons-etcd-backup-role",
        )!;
        assert.match(String(write.inputs.role), /^addons-etcd-backup-role-[0-9a-f]{7}$/);
        assert.deepEqual(JSON.parse(String(write.inputs.policy)), {
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: "WriteSnapshots",
                    Effect: "Allow",
                    Action: "s3:PutObject",
                    Resource: [`${arn}/15min/*`, `${arn}/hourly/*`, `${arn}/daily/*`],
                },
            ],
        });
        // Each chart waits for its role's policies; the charts carry the role ARNs.
        const chart = get(run.resources, "addons-ebs-csi");
        assert.ok(
            chart.dependencies.includes(
                get(run.resources, "addons-ebs-csi-role-AmazonEBSCSIDriverPolicy").urn,
            ),
        );
        const values = chart.inputs.values as { controller: { env: { name: string; value: string }[] } };
        assert.deepEqual(values.controller.env[0], {
            name: "AWS_ROLE_ARN",
            value: `arn:aws:iam::123456789012:role/${String(ebs.role)}`,
        });
    });

    it("encrypts the snapshot bucket, blocks public access and expires tiers by prefix", () => {
        assert.deepEqual(get(run.resources, "addons-etcd-backups-sse").inputs.rules, [
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
        ]);
        const pab = get(run.resources, "addons-etcd-backups-public-access").inputs;
        assert.deepEqual(
            [pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets],
            [true, true, true, true],
        );
        const rules = get(run.resources, "addons-etcd-backups-lifecycle").inputs.rules as {
            filter: { prefix: string };
            expiration: { days: number };
        }[];
        assert.deepEqual(
            rules.map((r) => [r.filter.prefix, r.expiration.days]),
            [
                ["15min/", 1],
                ["hourly/", 7],
                ["daily/", 90],
            ],
        );
    });

    it("records the StorageClass and the backup CronJob as schema-valid artifacts, the bucket name resolved", () => {
        const paths = run.artifacts.map((a) => a.path);
        assert.deepEqual(paths, [
            "manifests/cluster/storageclass-gp3-encrypted.yaml",
            "manifests/kube-system/cronjob-etcd-backup.yaml",
            "manifests/kube-system/serviceaccount-etcd-backup.yaml",
        ]);
        for (const a of run.artifacts) validateManifest(parse(a.content), a.path);
        assert.match(run.artifacts[1].content, /value: addons-etcd-backups-[0-9a-f]{7}/);
    });

    it("installs only the CNI, the kubelet CSR approver and the CSI driver when everything switchable is off", async () => {
        const small = await plan({
            cni: "cilium",
            metricsServer: false,
            logging: false,
            nodeMetrics: false,
            etcdBackups: false,
            clusterAutoscaler: false,
        });
        assert.deepEqual(
            small.resources
                .filter((r) => r.type === "kubernetes:helm.sh/v4:Chart")
                .map((r) => `${r.name} ${r.inputs.chart}@${r.inputs.version}`),
            [
                "addons-cilium cilium@1.18.1",
                "addons-csr-approver kubelet-csr-approver@1.2.14",
                "addons-ebs-csi aws-ebs-csi-driver@2.48.0",
            ],
        );
        assert.equal(
            small.resources.some((r) => r.type.startsWith("aws:s3")),
            false,
        );
    });

    it("refuses to build without the cluster's issuer, before registering anything", async () => {
        let thrown: unknown;
        const failed = await runUnderMocks({}, () => {
            try {
                new Addons("addons", {
                    ...addonsConfigArgs(all),
                    provider: undefined as unknown as k8s.Provider,
                    clusterName: "c",
                    region: "eu-west-1",
                    vpcCidr: "10.30.0.0/16",
                    podCidr: "192.168.0.0/16",
                    webIdentity: undefined as unknown as AddonsArgs["webIdentity"],
                });
            } catch (e) {
                thrown = e;
            }
            return {};
        });
        assert.ok(thrown instanceof AddonsError);
        assert.equal(
            (thrown as Error).message,
            "webIdentity: not given; pass the cluster's service-account issuer (cluster.webIdentity): the add-ons that call AWS assume roles of their own through it",
        );
        assert.deepEqual(failed.resources, []);
    });
});
