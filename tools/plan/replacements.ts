// Which input changes make the provider replace a resource instead of updating it in place, for the types
// Keelson registers. A small table, not the providers' whole schemas:
// - AWS: the fields marked `ForceNew` in terraform-provider-aws (which pulumi-aws bridges), e.g.
//   internal/service/ec2/ec2_instance.go: ami, subnetId, privateIp, keyName, availabilityZone,
//   associatePublicIpAddress, rootBlockDevice.encrypted/kmsKeyId...; userData/userDataBase64 only with
//   `userDataReplaceOnChange: true` (a CustomizeDiff ForceNewIf). instanceType, vpcSecurityGroupIds,
//   iamInstanceProfile and rootBlockDevice.volumeSize update in place (stop/start or modify).
// - tls and random: every input of their resources forces a new key, certificate or value.
// - Kubernetes (pulumi-kubernetes): a changed metadata.name or namespace, and the API's immutable
//   fields (a Deployment's spec.selector, a StatefulSet's selector, serviceName and volumeClaimTemplates,
//   a Service's clusterIP, a Job's template, a PVC's access modes, selector, class and volume, an immutable Secret or ConfigMap's data).

/** Field paths (inputs, dotted; a prefix covers its children) that force replacement, per type. */
export const REPLACE_ON_CHANGE: Record<string, readonly string[]> = {
    "aws:ec2/instance:Instance": [
        "ami",
        "associatePublicIpAddress",
        "availabilityZone",
        "cpuOptions",
        "ebsBlockDevices",
        "ebsOptimized",
        "ephemeralBlockDevices",
        "hibernation",
        "hostId",
        "ipv6AddressCount",
        "ipv6Addresses",
        "keyName",
        "launchTemplate",
        "placementGroup",
        "privateIp",
        "rootBlockDevice.encrypted",
        "rootBlockDevice.kmsKeyId",
        "securityGroups",
        "subnetId",
        "tenancy",
    ],
    "aws:ec2/vpc:Vpc": ["cidrBlock"],
    "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"],
    "aws:ec2/securityGroup:SecurityGroup": ["name", "namePrefix", "description", "vpcId"],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ["securityGroupId"],
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ["securityGroupId"],
    "aws:ec2/natGateway:NatGateway": ["allocationId", "subnetId", "connectivityType", "privateIp"],
    "aws:ec2/eip:Eip": ["domain", "address", "networkBorderGroup"],
    "aws:ec2/eipAssociation:EipAssociation": [
        "allocationId",
        "instanceId",
        "networkInterfaceId",
        "privateIpAddress",
        "publicIp",
    ],
    "aws:ec2/routeTable:RouteTable": ["vpcId"],
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ["subnetId", "gatewayId"],
    "aws:lb/loadBalancer:LoadBalancer": [
        "name",
        "namePrefix",
        "internal",
        "loadBalancerType",
        "customerOwnedIpv4Pool",
    ],
    "aws:lb/targetGroup:TargetGroup": [
        "name",
        "namePrefix",
        "port",
        "protocol",
        "protocolVersion",
        "vpcId",
        "targetType",
        "ipAddressType",
    ],
    "aws:lb/listener:Listener": ["loadBalancerArn"],
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": [
        "targetGroupArn",
        "targetId",
        "port",
        "availabilityZone",
    ],
    "aws:iam/role:Role": ["name", "namePrefix", "path"],
    "aws:iam/instanceProfile:InstanceProfile": ["name", "namePrefix", "path"],
    "aws:iam/rolePolicy:RolePolicy": ["name", "namePrefix", "role"],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["role", "policyArn"],
    "aws:iam/user:User": [],
    "aws:iam/userPolicy:UserPolicy": ["name", "namePrefix", "user"],
    "aws:iam/accessKey:AccessKey": ["user", "pgpKey"],
    "aws:kms/key:Key": ["customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId"],
    "aws:ssm/parameter:Parameter": ["name"],
    "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
    "aws:s3/bucketPolicy:BucketPolicy": ["bucket"],
    "aws:s3/bucketVersioning:BucketVersioning": ["bucket", "expectedBucketOwner"],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ["bucket"],
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ["bucket"],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ["bucket", "expectedBucketOwner"],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
        "bucket",
        "expectedBucketOwner",
    ],
    "aws:ecr/repository:Repository": ["name"],
    "aws:route53/zone:Zone": ["name", "delegationSetId"],
    "aws:route53/record:Record": ["name", "type", "zoneId", "setIdentifier"],
    "tls:index/privateKey:PrivateKey": ["*"],
    "tls:index/selfSignedCert:SelfSignedCert": ["*"],
    "tls:index/locallySignedCert:LocallySignedCert": ["*"],
    "tls:index/certRequest:CertRequest": ["*"],
    "random:index/randomPassword:RandomPassword": ["*"],
    "random:index/randomString:RandomString": ["*"],
    "random:index/randomBytes:RandomBytes": ["*"],
    "random:index/randomId:RandomId": ["*"],
    "random:index/randomUuid:RandomUuid": ["*"],
};

/** pulumi-kubernetes provider/pkg/provider/diff.go: a claim's size (spec.resources) updates in place. */
const CLAIM_IMMUTABLE = ["spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"];

/** Kubernetes fields that force replacement, by kind (plus metadata.name and metadata.namespace for all). */
const KUBERNETES_IMMUTABLE: Record<string, readonly string[]> = {
    Deployment: ["spec.selector"],
    StatefulSet: [
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
        "spec.podManagementPolicy",
    ],
    DaemonSet: ["spec.selector"],
    Job: ["spec.selector", "spec.template", "spec.completionMode"],
    Service: ["spec.clusterIP", "spec.clusterIPs"],
    PersistentVolumeClaim: CLAIM_IMMUTABLE,
    PersistentVolumeClaimPatch: CLAIM_IMMUTABLE,
    StorageClass: ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"],
};

/** Where `path` is covered by `rule` (equal, or a child of it; `*` covers everything). */
export function pathCovered(path: string, rule: string): boolean {
    if (rule === "*" || rule === path) return true;
    const pattern = rule.replace(/\[\*\]/g, "[#]").replace(/\.\*/g, ".#");
    if (pattern.includes("#")) {
        const re = new RegExp(
            `^${pattern
                .split("#")
                .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
                .join("[^.\\[\\]]+")}(?:$|[.[])`,
        );
        return re.test(path);
    }
    return path.startsWith(`${rule}.`) || path.startsWith(`${rule}[`);
}

/** The provider's replace-on-change fields for a resource (by type; Kubernetes by kind). */
export function providerReplaceFields(type: string, inputs: Record<string, unknown>): readonly string[] {
    if (type.startsWith("kubernetes:")) {
        const kind = type.split(":").pop() ?? "";
        const immutable = inputs.immutable === true && (kind === "Secret" || kind === "ConfigMap");
        return [
            "metadata.name",
            "metadata.namespace",
            "apiVersion",
            "kind",
            ...(KUBERNETES_IMMUTABLE[kind] ?? []),
            ...(immutable ? ["data", "stringData", "binaryData"] : []),
        ];
    }
    const fields = REPLACE_ON_CHANGE[type] ?? [];
    if (type === "aws:ec2/instance:Instance" && inputs.userDataReplaceOnChange === true)
        return [...fields, "userData", "userDataBase64"];
    return fields;
}
