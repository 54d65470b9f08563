// The pools' launch gate: each worker pool's group holds a new instance (lifecycle hook `keelson-join` on
// EC2_INSTANCE_LAUNCHING, state Pending:Wait) until its node is Ready in Kubernetes; the node's bootstrap then
// completes the hook itself. Without it an instance refresh judges only EC2 health: a new kubelet that never
// joins (a bad version, a broken bootstrap) would pass as healthy and the refresh would go on to drain and
// terminate every working node of the pool. With it the refresh never replaces an old node before its
// replacement is Ready, and a node that never gets Ready is abandoned (terminated) when the hook times out,
// so a broken rollout stops at its first node. Pure text and data.

/** The lifecycle hook's name on every pool's group. */
export const JOIN_HOOK_NAME = "keelson-join";

/**
 * Seconds the group waits for the node before it abandons the instance: the bootstrap's own worst case
 * (apt with the dpkg lock, SSM reads while the role propagates, the API wait) with room for one restart.
 */
export const JOIN_HOOK_TIMEOUT_SECONDS = 1800;

/**
 * The worker role's statements for the gate. DescribeAutoScalingInstances has no resource-level permissions
 * (`*`); CompleteLifecycleAction is limited to the groups tagged with this cluster. IAM has no condition on the
 * hook or the instance, so a node could also complete another node of the cluster's pools (at worst letting a
 * node terminate before aws-node-termination-handler drained it); it can stop, start or terminate nothing.
 */
export function joinGateStatements(clusterName: string): Record<string, unknown>[] {
    return [
        {
            Sid: "FindOwnGroup",
            Effect: "Allow",
            Action: "autoscaling:DescribeAutoScalingInstances",
            Resource: "*",
        },
        {
            Sid: "CompleteOwnLaunchHook",
            Effect: "Allow",
            Action: "autoscaling:CompleteLifecycleAction",
            Resource: "*",
            Condition: { StringEquals: { "autoscaling:ResourceTag/keelson:cluster": clusterName } },
        },
    ];
}

/**
 * `admit_node`, for workers: passes at once outside an Auto Scaling group (IMDS has no `autoscaling/`), else
 * waits until the node's own Node object is Ready (the kubelet's credentials may read it), finds the group and
 * completes the launch hook with CONTINUE when the instance is held in Pending:Wait (not after the hook was
 * completed, nor for an instance launched before the hook existed). A Node never Ready fails the bootstrap
 * (systemd runs it again) and leaves the hook to time out.
 */
export const ADMIT_FUNCTIONS = `node_ready() {
    [[ "$(kubectl --kubeconfig /etc/kubernetes/kubelet.conf get node "$KUBE_NODE_NAME" \\
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)" == True ]]
}

group_of_instance() {
    aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \\
        --query 'AutoScalingInstances[0].[AutoScalingGroupName,LifecycleState]' --output text
}

admit_node() {
    local found group state
    if ! imds autoscaling/target-lifecycle-state >/dev/null 2>&1; then
        log "not in an Auto Scaling group: no launch hook to complete"
        return 0
    fi
    retry "$API_WAIT_ATTEMPTS" "$RETRY_INTERVAL" "Node $KUBE_NODE_NAME Ready" node_ready ||
        die "Node $KUBE_NODE_NAME is not Ready; its group abandons the instance when the ${JOIN_HOOK_NAME} hook times out"
    found="$(retry 10 6 "find this instance's Auto Scaling group" group_of_instance)" ||
        die "cannot find this instance's Auto Scaling group (autoscaling:DescribeAutoScalingInstances)"
    read -r group state <<<"$found"
    if [[ "$state" != Pending:Wait ]]; then
        log "$INSTANCE_ID is $state in $group: no launch hook holds it"
        return 0
    fi
    retry 10 6 "complete the ${JOIN_HOOK_NAME} launch hook of $group" aws autoscaling complete-lifecycle-action \\
        --region "$REGION" --auto-scaling-group-name "$group" --lifecycle-hook-name ${JOIN_HOOK_NAME} \\
        --instance-id "$INSTANCE_ID" --lifecycle-action-result CONTINUE ||
        die "cannot complete the ${JOIN_HOOK_NAME} launch hook of $group"
    log "Node $KUBE_NODE_NAME is Ready: $group puts $INSTANCE_ID in service"
}
`;
