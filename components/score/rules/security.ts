// Security: VMs, the firewall, user-data and pods, after Checkov/tfsec and the Pod Security Standards.
import { PlanResource } from "../../core/graph";
import { GraphView } from "../graph-view";
import { declaredByEdge, ingressRules, openToWorld, portsText, userDataSecrets } from "../aws-rules";
import { Finding, findingsFor } from "../types";
import { restrictedViolations } from "../pod-security";
import { arr, hostAccess, obj, plainSecretEnv } from "../workloads";

const finding = findingsFor("security");

/** Instances: IMDSv2, encrypted volumes, no secrets in user-data. */
export function instanceSecurity(view: GraphView): Finding[] {
    const out: Finding[] = [];
    for (const { resource: r } of view.instances) {
        if (obj(r.inputs.metadataOptions).httpTokens !== "required") {
            out.push(
                finding(
                    "imdsv2",
                    r.urn,
                    "high",
                    `${r.name} allows IMDSv1: any SSRF on the host can read its role credentials.`,
                    "Set metadataOptions.httpTokens to required.",
                ),
            );
        }
        const unencrypted = [
            obj(r.inputs.rootBlockDevice),
            ...(Array.isArray(r.inputs.ebsBlockDevices) ? r.inputs.ebsBlockDevices.map(obj) : []),
        ].filter((d, i) => d.encrypted !== true && (i === 0 || Object.keys(d).length > 0));
        if (unencrypted.length > 0) {
            out.push(
                finding(
                    "encrypted-volumes",
                    r.urn,
                    "high",
                    `${r.name} has ${unencrypted.length} unencrypted EBS volume(s).`,
                    "Set rootBlockDevice.encrypted (and every ebsBlockDevices[].encrypted) to true.",
                ),
            );
        }
        const leaks = userDataSecrets(r.inputs.userData);
        if (leaks.length > 0) {
            out.push(
                finding(
                    "user-data-secrets",
                    r.urn,
                    "high",
                    `${r.name}'s user-data carries ${leaks.join(", ")}: user-data is readable by anyone with ec2:DescribeInstanceAttribute.`,
                    "Put secrets in SSM Parameter Store SecureStrings and read them at boot with the instance role.",
                ),
            );
        }
    }
    for (const v of view.ofType("aws:ebs/volume:Volume")) {
        if (v.inputs.encrypted !== true) {
            out.push(
                finding(
                    "encrypted-volumes",
                    v.urn,
                    "high",
                    `EBS volume ${v.name} is not encrypted.`,
                    "Set encrypted: true.",
                ),
            );
        }
    }
    return out;
}

/** The firewall: world-open ports, SSH/RDP, undescribed rules. */
export function firewallSecurity(view: GraphView, publicPorts: readonly number[]): Finding[] {
    const out: Finding[] = [];
    const allowed = new Set([80, 443, ...publicPorts]);
    for (const rule of ingressRules(view.resources)) {
        const { resource: r } = rule;
        const world = openToWorld(rule);
        const admin =
            rule.protocol !== "-1" && [22, 3389].some((p) => rule.fromPort <= p && p <= rule.toPort);
        if (world && rule.protocol === "-1") {
            out.push(
                finding(
                    "open-ingress",
                    r.urn,
                    "critical",
                    `${r.name} opens every port to the internet.`,
                    "Open only 80/443 (and declared stream ports) on the edge; use security-group references inside the VPC.",
                ),
            );
        } else if (admin) {
            out.push(
                finding(
                    "ssh-rdp",
                    r.urn,
                    "high",
                    `${r.name} opens ${portsText(rule)} (SSH/RDP): Keelson nodes need no SSH.`,
                    "Remove the rule and use SSM Session Manager.",
                ),
            );
        } else if (world && rule.fromPort === 6443 && rule.toPort === 6443) {
            out.push(
                finding(
                    "api-open",
                    r.urn,
                    "medium",
                    `${r.name} opens the Kubernetes API (tcp 6443) to the internet: it still needs a client certificate, but every scanner and API-server CVE can reach it.`,
                    "Set cluster.apiAllowedCidrs to your office/VPN ranges.",
                ),
            );
        } else if (
            world &&
            !(rule.fromPort === rule.toPort && allowed.has(rule.fromPort)) &&
            !declaredByEdge(rule)
        ) {
            out.push(
                finding(
                    "open-ingress",
                    r.urn,
                    "high",
                    `${r.name} opens ${portsText(rule)} to the internet.`,
                    "Restrict the source CIDR, or publish the port through the edge (only 80, 443 and declared stream ports may be public).",
                ),
            );
        }
        if (!rule.description) {
            out.push(
                finding(
                    "rule-description",
                    r.urn,
                    "low",
                    `${r.name} has no description.`,
                    'Describe why the rule exists (description: "kubelet from masters").',
                ),
            );
        }
    }
    return out;
}

