// Shared shapes and naming for the pure manifest renderers.
import * as pulumi from "@pulumi/pulumi";

export type { Manifest } from "../../core/manifest";

/** An environment variable: a plain value, or a reference to a key of a Secret. */
export interface EnvVar {
    readonly name: string;
    readonly value?: string;
    readonly valueFrom?: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
}

/** Where the value of a Secret key comes from; the component turns each into a Pulumi secret. */
export type SecretSource =
    /** A generated password (32 letters and digits, @pulumi/random). */
    | { readonly generate: "password" }
    /** The password of the same Secret substituted for `{password}`, e.g. a connection URL. */
    | { readonly template: string }
    /** A value the user passed (`secretEnv`). */
    | { readonly input: pulumi.Input<string> }
    /** An attribute of the service's S3 file store. */
    | { readonly fileStore: "bucket" | "region" | "accessKeyId" | "secretAccessKey" | "url" };

/** A Secret to create: its manifest without data, and where each key's value comes from. */
export interface PlannedSecret {
    readonly name: string;
    readonly keys: Readonly<Record<string, SecretSource>>;
}

/** The label every selector uses: the service name, unique within the application namespace. */
export const NAME_LABEL = "app.kubernetes.io/name";

/** Labels of every object of a service. */
export function serviceLabels(app: string, service: string, component: string): Record<string, string> {
    return {
        [NAME_LABEL]: service,
        "app.kubernetes.io/part-of": app,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "keelson",
    };
}

/** The selector of a service's pods. */
export function selectorLabels(app: string, service: string): Record<string, string> {
    return { [NAME_LABEL]: service, "app.kubernetes.io/part-of": app };
}

/** Cluster DNS name of a service in a namespace; works with any cluster domain. */
export function serviceHost(service: string, namespace: string): string {
    return `${service}.${namespace}.svc`;
}

/** Name of the Secret holding a data service's generated credentials. */
export function credentialsSecretName(service: string): string {
    return `${service}-credentials`;
}

/** Name of the Secret holding a workload's `secretEnv`. */
export function envSecretName(service: string): string {
    return `${service}-env`;
}

/** A `secretKeyRef` environment variable. */
export function secretEnv(name: string, secret: string, key: string): EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}
