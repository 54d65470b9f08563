// The Pod Security Standards "restricted" profile, every check of kubernetes/pod-security-admission policy/check_*.go
// as of Kubernetes 1.33 (Keelson's default version): the baseline checks, restricted's overrides, and the host
// probe check from 1.34 (stricter only). Containers are init, regular and ephemeral ones (visitContainers). Pure.
import { arr, obj } from "./workloads";

/** One failed check: its upstream ID and what is wrong, in pod-security-admission's wording. */
export interface PssViolation {
    readonly check: string;
    readonly detail: string;
}

type Obj = Record<string, unknown>;

/** Volume sources the restricted profile allows (check_restrictedVolumes.go). */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];
/** Sysctls allowed from Kubernetes 1.32 (check_sysctls.go sysctlsAllowedV1Dot32). */
export const SAFE_SYSCTLS: readonly string[] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"];
const APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

/** Every container of a pod spec with its securityContext: init, regular, ephemeral (PSA's visit order). */
export function podContainers(podSpec: Obj): { name: string; c: Obj; sc: Obj }[] {
    return ["initContainers", "containers", "ephemeralContainers"].flatMap((k) =>
        arr(podSpec[k]).map((raw) => {
            const c = obj(raw);
            return { name: String(c.name ?? "?"), c, sc: obj(c.securityContext) };
        }),
    );
}

const quote = (names: string[]) => names.map((n) => `"${n}"`).join(", ");
const containers = (names: string[]) => `${names.length === 1 ? "container" : "containers"} ${quote(names)}`;

/**
 * The restricted-profile violations of a pod (`spec`, plus `metadata` for AppArmor annotations), in the order
 * of the upstream check IDs; empty when the pod is admitted at `restricted`.
 */
