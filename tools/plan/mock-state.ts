// Computed attributes the mock engine returns for each resource type and invoke, so that programs see
// plausible ids, ARNs, IPs, DNS names and key material. Deterministic: ids and ARNs derive from the logical
// name, key material, physical names and IPs from the URN; nothing is random.
import { mockPrivateKey, stableHex } from "./mock-keys";
import { physicalName } from "./mock-names";

export { stableHex } from "./mock-keys";

/** The fake account every mocked ARN uses. */
export const MOCK_ACCOUNT = "123456789012";

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

/** What one mocked run knows across registrations: the region and the subnets' address ranges. */
export class MockCloud {
    /** Subnet id to its CIDR block, filled as subnets register. */
    private readonly subnets = new Map<string, string>();
    /** Addresses already handed out, per subnet id. */
    private readonly used = new Map<string, Set<number>>();

    constructor(readonly region: string) {}

    /** Remembers a subnet's CIDR so that instances in it get addresses from it. */
    addSubnet(id: string, cidr: unknown): void {
        if (typeof cidr === "string") this.subnets.set(id, cidr);
    }

    /**
     * A private IPv4 address in the subnet, as AWS assigns them: never the first four nor the last address
     * of the block; stable for a URN; distinct within the run. Unknown subnets (a literal id in a test) get
     * an address in 10.0.0.0/16.
     */
    privateIp(subnetId: unknown, seed: string): string {
        const id = typeof subnetId === "string" ? subnetId : "";
        const [base, bits] = parseCidr(this.subnets.get(id) ?? "10.0.0.0/16");
        const size = 2 ** (32 - bits);
        const usable = Math.max(1, size - 5);
        const taken = this.used.get(id) ?? new Set<number>();
        this.used.set(id, taken);
        let offset = 4 + (parseInt(stableHex(`ip:${seed}`, 8), 16) % usable);
        for (let i = 0; taken.has(offset) && i < usable; i++) offset = 4 + ((offset - 4 + 1) % usable);
        taken.add(offset);
        return formatIp(base + offset);
    }
}

function parseCidr(cidr: string): [number, number] {
    const [ip, bits] = cidr.split("/");
    const n = ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    const prefix = Number(bits);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return [(n & mask) >>> 0, prefix];
}

const formatIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");

/** One registration as the computers see it. */
interface Ctx {
    readonly urn: string;
    readonly cloud: MockCloud;
}
type Computer = (name: string, inputs: State, region: string, ctx: Ctx) => State;

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
    "aws:ec2/instance:Instance": (n, i, r, ctx) => {
        const ip = typeof i.privateIp === "string" ? i.privateIp : ctx.cloud.privateIp(i.subnetId, ctx.urn);
        return {
            id: `i-${stableHex(n)}`,
            arn: arn("ec2", r, `instance/i-${stableHex(n)}`),
            privateIp: ip,
            privateDns: `ip-${ip.replace(/\./g, "-")}.${r}.compute.internal`,
            publicIp: i.associatePublicIpAddress ? `203.0.113.${stableByte(`${n}/pub`)}` : "",
            primaryNetworkInterfaceId: `eni-${stableHex(n)}`,
        };
    },
    "aws:ec2/launchTemplate:LaunchTemplate": (n, _i, r) => ({
        id: `lt-${stableHex(n, 17)}`,
        arn: arn("ec2", r, `launch-template/lt-${stableHex(n, 17)}`),
        latestVersion: 1,
        defaultVersion: 1,
    }),
    "aws:autoscaling/group:Group": (n, i, r) => ({
        id: String(i.name ?? n),
        arn: arn(
            "autoscaling",
            r,
            `autoScalingGroup:${stableHex(n, 36)}:autoScalingGroupName/${i.name ?? n}`,
        ),
    }),
    "aws:sqs/queue:Queue": (n, i, r) => {
        const queue = String(i.name ?? n);
        return {
            id: `https://sqs.${r}.amazonaws.com/${MOCK_ACCOUNT}/${queue}`,
            url: `https://sqs.${r}.amazonaws.com/${MOCK_ACCOUNT}/${queue}`,
            arn: arn("sqs", r, queue),
        };
    },
    "aws:cloudwatch/eventRule:EventRule": (n, i, r) => ({
        name: String(i.name ?? n),
        arn: arn("events", r, `rule/${i.name ?? n}`),
    }),
    "aws:lb/loadBalancer:LoadBalancer": (n, i, r) => ({
        arn: arn("elasticloadbalancing", r, `loadbalancer/net/${n}/${stableHex(n, 16)}`),
        // AWS prefixes an internal load balancer's name with "internal-".
        dnsName: `${i.internal === true ? "internal-" : ""}${n}-${stableHex(n, 16)}.elb.${r}.amazonaws.com`,
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
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (_n, i) => ({
        arn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${String(i.url ?? "").replace(/^https:\/\//, "")}`,
    }),
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
    "tls:index/privateKey:PrivateKey": (_n, i, _r, ctx) => ({ ...mockPrivateKey(ctx.urn, i) }),
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

/** The value the SDK reads as "unknown" in a preview (`pulumi preview` shows it as output<...>). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Mock registration result for a resource: inputs echoed back, the physical name the provider would
 * assign (throws a NameLimitError when it is too long), and the type's computed attributes (which the
 * inputs never override, except a given `privateIp`). With `preview`, every attribute the inputs do not
 * give and the id are unknown, as `pulumi preview` sees a resource about to be created. `region` may be a
 * run's {@link MockCloud} (subnets remembered across calls) or a region name (a one-off call).
 */
export function mockResourceState(
    type: string,
    name: string,
    inputs: State,
    region: MockCloud | string,
    urn = `urn:mock::${type}::${name}`,
    preview = false,
): { id: string; state: State } {
    const cloud = typeof region === "string" ? new MockCloud(region) : region;
    const physical = physicalName(type, name, inputs, urn);
    const named = { ...inputs };
    if (physical && physical.field !== "metadata.name") named[physical.field] = physical.value;
    const computed = computers[type]?.(name, named, cloud.region, { urn, cloud }) ?? {};
    let id = typeof computed.id === "string" ? computed.id : `${name}-id`;
    if (type === "aws:ec2/subnet:Subnet") cloud.addSubnet(id, inputs.cidrBlock);
    if (type.startsWith("kubernetes:")) {
        const meta = (inputs.metadata ?? {}) as { name?: string; namespace?: string };
        const objectName = meta.name ?? physical?.value ?? name;
        id = meta.namespace ? `${meta.namespace}/${objectName}` : objectName;
    }
    if (!preview) return { id, state: { ...named, ...computed } };
    const state: State = { ...named };
    for (const key of Object.keys(computed)) if (!(key in named)) state[key] = UNKNOWN;
    return { id: "", state };
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
