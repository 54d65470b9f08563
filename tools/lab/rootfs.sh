#!/usr/bin/env bash
# Builds the boot lab's Debian rootfs and local apt archive (see tools/lab/README.md). Run by
# tools/lab/rootfs.ts, which computes the cache key; idempotent per key. Needs root and debootstrap.
#
#   rootfs.sh <cache dir> <suite> <mirror> <base packages> <archive packages> <tools packages>
#
# (package lists comma-separated). Builds in <cache dir>.partial, resuming after the last finished
# stage if a build was interrupted, and renames it when complete, so <cache dir> is complete or absent:
#   <cache dir>/base    what the AMI has: minbase + cloud-init & co; apt points at the lab archive
#   <cache dir>/tools   base + every archive and tools package installed (nginx, haproxy, etcd, ...)
#   <cache dir>/archive a signed apt archive (dists/<suite>, pool/) with the archive packages and
#                       their dependency closure relative to base, served to lab nodes
#   <cache dir>/archive-key.asc / archive-keyring.gpg  the lab archive's signing key
set -euo pipefail
dest=$1 suite=$2 mirror=$3 base_pkgs=$4 archive_pkgs=$5 tools_pkgs=$6
[[ -d "$dest/base" && -f "$dest/ok" ]] && exit 0
parent=$(dirname "$dest")
mkdir -p "$parent"
work=$dest.partial
mkdir -p "$work"
log() { echo "rootfs: $*" >&2; }
# Nothing may stay mounted below the build (debootstrap leaves the target's /proc mounted).
unmount_all() {
    { findmnt -rn -o TARGET | grep -F "$work/" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
}
trap unmount_all EXIT

# in_chroot <root> <command...>: a private mount namespace with /proc and /dev, torn down on exit,
# and a clean environment (the host's PATH or Python variables must not leak in).
in_chroot() {
    local root=$1
    shift
    unshare --mount --propagation private -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive bash -c '
        root=$1; shift
        mount -t proc proc "$root/proc"
        mount --rbind /dev "$root/dev"
        cp /etc/resolv.conf "$root/etc/resolv.conf"
        exec chroot "$root" "$@"' _ "$root" "$@"
}

if [[ ! -f "$work/base.done" ]]; then
rm -rf --one-file-system "$work/base" "$work/tools"
log "debootstrap $suite from $mirror into $work/base"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    debootstrap --variant=minbase "$suite" "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" "$work/base/debootstrap/debootstrap.log" >&2; exit 1; }
unmount_all
# Services must not start inside the chroot while packages install.
printf '#!/bin/sh\nexit 101\n' >"$work/base/usr/sbin/policy-rc.d"
chmod 0755 "$work/base/usr/sbin/policy-rc.d"
IFS=, read -r -a base_list <<<"$base_pkgs"
log "installing ${#base_list[@]} base packages (what the AMI has)"
in_chroot "$work/base" apt-get update -qq
in_chroot "$work/base" apt-get install -y -qq --no-install-recommends "${base_list[@]}" >"$work/base-apt.log" 2>&1 ||
    { tail -n 40 "$work/base-apt.log" >&2; exit 1; }
in_chroot "$work/base" apt-get clean
unmount_all
touch "$work/base.done"
fi
if [[ ! -f "$work/tools.done" ]]; then
log "copying base to tools"
rm -rf --one-file-system "$work/tools"
cp -a --one-file-system "$work/base" "$work/tools"

IFS=, read -r -a archive_list <<<"$archive_pkgs"
IFS=, read -r -a tools_list <<<"$tools_pkgs"
log "downloading ${#archive_list[@]} archive packages and their closure"
in_chroot "$work/tools" apt-get update -qq
in_chroot "$work/tools" apt-get install -y -qq --download-only "${archive_list[@]}" >"$work/tools-apt.log" 2>&1 ||
    { tail -n 40 "$work/tools-apt.log" >&2; exit 1; }
rm -rf "$work/archive" "$work/gnupg"
mkdir -p "$work/archive/pool/main" "$work/archive/dists/$suite/main/binary-amd64"
cp "$work/tools/var/cache/apt/archives/"*.deb "$work/archive/pool/main/"
log "installing ${#tools_list[@]} tools packages into tools"
in_chroot "$work/tools" apt-get install -y -qq "${archive_list[@]}" "${tools_list[@]}" >>"$work/tools-apt.log" 2>&1 ||
    { tail -n 40 "$work/tools-apt.log" >&2; exit 1; }
in_chroot "$work/tools" apt-get clean

log "indexing and signing the archive"
(cd "$work/archive" && dpkg-scanpackages --multiversion pool/main /dev/null 2>/dev/null >"dists/$suite/main/binary-amd64/Packages")
gzip -9kn "$work/archive/dists/$suite/main/binary-amd64/Packages"
export GNUPGHOME="$work/gnupg"
install -d -m 0700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "Keelson boot lab archive <lab@keelson.invalid>" ed25519 sign never
gpg --batch --armor --export >"$work/archive-key.asc"
gpg --batch --export >"$work/archive-keyring.gpg"
(
    cd "$work/archive/dists/$suite"
    {
        echo "Origin: Keelson lab"
        echo "Label: Debian (lab copy)"
        echo "Suite: stable"
        echo "Codename: $suite"
        echo "Date: $(LC_ALL=C date -u -R)"
        echo "Architectures: amd64"
        echo "Components: main"
        echo "SHA256:"
        for f in main/binary-amd64/Packages main/binary-amd64/Packages.gz; do
            printf ' %s %s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")" "$f"
        done
    } >Release
    gpg --batch --yes --clearsign -o InRelease Release
)
touch "$work/tools.done"
fi

log "pointing base's apt at the lab archive"
rm -f "$work/base/etc/apt/sources.list"
rm -rf "$work/base/var/lib/apt/lists/"* "$work/base/var/cache/apt/"*.bin
install -m 0644 "$work/archive-keyring.gpg" "$work/base/usr/share/keyrings/keelson-lab-archive.gpg"
cat >"$work/base/etc/apt/sources.list.d/debian.sources" <<SOURCES
# Boot lab: deb.debian.org resolves (lab dnsmasq) to the lab archive, signed by the lab key.
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/keelson-lab-archive.gpg
SOURCES
rm -f "$work/base/usr/sbin/policy-rc.d"
echo "$suite $(date -u +%FT%TZ)" >"$work/ok"
rm -rf "$work/gnupg" "$work/base.done" "$work/tools.done"
unmount_all
rm -rf --one-file-system "$dest"
mv "$work" "$dest"
log "ready: $dest"
