// File stores with a web-identity issuer (IRSA) under the mock engine: one role and one ServiceAccount per
// service that reaches a store, each role trusted by its ServiceAccount only and allowed exactly its
// stores; the pods carry their web identity; no IAM user and no access key exist anywhere.
import * as assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { parse } from "yaml";
import { Application, ApplicationError } from "../../components/app/Application";
import { webIdentityMount, webIdentityVolume } from "../../components/cluster/render/oidc";
import { fileStorePolicy, fileStoreStatements } from "../../components/app/file-store-access";
import { container, fileStore, postgres, worker } from "../../components/app/services";
import { physicalName } from "../../tools/plan/mock-names";
import { RecordedResource, runUnderMocks } from "../../tools/plan/runtime";
import { evaluate, PolicyDocument } from "../../tools/lab/iam";
import { validateManifest } from "./support/schema";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";
const HOST = "oidc-test.s3.eu-west-1.amazonaws.com";
const ISSUER = { issuer: `https://${HOST}`, providerArn: `arn:aws:iam::123456789012:oidc-provider/${HOST}` };

type Obj = Record<string, unknown>;
type Env = { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } };
type PodSpec = {
    serviceAccountName?: string;
    automountServiceAccountToken: boolean;
    containers: { name: string; env?: Env[]; volumeMounts: Obj[] }[];
    initContainers?: { name: string; env?: Env[]; volumeMounts?: Obj[] }[];
    volumes: Obj[];
};

async function shop() {
    return runUnderMocks({ config: { "aws:region": "eu-west-1" } }, () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
        const files = fileStore("files");
        const media = fileStore("media");
        const db = postgres("db", { backup: { to: files } });
        const web = container("web", { image: IMAGE, port: 3000, connects: [db, files, media] });
        const jobs = worker("jobs", {
            image: IMAGE,
            healthPort: 8080,
            connects: [{ to: files, as: "STORE" }],
        });
        // Reaches the database only: no role, no ServiceAccount.
        const lone = container("lone", { image: IMAGE, port: 3000, connects: [db] });
        new Application("shop", { services: [web, jobs, lone], provider, webIdentity: ISSUER });
        return {};
    });
}

const one = (rs: RecordedResource[], type: string, name: string) => {
    const found = rs.filter((r) => r.type === type && r.name === name);
    assert.equal(found.length, 1, `one ${type} ${name}`);
    return found[0];
};
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const CONSUMERS = ["db-backup", "jobs", "web"];

const podOf = (r: RecordedResource): PodSpec => {
    const spec = r.rawInputs.spec as Obj;
    const template = (
        r.type.endsWith("CronJob") ? ((spec.jobTemplate as Obj).spec as Obj).template : spec.template
    ) as { spec: PodSpec };
    return template.spec;
};

