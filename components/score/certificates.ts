// The certificate expiry horizon of a plan: how long each certificate Pulumi issues (tls provider)
// stays valid and what renews it, and the StackScore findings when nothing would. Certificates
// kubeadm issues on the masters (one year) are renewed there by a timer; they are not in the graph.
import { PlanResource } from "../core/graph";
import { Finding, findingsFor } from "./types";

const finding = findingsFor("recoverability");

/** Resource types of certificates the tls provider issues. */
const CERT_TYPES = new Set([
    "tls:index/selfSignedCert:SelfSignedCert",
    "tls:index/locallySignedCert:LocallySignedCert",
]);

/** A CA valid for less than this many hours gets a finding: rotating a CA is a planned procedure. */
export const MIN_CA_HOURS = 5 * 8760;

/** One certificate's horizon. */
export interface CertificateHorizon {
    readonly urn: string;
    readonly name: string;
    /** A CA (`cert_signing` among its allowed uses). */
    readonly ca: boolean;
    readonly validHours: number;
    /** Hours before expiry from which `pulumi up` re-issues it (the tls provider's earlyRenewalHours). */
    readonly earlyRenewalHours?: number;
    /** What renews it, in words. */
    readonly renewal: string;
}

const years = (h: number) =>
    h % 8760 === 0 ? `${h / 8760} year${h === 8760 ? "" : "s"}` : `${Math.round(h / 24)} days`;

/** Every tls-provider certificate of the plan with its validity and renewal, soonest expiry first. */
export function certificateHorizons(resources: readonly PlanResource[]): CertificateHorizon[] {
    const out: CertificateHorizon[] = [];
    for (const r of resources) {
        if (!CERT_TYPES.has(r.type)) continue;
        const validHours = Number(r.inputs.validityPeriodHours);
        const early = typeof r.inputs.earlyRenewalHours === "number" ? r.inputs.earlyRenewalHours : undefined;
        const uses = Array.isArray(r.inputs.allowedUses) ? r.inputs.allowedUses : [];
        const ca = uses.includes("cert_signing");
        const renewal =
            early && early > 0
                ? `re-issued by the first pulumi up in its last ${years(early)}`
                : ca
                  ? "a CA: rotated by a planned procedure before it expires"
                  : "nothing renews it";
        out.push({
            urn: r.urn,
            name: r.name,
            ca,
            validHours,
            ...(early ? { earlyRenewalHours: early } : {}),
            renewal,
        });
    }
    return out.sort((a, b) => a.validHours - b.validHours || a.name.localeCompare(b.name));
}

/** One line per certificate: `<name>: valid 1 year, re-issued by ...`. */
export function renderHorizons(horizons: readonly CertificateHorizon[]): string[] {
    return horizons.map((h) => `${h.name}${h.ca ? " (CA)" : ""}: valid ${years(h.validHours)}, ${h.renewal}`);
}

/**
 * A leaf certificate without early renewal (it expires in service: medium), a CA valid for less than
 * {@link MIN_CA_HOURS} (high: every certificate under it has to be re-issued when it is rotated).
 */
export function certificateFindings(resources: readonly PlanResource[]): Finding[] {
    const out: Finding[] = [];
    for (const h of certificateHorizons(resources)) {
        if (!h.ca && !h.earlyRenewalHours) {
            out.push(
                finding(
                    "certificate-no-renewal",
                    h.urn,
                    "medium",
                    `Certificate ${h.name} is valid ${years(h.validHours)} and nothing re-issues it before it expires.`,
                    "Set earlyRenewalHours (for instance 720) so that pulumi up re-issues it in its last 30 days.",
                ),
            );
        }
        if (h.ca && h.validHours < MIN_CA_HOURS) {
            out.push(
                finding(
                    "short-ca",
                    h.urn,
                    "high",
                    `CA ${h.name} is valid only ${years(h.validHours)}: rotating it re-issues every certificate under it.`,
                    `Make the CA valid ${years(MIN_CA_HOURS)} or more (validityPeriodHours ${MIN_CA_HOURS}).`,
                ),
            );
        }
    }
    return out;
}
