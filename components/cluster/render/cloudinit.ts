// cloud-init user-data (`#cloud-config`) for Kubernetes nodes and API load balancer hosts. Pure.
// Holds packages, kernel settings, kubeadm templates (placeholders instead of secrets) and the
// bootstrap script; every secret is fetched by the script from SSM at boot.
import * as YAML from "yaml";
import {
    BOOTSTRAP_SCRIPT_PATH,
    BootstrapOptions,
    ENCRYPTION_TEMPLATE_PATH,
    INIT_TEMPLATE_PATH,
    JOIN_TEMPLATE_PATH,
    renderBootstrapScript,
} from "./bootstrap";
import { CONTAINERD_CONFIG_TEMPLATE_PATH, renderContainerdConfig } from "./containerd";
import {
    API_LB_SETUP_PATH,
    ApiHaproxyOptions,
    renderApiHaproxyConfig,
    renderApiLbSetupScript,
} from "./haproxy-api";
import {
    AUDIT_POLICY_PATH,
    ADMISSION_CONFIG_PATH,
    AUTHENTICATION_CONFIG_PATH,
    renderAuditPolicy,
    renderAdmissionConfig,
    renderAuthenticationConfig,
    renderEncryptionConfigTemplate,
} from "./policies";
import {
    BOOTSTRAP_UNIT,
    CERT_RENEW_SCRIPT_PATH,
    CERT_RENEW_TIMER,
    renderBootstrapUnit,
    renderCertRenewScript,
    renderTimerUnits,
    renderTokenRotateScript,
    TOKEN_ROTATE_HOURS,
    TOKEN_ROTATE_SCRIPT_PATH,
    TOKEN_ROTATE_TIMER,
} from "./units";
import {
    OWN_SERVING_CSR_SCHEDULE,
    OWN_SERVING_CSR_SCRIPT_PATH,
    OWN_SERVING_CSR_TIMER,
    renderOwnServingCsrScript,
} from "./own-serving-csr";
import { anonymousAuthConfigApiVersion, parseKubernetesVersion } from "./versions";

/** EC2's limit on raw user-data. */
export const USER_DATA_LIMIT_BYTES = 16384;

/** Debian packages of every node (and masters' extra ones): installed by the bootstrap itself, with retries (see ./bootstrap-lib.ts). */
export { MASTER_PACKAGES, NODE_PACKAGES } from "./bootstrap-lib";

/** Kernel modules for containerd's overlayfs and bridged pod traffic through iptables. */
export const KERNEL_MODULES = "overlay\nbr_netfilter\n";

/**
 * sysctls: pod networking needs forwarding and bridged traffic through iptables; the rest are the
 * values the kubelet insists on with `protectKernelDefaults: true` (it refuses to start otherwise).
 */
export const KERNEL_SYSCTLS = [
    "net.bridge.bridge-nf-call-iptables = 1",
    "net.bridge.bridge-nf-call-ip6tables = 1",
    "net.ipv4.ip_forward = 1",
    "vm.overcommit_memory = 1",
    "vm.panic_on_oom = 0",
    "kernel.panic = 10",
    "kernel.panic_on_oops = 1",
    "kernel.keys.root_maxkeys = 1000000",
    "kernel.keys.root_maxbytes = 25000000",
    "",
].join("\n");

interface WriteFile {
    path: string;
    content: string;
    permissions: string;
    owner: string;
    defer?: boolean;
}

function file(path: string, content: string, permissions: string, defer?: boolean): WriteFile {
    const f: WriteFile = { path, content, permissions, owner: "root:root" };
    if (defer) f.defer = true;
    return f;
}

