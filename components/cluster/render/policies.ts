// API server policy files that masters get through cloud-init: the audit policy, the anonymous-auth
// allowlist, the admission configuration (event rate limits) and the encryption-at-rest template. None holds a secret: the encryption key is a
// placeholder that the bootstrap script fills in from SSM on the master itself.
import * as YAML from "yaml";

/** Directory on masters for Keelson's API server files, mounted read-only into kube-apiserver. */
export const APISERVER_CONFIG_DIR = "/etc/kubernetes/keelson";
/** Audit policy path on masters. */
export const AUDIT_POLICY_PATH = `${APISERVER_CONFIG_DIR}/audit-policy.yaml`;
/** Anonymous-auth allowlist (AuthenticationConfiguration) path on masters. */
export const AUTHENTICATION_CONFIG_PATH = `${APISERVER_CONFIG_DIR}/authentication-config.yaml`;
/** AdmissionConfiguration path on masters (`--admission-control-config-file`): the event rate limits. */
export const ADMISSION_CONFIG_PATH = `${APISERVER_CONFIG_DIR}/admission-config.yaml`;
/** EncryptionConfiguration path on masters (mode 600, written at boot with the key from SSM). */
export const ENCRYPTION_CONFIG_PATH = `${APISERVER_CONFIG_DIR}/encryption-config.yaml`;
/** Directory of the audit log, rotated by the API server itself. */
export const AUDIT_LOG_DIR = "/var/log/kubernetes/audit";
/** Placeholder the bootstrap script replaces with the secretbox key read from SSM. */
export const ENCRYPTION_KEY_PLACEHOLDER = "__ENCRYPTION_KEY__";
/** Placeholder the bootstrap script replaces with `aws:///<zone>/<instance-id>` read from IMDS. */
export const PROVIDER_ID_PLACEHOLDER = "__PROVIDER_ID__";
/**
 * Placeholder the bootstrap script replaces with the instance's private DNS name from IMDS
 * (`ip-10-30-1-5.eu-west-1.compute.internal`): the Node and etcd member name, as the AWS cloud
 * controller requires.
 */
export const NODE_NAME_PLACEHOLDER = "__NODE_NAME__";
/**
 * Placeholder the bootstrap script replaces with the instance's availability zone from IMDS: a
 * pool's launch template serves every zone, so its nodes' zone label is only known at boot.
 */
export const ZONE_PLACEHOLDER = "__ZONE__";
/** Placeholder the bootstrap script replaces with the bootstrap token read from SSM. */
export const BOOTSTRAP_TOKEN_PLACEHOLDER = "__BOOTSTRAP_TOKEN__";

/**
 * Paths that stay reachable without credentials: the kubelet's probes of the API server and the
 * NLB/HAProxy health checks (`/livez`, `/readyz`, `/healthz`), and the public `cluster-info`
 * ConfigMap that `kubeadm join` reads before it has credentials (token discovery, which then
 * checks the CA hash and the token's JWS signature).
 */
export const ANONYMOUS_PATHS: readonly string[] = [
    "/livez",
    "/readyz",
    "/healthz",
    "/api/v1/namespaces/kube-public/configmaps/cluster-info",
];

/**
 * The audit policy: metadata only for Secrets, ConfigMaps and token reviews (their bodies hold
 * credentials), request bodies for every write, metadata for the rest; health checks and the
 * control plane's own lease/endpoint chatter are dropped.
 */
