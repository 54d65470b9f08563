// A stage's nodes in the lab: SSM filled with real key material under the plan's parameter names, DNS,
// the HAProxy "NLB" with the plan's target-group health check, and the nodes booted from the plan's
// exact user-data. Checks read the nodes' real state (dpkg, containerd, etcd, the API stub, HTTPS).
import * as https from "https";
import { gzipSync } from "zlib";
import * as YAML from "yaml";
import { HubIdentity } from "./hub";
import { Lab, LabNode, NET } from "./lab";
import { clusterSecrets, makeServerCert, Pem, spkiHash } from "./pki";
import { PlannedInstance, PlannedStage } from "./stage";

/** Which instances of the plan a shape boots. */
export function shapeInstances(plan: PlannedStage, shape: "dev" | "prod"): PlannedInstance[] {
    const masters = plan.instances.filter((i) => i.kind === "master");
    const edges = plan.instances.filter((i) => i.kind === "edge");
    const firstOfPool = new Map<string, PlannedInstance>();
    for (const w of plan.instances.filter((i) => i.kind === "worker")) {
        const pool = w.name.replace(/-\d+$/, "");
        if (!firstOfPool.has(pool)) firstOfPool.set(pool, w);
    }
    const workers = [...firstOfPool.values()];
    return shape === "dev"
        ? [...masters.slice(0, 1), ...workers.slice(0, 1), ...edges.slice(0, 1)]
        : [...masters.slice(0, 3), ...workers.slice(0, 2), ...edges.slice(0, 2)];
}

/**
 * One node's write_files and packages, as its user-data declares them: cloud-config `packages:` (API
 * load balancers, edge hosts) and the `DEBIAN_PACKAGES` the Kubernetes bootstrap script installs.
 */
export function declared(userData: string): {
    files: { path: string; permissions: string; content?: string }[];
    packages: string[];
} {
    const doc = YAML.parse(userData) as {
        write_files?: { path: string; permissions: string; content?: string }[];
        packages?: string[];
    };
    const files = doc.write_files ?? [];
    const script = files
        .map((f) => /^readonly DEBIAN_PACKAGES=\(([^)]*)\)$/m.exec(f.content ?? ""))
        .find(Boolean);
    const fromScript = script ? script[1].split(/\s+/).filter(Boolean) : [];
    return { files, packages: [...new Set([...(doc.packages ?? []), ...fromScript])] };
}

/** A stage's nodes booted in a lab. */
export class LabCluster {
    readonly secrets: Record<string, string>;
    readonly labCa: Pem;
    readonly caHash: string;
    readonly booted = new Map<string, LabNode>();
    private seq = 0;
    private nlbStarted = false;

