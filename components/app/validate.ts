// Pure validation of an application's service graph: every problem at once, each naming the key, the
// value and the fix. Runs before any resource is registered.
import { expandedOrder } from "./backups";
import { isDnsLabel } from "../core/names";
import { Problem } from "../core/problems";
import { planApplication } from "./plan";
import { Add, validatePorts } from "./validate-ports";
import { PoolInfo } from "./placement";
import { validateExtras } from "./validate-extras";
import { validatePublish } from "./validate-publish";
import { PublishVia } from "./render/routes";
import {
    ContainerArgs,
    CronJobArgs,
    DaemonSetArgs,
    ExternalArgs,
    ImageSource,
    Service,
    WorkerArgs,
    SqlArgs,
} from "./types";

/** One bad input (key, value, message with the fix). */
export type AppProblem = Problem;

/** The plain part of an Application's args that validation and planning look at. */
export interface AppDefinition {
    /** Application name (DNS label); labels every object (`app.kubernetes.io/part-of`). */
    readonly name: string;
    /** Namespace (DNS label). */
    readonly namespace: string;
    readonly services: readonly Service[];
    /** CIDRs of the edge hosts, allowed to reach published services. Default none. */
    readonly edgeSourceCidrs?: readonly string[];
    /** NodePorts used by other applications on the cluster. Default none. */
    readonly nodePortsInUse?: readonly number[];
    /** Worker pools of the cluster, for placement by pool name. Default unknown (any pool name accepted). */
    readonly pools?: readonly PoolInfo[];
    /** HTTP routes through the cluster's own Gateway or Ingress controller. Default the edge (NodePorts). */
    readonly publish?: PublishVia;
    /**
     * File stores are reached with IRSA roles of the consumers' own, not an IAM user's access key. Default
     * false (Application sets it when given a web-identity issuer).
     */
    readonly webIdentity?: boolean;
}

const HOST = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
/** Plain env names that look like credentials; those belong in `secretEnv`. */
const CREDENTIAL = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIAL)/i;
/** Longest service name: leaves room for `-credentials`, `-headless` and StatefulSet pod suffixes. */
export const MAX_SERVICE_NAME = 40;

const isPort = (v: unknown): v is number =>
    typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535;
const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : String(v));

/** Why an image reference is not pinned, or undefined when it is. */
export function unpinnedImage(image: string): string | undefined {
    if (image.includes("@sha256:")) return undefined;
    const lastSlash = image.lastIndexOf("/");
    const colon = image.indexOf(":", lastSlash + 1);
    if (colon < 0)
        return `${JSON.stringify(image)} has no tag; pin a version, e.g. "${image}:1.2.3", or a digest`;
    if (image.slice(colon + 1) === "latest") {
        return `${JSON.stringify(image)} uses latest; pin a version, e.g. "${image.slice(0, colon)}:1.2.3", or a digest`;
    }
    return undefined;
}

