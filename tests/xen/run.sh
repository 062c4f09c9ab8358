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
#   XEN_VF_XEN_JOBS      dom0's sections (default vfd,neg; also: local),
#                        see tests/xen/dom0-test.sh
#   XEN_VF_XEN_STOP_BEFORE_BOARD=1   only build the pieces (make xen-cache)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/steps.sh

BUILD=${BUILD:-build}
logdir=${XEN_VF_TIER_LOGDIR:-$top/build/logs/xen}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
work=$top/$BUILD/xen-board
xen_gz=${XEN_VF_XEN_GZ:-/boot/xen-4.17-amd64.gz}
board_tmo=${XEN_VF_BOARD_TIMEOUT:-900}
jobs=${XEN_VF_XEN_JOBS:-vfd,neg}
XEN_BIN=/usr/lib/xen-4.17/bin
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
    make -s -j2 all || return 1
    for f in xen-vfctl xen-vfd vf.so; do
        [ -e "$BUILD/$f" ] || { echo "no $BUILD/$f"; return 1; }
    done
    step_detail "xen-vfctl xen-vfd vf.so"
}

# Xen's xl and libxl with the xen-patches/ series (make xen, cached).
h_xen_tools() {
    local st=$BUILD/xen/stage
    make -s xen || return 1
    [ -x "$st/usr/lib/xen-4.17/bin/xl" ] || { echo "no patched xl"; return 1; }
    cat "$BUILD/xen/info" 2>/dev/null
    step_detail "$(sed -n 's/^version=//p' "$BUILD/xen/info"), $(grep -c \
        '^patch=' "$BUILD/xen/info") patches"
}

h_kernel() {
    local k
    k=$(scripts/fetch-kernel.sh) || return 1
    echo "$k" >"$state/kdir"
    step_detail "$(cat "$k/kver")"
}

h_xen() {
    local h out
    [ -f "$xen_gz" ] || { echo "no $xen_gz (scripts/deps.sh xen)"; return 1; }
    h=$(sha256sum <"$xen_gz" | cut -c1-16)
    out=$cache/xen-$h.elf
    if [ ! -s "$out" ]; then
        mkdir -p "$cache"
        gzip -dc "$xen_gz" >"$out.tmp" && mv "$out.tmp" "$out" || return 1
    fi
    file "$out" 2>/dev/null || true
    echo "$out" >"$state/xen"
    step_detail "$(basename "$xen_gz") -> $out"
}

h_domu_initramfs() {
    local k out
    k=$(cat "$state/kdir")
    out=$(scripts/mk-initramfs.sh -k "$k" -B \
        -m nvme -m xen-pcifront \
        -b /usr/bin/xenstore-read -b /usr/bin/xenstore-write \
        -f tests/lib/guest-init.sh=/init \
        -f tests/xen/domu-test.sh=/xvf/run \
        -c xen-domu) || return 1
    echo "$out" >"$state/domu"
    step_detail "$(basename "$out") $(du -h "$out" | cut -f1)"
}

