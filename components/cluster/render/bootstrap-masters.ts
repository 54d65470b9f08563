// The masters' part of the bootstrap: the durable "initialised" marker that keeps master 0 from
// ever running `kubeadm init` on an existing cluster, and the slot records that let a replacement
// master remove its predecessor's etcd member and Node before it joins. Pure text.

/** SSM String parameter (below `<prefix>/state/`) master 0 sets to `yes ...` after the first init. */
export const INITIALISED_MARKER = "initialised";
/** SSM String parameter (below `<prefix>/state/`) of master slot `<slot>`: `<node> <instance> <ip>`. */
export function slotRecord(slot: string): string {
    return `masters/${slot}`;
}

/** The slot names of a control plane of `masters` masters: `master-0..n-1`. */
export function masterSlots(masters: number): string[] {
    return Array.from({ length: masters }, (_, i) => `master-${i}`);
}

/**
 * Shell functions for masters. `decide_and_bootstrap` on slot 0: the marker (read until SSM gives a
 * definite answer) or any answering API means join; only an unset marker and `INIT_PROBE_ATTEMPTS`
 * failed probes mean init. `remove_stale_member`: the slot record names the previous holder; its
 * etcd member is removed only when every other master's etcd answers (one replacement at a time,
 * quorum kept), then its Node is deleted, with short-lived client certificates minted from the CA
 * keys this master already holds.
 */
export function masterFunctions(otherSlots: readonly string[], firstSlot: boolean): string {
    return `${commonFunctions(otherSlots)}${firstSlot ? FIRST_SLOT_FUNCTIONS : ""}`;
}

function commonFunctions(otherSlots: readonly string[]): string {
    return `# state_read <name below STATE_PREFIX>: sets STATE_VALUE, empty when the parameter does not exist.
# Any other error (AccessDenied while the instance role propagates, throttling) fails, for retry.
state_read() {
    local out rc=0
    out="$(aws ssm get-parameter --region "$REGION" --name "$STATE_PREFIX/$1" \\
        --query Parameter.Value --output text 2>&1)" || rc=$?
    if ((rc == 0)); then
        STATE_VALUE=$out
        return 0
    fi
    if [[ "$out" == *ParameterNotFound* ]]; then
        STATE_VALUE=""
        return 0
    fi
    log "reading $STATE_PREFIX/$1 failed: \${out##*$'\\n'}"
    return 1
}

# state_write <name below STATE_PREFIX> <value>
state_write() {
    aws ssm put-parameter --region "$REGION" --name "$STATE_PREFIX/$1" --type String --overwrite \\
        --value "$2" >/dev/null
}

# mint_client <ca prefix> <subject> <out prefix>: a one-day client certificate signed by a CA on disk.
mint_client() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$3.key" \\
        -subj "$2" -out "$3.csr" 2>/dev/null &&
        openssl x509 -req -in "$3.csr" -CA "$1.crt" -CAkey "$1.key" -set_serial "0x$(openssl rand -hex 8)" \\
            -days 1 -extfile <(printf 'extendedKeyUsage=clientAuth\\n') -out "$3.crt" 2>/dev/null
}

# peer_endpoints: the etcd client URLs of the other slots' recorded masters.
peer_endpoints() {
    local slot endpoints=""
    for slot in ${otherSlots.map((s) => `'${s}'`).join(" ")}; do
        retry 10 "$RETRY_INTERVAL" "read the slot record of $slot" state_read "masters/$slot" || return 1
        read -r _ _ ip _ <<<"$STATE_VALUE"
        [[ -n "\${ip:-}" && "$ip" != none ]] && endpoints+="\${endpoints:+,}https://$ip:2379"
    done
    printf '%s' "$endpoints"
}

etcd_ctl() {
    ETCDCTL_API=3 etcdctl --endpoints "$PEERS" --cacert "$PKI_DIR/etcd/ca.crt" \\
        --cert "$CLIENT_DIR/etcd.crt" --key "$CLIENT_DIR/etcd.key" --command-timeout=10s "$@"
}

# remove_member <name>: only while every other member is healthy, so quorum holds.
remove_member() {
    local id
    etcd_ctl endpoint health || { log "another master's etcd is unhealthy: not removing $1 yet"; return 1; }
    id="$(etcd_ctl member list -w simple | awk -F', ' -v n="$1" '$3 == n { print $1 }')" || return 1
    if [[ -z "$id" ]]; then
        log "etcd has no member named $1 (already removed)"
        return 0
    fi
    etcd_ctl member remove "$id"
}

delete_node() {
    kubectl --server "https://$API_ENDPOINT" --certificate-authority "$PKI_DIR/ca.crt" \\
        --client-certificate "$CLIENT_DIR/admin.crt" --client-key "$CLIENT_DIR/admin.key" \\
        delete node "$1" --ignore-not-found --wait=false
}

remove_stale_member() {
    local old_name old_instance
    retry 30 "$RETRY_INTERVAL" "read the slot record $STATE_PREFIX/masters/$NODE_NAME" \\
        state_read "masters/$NODE_NAME" || die "cannot read the slot record of $NODE_NAME"
    read -r old_name old_instance _ <<<"$STATE_VALUE"
    if [[ -z "\${old_name:-}" || "$old_name" == none || "\${old_instance:-}" == "$INSTANCE_ID" ]]; then
        log "slot $NODE_NAME: no previous master to clean up"
        return 0
    fi
    log "slot $NODE_NAME was held by $old_name ($old_instance): removing its etcd member and Node before joining"
    report cleaning "etcd member and Node $old_name"
    install_pki
    CLIENT_DIR="$(mktemp -d)"
    if ! mint_client "$PKI_DIR/etcd/ca" "/CN=keelson-$NODE_NAME" "$CLIENT_DIR/etcd" ||
        ! mint_client "$PKI_DIR/ca" "/O=kubeadm:cluster-admins/CN=keelson-$NODE_NAME" "$CLIENT_DIR/admin"; then
        die "cannot mint the client certificates for the cleanup"
    fi
    PEERS="$(peer_endpoints)" || die "cannot read the other masters' slot records"
    [[ -n "$PEERS" ]] || die "slot $NODE_NAME: no other master is recorded, so $old_name's etcd data is gone; restore from a backup"
    retry 30 "$RETRY_INTERVAL" "remove etcd member $old_name" remove_member "$old_name" ||
        die "could not remove etcd member $old_name"
    retry 10 "$RETRY_INTERVAL" "delete Node $old_name" delete_node "$old_name" ||
        log "WARNING: Node $old_name is still registered; delete it with kubectl"
    rm -rf "$CLIENT_DIR"
}

record_slot() {
    retry 30 "$RETRY_INTERVAL" "record slot $NODE_NAME" \\
        state_write "masters/$NODE_NAME" "$KUBE_NODE_NAME $INSTANCE_ID $LOCAL_IP" ||
        die "cannot record slot $NODE_NAME"
}
`;
}

