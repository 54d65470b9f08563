// Real key material for tls.PrivateKey under the mock engine, derived from the resource's URN: the same
// program gives the same keys (and so the same CA hashes in user-data) in every run and every process.
import * as crypto from "crypto";

/** The attributes tls.PrivateKey computes. */
export interface MockKeyState {
    readonly privateKeyPem: string;
    readonly privateKeyPemPkcs8: string;
    readonly publicKeyPem: string;
    readonly publicKeyFingerprintSha256: string;
    readonly publicKeyOpenssh: string;
}

/** A deterministic byte stream: SHA-256 of `seed#counter`, concatenated. */
export function stableBytes(seed: string, length: number): Buffer {
    const parts: Buffer[] = [];
    for (let i = 0; parts.length * 32 < length; i++) {
        parts.push(crypto.createHash("sha256").update(`${seed}#${i}`).digest());
    }
    return Buffer.concat(parts).subarray(0, length);
}

/** Hex digest of a string, used to derive stable fake ids and names. */
export function stableHex(seed: string, length = 17): string {
    return stableBytes(seed, Math.ceil(length / 2))
        .toString("hex")
        .slice(0, length);
}

const b64u = (b: Buffer) => b.toString("base64url");

const CURVES: Record<string, { ecdh: string; jwk: string; bytes: number }> = {
    P224: { ecdh: "secp224r1", jwk: "P-224", bytes: 28 },
    P256: { ecdh: "prime256v1", jwk: "P-256", bytes: 32 },
    P384: { ecdh: "secp384r1", jwk: "P-384", bytes: 48 },
    P521: { ecdh: "secp521r1", jwk: "P-521", bytes: 66 },
};

function ecdsaKey(seed: string, curveName: string): crypto.KeyObject {
    const curve = CURVES[curveName] ?? CURVES.P256;
    const d = stableBytes(`ecdsa:${seed}`, curve.bytes);
    // Clearing the top bit keeps d below the group order (and P-521's top byte to its one used bit).
    d[0] &= curve.bytes === 66 ? 0x00 : 0x7f;
    if (d.every((b) => b === 0)) d[d.length - 1] = 1;
    const ecdh = crypto.createECDH(curve.ecdh);
    ecdh.setPrivateKey(d);
    const pub = ecdh.getPublicKey(); // 04 || x || y
    const len = (pub.length - 1) / 2;
    return crypto.createPrivateKey({
        key: {
            kty: "EC",
            crv: curve.jwk,
            d: b64u(d),
            x: b64u(pub.subarray(1, 1 + len)),
            y: b64u(pub.subarray(1 + len)),
        },
        format: "jwk",
    });
}

function ed25519Key(seed: string): crypto.KeyObject {
    const prefix = Buffer.from("302e020100300506032b657004220420", "hex");
    const der = Buffer.concat([prefix, stableBytes(`ed25519:${seed}`, 32)]);
    return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

// --- RSA: primes found from a seeded stream, so the key is a pure function of the seed. ---
const SMALL_PRIMES: bigint[] = [];
for (let n = 3; SMALL_PRIMES.length < 500; n += 2)
    if (SMALL_PRIMES.every((p) => BigInt(n) % p !== 0n)) SMALL_PRIMES.push(BigInt(n));
const toBig = (b: Buffer) => BigInt(`0x${b.toString("hex")}`);
function toBuf(n: bigint, length?: number): Buffer {
    let hex = n.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    const buf = Buffer.from(hex, "hex");
    return length && buf.length < length ? Buffer.concat([Buffer.alloc(length - buf.length), buf]) : buf;
}

function prime(seed: string, bits: number, e: bigint): bigint {
    for (let i = 0; ; i++) {
        const b = stableBytes(`${seed}/${i}`, bits / 8);
        b[0] |= 0xc0; // top two bits: the product has exactly 2*bits bits
        b[b.length - 1] |= 1;
        let candidate = toBig(b);
        for (let step = 0; step < 4096; step++, candidate += 2n) {
            // OpenSSL's primality test (deterministic for a given number), far faster than BigInt arithmetic.
            if (SMALL_PRIMES.some((p) => candidate % p === 0n) || (candidate - 1n) % e === 0n) continue;
            if (crypto.checkPrimeSync(candidate)) return candidate;
        }
    }
}

function modInverse(a: bigint, m: bigint): bigint {
    let [r0, r1] = [a % m, m];
    let [s0, s1] = [1n, 0n];
    while (r1 !== 0n) {
        const q = r0 / r1;
        [r0, r1] = [r1, r0 - q * r1];
        [s0, s1] = [s1, s0 - q * s1];
    }
    return ((s0 % m) + m) % m;
}

function rsaKey(seed: string, bits: number): crypto.KeyObject {
    const e = 65537n;
    const p = prime(`rsa:${seed}:p`, bits / 2, e);
    let q = prime(`rsa:${seed}:q`, bits / 2, e);
    if (q === p) q = prime(`rsa:${seed}:q2`, bits / 2, e);
    const [big, small] = p > q ? [p, q] : [q, p];
    const n = big * small;
    const phi = (big - 1n) * (small - 1n);
    const d = modInverse(e, phi);
    return crypto.createPrivateKey({
        key: {
            kty: "RSA",
            n: b64u(toBuf(n)),
            e: b64u(toBuf(e)),
            d: b64u(toBuf(d)),
            p: b64u(toBuf(big)),
            q: b64u(toBuf(small)),
            dp: b64u(toBuf(d % (big - 1n))),
            dq: b64u(toBuf(d % (small - 1n))),
            qi: b64u(toBuf(modInverse(small, big))),
        },
        format: "jwk",
    });
}

const cache = new Map<string, MockKeyState>();

/**
 * The key tls.PrivateKey would generate, derived from `seed` (the resource URN): RSA (default 2048 bits),
 * ECDSA (default curve P224, as the provider's) or ED25519. Cached per seed and parameters.
 */
export function mockPrivateKey(seed: string, inputs: Record<string, unknown>): MockKeyState {
    const algorithm = String(inputs.algorithm ?? "RSA");
    const curve = String(inputs.ecdsaCurve ?? "P224");
    const bits = Number(inputs.rsaBits ?? 2048);
    const cacheKey = `${seed}|${algorithm}|${bits}|${curve}`;
    const cached = cache.get(cacheKey);
    if (cached) return cached;
    const key =
        algorithm === "ECDSA"
            ? ecdsaKey(seed, curve)
            : algorithm === "ED25519"
              ? ed25519Key(seed)
              : rsaKey(seed, bits);
    const pkcs8 = key.export({ type: "pkcs8", format: "pem" }) as string;
    const privateKeyPem =
        algorithm === "ECDSA"
            ? (key.export({ type: "sec1", format: "pem" }) as string)
            : algorithm === "ED25519"
              ? pkcs8
              : (key.export({ type: "pkcs1", format: "pem" }) as string);
    const publicKey = crypto.createPublicKey(key);
    const der = publicKey.export({ type: "spki", format: "der" });
    const state: MockKeyState = {
        privateKeyPem,
        privateKeyPemPkcs8: pkcs8,
        publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
        publicKeyFingerprintSha256: `SHA256:${crypto.createHash("sha256").update(der).digest("base64")}`,
        publicKeyOpenssh: `ssh-mock ${der.toString("base64")}\n`,
    };
    cache.set(cacheKey, state);
    return state;
}