h_dom0_initramfs() {
    local k base top_img xen_img b bins=() xs st lib hook
    k=$(cat "$state/kdir")
    # The slow, stable layer: busybox, bash, the Xen tools, nvme-cli,
    # kernel modules and the domU kernel.
    for b in xenstored xen-init-dom0 xenconsoled libxl-save-helper; do
        bins+=(-b "$XEN_BIN/$b")
    done
    bins+=(-b "$XEN_BIN/xl=/usr/sbin/xl")
    for xs in xenstore xenstore-read xenstore-write xenstore-rm \
        xenstore-ls xenstore-list xenstore-exists xenstore-watch \
        xenstore-chmod; do
        bins+=(-b "/usr/bin/$xs")
    done
    bins+=(-b /bin/bash -b /usr/sbin/nvme -b /usr/bin/flock)
    # Xen's hotplug-script library, which hotplug-scripts/xen-vf sources.
    for xs in xen-hotplug-common.sh hotplugpath.sh logging.sh \
        xen-script-common.sh locking.sh; do
        bins+=(-f "/etc/xen/scripts/$xs=/etc/xen/scripts/$xs")
    done
    # glibc dlopens libgcc_s for pthread_cancel (xl uses it).
    bins+=(-f /lib/x86_64-linux-gnu/libgcc_s.so.1=/lib/x86_64-linux-gnu/libgcc_s.so.1)
    base=$(scripts/mk-initramfs.sh -k "$k" -B "${bins[@]}" \
        -l xenfs -l xen-evtchn -l xen-gntdev -l xen-gntalloc \
        -l xen-privcmd -l xen-pciback -l nvme \
        -f tests/lib/guest-init.sh=/init \
        -f "$k/vmlinuz=/xvf/domu/vmlinuz" \
        -c xen-dom0-base) || return 1
    # The small layer that changes with the tree: our binaries and the
    # patched xl/libxl over the stock ones of the base layer.
    st=$BUILD/xen/stage
    lib=/lib/x86_64-linux-gnu
    hook=tests/xen/hooks/90-xvf-test.hook
    top_img=$(scripts/mk-initramfs.sh \
        -b "$BUILD/xen-vfctl=/usr/sbin/xen-vfctl" \
        -b "$BUILD/xen-vfd=/usr/sbin/xen-vfd" \
        -b "$st/usr/lib/xen-4.17/bin/xl=/usr/sbin/xl" \
        -f "$st/usr/lib/xen-4.17/bin/xl=$XEN_BIN/xl" \
        -f "$BUILD/vf.so=/usr/lib/xen-4.17/lib/x86_64-linux-gnu/pci-providers/vf.so" \
        -f tests/lib/steps.sh=/xvf/lib/steps.sh \
        -f hotplug-scripts/xen-vf=/etc/xen/scripts/xen-vf \
        -f "$hook=/etc/xen/scripts/xen-vf-nvme-add.d/90-xvf-test.hook" \
        -f "$hook=/etc/xen/scripts/xen-vf-nvme-remove.d/90-xvf-test.hook" \
        -f tests/xen/dom0-test.sh=/xvf/run \
        -f "$(cat "$state/domu")=/xvf/domu/initrd.gz" \
        -o "$work/dom0-top.cpio.gz") || return 1
    # Last, so that they win over the stock libraries the closures of the
    # layers before brought in; -b for libxenlight's own closure (the
    # patched build links libnl).
    xen_img=$(scripts/mk-initramfs.sh \
        -b "$st/usr$lib/libxenlight.so.4.17.0=$lib/libxenlight.so.4.17" \
        -f "$st/usr$lib/libxlutil.so.4.17.0=$lib/libxlutil.so.4.17" \
        -o "$work/dom0-xen.cpio.gz") || return 1
    cat "$base" "$top_img" "$xen_img" >"$work/dom0.cpio.gz" || return 1
    echo "$work/dom0.cpio.gz" >"$state/dom0"
    step_detail "base $(du -h "$base" | cut -f1), top $(du -h "$top_img" |
        cut -f1), xen $(du -h "$xen_img" | cut -f1)"
}

h_board() {
    local rc=0 c=()
    [ "${XEN_VF_CONSOLE:-0}" = 1 ] && c=(-c)
    tests/xen/qemu-xen.sh -x "$(cat "$state/xen")" \
        -k "$(cat "$state/kdir")/vmlinuz" \
        -i "$(cat "$state/dom0")" -d "$work" -t "$board_tmo" \
        -a "xvf.loglevel=4 xvf.jobs=$jobs" "${c[@]}" || rc=$?
    cp "$work/serial.log" "$logdir/board-serial.log" 2>/dev/null
    echo "qemu exit $rc"
    grep -a -E 'XVF-(BOOT|MODULES|DONE)' "$work/serial.log"
    if [ $rc -eq 124 ]; then
        step_detail "QEMU killed after ${board_tmo}s"
        return 1
    fi
    grep -a -q 'XVF-DONE' "$work/serial.log" || {
        step_detail "dom0 never finished its job (qemu exit $rc)"
        tail -n 40 "$work/serial.log"
        return 1
    }
    # The last one is dom0's (guest logs, shown by collect, have theirs).
    step_detail "$(grep -a -o 'XVF-DONE.*' "$work/serial.log" | tail -n 1 |
        tr -d '\r')"
}

steps_init xen "$logdir"
step --needs none lint -- h_lint
step --needs none build -- h_build
step --needs none --timeout 1200 xen-tools -- h_xen_tools
step --needs none kernel -- h_kernel
step --needs none xen-image -- h_xen
step --needs kernel domu-initramfs -- h_domu_initramfs
step --needs build,xen-tools,kernel,domu-initramfs dom0-initramfs -- \
    h_dom0_initramfs
if [ "${XEN_VF_XEN_STOP_BEFORE_BOARD:-0}" = 1 ]; then
    steps_finish
    exit $?
fi
step --needs xen-image,dom0-initramfs --timeout $((board_tmo + 60)) \
    board -- h_board
if [ "$(step_status board)" = BLOCKED ]; then
    step board-job -- true
else
    # Xen's console ends dom0's lines with "\r\r\n".
    tr -d '\r' <"$work/serial.log" >"$work/serial.txt"
    steps_import_console "$work/serial.txt" "dom0:"
fi
steps_finish
