#!/bin/bash
# Install what `make`, `make check` and `make demo` need on Debian 12.
# Idempotent: a second run with everything present does no apt work.
# Usage: scripts/deps.sh [build|domd|xen|all]
set -euo pipefail

what=${1:-all}

build_pkgs="gcc make pkg-config libnvme-dev libjson-c-dev libxen-dev libpci-dev
            libsystemd-dev libmnl-dev shellcheck perl"
domd_pkgs="busybox-static cpio kmod nvme-cli pciutils xz-utils zstd
           e2fsprogs dpkg-dev jq iproute2"
bpo_pkgs="qemu-system-x86"
xen_pkgs="dpkg-dev bison flex python3-dev libyajl-dev uuid-dev
          libncurses-dev zlib1g-dev libzstd-dev liblzma-dev libbz2-dev
          libglib2.0-dev libpixman-1-dev libaio-dev libfdt-dev
          libnl-3-dev libnl-route-3-dev ocaml-nox gettext acpica-tools
          autoconf xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils"

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

qemu_ok() {
    local v
    v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
    case "$v" in *bpo*|1:1[0-9]*) return 0 ;; esac
    return 1
}

# shellcheck disable=SC2086
case "$what" in
    build) missing $build_pkgs ;;
    domd)  missing $build_pkgs $domd_pkgs ;;
    xen)   missing $build_pkgs $domd_pkgs $xen_pkgs ;;
    all)   missing $build_pkgs $domd_pkgs $xen_pkgs ;;
    *) echo "deps.sh: unknown set '$what' (build|domd|xen|all)" >&2; exit 2 ;;
esac

want_qemu=0
case "$what" in domd|xen|all) qemu_ok || want_qemu=1 ;; esac

# `make xen` runs `apt-get source xen`, which needs deb-src entries even
# when every package is already installed.
case "$what" in xen|all) ensure_sources ;; esac

if [ ${#need[@]} -eq 0 ] && [ $want_qemu -eq 0 ]; then
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
