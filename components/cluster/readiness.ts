// The cluster-ready gate (design decision 3): a resource whose creation waits until the API answers
// `/readyz` through the endpoint with the CA Keelson generated, and until the admin certificate is
// authorised, so that Kubernetes resources depending on it can be created on a first `pulumi up`.
// Under mocks and in `pulumi preview` the provider's `create` never runs, so nothing polls.
import * as pulumi from "@pulumi/pulumi";

/** Inputs of the gate. */
export interface ReadinessGateArgs {
    /** `https://host:port` of the API as Pulumi reaches it. */
    readonly url: pulumi.Input<string>;
    readonly caCertPem: pulumi.Input<string>;
    readonly clientCertPem: pulumi.Input<string>;
    /** Secret. */
    readonly clientKeyPem: pulumi.Input<string>;
    /** Polls before giving up. Default 90 (15 minutes at the default interval). */
    readonly attempts?: pulumi.Input<number>;
    /** Milliseconds between polls. Default 10000. */
    readonly intervalMs?: pulumi.Input<number>;
    /**
     * Master slots (`master-0..n-1`) that must each have registered a Node (label `keelson.io/slot`)
     * running its etcd member (the `component=etcd` mirror pod). Default: not checked.
     */
    readonly expectedMasters?: string[];
    /** Nodes each worker pool must have registered (label `keelson.io/pool`). Default: not checked. */
    readonly expectedPools?: Record<string, number>;
}

interface GateInputs {
    url: string;
    caCertPem: string;
    clientCertPem: string;
    clientKeyPem: string;
    attempts: number;
    intervalMs: number;
    expectedMasters?: string[];
    expectedPools?: Record<string, number>;
}

interface ObjectList {
    items?: {
        metadata?: { name?: string; labels?: Record<string, string> };
        spec?: { nodeName?: string };
        status?: { phase?: string };
    }[];
}

/**
 * What is missing from the cluster, in one line, or undefined when every expected master slot has
 * a Node running its etcd member and every pool has its nodes. Pure (and serialised with the gate).
 */
export function membershipGaps(
    nodes: ObjectList,
    etcdPods: ObjectList,
    expectedMasters: readonly string[],
    expectedPools: Readonly<Record<string, number>>,
): string | undefined {
    const gaps: string[] = [];
    const bySlot = new Map<string, string>();
    const pools = new Map<string, number>();
    for (const n of nodes.items ?? []) {
        const labels = n.metadata?.labels ?? {};
        if (labels["keelson.io/slot"]) bySlot.set(labels["keelson.io/slot"], n.metadata?.name ?? "?");
        const pool = labels["keelson.io/pool"];
        if (pool) pools.set(pool, (pools.get(pool) ?? 0) + 1);
    }
    const etcdOn = new Set(
        (etcdPods.items ?? []).filter((p) => p.status?.phase === "Running").map((p) => p.spec?.nodeName),
    );
    for (const slot of expectedMasters) {
        const node = bySlot.get(slot);
        if (node === undefined) gaps.push(`${slot} has not registered`);
        else if (!etcdOn.has(node)) gaps.push(`${slot} (${node}) runs no etcd member`);
    }
    for (const [pool, want] of Object.entries(expectedPools)) {
        const have = pools.get(pool) ?? 0;
        if (have < want) gaps.push(`pool ${pool}: ${have} of ${want} nodes registered`);
    }
    return gaps.length > 0 ? gaps.join("; ") : undefined;
}

