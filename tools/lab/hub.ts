// The lab's "outside world", served from the hub network namespace by the lab process itself:
//   http://deb.debian.org/debian/...                 the lab's Debian archive (tools/lab/rootfs.ts)
//   https://pkgs.k8s.io/core:/stable:/v<x.y>/deb/    the stub kube repository (tools/lab/packages.ts)
//   https://artifacts.k8s.io/binaries/cloud-provider-aws/...   a stub ecr-credential-provider
//   https://s3.<region>.amazonaws.com/amazon-ssm-<region>/latest/debian_amd64/amazon-ssm-agent.deb
//   https://ssm.<region>.amazonaws.com/              SSM GetParameter(s), PutParameter (tools/lab/ssm.ts)
//   http://169.254.169.254/latest/...                IMDSv2 (the stub below)
// Every request is recorded (`requests`), so scenarios can assert what the nodes really asked for.
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { randomBytes } from "crypto";
import { PolicyDocument } from "./iam";
import { ACCOUNT, ssmCall, SsmFault, SsmInput, SsmParameter, SsmState } from "./ssm";

export type { SsmFault, SsmParameter } from "./ssm";

/** A node as the metadata service and SSM see it. */
export interface HubIdentity {
    readonly name: string;
    readonly instanceId: string;
    readonly zone: string;
    readonly region: string;
    /** The instance profile's role (IMDS serves its credentials) and the profile's name. */
    readonly role: string;
    readonly instanceProfile: string;
    /** The role's inline IAM policies, from the plan: what SSM and KMS allow this node (tools/lab/iam.ts). */
    readonly policies: readonly PolicyDocument[];
    readonly hopLimit: number;
}

/**
 * EC2's IP-based private DNS name, what IMDS serves as `local-hostname` and `hostname`:
 * `ip-10-77-0-10.ec2.internal` in us-east-1, `ip-10-77-0-10.<region>.compute.internal` elsewhere.
 * The bootstrap makes it the Kubernetes Node and etcd member name (the AWS cloud provider's rule).
 */
export function privateDnsName(ip: string, region: string): string {
    const domain = region === "us-east-1" ? "ec2.internal" : `${region}.compute.internal`;
    return `ip-${ip.replace(/\./g, "-")}.${domain}`;
}

/**
 * The instance metadata the lab's IMDS serves below `/latest/meta-data/` (EC2's names): identity,
 * placement, the private address and DNS name, and the instance profile's temporary credentials.
 */
