import { strict as assert } from "node:assert";
import { scorePlan } from "../../components/score";
import { artifactSecurity, cisGaps, weakTls } from "../../components/score/rules/artifacts";
import { prodGraph } from "./fixtures";

const KUBEADM = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
apiServer:
  extraArgs:
    - name: authorization-mode
      value: Node,RBAC
    - name: profiling
      value: "false"
    - name: audit-log-path
      value: /var/log/kubernetes/audit/audit.log
    - name: encryption-provider-config
      value: /etc/kubernetes/keelson/encryption-config.yaml
controllerManager:
  extraArgs:
    - name: profiling
      value: "false"
scheduler:
  extraArgs:
    - name: profiling
      value: "false"
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
authorization:
  mode: Webhook
readOnlyPort: 0
rotateCertificates: true
`;

const WEAK = `apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    authorization-mode: AlwaysAllow
    profiling: "false"
scheduler: {}
---
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
authorization:
  mode: AlwaysAllow
readOnlyPort: 10255
rotateCertificates: false
`;

describe("artifact checks", () => {
    it("finds no CIS gap in a hardened kubeadm configuration", () => {
        assert.deepEqual(cisGaps(KUBEADM), []);
    });
    it("names every CIS gap, reading v1beta3 map-style extraArgs too", () => {
        assert.deepEqual(cisGaps(WEAK), [
            "apiserver authorization-mode Node,RBAC",
            "controller-manager profiling=false",
            "scheduler profiling=false",
            "apiserver audit-log-path",
            "apiserver encryption-provider-config",
            "kubelet anonymous auth off",
            "kubelet authorization Webhook",
            "kubelet readOnlyPort 0",
            "kubelet rotateCertificates",
        ]);
    });
    it("reads the TLS floor of nginx and haproxy configs", () => {
        assert.equal(weakTls("ssl_protocols TLSv1.2 TLSv1.3;"), undefined);
        assert.equal(weakTls("ssl_protocols TLSv1.1 TLSv1.2;"), "TLSv1.1");
        assert.equal(weakTls("ssl-default-bind-options ssl-min-ver TLSv1.0"), "TLSv1.0");
    });
    it("turns artifacts into exact security findings", () => {
        const findings = artifactSecurity([
            { path: "user-data/master-0.yaml", content: "token: abcdef.0123456789abcdef\n" },
            { path: "user-data/edge-0.yaml", content: "ssl_protocols TLSv1 TLSv1.2;" },
            { path: "edge/nginx.conf", content: "ssl_protocols TLSv1.2 TLSv1.3;" },
            { path: "kubeadm/init.yaml", content: WEAK },
            { path: "kubeadm/worker.yaml", content: "kind: JoinConfiguration\n" },
            { path: "manifests/app/secret.yaml", content: "-----BEGIN PRIVATE KEY-----" },
        ]);
        assert.deepEqual(
            findings.map((f) => [f.rule, f.severity, f.resource, f.message]),
            [
                [
                    "security/user-data-secrets",
                    "high",
                    "user-data/master-0.yaml",
                    "user-data/master-0.yaml carries a kubeadm bootstrap token: user-data is readable by anyone with ec2:DescribeInstanceAttribute.",
                ],
                ["security/weak-tls", "high", "user-data/edge-0.yaml", "user-data/edge-0.yaml allows TLSv1."],
                [
                    "security/cis-control-plane",
                    "medium",
                    "kubeadm/init.yaml",
                    "kubeadm/init.yaml misses CIS Kubernetes benchmark settings: apiserver authorization-mode Node,RBAC, controller-manager profiling=false, scheduler profiling=false, apiserver audit-log-path, apiserver encryption-provider-config, kubelet anonymous auth off, kubelet authorization Webhook, kubelet readOnlyPort 0, kubelet rotateCertificates.",
                ],
            ],
        );
    });
    it("scores artifacts when the plan passes them", () => {
        const artifacts = [{ path: "user-data/master-1.yaml", content: "[secret]" }];
        assert.equal(scorePlan(prodGraph()).metrics.security, "A");
        const score = scorePlan(prodGraph(), { artifacts });
        assert.equal(score.metrics.security, "D");
        assert.deepEqual(
            score.findings.map((f) => [f.rule, f.resource]),
            [["security/user-data-secrets", "user-data/master-1.yaml"]],
        );
    });
});
