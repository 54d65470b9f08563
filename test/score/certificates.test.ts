// The certificate expiry horizon: each tls-provider certificate's validity and renewal, the findings
// when nothing would renew one, and the plan's text and pull-request lines.
import * as assert from "node:assert/strict";
import {
    certificateFindings,
    certificateHorizons,
    renderHorizons,
} from "../../components/score/certificates";
import { scorePlan } from "../../components/score";
import { renderHorizonText, renderMarkdown } from "../../tools/plan/markdown";
import { PlanJson } from "../../tools/plan/diff";
import { res } from "./fixtures";

const CLUSTER = "keelson:cluster:Cluster";
const caUses = ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"];
const ca = (name: string, hours: number) =>
    res(
        "tls:index/selfSignedCert:SelfSignedCert",
        name,
        { validityPeriodHours: hours, allowedUses: caUses },
        { chain: [CLUSTER] },
    );
const leaf = (name: string, hours: number, early?: number) =>
    res(
        "tls:index/locallySignedCert:LocallySignedCert",
        name,
        {
            validityPeriodHours: hours,
            allowedUses: ["digital_signature", "client_auth"],
            ...(early ? { earlyRenewalHours: early } : {}),
        },
        { chain: [CLUSTER] },
    );

describe("certificate horizon", () => {
    it("lists every certificate, soonest expiry first, with what renews it", () => {
        const horizons = certificateHorizons([
            ca("ca", 87600),
            leaf("admin", 8760, 720),
            leaf("short", 2160, 168),
        ]);
        assert.deepEqual(
            horizons.map((h) => [h.name, h.ca, h.validHours, h.earlyRenewalHours]),
            [
                ["short", false, 2160, 168],
                ["admin", false, 8760, 720],
                ["ca", true, 87600, undefined],
            ],
        );
        assert.deepEqual(renderHorizons(horizons), [
            "short: valid 90 days, re-issued by the first pulumi up in its last 7 days",
            "admin: valid 1 year, re-issued by the first pulumi up in its last 30 days",
            "ca (CA): valid 10 years, a CA: rotated by a planned procedure before it expires",
        ]);
    });

    it("finds a leaf certificate nothing renews (medium) and a CA shorter than 5 years (high)", () => {
        const findings = certificateFindings([
            leaf("admin", 8760),
            ca("ca", 8760),
            ca("good-ca", 87600),
            leaf("ok", 8760, 720),
        ]);
        assert.deepEqual(
            findings.map((f) => [f.rule, f.severity, f.message, f.fix]),
            [
                [
                    "recoverability/certificate-no-renewal",
                    "medium",
                    "Certificate admin is valid 1 year and nothing re-issues it before it expires.",
                    "Set earlyRenewalHours (for instance 720) so that pulumi up re-issues it in its last 30 days.",
                ],
                [
                    "recoverability/short-ca",
                    "high",
                    "CA ca is valid only 1 year: rotating it re-issues every certificate under it.",
                    "Make the CA valid 5 years or more (validityPeriodHours 43800).",
                ],
            ],
        );
        // They count in the StackScore's recoverability grade.
        assert.equal(scorePlan([leaf("admin", 8760)]).metrics.recoverability, "B");
    });

    it("shows the horizon in the text plan and the pull-request summary, kubeadm's only with a cluster", () => {
        const resources = [res(CLUSTER, "c", {}), ca("c-ca", 87600), leaf("c-admin", 8760, 720)];
        const horizons = certificateHorizons(resources);
        assert.equal(
            renderHorizonText(horizons, resources),
            [
                "Certificate horizon:",
                "  c-admin: valid 1 year, re-issued by the first pulumi up in its last 30 days",
                "  c-ca (CA): valid 10 years, a CA: rotated by a planned procedure before it expires",
                "  kubeadm's certificates on the masters (1 year): renewed in their last 90 days by keelson-cert-renew.timer (every 7 days)",
            ].join("\n"),
        );
        assert.equal(renderHorizonText([], [res("keelson:app:Application", "a", {})]), "");
        const plan = {
            stack: "prod",
            summary: { resources: 2, components: 1 },
            resources,
        } as unknown as PlanJson;
        const md = renderMarkdown({ plan, certificates: horizons });
        assert.match(
            md,
            /### Certificate horizon\n\n- c-admin: valid 1 year, re-issued by the first pulumi up in its last 30 days\n- c-ca \(CA\)/,
        );
        assert.match(md, /- kubeadm's certificates on the masters \(1 year\): renewed in their last 90 days/);
    });
});
