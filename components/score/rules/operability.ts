// Operability: can the stage be run day to day (probes, pinned images, limits, logs and metrics)?
import { GraphView } from "../graph-view";
import { Finding, findingsFor } from "../types";
import { imageTagProblem, obj } from "../workloads";

const finding = findingsFor("operability");

/** A resource whose URN names a log collector. */
export const LOGGING_ADDON = /fluent-?bit|fluentd|vector|promtail|log-?collector|logging/i;
/** A resource whose URN names metrics-server. */
export const METRICS_ADDON = /metrics-?server/i;

/** Probes, image tags and limits on every container; logging and metrics add-ons present. */
export function operabilityFindings(view: GraphView): Finding[] {
    const out: Finding[] = [];
    for (const w of view.workloads) {
        const id = `${w.kind} ${w.namespace}/${w.name}`;
        const serving = w.kind !== "CronJob" && w.kind !== "Job";
        for (const c of w.containers) {
            const cid = `${id} container ${c.name ?? "?"}`;
            if (serving) {
                const missing = ["livenessProbe", "readinessProbe"].filter((p) => c[p] === undefined);
                if (missing.length > 0) {
                    out.push(
                        finding(
                            "probes",
                            w.urn,
                            "medium",
                            `${cid} has no ${missing.join(" or ")}.`,
                            "Set a readinessProbe (is it ready for traffic?) and a livenessProbe (is it stuck?).",
                        ),
                    );
                } else if (JSON.stringify(c.livenessProbe) === JSON.stringify(c.readinessProbe)) {
                    out.push(
                        finding(
                            "identical-probes",
                            w.urn,
                            "low",
                            `${cid} uses the same liveness and readiness probe: a slow dependency restarts it.`,
                            "Make the liveness probe cheaper or more tolerant than the readiness probe.",
                        ),
                    );
                }
            }
            const tag = imageTagProblem(c.image);
            if (tag) {
                out.push(
                    finding(
                        "pinned-image",
                        w.urn,
                        "medium",
                        `${cid} uses image ${String(c.image)} (${tag}): deploys are not reproducible.`,
                        "Pin an exact version tag or digest.",
                    ),
                );
            }
            const limits = obj(obj(c.resources).limits);
            if (limits.memory === undefined) {
                out.push(
                    finding(
                        "limits",
                        w.urn,
                        "medium",
                        `${cid} has no memory limit: a leak can starve the node.`,
                        "Set resources.limits.memory (and usually cpu).",
                    ),
                );
            }
        }
    }
    if (view.instances.some((i) => i.role === "master") || view.workloads.length > 0) {
        if (!view.resources.some((r) => LOGGING_ADDON.test(r.urn))) {
            out.push(
                finding(
                    "logging",
                    view.clusterRef,
                    "medium",
                    "No log-collection add-on: pod logs are lost with their node.",
                    "Set addons.logging: true.",
                ),
            );
        }
        if (!view.resources.some((r) => METRICS_ADDON.test(r.urn))) {
            out.push(
                finding(
                    "metrics",
                    view.clusterRef,
                    "medium",
                    "No metrics-server: kubectl top and HorizontalPodAutoscalers do not work.",
                    "Set addons.metricsServer: true.",
                ),
            );
        }
    }
    return out;
}
