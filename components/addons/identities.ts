// What each add-on that calls AWS may do with its own role (IRSA), as IAM documents. Pure.

/** The AWS managed policy of the EBS CSI controller (create, attach, detach, snapshot volumes). */
export const EBS_CSI_MANAGED_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";

/** fluent-bit's log group: `/keelson/<cluster>/containers`. */
export function logGroupName(clusterName: string): string {
    return `/keelson/${clusterName}/containers`;
}

/**
 * fluent-bit's policy: create the cluster's container log group and its streams, and put events there;
 * nothing on any other group (CloudWatchAgentServerPolicy, which the worker role had, allowed every group
 * and SSM's `AmazonCloudWatch-*` parameters).
 */
export function fluentBitPolicyDocument(region: string, clusterName: string): Record<string, unknown> {
    const group = `arn:aws:logs:${region}:*:log-group:${logGroupName(clusterName)}`;
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ContainerLogs",
                Effect: "Allow",
                Action: [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:DescribeLogStreams",
                    "logs:PutLogEvents",
                ],
                Resource: [group, `${group}:log-stream:*`],
            },
        ],
    };
}
