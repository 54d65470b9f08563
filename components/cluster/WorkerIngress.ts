// The stable address of the worker pools for the edge: pool nodes come and go with their Auto
// Scaling Groups, so the edge forwards to an internal NLB whose target groups the groups register
// their instances in, one listener per published NodePort.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { boundedName } from "./endpoint";

/** One published NodePort the edge forwards to. */
export interface IngressPort {
    readonly protocol: "TCP" | "UDP";
    readonly port: number;
    /** kube-proxy's health-check NodePort of the service behind it (HTTP `/healthz`), when it has one. */
    readonly healthCheckNodePort?: number;
}

/**
 * The distinct NodePorts of the edge's routes, sorted by port then protocol: HTTP routes and TCP
 * streams are TCP, UDP streams UDP. Pure.
 */
export function ingressPorts(
    routes: readonly {
        readonly kind: string;
        readonly nodePort: number;
        readonly healthCheckNodePort?: number;
    }[],
): IngressPort[] {
    const seen = new Map<string, IngressPort>();
    for (const r of routes) {
        const protocol = r.kind === "udp" ? "UDP" : "TCP";
        const health = r.healthCheckNodePort ? { healthCheckNodePort: r.healthCheckNodePort } : {};
        seen.set(`${protocol}/${r.nodePort}`, { protocol, port: r.nodePort, ...health });
    }
    return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/**
 * Seconds a node leaving a target group keeps its connections: after deregistration (its instance
 * terminates) and after it turns unhealthy (its pods of the service terminate). At least the default
 * `terminationGracePeriodSeconds` (30 s): a pod behind the edge keeps answering the requests in flight,
 * and those on connections still open, until it exits, which is within its grace period of the moment its
 * node started failing kube-proxy's check.
 */
export const WORKER_DRAIN_SECONDS = 30;

/**
 * How the NLB checks the nodes behind one port and lets them go (pure; the rollout live test runs its
 * stand-in from this). With kube-proxy's health-check NodePort: `/healthz` every 5 s (200 only with a
 * ready local pod, 503 once they all terminate), out after 2 failures and back after 2 passes. Connections
 * to a node that turns unhealthy are kept for {@link WORKER_DRAIN_SECONDS} (`unhealthy.draining`) instead
 * of being reset at once, AWS's default, which would fail the requests in flight on the pods that are
 * still serving out their preStop sleep; only TCP target groups have the setting. Without a health port,
 * TCP on the NodePort every 10 s.
 */
export function targetHealth(p: IngressPort) {
    return {
        deregistrationDelay: WORKER_DRAIN_SECONDS,
        healthCheck: p.healthCheckNodePort
            ? {
                  enabled: true,
                  protocol: "HTTP",
                  port: String(p.healthCheckNodePort),
                  path: "/healthz",
                  matcher: "200",
                  interval: 5,
                  timeout: 2,
                  healthyThreshold: 2,
                  unhealthyThreshold: 2,
              }
            : {
                  enabled: true,
                  protocol: "TCP",
                  port: String(p.port),
                  interval: 10,
                  healthyThreshold: 2,
                  unhealthyThreshold: 2,
              },
        ...(p.protocol === "TCP"
            ? {
                  targetHealthStates: [
                      {
                          enableUnhealthyConnectionTermination: false,
                          unhealthyDrainingInterval: WORKER_DRAIN_SECONDS,
                      },
                  ],
              }
            : {}),
    };
}

/** Inputs of a {@link WorkerIngress}. */
export interface WorkerIngressArgs {
    readonly vpcId: pulumi.Input<string>;
    /** The private subnets (the NLB gets one address in each). */
    readonly subnetIds: pulumi.Input<string>[];
    /** The NLB's security group (the network's `workerLb`). */
    readonly securityGroupId: pulumi.Input<string>;
    /** Auto Scaling Group names of the pools whose nodes serve the ports, by pool name. */
    readonly groups: Readonly<Record<string, pulumi.Input<string>>>;
    /** What the edge forwards to, e.g. `Application.routes`. */
    readonly routes: readonly {
        readonly kind: string;
        readonly nodePort: number;
        readonly healthCheckNodePort?: number;
    }[];
    readonly tags: Record<string, string>;
}

/**
 * An internal network load balancer in front of the worker pools (`keelson:cluster:WorkerIngress`):
 * per published NodePort a listener on the same port and an instance target group, health-checked on
 * kube-proxy's `/healthz` of the service (its health-check NodePort; over TCP where there is none), to which every pool's Auto Scaling Group attaches (its new nodes register themselves,
 * terminated ones deregister, with a 30 s drain; a node failing the check keeps its connections as long,
 * {@link targetHealth}). Client IP preservation is off, so the nodes see
 * the NLB's addresses, which its security group stands for in their firewall; cross-zone balancing
 * is on, so a zone with fewer nodes is not overloaded. `dnsName` resolves to one private address
 * per zone, which the edge lists as its pool.
 */
export class WorkerIngress extends pulumi.ComponentResource {
    readonly loadBalancer: aws.lb.LoadBalancer;
    readonly dnsName: pulumi.Output<string>;
    readonly targetGroups: aws.lb.TargetGroup[];

    constructor(name: string, args: WorkerIngressArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("keelson:cluster:WorkerIngress", name, {}, opts);
        this.loadBalancer = new aws.lb.LoadBalancer(
            boundedName(name),
            {
                loadBalancerType: "network",
                internal: true,
                subnets: args.subnetIds,
                securityGroups: [args.securityGroupId],
                enableCrossZoneLoadBalancing: true,
                tags: { ...args.tags, Name: name },
            },
            { parent: this },
        );
        this.dnsName = this.loadBalancer.dnsName;
        this.targetGroups = ingressPorts(args.routes).map((p) => {
            const key = `${name}-${p.protocol.toLowerCase()}-${p.port}`;
            const tg = new aws.lb.TargetGroup(
                boundedName(key),
                {
                    vpcId: args.vpcId,
                    port: p.port,
                    protocol: p.protocol,
                    targetType: "instance",
                    preserveClientIp: "false",
                    ...targetHealth(p),
                    tags: { ...args.tags, Name: key },
                },
                { parent: this },
            );
            new aws.lb.Listener(
                key,
                {
                    loadBalancerArn: this.loadBalancer.arn,
                    port: p.port,
                    protocol: p.protocol,
                    defaultActions: [{ type: "forward", targetGroupArn: tg.arn }],
                    tags: { ...args.tags, Name: key },
                },
                { parent: this },
            );
            for (const [pool, group] of Object.entries(args.groups)) {
                new aws.autoscaling.Attachment(
                    `${key}-${pool}`,
                    { autoscalingGroupName: group, lbTargetGroupArn: tg.arn },
                    { parent: this },
                );
            }
            return tg;
        });
        this.registerOutputs({ dnsName: this.dnsName });
    }
}
