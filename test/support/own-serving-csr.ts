// A harness for the public master's own-serving-CSR script (components/cluster/render/own-serving-csr.ts): CSR
// objects made with the real `openssl req`, a local IMDSv2, and a run of the script under bash with stub kubectl
// and logger. Used by test/cluster/own-serving-csr.test.ts and test/addons/csr-approval.test.ts.
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";

/** The usages a kubelet asks for with its (ECDSA) serving key. */
export const SERVING_USAGES: readonly string[] = ["digital signature", "server auth"];

/** One CSR object: who sent it, the x509 request's subject and SANs, and what has been decided. */
export interface CsrSpec {
    readonly name: string;
    /** `spec.username`, the requester. */
    readonly user: string;
    /** `openssl req -subj`, e.g. `/O=system:nodes/CN=system:node:<name>`. */
    readonly subject: string;
    /** The subjectAltName in openssl's extension syntax (`DNS:a,IP:10.0.0.1`, or `DER:<hex>`). */
    readonly san: string;
    /** Default `kubernetes.io/kubelet-serving`. */
    readonly signer?: string;
    /** Default {@link SERVING_USAGES}. */
    readonly usages?: readonly string[];
    /** None: Pending. */
    readonly condition?: "Approved" | "Denied";
    /** An RSA 2048 key instead of ECDSA P-256. */
    readonly rsa?: boolean;
}

/** The CSR list `kubectl get csr -o json` prints, each request made by the real openssl. */
export function csrList(dir: string, specs: readonly CsrSpec[]): unknown {
    const items = specs.map((c) => {
        const out = path.join(dir, `${c.name}.csr`);
        const keyArgs = c.rsa
            ? ["-newkey", "rsa:2048"]
            : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
        execFileSync(
            "openssl",
            [
                "req",
                "-new",
                ...keyArgs,
                "-nodes",
                "-keyout",
                path.join(dir, `${c.name}.key`),
                "-subj",
                c.subject,
                "-addext",
                `subjectAltName=${c.san}`,
                "-out",
                out,
            ],
            { stdio: "pipe" },
        );
        return {
            apiVersion: "certificates.k8s.io/v1",
            kind: "CertificateSigningRequest",
            metadata: { name: c.name },
            spec: {
                signerName: c.signer ?? "kubernetes.io/kubelet-serving",
                username: c.user,
                groups: ["system:nodes", "system:authenticated"],
                usages: c.usages ?? SERVING_USAGES,
                request: fs.readFileSync(out).toString("base64"),
            },
            status: c.condition ? { conditions: [{ type: c.condition, status: "True" }] } : {},
        };
    });
    return { apiVersion: "v1", kind: "List", items };
}

/** IMDSv2: a PUT for a token with a TTL, then metadata only with that token (401 without, 404 for no such path). */
export async function imds(
    metadata: Record<string, string>,
): Promise<{ port: number; close: () => Promise<void> }> {
    const answer = (req: http.IncomingMessage): [number, string] => {
        if (req.method === "PUT" && req.url === "/latest/api/token")
            return req.headers["x-aws-ec2-metadata-token-ttl-seconds"]
                ? [200, "imds-session-token"]
                : [400, ""];
        if (req.headers["x-aws-ec2-metadata-token"] !== "imds-session-token") return [401, ""];
        const key = (req.url ?? "").replace(/^\/latest\/meta-data\//, "");
        return req.method === "GET" && key in metadata ? [200, metadata[key]] : [404, ""];
    };
    const server = http.createServer((req, res) => {
        const [status, body] = answer(req);
        res.writeHead(status).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** One run of the script: its exit status and stderr, the CSRs it approved, what it logged. */
export interface Run {
    readonly status: number;
    readonly stderr: string;
    readonly approved: string[];
    readonly journal: string[];
}

/**
 * Runs `script` (renderOwnServingCsrScript's text, or a copy) under bash with a stub kubectl (lists `csrs`,
 * records `certificate approve`), a stub logger (the journal, tag checked) and the real `curl` pointed from
 * 169.254.169.254 at a local IMDSv2 serving `metadata`; everything else (openssl, python3, base64) is real.
 */
export async function runOwnCsrScript(
    dir: string,
    script: string,
    csrs: unknown,
    metadata: Record<string, string>,
    curl: string,
): Promise<Run> {
    const server = await imds(metadata);
    const state = fs.mkdtempSync(path.join(dir, "run-"));
    const bin = path.join(state, "bin");
    fs.mkdirSync(bin);
    const stub = (name: string, body: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(state, "csrs.json"), JSON.stringify(csrs));
    stub(
        "kubectl",
        `echo "$*" >>"$STATE/kubectl.calls"
case "$*" in
"--kubeconfig /etc/kubernetes/admin.conf --request-timeout=30s get certificatesigningrequests -o json") cat "$STATE/csrs.json" ;;
"--kubeconfig /etc/kubernetes/admin.conf --request-timeout=30s certificate approve "*) echo "\${*: -1}" >>"$STATE/approved" ;;
*) echo "unexpected kubectl $*" >&2; exit 99 ;;
esac`,
    );
    stub(
        "logger",
        `[ "$1 $2 $3" = "-t keelson-approve-own-serving-csr --" ] || exit 98; echo "$4" >>"$STATE/journal"`,
    );
    stub("curl", `exec ${curl} "\${@//http:\\/\\/169.254.169.254/http://127.0.0.1:${server.port}}"`);
    const file = path.join(state, "approve.sh");
    fs.writeFileSync(file, script, { mode: 0o700 });
    try {
        const { status, stderr } = await new Promise<{ status: number; stderr: string }>((resolve) => {
            execFile(
                "bash",
                [file],
                { env: { PATH: `${bin}:/usr/bin:/bin`, STATE: state, LC_ALL: "C" } },
                (err, _stdout, stderr) =>
                    resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
            );
        });
        const lines = (f: string) =>
            fs.existsSync(path.join(state, f))
                ? fs.readFileSync(path.join(state, f), "utf8").split("\n").filter(Boolean)
                : [];
        return { status, stderr, approved: lines("approved"), journal: lines("journal") };
    } finally {
        await server.close();
    }
}
