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
}

interface GateInputs {
    url: string;
    caCertPem: string;
    clientCertPem: string;
    clientKeyPem: string;
    attempts: number;
    intervalMs: number;
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
        const get = (path: string) =>
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
                        res.resume();
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
                if (readyz === 200 && authorised === 200) {
                    return {
                        id: inputs.url,
                        outs: { url: inputs.url, caCertPem: inputs.caCertPem, attempts: i },
                    };
                }
                last = `/readyz ${readyz}, kube-system ${authorised}`;
            } catch (err) {
                last = (err as Error).message;
            }
            if (i < inputs.attempts) await new Promise((r) => setTimeout(r, inputs.intervalMs));
        }
        throw new Error(
            `the Kubernetes API at ${inputs.url} was not ready after ${inputs.attempts} attempts (last: ${last}); ` +
                "check the masters' bootstrap with `journalctl -t keelson-bootstrap` over SSM Session Manager",
        );
    },
};

/**
 * The readiness gate, type `pulumi-nodejs:dynamic/keelson:ClusterReady`. `create` polls `/readyz`
 * and `/api/v1/namespaces/kube-system` with the admin client certificate, verifying the server
 * against the generated CA, at most `attempts` times.
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
            },
            { ...opts, additionalSecretOutputs: ["clientKeyPem"] },
            "keelson",
            "ClusterReady",
        );
    }
}

/** The provider itself, exported for a live test against a local HTTPS server. */
export const readinessProviderForTests = gateProvider;
