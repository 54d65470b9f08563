import { WILDCARD_DNS_NAME } from "../core/names";
import { INSTANCE_TYPE_RULE } from "./reader";
import { ConfigProblem } from "./problems";
import { DNS_LABEL, Reader } from "./reader";
import { EdgeCertificateConfig, EdgeConfig } from "./types";

const KEYS = [
    "engine",
    "count",
    "instanceType",
    "nlb",
    "tlsMode",
    "keyAlgorithm",
    "certificates",
    "acmeEmail",
] as const;
const CERT_KEYS = ["name", "hosts"] as const;

/** Secret config keys holding a provided certificate and its private key. */
export function certificateSecretKeys(name: string): { cert: string; key: string } {
    return { cert: `keelson:tls-${name}-cert`, key: `keelson:tls-${name}-key` };
}

/** Parses `keelson:edge`, with defaults by stage, reporting every problem. */
export function parseEdge(raw: unknown, ctx: { production: boolean }, problems: ConfigProblem[]): EdgeConfig {
    const r = new Reader("edge", raw, problems, KEYS);
    const engine = r.oneOf("engine", ["nginx", "haproxy"] as const, "nginx");
    const count = r.int("count", ctx.production ? 2 : 1, 1, 10);
    if (ctx.production && count < 2) {
        r.report("edge.count", count, "is a single point of failure in a production stage; use 2 or more");
    }
    const instanceType = r.string("instanceType", "t3.small", INSTANCE_TYPE_RULE);
    const nlb = r.bool("nlb", false);
    const tlsMode = r.oneOf(
        "tlsMode",
        ["self-signed", "provided", "acme"] as const,
        ctx.production ? "provided" : "self-signed",
    );
    const keyAlgorithm = r.oneOf("keyAlgorithm", ["ecdsa-p256", "rsa-2048"] as const, "ecdsa-p256");
    const certificates = r.list<EdgeCertificateConfig>("certificates", [], (path, item) => {
        const cr = new Reader(path, item, problems, CERT_KEYS);
        const name = cr.string("name", "", {
            pattern: DNS_LABEL,
            fix: "is not DNS-safe; use lowercase letters, digits and '-', starting with a letter",
        });
        if (!cr.has("name"))
            cr.report(cr.at("name"), undefined, "is required; name the certificate, e.g. www");
        const hosts = cr.list<string>("hosts", [], (hpath, h) => {
            if (typeof h === "string" && WILDCARD_DNS_NAME.test(h)) return h;
            cr.report(
                hpath,
                h,
                "is not a host name; use a DNS name such as www.example.com or *.example.com",
            );
            return undefined;
        });
        if (hosts.length === 0)
            cr.report(
                cr.at("hosts"),
                cr.raw("hosts"),
                "is empty; list the host names the certificate serves",
            );
        return { name, hosts };
    });
    const names = certificates.map((c) => c.name);
    names.forEach((n, i) => {
        if (n && names.indexOf(n) !== i)
            r.report(
                `edge.certificates[${i}].name`,
                n,
                "is used by another certificate; give each its own name",
            );
    });
    if (tlsMode === "provided" && certificates.length === 0) {
        r.report(
            "edge.certificates",
            certificates,
            'is empty but edge.tlsMode is "provided"; list at least one certificate with its hosts',
        );
    }
    const acmeEmail = r.optionalString("acmeEmail", {
        pattern: /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i,
        fix: "is not an email address; use the contact address for the ACME account",
    });
    if (tlsMode === "acme" && !acmeEmail && !r.has("acmeEmail")) {
        r.report(
            "edge.acmeEmail",
            undefined,
            'is required when edge.tlsMode is "acme"; set the ACME account contact email',
        );
    }
    return {
        engine,
        count,
        instanceType,
        nlb,
        tlsMode,
        keyAlgorithm,
        certificates,
        ...(acmeEmail ? { acmeEmail } : {}),
    };
}
