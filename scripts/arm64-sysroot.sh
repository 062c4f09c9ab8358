#!/bin/bash
# scripts/arm64-sysroot.sh - Debian 12 arm64 packages unpacked in a
# cache: the sysroot xen-vf cross-builds against, or the root an arm64
# test guest's image is made from.
#
#   scripts/arm64-sysroot.sh [dev]     the sysroot: the -dev packages
#   scripts/arm64-sysroot.sh guest     the guest root: busybox-static,
#                                      bash, nvme-cli, jq, pciutils,
#                                      iproute2 and the libraries of
#                                      xen-vfctl
#   scripts/arm64-sysroot.sh xen       the guest root and Debian's Xen
#                                      4.17 for arm64: the hypervisor,
#                                      xen-utils-4.17, xenstore-utils,
#                                      util-linux (the xen-arm64 tier's
#                                      board)
# prints the entry's directory.
#
# The entry, $XEN_VF_CACHE/arm64-<set>-<key> (XEN_VF_CACHE defaults to
# /var/cache/xen-vf; "arm64-sysroot-<key>" for dev), holds
#   root/                              the packages (dpkg-deb -x of the
#                                      debs, absolute symlinks made to
#                                      point inside)
#   bin/aarch64-linux-gnu-pkg-config   pkg-config for that root
#   packages                           name=version of every deb in it
# <key> is a hash of that package list, so the entry is rebuilt when
# Debian updates one of them and reused (no download) otherwise.
#
# Nothing on the host changes: apt runs with its own state
# (scripts/arm64-apt.sh), resolves the packages' closure against an empty
# dpkg status and downloads the debs with `apt-get download`.
set -euo pipefail

cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
set_name=${1:-dev}
guest_pkgs="busybox-static bash nvme-cli jq pciutils iproute2 libc6 libnvme1
            libxenstore4 libpci3 libmnl0 libjson-c5"
case $set_name in
    # What the Makefile's pkg-config modules need (libnvme.pc's
    # Requires.private names json-c and openssl), the C library, the
    # sanitizer runtimes the unit tier's ASan/UBSan binaries load, and
    # what Xen's tools/configure requires to cross-build libxl and xl
    # (scripts/build-xen.sh --arch arm64): yajl, uuid, zlib, libfdt,
    # curses.
    dev) pkgs="libnvme-dev libxen-dev libpci-dev libmnl-dev libsystemd-dev
               libjson-c-dev libssl-dev libc6-dev libasan8 libubsan1
               libyajl-dev uuid-dev zlib1g-dev libfdt-dev libncurses-dev"
         entry_name=arm64-sysroot ;;
    # The DomD board's tools (tests/domd/board.sh) and what xen-vfctl
    # links.
    guest) pkgs=$guest_pkgs
           entry_name=arm64-guestroot ;;
    # The Xen board's dom0 (tests/xen-arm64): the guest root, the
    # hypervisor (dpkg -x only, like everything here), the toolstack and
    # xenstore clients, libgcc_s (glibc dlopens it for pthread_cancel),
    # util-linux's flock (Xen's hotplug locking; busybox has none).
    xen) pkgs="$guest_pkgs xen-hypervisor-4.17-arm64 xen-utils-4.17
               xenstore-utils libgcc-s1 util-linux"
         entry_name=arm64-xenroot ;;
    *) echo "arm64-sysroot: unknown set '$set_name' (dev, guest or xen)" >&2
       exit 2 ;;
esac

log() { echo "arm64-sysroot: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=scripts/arm64-apt.sh
. "$(dirname "$0")/arm64-apt.sh"
mkdir -p "$cache"
exec {lock}>"$cache/arm64-sysroot.lock"
flock "$lock"
arm64_apt_init || die "no arm64 package lists"
apt=$ARM64_APT_DIR
aptopts=("${ARM64_APT[@]}")

# The closure, as apt would install it on an empty arm64 system.
# shellcheck disable=SC2086
list=$(apt-get "${aptopts[@]}" -s install --no-install-recommends $pkgs |
    sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' | LC_ALL=C sort)
[ -n "$list" ] || die "apt resolved no package for: $pkgs"
key=$(printf '%s\n' "$list" | sha256sum | cut -c1-16)
entry=$cache/$entry_name-$key
if [ -f "$entry/complete" ]; then
    echo "$entry"
    exit 0
fi

log "building $entry ($(echo "$list" | wc -l) packages)"
rm -rf "$entry"
mkdir -p "$entry/root" "$entry/bin"
# shellcheck disable=SC2046
(cd "$apt/debs" && apt-get "${aptopts[@]}" download \
    $(printf '%s\n' "$list" | sed 's/=/:arm64=/') >&2) ||
    die "apt-get download failed"
while IFS="=" read -r name ver; do
    # apt-get download names the file with the version's ':' as %3a
    deb=$(find "$apt/debs" -maxdepth 1 -name "${name}_${ver//:/%3a}_*.deb" | head -n 1)
    [ -n "$deb" ] || die "no deb for $name $ver in $apt/debs"
    dpkg-deb -x "$deb" "$entry/root"
done <<<"$list"

# libfoo.so -> /lib/aarch64-linux-gnu/libfoo.so.1 must stay in the sysroot
find "$entry/root" -type l -lname '/*' -print0 |
    while IFS= read -r -d '' l; do
        ln -sfn "$entry/root$(readlink "$l")" "$l"
    done

cat >"$entry/bin/aarch64-linux-gnu-pkg-config" <<EOF
#!/bin/sh
# pkg-config for the arm64 sysroot $entry/root
PKG_CONFIG_SYSROOT_DIR=$entry/root
PKG_CONFIG_LIBDIR=$entry/root/usr/lib/aarch64-linux-gnu/pkgconfig:$entry/root/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH
exec pkg-config "\$@"
EOF
chmod +x "$entry/bin/aarch64-linux-gnu-pkg-config"
printf '%s\n' "$list" >"$entry/packages"
touch "$entry/complete"
log "$entry: $(du -sh "$entry/root" | cut -f1)"
echo "$entry"