export function renderAuditPolicy(): string {
    const policy = {
        apiVersion: "audit.k8s.io/v1",
        kind: "Policy",
        omitStages: ["RequestReceived"],
        rules: [
            { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version"] },
            {
                level: "None",
                users: ["system:kube-proxy"],
                verbs: ["watch"],
                resources: [{ group: "", resources: ["endpoints", "services", "services/status"] }],
            },
            {
                level: "None",
                users: ["system:kube-controller-manager", "system:kube-scheduler"],
                verbs: ["get", "update"],
                namespaces: ["kube-system"],
                resources: [{ group: "coordination.k8s.io", resources: ["leases"] }],
            },
            {
                level: "None",
                userGroups: ["system:nodes"],
                verbs: ["get"],
                resources: [{ group: "", resources: ["nodes", "nodes/status"] }],
            },
            {
                level: "Metadata",
                resources: [
                    { group: "", resources: ["secrets", "configmaps", "serviceaccounts/token"] },
                    { group: "authentication.k8s.io", resources: ["tokenreviews"] },
                ],
            },
            { level: "Request", verbs: ["create", "update", "patch", "delete", "deletecollection"] },
            { level: "Metadata" },
        ],
    };
    return YAML.stringify(policy);
}

/**
 * The structured authentication config that limits anonymous requests to {@link ANONYMOUS_PATHS}
 * (CIS 1.2.1, "restrict anonymous requests"). `--anonymous-auth=false` is not used: it would turn
 * the kubelet's liveness/readiness probes of kube-apiserver (anonymous HTTPS GETs on `/livez` and
 * `/readyz`) and the load balancer health checks into 401s.
 */
export function renderAuthenticationConfig(apiVersion: string): string {
    return YAML.stringify({
        apiVersion,
        kind: "AuthenticationConfiguration",
        anonymous: { enabled: true, conditions: ANONYMOUS_PATHS.map((path) => ({ path })) },
    });
}

/**
 * EncryptionConfiguration for Secrets at rest: `secretbox` (XSalsa20-Poly1305, 32-byte key) first,
 * `identity` last so that Secrets written before encryption was on can still be read. The key is
 * {@link ENCRYPTION_KEY_PLACEHOLDER}; the master fills it in from SSM and writes the file mode 600.
 */
export function renderEncryptionConfigTemplate(): string {
    return YAML.stringify({
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "EncryptionConfiguration",
        resources: [
            {
                resources: ["secrets"],
                providers: [
                    { secretbox: { keys: [{ name: "keelson-1", secret: ENCRYPTION_KEY_PLACEHOLDER }] } },
                    { identity: {} },
                ],
            },
        ],
    });
}

/** One bucket of the EventRateLimit admission plugin (eventratelimit.admission.k8s.io/v1alpha1 Limit). */
export interface EventRateLimit {
    readonly type: "Server" | "Namespace" | "User" | "SourceAndObject";
    /** Event writes per second once the burst is spent. */
    readonly qps: number;
    /** Event writes accepted at once. */
    readonly burst: number;
    /** Buckets kept (LRU); upstream's default is 4096. Not for `Server`, which has one bucket. */
    readonly cacheSize?: number;
}

/**
 * The event rate limits (CIS 1.2.9): a crash-looping workload, or a namespace full of them, cannot flood the
 * API server and etcd with Events. One namespace may write 50 Events a second (100 at once), the whole cluster
 * 500 (1,000 at once); no per-user bucket, since the kubelets and the controllers legitimately write many. A
 * refused Event is a 429 that the client's event recorder drops: Events are best effort.
 */
export const EVENT_RATE_LIMITS: readonly EventRateLimit[] = [
    { type: "Server", qps: 500, burst: 1000 },
    { type: "Namespace", qps: 50, burst: 100, cacheSize: 4096 },
];

/**
 * The API server's AdmissionConfiguration: EventRateLimit's configuration inline (the plugin reads the
 * `configuration` object of its entry); the other plugins keep their defaults.
 */
export function renderAdmissionConfig(limits: readonly EventRateLimit[] = EVENT_RATE_LIMITS): string {
    return YAML.stringify({
        apiVersion: "apiserver.config.k8s.io/v1",
        kind: "AdmissionConfiguration",
        plugins: [
            {
                name: "EventRateLimit",
                configuration: {
                    apiVersion: "eventratelimit.admission.k8s.io/v1alpha1",
                    kind: "Configuration",
                    limits: limits.map((l) => ({ ...l })),
                },
            },
        ],
    });
}