/** Validates the whole application; an empty array means it can be planned. */
export function validateApplication(def: AppDefinition): AppProblem[] {
    const problems: AppProblem[] = [];
    const add = (key: string, value: unknown, fix: string) =>
        problems.push({ key, value, message: `${key}: ${fix}` });

    if (!isDnsLabel(def.name, { letterFirst: true, max: 40 })) {
        add(
            "name",
            def.name,
            `${show(def.name)} is not a DNS label; use lowercase letters, digits and '-', starting with a letter (max 40)`,
        );
    }
    if (!isDnsLabel(def.namespace, { letterFirst: true })) {
        add(
            "namespace",
            def.namespace,
            `${show(def.namespace)} is not a DNS label; use lowercase letters, digits and '-', starting with a letter (max 63)`,
        );
    }
    (def.edgeSourceCidrs ?? []).forEach((c, i) => {
        if (!CIDR.test(c))
            add(`edgeSourceCidrs[${i}]`, c, `${show(c)} is not an IPv4 CIDR; use e.g. "10.0.192.0/22"`);
    });
    def.services.forEach((s, i) => {
        if (!(s instanceof Service))
            add(`services[${i}]`, s, "is not a service; create it with container(), postgres(), ...");
    });

    const { ordered, cycle } = expandedOrder(def.services);
    if (cycle.length > 0) {
        add(
            `services.${cycle[0]}.connects`,
            cycle.join(" -> "),
            `cycle ${cycle.join(" -> ")}; a dependency must not depend on its dependent`,
        );
    }
    const byName = new Map<string, Service>();
    for (const s of ordered) {
        const at = `services.${s.name}`;
        if (!isDnsLabel(s.name, { letterFirst: true, max: MAX_SERVICE_NAME })) {
            add(
                `${at}.name`,
                s.name,
                `${show(s.name)} is not a DNS label; use lowercase letters, digits and '-', starting with a letter (max ${MAX_SERVICE_NAME})`,
            );
        }
        const other = byName.get(s.name);
        if (other && other !== s) {
            add(
                `${at}.name`,
                s.name,
                `"${s.name}" names two different services (${other.kind} and ${s.kind}); give each service a unique name`,
            );
        }
        byName.set(s.name, s);
        validateService(s, at, add);
        validateExtras(s, at, def.pools, add, def.publish !== undefined);
    }
    validatePorts(ordered, def.nodePortsInUse ?? [], add);
    validatePublish(ordered, def.publish, def.edgeSourceCidrs, add);
    if (problems.length === 0) {
        // Names that are fine alone can still collide once suffixed (`web` + `-env` vs a service `web-env`).
        // Built images and role ARNs are known only at deploy: a placeholder per service stands in.
        const planned = Object.fromEntries(ordered.map((s) => [s.name, "planned:0"]));
        try {
            planApplication(def, planned, {}, planned);
        } catch (e) {
            add(
                "services",
                def.services.map((s) => s.name),
                (e as Error).message,
            );
        }
    }
    return problems;
}

function validateImage(image: ImageSource | undefined, key: string, add: Add): void {
    if (image === undefined) return;
    if (typeof image === "string") {
        const why = unpinnedImage(image);
        if (why) add(key, image, why);
    } else if (typeof image.context !== "string" || image.context === "") {
        add(`${key}.context`, image.context, "is empty; give the build context directory");
    }
}

function validateCount(value: unknown, key: string, add: Add, what: string, min = 0): void {
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isInteger(value))
        add(key, value, `${show(value)} is not an integer; use a whole number of ${what}`);
    else if (value < min)
        add(
            key,
            value,
            min === 0
                ? `${value} is negative; use 0 or more`
                : `${value} is below ${min}; use ${min} or more`,
        );
}