// Self-contained: Pulumi serialises this object into the state and runs it in the engine's
// dynamic-provider host, so everything it needs is required inside the functions.
const gateProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds: unknown, news: GateInputs) {
        return { inputs: news };
    },
    async diff(_id: string, olds: GateInputs, news: GateInputs) {
        // A new endpoint or CA means a new cluster to wait for; a renewed client certificate does not.
        const replaces = ["url", "caCertPem"].filter(
            (k) => olds[k as keyof GateInputs] !== news[k as keyof GateInputs],
        );
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
    async create(inputs: GateInputs) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const https = require("https") as typeof import("https");
        const get = (path: string, body?: string[]) =>
            new Promise<number>((resolve, reject) => {
                const req = https.get(
                    `${inputs.url}${path}`,
                    {
                        ca: inputs.caCertPem,
                        cert: inputs.clientCertPem,
                        key: inputs.clientKeyPem,
                        timeout: 5000,
                        agent: false,
                    },
                    (res) => {
                        res.setEncoding("utf8");
                        res.on("data", (chunk: string) => body?.push(chunk));
                        res.on("end", () => resolve(res.statusCode ?? 0));
                    },
                );
                req.on("timeout", () => req.destroy(new Error("timed out after 5 s")));
                req.on("error", reject);
            });
        let last = "no attempt made";
        for (let i = 1; i <= inputs.attempts; i++) {
            try {
                const readyz = await get("/readyz");
                // /readyz is anonymous; reading kube-system proves the admin certificate is bound too.
                const authorised = readyz === 200 ? await get("/api/v1/namespaces/kube-system") : 0;
                const expectMembers =
                    (inputs.expectedMasters ?? []).length > 0 ||
                    Object.keys(inputs.expectedPools ?? {}).length > 0;
                if (readyz === 200 && authorised === 200 && expectMembers) {
                    const nodes: string[] = [];
                    const pods: string[] = [];
                    const a = await get("/api/v1/nodes", nodes);
                    const b = await get(
                        "/api/v1/namespaces/kube-system/pods?labelSelector=component%3Detcd",
                        pods,
                    );
                    const gap =
                        a === 200 && b === 200
                            ? membershipGaps(
                                  JSON.parse(nodes.join("")),
                                  JSON.parse(pods.join("")),
                                  inputs.expectedMasters ?? [],
                                  inputs.expectedPools ?? {},
                              )
                            : `nodes ${a}, etcd pods ${b}`;
                    if (gap === undefined) {
                        return {
                            id: inputs.url,
                            outs: { url: inputs.url, caCertPem: inputs.caCertPem, attempts: i },
                        };
                    }
                    last = `the API answers but ${gap}`;
                } else if (readyz === 200 && authorised === 200) {
                    return {
                        id: inputs.url,
                        outs: { url: inputs.url, caCertPem: inputs.caCertPem, attempts: i },
                    };
                } else last = `/readyz ${readyz}, kube-system ${authorised}`;
            } catch (err) {
                last = (err as Error).message;
            }
            if (i < inputs.attempts) await new Promise((r) => setTimeout(r, inputs.intervalMs));
        }
        throw new Error(
            `the Kubernetes API at ${inputs.url} was not ready after ${inputs.attempts} attempts (last: ${last}); ` +
                "see each node's state in SSM (<prefix>/state/nodes/<name>) and `journalctl -u keelson-bootstrap` over Session Manager",
        );
    },
};

/**
 * The readiness gate, type `pulumi-nodejs:dynamic/keelson:ClusterReady`. `create` polls `/readyz`
 * and `/api/v1/namespaces/kube-system` with the admin client certificate, verifying the server
 * against the generated CA, then (when given) until every expected master slot runs its etcd member
 * and every pool has registered its nodes, at most `attempts` times; on timeout the error names
 * what is missing (`master-2 has not registered; pool general: 2 of 3 nodes registered`).
 */
export class ClusterReady extends pulumi.dynamic.Resource {
    /** The URL that answered. */
    declare readonly url: pulumi.Output<string>;

    constructor(name: string, args: ReadinessGateArgs, opts: pulumi.CustomResourceOptions = {}) {
        super(
            gateProvider,
            name,
            {
                url: args.url,
                caCertPem: args.caCertPem,
                clientCertPem: args.clientCertPem,
                clientKeyPem: pulumi.secret(args.clientKeyPem),
                attempts: args.attempts ?? 90,
                intervalMs: args.intervalMs ?? 10000,
                expectedMasters: args.expectedMasters ?? [],
                expectedPools: args.expectedPools ?? {},
            },
            { ...opts, additionalSecretOutputs: ["clientKeyPem"] },
            "keelson",
            "ClusterReady",
        );
    }
}

/** The provider itself, exported for a live test against a local HTTPS server. */
export const readinessProviderForTests = gateProvider;
