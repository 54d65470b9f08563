// A tiny authoritative DNS server for the edge live tests (UDP on loopback): A records for the names
// it is given, changeable while it runs, the way the workers' NLB name answers one address per zone
// and drops a zone that fails. Every other name is NXDOMAIN; AAAA queries of a known name get no data.
import * as dgram from "dgram";

/** A running test DNS server. */
export interface DnsServer {
    /** The UDP port on 127.0.0.1. */
    readonly port: number;
    /** Replaces the A records of `name` (order kept). */
    set(name: string, addresses: readonly string[]): void;
    /** Queries answered so far. */
    queries(): number;
    close(): Promise<void>;
}

/** The query's name (lower case) and the offset just past its QNAME, or undefined for a bad packet. */
function questionName(msg: Buffer): { name: string; end: number } | undefined {
    const labels: string[] = [];
    let i = 12;
    while (i < msg.length && msg[i] !== 0) {
        const len = msg[i];
        if (len > 63 || i + 1 + len > msg.length) return undefined;
        labels.push(msg.subarray(i + 1, i + 1 + len).toString("ascii"));
        i += 1 + len;
    }
    if (i + 5 > msg.length) return undefined;
    return { name: labels.join(".").toLowerCase(), end: i + 1 };
}

/** The answer to one query: the question echoed, then A records pointing back at it (0xC00C). */
export function answer(
    msg: Buffer,
    records: ReadonlyMap<string, readonly string[]>,
    ttl: number,
): Buffer | undefined {
    if (msg.length < 17) return undefined;
    const q = questionName(msg);
    if (!q) return undefined;
    const qtype = msg.readUInt16BE(q.end);
    const known = records.get(q.name);
    const addresses = known && qtype === 1 ? known : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    // QR, AA, the query's RD, RA; NXDOMAIN for a name the server does not know.
    header.writeUInt16BE(0x8480 | ((msg[2] & 0x01) << 8) | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(addresses.length, 6);
    const rrs = addresses.map((a) => {
        const rr = Buffer.alloc(16);
        rr.writeUInt16BE(0xc00c, 0);
        rr.writeUInt16BE(1, 2);
        rr.writeUInt16BE(1, 4);
        rr.writeUInt32BE(ttl, 6);
        rr.writeUInt16BE(4, 10);
        a.split(".").forEach((o, i) => (rr[12 + i] = Number(o)));
        return rr;
    });
    return Buffer.concat([header, msg.subarray(12, q.end + 4), ...rrs]);
}

/** Starts the server on a free UDP port of 127.0.0.1 with `records` (name to A addresses), TTL `ttl` s. */
export async function startDnsServer(
    records: Record<string, readonly string[]>,
    ttl = 1,
): Promise<DnsServer> {
    const table = new Map(Object.entries(records).map(([n, a]) => [n.toLowerCase(), [...a]]));
    const socket = dgram.createSocket("udp4");
    let count = 0;
    socket.on("message", (msg, peer) => {
        const reply = answer(msg, table, ttl);
        if (!reply) return;
        count++;
        socket.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    return {
        port: socket.address().port,
        set: (name, addresses) => table.set(name.toLowerCase(), [...addresses]),
        queries: () => count,
        close: () => new Promise((resolve) => socket.close(() => resolve())),
    };
}