export function instanceMetadata(id: HubIdentity, address: string): Record<string, string> {
    const creds = {
        Code: "Success",
        LastUpdated: new Date().toISOString(),
        Type: "AWS-HMAC",
        AccessKeyId: "ASIALAB" + id.instanceId.slice(2, 15).toUpperCase(),
        SecretAccessKey: "lab-secret-access-key",
        Token: "lab-session-token",
        Expiration: new Date(Date.now() + 6 * 3600 * 1000).toISOString(),
    };
    const md: Record<string, string> = {
        "instance-id": id.instanceId,
        "placement/availability-zone": id.zone,
        "placement/region": id.region,
        "local-ipv4": address,
        "local-hostname": privateDnsName(address, id.region),
        hostname: privateDnsName(address, id.region),
        "iam/security-credentials/": id.role,
        [`iam/security-credentials/${id.role}`]: JSON.stringify(creds),
        "iam/info": JSON.stringify({
            Code: "Success",
            InstanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/${id.instanceProfile}`,
        }),
    };
    return md;
}

/** What the hub serves. */
export interface HubOptions {
    readonly debianArchive: string;
    readonly kubeRepo: string;
    readonly kubeSeries: string;
    /** Further minors' repositories by series (`1.34`), served at their own paths as pkgs.k8s.io's. */
    readonly kubeRepos?: Readonly<Record<string, string>>;
    readonly ssmAgentDeb: string;
    readonly region: string;
    /** PEM certificate (with SANs for every name above) and key, signed by the lab CA. */
    readonly tlsCert: string;
    readonly tlsKey: string;
    /** Address of the "internet" services and of the metadata service. */
    readonly internetAddress: string;
    readonly imdsAddress: string;
    /** Ports of the plain (and metadata) and TLS listeners; default 80 and 443 (0: any free port, for tests). */
    readonly ports?: { readonly http: number; readonly https: number };
}

/** One recorded request. */
export interface HubRequest {
    readonly at: number;
    readonly node: string;
    readonly service: "debian" | "kube" | "s3" | "ssm" | "imds";
    readonly what: string;
    readonly status: number;
}

const CONTENT: Record<string, string> = {
    ".deb": "application/vnd.debian.binary-package",
    ".gz": "application/gzip",
};

function serveFile(res: http.ServerResponse, root: string, rel: string): number {
    const file = path.resolve(root, "." + path.posix.normalize("/" + decodeURIComponent(rel)));
    if (!file.startsWith(path.resolve(root)) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        res.writeHead(404).end("not found\n");
        return 404;
    }
    const st = fs.statSync(file);
    res.writeHead(200, {
        "Content-Length": st.size,
        "Content-Type": CONTENT[path.extname(file)] ?? "application/octet-stream",
        "Last-Modified": st.mtime.toUTCString(),
    });
    fs.createReadStream(file).pipe(res);
    return 200;
}

/** The hub's state and servers. */
export class Hub {
    readonly requests: HubRequest[] = [];
    readonly parameters = new Map<string, SsmParameter>();
    readonly faults: SsmFault[] = [];
    private readonly ssmState: SsmState;
    /** The TLS listener's port once started. */
    httpsPort = 0;
    /** Nodes by source address. */
    readonly identities = new Map<string, HubIdentity>();
    private readonly tokens = new Map<string, { address: string; expires: number }>();
    private readonly servers: (http.Server | https.Server)[] = [];

    constructor(private readonly o: HubOptions) {
        this.ssmState = { region: o.region, parameters: this.parameters, faults: this.faults };
    }

    async start(): Promise<void> {
        const plain = http.createServer((req, res) => this.handle(req, res, false));
        const tls = https.createServer({ cert: this.o.tlsCert, key: this.o.tlsKey }, (req, res) =>
            this.handle(req, res, true),
        );
        const listen = (s: http.Server, port: number, host: string) =>
            new Promise<void>((resolve, reject) => {
                s.once("error", reject);
                s.listen(port, host, () => resolve());
            });
        const ports = this.o.ports ?? { http: 80, https: 443 };
        await listen(plain, ports.http, this.o.internetAddress);
        const imds = http.createServer((req, res) => this.handle(req, res, false));
        await listen(imds, ports.http, this.o.imdsAddress);
        await listen(tls, ports.https, this.o.internetAddress);
        this.httpsPort = (tls.address() as { port: number }).port;
        this.servers.push(plain, imds, tls);
    }

    async stop(): Promise<void> {
        await Promise.all(
            this.servers.map(
                (s) =>
                    new Promise<void>((resolve) => {
                        s.close(() => resolve());
                        (s as http.Server).closeAllConnections?.();
                    }),
            ),
        );
    }

    private record(node: string, service: HubRequest["service"], what: string, status: number): void {
        this.requests.push({ at: Date.now(), node, service, what, status });
    }

    private handle(req: http.IncomingMessage, res: http.ServerResponse, tls: boolean): void {
        const address = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
        const node = this.identities.get(address)?.name ?? address;
        const host = (req.headers.host ?? "").split(":")[0];
        const url = req.url ?? "/";
        try {
            if (req.socket.localAddress?.replace(/^::ffff:/, "") === this.o.imdsAddress) {
                this.record(node, "imds", `${req.method} ${url}`, this.imds(req, res, address));
            } else if (!tls && host === "deb.debian.org" && url.startsWith("/debian/")) {
                this.record(
                    node,
                    "debian",
                    url,
                    serveFile(res, this.o.debianArchive, url.slice("/debian".length)),
                );
            } else if (tls && host === "pkgs.k8s.io") {
                const m = /^\/core:\/stable:\/v(\d+\.\d+)\/deb\/(.*)$/.exec(url);
                const repo = !m
                    ? undefined
                    : m[1] === this.o.kubeSeries
                      ? this.o.kubeRepo
                      : this.o.kubeRepos?.[m[1]];
                const status = m && repo ? serveFile(res, repo, m[2]) : (res.writeHead(404).end(), 404);
                this.record(node, "kube", url, status);
            } else if (tls && host === "artifacts.k8s.io") {
                // The kubelet's ecr-credential-provider binary (the bootstrap downloads it); a stub that
                // fails if run: no lab pod pulls from ECR.
                const ok =
                    /^\/binaries\/cloud-provider-aws\/v[^/]+\/linux\/[a-z0-9]+\/ecr-credential-provider-linux-[a-z0-9]+$/.test(
                        url,
                    );
                if (ok) res.writeHead(200).end("#!/bin/sh\necho 'lab stub: no ECR in the lab' >&2\nexit 1\n");
                else res.writeHead(404).end();
                this.record(node, "kube", url, ok ? 200 : 404);
            } else if (tls && host === `s3.${this.o.region}.amazonaws.com`) {
                const want = `/amazon-ssm-${this.o.region}/latest/debian_amd64/amazon-ssm-agent.deb`;
                const status =
                    url === want
                        ? serveFile(res, path.dirname(this.o.ssmAgentDeb), path.basename(this.o.ssmAgentDeb))
                        : (res.writeHead(404).end(), 404);
                this.record(node, "s3", url, status);
            } else if (tls && host === `ssm.${this.o.region}.amazonaws.com` && req.method === "POST") {
                this.ssm(req, res, address, node);
            } else {
                res.writeHead(404).end("not found\n");
                this.record(node, "debian", `${host}${url}`, 404);
            }
        } catch (err) {
            res.writeHead(500).end(String(err));
        }
    }

    // IMDSv2: PUT /latest/api/token with a TTL header gives a token; every other request must carry it
    // (httpTokens: required, so IMDSv1 requests get 401). Tokens are bound to the requesting address.
    private imds(req: http.IncomingMessage, res: http.ServerResponse, address: string): number {
        const id = this.identities.get(address);
        const url = req.url ?? "";
        if (req.method === "PUT" && url === "/latest/api/token") {
            const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
            if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return (res.writeHead(400).end(), 400);
            const token = randomBytes(24).toString("base64url");
            this.tokens.set(token, { address, expires: Date.now() + ttl * 1000 });
            res.writeHead(200, { "X-Aws-Ec2-Metadata-Token-Ttl-Seconds": String(ttl) }).end(token);
            return 200;
        }
        const t = this.tokens.get(String(req.headers["x-aws-ec2-metadata-token"] ?? ""));
        if (!t || t.address !== address || t.expires < Date.now()) return (res.writeHead(401).end(), 401);
        if (!id) return (res.writeHead(404).end(), 404);
        const md = instanceMetadata(id, address);
        const key = url.replace(/^\/latest\/meta-data\//, "");
        if (!url.startsWith("/latest/meta-data/") || !(key in md)) return (res.writeHead(404).end(), 404);
        res.writeHead(200, { "Content-Type": "text/plain" }).end(md[key]);
        return 200;
    }

    // SSM (JSON 1.1 protocol, as the AWS CLI speaks it): see tools/lab/ssm.ts.
    private ssm(req: http.IncomingMessage, res: http.ServerResponse, address: string, node: string): void {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
            const target = String(req.headers["x-amz-target"] ?? "");
            let input: SsmInput;
            try {
                input = JSON.parse(body || "{}") as SsmInput;
            } catch {
                input = {};
            }
            const r = ssmCall(this.ssmState, this.identities.get(address), target, input, node);
            res.writeHead(r.status, { "Content-Type": "application/x-amz-json-1.1" }).end(
                JSON.stringify(r.body),
            );
            this.record(node, "ssm", r.what, r.status);
        });
    }
}
