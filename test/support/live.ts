// Support for live tests that drive real programs (nginx, haproxy, shellcheck, openssl).
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** True when running in CI, where a missing tool is a failure instead of a skip. */
export const inCI = process.env.CI === "true";

/** Absolute path of an executable on PATH (also /usr/sbin), or undefined. */
export function findTool(name: string): string | undefined {
    const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/local/sbin"]);
    for (const dir of dirs) {
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
        } catch {
            // keep looking
        }
    }
    return undefined;
}

/**
 * Returns the tool's path. Outside CI a missing tool skips the calling suite (`this.skip()`);
 * with CI=true it throws, because CI must run every live test.
 */
export function requireTool(ctx: Mocha.Context, name: string): string {
    const found = findTool(name);
    if (found) return found;
    if (inCI) throw new Error(`${name} is not installed; .ci/run must install it (CI=true)`);
    ctx.skip();
}

/** A fresh temporary directory, removed by `cleanup()`. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `keelson-${prefix}-`));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1 (bound and released; race-free enough for tests on one machine). */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 10000, host = "127.0.0.1"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, host);
            socket.once("connect", () => {
                socket.destroy();
                resolve(true);
            });
            socket.once("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline)
            throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/** A started child process whose output is kept for error messages. */
export interface Started {
    readonly child: ChildProcess;
    output(): string;
    stop(): Promise<void>;
}

/** Starts a long-running program; `stop()` sends SIGTERM and waits for the exit. */
export function startProcess(cmd: string, args: string[], opts: { cwd?: string } = {}): Started {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout?.on("data", (d) => (out += d.toString()));
    child.stderr?.on("data", (d) => (out += d.toString()));
    return {
        child,
        output: () => out,
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

/** Test PKI made with the real openssl: a CA and a leaf for the given DNS names. */
export interface TestCert {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    /** certificate followed by key, the layout haproxy's `crt` expects */
    readonly pemBundleFile: string;
}

/** Creates a CA and a leaf certificate (ECDSA P-256 unless `rsa` is set) for `names` in `dir`. */
export function makeTestCert(dir: string, label: string, names: string[], rsa = false): TestCert {
    const ossl = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const keyArgs = rsa ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
    const caKey = `${label}-ca.key`;
    const caFile = path.join(dir, `${label}-ca.crt`);
    ossl([
        "req",
        "-x509",
        ...keyArgs,
        "-nodes",
        "-keyout",
        caKey,
        "-out",
        caFile,
        "-days",
        "2",
        "-subj",
        `/CN=${label} test CA`,
    ]);
    const keyFile = path.join(dir, `${label}.key`);
    const csr = `${label}.csr`;
    ossl(["req", ...keyArgs, "-nodes", "-keyout", keyFile, "-out", csr, "-subj", `/CN=${names[0]}`]);
    const ext = path.join(dir, `${label}.ext`);
    const sans = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    fs.writeFileSync(ext, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
    const certFile = path.join(dir, `${label}.crt`);
    ossl([
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        caFile,
        "-CAkey",
        caKey,
        "-CAcreateserial",
        "-out",
        certFile,
        "-days",
        "2",
        "-extfile",
        ext,
    ]);
    const pemBundleFile = path.join(dir, `${label}.pem`);
    fs.writeFileSync(pemBundleFile, fs.readFileSync(certFile, "utf8") + fs.readFileSync(keyFile, "utf8"));
    return { caFile, certFile, keyFile, pemBundleFile };
}
