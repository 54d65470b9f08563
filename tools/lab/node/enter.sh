#!/usr/bin/env bash
# PID 1 of a lab node, started by tools/lab/lab.ts as
#   ip netns exec <node netns> unshare --mount --uts --pid --fork --propagation private -- enter.sh ...
# Builds the node's root (overlayfs over the shared base image, private /proc /run /tmp), then runs
# boot.sh inside it. Everything mounted here lives in this mount namespace only: it disappears with
# this process, whatever way the node ends.
#   enter.sh <base> <state dir> <hostname> <lab dir>
set -euo pipefail
base=$1 state=$2 host=$3 lab=$4
root=$state/root
mkdir -p "$state/upper" "$state/work" "$root" "$state/containerd"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$state/upper,workdir=$state/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount -o remount,bind,ro "$root/sys" 2>/dev/null || true
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
# containerd's overlayfs snapshotter cannot stack on the node's own overlayfs root: a plain directory,
# as the node's EBS root volume would be.
mkdir -p "$root/var/lib/containerd"
mount --bind "$state/containerd" "$root/var/lib/containerd"
mkdir -p "$root/opt/keelson-lab"
mount --bind "$lab" "$root/opt/keelson-lab"
mount -o remount,bind,ro "$root/opt/keelson-lab"
hostname "$host"
exec chroot "$root" /opt/keelson-lab/node/boot.sh
