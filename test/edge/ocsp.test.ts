// Live OCSP stapling: a certificate that names a local `openssl ocsp` responder, served by nginx
// (which fetches the response itself) and by haproxy (fed by the bootstrap script's refresh_ocsp).
import * as assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import { renderEdgeBootstrapScript } from "../../components/edge/render/bootstrap";
import { HaproxyVersion, renderHaproxyConfig } from "../../components/edge/render/haproxy";
import { NginxVersion, renderNginxConfig } from "../../components/edge/render/nginx";
import { EdgeSpec } from "../../components/edge/types";
import { Started, freePort, requireTool, startProcess, tempDir } from "../support/live";
import { requireEdge } from "./engines";
import { launchEdge } from "./harness";
import { httpRoute } from "./routes";

const HOST = "ocsp.example.com";

/** A CA, a leaf whose AIA names the responder, the chain files both engines read, and the index. */
function makeOcspPki(dir: string, responderPort: number): { caFile: string } {
    const ossl = (args: string[]) =>
        execFileSync("openssl", args, { cwd: dir, stdio: "pipe", encoding: "utf8" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    ossl([
        "req",
        "-x509",
        ...ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=ocsp test CA",
    ]);
    ossl(["req", ...ec, "-keyout", "site.key", "-out", "site.csr", "-subj", `/CN=${HOST}`]);
    fs.writeFileSync(
        path.join(dir, "site.ext"),
        `subjectAltName=DNS:${HOST}\nextendedKeyUsage=serverAuth\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:${responderPort}\n`,
    );
    const sign = ["x509", "-req", "-in", "site.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"];
    ossl([...sign, "-out", "leaf.crt", "-days", "2", "-extfile", "site.ext"]);
    const leaf = fs.readFileSync(path.join(dir, "leaf.crt"), "utf8");
    const ca = fs.readFileSync(path.join(dir, "ca.crt"), "utf8");
    const key = fs.readFileSync(path.join(dir, "site.key"), "utf8");
    // The layout the bootstrap script writes: chain in .crt, key in .key, both in .pem.
    fs.writeFileSync(path.join(dir, "site.crt"), leaf + ca);
    fs.writeFileSync(path.join(dir, "site.pem"), leaf + ca + key);
    const serial = ossl(["x509", "-in", "leaf.crt", "-noout", "-serial"]).trim().split("=")[1];
    const end = new Date(ossl(["x509", "-in", "leaf.crt", "-noout", "-enddate"]).trim().split("=")[1]);
    const stamp = end.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
    fs.writeFileSync(path.join(dir, "index.txt"), `V\t${stamp}\t\t${serial}\tunknown\t/CN=${HOST}\n`);
    return { caFile: path.join(dir, "ca.crt") };
}

/** Handshakes with status_request and returns the stapled response's cert status, or "none". */
function stapledStatus(port: number, dir: string, caFile: string): Promise<string> {
    return new Promise((resolve, reject) => {
        let status = "none";
        // tls.connect passes requestOCSP on to the TLSSocket; ConnectionOptions just does not list it.
        const options: tls.ConnectionOptions & { requestOCSP: boolean } = {
            host: "127.0.0.1",
            port,
            servername: HOST,
            ca: [fs.readFileSync(caFile)],
            requestOCSP: true,
        };
        const socket = tls.connect(options);
        socket.on("OCSPResponse", (response: Buffer | null) => {
            if (!response) return; // the server stapled nothing
            const file = path.join(dir, `stapled-${port}.der`);
            fs.writeFileSync(file, response);
            const text = execFileSync("openssl", ["ocsp", "-respin", file, "-resp_text", "-noverify"], {
                encoding: "utf8",
                stdio: "pipe",
                timeout: 20000,
            });
            status = /Cert Status: (\w+)/.exec(text)?.[1] ?? "unreadable";
        });
        socket.once("secureConnect", () => {
            socket.end();
            resolve(status);
        });
        socket.once("error", reject);
    });
}

describe("edge live: OCSP stapling", function () {
    this.timeout(60000);
    let tmp: { dir: string; cleanup: () => void };
    let caFile: string;
    let responder: Started | undefined;
    let edge: Started | undefined;
    let spec: EdgeSpec;

    before(async function () {
        requireTool(this, "openssl");
        tmp = tempDir("edge-ocsp");
        const port = await freePort();
        caFile = makeOcspPki(tmp.dir, port).caFile;
        const args = ["ocsp", "-index", "index.txt", "-port", String(port), "-CA", "ca.crt"];
        // -ndays: real responders always set nextUpdate, and haproxy ignores responses without it.
        // -nrequest bounds the responder: it exits after that many requests.
        const signer = ["-rsigner", "ca.crt", "-rkey", "ca.key", "-ndays", "1", "-nrequest", "50"];
        responder = startProcess("openssl", [...args, ...signer], { cwd: tmp.dir });
        // Not waitForPort: OpenSSL 3.0's responder stalls on a connection that sends nothing.
        const deadline = Date.now() + 10000;
        while (!responder.output().includes("waiting for OCSP client connections")) {
            if (Date.now() > deadline)
                throw new Error(`OCSP responder did not start:\n${responder.output()}`);
            await new Promise((r) => setTimeout(r, 20));
        }
        spec = {
            routes: [httpRoute("web", await freePort(), { hosts: [HOST], healthPath: "/" })],
            backends: [{ name: "b1", address: "127.0.0.2" }],
            certificates: [{ name: "site", hosts: [HOST] }],
        };
    });

    afterEach(async () => {
        await edge?.stop();
        edge = undefined;
    });

    after(async () => {
        await responder?.stop();
        tmp?.cleanup();
    });

    it("haproxy staples the response that the bootstrap script's refresh_ocsp fetched", async function () {
        const bin = requireEdge(this, "haproxy");
        const bash = requireTool(this, "bash");
        const script = renderEdgeBootstrapScript({
            engine: "haproxy",
            region: "eu-west-1",
            certificates: spec.certificates,
            tls: { kind: "ssm", parameterPrefix: "/keelson/test/edge/tls" },
            configParameter: "/keelson/test/edge/config",
        }).replace(/^case "\$\{1:-\}" in[\s\S]*$/m, "");
        const driver = path.join(tmp.dir, "refresh.sh");
        fs.writeFileSync(driver, `${script}\nCERT_DIR=${tmp.dir}\nOCSP_CA_FILE=${caFile}\nrefresh_ocsp\n`);
        execFileSync(bash, [driver], { stdio: "pipe", timeout: 30000 });
        assert.ok(fs.statSync(path.join(tmp.dir, "site.pem.ocsp")).size > 0);

        const port = await freePort();
        const cfg = path.join(tmp.dir, "haproxy.cfg");
        const common = {
            listenAddress: "127.0.0.1",
            httpPort: await freePort(),
            httpsPort: port,
            certDir: tmp.dir,
        };
        const socket = path.join(tmp.dir, "admin.sock");
        const stats = { user: "", log: "stdout format raw local0", statsSocket: socket, maxconn: 1000 };
        const version = bin.renderVersion as HaproxyVersion;
        fs.writeFileSync(cfg, renderHaproxyConfig(spec, { ...common, ...stats, version }));
        edge = await launchEdge(bin, ["-db", "-f", cfg], [tmp.dir], port);
        assert.equal(await stapledStatus(port, tmp.dir, caFile), "good");
    });

    it("nginx fetches and staples the response itself", async function () {
        const bin = requireEdge(this, "nginx");
        const port = await freePort();
        const dir = path.join(tmp.dir, "nginx");
        fs.mkdirSync(dir);
        const conf = path.join(dir, "nginx.conf");
        const config = renderNginxConfig(spec, {
            listenAddress: "127.0.0.1",
            httpPort: await freePort(),
            httpsPort: port,
            certDir: tmp.dir,
            user: "root",
            pidFile: path.join(dir, "nginx.pid"),
            errorLog: path.join(dir, "error.log"),
            accessLog: path.join(dir, "access.log"),
            tempDir: dir,
            ocspStapling: true,
            resolver: "127.0.0.1",
            trustedCaFile: caFile,
            version: bin.renderVersion as NginxVersion,
        });
        fs.writeFileSync(conf, config);
        edge = await launchEdge(bin, ["-p", dir, "-c", conf, "-g", "daemon off;"], [tmp.dir], port);
        // nginx fetches on the first handshake and staples from then on (per worker): bounded retries.
        let status = "none";
        for (let i = 0; i < 40 && status !== "good"; i++) {
            status = await stapledStatus(port, tmp.dir, caFile);
            if (status !== "good") await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(status, "good", fs.readFileSync(path.join(dir, "error.log"), "utf8"));
    });
});