function validateService(s: Service, at: string, add: Add): void {
    const a = s.args as Partial<ContainerArgs & WorkerArgs & DaemonSetArgs & CronJobArgs & ExternalArgs> & {
        storageGb?: number;
        memoryMb?: number;
    };
    validateImage(a.image, `${at}.image`, add);
    validateCount(a.replicas, `${at}.replicas`, add, "replicas");
    validateCount(a.storageGb, `${at}.storageGb`, add, "GiB", 1);
    validateCount(a.memoryMb, `${at}.memoryMb`, add, "MiB", 16);
    if ((s.kind === "container" || a.port !== undefined) && s.kind !== "external" && !isPort(a.port)) {
        add(`${at}.port`, a.port, `${show(a.port)} is not a port; use an integer 1-65535`);
    }
    if (a.healthPort !== undefined && !isPort(a.healthPort))
        add(`${at}.healthPort`, a.healthPort, `${show(a.healthPort)} is not a port; use an integer 1-65535`);
    if (
        (s.kind === "worker" || (s.kind === "daemonset" && a.port === undefined)) &&
        a.healthPort === undefined &&
        !a.healthCommand &&
        !(a.readinessProbe && a.livenessProbe)
    ) {
        add(
            `${at}`,
            s.kind,
            `a ${s.kind} without a port needs a health check; set healthPort, healthCommand, or readinessProbe and livenessProbe`,
        );
    }
    const backup = (s.args as SqlArgs).backup;
    if ((s.kind === "postgres" || s.kind === "mysql") && backup) {
        const to = backup.to as unknown;
        if (!(to instanceof Service) || to.kind !== "filestore") {
            const shown = to instanceof Service ? `${to.kind} "${to.name}"` : show(to);
            add(
                `${at}.backup.to`,
                shown,
                `${shown} is not a file store; pass the service made by fileStore()`,
            );
        }
    }
    if (
        s.kind === "cronjob" &&
        (typeof a.schedule !== "string" || a.schedule.trim().split(/\s+/).length !== 5)
    ) {
        add(
            `${at}.schedule`,
            a.schedule,
            `${show(a.schedule)} is not a cron schedule; use five fields, e.g. "*/15 * * * *"`,
        );
    }
    if (s.kind === "external") {
        if (typeof a.host !== "string" || !HOST.test(a.host) || a.host.startsWith("*."))
            add(`${at}.host`, a.host, `${show(a.host)} is not a DNS name; use e.g. "api.example.com"`);
        if (!isPort(a.port))
            add(`${at}.port`, a.port, `${show(a.port)} is not a port; use an integer 1-65535`);
    }
    if (a.autoscale) {
        validateCount(a.autoscale.minReplicas, `${at}.autoscale.minReplicas`, add, "replicas", 1);
        if (a.autoscale.maxReplicas < a.autoscale.minReplicas) {
            add(
                `${at}.autoscale.maxReplicas`,
                a.autoscale.maxReplicas,
                `${a.autoscale.maxReplicas} is below minReplicas ${a.autoscale.minReplicas}; use ${a.autoscale.minReplicas} or more`,
            );
        }
    }
    (a.writablePaths ?? []).forEach((p, i) => {
        if (!p.startsWith("/"))
            add(`${at}.writablePaths[${i}]`, p, `${show(p)} is not absolute; use a path starting with '/'`);
    });
    const envNames = new Set<string>();
    for (const [k, v] of Object.entries(a.env ?? {})) {
        envNames.add(k);
        if (!ENV_NAME.test(k))
            add(`${at}.env.${k}`, v, `${show(k)} is not a variable name; use letters, digits and '_'`);
        else if (CREDENTIAL.test(k))
            add(
                `${at}.env.${k}`,
                "(hidden)",
                `looks like a credential; move it to secretEnv so it is stored in a Kubernetes Secret`,
            );
    }
    for (const k of Object.keys(a.secretEnv ?? {})) {
        if (!ENV_NAME.test(k))
            add(`${at}.secretEnv.${k}`, k, `${show(k)} is not a variable name; use letters, digits and '_'`);
        if (envNames.has(k)) add(`${at}.secretEnv.${k}`, k, `is also set in env; set it in one place`);
        envNames.add(k);
    }
    const seen = new Set<Service>();
    const prefixes = new Set<string>();
    ((a.connects ?? []) as unknown[]).forEach((_c, i) => {
        const key = `${at}.connects[${i}]`;
        const c = s.connections[i];
        if (!(c.to instanceof Service))
            return add(
                key,
                c.to,
                "is not a service; pass a service object made by container(), postgres(), ...",
            );
        if (!s.kind.match(/^(container|worker|daemonset|cronjob|job)$/))
            return add(
                key,
                c.to.name,
                `a ${s.kind} cannot depend on other services; declare the edge on the service that uses "${c.to.name}"`,
            );
        if (
            c.to.kind === "worker" ||
            c.to.kind === "cronjob" ||
            c.to.kind === "job" ||
            (c.to.kind === "daemonset" && (c.to.args as DaemonSetArgs).port === undefined)
        ) {
            return add(
                key,
                c.to.name,
                `${c.to.kind} "${c.to.name}" has no port to connect to; connect to a service with a port`,
            );
        }
        if (seen.has(c.to)) add(key, c.to.name, `"${c.to.name}" is connected twice; connect once`);
        seen.add(c.to);
        if (!/^[A-Z_][A-Z0-9_]*$/.test(c.prefix))
            add(
                `${key}.as`,
                c.prefix,
                `${show(c.prefix)} is not an env prefix; use upper-case letters, digits and '_'`,
            );
        else if (prefixes.has(c.prefix))
            add(
                `${key}.as`,
                c.prefix,
                `prefix "${c.prefix}" is used by another connection; give this one a different "as"`,
            );
        prefixes.add(c.prefix);
    });
}
