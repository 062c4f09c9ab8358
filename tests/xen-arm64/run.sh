#!/bin/bash
# The xen-arm64 tier: Debian's Xen 4.17 for arm64 under QEMU TCG, dom0 as
# DomD, with the patched xl/libxl cross-built from xen-patches/4.17 and
# xen-vfd from the arm64 cross build, on the target architecture.
#
# Usage: tests/xen-arm64/run.sh    (or: tests/lib/run-tiers.sh xen-arm64)
#
# Host steps (tests/lib/steps.sh; logs in $XEN_VF_TIER_LOGDIR, default
# build/logs/xen-arm64; the board's console as board-serial.log):
#   lint            shellcheck of this tier's scripts
#   deps            scripts/deps.sh xen-arm64
#   build           xen-vfd, xen-vfctl by the recipe's do_compile
#                   (tests/cross/lib.sh), aarch64
#   xen-tools       make xen-arm64: Debian's xen 4.17 source (the one the
#                   xenbuild tier builds) with xen-patches/4.17,
#                   cross-built (scripts/build-xen.sh --arch arm64, cached)
#   xen-root        scripts/arm64-sysroot.sh xen: Debian's arm64
#                   hypervisor, xen-utils-4.17 and xenstore-utils,
#                   unpacked (dpkg -x), never installed
#   kernel          Debian 12's arm64 kernel (scripts/fetch-kernel.sh)
#   domu-initramfs  busybox, tests/xen/domu-test.sh
#   dom0-initramfs  base (cached): busybox, bash, Debian's arm64 Xen
#                   tools and hotplug library, nvme-cli, ip, modules, the
#                   domU kernel; top: our arm64 binaries and scripts; last
#                   the patched libxenlight, libxlutil and xl
#   board           tests/xen/qemu-xen.sh with XEN_VF_ARCH=arm64; dom0
#                   runs tests/xen-arm64/dom0-test.sh, whose steps are
#                   imported from the console (prefixed "dom0:")
#
# Environment: XEN_VF_BOARD_TIMEOUT (default 600 s), XEN_VF_CONSOLE=1,
# XEN_VF_XEN_STOP_BEFORE_BOARD=1 (only build the pieces).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/steps.sh
# shellcheck source=tests/xen/board-common.sh
. tests/xen/board-common.sh

BUILD=${BUILD:-build}
logdir=${XEN_VF_TIER_LOGDIR:-$top/$BUILD/logs/xen-arm64}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
work=$top/$BUILD/xen-arm64-board
board_tmo=${XEN_VF_BOARD_TIMEOUT:-600}
state=$work/state
ml=aarch64-linux-gnu
XEN_BIN=/usr/lib/xen-4.17/bin
export XEN_VF_CACHE=$cache XEN_VF_ARCH=arm64
mkdir -p "$state"

