// Validation of what production services add to a workload: Jobs to wait for, files, volumes, placement,
// lifecycle, sidecars and init containers, autoscaling targets and backup settings.
import { EDGE_DRAIN_SECONDS } from "./publish";
import { fileKey } from "./hash";
import { PoolInfo } from "./placement";
import { Add } from "./validate-ports";
import { ContainerArgs, ExtraContainer, JobArgs, Placement, Service, SqlArgs } from "./types";

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function unpinned(image: string): boolean {
    if (image.includes("@sha256:")) return false;
    const tag = image.slice(image.lastIndexOf("/") + 1).split(":")[1];
    return tag === undefined || tag === "latest";
}

function positive(value: number | undefined, key: string, add: Add, min = 1): void {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min)
        add(
            key,
            value,
            `${show(value)} is not a whole number of ${min} or more; use e.g. ${Math.max(min, 30)}`,
        );
}

function validatePlacement(
    p: Placement | undefined,
    at: string,
    pools: readonly PoolInfo[] | undefined,
    add: Add,
) {
    if (!p?.pool || !pools) return;
    if (!pools.some((x) => x.name === p.pool)) {
        add(
            `${at}.placement.pool`,
            p.pool,
            `${show(p.pool)} is not a worker pool of this cluster; use one of ${pools.map((x) => x.name).join(", ") || "(none)"}`,
        );
    }
}

function validateContainers(
    list: readonly ExtraContainer[] | undefined,
    key: string,
    main: string,
    add: Add,
) {
    const names = new Set<string>([main]);
    (list ?? []).forEach((c, i) => {
        const at = `${key}[${i}]`;
        if (typeof c.name !== "string" || !DNS_LABEL.test(c.name) || c.name.startsWith("wait-for-"))
            add(
                `${at}.name`,
                c.name,
                `${show(c.name)} is not a container name; use a DNS label not starting with wait-for-`,
            );
        else if (names.has(c.name))
            add(
                `${at}.name`,
                c.name,
                `"${c.name}" is used by another container of the pod; give each a unique name`,
            );
        names.add(c.name);
        if (typeof c.image !== "string" || unpinned(c.image))
            add(`${at}.image`, c.image, `${show(c.image)} is not pinned; use a version tag or a digest`);
    });
}

/** Validates the production-service settings of `s`, at key `at`. */
export function validateExtras(
    s: Service,
    at: string,
    pools: readonly PoolInfo[] | undefined,
    add: Add,
    viaProxy = false,
): void {
    const a = s.args as Partial<ContainerArgs & JobArgs> & SqlArgs;
    (a.after ?? []).forEach((j, i) => {
        if (!(j instanceof Service) || j.kind !== "job") {
            const shown = j instanceof Service ? `${j.kind} "${j.name}"` : show(j);
            add(`${at}.after[${i}]`, shown, `${shown} is not a job; list services made by job() only`);
        }
    });
    const keys = new Map<string, string>();
    for (const path of Object.keys(a.files ?? {})) {
        if (!path.startsWith("/") || path.endsWith("/"))
            add(
                `${at}.files`,
                path,
                `${show(path)} is not an absolute file path; use e.g. "/etc/app/config.yaml"`,
            );
        const other = keys.get(fileKey(path));
        if (other)
            add(
                `${at}.files`,
                path,
                `${show(path)} and ${show(other)} map to the same ConfigMap key; rename one`,
            );
        keys.set(fileKey(path), path);
    }
    (a.volumes ?? []).forEach((v, i) => {
        if (typeof v.path !== "string" || !v.path.startsWith("/"))
            add(
                `${at}.volumes[${i}].path`,
                v.path,
                `${show(v.path)} is not absolute; use a path starting with '/'`,
            );
        positive(v.sizeGb, `${at}.volumes[${i}].sizeGb`, add);
    });
    if ((a.volumes ?? []).length > 0) {
        if (s.kind !== "container" && s.kind !== "worker")
            add(
                `${at}.volumes`,
                s.kind,
                `a ${s.kind} cannot have volumes; use them on a container or worker`,
            );
        else if ((a.replicas ?? 1) > 1 || a.autoscale)
            add(
                `${at}.volumes`,
                a.autoscale ? "autoscale" : a.replicas,
                "a ReadWriteOnce volume serves one pod; use replicas 1 without autoscale, or a data service",
            );
    }
    validatePlacement(a.placement, at, pools, add);
    positive(a.preStop?.sleepSeconds, `${at}.preStop.sleepSeconds`, add);
    positive(a.terminationGracePeriodSeconds, `${at}.terminationGracePeriodSeconds`, add, 0);
    const grace = a.terminationGracePeriodSeconds ?? 30;
    const behindEdge =
        (s.kind === "container" || s.kind === "daemonset") &&
        a.expose === undefined &&
        (a.routes?.length ?? 0) > 0 &&
        !viaProxy;
    if (behindEdge && !a.preStop && grace <= EDGE_DRAIN_SECONDS)
        add(
            `${at}.terminationGracePeriodSeconds`,
            grace,
            `${grace} leaves no time to stop: a service behind the edge sleeps ${EDGE_DRAIN_SECONDS} s in preStop while the worker load balancer takes its node out; raise it above ${EDGE_DRAIN_SECONDS}, or set preStop yourself`,
        );
    const sleep = a.preStop?.sleepSeconds ?? 0;
    if (sleep >= grace)
        add(
            `${at}.preStop.sleepSeconds`,
            sleep,
            `${sleep} is not below terminationGracePeriodSeconds ${grace}; the pod would be killed while draining; raise the grace period`,
        );
    validateContainers(a.sidecars, `${at}.sidecars`, s.name, add);
    validateContainers(a.initContainers, `${at}.initContainers`, s.name, add);
    if (a.autoscale) {
        for (const k of ["cpuPercent", "memoryPercent"] as const) {
            const v = a.autoscale[k];
            if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 1000))
                add(
                    `${at}.autoscale.${k}`,
                    v,
                    `${show(v)} is not a utilisation percentage; use 1 to 1000, e.g. 70`,
                );
        }
    }
    positive(a.backoffLimit, `${at}.backoffLimit`, add, 0);
    positive(a.activeDeadlineSeconds, `${at}.activeDeadlineSeconds`, add);
    positive(a.backup?.retentionDays, `${at}.backup.retentionDays`, add);
    positive(a.backup?.activeDeadlineSeconds, `${at}.backup.activeDeadlineSeconds`, add);
}