function cloudConfig(doc: Record<string, unknown>): string {
    return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/** Inputs of a node's user-data. */
export interface NodeUserDataOptions {
    readonly bootstrap: BootstrapOptions;
    /** kubeadm init template: master 0 only. */
    readonly kubeadmInit?: string;
    /** kubeadm join template (JoinConfiguration): every node. */
    readonly kubeadmJoin: string;
    /** ARN of the cluster's KMS key (masters: the token rotation writes the join token with it). */
    readonly kmsKeyArn: string;
    /**
     * A master with a public address (master-0 of `cluster.endpoint: single`): it also approves its own kubelet
     * serving CSR every minute (./own-serving-csr.ts), which the CSR approver cannot. Default false.
     */
    readonly publicMaster?: boolean;
}

const UNIT_DIR = "/etc/systemd/system";

/**
 * The masters' maintenance: token rotation and certificate renewal, and on a public master the approval of its
 * own serving CSR, each a script, a service and a timer.
 */
function maintenanceFiles(o: NodeUserDataOptions): WriteFile[] {
    const rotate = renderTimerUnits("Keelson bootstrap-token rotation into SSM", TOKEN_ROTATE_SCRIPT_PATH, {
        onBoot: "10min",
        every: `${TOKEN_ROTATE_HOURS}h`,
        randomDelay: "30min",
    });
    const renew = renderTimerUnits("Keelson control-plane certificate renewal", CERT_RENEW_SCRIPT_PATH, {
        onBoot: "1h",
        every: "7d",
        randomDelay: "1d",
    });
    const unit = (timer: string) => timer.replace(/\.timer$/, "");
    const { region, ssmPrefix } = o.bootstrap;
    const own = renderTimerUnits(
        "Keelson approval of this master's own kubelet serving CSR",
        OWN_SERVING_CSR_SCRIPT_PATH,
        OWN_SERVING_CSR_SCHEDULE,
    );
    const ownCsr = o.publicMaster
        ? [
              file(OWN_SERVING_CSR_SCRIPT_PATH, renderOwnServingCsrScript(), "0700"),
              file(`${UNIT_DIR}/${unit(OWN_SERVING_CSR_TIMER)}.service`, own.service, "0644"),
              file(`${UNIT_DIR}/${OWN_SERVING_CSR_TIMER}`, own.timer, "0644"),
          ]
        : [];
    return [
        file(
            TOKEN_ROTATE_SCRIPT_PATH,
            renderTokenRotateScript({ region, ssmPrefix, kmsKeyArn: o.kmsKeyArn }),
            "0700",
        ),
        file(`${UNIT_DIR}/${unit(TOKEN_ROTATE_TIMER)}.service`, rotate.service, "0644"),
        file(`${UNIT_DIR}/${TOKEN_ROTATE_TIMER}`, rotate.timer, "0644"),
        file(CERT_RENEW_SCRIPT_PATH, renderCertRenewScript(), "0700"),
        file(`${UNIT_DIR}/${unit(CERT_RENEW_TIMER)}.service`, renew.service, "0644"),
        file(`${UNIT_DIR}/${CERT_RENEW_TIMER}`, renew.timer, "0644"),
        ...ownCsr,
    ];
}

/** The timers a node enables: none on a worker; on a public master also the own-CSR approval. */
function timers(o: NodeUserDataOptions): string[] {
    if (o.bootstrap.role !== "master") return [];
    return [TOKEN_ROTATE_TIMER, CERT_RENEW_TIMER, ...(o.publicMaster ? [OWN_SERVING_CSR_TIMER] : [])];
}

/**
 * User-data of a master or worker. Masters also get the audit policy, the admission configuration, the
 * anonymous-auth allowlist and the EncryptionConfiguration template. Files holding kubeadm templates are mode 600 even
 * though they only hold placeholders, because the script writes secrets next to them.
 */
export function renderNodeUserData(o: NodeUserDataOptions): string {
    const files: WriteFile[] = [
        file("/etc/modules-load.d/keelson-kubernetes.conf", KERNEL_MODULES, "0644"),
        file("/etc/sysctl.d/90-keelson-kubernetes.conf", KERNEL_SYSCTLS, "0644"),
        file(JOIN_TEMPLATE_PATH, o.kubeadmJoin, "0600"),
        file(CONTAINERD_CONFIG_TEMPLATE_PATH, renderContainerdConfig(), "0644"),
    ];
    if (o.bootstrap.role === "master") {
        if (o.kubeadmInit !== undefined) files.push(file(INIT_TEMPLATE_PATH, o.kubeadmInit, "0600"));
        files.push(file(ENCRYPTION_TEMPLATE_PATH, renderEncryptionConfigTemplate(), "0600"));
        files.push(file(AUDIT_POLICY_PATH, renderAuditPolicy(), "0600"));
        files.push(file(ADMISSION_CONFIG_PATH, renderAdmissionConfig(), "0600"));
        const authApi = anonymousAuthConfigApiVersion(parseKubernetesVersion(o.bootstrap.kubernetesVersion));
        if (authApi)
            files.push(file(AUTHENTICATION_CONFIG_PATH, renderAuthenticationConfig(authApi), "0600"));
    }
    const master = o.bootstrap.role === "master";
    if (master) files.push(...maintenanceFiles(o));
    files.push(file(BOOTSTRAP_SCRIPT_PATH, renderBootstrapScript(o.bootstrap), "0700"));
    files.push(file(`${UNIT_DIR}/${BOOTSTRAP_UNIT}`, renderBootstrapUnit(BOOTSTRAP_SCRIPT_PATH), "0644"));
    // No `packages:` (cloud-init tries once and waits 30 s for the apt lock): the unit installs them.
    const enable = [BOOTSTRAP_UNIT, ...timers(o)];
    return cloudConfig({
        ssh_pwauth: false,
        disable_root: true,
        write_files: files,
        runcmd: [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", ...enable],
            ["systemctl", "start", "--no-block", BOOTSTRAP_UNIT, ...enable.slice(1)],
        ],
    });
}

/** User-data of an API HAProxy host: haproxy from Debian, the rendered config, the setup script. */
export function renderApiLbUserData(region: string, haproxy: ApiHaproxyOptions): string {
    return cloudConfig({
        package_update: true,
        packages: ["haproxy", "curl"],
        ssh_pwauth: false,
        disable_root: true,
        write_files: [
            // Deferred until after the package install, so the package's default config does not win.
            file("/etc/haproxy/haproxy.cfg", renderApiHaproxyConfig(haproxy), "0644", true),
            file(API_LB_SETUP_PATH, renderApiLbSetupScript(region), "0700"),
        ],
        runcmd: [[API_LB_SETUP_PATH]],
    });
}
