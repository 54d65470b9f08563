// cloud-init user-data (`#cloud-config`) for an edge host: Debian packages, the bootstrap script and
// its timers. Pure; it holds no secret and no engine config: the script reads both from SSM (or has
// certificates issued by ACME) on the host, so that config changes never need a new host.
import * as YAML from "yaml";
import { EdgeEngine } from "../types";
import {
    EDGE_BOOTSTRAP_PATH,
    EdgeBootstrapOptions,
    OCSP_UNIT,
    SYNC_UNIT,
    renderEdgeBootstrapScript,
    renderOcspUnits,
    renderSyncUnits,
} from "./bootstrap";
import { HEALTH_UNIT, renderHealthUnit } from "./health";

/** EC2's limit on raw user-data. */
export const USER_DATA_LIMIT_BYTES = 16384;

/** Inputs of an edge host's user-data. */
export interface EdgeUserDataOptions extends EdgeBootstrapOptions {
    /** Host name, e.g. `edge-0`. */
    readonly hostname: string;
    /** The config has TCP/UDP routes (nginx then needs Debian's libnginx-mod-stream). */
    readonly streams: boolean;
}

/** Debian packages an edge host installs (curl: the nginx hosts' health probes). */
export function edgePackages(o: Pick<EdgeUserDataOptions, "engine" | "streams" | "tls">): string[] {
    const engine: Record<EdgeEngine, string[]> = {
        nginx: o.streams ? ["nginx", "libnginx-mod-stream", "curl"] : ["nginx", "curl"],
        haproxy: ["haproxy"],
    };
    const acme =
        o.tls.kind === "ssm"
            ? []
            : o.tls.challenge === "dns-01"
              ? ["certbot", "python3-certbot-dns-route53"]
              : ["certbot"];
    // awscli reads the config (and certificates) from SSM in every mode.
    return [...engine[o.engine], "awscli", ...acme, "openssl", "ca-certificates"];
}

/** Renders the `#cloud-config` document of one edge host. */
export function renderEdgeUserData(o: EdgeUserDataOptions): string {
    const file = (path: string, content: string, permissions: string) => ({
        path,
        content,
        permissions,
        owner: "root:root",
    });
    // The engine config itself is not here: it lives in SSM, so that it can change without a new host.
    const files = [file(EDGE_BOOTSTRAP_PATH, renderEdgeBootstrapScript(o), "0700")];
    const units: [string, { service: string; timer: string }][] = [[SYNC_UNIT, renderSyncUnits()]];
    if (o.engine === "haproxy") {
        units.push([OCSP_UNIT, renderOcspUnits()]);
        // /run is a tmpfs: the admin socket's directory has to come back after every reboot.
        files.push(file("/etc/tmpfiles.d/keelson-edge.conf", "d /run/haproxy 0755 root root -\n", "0644"));
    }
    for (const [unit, text] of units) {
        files.push(file(`/etc/systemd/system/${unit}.service`, text.service, "0644"));
        files.push(file(`/etc/systemd/system/${unit}.timer`, text.timer, "0644"));
    }
    if (o.engine === "nginx") {
        // nginx open source checks only passively: the health loop marks failing nodes down.
        const unit = `/etc/systemd/system/${HEALTH_UNIT}.service`;
        files.push(file(unit, renderHealthUnit(EDGE_BOOTSTRAP_PATH), "0644"));
    }
    const doc = {
        hostname: o.hostname,
        package_update: true,
        packages: edgePackages(o),
        ssh_pwauth: false,
        disable_root: true,
        write_files: files,
        runcmd: [[EDGE_BOOTSTRAP_PATH]],
    };
    return `#cloud-config\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}