describe("app/FileStore with a web-identity issuer (mocked)", () => {
    let run: Awaited<ReturnType<typeof shop>>;
    const bucketArn: Record<string, string> = {};
    before(async () => {
        run = await shop();
        for (const store of ["files", "media"]) {
            const b = one(run.resources, "aws:s3/bucket:Bucket", `shop-${store}-bucket`);
            bucketArn[store] = `arn:aws:s3:::${physicalName(b.type, b.name, b.inputs, b.urn)?.value}`;
        }
    });
    const roleOf = (service: string) => one(run.resources, ROLE, `shop-${service}-role`);
    const roleName = (service: string) => {
        const r = roleOf(service);
        return String(physicalName(r.type, r.name, r.inputs, r.urn)?.value);
    };
    const policyOf = (service: string) =>
        JSON.parse(
            String(one(run.resources, ROLE_POLICY, `shop-${service}-role`).inputs.policy),
        ) as PolicyDocument;
    const trustOf = (service: string) =>
        JSON.parse(String(roleOf(service).inputs.assumeRolePolicy)) as PolicyDocument;
    const token = (sa: string) => ({
        [`${HOST}:sub`]: `system:serviceaccount:shop:${sa}`,
        [`${HOST}:aud`]: "sts.amazonaws.com",
    });

    it("creates no IAM user, user policy or access key, and one role, inline policy and ServiceAccount per consumer", () => {
        const types = run.resources.map((r) => r.type);
        for (const t of ["aws:iam/user:User", "aws:iam/accessKey:AccessKey", "aws:iam/userPolicy:UserPolicy"])
            assert.equal(types.includes(t), false, t);
        const app = one(run.resources, "keelson:app:Application", "shop");
        const children = (type: string) =>
            run.resources
                .filter((r) => r.parent === app.urn && r.type === type)
                .map((r) => r.name)
                .sort();
        assert.deepEqual(children(ROLE), ["shop-db-backup-role", "shop-jobs-role", "shop-web-role"]);
        assert.deepEqual(children(ROLE_POLICY), ["shop-db-backup-role", "shop-jobs-role", "shop-web-role"]);
        assert.deepEqual(children("kubernetes:core/v1:ServiceAccount"), [
            "shop-db-backup.service-account",
            "shop-jobs.service-account",
            "shop-web.service-account",
        ]);
        for (const s of CONSUMERS) {
            assert.match(roleName(s), new RegExp(`^shop-${s}-role-[0-9a-f]{7}$`));
            const sa = one(run.resources, "kubernetes:core/v1:ServiceAccount", `shop-${s}.service-account`);
            assert.deepEqual(
                [
                    (sa.inputs.metadata as Obj).name,
                    (sa.inputs.metadata as Obj).namespace,
                    sa.inputs.automountServiceAccountToken,
                ],
                [`${s}-aws`, "shop", false],
            );
            // The ServiceAccount exists once its role can be assumed; the policy names that role.
            assert.ok(sa.dependencies.includes(roleOf(s).urn), `${s}'s ServiceAccount waits for its role`);
            const policy = one(run.resources, ROLE_POLICY, `shop-${s}-role`);
            assert.ok(sa.dependencies.includes(policy.urn), `${s}'s ServiceAccount waits for its policy`);
            assert.equal(policy.inputs.role, roleName(s));
        }
    });

    it("lets each role be assumed only by its own ServiceAccount's token for sts.amazonaws.com", () => {
        for (const s of CONSUMERS) {
            assert.deepEqual(trustOf(s), {
                Version: "2012-10-17",
                Statement: [
                    {
                        Sid: "ServiceAccount",
                        Effect: "Allow",
                        Principal: { Federated: ISSUER.providerArn },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: {
                            StringEquals: {
                                [`${HOST}:sub`]: `system:serviceaccount:shop:${s}-aws`,
                                [`${HOST}:aud`]: "sts.amazonaws.com",
                            },
                        },
                    },
                ],
            });
        }
        const assume = (role: string, context: Record<string, string>) =>
            evaluate([trustOf(role)], "sts:AssumeRoleWithWebIdentity", roleName(role), context);
        assert.equal(assume("web", token("web-aws")), "allow");
        // Another service's ServiceAccount, the namespace's default one, or a token for another audience.
        assert.equal(assume("web", token("jobs-aws")), "implicit-deny");
        assert.equal(assume("web", token("default")), "implicit-deny");
        assert.equal(
            assume("jobs", { ...token("jobs-aws"), [`${HOST}:aud`]: "kubernetes" }),
            "implicit-deny",
        );
    });

    it("allows each role exactly its stores: the full grant for services, only puts under its prefix for a backup job", () => {
        const files = bucketArn.files;
        const media = bucketArn.media;
        const full = (arn: string, deny: string[]) => [
            { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [arn] },
            {
                Effect: "Allow",
                Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                Resource: [`${arn}/*`],
            },
            ...(deny.length > 0
                ? [{ Effect: "Deny", Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"], Resource: deny }]
                : []),
        ];
        assert.deepEqual(policyOf("web"), {
            Version: "2012-10-17",
            Statement: [...full(files, [`${files}/backups/db/*`]), ...full(media, [])],
        });
        assert.deepEqual(policyOf("jobs"), {
            Version: "2012-10-17",
            Statement: full(files, [`${files}/backups/db/*`]),
        });
        assert.deepEqual(policyOf("db-backup"), {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                    Resource: [`${files}/backups/db/*`],
                },
            ],
        });
        const may = (s: string, action: string, resource: string) =>
            evaluate([policyOf(s)], action, resource);
        assert.equal(may("web", "s3:GetObject", `${files}/uploads/a.png`), "allow");
        assert.equal(may("web", "s3:PutObject", `${media}/a.png`), "allow");
        assert.equal(may("web", "s3:DeleteObject", `${files}/backups/db/1.dump`), "explicit-deny");
        assert.equal(may("jobs", "s3:GetObject", `${media}/a.png`), "implicit-deny");
        assert.equal(may("db-backup", "s3:PutObject", `${files}/backups/db/1.dump`), "allow");
        for (const [action, resource] of [
            ["s3:GetObject", `${files}/backups/db/1.dump`],
            ["s3:PutObject", `${files}/uploads/a.png`],
            ["s3:DeleteObject", `${files}/backups/db/1.dump`],
            ["s3:ListBucket", files],
        ])
            assert.equal(may("db-backup", action, resource), "implicit-deny", `${action} ${resource}`);
    });

    it("gives each consumer's pods their ServiceAccount, role, region and projected STS token, and no key", () => {
        for (const [s, key] of [
            ["web", "kubernetes:apps/v1:Deployment shop-web.deployment"],
            ["jobs", "kubernetes:apps/v1:Deployment shop-jobs.deployment"],
            ["db-backup", "kubernetes:batch/v1:CronJob shop-db-backup.cronjob"],
        ]) {
            const [type, name] = key.split(" ");
            const workload = one(run.resources, type, name);
            const pod = podOf(workload);
            assert.equal(pod.serviceAccountName, `${s}-aws`);
            assert.equal(pod.automountServiceAccountToken, false);
            const main = pod.containers[0];
            const env = main.env ?? [];
            const region = { secretKeyRef: { name: "files-credentials", key: "region" } };
            assert.deepEqual(env.slice(-5), [
                { name: "AWS_ROLE_ARN", value: `arn:aws:iam::123456789012:role/${roleName(s)}` },
                {
                    name: "AWS_WEB_IDENTITY_TOKEN_FILE",
                    value: "/var/run/secrets/sts.amazonaws.com/serviceaccount/token",
                },
                { name: "AWS_STS_REGIONAL_ENDPOINTS", value: "regional" },
                { name: "AWS_REGION", valueFrom: region },
                { name: "AWS_DEFAULT_REGION", valueFrom: region },
            ]);
            const prefix = s === "web" ? "FILES" : "STORE";
            assert.deepEqual(
                env
                    .filter((e) => e.name.startsWith(`${prefix}_`))
                    .map((e) => [e.name, e.valueFrom?.secretKeyRef.key]),
                [
                    [`${prefix}_BUCKET`, "bucket"],
                    [`${prefix}_REGION`, "region"],
                    [`${prefix}_URL`, "url"],
                ],
            );
            assert.equal(
                env.some((e) => /ACCESS_KEY/.test(e.name)),
                false,
                `${s} gets no access key`,
            );
            // The helpers' exact output is pinned in test/cluster/oidc.test.ts.
            assert.deepEqual(
                main.volumeMounts.filter((m) => m.name === "aws-web-identity-token"),
                [webIdentityMount()],
            );
            assert.deepEqual(
                pod.volumes.filter((v) => v.name === "aws-web-identity-token"),
                [webIdentityVolume()],
            );
            const sa = one(run.resources, "kubernetes:core/v1:ServiceAccount", `shop-${s}.service-account`);
            assert.ok(workload.dependencies.includes(sa.urn), `${s} waits for its ServiceAccount`);
        }
        // The backup's dump container reads the database only; the token is the upload container's.
        const dump = podOf(
            one(run.resources, "kubernetes:batch/v1:CronJob", "shop-db-backup.cronjob"),
        ).initContainers!.find((c) => c.name === "dump")!;
        assert.equal(
            (dump.volumeMounts ?? []).some((m) => m.name === "aws-web-identity-token"),
            false,
        );
        const lone = podOf(one(run.resources, "kubernetes:apps/v1:Deployment", "shop-lone.deployment"));
        assert.equal(lone.serviceAccountName, undefined);
        assert.equal(
            (lone.containers[0].env ?? []).some((e) => e.name.startsWith("AWS_")),
            false,
        );
        assert.equal(
            lone.volumes.some((v) => v.name === "aws-web-identity-token"),
            false,
        );
    });

    it("keeps the store's Secret to where it is (a Pulumi secret), and the path to S3 and STS on 443", () => {
        const secret = one(run.resources, "kubernetes:core/v1:Secret", "shop-files.secret");
        assert.equal(secret.inputs.stringData, "[secret]");
        assert.deepEqual(Object.keys(secret.rawInputs.stringData as Obj), ["bucket", "region", "url"]);
        assert.equal((secret.rawInputs.stringData as Obj).region, "eu-west-1");
        // Role ARNs are not secret: they reach the pod spec in plain view.
        const web = one(run.resources, "kubernetes:apps/v1:Deployment", "shop-web.deployment");
        assert.match(JSON.stringify(web.inputs), /arn:aws:iam::123456789012:role\/shop-web-role-/);
        // sts.eu-west-1.amazonaws.com and the S3 endpoint are both HTTPS on public addresses.
        for (const s of CONSUMERS) {
            const policy = one(
                run.resources,
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                `shop-netpol.${s}-to-files`,
            );
            assert.deepEqual((policy.inputs.spec as Obj).egress, [
                { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
            ]);
        }
    });

    it("records the ServiceAccounts and the workloads with their roles as schema-valid artifacts", () => {
        const paths = run.artifacts.map((a) => a.path);
        for (const s of CONSUMERS)
            assert.ok(paths.includes(`manifests/shop/serviceaccount-${s}-aws.yaml`), s);
        for (const a of run.artifacts.filter((x) => x.path.startsWith("manifests/")))
            validateManifest(parse(a.content), a.path);
        const web = parse(
            run.artifacts.find((a) => a.path === "manifests/shop/deployment-web.yaml")!.content,
        );
        assert.equal(web.spec.template.spec.serviceAccountName, "web-aws");
    });
});

describe("app/FileStore: role names IAM accepts, checked before anything is registered (mocked)", () => {
    // A 40-character service name (the longest allowed) under an 11-character component name: 11 + 1 + 40 + 5
    // ("-role") + 8 (autonaming) = 65 characters, one over IAM's 64.
    const long = "a".repeat(40);
    const plan = (component: string, service: string) => {
        let thrown: unknown;
        const run = runUnderMocks({ config: { "aws:region": "eu-west-1" } }, () => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "test" });
            const files = fileStore("files");
            const svc = container(service, { image: IMAGE, port: 3000, connects: [files] });
            try {
                new Application(component, { services: [svc], provider, webIdentity: ISSUER });
            } catch (e) {
                thrown = e;
            }
            return {};
        });
        return run.then((r) => ({ thrown, resources: r.resources }));
    };

    it("refuses a consumer whose role name would exceed 64 characters, naming the service and the fix", async () => {
        const { thrown, resources } = await plan("shop-orders", long);
        assert.ok(thrown instanceof ApplicationError, String(thrown));
        assert.equal(
            (thrown as Error).message,
            "application shop-orders is invalid:\n" +
                `  - services.${long}: its file-store role shop-orders-${long}-role-<7 characters> would be 65 ` +
                "characters, over IAM's 64; shorten the service name to at most 39 characters or the application's " +
                'component name "shop-orders"',
        );
        // Only the provider the test itself made: nothing of the application.
        assert.deepEqual(
            resources.map((r) => r.type),
            ["pulumi:providers:kubernetes"],
        );
    });

    it("plans a role name of exactly 64 characters", async () => {
        const { thrown, resources } = await plan("shop-order", long);
        assert.equal(thrown, undefined);
        const role = resources.find((r) => r.type === ROLE)!;
        assert.equal(`${role.name}-1234567`.length, 64);
    });
});

describe("app/file-store-access: the statements of a grant (pure)", () => {
    it("denies deleting backups in the full grant and allows only the prefix in an upload-only one", () => {
        const arn = "arn:aws:s3:::b";
        assert.deepEqual(
            fileStoreStatements({ bucketArn: arn, backupPrefixes: [] }).map((s) => s.Effect),
            ["Allow", "Allow"],
        );
        assert.deepEqual(
            fileStoreStatements({ bucketArn: arn, backupPrefixes: ["backups/db/", "backups/sql/"] })[2],
            {
                Effect: "Deny",
                Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                Resource: [`${arn}/backups/db/*`, `${arn}/backups/sql/*`],
            },
        );
        assert.deepEqual(
            fileStorePolicy([{ bucketArn: arn, backupPrefixes: ["backups/db/"], uploadOnly: "backups/db/" }]),
            {
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                        Resource: [`${arn}/backups/db/*`],
                    },
                ],
            },
        );
    });
});
