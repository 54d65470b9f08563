import { strict as assert } from "node:assert";
import { Finding, meetsMinimum, minimumGradeError, scorePlan, StackScore } from "../../components/score";
import { gradeFindings } from "../../components/score/grade";
import { instanceRole } from "../../components/score/graph-view";
import { PlanResource } from "../../tools/plan/types";
import { container, edit, instance, prodGraph, res, without, workload, workloadRes } from "./fixtures";

/** [rule, severity, resource name] of every finding, in the score's order. */
function brief(graph: PlanResource[]): Array<[string, string, string]> {
    return scorePlan(graph).findings.map((f) => [
        f.rule,
        f.severity,
        f.resource.split("::").pop() ?? f.resource,
    ]);
}

const spec = (i: Record<string, unknown>) => i.spec as Record<string, unknown>;
const podSpec = (i: Record<string, unknown>) => (spec(i).template as { spec: Record<string, unknown> }).spec;
const firstContainer = (i: Record<string, unknown>) =>
    (podSpec(i).containers as Record<string, unknown>[])[0];

describe("scorePlan", () => {
    it("grades a well-built prod stage A on every metric with no findings", () => {
        assert.deepEqual(scorePlan(prodGraph()), {
            overall: "A",
            metrics: {
                availability: "A",
                security: "A",
                recoverability: "A",
                capacity: "A",
                operability: "A",
            },
            findings: [],
        });
    });

    it("scores a dev-shaped stage (1 master, 1 worker, 1 edge, single NAT) with exact findings", () => {
        const dev = without(
            prodGraph(),
            "keelson-prod-master-1",
            "keelson-prod-master-2",
            "general-1",
            "general-2",
            "edge-1",
            "nat-b",
            "nat-c",
        );
        const score = scorePlan(dev);
        assert.equal(score.overall, "F");
        assert.deepEqual(score.metrics, {
            availability: "E",
            security: "A",
            recoverability: "A",
            capacity: "F",
            operability: "A",
        });
        assert.deepEqual(brief(dev), [
            ["capacity/fit-one-node-lost", "critical", "keelson-prod"],
            ["availability/single-edge", "high", "edge-0"],
            ["availability/single-master", "high", "keelson-prod-master-0"],
            ["availability/single-worker", "high", "general-0"],
            ["availability/nat-not-per-az", "medium", "nat-a"],
        ]);
        assert.deepEqual(score.findings[0], {
            metric: "capacity",
            rule: "capacity/fit-one-node-lost",
            resource: "urn:pulumi:prod::keelson::keelson:cluster:Cluster::keelson-prod",
            severity: "critical",
            message:
                "Requests 2800m CPU / 3600 MiB do not fit with one of 1 node(s) lost: 0m CPU / 0 MiB allocatable after DaemonSets.",
            fix: "Add workers or use a larger instance type (cluster.workerPools), or lower replicas/requests.",
        });
    });

    describe("availability", () => {
        it("flags an even master count", () => {
            const g = without(prodGraph(), "keelson-prod-master-2");
            assert.deepEqual(brief(g), [["availability/even-masters", "high", "keelson-prod"]]);
            assert.equal(
                scorePlan(g).findings[0].message,
                "2 masters tolerate no more failures than 1: etcd needs a majority.",
            );
        });
        it("flags masters that share an availability zone", () => {
            const g = edit(prodGraph(), "keelson-prod-master-2", (i) => ({
                ...i,
                subnetId: "subnet-private-a",
            }));
            assert.deepEqual(brief(g), [["availability/masters-one-zone", "high", "keelson-prod"]]);
        });
        it("flags workers and edge hosts in one zone", () => {
            let g = prodGraph();
            for (const n of ["general-1", "general-2"])
                g = edit(g, n, (i) => ({ ...i, subnetId: "subnet-private-a" }));
            g = edit(g, "edge-1", (i) => ({ ...i, subnetId: "subnet-public-a" }));
            assert.deepEqual(brief(g), [
                ["availability/edge-one-zone", "medium", "edge-0"],
                ["availability/workers-one-zone", "medium", "keelson-prod"],
            ]);
            assert.equal(scorePlan(g).metrics.availability, "B");
        });
        it("flags a single-replica Deployment, a replicated one without PDB, and one without spread", () => {
            let g = edit(prodGraph(), "web", (i) => ({ ...i, spec: { ...spec(i), replicas: 1 } }));
            g = without(g, "worker");
            g = without(g, "worker-pdb");
            g.push(
                workloadRes(
                    workload(
                        "Deployment",
                        "api",
                        "app",
                        [container("api", "ghcr.io/example/api:2.0.0")],
                        { replicas: 2 },
                        { topologySpreadConstraints: [] },
                    ),
                ),
            );
            assert.deepEqual(brief(g), [
                ["availability/pdb", "medium", "api"],
                ["availability/replicas", "medium", "web"],
                ["availability/topology-spread", "low", "api"],
            ]);
            assert.equal(scorePlan(g).metrics.availability, "B");
        });
        it("judges an HPA-managed Deployment by the HPA's minReplicas", () => {
            const g = edit(prodGraph(), "web", (i) => {
                delete spec(i).replicas;
                return i;
            });
            const hpa = (min?: number) =>
                res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web-hpa", {
                    metadata: { name: "web", namespace: "app" },
                    spec: {
                        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
                        minReplicas: min,
                        maxReplicas: 6,
                    },
                });
            assert.deepEqual(brief([...g, hpa(3)]), []);
            assert.deepEqual(brief([...g, hpa(undefined)]), [["availability/replicas", "medium", "web"]]);
            assert.deepEqual(brief(g), [["availability/replicas", "medium", "web"]]);
        });
        it("exempts system namespaces from the replica rules", () => {
            const g = edit(prodGraph(), "metrics-server", (i) => ({
                ...i,
                spec: { ...spec(i), replicas: 1 },
            }));
            assert.deepEqual(brief(g), []);
        });
    });

    describe("security", () => {
        it("flags IMDSv1, unencrypted volumes and secrets in user-data on an instance", () => {
            const g = edit(prodGraph(), "general-1", (i) => ({
                ...i,
                metadataOptions: { httpTokens: "optional" },
                rootBlockDevice: { volumeSize: 50 },
                userData: "kubeadm join --token abcdef.0123456789abcdef",
            }));
            assert.deepEqual(brief(g), [
                ["security/encrypted-volumes", "high", "general-1"],
                ["security/imdsv2", "high", "general-1"],
                ["security/user-data-secrets", "high", "general-1"],
            ]);
            assert.equal(scorePlan(g).metrics.security, "E");
            assert.equal(
                scorePlan(g).findings[2].message,
                "general-1's user-data carries a kubeadm bootstrap token: user-data is readable by anyone with ec2:DescribeInstanceAttribute.",
            );
        });
        it("grades the firewall: all ports open is critical, SSH high, a public NodePort high, no description low", () => {
            const g = prodGraph();
            const rule = (name: string, inputs: Record<string, unknown>) =>
                res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, inputs, {
                    chain: ["keelson:network:Network"],
                });
            g.push(
                rule("everything", { cidrIpv4: "0.0.0.0/0", ipProtocol: "-1", description: "oops" }),
                rule("cluster-internal", {
                    referencedSecurityGroupId: "sg-workers",
                    ipProtocol: "-1",
                    description: "pod traffic",
                }),
                rule("ssh", {
                    cidrIpv4: "10.0.0.0/8",
                    ipProtocol: "tcp",
                    fromPort: 22,
                    toPort: 22,
                    description: "ssh",
                }),
                rule("nodeport", { cidrIpv6: "::/0", ipProtocol: "tcp", fromPort: 30080, toPort: 30080 }),
                rule("stream", {
                    cidrIpv4: "0.0.0.0/0",
                    ipProtocol: "udp",
                    fromPort: 5353,
                    toPort: 5353,
                    description: "declared stream port",
                }),
                rule("api", {
                    cidrIpv4: "0.0.0.0/0",
                    ipProtocol: "tcp",
                    fromPort: 6443,
                    toPort: 6443,
                    description: "kubectl",
                }),
            );
            assert.deepEqual(brief(g), [
                ["security/open-ingress", "critical", "everything"],
                ["security/open-ingress", "high", "nodeport"],
                ["security/open-ingress", "high", "stream"],
                ["security/ssh-rdp", "high", "ssh"],
                ["security/api-open", "medium", "api"],
                ["security/rule-description", "low", "nodeport"],
            ]);
            const edgeRule = res(
                "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                "edge-in-route-dns",
                {
                    cidrIpv4: "0.0.0.0/0",
                    ipProtocol: "udp",
                    fromPort: 53,
                    toPort: 53,
                    description: "UDP route dns",
                },
                { chain: ["keelson:edge:Edge"] },
            );
            assert.deepEqual(brief([...prodGraph(), edgeRule]), []);
            const withStream = scorePlan(g, { publicPorts: [5353] }).findings.map((f) =>
                f.resource.split("::").pop(),
            );
            assert.deepEqual(withStream, ["everything", "nodeport", "ssh", "api", "nodeport"]);
        });
        it("flags pods that miss the restricted context, ask for host access or carry plain secrets", () => {
            const g = edit(prodGraph(), "web", (i) => {
                const c = firstContainer(i);
                c.securityContext = { runAsNonRoot: true };
                c.env = [
                    { name: "DB_PASSWORD", value: "hunter2" },
                    { name: "LOG_LEVEL", value: "info" },
                ];
                podSpec(i).hostNetwork = true;
                return i;
            });
            assert.deepEqual(brief(g), [
                ["security/host-access", "high", "web"],
                ["security/secret-env", "high", "web"],
                ["security/restricted-pods", "medium", "web"],
            ]);
            assert.equal(
                scorePlan(g).findings[2].message,
                "Deployment app/web misses the restricted security context: allowPrivilegeEscalation, capabilities_restricted, seccompProfile_restricted, readOnlyRootFilesystem.",
            );
        });
        it("allows host access for node agents in system namespaces but not elsewhere", () => {
            const g = prodGraph();
            const etcdBackup = workload(
                "DaemonSet",
                "etcd-backup",
                "kube-system",
                [container("backup", "registry.k8s.io/etcd:3.5.21-0")],
                {},
                { hostNetwork: true },
            );
            g.push(workloadRes(etcdBackup));
            g.push(
                workloadRes(
                    workload(
                        "DaemonSet",
                        "agent",
                        "app",
                        [container("agent", "example/agent:1.0")],
                        {},
                        { hostPID: true },
                    ),
                ),
            );
            assert.deepEqual(brief(g), [["security/host-access", "high", "agent"]]);
        });
        it("requires a default-deny NetworkPolicy in every application namespace", () => {
            const g = without(prodGraph(), "default-deny");
            const score = scorePlan(g);
            assert.deepEqual(brief(g), [["security/network-policy-default-deny", "medium", "namespace/app"]]);
            assert.equal(score.findings[0].resource, "namespace/app");
        });
    });

    describe("recoverability", () => {
        it("wants etcd backups, bucket versioning and lifecycle", () => {
            const g = without(
                prodGraph(),
                "etcd-backups-versioning",
                "etcd-backups-lifecycle",
                "etcd-backups-sse",
                "etcd-backups-pab",
            );
            assert.deepEqual(brief(g), [
                ["recoverability/s3-versioning", "medium", "etcd-backups"],
                ["recoverability/s3-lifecycle", "low", "etcd-backups"],
            ]);
            const none = g.filter((r) => !/etcd-backup/.test(r.urn));
            assert.deepEqual(brief(none), [["recoverability/etcd-backups", "medium", "keelson-prod"]]);
        });
        it("wants claims on an encrypted storage class", () => {
            const g = edit(prodGraph(), "gp3-encrypted", (i) => ({ ...i, parameters: { type: "gp3" } }));
            assert.deepEqual(brief(g), [["recoverability/pvc-storage-class", "high", "postgres"]]);
            g.push(
                res("kubernetes:core/v1:PersistentVolumeClaim", "uploads", {
                    metadata: { name: "uploads" },
                    spec: { storageClassName: "fast" },
                }),
            );
            assert.equal(
                scorePlan(g).findings[1].message,
                "PVC uploads uses storage class fast, which this stage does not define: encryption cannot be checked.",
            );
        });
        it("does not ask caches and queues (redis, rabbitmq) for backups", () => {
            const g = prodGraph();
            for (const [name, image] of [
                ["cache", "redis:7.4.2"],
                ["queue", "rabbitmq:4.0.5-management"],
            ]) {
                g.push(
                    workloadRes(
                        workload("StatefulSet", name, "app", [container(name, image)], { replicas: 1 }),
                    ),
                );
            }
            assert.deepEqual(brief(g), []);
        });
        it("wants a single-replica database backed up", () => {
            const g = without(prodGraph(), "postgres-backup");
            assert.deepEqual(brief(g), [["recoverability/database-backups", "medium", "postgres"]]);
            const replicated = edit(g, "postgres", (i) => ({ ...i, spec: { ...spec(i), replicas: 2 } }));
            assert.deepEqual(brief(replicated), [["availability/pdb", "medium", "postgres"]]);
        });
    });

    describe("capacity", () => {
        it("fails when requests do not fit with one node lost, and reports exact figures", () => {
            const g = edit(prodGraph(), "web", (i) => ({ ...i, spec: { ...spec(i), replicas: 13 } }));
            const score = scorePlan(g);
            assert.equal(score.metrics.capacity, "F");
            assert.equal(
                score.findings[0].message,
                "Requests 7800m CPU / 8720 MiB do not fit with one of 3 node(s) lost: 7640m CPU / 26986 MiB allocatable after DaemonSets.",
            );
        });
        it("warns when less than 15% headroom is left with one node lost", () => {
            const g = edit(prodGraph(), "web", (i) => ({ ...i, spec: { ...spec(i), replicas: 11 } }));
            assert.deepEqual(brief(g), [["capacity/headroom", "medium", "keelson-prod"]]);
            assert.equal(
                scorePlan(g).findings[0].message,
                "Requests 6800m CPU / 7696 MiB use 89% of 7640m CPU / 26986 MiB allocatable with one node lost: rollouts have no surge room.",
            );
        });
        it("does not count workloads without requests, and says so", () => {
            const g = edit(prodGraph(), "worker", (i) => {
                delete firstContainer(i).resources;
                return i;
            });
            assert.deepEqual(brief(g), [
                ["capacity/requests", "medium", "worker"],
                ["operability/limits", "medium", "worker"],
            ]);
        });
        it("does not count nodes of unknown instance types, and says so", () => {
            const g = edit(prodGraph(), "general-2", (i) => ({ ...i, instanceType: "x9.huge" }));
            assert.deepEqual(brief(g), [["capacity/unknown-instance-type", "low", "general-2"]]);
            const two = edit(g, "web", (i) => ({ ...i, spec: { ...spec(i), replicas: 6 } }));
            assert.equal(
                scorePlan(two).findings[0].message,
                "Requests 4300m CPU / 5136 MiB do not fit with one of 2 node(s) lost: 3820m CPU / 13493 MiB allocatable after DaemonSets.",
            );
        });
    });

    describe("operability", () => {
        it("wants probes that differ, pinned images and memory limits", () => {
            const g = edit(prodGraph(), "web", (i) => {
                const c = firstContainer(i);
                c.livenessProbe = c.readinessProbe;
                c.image = "ghcr.io/example/web:latest";
                return i;
            });
            const h = edit(g, "worker", (i) => {
                const c = firstContainer(i);
                delete c.readinessProbe;
                c.image = "localhost:5000/worker";
                return i;
            });
            assert.deepEqual(brief(h), [
                ["operability/pinned-image", "medium", "web"],
                ["operability/pinned-image", "medium", "worker"],
                ["operability/probes", "medium", "worker"],
                ["operability/identical-probes", "low", "web"],
            ]);
            assert.equal(scorePlan(h).metrics.operability, "C");
        });
        it("wants logging and metrics add-ons", () => {
            const g = prodGraph().filter((r) => !/fluent-bit|metrics-server/.test(r.urn));
            assert.deepEqual(brief(g), [
                ["operability/logging", "medium", "keelson-prod"],
                ["operability/metrics", "medium", "keelson-prod"],
            ]);
        });
    });
});

