// What a component rendered (user-data, engine configs, manifests), held by the component itself: no
// process-global registry, so two Clusters, Edges or Applications in one program each keep their own.
import * as pulumi from "@pulumi/pulumi";

/**
 * Rendered texts by path relative to the plan's output folder, e.g. `user-data/master-0.yaml`. A
 * component exposes them as its `artifacts` property and registers them as its `artifacts` output, which
 * is where the offline plan reads them (and what `pulumi stack export` shows).
 */
export type Artifacts = Readonly<Record<string, pulumi.Output<string>>>;

/** Collects one component's artifacts; each path is recorded once. */
export class ArtifactSet {
    private readonly byPath: Record<string, pulumi.Output<string>> = {};

    /** Records `content` at `path`; throws when the component already recorded that path. */
    add(path: string, content: pulumi.Input<string>): void {
        if (path in this.byPath) {
            throw new Error(
                `artifact ${path} was recorded twice; artifact paths must be unique per component`,
            );
        }
        this.byPath[path] = pulumi.output(content);
    }

    /** Records every artifact of `artifacts` (e.g. what a helper rendered for this component). */
    addAll(artifacts: Artifacts): void {
        for (const [path, content] of Object.entries(artifacts)) this.add(path, content);
    }

    /** A snapshot of what was recorded so far. */
    get files(): Artifacts {
        return { ...this.byPath };
    }
}
