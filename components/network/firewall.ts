// The cluster's firewall as data: every ingress rule of every security group, least privilege, each described.
// Pure, so the rule set is tested without mocks and read in the plan.

/** The security groups Keelson creates. */
export type GroupName = "masters" | "workers" | "apiLb" | "workerLb" | "edge";

/** One ingress rule. Egress is open (package mirrors, image registries, SSM). */
export interface FirewallRule {
    /** Stable key, used in the rule's resource name. */
    readonly key: string;
    readonly group: GroupName;
    readonly protocol: "tcp" | "udp";
    readonly fromPort: number;
    readonly toPort: number;
    /** Another group, or a CIDR block. */
    readonly source: { group: GroupName } | { cidr: string };
    readonly description: string;
}

/** What decides the rule set. */
export interface FirewallInputs {
    readonly cni: "calico" | "cilium";
    readonly endpoint: "single" | "nlb" | "haproxy";
    /** CIDRs allowed to the API from outside the VPC. */
    readonly apiAllowedCidrs: readonly string[];
}

const nodes: GroupName[] = ["masters", "workers"];

/** Every ingress rule for the given cluster shape. No rule opens port 22: operators use SSM Session Manager. */
export function firewallRules(inputs: FirewallInputs): FirewallRule[] {
    const rules: FirewallRule[] = [];
    const add = (rule: FirewallRule) => rules.push(rule);
    const apiGroups: GroupName[] = inputs.endpoint === "single" ? ["masters"] : ["apiLb", "masters"];
    for (const group of apiGroups) {
        for (const from of group === "apiLb" ? nodes : (["apiLb", ...nodes] as GroupName[])) {
            if (group === "masters" && from === "apiLb" && inputs.endpoint === "single") continue;
            add({
                key: `${group}-api-from-${from}`,
                group,
                protocol: "tcp",
                fromPort: 6443,
                toPort: 6443,
                source: { group: from },
                description: `Kubernetes API from the ${describe(from)}`,
            });
        }
    }
    // Operators and CI reach the API on the internet-facing endpoint only; the nodes use the internal
    // path (the internal NLB, whose security group is apiLb too, or private addresses).
    const external: GroupName = inputs.endpoint === "single" ? "masters" : "apiLb";
    inputs.apiAllowedCidrs.forEach((cidr, i) =>
        add({
            key: `${external}-api-from-allowed-${i}`,
            group: external,
            protocol: "tcp",
            fromPort: 6443,
            toPort: 6443,
            source: { cidr },
            description: `Kubernetes API from allowed operators and CI (cluster.apiAllowedCidrs[${i}])`,
        }),
    );
    add({
        key: "masters-etcd-from-masters",
        group: "masters",
        protocol: "tcp",
        fromPort: 2379,
        toPort: 2380,
        source: { group: "masters" },
        description: "etcd client and peer traffic between masters",
    });
    for (const group of nodes) {
        add({
            key: `${group}-kubelet-from-masters`,
            group,
            protocol: "tcp",
            fromPort: 10250,
            toPort: 10250,
            source: { group: "masters" },
            description: "kubelet API from the control plane (logs, exec, metrics)",
        });
    }
    const overlay =
        inputs.cni === "calico"
            ? [
                  { key: "vxlan", protocol: "udp" as const, port: 4789, what: "Calico VXLAN pod network" },
                  { key: "typha", protocol: "tcp" as const, port: 5473, what: "Calico Typha" },
              ]
            : [
                  { key: "vxlan", protocol: "udp" as const, port: 8472, what: "Cilium VXLAN pod network" },
                  { key: "health", protocol: "tcp" as const, port: 4240, what: "Cilium health checks" },
              ];
    for (const group of nodes) {
        for (const from of nodes) {
            for (const o of overlay) {
                add({
                    key: `${group}-${o.key}-from-${from}`,
                    group,
                    protocol: o.protocol,
                    fromPort: o.port,
                    toPort: o.port,
                    source: { group: from },
                    description: `${o.what} from the ${describe(from)}`,
                });
            }
        }
    }
    // The edge reaches the pools' nodes, which come and go, through the internal worker NLB (its
    // listeners carry the NodePort numbers; client IPs are not preserved, so the nodes see the NLB).
    for (const protocol of ["tcp", "udp"] as const) {
        add({
            key: `workerLb-nodeports-${protocol}-from-edge`,
            group: "workerLb",
            protocol,
            fromPort: 30000,
            toPort: 32767,
            source: { group: "edge" },
            description: `Published services (${protocol.toUpperCase()} NodePorts) from the edge load balancers`,
        });
        add({
            key: `workers-nodeports-${protocol}-from-workerLb`,
            group: "workers",
            protocol,
            fromPort: 30000,
            toPort: 32767,
            source: { group: "workerLb" },
            description: `Published services (${protocol.toUpperCase()} NodePorts) from the worker ingress NLB`,
        });
    }
    return rules;
}

function describe(group: GroupName): string {
    return {
        masters: "masters",
        workers: "workers",
        apiLb: "API load balancer",
        workerLb: "worker ingress NLB",
        edge: "edge load balancers",
    }[group];
}
