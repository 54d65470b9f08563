#!/bin/bash
# Runs inside a lab node's root (see enter.sh): cloud-init's real stages from the NoCloud seed, then a
# report of what runs, then it stays up (as PID 1 it also reaps orphans) until the lab ends the node.
# Console lines starting "LAB " are read by tools/lab/lab.ts.
export PATH=/opt/keelson-lab/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8 HOME=/root
echo "LAB boot-start $(date +%s)"
# The lab CA signs the hub's HTTPS names (pkgs.k8s.io, S3, SSM): trust it like a public CA.
update-ca-certificates >/dev/null 2>&1 || echo "LAB warning: update-ca-certificates failed"
/etc/keelson-lab/preboot.sh &
mkdir -p /run/lab-units /var/log/lab-units
rc=0
for stage in "init --local" "init" "modules --mode=config" "modules --mode=final"; do
    # shellcheck disable=SC2086
    cloud-init $stage >>/var/log/lab-cloud-init-stages.log 2>&1 || { rc=$?; echo "LAB stage-failed $stage rc=$rc"; }
done
# cloud-init starts the Keelson bootstrap as a oneshot unit with --no-block (the real systemd runs it
# after cloud-init's final stage): wait for it (bounded by the scenario's budget) as a boot does, until it
# succeeded or a second attempt failed too. Its Restart= keeps retrying (the stub goes on, as systemd
# would), but a failure that one restart does not cure is what the boot ends in: a broken node would
# otherwise be waited for until the budget ran out.
if [[ -f /run/lab-units/keelson-bootstrap.service.pid ]]; then
    bpid=$(</run/lab-units/keelson-bootstrap.service.pid)
    ends=/run/lab-units/keelson-bootstrap.service.ends
    while kill -0 "$bpid" 2>/dev/null; do
        [[ -f $ends ]] && (($(wc -l <"$ends") >= 2)) && break
        sleep 1
    done
fi
status=$(cloud-init status --long 2>&1 || true)
echo "LAB cloud-init-status $(printf '%s' "$status" | tr '\n' '|')"
echo "LAB boot-end $(date +%s) rc=$rc"
# The console output (what EC2's "get console output" shows) for the lab's report.
# The bootstrap unit's output goes to the console too (StandardOutput=journal+console).
cat /var/log/cloud-init-output.log /var/log/lab-units/keelson-bootstrap.service.log 2>/dev/null | sed 's/^/LAB console /' | tail -n 400
echo "LAB ready-for-checks"
trap 'exit 0' TERM
while :; do sleep 3600 & wait $!; done
