#!/bin/bash
# Install what `make`, `make check` and `make demo` need on Debian 12.
# Idempotent: a second run with everything present does no apt work.
# Usage: scripts/deps.sh [build|cross|check|domd|domd-arm64|xen|xen-arm64|all]
#   cross  the arm64 cross tier: Debian's aarch64 cross compiler, QEMU
#          user mode, and qemu-aarch64 registered with binfmt_misc (the
#          unit tests start child processes). The arm64 sysroot is not
#          installed: scripts/arm64-sysroot.sh builds it in a cache.
#   check  build + cross, what `make check` runs first
#   domd-arm64  domd + cross + QEMU's Arm system emulator (backports)
#   xen-arm64   domd-arm64 + what cross-building Xen's tools needs on the
#          build host (the arm64 libraries come from the sysroot of
#          scripts/arm64-sysroot.sh) + deb-src lines for Xen's source
set -euo pipefail

what=${1:-all}

build_pkgs="gcc make pkg-config libnvme-dev libjson-c-dev libxen-dev libpci-dev
            libsystemd-dev libmnl-dev shellcheck perl"
domd_pkgs="busybox-static cpio kmod nvme-cli pciutils xz-utils zstd
           e2fsprogs dpkg-dev jq iproute2"
cross_pkgs="gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static
            file binutils dpkg apt python3"
bpo_pkgs="qemu-system-x86"
bpo_arm_pkgs="qemu-system-arm"
xen_pkgs="dpkg-dev bison flex python3-dev libyajl-dev uuid-dev
          libncurses-dev zlib1g-dev libzstd-dev liblzma-dev libbz2-dev
          libglib2.0-dev libpixman-1-dev libaio-dev libfdt-dev
          libnl-3-dev libnl-route-3-dev ocaml-nox gettext acpica-tools
          autoconf xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils"
xen_cross_pkgs="dpkg-dev bison flex python3 acpica-tools autoconf gettext"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

need=()
missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed' || need+=("$p")
    done
}

ensure_sources() {
    # deb822 with the archive keyring, as Debian 12's own sources, so apt
    # sees one Signed-By per origin.
    local f=/etc/apt/sources.list.d/xen-vf.sources
    [ -f "$f" ] && return 0
    $SUDO tee "$f" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    $SUDO apt-get update -q >/dev/null
}

# qemu_ok [PACKAGE] - PACKAGE (default qemu-system-x86) is QEMU 10 or
# later (bookworm's 7.2 has no igb)
qemu_ok() {
    local v
    v=$(dpkg-query -W -f='${Version}' "${1:-qemu-system-x86}" 2>/dev/null ||
        true)
    case "$v" in *bpo*|1:1[0-9]*) return 0 ;; esac
    return 1
}

# binfmt_misc: mount it if needed and register qemu-aarch64 from the
# package's own binfmt.d entry (F: the interpreter is opened now, so it
# works in any mount namespace). Where that cannot be done (no
# binfmt_misc in the kernel, an unprivileged container) the reason goes
# to $XEN_VF_CACHE/binfmt-unavailable, which the cross tier reports as a
# counted SKIP; it is no error here.
binfmt() {
    local d=/proc/sys/fs/binfmt_misc conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    local cache=${XEN_VF_CACHE:-/var/cache/xen-vf} why=
    if [ -f "$d/qemu-aarch64" ] && grep -qx enabled "$d/qemu-aarch64"; then
        $SUDO rm -f "$cache/binfmt-unavailable"
        return 0
    fi
    if ! grep -qw binfmt_misc /proc/filesystems; then
        why="the kernel has no binfmt_misc"
    elif [ ! -e "$d/register" ] &&
            ! $SUDO mount -t binfmt_misc binfmt_misc "$d" 2>/dev/null; then
        why="binfmt_misc is not mounted and cannot be mounted here"
    elif [ ! -f "$conf" ]; then
        echo "deps: $conf missing (qemu-user-static)" >&2
        return 1
    elif [ ! -e "$d/qemu-aarch64" ]; then
        echo "deps: registering qemu-aarch64 with binfmt_misc"
        $SUDO sh -c "cat $conf >$d/register" 2>/dev/null ||
            why="binfmt_misc refused the qemu-aarch64 entry"
    else
        $SUDO sh -c "echo 1 >$d/qemu-aarch64" 2>/dev/null ||
            why="qemu-aarch64 is registered but disabled"
    fi
    if [ -n "$why" ]; then
        echo "deps: $why: the cross tier will skip the arm64 unit run" >&2
        $SUDO mkdir -p "$cache"
        echo "$why" | $SUDO tee "$cache/binfmt-unavailable" >/dev/null
    else
        $SUDO rm -f "$cache/binfmt-unavailable"
    fi
}

# shellcheck disable=SC2086
case "$what" in
    build) missing $build_pkgs ;;
    cross) missing $cross_pkgs ;;
    check) missing $build_pkgs $cross_pkgs ;;
    domd)  missing $build_pkgs $domd_pkgs ;;
    domd-arm64) missing $build_pkgs $domd_pkgs $cross_pkgs ;;
    xen)   missing $build_pkgs $domd_pkgs $xen_pkgs ;;
    xen-arm64) missing $build_pkgs $domd_pkgs $cross_pkgs $xen_cross_pkgs ;;
    all)   missing $build_pkgs $cross_pkgs $domd_pkgs $xen_pkgs ;;
    *) echo "deps.sh: unknown set '$what'" \
           "(build|cross|check|domd|domd-arm64|xen|xen-arm64|all)" >&2
       exit 2 ;;
esac

want_qemu=0 want_qemu_arm=0
case "$what" in domd|xen|all) qemu_ok || want_qemu=1 ;; esac
case "$what" in
    domd-arm64|xen-arm64|all) qemu_ok qemu-system-arm || want_qemu_arm=1 ;;
esac

# `make xen` runs `apt-get source xen`, which needs deb-src entries even
# when every package is already installed.
case "$what" in xen|xen-arm64|all) ensure_sources ;; esac

want_binfmt=0
case "$what" in cross|check|all) want_binfmt=1 ;; esac

if [ ${#need[@]} -eq 0 ] && [ $want_qemu -eq 0 ] && [ $want_qemu_arm -eq 0 ]; then
    [ $want_binfmt -eq 0 ] || binfmt
    exit 0
fi

ensure_sources
export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ]; then
    echo "deps: installing ${need[*]}"
    $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi
if [ $want_qemu -eq 1 ]; then
    echo "deps: installing QEMU from bookworm-backports"
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports $bpo_pkgs >/dev/null
fi
if [ $want_qemu_arm -eq 1 ]; then
    echo "deps: installing QEMU for Arm from bookworm-backports"
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports $bpo_arm_pkgs >/dev/null
fi
[ $want_binfmt -eq 0 ] || binfmt
