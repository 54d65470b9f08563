// The nginx hosts' active health checks. nginx open source checks only passively (a request has to
// fail first), so the host runs a loop beside it that probes every node the way haproxy's checks do
// and writes the live config with `down` on the failing servers. Pure: bash text for the bootstrap
// script and the systemd unit.

/** systemd service running the health loop on nginx hosts. */
export const HEALTH_UNIT = "keelson-edge-health";
/** Seconds between two probe rounds. */
export const HEALTH_INTERVAL_SECONDS = 2;
/** Failed probes in a row that take a node out; passed ones that bring it back (haproxy's fall/rise). */
export const HEALTH_FALL = 2;
export const HEALTH_RISE = 2;

/**
 * Bash functions of the bootstrap script (nginx only): `probe`, `mark_down` and the `health` loop.
 * Every upstream server line of the desired config ends with `# health <url> <host>` (HTTP routes:
 * the route's health path on the node's NodePort, which a node without a ready pod behind
 * externalTrafficPolicy Local never answers) or `# health tcp://<address:port>` (TCP routes). A
 * node is out after {@link HEALTH_FALL} failed rounds (connect 1 s, answer 2 s), so within about
 * 6 s, and back after {@link HEALTH_RISE} passed ones. An upstream whose nodes all fail keeps them
 * all: the probes may be what is broken, and nginx would answer 502 at once.
 */
export const HEALTH_FUNCTIONS = `# probe <url> <host> | probe tcp://<address:port>: succeeds when the node answers like a ready one.
probe() {
    case "$1" in
        tcp://*)
            local target=\${1#tcp://}
            # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
            timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "\${target%:*}" "\${target##*:}" 2>/dev/null
            ;;
        *) curl -fsS -o /dev/null --connect-timeout 1 --max-time 2 -H "Host: $2" "$1" 2>/dev/null ;;
    esac
}

# mark_down <config> <list> <out>: <config> with \`down\` on every server whose health target is in
# <list>, except in an upstream where every server is listed.
mark_down() {
    awk -v list="$2" '
        BEGIN { while ((getline line < list) > 0) down[line] = 1 }
        function flush(i) {
            for (i = 1; i <= n; i++) {
                if (bad[i] && nbad < nsrv) sub(/;[[:space:]]*# health /, " down; # health ", buf[i])
                print buf[i]
            }
            n = 0; nbad = 0; nsrv = 0; inup = 0
        }
        /^[[:space:]]*upstream [^ ]+ [{]/ { inup = 1 }
        inup {
            buf[++n] = $0; bad[n] = 0
            if (match($0, /# health .*$/)) {
                nsrv++
                if (substr($0, RSTART + 9) in down) { bad[n] = 1; nbad++ }
            }
            if ($0 ~ /^[[:space:]]*[}]/) flush()
            next
        }
        { print }
        END { if (n) flush() }
    ' "$1" >"$3"
}

# resolved_names: each upstream server of the desired config given by name (the workers' NLB), with the IPv4
# addresses the host's resolver gives that name now, one "name address..." line each; fails when a name does not
# resolve, so that a resolver outage keeps the addresses nginx has.
resolved_names() {
    local name addrs
    while read -r name; do
        addrs="$(getent ahostsv4 "$name" | awk '{ print $1 }' | sort -u | tr '\\n' ' ')"
        [ -n "$addrs" ] || return 1
        echo "$name $addrs"
    done < <(sed -n 's/^[[:space:]]*server \\([A-Za-z0-9.-]*[A-Za-z][A-Za-z0-9.-]*\\):[0-9][0-9]* .*/\\1/p' "$DESIRED_CONFIG" | sort -u)
}

# health: probes every node each HEALTH_INTERVAL seconds and applies the marks (keelson-edge-health). nginx
# resolves a server's name only when it loads its config, so the loop also resolves those names each round
# and reloads nginx when their addresses change (an NLB zone added or gone), as haproxy's resolvers follow DNS.
health() {
    local -A streak=() out=()
    local -a targets
    local target url host results i changed ok isout names reload resolved
    # What nginx resolved when it loaded (the loop starts after nginx.service).
    resolved="$(resolved_names)" || resolved=""
    while :; do
        mapfile -t targets < <(sed -n 's/.*# health \\(.*\\)$/\\1/p' "$DESIRED_CONFIG" 2>/dev/null | sort -u)
        results="$(mktemp -d)"
        for i in "\${!targets[@]}"; do
            read -r url host <<<"\${targets[$i]}"
            { probe "$url" "$host" && touch "$results/$i"; } &
        done
        wait
        changed=0
        for i in "\${!targets[@]}"; do
            target=\${targets[$i]}
            ok=0 isout=0
            [ -e "$results/$i" ] && ok=1
            [ -n "\${out[$target]:-}" ] && isout=1
            # The streak counts the probes that disagree with the node's state: failures while in, passes while out.
            if [ "$ok" = "$isout" ]; then
                streak[$target]=$((\${streak[$target]:-0} + 1))
            else
                streak[$target]=0
            fi
            if [ -z "\${out[$target]:-}" ] && ((\${streak[$target]} >= HEALTH_FALL)); then
                out[$target]=1 streak[$target]=0 changed=1
                log "node out of rotation: $target fails its health probe"
            elif [ -n "\${out[$target]:-}" ] && ((\${streak[$target]} >= HEALTH_RISE)); then
                unset "out[$target]"
                streak[$target]=0 changed=1
                log "node back in rotation: $target passes its health probe"
            fi
        done
        rm -rf "$results"
        reload=0
        if [ "$changed" = 1 ]; then
            printf '%s\\n' "\${!out[@]}" | sed '/^$/d' >"$HEALTH_DOWN.new" && mv "$HEALTH_DOWN.new" "$HEALTH_DOWN"
            if apply_config; then reload=1; fi
        fi
        if names="$(resolved_names)" && [ "$names" != "$resolved" ]; then
            log "upstream addresses changed (now: $(echo "$names" | paste -sd ';')): reloading nginx to use them"
            reload=1 resolved=$names
        fi
        if [ "$reload" = 1 ]; then reload_engine; fi
        sleep "$HEALTH_INTERVAL"
    done
}

`;

/** The service that runs the health loop next to nginx, restarted whenever it stops. */
export function renderHealthUnit(script: string): string {
    return [
        "[Unit]",
        "Description=Keelson edge: probe every node and mark failing ones down in nginx",
        "After=nginx.service",
        "",
        "[Service]",
        `ExecStart=${script} health`,
        "Restart=always",
        "RestartSec=2",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}
