// The public master's approval of its own kubelet serving CSR. Its Node has an ExternalIP and an ExternalDNS
// name (the AWS cloud controller adds them), the kubelet puts both in its serving CSR, and kubelet-csr-approver
// cannot approve that without admitting forgeries (components/addons/csr-approver.ts); with `skipDenyStep` the
// approver leaves it Pending, and this script, on that master only, approves exactly that CSR: it checks every
// name and address against the instance's own metadata, which only this instance can read. Pure text.
import { IMDS_FUNCTION } from "./bootstrap-lib";

/** The timer that runs {@link OWN_SERVING_CSR_SCRIPT_PATH} every minute (public masters only). */
export const OWN_SERVING_CSR_TIMER = "keelson-approve-own-serving-csr.timer";
/** The script's path; also its journal tag (`journalctl -t keelson-approve-own-serving-csr`). */
export const OWN_SERVING_CSR_SCRIPT_PATH = "/usr/local/sbin/keelson-approve-own-serving-csr";
/** The timer's schedule: soon after boot, then every minute (a kubelet waits for its CSR's approval). */
export const OWN_SERVING_CSR_SCHEDULE = { onBoot: "1min", every: "1min", randomDelay: "0" } as const;

/**
 * Approves this node's own pending kubelet serving CSR and nothing else, with the admin kubeconfig. A CSR is
 * approved only when all hold: no Approved/Denied/Failed condition yet; signer `kubernetes.io/kubelet-serving`;
 * requester `system:node:<local-hostname>` (the Node name, kubeadm's `nodeRegistration.name`); usages digital
 * signature and server auth (key encipherment too for an RSA key), nothing else; a valid self-signature; the
 * subject exactly `O=system:nodes, CN=system:node:<local-hostname>`; one subjectAltName extension, each of its
 * names a DNS name among IMDS `local-hostname` and `public-hostname` or an IPv4 address among `local-ipv4` and
 * `public-ipv4`. The names are read from the extension's DER (asn1parse), not from `openssl -text`, which
 * prints a name's bytes raw, so a name holding a newline could hide the names after it. Everything else is
 * left as it is, for the approver or an operator, and logged (journal tag `keelson-approve-own-serving-csr`)
 * with the reason. The CSR list is read as JSON by python3, which every node has (cloud-init runs on it).
 */
