// cloud-init user-data (`#cloud-config`) for an edge host: Debian packages, the rendered engine
// config (staged, installed by the script after the TLS files exist) and the bootstrap script. Pure;
// it holds no secret: certificates and keys are read from SSM (or issued by ACME) on the host.
import * as YAML from "yaml";
import { gzipSync } from "zlib";
import { EdgeEngine } from "../types";
import {
    EDGE_BOOTSTRAP_PATH,
    EdgeBootstrapOptions,
    renderEdgeBootstrapScript,
    renderOcspUnits,
    stagedConfigPath,
} from "./bootstrap";

/** The systemd service and timer that refresh haproxy's stapled OCSP responses. */
export const OCSP_UNIT = "keelson-edge-ocsp";

/** EC2's limit on raw user-data. */
export const USER_DATA_LIMIT_BYTES = 16384;

/** Inputs of an edge host's user-data. */
export interface EdgeUserDataOptions extends EdgeBootstrapOptions {
    /** Host name, e.g. `edge-0`. */
    readonly hostname: string;
    /** The rendered nginx.conf or haproxy.cfg. */
    readonly config: string;
    /** The config has TCP/UDP routes (nginx then needs Debian's libnginx-mod-stream). */
    readonly streams: boolean;
}

/** Debian 12 packages an edge host installs. */
export function edgePackages(o: Pick<EdgeUserDataOptions, "engine" | "streams" | "tls">): string[] {
    const engine: Record<EdgeEngine, string[]> = {
        nginx: o.streams ? ["nginx", "libnginx-mod-stream"] : ["nginx"],
        haproxy: ["haproxy"],
    };
    const tls =
        o.tls.kind === "ssm"
            ? ["awscli"]
            : o.tls.challenge === "dns-01"
              ? ["certbot", "python3-certbot-dns-route53"]
              : ["certbot"];
    return [...engine[o.engine], ...tls, "openssl", "ca-certificates"];
}

/** Renders the `#cloud-config` document of one edge host. */
export function renderEdgeUserData(o: EdgeUserDataOptions): string {
    const file = (path: string, content: string, permissions: string) => ({
        path,
        content,
        permissions,
        owner: "root:root",
    });
    const files = [
        file(stagedConfigPath(o.engine), o.config, "0644"),
        file(EDGE_BOOTSTRAP_PATH, renderEdgeBootstrapScript(o), "0700"),
    ];
    const runcmd: string[][] = [[EDGE_BOOTSTRAP_PATH]];
    if (o.engine === "haproxy") {
        const units = renderOcspUnits();
        files.push(file(`/etc/systemd/system/${OCSP_UNIT}.service`, units.service, "0644"));
        files.push(file(`/etc/systemd/system/${OCSP_UNIT}.timer`, units.timer, "0644"));
        runcmd.push(["systemctl", "enable", "--now", `${OCSP_UNIT}.timer`]);
    }
    const doc = {
        hostname: o.hostname,
        package_update: true,
        packages: edgePackages(o),
        ssh_pwauth: false,
        disable_root: true,
        write_files: files,
        runcmd,
    };
    return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/**
 * gzip + base64 for `userDataBase64`: cloud-init unpacks gzip itself, and repetitive configs shrink
 * about tenfold, which keeps large route sets under EC2's 16 KB limit. Deterministic (no mtime).
 */
export function compressUserData(userData: string): string {
    return gzipSync(Buffer.from(userData, "utf8"), { level: 9 }).toString("base64");
}
