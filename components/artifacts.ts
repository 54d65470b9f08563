import * as pulumi from "@pulumi/pulumi";

/** A rendered file (user-data, nginx.conf, a manifest) that the offline plan writes under `out/<stage>/`. */
export interface Artifact {
    /** Path relative to `out/<stage>/`, e.g. `user-data/master-0.yaml`. */
    readonly path: string;
    readonly content: pulumi.Output<string>;
}

// Kept on globalThis so that two copies of this module (ts-node and compiled) share one list.
const key = Symbol.for("keelson.artifacts");
type Store = { list: Artifact[] };
const store: Store = ((globalThis as Record<symbol, unknown>)[key] as Store | undefined) ?? { list: [] };
(globalThis as Record<symbol, unknown>)[key] = store;

/**
 * Records a rendered artifact for the offline plan. Components call this for every text they
 * render; under `pulumi up` the list is simply never read. Paths must be unique per program run.
 */
export function recordArtifact(path: string, content: pulumi.Input<string>): void {
    if (store.list.some((a) => a.path === path)) {
        throw new Error(`artifact ${path} was recorded twice; artifact paths must be unique`);
    }
    store.list.push({ path, content: pulumi.output(content) });
}

/** Returns the artifacts recorded since the last reset, and clears the list. */
export function takeArtifacts(): Artifact[] {
    const taken = store.list;
    store.list = [];
    return taken;
}
