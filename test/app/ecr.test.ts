// Built images run: a stage with an image built from a context gets an ECR repository, and every node can
// pull from it: the kubelet's ecr-credential-provider is installed and configured, and the node roles may
// read ECR. Planned through the real index.ts under the mock engine.
import * as assert from "node:assert/strict";
import * as path from "path";
import {
    ECR_CREDENTIAL_PROVIDER,
    renderCredentialProviderConfig,
} from "../../components/cluster/render/kubeadm";
import { FullPlan, planStage } from "../../tools/plan/plan";
import { loadStackConfig } from "../../tools/plan/stack-config";
import { parse } from "yaml";

type Obj = Record<string, unknown>;

/** A kubelet `matchImages` glob (`*` matches within one DNS label) against an image's registry host. */
function matches(glob: string, image: string): boolean {
    const host = image.split("/")[0];
    const re = new RegExp(
        `^${glob
            .split("*")
            .map((p) => p.replace(/[.]/g, "\\."))
            .join("[^.]*")}$`,
    );
    return re.test(host);
}

describe("app/ecr: images built from a context can be pulled by the cluster's kubelets", () => {
    let plan: FullPlan;
    before(async () => {
        const dev = loadStackConfig(path.join(__dirname, "../../Pulumi.dev.yaml"));
        const app = {
            services: {
                api: { kind: "container", image: { context: "test/app/fixtures/api" }, port: 8080 },
            },
        };
        plan = await planStage({
            stack: "dev",
            config: { values: { ...dev.values, "keelson:app": app }, secretKeys: dev.secretKeys },
        });
    });

    it("the stage builds the image into a private ECR repository", () => {
        assert.ok(
            plan.resources.some((r) => r.type === "aws:ecr/repository:Repository"),
            "an ECR repository",
        );
    });

    it("every node's kubelet runs ecr-credential-provider for ECR hosts", () => {
        const joins = plan.artifacts.filter((a) => a.path.startsWith("kubeadm/"));
        assert.ok(joins.length >= 2, joins.map((a) => a.path).join(", "));
        for (const a of joins) {
            const docs = String(a.content)
                .split(/^---$/m)
                .map((d) => parse(d) as Obj)
                .filter((d) => d && (d.kind === "InitConfiguration" || d.kind === "JoinConfiguration"));
            assert.ok(docs.length > 0, a.path);
            for (const d of docs) {
                const args = (d.nodeRegistration as { kubeletExtraArgs: { name: string; value: string }[] })
                    .kubeletExtraArgs;
                const flags = Object.fromEntries(args.map((x) => [x.name, x.value]));
                assert.equal(
                    flags["image-credential-provider-config"],
                    ECR_CREDENTIAL_PROVIDER.configPath,
                    a.path,
                );
                assert.equal(
                    flags["image-credential-provider-bin-dir"],
                    ECR_CREDENTIAL_PROVIDER.binDir,
                    a.path,
                );
            }
        }
        for (const u of plan.artifacts.filter((a) => a.path.startsWith("user-data/"))) {
            const text = String(u.content);
            if (!text.includes("kubeadm")) continue;
            assert.match(text, /install_ecr_credential_provider\n/, u.path);
            assert.ok(
                text.includes(
                    `cloud-provider-aws/${ECR_CREDENTIAL_PROVIDER.version}/linux/$arch/ecr-credential-provider-linux-$arch`,
                ),
                u.path,
            );
        }
    });

    it("the provider config matches the registry hosts ECR repositories live on, and nothing else", () => {
        const config = parse(renderCredentialProviderConfig()) as {
            providers: { name: string; matchImages: string[]; apiVersion: string }[];
        };
        const [p] = config.providers;
        assert.equal(p.name, "ecr-credential-provider");
        assert.equal(p.apiVersion, "credentialprovider.kubelet.k8s.io/v1");
        const any = (image: string) => p.matchImages.some((g) => matches(g, image));
        assert.ok(any("123456789012.dkr.ecr.us-east-1.amazonaws.com/keelson-dev-api-repo-1a2b3c4:0123abcd"));
        assert.ok(any("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1"));
        assert.ok(!any("ghcr.io/stefanprodan/podinfo:6.9.2"));
        assert.ok(!any("evil.example.com/123456789012.dkr.ecr.us-east-1.amazonaws.com:1"));
    });

    it("master and worker roles may read ECR", () => {
        const attached = plan.resources
            .filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            .filter((r) => String((r.inputs as Obj).policyArn).endsWith("AmazonEC2ContainerRegistryReadOnly"))
            .map((r) => r.name);
        assert.ok(
            attached.some((n) => n.includes("master")),
            attached.join(", "),
        );
        assert.ok(
            attached.some((n) => n.includes("worker")),
            attached.join(", "),
        );
    });
});
