// What the lab boots, taken from the offline plan of a stage (the real program under the mock engine):
// each instance's exact gzipped user-data, its IMDS settings and instance profile, the SSM parameters'
// names and types, the API record and target-group health check, the edge config artifact, the upgrade's
// SSM Command document and associations.
import * as path from "path";
import { gunzipSync } from "zlib";
import { physicalName } from "../plan/mock-names";
import { planStage, PROJECT_ROOT } from "../plan/plan";
import { LoadedStackConfig, loadStackConfig } from "../plan/stack-config";
import { PolicyDocument } from "./iam";

/** One instance of the plan. */
export interface PlannedInstance {
    /** Short name: master-0, general-0, edge-0. */
    readonly name: string;
    readonly kind: "master" | "worker" | "edge";
    /** The user-data as EC2 gets it (gzip), and decompressed. */
    readonly userDataGzip: Buffer;
    readonly userData: string;
    readonly hopLimit: number;
    readonly instanceProfile: string;
    /** The instance profile's role (its physical name), and that role's inline policies in the plan. */
    readonly role: string;
    readonly policies: PolicyDocument[];
    /** The Auto Scaling group that launches it from its template (a master slot), or none (a plain instance). */
    readonly group?: PlannedGroup;
}

/** An Auto Scaling group of the plan, as the lab's model of it (./group.ts) needs it. */
export interface PlannedGroup {
    readonly name: string;
    readonly minSize: number;
    readonly maxSize: number;
    readonly desiredCapacity: number;
    readonly subnets: number;
    readonly healthCheckType: string;
    /** Whether a new template version replaces its instances (an instance refresh). */
    readonly instanceRefresh: boolean;
}

/** The parts of a plan the lab uses. */
export interface PlannedStage {
    readonly stage: string;
    readonly region: string;
    readonly instances: PlannedInstance[];
    /** SSM parameter name -> type. */
    readonly parameters: Map<string, string>;
    /** KMS key of each SecureString parameter that names one (the others use `alias/aws/ssm`). */
    readonly parameterKeys: Map<string, string>;
    /** The value the plan gives a parameter in clear (`insecureValue`: the bootstrap state's initial values). */
    readonly parameterValues: Map<string, string>;
    /** SSM description by name (edge certificates name their hosts there). */
    readonly descriptions: Map<string, string>;
    readonly apiName: string;
    /** "nlb" when the API record aliases a load balancer; "master-0" when it points at master-0. */
    readonly apiTarget: "nlb" | "master-0";
    readonly healthCheck?: {
        interval: number;
        timeout: number;
        healthy: number;
        unhealthy: number;
        path: string;
    };
    /** The upgrade's SSM Command document (its JSON content), when the program registers one. */
    readonly upgradeDocument?: string;
    /** The associations that run it, with their parameters, in slot order. */
    readonly upgradeAssociations: { readonly name: string; readonly parameters: Record<string, string> }[];
    /** Rendered edge config (nginx.conf or haproxy.cfg) and its engine. */
    readonly edgeConfig?: { engine: "nginx" | "haproxy"; text: string };
}

type Inputs = Record<string, unknown>;

/** Keys of the stage's `keelson:cluster` a lab plan overrides: a version bump, or the upgrade's waits. */
export interface LabClusterOverrides {
    readonly kubernetesVersion?: string;
    readonly upgrade?: { readonly healthTimeoutSeconds?: number; readonly drainTimeoutSeconds?: number };
}

/**
 * Plans `stage` and extracts what the lab needs. Takes 20-90 s (the mock engine). `overrides` replace keys of
 * the stage config's `keelson:cluster` (a version bump plans with `kubernetesVersion`), as a user's edit would.
 */