    constructor(
        readonly lab: Lab,
        readonly plan: PlannedStage,
        labCa: Pem,
        readonly pkiDir: string,
        readonly timeScale: number,
    ) {
        this.labCa = labCa;
        this.secrets = clusterSecrets(pkiDir);
        this.caHash = spkiHash(this.secrets["ca-crt"]);
        const hub = lab.o.hub;
        // Every parameter the plan creates, with the plan's value in clear (the bootstrap state) or
        // the lab's key material under the plan's name; SecureStrings keep the plan's KMS key.
        for (const [name, type] of plan.parameters) {
            const key = name.split("/").pop()!;
            const value = key in this.secrets ? this.secrets[key] : plan.parameterValues.get(name);
            if (value !== undefined) hub.parameters.set(name, { value, type, writtenBy: "plan" });
        }
        // Edge: the rendered config (gzip + base64, as Pulumi stores it) and real certificates.
        for (const [name, type] of plan.parameters) {
            if (name.endsWith("/config") && plan.edgeConfig)
                hub.parameters.set(name, { value: gzipSync(plan.edgeConfig.text).toString("base64"), type });
            const m = /^(.*\/tls\/([^/]+))\/cert$/.exec(name);
            if (m) {
                const hosts = /\(([^)]+)\)/.exec(plan.descriptions.get(name) ?? "")?.[1].split(/[ ,]+/) ?? [
                    "edge.invalid",
                ];
                const cert = makeServerCert(pkiDir, "lab-ca", `edge-${m[2]}`, hosts);
                hub.parameters.set(name, { value: cert.cert.trim(), type });
                hub.parameters.set(`${m[1]}/key`, {
                    value: cert.key.trim(),
                    type: plan.parameters.get(`${m[1]}/key`) ?? "SecureString",
                });
            }
        }
        for (const [name, p] of hub.parameters) {
            const keyId = plan.parameterKeys.get(name);
            if (p.type === "SecureString" && keyId) p.keyId = keyId;
        }
        for (const n of [
            "deb.debian.org",
            "pkgs.k8s.io",
            "artifacts.k8s.io",
            `s3.${plan.region}.amazonaws.com`,
            `ssm.${plan.region}.amazonaws.com`,
        ])
            lab.setHost(n, NET.internet);
        if (plan.apiTarget === "nlb") lab.setHost(plan.apiName, NET.nlb);
    }

    /** The instance's user-data as the lab delivers it: the plan's, with the lab CA's discovery hash. */
    userData(inst: PlannedInstance, mutate?: (text: string) => string): { text: string; gzip: Buffer } {
        let text = inst.userData.replace(/sha256:[0-9a-f]{64}/g, this.caHash);
        if (mutate) text = mutate(text);
        return { text, gzip: text === inst.userData ? inst.userDataGzip : gzipSync(text) };
    }

    /** What the metadata service and SSM know of a new instance: its role's policies come from the plan. */
    identity(inst: PlannedInstance, nodeName: string): HubIdentity {
        if (!inst.role)
            throw new Error(
                `${inst.name}: the plan gives its instance profile ${inst.instanceProfile || "(none)"} no role`,
            );
        const zone =
            /topology\.kubernetes\.io\/zone=([a-z0-9-]+)/.exec(inst.userData)?.[1] ?? `${this.plan.region}a`;
        return {
            name: nodeName,
            instanceId: `i-0${(0x1000000 + this.seq++).toString(16)}${Math.floor(Math.random() * 1e8).toString(16)}`,
            zone,
            region: this.plan.region,
            role: inst.role,
            instanceProfile: inst.instanceProfile,
            policies: inst.policies,
            hopLimit: inst.hopLimit,
        };
    }

    /** Boots one instance of the plan (a fresh instance each call: replacements get a new address). */
    boot(
        inst: PlannedInstance,
        opts: { label?: string; mutate?: (t: string) => string; preboot?: string } = {},
    ): LabNode {
        const label = opts.label ?? inst.name;
        const ud = this.userData(inst, opts.mutate);
        const node = this.lab.boot(
            label,
            this.identity(inst, label),
            ud.gzip,
            this.labCa.cert,
            opts.preboot ?? "",
        );
        this.booted.set(label, node);
        if (inst.kind === "master" && inst.name === "master-0" && this.plan.apiTarget === "master-0")
            this.lab.setHost(this.plan.apiName, node.ip);
        if (inst.kind === "master" && this.plan.apiTarget === "nlb") this.restartNlb();
        // The edge forwards to the pools' internal NLB, whose listeners are the NodePorts: the lab's
        // stand-in is the pool's node itself under the NLB's name.
        if (inst.kind === "worker")
            for (const name of new Set(
                this.plan.edgeConfig?.text.match(/internal-[a-z0-9-]+\.elb\.[a-z0-9-]+\.amazonaws\.com/g),
            ))
                this.lab.setHost(name, node.ip);
        return node;
    }

    /** The live masters (the NLB's registered targets). */
    masters(): LabNode[] {
        return [...this.booted.entries()]
            .filter(([label, n]) => label.startsWith("master-") && !n.exited)
            .map(([, n]) => n);
    }

    /** (Re)starts HAProxy as the API NLB: TCP 6443 to every live master, the plan's HTTPS /readyz check. */
    restartNlb(): void {
        const h = this.plan.healthCheck ?? {
            interval: 10,
            timeout: 6,
            healthy: 2,
            unhealthy: 2,
            path: "/readyz",
        };
        const inter = Math.max(1, Math.round(h.interval * this.timeScale));
        const cfg = [
            "global",
            "    log stdout format raw local0",
            "defaults",
            "    mode tcp",
            "    timeout connect 5s",
            "    timeout client 1h",
            "    timeout server 1h",
            "frontend api",
            `    bind ${NET.nlb}:6443`,
            "    default_backend masters",
            "backend masters",
            `    option httpchk GET ${h.path}`,
            "    http-check expect status 200",
            `    default-server check check-ssl verify none inter ${inter}s fall ${h.unhealthy} rise ${h.healthy}`,
            ...this.masters().map((m, i) => `    server m${i} ${m.ip}:6443`),
            "",
        ].join("\n");
        const [, inside] = this.lab.toolsFile("nlb.cfg", cfg);
        if (this.nlbStarted) this.lab.stopDaemon("nlb");
        this.lab.daemon("nlb", ["chroot", this.lab.o.img.tools, "haproxy", "-db", "-f", inside]);
        this.nlbStarted = true;
    }

    /** HTTPS GET from the hub, verifying with `ca`; resolves to status, body and peer certificate subject. */
    static get(
        host: string,
        port: number,
        urlPath: string,
        ca: string,
        servername: string,
    ): Promise<{ status: number; body: string; subject: string } | { error: string }> {
        return new Promise((resolve) => {
            const req = https.get(
                { host, port, path: urlPath, ca, servername, timeout: 25000, headers: { Host: servername } },
                (res) => {
                    const cert = (res.socket as import("tls").TLSSocket | null)?.getPeerCertificate?.();
                    const subject = String(cert?.subject?.CN ?? "");
                    let body = "";
                    res.on("data", (c: Buffer) => (body += c.toString()));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body, subject }));
                    res.on("error", (e) => resolve({ error: e.message }));
                },
            );
            req.on("timeout", () => req.destroy(new Error("timeout")));
            req.on("error", (e) => resolve({ error: e.message }));
        });
    }
}