function hasDefaultDeny(policies: readonly PlanResource[], namespace: string): boolean {
    return policies.some((p) => {
        const spec = obj(p.inputs.spec);
        const ns = obj(p.inputs.metadata).namespace ?? "default";
        const types = Array.isArray(spec.policyTypes) ? spec.policyTypes : [];
        return (
            ns === namespace &&
            Object.keys(obj(spec.podSelector)).length === 0 &&
            types.includes("Ingress") &&
            (!Array.isArray(spec.ingress) || spec.ingress.length === 0)
        );
    });
}

/** Pods: restricted security context, host access, plain-text secrets, default-deny NetworkPolicy. */
export function podSecurity(view: GraphView, systemNamespaces: readonly string[]): Finding[] {
    const out: Finding[] = [];
    const policies = view.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    const namespaces = new Set<string>();
    for (const w of view.workloads) {
        const id = `${w.kind} ${w.namespace}/${w.name}`;
        const system = systemNamespaces.includes(w.namespace);
        if (!system) namespaces.add(w.namespace);
        // The restricted profile's failed checks (pod-security.ts, the policy pack's) minus what host-access
        // reports (host namespaces, ports, hostPath), plus the read-only root filesystem Keelson also asks for.
        const volumes = arr(w.podSpec.volumes).filter((v) => obj(v).hostPath === undefined);
        const gaps = new Set<string>(
            restrictedViolations({ ...w.podSpec, volumes }, w.podMetadata)
                .map((v) => v.check)
                .filter((c) => c !== "hostNamespaces" && c !== "hostPorts"),
        );
        for (const c of [...w.initContainers, ...w.containers]) {
            if (obj(c.securityContext).readOnlyRootFilesystem !== true) gaps.add("readOnlyRootFilesystem");
        }
        const host = hostAccess(w.podSpec, [...w.initContainers, ...w.containers]);
        if (gaps.has("privileged") || (host.length > 0 && !system)) {
            out.push(
                finding(
                    "host-access",
                    w.urn,
                    "high",
                    `${id} asks for ${[...(gaps.has("privileged") ? ["privileged"] : []), ...host].join(", ")}.`,
                    "Drop privileged mode and host namespaces/paths/ports; only node agents and control-plane jobs in system namespaces may use them.",
                ),
            );
        }
        gaps.delete("privileged");
        if (gaps.size > 0) {
            out.push(
                finding(
                    "restricted-pods",
                    w.urn,
                    system ? "low" : "medium",
                    `${id} misses the restricted security context: ${[...gaps].join(", ")}.`,
                    "Keep Keelson's default security context (non-root, no privilege escalation, drop ALL, RuntimeDefault seccomp, read-only root).",
                ),
            );
        }
        const plain = [...w.initContainers, ...w.containers].flatMap(plainSecretEnv);
        if (plain.length > 0) {
            out.push(
                finding(
                    "secret-env",
                    w.urn,
                    "high",
                    `${id} sets ${[...new Set(plain)].join(", ")} as plain env values.`,
                    "Read credentials from a Secret (valueFrom.secretKeyRef or envFrom.secretRef).",
                ),
            );
        }
    }
    for (const ns of [...namespaces].sort()) {
        if (!hasDefaultDeny(policies, ns)) {
            out.push(
                finding(
                    "network-policy-default-deny",
                    `namespace/${ns}`,
                    "medium",
                    `Namespace ${ns} has no default-deny ingress NetworkPolicy: every pod accepts traffic from anywhere in the cluster.`,
                    "Add a NetworkPolicy with podSelector {} and policyTypes [Ingress] (Keelson's Application does), then allow declared edges.",
                ),
            );
        }
    }
    return out;
}