export async function planForLab(stage: string, overrides: LabClusterOverrides = {}): Promise<PlannedStage> {
    let config: LoadedStackConfig | undefined;
    if (Object.keys(overrides).length > 0) {
        const loaded = loadStackConfig(path.join(PROJECT_ROOT, `Pulumi.${stage}.yaml`));
        const raw = loaded.values["keelson:cluster"];
        const cluster = {
            ...(typeof raw === "string" ? (JSON.parse(raw) as Inputs) : (raw as Inputs)),
            ...overrides,
        };
        config = {
            ...loaded,
            values: {
                ...loaded.values,
                "keelson:cluster": typeof raw === "string" ? JSON.stringify(cluster) : cluster,
            },
        };
    }
    const plan = await planStage({ stack: stage, config });
    let upgradeDocument: string | undefined;
    const upgradeAssociations: PlannedStage["upgradeAssociations"] = [];
    const instances: (PlannedInstance & { template?: string })[] = [];
    const groups = new Map<string, PlannedGroup>();
    const parameters = new Map<string, string>();
    const descriptions = new Map<string, string>();
    const parameterKeys = new Map<string, string>();
    const parameterValues = new Map<string, string>();
    // Instance profile (physical name) -> role (physical name) -> the role's inline policies.
    const profileRole = new Map<string, string>();
    const rolePolicies = new Map<string, PolicyDocument[]>();
    let apiName = "";
    let apiTarget: "nlb" | "master-0" = "master-0";
    let healthCheck: PlannedStage["healthCheck"];
    let region = "us-east-1";
    for (const r of plan.recorded) {
        const i = r.inputs as Inputs;
        if (r.type === "aws:ec2/instance:Instance") {
            const m = /-(master-\d+|edge-\d+|[a-z0-9]+-\d+)$/.exec(r.name);
            if (!m || typeof i.userDataBase64 !== "string") continue;
            const gz = Buffer.from(i.userDataBase64, "base64");
            const short = m[1];
            instances.push({
                name: short,
                kind: short.startsWith("master-") ? "master" : short.startsWith("edge-") ? "edge" : "worker",
                userDataGzip: gz,
                userData: gunzipSync(gz).toString(),
                hopLimit: Number((i.metadataOptions as Inputs | undefined)?.httpPutResponseHopLimit ?? 1),
                instanceProfile: String(i.iamInstanceProfile ?? ""),
                role: "",
                policies: [],
            });
        } else if (r.type === "aws:ec2/launchTemplate:LaunchTemplate" && typeof i.userData === "string") {
            // A master slot's template: the lab boots its instance as the slot (`master-1`); a worker pool's: one
            // node of it as `<pool>-0`.
            const gz = Buffer.from(i.userData, "base64");
            const tags = (i.tags as Inputs | undefined) ?? {};
            const slot = tags["keelson:role"] === "master" ? /-(master-\d+)$/.exec(r.name)?.[1] : undefined;
            const pool = String(tags["keelson:pool"] ?? r.name.split("-").pop());
            instances.push({
                name: slot ?? `${pool}-0`,
                kind: slot ? "master" : "worker",
                template: r.name,
                userDataGzip: gz,
                userData: gunzipSync(gz).toString(),
                hopLimit: Number((i.metadataOptions as Inputs | undefined)?.httpPutResponseHopLimit ?? 1),
                instanceProfile: String((i.iamInstanceProfile as Inputs | undefined)?.name ?? ""),
                role: "",
                policies: [],
            });
        } else if (r.type === "aws:autoscaling/group:Group") {
            groups.set(r.name, {
                name: r.name,
                minSize: Number(i.minSize),
                maxSize: Number(i.maxSize),
                desiredCapacity: Number(i.desiredCapacity),
                subnets: Array.isArray(i.vpcZoneIdentifiers) ? i.vpcZoneIdentifiers.length : 0,
                healthCheckType: String(i.healthCheckType ?? "EC2"),
                instanceRefresh: i.instanceRefresh !== undefined,
            });
        } else if (r.type === "aws:iam/instanceProfile:InstanceProfile") {
            const name = physicalName(r.type, r.name, i, r.urn)?.value ?? r.name;
            profileRole.set(name, String(i.role ?? ""));
        } else if (r.type === "aws:iam/rolePolicy:RolePolicy" && typeof i.policy === "string") {
            const role = String(i.role ?? "");
            rolePolicies.set(role, [
                ...(rolePolicies.get(role) ?? []),
                JSON.parse(i.policy) as PolicyDocument,
            ]);
        } else if (
            r.type === "aws:ssm/document:Document" &&
            typeof i.content === "string" &&
            i.content.includes("keelson-upgrade")
        ) {
            upgradeDocument = i.content;
        } else if (r.type === "aws:ssm/association:Association" && i.parameters) {
            upgradeAssociations.push({
                name: String(i.associationName ?? r.name),
                parameters: i.parameters as Record<string, string>,
            });
        } else if (r.type === "aws:ssm/parameter:Parameter") {
            parameters.set(String(i.name), String(i.type));
            descriptions.set(String(i.name), String(i.description ?? ""));
            if (typeof i.keyId === "string" && i.keyId) parameterKeys.set(String(i.name), i.keyId);
            if (typeof i.insecureValue === "string") parameterValues.set(String(i.name), i.insecureValue);
            const rm = /^arn:aws:kms:([a-z0-9-]+):/.exec(String(i.keyId ?? ""));
            if (rm) region = rm[1];
        } else if (r.type === "aws:route53/record:Record" && /^api\./.test(String(i.name))) {
            apiName = String(i.name);
            apiTarget = i.aliases ? "nlb" : "master-0";
        } else if (
            r.type === "aws:lb/targetGroup:TargetGroup" &&
            (i.healthCheck as Inputs | undefined)?.path
        ) {
            const h = i.healthCheck as Inputs;
            healthCheck = {
                interval: Number(h.interval),
                timeout: Number(h.timeout),
                healthy: Number(h.healthyThreshold),
                unhealthy: Number(h.unhealthyThreshold),
                path: String(h.path),
            };
        }
    }
    const edge = plan.artifacts.find((a) => /^edge\/(nginx\.conf|haproxy\.cfg)$/.test(a.path));
    const withRoles = instances.map(({ template, ...inst }) => {
        const role = profileRole.get(inst.instanceProfile) ?? "";
        const group = template && inst.kind === "master" ? groups.get(template) : undefined;
        return { ...inst, role, policies: rolePolicies.get(role) ?? [], ...(group ? { group } : {}) };
    });
    return {
        stage,
        region,
        instances: withRoles,
        parameters,
        parameterKeys,
        parameterValues,
        descriptions,
        apiName,
        apiTarget,
        healthCheck,
        upgradeDocument,
        // The chain's order: every master's control plane, then every master's kubelet, each by slot.
        upgradeAssociations: upgradeAssociations.sort(
            (a, b) =>
                Number(a.parameters.phase === "kubelet") - Number(b.parameters.phase === "kubelet") ||
                String(a.parameters.slot).localeCompare(String(b.parameters.slot), "en", { numeric: true }),
        ),
        edgeConfig: edge
            ? { engine: edge.path.endsWith("nginx.conf") ? "nginx" : "haproxy", text: edge.content }
            : undefined,
    };
}