export function restrictedViolations(podSpec: Obj, podMetadata: Obj = {}): PssViolation[] {
    const out: PssViolation[] = [];
    const add = (check: string, detail: string) => out.push({ check, detail });
    const pod = obj(podSpec.securityContext);
    const all = podContainers(podSpec);
    const where = (bad: (x: { c: Obj; sc: Obj }) => boolean) => all.filter(bad).map((x) => x.name);
    const windows = obj(podSpec.os).name === "windows";

    // baseline
    const hostNs = ["hostNetwork", "hostPID", "hostIPC"].filter((k) => podSpec[k] === true);
    if (hostNs.length > 0) add("hostNamespaces", `${hostNs.map((k) => `${k}=true`).join(", ")}`);
    const privileged = where(({ sc }) => sc.privileged === true);
    if (privileged.length > 0)
        add("privileged", `${containers(privileged)} must not set securityContext.privileged=true`);
    const hostPorts = all
        .flatMap(({ c }) => arr(c.ports).map((p) => obj(p).hostPort))
        .filter((p) => p !== undefined && p !== 0);
    if (hostPorts.length > 0) add("hostPorts", `hostPort ${hostPorts.join(", ")}`);
    const probeHosts = where(({ c }) =>
        [
            ...["livenessProbe", "readinessProbe", "startupProbe"].map((p) => obj(c[p])),
            ...["postStart", "preStop"].map((h) => obj(obj(c.lifecycle)[h])),
        ].some((h) => [obj(h.httpGet).host, obj(h.tcpSocket).host].some((x) => x !== undefined && x !== "")),
    );
    if (probeHosts.length > 0)
        add("hostProbesAndHostLifecycle", `${containers(probeHosts)} set a probe or lifecycle host`);
    const procMount = where(({ sc }) => sc.procMount !== undefined && sc.procMount !== "Default");
    if (procMount.length > 0)
        add("procMount", `${containers(procMount)} must not set securityContext.procMount`);
    const seLinux = (s: Obj) => {
        const o = obj(s.seLinuxOptions);
        return !SELINUX_TYPES.includes(String(o.type ?? "")) || !!o.user || !!o.role;
    };
    if (seLinux(pod) || all.some(({ sc }) => seLinux(sc)))
        add("seLinuxOptions", "forbidden securityContext.seLinuxOptions type, user or role");
    const sysctls = arr(pod.sysctls)
        .map((s) => String(obj(s).name))
        .filter((n) => !SAFE_SYSCTLS.includes(n));
    if (sysctls.length > 0) add("sysctls", `forbidden sysctls ${sysctls.join(", ")}`);
    const apparmor = (s: Obj) => {
        const t = obj(s.appArmorProfile).type;
        return t !== undefined && t !== "RuntimeDefault" && t !== "Localhost";
    };
    const badAnnotations = Object.entries(obj(podMetadata.annotations)).filter(
        ([k, v]) =>
            k.startsWith(APPARMOR_PREFIX) && !(v === "runtime/default" || String(v).startsWith("localhost/")),
    );
    if (apparmor(pod) || all.some(({ sc }) => apparmor(sc)) || badAnnotations.length > 0)
        add("appArmorProfile", "forbidden AppArmor profile (only RuntimeDefault or Localhost)");
    const hostProcess = (s: Obj) => obj(s.windowsOptions).hostProcess === true;
    if (hostProcess(pod) || all.some(({ sc }) => hostProcess(sc)))
        add("windowsHostProcess", "securityContext.windowsOptions.hostProcess=true");

    // restricted
    const volumes = arr(podSpec.volumes)
        .map(obj)
        .flatMap((v) =>
            Object.keys(v)
                .filter((k) => k !== "name" && !RESTRICTED_VOLUME_TYPES.includes(k))
                .map((k) => `${String(v.name ?? "?")} (${k})`),
        );
    if (volumes.length > 0)
        add("restrictedVolumes", `volumes ${volumes.join(", ")} use restricted volume types`);
    if (!windows) {
        const escalate = where(({ sc }) => sc.allowPrivilegeEscalation !== false);
        if (escalate.length > 0)
            add(
                "allowPrivilegeEscalation",
                `${containers(escalate)} must set securityContext.allowPrivilegeEscalation=false`,
            );
        const noDrop = where(({ sc }) => !arr(obj(sc.capabilities).drop).includes("ALL"));
        const extra = [
            ...new Set(
                all.flatMap(({ sc }) =>
                    arr(obj(sc.capabilities).add).filter((a) => a !== "NET_BIND_SERVICE"),
                ),
            ),
        ].map(String);
        const added = where(({ sc }) => arr(obj(sc.capabilities).add).some((a) => a !== "NET_BIND_SERVICE"));
        if (noDrop.length > 0)
            add(
                "capabilities_restricted",
                `${containers(noDrop)} must set securityContext.capabilities.drop=["ALL"]`,
            );
        if (added.length > 0)
            add(
                "capabilities_restricted",
                `${containers(added)} must not include ${quote(extra.sort())} in securityContext.capabilities.add`,
            );
    }
    // pod-level false, or a container's false, fails even where another level says true (check_runAsNonRoot.go)
    const nonRootBad = pod.runAsNonRoot === false || all.some(({ sc }) => sc.runAsNonRoot === false);
    const nonRootUnset = where(({ sc }) => sc.runAsNonRoot === undefined && pod.runAsNonRoot !== true);
    if (nonRootBad) add("runAsNonRoot", "pod or containers must not set securityContext.runAsNonRoot=false");
    else if (nonRootUnset.length > 0)
        add("runAsNonRoot", `pod or ${containers(nonRootUnset)} must set securityContext.runAsNonRoot=true`);
    if (pod.runAsUser === 0 || all.some(({ sc }) => sc.runAsUser === 0))
        add("runAsUser", "pod or containers must not set runAsUser=0");
    if (!windows) {
        const valid = (t: unknown) => t === "RuntimeDefault" || t === "Localhost";
        const podType = obj(pod.seccompProfile).type;
        const podSet = pod.seccompProfile !== undefined && valid(podType);
        const explicitBad = where(
            ({ sc }) => sc.seccompProfile !== undefined && !valid(obj(sc.seccompProfile).type),
        );
        const implicitBad = where(({ sc }) => sc.seccompProfile === undefined && !podSet);
        if ((pod.seccompProfile !== undefined && !valid(podType)) || explicitBad.length > 0)
            add(
                "seccompProfile_restricted",
                "pod or containers must not set securityContext.seccompProfile.type to anything but RuntimeDefault or Localhost",
            );
        else if (implicitBad.length > 0)
            add(
                "seccompProfile_restricted",
                `pod or ${containers(implicitBad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
            );
    }
    return out;
}

/**
 * The restricted-profile violations of what a `<Kind>Patch` sets (server-side apply keeps every field it
 * leaves out as it is): its pod spec laid over a pod that meets the profile (pod `runAsNonRoot: true` and
 * seccomp `RuntimeDefault`; every container it names with `allowPrivilegeEscalation: false` and
 * `capabilities.drop: ["ALL"]`), so a field it does not set cannot fail and every field it sets is judged
 * as {@link restrictedViolations} judges it.
 */
export function restrictedViolationsOfPatch(podSpec: Obj, podMetadata: Obj = {}): PssViolation[] {
    const pod = obj(podSpec.securityContext);
    const compliant = (raw: unknown) => {
        const c = obj(raw);
        const sc = obj(c.securityContext);
        return {
            ...c,
            securityContext: {
                allowPrivilegeEscalation: false,
                ...sc,
                capabilities: { drop: ["ALL"], ...obj(sc.capabilities) },
            },
        };
    };
    const laid: Obj = {
        ...podSpec,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, ...pod },
    };
    for (const k of ["initContainers", "containers", "ephemeralContainers"])
        if (podSpec[k] !== undefined) laid[k] = arr(podSpec[k]).map(compliant);
    return restrictedViolations(laid, podMetadata);
}
