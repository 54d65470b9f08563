// Programs the plan benchmark (and the app tests) run under the mock engine: the reference application with
// the add-ons for a stage, generated applications of N services, and the same objects registered directly.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Addons } from "../../../components/addons/Addons";
import { Application } from "../../../components/app/Application";
import { createObject } from "../../../components/app/k8s-objects";
import { planApplication } from "../../../components/app/plan";
import { referenceApp } from "../../../components/app/reference-app";
import * as sv from "../../../components/app/services";
import { Service } from "../../../components/app/types";
import { AppDefinition } from "../../../components/app/validate";
import { addonsArgs, appArgs, readStageConfig } from "../../../components/config";

const IMAGE = "ghcr.io/stefanprodan/podinfo:6.9.2";

/**
 * The stage's add-ons and reference application on a provider from a placeholder kubeconfig (app-layer
 * only: no VM is involved), as index.ts composes them.
 */
export function referenceStageProgram(): Record<string, unknown> {
    const cfg = readStageConfig();
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline-plan" });
    // The cluster's issuer as index.ts passes it: the add-ons and the file stores' consumers assume roles.
    const webIdentity = {
        issuer: "https://offline-oidc.s3.eu-west-1.amazonaws.com",
        providerArn: "arn:aws:iam::123456789012:oidc-provider/offline-oidc.s3.eu-west-1.amazonaws.com",
    };
    const addons = new Addons("addons", { ...addonsArgs(cfg), provider, webIdentity });
    const app = referenceApp(`keelson-${cfg.stage}`, {
        ...appArgs(cfg),
        provider,
        edgeSourceCidrs: cfg.network.publicSubnets,
        dependsOn: addons.ready,
        webIdentity,
    });
    return { routes: app.routes };
}

/**
 * A generated application of `n` services: per ten, six containers, one worker, one Postgres, one Redis
 * and one Memcached; each container uses the latest data service and the previous container.
 */
export function generatedServices(n: number): Service[] {
    const services: Service[] = [];
    let data: Service | undefined = undefined;
    let previous: Service | undefined = undefined;
    for (let i = 0; i < n; i++) {
        const name = `s${i}`;
        const slot = i % 10;
        let s: Service;
        if (slot === 0) s = sv.postgres(name);
        else if (slot === 1) s = sv.redis(name);
        else if (slot === 2) s = sv.memcached(name);
        else if (slot === 3)
            s = sv.worker(name, { image: IMAGE, healthPort: 8080, connects: data ? [data] : [] });
        else {
            const connects = [data, previous].filter((x): x is Service => x !== undefined);
            s = sv.container(name, { image: IMAGE, port: 3000, replicas: 2, connects });
            previous = s;
        }
        if (slot <= 2) data = s;
        services.push(s);
    }
    return services;
}

/** The generated application as one Application component. */
export function generatedAppProgram(n: number): () => Record<string, unknown> {
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "offline-plan" });
        const app = new Application("gen", {
            services: generatedServices(n),
            provider,
            edgeSourceCidrs: ["10.0.192.0/22"],
        });
        return { namespace: app.namespace };
    };
}

/**
 * The same Kubernetes objects registered directly with @pulumi/kubernetes, no component, no validation:
 * the baseline of the overhead ratio. Manifests are rendered before the run starts; Secrets get
 * literal placeholder data as a hand-written program would.
 */
export function directProgram(n: number): () => Record<string, unknown> {
    const def: AppDefinition = {
        name: "gen",
        namespace: "gen",
        services: generatedServices(n),
        edgeSourceCidrs: ["10.0.192.0/22"],
    };
    const objects = planApplication(def).objects;
    return () => {
        const provider = new k8s.Provider("k8s", { kubeconfig: "offline-plan" });
        const created: Record<string, pulumi.CustomResource> = {};
        for (const o of objects) {
            const manifest = o.secret
                ? {
                      ...o.manifest,
                      stringData: Object.fromEntries(
                          Object.keys(o.secret.keys).map((k) => [k, pulumi.secret("x")]),
                      ),
                  }
                : o.manifest;
            created[o.key] = createObject(`gen-${o.key}`, manifest, {
                provider,
                dependsOn: o.dependsOn.map((k) => created[k]),
            });
        }
        return {};
    };
}