export function renderOwnServingCsrScript(): string {
    return `#!/usr/bin/env bash
# Keelson: approve this master's own kubelet serving CSR, rendered by components/cluster/render/own-serving-csr.ts.
set -euo pipefail
readonly ADMIN=/etc/kubernetes/admin.conf
readonly TAG=keelson-approve-own-serving-csr

${IMDS_FUNCTION}
note() {
    logger -t "$TAG" -- "$*"
}

# der_length <hex> <offset>: "<length> <bytes of the length field>" at that hex offset.
der_length() {
    local first
    ((\${#1} >= $2 + 2)) || return 1
    first=$((16#\${1:$2:2}))
    if ((first < 128)); then
        echo "$first 1"
    elif ((first == 129 && \${#1} >= $2 + 4)); then
        echo "$((16#\${1:$2+2:2})) 2"
    elif ((first == 130 && \${#1} >= $2 + 6)); then
        echo "$((16#\${1:$2+2:4})) 3"
    else
        return 1
    fi
}

# san_names <hex>: a subjectAltName's DER as "DNS <name>"/"IP <address>" lines; fails on any other name, a DNS
# byte outside [a-z0-9.-], an IP not 4 bytes long, or lengths that do not add up.
san_names() {
    local hex=\${1,,} field len size at tag body i ch name
    [[ $hex =~ ^([0-9a-f][0-9a-f])+$ && \${hex:0:2} == 30 ]] || return 1
    field="$(der_length "$hex" 2)" || return 1
    read -r len size <<<"$field"
    (((1 + size + len) * 2 == \${#hex})) || return 1
    at=$(((1 + size) * 2))
    while ((at < \${#hex})); do
        tag=\${hex:at:2}
        field="$(der_length "$hex" $((at + 2)))" || return 1
        read -r len size <<<"$field"
        body=\${hex:at+2+size*2:len*2}
        ((\${#body} == len * 2)) || return 1
        at=$((at + 2 + size * 2 + len * 2))
        case $tag in
        82)
            [[ $body =~ ^(2d|2e|3[0-9]|6[1-9a-f]|7[0-9a])+$ ]] || return 1
            name=""
            for ((i = 0; i < \${#body}; i += 2)); do
                printf -v ch '%b' "\\\\x\${body:i:2}"
                name+=$ch
            done
            echo "DNS $name"
            ;;
        87)
            ((len == 4)) || return 1
            echo "IP $((16#\${body:0:2})).$((16#\${body:2:2})).$((16#\${body:4:2})).$((16#\${body:6:2}))"
            ;;
        *) return 1 ;;
        esac
    done
}

# why_not <pem>: nothing for this node's request for its own names and addresses, else the reason.
why_not() {
    local subject parsed count hex names kind value
    openssl req -in "$1" -noout -verify >/dev/null 2>&1 || {
        echo "the request does not parse or its self-signature does not verify"
        return
    }
    subject="$(openssl req -in "$1" -noout -subject -nameopt RFC2253)"
    [[ $subject == "subject=CN=system:node:$NODE,O=system:nodes" ]] || {
        echo "subject '\${subject#subject=}' is not CN=system:node:$NODE,O=system:nodes"
        return
    }
    parsed="$(openssl asn1parse -in "$1")"
    count="$(grep -c ':X509v3 Subject Alternative Name *$' <<<"$parsed" || true)"
    [[ $count == 1 ]] || {
        echo "$count subjectAltName extensions, not one"
        return
    }
    hex="$(grep -A1 ':X509v3 Subject Alternative Name *$' <<<"$parsed" | tail -n 1 |
        sed -n 's/^ *[0-9]*:d=[0-9]* *hl=[0-9]* *l= *[0-9]* *prim: OCTET STRING *\\[HEX DUMP\\]:\\([0-9A-F]*\\) *$/\\1/p')"
    names="$(san_names "$hex")" || {
        echo "the subjectAltName holds a name that is neither a DNS name nor an IPv4 address, or is malformed"
        return
    }
    [[ -n $names ]] || {
        echo "the subjectAltName holds no name"
        return
    }
    while read -r kind value; do
        case $kind in
        DNS) [[ " \${OWN_NAMES[*]} " == *" $value "* ]] || {
            echo "DNS name $value is not this instance's (\${OWN_NAMES[*]})"
            return
        } ;;
        IP) [[ " \${OWN_IPS[*]} " == *" $value "* ]] || {
            echo "IP address $value is not this instance's (\${OWN_IPS[*]})"
            return
        } ;;
        esac
    done <<<"$names"
}

NODE="$(imds local-hostname)"
local_ip="$(imds local-ipv4)"
# No public address: no public name either, and only the private ones are its own.
public_name="$(imds public-hostname || true)"
public_ip="$(imds public-ipv4 || true)"
[[ $NODE =~ ^[a-z0-9.-]+$ && $local_ip =~ ^[0-9.]+$ ]] || {
    note "IMDS gave no usable local-hostname or local-ipv4 ('$NODE', '$local_ip'); nothing approved"
    exit 1
}
OWN_NAMES=("$NODE")
OWN_IPS=("$local_ip")
[[ $public_name =~ ^[a-z0-9.-]+$ ]] && OWN_NAMES+=("$public_name")
[[ $public_ip =~ ^[0-9.]+$ ]] && OWN_IPS+=("$public_ip")

umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
kubectl --kubeconfig "$ADMIN" --request-timeout=30s get certificatesigningrequests -o json >"$work/csrs.json"
# Per CSR: name, signer, requester, sorted usages, conditions, request; "-" for an empty or unprintable field.
python3 - "$work/csrs.json" >"$work/csrs.tsv" <<'PY'
import json, sys

def field(v):
    s = v if isinstance(v, str) else ""
    return s if s and all(" " <= c <= "~" for c in s) else "-"

for item in json.load(open(sys.argv[1])).get("items") or []:
    spec = item.get("spec") or {}
    conditions = [c.get("type", "?") for c in (item.get("status") or {}).get("conditions") or []]
    usages = ",".join(sorted(u if isinstance(u, str) else "?" for u in spec.get("usages") or []))
    print("\\t".join([
        field((item.get("metadata") or {}).get("name")), field(spec.get("signerName")), field(spec.get("username")),
        field(usages), field(",".join(conditions)), field(spec.get("request")),
    ]))
PY

approved=0
while IFS=$'\\t' read -r name signer user usages conditions request; do
    [[ $conditions == - ]] || continue # decided already: nothing to do
    reason=""
    if [[ ! $name =~ ^[a-z0-9][a-z0-9.-]*$ ]]; then
        reason="its name is not a plain object name"
    elif [[ $signer != kubernetes.io/kubelet-serving ]]; then
        reason="signer $signer is not kubernetes.io/kubelet-serving"
    elif [[ $user != "system:node:$NODE" ]]; then
        reason="requester $user is not system:node:$NODE"
    elif [[ $usages != "digital signature,server auth" && $usages != "digital signature,key encipherment,server auth" ]]; then
        reason="usages $usages are not a kubelet serving certificate's"
    elif ! base64 -d <<<"$request" >"$work/request.pem" 2>/dev/null; then
        reason="spec.request is not base64"
    else
        reason="$(why_not "$work/request.pem")"
    fi
    if [[ -n $reason ]]; then
        note "left $name pending: $reason"
        continue
    fi
    if ! kubectl --kubeconfig "$ADMIN" --request-timeout=30s certificate approve "$name" >/dev/null; then
        note "could not approve $name (kubectl failed); the next run tries again"
        continue
    fi
    note "approved $name: $NODE's own serving certificate for \${OWN_NAMES[*]} \${OWN_IPS[*]}"
    approved=$((approved + 1))
done <"$work/csrs.tsv"
note "done: $approved approved"
`;
}
