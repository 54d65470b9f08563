// The whole stage checked at once, before the first resource is registered: what the components would
// otherwise refuse only when they are constructed, after the network, the cluster and the add-ons were
// already registered (194 resources in prod). Pure: plans the application and the edge from plain values.
import { addonCharts } from "../addons/charts";
import { referenceServices } from "../app/reference-app";
import { AppDefinition, validateApplication } from "../app/validate";
import { expandedOrder } from "../app/backups";
import { planApplication } from "../app/plan";
import { Problem } from "../core/problems";
import { planEdge } from "../edge/plan";
import { EdgeRoute } from "../edge/types";
import { StageConfig } from "./types";

/** Namespaces Kubernetes itself owns. */
export const KUBERNETES_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/**
 * Runs every cross-component check on a parsed stage config and returns the problems (key, value,
 * fix), none when the stage can be built:
 * - the reference application validates (the graph, its names and ports) and plans;
 * - `app.namespace` is neither a Kubernetes namespace nor one the add-ons install into;
 * - the edge plans: every route host is served by a certificate, the edge has worker nodes to route
 *   to, and a public subnet to live in.
 */
export function planStage(config: StageConfig): Problem[] {
    const problems: Problem[] = [];
    const name = `keelson-${config.stage}`;

    // Namespaces: a collision would let the app's default-deny NetworkPolicies and Secrets land among
    // the add-ons' (or kube-system's) objects, and deleting the app would delete that namespace.
    const namespace = config.app.namespace;
    const addonNamespaces = config.existingCluster
        ? []
        : addonCharts(
              config.addons,
              {
                  clusterName: config.cluster.name,
                  region: config.region,
                  podCidr: config.cluster.podCidr,
              },
              { ebsCsi: "", fluentBit: "" },
          ).map((c) => ({ namespace: c.namespace, what: c.key }));
    if ((KUBERNETES_NAMESPACES as readonly string[]).includes(namespace)) {
        problems.push({
            key: "app.namespace",
            value: namespace,
            message: `app.namespace: "${namespace}" belongs to Kubernetes itself; pick a namespace of the application's own, e.g. app`,
        });
    } else {
        const owner = addonNamespaces.find((a) => a.namespace === namespace);
        if (owner)
            problems.push({
                key: "app.namespace",
                value: namespace,
                message: `app.namespace: "${namespace}" is where the add-ons install ${owner.what}; pick a namespace of the application's own, e.g. app`,
            });
    }

    // The application: validated and planned as Application would, to get its edge routes.
    const def: AppDefinition = {
        name,
        namespace,
        services: referenceServices(config.app),
        edgeSourceCidrs: config.existingCluster ? [] : config.network.privateSubnets, // the worker NLB (index.ts)
        publish: config.app.publish,
    };
    const appProblems = validateApplication(def);
    for (const p of appProblems) problems.push(appProblem(p, config));
    if (appProblems.length > 0 || config.existingCluster) return problems;
    let routes: readonly EdgeRoute[];
    try {
        // Built images are only known at deploy; the routes do not depend on them.
        const images = Object.fromEntries(
            expandedOrder(def.services).ordered.map((s) => [s.name, "planned:0"]),
        );
        routes = planApplication(def, images).routes;
    } catch (err) {
        problems.push({ key: "app", value: undefined, message: `app: ${(err as Error).message}` });
        return problems;
    }

    // The edge routes to the workers' NodePorts; with no worker it would have an empty upstream.
    const workers = config.cluster.workerPools.reduce((n, p) => n + p.count, 0);
    if (workers === 0) {
        problems.push({
            key: "cluster.workerPools",
            value: config.cluster.workerPools.map((p) => p.name),
            message: `cluster.workerPools: ${config.cluster.workerPools.length === 0 ? "[] has" : "(every count 0) has"} no worker nodes for the edge to route to; add a pool with count 1 or more`,
        });
    }
    const edge = planEdge({
        stage: config.stage,
        name: `${name}-edge`,
        config: config.edge,
        routes,
        // The pools' internal NLB (index.ts): one backend whatever the pools' sizes.
        backendNames: ["workers"],
        provided: config.edge.tlsMode === "provided" ? config.edge.certificates : [],
        subnetCount: config.network.publicSubnets.length,
    });
    for (const p of edge.problems) problems.push(edgeProblem(p, config));
    return problems;
}

/** An application problem under the config key it comes from. */
function appProblem(p: Problem, config: StageConfig): Problem {
    const rest = p.message.startsWith(`${p.key}: `) ? p.message.slice(p.key.length + 2) : p.message;
    if (p.key === "namespace") return { ...p, key: "app.namespace", message: `app.namespace: ${rest}` };
    if (p.key === "name")
        return { ...p, key: "stage", message: `stage: ${JSON.stringify(config.stage)} gives ${rest}` };
    return { ...p, key: `app.${p.key}`, message: `app.${p.key}: ${rest}` };
}

/** An edge problem under the config key it comes from. */
function edgeProblem(p: Problem, config: StageConfig): Problem {
    if (/^routes\..*\.hosts$/.test(p.key) && /no certificate serves/.test(p.message)) {
        const host = String(p.value);
        const served = config.edge.certificates.flatMap((c) => c.hosts);
        return {
            key: "app.hostname",
            value: host,
            message: `app.hostname: "${host}" is served by no certificate in edge.certificates (they serve ${served.join(", ") || "nothing"}); add it to a certificate's hosts, or change app.hostname`,
        };
    }
    if (/^(edge|network|cluster|app)\./.test(p.key)) return p;
    if (p.key.startsWith("certificates["))
        return { ...p, key: `edge.${p.key}`, message: `edge.${p.message}` };
    if (p.key.startsWith("backends[")) {
        return { ...p, key: "cluster.workerPools", message: `cluster.workerPools: ${p.message}` };
    }
    return { ...p, key: "edge", message: `edge: ${p.message}` };
}
