# shellcheck shell=bash
# board-common.sh - what the x86-64 and the Arm64 Xen boards share
# (sourced by tests/xen/board.sh and tests/xen-arm64/run.sh):
#   xen_dom0_tools ROOT MULTIARCH  appends to the caller's array "bins"
#                  the mk-initramfs.sh arguments for dom0's Xen tools:
#                  the daemons and xl, the xenstore clients, bash,
#                  nvme-cli, ip, flock, Xen's hotplug-script library and
#                  libgcc_s, taken from ROOT ("" for the build host)
#   board_outcome RC SECONDS  the board step's verdict from QEMU's exit
#                  status and $work/serial.log (kept in $logdir)
#   board_run NEEDS  the tier's end: the board step (the caller's h_board,
#                  after the steps NEEDS), dom0's steps imported from its
#                  console, steps_finish (its status is the tier's); with
#                  XEN_VF_XEN_STOP_BEFORE_BOARD=1 only steps_finish
# Needs: $XEN_BIN, $work, $logdir, $board_tmo; tests/lib/steps.sh.
# shellcheck disable=SC2154

xen_dom0_tools() {
    local root=$1 ml=$2 b
    for b in xenstored xen-init-dom0 xenconsoled libxl-save-helper; do
        bins+=(-b "$XEN_BIN/$b")
    done
    bins+=(-b "$XEN_BIN/xl=/usr/sbin/xl")
    for b in xenstore xenstore-read xenstore-write xenstore-rm \
        xenstore-ls xenstore-list xenstore-exists xenstore-watch \
        xenstore-chmod; do
        bins+=(-b "/usr/bin/$b")
    done
    # util-linux's flock: Xen's hotplug locking needs it (busybox has
    # none); iproute2's ip: busybox's shows no "vf N" lines of a PF.
    bins+=(-b /bin/bash -b /usr/sbin/nvme -b /bin/ip=/usr/sbin/ip
        -b /usr/bin/flock)
    # Xen's hotplug-script library, which hotplug-scripts/xen-vf sources.
    for b in xen-hotplug-common.sh hotplugpath.sh logging.sh \
        xen-script-common.sh locking.sh; do
        bins+=(-f "$root/etc/xen/scripts/$b=/etc/xen/scripts/$b")
    done
    # glibc dlopens libgcc_s for pthread_cancel (xl uses it).
    bins+=(-f "$root/lib/$ml/libgcc_s.so.1=/lib/$ml/libgcc_s.so.1")
}

board_outcome() {
    local rc=$1 secs=$2
    cp "$work/serial.log" "$logdir/board-serial.log" 2>/dev/null
    echo "qemu exit $rc after $secs s"
    grep -a -E 'XVF-(BOOT|MODULES|DONE)' "$work/serial.log"
    if [ "$rc" -eq 124 ]; then
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
        tr -d '\r'), $secs s wall"
}

board_run() {
    if [ "${XEN_VF_XEN_STOP_BEFORE_BOARD:-0}" = 1 ]; then
        steps_finish
        return
    fi
    step --needs "$1" --timeout $((board_tmo + 60)) board -- h_board
    if [ "$(step_status board)" = BLOCKED ]; then
        step board-job -- true
    else
        # Xen's console ends dom0's lines with "\r\r\n".
        tr -d '\r' <"$work/serial.log" >"$work/serial.txt"
        steps_import_console "$work/serial.txt" "dom0:"
    fi
    steps_finish
}