h_lint() {
    local f=(tests/xen-arm64/*.sh tests/xen/qemu-xen.sh tests/xen/dom0-lib.sh)
    shellcheck -x "${f[@]}" || return 1
    step_detail "${#f[@]} scripts shellcheck clean"
}

h_deps() {
    scripts/deps.sh xen-arm64
}

h_build() {
    # shellcheck source=tests/cross/lib.sh
    . tests/cross/lib.sh
    cross_sysroot >/dev/null || return 1
    cross_compile || return 1
    local f
    for f in xen-vfd xen-vfctl; do
        file "$abuild/$f" | grep -q 'ARM aarch64' ||
            { echo "no aarch64 $abuild/$f"; return 1; }
    done
    echo "$abuild" >"$state/abuild"
    step_detail "xen-vfd xen-vfctl (aarch64)"
}

h_xen_tools() {
    local st=$BUILD/xen-arm64/stage
    make -s xen-arm64 || return 1
    file "$st$XEN_BIN/xl" | grep -q 'ARM aarch64' ||
        { echo "no aarch64 patched xl"; return 1; }
    cat "$BUILD/xen-arm64/info"
    step_detail "$(sed -n 's/^version=//p' "$BUILD/xen-arm64/info") arm64," \
        "$(grep -c '^patch=' "$BUILD/xen-arm64/info") patches," \
        "built in $(sed -n 's/^seconds_total=//p' "$BUILD/xen-arm64/info") s"
}

h_xen_root() {
    local entry
    entry=$(scripts/arm64-sysroot.sh xen) || return 1
    echo "$entry/root" >"$state/troot"
    [ -f "$entry/root/boot/xen-4.17-arm64" ] ||
        { echo "no hypervisor in $entry"; return 1; }
    grep -E '^(xen-hypervisor|xen-utils-4|xenstore-utils)' "$entry/packages"
    step_detail "$(grep '^xen-hypervisor' "$entry/packages")"
}

h_kernel() {
    local k
    k=$(scripts/fetch-kernel.sh) || return 1
    echo "$k" >"$state/kdir"
    step_detail "$(cat "$k/kver")"
}

h_domu_initramfs() {
    local out
    out=$(XVF_TARGET_ROOT=$(cat "$state/troot") scripts/mk-initramfs.sh -B \
        -f tests/lib/guest-init.sh=/init \
        -f tests/xen/domu-test.sh=/xvf/run \
        -c xen-arm64-domu) || return 1
    echo "$out" >"$state/domu"
    step_detail "$(basename "$out") $(du -h "$out" | cut -f1)"
}

h_dom0_initramfs() {
    local k troot base top_img xen_img bins=() st a img lib
    k=$(cat "$state/kdir")
    troot=$(cat "$state/troot")
    a=$(cat "$state/abuild")
    st=$BUILD/xen-arm64/stage
    # xl loads the domU kernel gzip'ed (a third of the size in dom0's RAM).
    img=$work/Image.gz
    if [ ! -s "$img" ] || [ "$k/vmlinuz" -nt "$img" ]; then
        gzip -n -6 -c "$k/vmlinuz" >"$img.tmp" && mv "$img.tmp" "$img" ||
            return 1
    fi
    xen_dom0_tools "$troot" "$ml"
    export XVF_TARGET_ROOT=$troot
    base=$(scripts/mk-initramfs.sh -k "$k" -B "${bins[@]}" \
        -l xenfs -l xen-evtchn -l xen-gntdev -l xen-gntalloc \
        -l xen-privcmd -l xen-pciback -l nvme -l igb \
        -f tests/lib/guest-init.sh=/init \
        -f "$img=/xvf/domu/Image.gz" \
        -c xen-arm64-dom0-base) || return 1
    top_img=$(scripts/mk-initramfs.sh \
        -b "$a/xen-vfctl=/usr/sbin/xen-vfctl" \
        -b "$a/xen-vfd=/usr/sbin/xen-vfd" \
        -b "$st$XEN_BIN/xl=/usr/sbin/xl" \
        -f "$st$XEN_BIN/xl=$XEN_BIN/xl" \
        -f tests/lib/steps.sh=/xvf/lib/steps.sh \
        -f tests/xen/dom0-lib.sh=/xvf/lib/dom0-lib.sh \
        -f tests/xen-arm64/dom0-test.sh=/xvf/run \
        -f hotplug-scripts/xen-vf=/etc/xen/scripts/xen-vf \
        -f tests/xen/hooks/90-xvf-test.hook=/etc/xen/scripts/xen-vf-nvme-add.d/90-xvf-test.hook \
        -f tests/xen/hooks/90-xvf-test.hook=/etc/xen/scripts/xen-vf-nvme-remove.d/90-xvf-test.hook \
        -f "$(cat "$state/domu")=/xvf/domu/initrd.gz" \
        -o "$work/dom0-top.cpio.gz") || return 1
    # Last, so that they win over Debian's: where Debian has them.
    lib=$(cd "$troot" && find lib usr/lib -name libxenlight.so.4.17 | head -n 1)
    [ -n "$lib" ] || { echo "no libxenlight.so.4.17 in $troot"; return 1; }
    lib=/$(dirname "$lib")
    xen_img=$(scripts/mk-initramfs.sh \
        -b "$st/usr/lib/$ml/libxenlight.so.4.17.0=$lib/libxenlight.so.4.17" \
        -f "$st/usr/lib/$ml/libxlutil.so.4.17.0=$lib/libxlutil.so.4.17" \
        -o "$work/dom0-xen.cpio.gz") || return 1
    unset XVF_TARGET_ROOT
    cat "$base" "$top_img" "$xen_img" >"$work/dom0.cpio.gz" || return 1
    echo "$work/dom0.cpio.gz" >"$state/dom0"
    step_detail "base $(du -h "$base" | cut -f1), top $(du -h "$top_img" |
        cut -f1), xen $(du -h "$xen_img" | cut -f1) (patched libs in $lib)"
}

h_board() {
    local rc=0 c=() t0 t1
    [ "${XEN_VF_CONSOLE:-0}" = 1 ] && c=(-c)
    t0=$(date +%s)
    tests/xen/qemu-xen.sh -x "$(cat "$state/troot")/boot/xen-4.17-arm64" \
        -k "$(cat "$state/kdir")/vmlinuz" -i "$(cat "$state/dom0")" \
        -d "$work" -t "$board_tmo" -a "xvf.loglevel=4" "${c[@]}" || rc=$?
    t1=$(date +%s)
    board_outcome "$rc" $((t1 - t0))
}

steps_init xen-arm64 "$logdir"
step --needs none lint -- h_lint
step --needs none deps -- h_deps
step --needs deps build -- h_build
step --needs deps --timeout 1200 xen-tools -- h_xen_tools
step --needs deps xen-root -- h_xen_root
step --needs deps kernel -- h_kernel
step --needs xen-root domu-initramfs -- h_domu_initramfs
step --needs build,xen-tools,xen-root,kernel,domu-initramfs \
    dom0-initramfs -- h_dom0_initramfs
board_run dom0-initramfs
