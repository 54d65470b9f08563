import { strict as assert } from "node:assert";
import { renderGraphMarkdown, renderMermaid, shortType } from "../../tools/plan/graph";
import { PlanResource } from "../../tools/plan/types";

const U = (chain: string, name: string) => `urn:pulumi:dev::keelson::${chain}::${name}`;
function r(
    type: string,
    name: string,
    parent: PlanResource | undefined,
    dependencies: string[] = [],
): PlanResource {
    const chain = parent ? `${parent.urn.split("::")[2]}$${type}` : type;
    return {
        urn: U(chain, name),
        type,
        name,
        parent: parent?.urn,
        dependencies,
        inputs: {},
        custom: !type.startsWith("keelson:"),
    };
}

describe("renderMermaid", () => {
    it("nests components, draws key resources, lifts dependencies and skips noise", () => {
        const net = r("keelson:network:Network", "net", undefined);
        const vpc = r("aws:ec2/vpc:Vpc", "vpc", net);
        const rule = r("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rule", net, [vpc.urn]);
        const cluster = r("keelson:cluster:Cluster", "k8s", undefined);
        const cp = r("keelson:cluster:ControlPlane", "cp", cluster);
        const role = r("aws:iam/role:Role", "role", cp);
        const m0 = r("aws:ec2/instance:Instance", "master-0", cp, [vpc.urn, role.urn, rule.urn]);
        const app = r("keelson:app:Application", "shop", undefined, [cluster.urn]);
        const db = r("kubernetes:apps/v1:StatefulSet", "db", app, [cp.urn]);
        const web = r("kubernetes:apps/v1:Deployment", "web", app, [db.urn, "urn:unknown"]);
        assert.equal(
            renderMermaid([net, vpc, rule, cluster, cp, role, m0, app, db, web]),
            [
                "flowchart LR",
                '    subgraph c0["net (Network)"]',
                '        n0["vpc<br/><i>Vpc</i>"]',
                "    end",
                '    subgraph c1["k8s (Cluster)"]',
                '        subgraph c2["cp (ControlPlane)"]',
                '            n1["master-0<br/><i>Instance</i>"]',
                "        end",
                "    end",
                '    subgraph c3["shop (Application)"]',
                '        n2["db<br/><i>StatefulSet</i>"]',
                '        n3["web<br/><i>Deployment</i>"]',
                "    end",
                "    n1 --> c0",
                "    n1 --> n0",
                "    n2 --> c2",
                "    n3 --> n2",
            ].join("\n"),
        );
    });

    it("merges numbered siblings into one node per stem", () => {
        const cp = r("keelson:cluster:Cluster", "k8s", undefined);
        const nodes = ["master-0", "master-1", "master-2", "general-0", "general-1", "bastion"].map((n) =>
            r("aws:ec2/instance:Instance", n, cp),
        );
        assert.equal(
            renderMermaid([cp, ...nodes]),
            [
                "flowchart LR",
                '    subgraph c0["k8s (Cluster)"]',
                '        n0["master-* × 3<br/><i>Instance</i>"]',
                '        n1["general-* × 2<br/><i>Instance</i>"]',
                '        n2["bastion<br/><i>Instance</i>"]',
                "    end",
            ].join("\n"),
        );
    });

    it("collapses more than four same-typed siblings and escapes labels", () => {
        const pool = r("keelson:cluster:WorkerPool", 'pool "a"', undefined);
        const nodes = ["a", "b", "c", "d", "e"].map((i) => r("aws:ec2/instance:Instance", `w-${i}`, pool));
        const lb = r("aws:lb/loadBalancer:LoadBalancer", "api<lb>", undefined, [nodes[0].urn, nodes[3].urn]);
        assert.equal(
            renderMermaid([pool, ...nodes, lb]),
            [
                "flowchart LR",
                '    n1["api#lt;lb#gt;<br/><i>LoadBalancer</i>"]',
                '    subgraph c0["pool #quot;a#quot; (WorkerPool)"]',
                '        n0["5 × Instance"]',
                "    end",
                "    n1 --> n0",
            ].join("\n"),
        );
    });

    it("treats keelson:* types as components when plan.json omits `custom`", () => {
        const c = { urn: U("keelson:edge:Edge", "edge"), type: "keelson:edge:Edge", name: "edge" };
        const h = {
            urn: U("keelson:edge:Edge$aws:ec2/instance:Instance", "edge-0"),
            type: "aws:ec2/instance:Instance",
            name: "edge-0",
            parent: c.urn,
        };
        assert.equal(
            renderGraphMarkdown("dev", [c, h]),
            '# Keelson stage `dev`\n\n```mermaid\nflowchart LR\n    subgraph c0["edge (Edge)"]\n        n0["edge-0<br/><i>Instance</i>"]\n    end\n```\n',
        );
    });

    it("shortens type tokens", () => {
        assert.equal(shortType("kubernetes:networking.k8s.io/v1:Ingress"), "Ingress");
    });
});