describe("gradeFindings", () => {
    const f = (severity: Finding["severity"]): Finding => ({
        metric: "security",
        rule: "r",
        resource: "x",
        severity,
        message: "m",
        fix: "f",
    });
    const cases: Array<[Finding["severity"][], string]> = [
        [[], "A"],
        [["low", "low", "low"], "A"],
        [["low", "low", "low", "low"], "B"],
        [["medium"], "B"],
        [["medium", "medium"], "B"],
        [["medium", "medium", "medium"], "C"],
        [["high"], "D"],
        [["high", "high"], "E"],
        [["critical"], "F"],
    ];
    for (const [severities, grade] of cases) {
        it(`[${severities.join(", ")}] → ${grade}`, () =>
            assert.equal(gradeFindings(severities.map(f)), grade));
    }
});

describe("meetsMinimum and minimumGradeError", () => {
    const score: StackScore = {
        overall: "D",
        metrics: { availability: "D", security: "B", recoverability: "A", capacity: "A", operability: "A" },
        findings: [
            {
                metric: "availability",
                rule: "availability/single-master",
                resource: "m0",
                severity: "high",
                message: "One master.",
                fix: "Use 3.",
            },
            {
                metric: "security",
                rule: "security/rule-description",
                resource: "r",
                severity: "medium",
                message: "No description.",
                fix: "Describe it.",
            },
        ],
    };
    it("compares the overall grade", () => {
        assert.equal(meetsMinimum(score, "D"), true);
        assert.equal(meetsMinimum(score, "E"), true);
        assert.equal(meetsMinimum(score, "C"), false);
        assert.equal(minimumGradeError(score, "D"), undefined);
    });
    it("names the failing metrics and their findings", () => {
        assert.equal(
            minimumGradeError(score, "B"),
            "score.minimumGrade: StackScore D is below the required B (availability D)\n" +
                "  - [high] availability/single-master on m0: One master. Fix: Use 3.",
        );
        assert.equal(
            minimumGradeError(score, "A"),
            "score.minimumGrade: StackScore D is below the required A (availability D, security B)\n" +
                "  - [high] availability/single-master on m0: One master. Fix: Use 3.\n" +
                "  - [medium] security/rule-description on r: No description. Fix: Describe it.",
        );
    });
});

describe("instanceRole", () => {
    const cases: Array<[PlanResource, string]> = [
        [instance("n1", "t3.small", "s", [], { tags: { "keelson:role": "control-plane" } }), "master"],
        [instance("n2", "t3.small", "s", [], { tags: { Role: "edge" } }), "edge"],
        [
            instance("n3", "t3.small", "s", ["keelson:cluster:Cluster", "keelson:cluster:ApiLoadBalancer"]),
            "api-lb",
        ],
        [instance("gpu-0", "t3.small", "s", ["keelson:cluster:Cluster"]), "worker"],
        [instance("keelson-dev-master-0", "t3.small", "s", ["keelson:cluster:Cluster"]), "master"],
        [instance("bastion", "t3.small", "s", []), "other"],
    ];
    for (const [r, role] of cases) it(`${r.name} is ${role}`, () => assert.equal(instanceRole(r), role));
});
