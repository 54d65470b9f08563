// Who may do what in a file store, pure parts: the IAM statements of a store's credentials (an IAM user's
// key, or a consuming service's own IRSA role), and the ServiceAccount a consumer's pods assume it with.
import { isEngine } from "./render/engines";
import { Manifest, serviceLabels } from "./render/meta";
import { Service } from "./types";

/** One IAM policy statement, as the file store policies render it. */
export interface PolicyStatement {
    readonly Effect: "Allow" | "Deny";
    readonly Action: readonly string[];
    readonly Resource: readonly string[];
}

/** What one identity may do in one store. */
export interface StoreGrant {
    readonly bucketArn: string;
    /** Prefixes that hold backups (`backups/<db>/`): written, never deleted, with these credentials. */
    readonly backupPrefixes: readonly string[];
    /**
     * Only `s3:PutObject` (and aborting its own multipart uploads) under this prefix: a backup job's
     * grant. Default the store's full grant: list, read, write, delete outside the backup prefixes.
     */
    readonly uploadOnly?: string;
}

/**
 * The statements of a grant. The full grant: ListBucket and GetBucketLocation on the bucket;
 * GetObject, PutObject, DeleteObject and AbortMultipartUpload on its objects; and with backup prefixes an
 * explicit Deny of DeleteObject and DeleteObjectVersion under them (only the lifecycle rule expires
 * backups). An upload-only grant: PutObject and AbortMultipartUpload under its prefix, nothing else.
 */
export function fileStoreStatements(g: StoreGrant): PolicyStatement[] {
    if (g.uploadOnly !== undefined) {
        return [
            {
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
                Resource: [`${g.bucketArn}/${g.uploadOnly}*`],
            },
        ];
    }
    return [
        { Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [g.bucketArn] },
        {
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            Resource: [`${g.bucketArn}/*`],
        },
        ...(g.backupPrefixes.length > 0
            ? [
                  {
                      Effect: "Deny" as const,
                      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
                      Resource: g.backupPrefixes.map((p) => `${g.bucketArn}/${p}*`),
                  },
              ]
            : []),
    ];
}

/** The policy document of an identity holding the given grants (one per store it reaches). */
export function fileStorePolicy(grants: readonly StoreGrant[]): {
    Version: string;
    Statement: PolicyStatement[];
} {
    return { Version: "2012-10-17", Statement: grants.flatMap(fileStoreStatements) };
}

/** The ServiceAccount of a service whose pods reach file stores with a role of their own: `<service>-aws`. */
export function storeServiceAccountName(service: string): string {
    return `${service}-aws`;
}

/**
 * The ServiceAccount a consumer's pods run as: its role trusts exactly this one. It mounts no API token
 * (the pods get only the projected STS token); a pod that sets automountServiceAccountToken overrides it.
 */
export function renderStoreServiceAccount(
    app: string,
    service: string,
    component: string,
    namespace: string,
): Manifest {
    return {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: {
            name: storeServiceAccountName(service),
            namespace,
            labels: serviceLabels(app, service, component),
        },
        automountServiceAccountToken: false,
    };
}

/**
 * The file stores a service's pods reach (its edges to them, first edge first); none for services that
 * run no pods of their own (data services, file stores, external services).
 */
export function storesOf(s: Service): Service[] {
    if (isEngine(s.kind) || s.kind === "filestore" || s.kind === "external") return [];
    return [...new Set(s.connections.filter((c) => c.to.kind === "filestore").map((c) => c.to))];
}

/** IAM's limit on a role name (iam CreateRole: RoleName, 1 to 64 characters). */
export const IAM_ROLE_NAME_MAX = 64;
/** What Pulumi's autonaming adds to a resource name: `-` and 7 random characters. */
const AUTONAME_SUFFIX = 8;

/** The IRSA role of a service that reaches file stores, as Application names it (autonamed from this). */
export function storeRoleName(component: string, service: string): string {
    return `${component}-${service}-role`;
}

/**
 * Why a consumer's IRSA role name would be longer than IAM allows (`pulumi up` would fail at CreateRole
 * after creating everything before it), one line per service, naming the service and the longest name
 * that fits; empty when every name fits.
 */
export function storeRoleNameProblems(
    component: string,
    services: readonly Service[],
): { key: string; value: string; message: string }[] {
    return services
        .filter((s) => storesOf(s).length > 0)
        .flatMap((s) => {
            const role = storeRoleName(component, s.name);
            const length = role.length + AUTONAME_SUFFIX;
            if (length <= IAM_ROLE_NAME_MAX) return [];
            const fits = s.name.length - (length - IAM_ROLE_NAME_MAX);
            const key = `services.${s.name}`;
            return [
                {
                    key,
                    value: s.name,
                    message:
                        `${key}: its file-store role ${role}-<7 characters> would be ${length} characters, over IAM's ` +
                        `${IAM_ROLE_NAME_MAX}; shorten the service name to at most ${Math.max(fits, 0)} characters ` +
                        `or the application's component name ${JSON.stringify(component)}`,
                },
            ];
        });
}
