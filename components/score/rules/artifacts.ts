// Security checks over the rendered artifacts of an offline plan: user-data and edge configs (an
// instance's userData input is usually unknown at preview time, its rendered artifact is not) and
// the kubeadm configuration against the CIS Kubernetes benchmark's control-plane items.
import * as YAML from "yaml";
import { PlanArtifact } from "../../core/graph";
import { userDataSecrets } from "../aws-rules";
import { Finding, findingsFor } from "../types";
import { obj } from "../workloads";

const finding = findingsFor("security");

/** nginx `ssl_protocols` or haproxy `ssl-min-ver`/`ssl-default-bind-options` admitting TLS below 1.2. */
export const WEAK_TLS =
    /ssl_protocols[^;\n]*?\b(SSLv3|TLSv1|TLSv1\.1)(?![.\d])|ssl-min-ver\s+(SSLv3|TLSv1\.0|TLSv1\.1)\b/;

/** The TLS version a rendered config admits below 1.2, or undefined. */
export function weakTls(text: string): string | undefined {
    const m = WEAK_TLS.exec(text);
    return m ? (m[1] ?? m[2]) : undefined;
}

/** kubeadm `extraArgs`: a list of `{ name, value }` (v1beta4) or a map (v1beta3). */
function extraArgs(component: unknown): Record<string, string> {
    const raw = obj(component).extraArgs;
    if (Array.isArray(raw)) {
        const out: Record<string, string> = {};
        for (const a of raw.map(obj)) if (typeof a.name === "string") out[a.name] = String(a.value);
        return out;
    }
    return Object.fromEntries(Object.entries(obj(raw)).map(([k, v]) => [k, String(v)]));
}

/**
 * The CIS Kubernetes benchmark items a kubeadm configuration (InitConfiguration,
 * ClusterConfiguration, KubeletConfiguration documents) misses: API server authorization
 * Node,RBAC (1.2.7-1.2.9), profiling off on the API server, controller manager and scheduler
 * (1.2.15, 1.3.2, 1.4.1), audit log (1.2.16), encryption at rest (1.2.27), kubelet anonymous
 * auth off, Webhook authorization, read-only port 0 and certificate rotation (4.2.1-4.2.4, 4.2.11).
 * Settings left to kubeadm's defaults count as met when that default is compliant.
 */
export function cisGaps(kubeadmYaml: string): string[] {
    const docs = YAML.parseAllDocuments(kubeadmYaml).map((d) => obj(d.toJS()));
    const cluster = docs.find((d) => d.kind === "ClusterConfiguration");
    const kubelet = docs.find((d) => d.kind === "KubeletConfiguration");
    const gaps: string[] = [];
    if (cluster) {
        const api = extraArgs(cluster.apiServer);
        const authz = (api["authorization-mode"] ?? "Node,RBAC").split(",");
        if (!authz.includes("Node") || !authz.includes("RBAC") || authz.includes("AlwaysAllow"))
            gaps.push("apiserver authorization-mode Node,RBAC");
        for (const [name, component] of [
            ["apiserver", cluster.apiServer],
            ["controller-manager", cluster.controllerManager],
            ["scheduler", cluster.scheduler],
        ] as const) {
            if (extraArgs(component).profiling !== "false") gaps.push(`${name} profiling=false`);
        }
        if (!api["audit-log-path"]) gaps.push("apiserver audit-log-path");
        if (!api["encryption-provider-config"]) gaps.push("apiserver encryption-provider-config");
    }
    if (kubelet) {
        const auth = obj(kubelet.authentication);
        if (obj(auth.anonymous).enabled === true) gaps.push("kubelet anonymous auth off");
        if (obj(kubelet.authorization).mode === "AlwaysAllow") gaps.push("kubelet authorization Webhook");
        if (typeof kubelet.readOnlyPort === "number" && kubelet.readOnlyPort !== 0)
            gaps.push("kubelet readOnlyPort 0");
        if (kubelet.rotateCertificates === false) gaps.push("kubelet rotateCertificates");
    }
    return gaps;
}

/** Findings from the plan's rendered artifacts (user-data, edge configs, kubeadm configs). */
export function artifactSecurity(artifacts: readonly PlanArtifact[]): Finding[] {
    const out: Finding[] = [];
    for (const a of artifacts) {
        if (a.path.startsWith("user-data/")) {
            const leaks = userDataSecrets(a.content);
            if (leaks.length > 0)
                out.push(
                    finding(
                        "user-data-secrets",
                        a.path,
                        "high",
                        `${a.path} carries ${leaks.join(", ")}: user-data is readable by anyone with ec2:DescribeInstanceAttribute.`,
                        "Put secrets in SSM Parameter Store SecureStrings and read them at boot with the instance role.",
                    ),
                );
        }
        if (a.path.startsWith("user-data/") || a.path.startsWith("edge/")) {
            const weak = weakTls(a.content);
            if (weak)
                out.push(
                    finding(
                        "weak-tls",
                        a.path,
                        "high",
                        `${a.path} allows ${weak}.`,
                        "Allow TLSv1.2 and TLSv1.3 only.",
                    ),
                );
        }
        if (a.path.startsWith("kubeadm/") && /kind:\s*ClusterConfiguration/.test(a.content)) {
            const gaps = cisGaps(a.content);
            if (gaps.length > 0)
                out.push(
                    finding(
                        "cis-control-plane",
                        a.path,
                        "medium",
                        `${a.path} misses CIS Kubernetes benchmark settings: ${gaps.join(", ")}.`,
                        "Keep Keelson's kubeadm defaults (Node,RBAC, profiling off, audit log, encryption at rest, kubelet read-only port 0).",
                    ),
                );
        }
    }
    return out;
}