const FIRST_SLOT_FUNCTIONS = `
mark_initialised() {
    retry 30 "$RETRY_INTERVAL" "read $STATE_PREFIX/${INITIALISED_MARKER}" state_read ${INITIALISED_MARKER} ||
        die "cannot read the cluster marker"
    [[ "$STATE_VALUE" == yes* ]] && return 0
    retry 30 "$RETRY_INTERVAL" "set $STATE_PREFIX/${INITIALISED_MARKER}" \\
        state_write ${INITIALISED_MARKER} "yes $(date -u +%Y-%m-%dT%H:%M:%SZ) $INSTANCE_ID" ||
        die "the cluster is initialised but the marker could not be set"
}

# Slot 0 only: join whenever the cluster exists; init only on a definite "no cluster yet".
decide_and_bootstrap() {
    retry 30 "$RETRY_INTERVAL" "read $STATE_PREFIX/${INITIALISED_MARKER}" state_read ${INITIALISED_MARKER} ||
        die "cannot read the cluster marker $STATE_PREFIX/${INITIALISED_MARKER} (instance role not usable yet?)"
    if [[ "$STATE_VALUE" == yes* ]]; then
        log "the cluster exists (marker: $STATE_VALUE): joining; this master never initialises"
        join_cluster "$JOIN_TEMPLATE"
    elif retry "$INIT_PROBE_ATTEMPTS" "$RETRY_INTERVAL" "probe https://$API_ENDPOINT/readyz" api_ready; then
        log "an API answers although the marker is unset: joining"
        join_cluster "$JOIN_TEMPLATE"
    else
        init_cluster
    fi
    mark_initialised
}
`;
