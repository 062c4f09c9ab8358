#!/bin/bash
# Fetch a Debian 12 kernel for TCG test guests, without installing it.
#
# Usage: scripts/fetch-kernel.sh [PACKAGE]
#
# Prints the directory that holds it:
#   <dir>/vmlinuz        the kernel image
#   <dir>/kver           the kernel release (e.g. 6.1.0-56-amd64)
#   <dir>/root/          the package unpacked with `dpkg -x`, depmod'ed,
#                        so `modprobe -d <dir>/root -S <kver>` works
#
# PACKAGE defaults to $XEN_VF_KERNEL_PKG, else the newest
# linux-image-6.1.0-N-<arch> that apt has a candidate for (bookworm and
# bookworm-security; the backports 6.12 kernel is not picked by default).
# <arch> is amd64, or arm64 with XEN_VF_ARCH=arm64: then apt is the
# private arm64 one of scripts/arm64-apt.sh, and the host needs no arm64
# architecture.
# The directory is ${XEN_VF_CACHE:-/var/cache/xen-vf}/kernel-<pkg>_<version>,
# so a new Debian point release gives a new cache entry and an old entry is
# never mutated. The package is taken with `apt-get download` + `dpkg -x`;
# nothing is installed on the host.
set -euo pipefail

cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
pkg=${1:-${XEN_VF_KERNEL_PKG:-}}

log() { echo "fetch-kernel: $*" >&2; }
die() { log "$*"; exit 1; }

arch=amd64
apt=()
case ${XEN_VF_ARCH:-x86_64} in
    x86_64|amd64) ;;
    arm64|aarch64)
        arch=arm64
        # shellcheck source=scripts/arm64-apt.sh
        . "$(dirname "$0")/arm64-apt.sh"
        arm64_apt_init || die "no arm64 package lists"
        apt=("${ARM64_APT[@]}") ;;
    *) die "unknown XEN_VF_ARCH ${XEN_VF_ARCH}" ;;
esac

candidate() {
    apt-cache "${apt[@]}" policy "$1" 2>/dev/null |
        awk '/Candidate:/ { print $2; exit }'
}

newest_61() {
    local p
    apt-cache "${apt[@]}" search --names-only \
        "^linux-image-6\\.1\\.0-[0-9]+-$arch\$" 2>/dev/null |
        awk '{ print $1 }' | sort -V -r |
        while read -r p; do
            case "$(candidate "$p")" in
                ''|'(none)') ;;
                *) echo "$p"; break ;;
            esac
        done
}

newest_cached() {
    # shellcheck disable=SC2012
    ls -d "$cache"/kernel-linux-image-*-"$arch"_*/ 2>/dev/null | sort -V |
        tail -n 1
}

if [ -z "$pkg" ]; then
    pkg=$(newest_61)
    if [ -z "$pkg" ]; then
        log "no linux-image-6.1.0-*-$arch in apt's lists; apt-get update"
        apt-get "${apt[@]}" update -q >/dev/null 2>&1 || true
        pkg=$(newest_61)
    fi
fi
ver=
[ -n "$pkg" ] && ver=$(candidate "$pkg")
if [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    # Offline with a warm cache is fine: use what is there.
    d=$(newest_cached)
    if [ -z "$d" ] || [ ! -f "$d/vmlinuz" ]; then
        die "cannot resolve a kernel package (${pkg:-none}) and no cache"
    fi
    log "apt cannot resolve ${pkg:-a kernel}; using cached ${d%/}"
    echo "${d%/}"
    exit 0
fi

dir="$cache/kernel-${pkg}_${ver//[^A-Za-z0-9.+~-]/_}"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/kver" ]; then
    echo "$dir"
    exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.kernel.lock"
flock -w 900 9 || die "timed out waiting for $cache/.kernel.lock"
if [ -f "$dir/vmlinuz" ] && [ -f "$dir/kver" ]; then
    echo "$dir"
    exit 0
fi

tmp=$(mktemp -d "$cache/.kernel-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt drops to user _apt to download: let it write there.
chmod 755 "$tmp"
mkdir -m 777 "$tmp/dl"
log "downloading $pkg=$ver"
(cd "$tmp/dl" && timeout 600 apt-get "${apt[@]}" download -q "$pkg=$ver" \
    >/dev/null) ||
    die "apt-get download $pkg=$ver failed"
deb=$(ls "$tmp"/dl/*.deb)
log "unpacking $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg -x "$deb" "$tmp/root"
rm -rf "$tmp/dl"

kver=$(ls "$tmp/root/lib/modules")
if [ -z "$kver" ] || [ ! -f "$tmp/root/boot/vmlinuz-$kver" ]; then
    die "$pkg has no /boot/vmlinuz-<kver>"
fi
# The .deb carries no modules.dep: postinst makes it. Make it here.
depmod -b "$tmp/root" "$kver"
cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
echo "$kver" >"$tmp/kver"
echo "$pkg=$ver" >"$tmp/package"

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
chmod 755 "$dir"
log "kernel $kver in $dir"
echo "$dir"
