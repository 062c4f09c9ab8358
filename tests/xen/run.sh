#!/bin/bash
# The xen tier: real Xen 4.17 under QEMU TCG, dom0 as DomD, a PV domU
# that gets an NVMe VF.
#
# Usage: tests/xen/run.sh            (from anywhere; run-tiers.sh runs it)
#
# Host steps build the pieces (each cached by its inputs under
# ${XEN_VF_CACHE:-/var/cache/xen-vf}), boot the board once
# (tests/xen/qemu-xen.sh) and import the steps dom0 ran
# (tests/xen/dom0-test.sh) from the serial console. Logs, one per step,
# go to $XEN_VF_TIER_LOGDIR (default build/logs/xen); the board's serial
# console is kept there as board-serial.log.
#
# Environment:
#   XEN_VF_XEN_GZ        hypervisor (default /boot/xen-4.17-amd64.gz)
#   XEN_VF_BOARD_TIMEOUT seconds before QEMU is killed (default 900)
#   XEN_VF_CONSOLE=1     copy the board's console to stdout
#   XEN_VF_XEN_JOBS      dom0's sections (default vfd,neg,nic,drvdom; also:
#                        local),
#                        see tests/xen/dom0-test.sh
#   XEN_VF_XEN_STOP_BEFORE_BOARD=1   only build the pieces (make xen-cache)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/steps.sh
# shellcheck source=tests/xen/board.sh
. tests/xen/board.sh

BUILD=${BUILD:-build}
logdir=${XEN_VF_TIER_LOGDIR:-$top/build/logs/xen}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
work=$top/$BUILD/xen-board
xen_gz=${XEN_VF_XEN_GZ:-/boot/xen-4.17-amd64.gz}
board_tmo=${XEN_VF_BOARD_TIMEOUT:-900}
jobs=${XEN_VF_XEN_JOBS:-vfd,neg,nic,drvdom}
export XEN_VF_CACHE=$cache

mkdir -p "$work"
state=$work/state           # values handed between host steps
mkdir -p "$state"

h_lint() {
    local f=(tests/xen/*.sh)
    if [ -d hotplug-scripts ]; then
        mapfile -t -O "${#f[@]}" f < <(find hotplug-scripts -type f \
            \( -name xen-vf -o -name '*.hook' -o -name '*.hook.sample' \) |
            sort)
    fi
    shellcheck -x "${f[@]}" && echo "shellcheck clean: ${f[*]}"
    step_detail "${#f[@]} scripts shellcheck clean"
}

h_build() {
    local f
    # The fake kernel too: the drvdom section's driver domain runs on it.
    make -s -j2 all "$BUILD/tests/unit/libxvf-mock.so" \
        "$BUILD/tests/unit/xvf-mock" || return 1
    for f in xen-vfctl xen-vfd xen-vf-reaper tests/unit/xvf-mock; do
        [ -e "$BUILD/$f" ] || { echo "no $BUILD/$f"; return 1; }
    done
    step_detail "xen-vfctl xen-vfd xen-vf-reaper xvf-mock"
}

h_board() {
    local rc=0 c=() t0 t1
    [ "${XEN_VF_CONSOLE:-0}" = 1 ] && c=(-c)
    t0=$(date +%s)
    tests/xen/qemu-xen.sh -x "$(cat "$state/xen")" \
        -k "$(cat "$state/kdir")/vmlinuz" \
        -i "$(cat "$state/dom0")" -d "$work" -t "$board_tmo" \
        -a "xvf.loglevel=4 xvf.jobs=$jobs" "${c[@]}" || rc=$?
    t1=$(date +%s)
    board_outcome "$rc" $((t1 - t0))
}

steps_init xen "$logdir"
step --needs none lint -- h_lint
step --needs none build -- h_build
step --needs none --timeout 1200 xen-tools -- h_xen_tools
step --needs none kernel -- h_kernel
step --needs none xen-image -- h_xen
step --needs kernel domu-initramfs -- h_domu_initramfs
step --needs build drvdom-initramfs -- h_drvdom_initramfs
step --needs build,xen-tools,kernel,domu-initramfs,drvdom-initramfs \
    dom0-initramfs -- h_dom0_initramfs
board_run xen-image,dom0-initramfs
