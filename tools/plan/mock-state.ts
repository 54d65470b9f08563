// Computed attributes the mock engine returns for each resource type and invoke, so that programs see
// plausible ids, ARNs, IPs, DNS names and key material. Deterministic: the same name gives the same values.
import * as crypto from "crypto";

/** The fake account every mocked ARN uses. */
export const MOCK_ACCOUNT = "123456789012";

/** Hex digest of a string, used to derive stable fake ids. */
export function stableHex(seed: string, length = 17): string {
    let out = "";
    for (let i = 0; out.length < length; i++) {
        out += crypto.createHash("sha256").update(`${seed}#${i}`).digest("hex");
    }
    return out.slice(0, length);
}

function stableByte(seed: string, min = 1, max = 254): number {
    return min + (parseInt(stableHex(seed, 4), 16) % (max - min + 1));
}

/** A fake but well-formed PEM block, for certificates the mocks cannot sign. */
function fakePem(label: string, seed: string): string {
    const body = Buffer.from(`keelson offline plan ${label} ${seed} ${stableHex(seed, 64)}`).toString(
        "base64",
    );
    const lines = body.match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

const keyCache = new Map<string, Record<string, string>>();

/** Real key material, so that code deriving hashes or public keys from it works under mocks. */
function privateKey(name: string, inputs: Record<string, unknown>): Record<string, string> {
    const algorithm = String(inputs.algorithm ?? "RSA");
    const cacheKey = `${name}|${algorithm}|${inputs.rsaBits}|${inputs.ecdsaCurve}`;
    const cached = keyCache.get(cacheKey);
    if (cached) return cached;
    let pair: crypto.KeyPairSyncResult<string, string>;
    let privateKeyPem: string;
    if (algorithm === "ECDSA") {
        const namedCurve = { P224: "P-224", P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" }[
            String(inputs.ecdsaCurve ?? "P224")
        ];
        pair = crypto.generateKeyPairSync("ec", {
            namedCurve: namedCurve ?? "prime256v1",
            publicKeyEncoding: { type: "spki", format: "pem" },
            privateKeyEncoding: { type: "pkcs8", format: "pem" },
        });
        privateKeyPem = crypto
            .createPrivateKey(pair.privateKey)
            .export({ type: "sec1", format: "pem" }) as string;
    } else if (algorithm === "ED25519") {
        pair = crypto.generateKeyPairSync("ed25519", {
            publicKeyEncoding: { type: "spki", format: "pem" },
            privateKeyEncoding: { type: "pkcs8", format: "pem" },
        });
        privateKeyPem = pair.privateKey;
    } else {
        pair = crypto.generateKeyPairSync("rsa", {
            modulusLength: Number(inputs.rsaBits ?? 2048),
            publicKeyEncoding: { type: "spki", format: "pem" },
            privateKeyEncoding: { type: "pkcs8", format: "pem" },
        });
        privateKeyPem = crypto
            .createPrivateKey(pair.privateKey)
            .export({ type: "pkcs1", format: "pem" }) as string;
    }
    const der = crypto.createPublicKey(pair.publicKey).export({ type: "spki", format: "der" });
    const state = {
        privateKeyPem,
        privateKeyPemPkcs8: pair.privateKey,
        publicKeyPem: pair.publicKey,
        publicKeyFingerprintSha256: `SHA256:${crypto.createHash("sha256").update(der).digest("base64")}`,
        publicKeyOpenssh: `ssh-mock ${der.toString("base64")}\n`,
    };
    keyCache.set(cacheKey, state);
    return state;
}

/** A deterministic string honouring random.RandomString/RandomPassword's character-set flags. */
function randomText(name: string, inputs: Record<string, unknown>): string {
    const length = Number(inputs.length ?? 16);
    let alphabet = "";
    if (inputs.lower !== false) alphabet += "abcdefghijklmnopqrstuvwxyz";
    if (inputs.upper !== false) alphabet += "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (inputs.numeric !== false && inputs.number !== false) alphabet += "0123456789";
    if (inputs.special !== false) alphabet += String(inputs.overrideSpecial ?? "!#$%&*()-_=+[]{}<>:?");
    if (alphabet === "") alphabet = "abcdefghijklmnopqrstuvwxyz";
    const hex = stableHex(`random:${name}`, length * 2);
    let out = "";
    for (let i = 0; i < length; i++)
        out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
    return out;
}

type State = Record<string, unknown>;
type Computer = (name: string, inputs: State, region: string) => State;

const arn = (service: string, region: string, resource: string) =>
    `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${resource}`;

/** Per-type computed state. The id is `state.id` when given, else `<name>-id`. */
const computers: Record<string, Computer> = {
    "aws:ec2/vpc:Vpc": (n, _i, r) => ({
        id: `vpc-${stableHex(n)}`,
        arn: arn("ec2", r, `vpc/vpc-${stableHex(n)}`),
    }),
    "aws:ec2/subnet:Subnet": (n, _i, r) => ({
        id: `subnet-${stableHex(n)}`,
        arn: arn("ec2", r, `subnet/subnet-${stableHex(n)}`),
    }),
    "aws:ec2/securityGroup:SecurityGroup": (n, _i, r) => ({
        id: `sg-${stableHex(n)}`,
        arn: arn("ec2", r, `security-group/sg-${stableHex(n)}`),
    }),
    "aws:ec2/internetGateway:InternetGateway": (n) => ({ id: `igw-${stableHex(n)}` }),
    "aws:ec2/natGateway:NatGateway": (n) => ({
        id: `nat-${stableHex(n)}`,
        publicIp: `198.51.100.${stableByte(n)}`,
    }),
    "aws:ec2/routeTable:RouteTable": (n) => ({ id: `rtb-${stableHex(n)}` }),
    "aws:ec2/eip:Eip": (n) => ({
        id: `eipalloc-${stableHex(n)}`,
        allocationId: `eipalloc-${stableHex(n)}`,
        publicIp: `203.0.113.${stableByte(n)}`,
    }),
    "aws:ec2/instance:Instance": (n, i, r) => {
        const ip = `10.0.${stableByte(`${n}/3`, 0, 127)}.${stableByte(`${n}/4`)}`;
        return {
            id: `i-${stableHex(n)}`,
            arn: arn("ec2", r, `instance/i-${stableHex(n)}`),
            privateIp: ip,
            privateDns: `ip-${ip.replace(/\./g, "-")}.${r}.compute.internal`,
            publicIp: i.associatePublicIpAddress ? `203.0.113.${stableByte(`${n}/pub`)}` : "",
            primaryNetworkInterfaceId: `eni-${stableHex(n)}`,
        };
    },
    "aws:lb/loadBalancer:LoadBalancer": (n, _i, r) => ({
        arn: arn("elasticloadbalancing", r, `loadbalancer/net/${n}/${stableHex(n, 16)}`),
        dnsName: `${n}-${stableHex(n, 16)}.elb.${r}.amazonaws.com`,
        zoneId: "Z26RNL4JYFTOTI",
    }),
    "aws:lb/targetGroup:TargetGroup": (n, _i, r) => ({
        arn: arn("elasticloadbalancing", r, `targetgroup/${n}/${stableHex(n, 16)}`),
    }),
    "aws:lb/listener:Listener": (n, _i, r) => ({
        arn: arn("elasticloadbalancing", r, `listener/net/${n}/${stableHex(n, 16)}`),
    }),
    "aws:iam/role:Role": (n, i) => ({
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${i.name ?? n}`,
        name: i.name ?? n,
        uniqueId: `AROA${stableHex(n, 17).toUpperCase()}`,
    }),
    "aws:iam/instanceProfile:InstanceProfile": (n, i) => ({
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:instance-profile/${i.name ?? n}`,
        name: i.name ?? n,
    }),
    "aws:iam/policy:Policy": (n, i) => ({ arn: `arn:aws:iam::${MOCK_ACCOUNT}:policy/${i.name ?? n}` }),
    "aws:iam/user:User": (n, i) => ({
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/${i.name ?? n}`,
        name: i.name ?? n,
    }),
    "aws:iam/accessKey:AccessKey": (n) => ({
        id: `AKIA${stableHex(n, 16).toUpperCase()}`,
        secret: stableHex(`secret:${n}`, 40),
    }),
    "aws:ssm/parameter:Parameter": (n, i, r) => ({
        arn: arn("ssm", r, `parameter${i.name ?? `/${n}`}`),
        version: 1,
    }),
    "aws:kms/key:Key": (n, _i, r) => ({
        arn: arn("kms", r, `key/${stableHex(n, 32)}`),
        keyId: stableHex(n, 32),
    }),
    "aws:s3/bucket:Bucket": (n, i, r) => {
        const bucket = String(i.bucket ?? `${n}-${stableHex(n, 7)}`);
        return {
            id: bucket,
            bucket,
            region: r,
            arn: `arn:aws:s3:::${bucket}`,
            bucketRegionalDomainName: `${bucket}.s3.amazonaws.com`,
        };
    },
    "aws:ecr/repository:Repository": (n, i, r) => ({
        arn: arn("ecr", r, `repository/${i.name ?? n}`),
        repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${r}.amazonaws.com/${i.name ?? n}`,
    }),
    "aws:route53/zone:Zone": (n) => ({
        id: `Z${stableHex(n, 20).toUpperCase()}`,
        zoneId: `Z${stableHex(n, 20).toUpperCase()}`,
    }),
    "aws:route53/record:Record": (_n, i) => ({ fqdn: i.name }),
    "tls:index/privateKey:PrivateKey": (n, i) => privateKey(n, i),
    "tls:index/selfSignedCert:SelfSignedCert": (n) => ({ certPem: fakePem("CERTIFICATE", n) }),
    "tls:index/locallySignedCert:LocallySignedCert": (n) => ({ certPem: fakePem("CERTIFICATE", n) }),
    "tls:index/certRequest:CertRequest": (n) => ({ certRequestPem: fakePem("CERTIFICATE REQUEST", n) }),
    "random:index/randomPassword:RandomPassword": (n, i) => ({
        result: randomText(n, i),
        bcryptHash: `$2a$10$${stableHex(`bcrypt:${n}`, 53)}`,
    }),
    "random:index/randomString:RandomString": (n, i) => ({ result: randomText(n, i) }),
    "random:index/randomId:RandomId": (n, i) => {
        const hex = stableHex(`randomid:${n}`, Number(i.byteLength ?? 8) * 2);
        const bytes = Buffer.from(hex, "hex");
        return {
            hex,
            b64Std: bytes.toString("base64"),
            b64Url: bytes.toString("base64url"),
            dec: BigInt(`0x${hex}`).toString(),
        };
    },
    "random:index/randomBytes:RandomBytes": (n, i) => {
        const bytes = Buffer.from(stableHex(`randombytes:${n}`, Number(i.length ?? 32) * 2), "hex");
        return { hex: bytes.toString("hex"), base64: bytes.toString("base64") };
    },
    "random:index/randomUuid:RandomUuid": (n) => {
        const h = stableHex(`uuid:${n}`, 32);
        return {
            result: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`,
        };
    },
    "docker:index/image:Image": (n, i) => ({
        repoDigest: `${i.imageName ?? n}@sha256:${stableHex(n, 64)}`,
    }),
};

/** Mock registration result for a resource: inputs echoed back plus the type's computed attributes. */
export function mockResourceState(
    type: string,
    name: string,
    inputs: State,
    region: string,
): { id: string; state: State } {
    const computed = computers[type]?.(name, inputs, region) ?? {};
    let id = typeof computed.id === "string" ? computed.id : `${name}-id`;
    if (type.startsWith("kubernetes:")) {
        const meta = (inputs.metadata ?? {}) as { name?: string; namespace?: string };
        id = meta.namespace ? `${meta.namespace}/${meta.name ?? name}` : (meta.name ?? name);
    }
    return { id, state: { ...inputs, ...computed } };
}

/** Mock results for the provider functions (invokes) Keelson calls. Unknown tokens throw. */
export function mockInvoke(token: string, inputs: State, region: string): State {
    switch (token) {
        case "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {
                id: region,
                names: ["a", "b", "c", "d"].map((z) => `${region}${z}`),
                zoneIds: ["1", "2", "3", "4"].map((z) => `use1-az${z}`),
            };
        case "aws:ec2/getAmi:getAmi": {
            // The image the filters ask for (Debian's naming), one id per architecture.
            const filters = (inputs.filters ?? []) as { name: string; values: string[] }[];
            const value = (n: string) => filters.find((f) => f.name === n)?.values[0];
            const architecture = value("architecture") ?? "x86_64";
            const id = architecture === "arm64" ? "ami-0a4e6b2c8d0f1e3a5" : "ami-0d1e2b3c4f5a6b7c8";
            return {
                id,
                imageId: id,
                name: (value("name") ?? "debian-13-amd64-*").replace("*", "20261101-2284"),
                architecture,
                ownerId: "136693071363",
            };
        }
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                accountId: MOCK_ACCOUNT,
                arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/offline-plan`,
                userId: "AIDAMOCK",
            };
        case "aws:index/getRegion:getRegion":
            return { id: region, name: region, region, endpoint: `ec2.${region}.amazonaws.com` };
        case "aws:index/getPartition:getPartition":
            return { id: "aws", partition: "aws", dnsSuffix: "amazonaws.com" };
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                id: region,
                userName: "AWS",
                password: "offline-plan-ecr-token",
                authorizationToken: Buffer.from("AWS:offline-plan-ecr-token").toString("base64"),
                proxyEndpoint: `https://${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com`,
            };
        default:
            throw new Error(
                `offline plan: no mock for invoke ${token} (inputs ${JSON.stringify(inputs)}); ` +
                    `add it to tools/plan/mock-state.ts`,
            );
    }
}
