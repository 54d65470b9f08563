// The edge benchmark's arithmetic (pure): per-subject medians and spread over rounds, and the ratios
// of each Keelson engine to the TLS limit and to the best peer of the same round, per proxy CPU-second.

/** What one subject is in the comparison. */
export type SubjectKind = "limit" | "keelson" | "peer" | "baseline";

/** One measured run of one subject in one round. */
export interface Sample {
    readonly subject: string;
    readonly kind: SubjectKind;
    readonly round: number;
    readonly rps: number;
    readonly requests: number;
    readonly failures: number;
    readonly p99_ms: number;
    /** CPU seconds the proxy used during the run (its processes only). */
    readonly proxy_cpu_s: number;
}

/** Median and range of a figure over the rounds. */
export interface Spread {
    readonly median: number;
    readonly min: number;
    readonly max: number;
}

/** Requests per CPU-second of the proxy alone. */
export function perCpu(s: Pick<Sample, "requests" | "proxy_cpu_s">): number {
    return s.proxy_cpu_s > 0 ? s.requests / s.proxy_cpu_s : Number.NaN;
}

/** Median (mean of the middle two for an even count), minimum and maximum, rounded to 3 decimals. */
export function spread(values: readonly number[]): Spread {
    if (values.length === 0) throw new Error("spread of no values");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    const r = (n: number) => Number(n.toFixed(3));
    return { median: r(median), min: r(sorted[0]), max: r(sorted[sorted.length - 1]) };
}

/** Per subject, over the rounds. */
export interface SubjectSummary {
    readonly subject: string;
    readonly kind: SubjectKind;
    readonly rps: Spread;
    readonly per_proxy_cpu_second: Spread;
    readonly p99_ms: Spread;
    readonly failures: number;
}

/** Summaries in first-appearance order. */
export function summarize(samples: readonly Sample[]): SubjectSummary[] {
    const names = [...new Set(samples.map((s) => s.subject))];
    return names.map((subject) => {
        const mine = samples.filter((s) => s.subject === subject);
        return {
            subject,
            kind: mine[0].kind,
            rps: spread(mine.map((s) => s.rps)),
            per_proxy_cpu_second: spread(mine.map(perCpu)),
            p99_ms: spread(mine.map((s) => s.p99_ms)),
            failures: mine.reduce((sum, s) => sum + s.failures, 0),
        };
    });
}

/**
 * For each Keelson subject: its per-CPU-second figure over the TLS limit's and over the best peer's
 * of the same round (ratios measured side by side, so that a loaded machine moves both), with the
 * best peer named per round.
 */
export function ratios(
    samples: readonly Sample[],
): Record<string, { vs_tls_limit: Spread; vs_best_peer: Spread; best_peers: string[] }> {
    const rounds = [...new Set(samples.map((s) => s.round))];
    const out: Record<string, { vs_tls_limit: Spread; vs_best_peer: Spread; best_peers: string[] }> = {};
    for (const subject of [...new Set(samples.filter((s) => s.kind === "keelson").map((s) => s.subject))]) {
        const limit: number[] = [];
        const peer: number[] = [];
        const best: string[] = [];
        for (const round of rounds) {
            const inRound = samples.filter((s) => s.round === round);
            const me = inRound.find((s) => s.subject === subject);
            const lim = inRound.find((s) => s.kind === "limit");
            const peers = inRound.filter((s) => s.kind === "peer").sort((a, b) => perCpu(b) - perCpu(a));
            if (!me) continue;
            if (lim) limit.push(perCpu(me) / perCpu(lim));
            if (peers.length > 0) {
                peer.push(perCpu(me) / perCpu(peers[0]));
                best.push(peers[0].subject);
            }
        }
        out[subject] = { vs_tls_limit: spread(limit), vs_best_peer: spread(peer), best_peers: best };
    }
    return out;
}

/**
 * The subjects whose figures are not figures: any failed request (socket error or non-2xx) in any
 * round. A peer that fails every request must not sit in the table as a slow peer, and a Keelson
 * config that drops requests is no faster for it; the bench names them and exits 1.
 */
export function failedSubjects(summaries: readonly SubjectSummary[]): string[] {
    return summaries.filter((s) => s.failures > 0).map((s) => `${s.subject} (${s.failures} failed requests)`);
}
