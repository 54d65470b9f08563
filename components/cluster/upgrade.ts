// Upgrades of a running cluster (issue 10.4): changing `cluster.kubernetesVersion` by one minor (or a patch)
// upgrades the masters in place, one at a time in kubeadm's order, through SSM; the worker pools then roll
// onto launch templates of the new version (their instance refresh, one node at a time, each drained).
//
// - `<name>-version` (a dynamic resource, `keelson:ClusterVersion`) holds the version Pulumi last applied.
//   Its `check` compares it with the new one and refuses a downgrade or a skipped minor before anything
//   that depends on it (every upgrade step, the pools' templates, the cloud controller) is touched.
// - `<name>-upgrade` is the SSM Command document (./render/upgrade.ts). `<name>-upgrade-master-<i>` runs its
//   control-plane phase on master i (kubeadm upgrade apply on master 0, upgrade node on the others), one master
//   after the other; then `<name>-upgrade-kubelet-master-<i>` its kubelet phase (drain, kubelet, uncordon), one
//   after the other, so that no kubelet is newer than an API server. The association's name carries the version, and a change of its parameters replaces it:
//   the provider waits for Success only when it creates an association (terraform-provider-aws
//   internal/service/ssm/association.go: `waitAssociationCreated` in Create, none in Update), so a new
//   version creates a new association per master, each after the one before has succeeded. A failed step
//   (the script exits non-zero at its first failed check) fails `pulumi up` there, and nothing after it runs.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MASTER_SLOT_TAG, masterSlotTagValue } from "./MasterSlot";
import { renderUpgradeDocument, upgradeProblem, upgradeScriptTimeouts } from "./render/upgrade";
import { UpgradeSpec } from "./types";

/** Seconds `pulumi up` waits for one master's upgrade to succeed. */
export const UPGRADE_STEP_TIMEOUT_SECONDS = 3600;

interface VersionInputs {
    version: string;
}

// Self-contained: Pulumi serialises this object (and upgradeProblem) into the state and runs it in the
// engine's dynamic-provider host.
const versionProvider: pulumi.dynamic.ResourceProvider = {
    async check(olds: Partial<VersionInputs> | undefined, news: VersionInputs) {
        const from = olds?.version;
        const problem = from === undefined ? undefined : upgradeProblem(from, news.version);
        return problem
            ? { inputs: news, failures: [{ property: "version", reason: problem }] }
            : { inputs: news };
    },
    async diff(_id: string, olds: VersionInputs, news: VersionInputs) {
        return { changes: olds.version !== news.version, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: VersionInputs) {
        return { id: "kubernetes-version", outs: { version: inputs.version } };
    },
    async update(_id: string, _olds: VersionInputs, news: VersionInputs) {
        return { outs: { version: news.version } };
    },
};

/** The provider, exported for tests of its `check`. */
export const versionProviderForTests = versionProvider;

/**
 * The version Pulumi last applied to the cluster, type `pulumi-nodejs:dynamic/keelson:ClusterVersion`: a
 * change to one it refuses ({@link upgradeProblem}) fails its `check`, in `pulumi preview` as in `pulumi up`.
 */
export class ClusterVersion extends pulumi.dynamic.Resource {
    declare readonly version: pulumi.Output<string>;

    constructor(name: string, version: string, opts: pulumi.CustomResourceOptions = {}) {
        super(versionProvider, name, { version }, opts, "keelson", "ClusterVersion");
    }
}

/** Inputs of {@link createUpgradeSteps}. */
export interface UpgradeStepsArgs {
    readonly clusterName: string;
    readonly kubernetesVersion: string;
    readonly region: string;
    readonly ssmPrefix: string;
    /**
     * One resource per master slot, in slot order (`master-0` first: it runs `kubeadm upgrade apply`): the
     * instance or the slot's group. A step targets its slot's tag ({@link MASTER_SLOT_TAG}), not an instance ID,
     * so it reaches whichever instance runs the slot (a healed slot's replacement runs it too, and skips the
     * steps its bootstrap already did), and waits for that resource.
     */
    readonly masters: pulumi.Resource[];
    /** The waits of each master's upgrade. */
    readonly timeouts: UpgradeSpec;
    readonly tags: Record<string, string>;
}

/** What {@link createUpgradeSteps} makes. */
export interface UpgradeSteps {
    readonly version: ClusterVersion;
    readonly document: aws.ssm.Document;
    /** Each master's control plane in slot order, then each master's kubelet; each depends on the one before. */
    readonly steps: aws.ssm.Association[];
    /** What must wait for the control plane's upgrade: the last step. */
    readonly done: pulumi.Resource;
}

/** The version guard, the upgrade document and one chained association per master, as children of `parent`. */
export function createUpgradeSteps(name: string, a: UpgradeStepsArgs, parent: pulumi.Resource): UpgradeSteps {
    const version = new ClusterVersion(`${name}-version`, a.kubernetesVersion, { parent });
    const document = new aws.ssm.Document(
        `${name}-upgrade`,
        {
            name: `${a.clusterName}-upgrade`,
            documentType: "Command",
            documentFormat: "JSON",
            content: renderUpgradeDocument({
                region: a.region,
                ssmPrefix: a.ssmPrefix,
                masters: a.masters.length,
                ...upgradeScriptTimeouts(a.timeouts),
            }),
            tags: { ...a.tags, Name: `${a.clusterName}-upgrade` },
        },
        { parent },
    );
    const dotless = a.kubernetesVersion.replace(/\./g, "-");
    const steps: aws.ssm.Association[] = [];
    // Every master's control plane first, one at a time, then every master's kubelet, one at a time: no
    // kubelet is ever newer than an API server it can reach through the endpoint (the version skew policy).
    for (const phase of ["control-plane", "kubelet"] as const) {
        a.masters.forEach((master, i) => {
            const slot = `master-${i}`;
            const step = phase === "control-plane" ? `upgrade-${slot}` : `upgrade-kubelet-${slot}`;
            const before = steps[steps.length - 1];
            steps.push(
                new aws.ssm.Association(
                    `${name}-${step}`,
                    {
                        name: document.name,
                        associationName: `${a.clusterName}-${step}-${dotless}`,
                        targets: [
                            {
                                key: `tag:${MASTER_SLOT_TAG}`,
                                values: [masterSlotTagValue(a.clusterName, slot)],
                            },
                        ],
                        parameters: {
                            version: a.kubernetesVersion,
                            slot,
                            first: i === 0 ? "yes" : "no",
                            phase,
                        },
                        maxConcurrency: "1",
                        maxErrors: "0",
                        waitForSuccessTimeoutSeconds: UPGRADE_STEP_TIMEOUT_SECONDS,
                        tags: { ...a.tags, Name: `${a.clusterName}-${step}` },
                    },
                    {
                        parent,
                        // A new version is a new association (created, so waited for), never an update.
                        replaceOnChanges: ["parameters", "associationName"],
                        dependsOn: [version, document, master, ...(before ? [before] : [])],
                    },
                ),
            );
        });
    }
    return { version, document, steps, done: steps[steps.length - 1] };
}
