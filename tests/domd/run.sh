#!/bin/bash
# domd tier: the real engine on the real nvme driver, in an emulated DomD.
#
# Usage: tests/domd/run.sh   (or: tests/lib/run-tiers.sh domd)
#
# One job (tests/lib/steps.sh): install the domd packages, build, fetch
# the kernel, build the initrd, boot QEMU (TCG) with an SR-IOV NVMe
# controller and run tests/domd/guest/cases.sh in the guest; the guest's
# steps come back over the serial console and become steps of this job;
# then the host checks the namespace backing files for what the VFs
# wrote. Logs: ${XEN_VF_TIER_LOGDIR:-build/logs/domd}/NN-<step>.log, the
# guest console in serial.log there.
#
# Env: XEN_VF_CACHE (kernel and initrd cache), XEN_VF_DOMD_TIMEOUT (QEMU,
# default 600 s), XEN_VF_QEMU_SMP / XEN_VF_QEMU_MEM (see qemu-run.sh),
# XEN_VF_ARCH=arm64 (the domd-arm64 tier, tests/domd-arm64/run.sh: the
# arm64 board of board.sh, xen-vfctl from the arm64 cross build of
# tests/cross/lib.sh; logs in build/logs/domd-arm64).
set -uo pipefail

XVF_TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$XVF_TOP" || exit 1
# shellcheck source=tests/lib/steps.sh
. tests/lib/steps.sh
# shellcheck source=tests/domd/board.sh
. tests/domd/board.sh

tier=domd vfctl_bin=build/xen-vfctl
case ${XEN_VF_ARCH:=x86_64} in
    x86_64) ;;
    arm64) tier=domd-arm64 vfctl_bin=build/arm64/xen-vfctl ;;
    *) echo "domd: unknown XEN_VF_ARCH $XEN_VF_ARCH" >&2; exit 2 ;;
esac
export XEN_VF_ARCH
logdir=${XEN_VF_TIER_LOGDIR:-$XVF_TOP/build/logs/$tier}
work=$XVF_TOP/build/$tier
serial=$logdir/serial.log
serial_layout=$logdir/serial-layout.log
mkdir -p "$work"
steps_init "$tier" "$logdir"
rm -f "$serial" "$serial_layout"

t_deps() {
    x scripts/deps.sh "$tier"
}

t_build() {
    if [ "$XEN_VF_ARCH" = arm64 ]; then
        top=$XVF_TOP
        # shellcheck source=tests/cross/lib.sh
        . tests/cross/lib.sh
        cross_sysroot >/dev/null || return 1
        cross_compile || return 1
    else
        x make --no-print-directory -C "$XVF_TOP" -j2 all || return 1
    fi
    [ -x "$vfctl_bin" ] || { echo "no $vfctl_bin"; return 1; }
    step_detail "$vfctl_bin $(stat -c %s "$vfctl_bin") bytes," \
        "$(file -b "$vfctl_bin" | cut -d, -f1-2)"
}

t_kernel() {
    local k
    k=$(board_kernel) || return 1
    echo "$k" >"$work/kdir"
    step_detail "$(cat "$k/package")"
}

t_initrd() {
    local k vfctl=''
    k=$(cat "$work/kdir")
    # A stale binary from an earlier build must not be tested.
    if [ "$(step_status build)" = PASS ]; then
        vfctl=$vfctl_bin
    else
        echo "build failed: the image gets no xen-vfctl"
    fi
    board_initrd "$k" "$work/initrd" $vfctl || return 1
    step_detail "$(du -h "$work/initrd" | cut -f1)${vfctl:+ with xen-vfctl}"
}

x() {
    echo "+ $*"
    "$@"
}

# boot_guest SERIAL WORKDIR SCRIPT - one boot of the board running SCRIPT
boot_guest() {
    local serial=$1 wdir=$2 script=$3 k rc=0 t0 t1 tailpid
    k=$(cat "$work/kdir")
    : >"$serial"
    t0=$(date +%s.%N)
    # Follow the guest's results live on the console.
    (
        tail -n +1 -F "$serial" 2>/dev/null |
            grep --line-buffered -E 'XVF-(STEP|NOTE|DONE|BOOT)' |
            sed -u -E 's/^.*(XVF-(STEP|NOTE|DONE|BOOT))/  guest: \1/' >&"$STEPS_CONSOLE_FD"
    ) &
    tailpid=$!
    board_boot "$work/initrd" "$k" "$wdir" "$serial" "$script" || rc=$?
    t1=$(date +%s.%N)
    sleep 0.5
    steps__kill_tree "$tailpid" TERM
    wait "$tailpid" 2>/dev/null
    echo "QEMU exit $rc after $(awk -v a="$t0" -v b="$t1" \
        'BEGIN { printf "%.1f", b - a }') s"
    if [ $rc -ne 0 ] || ! grep -q 'XVF-DONE' "$serial"; then
        if [ $rc -eq 124 ]; then
            step_detail "guest timed out (QEMU killed after" \
                "${XEN_VF_DOMD_TIMEOUT:-600} s)"
        else
            step_detail "guest crashed or QEMU failed (exit $rc, no XVF-DONE)"
        fi
        local t
        t=$(
            echo "---- last 40 lines of $serial ----"
            tail -n 40 "$serial"
            echo
            echo "----"
        )
        # In the step log and on the console (not via tee /dev/fd/N: that
        # reopens and truncates a console redirected to a file).
        printf '%s\n' "$t"
        step_progress "$t"
        return 1
    fi
    step_detail "$(grep -o 'XVF-DONE.*' "$serial" | tail -n 1)," \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s wall"
}

t_boot() {
    boot_guest "$serial" "$work" /xvf/cases.sh
}

# A second boot with fresh namespaces for the namespace layout cases
# (guest/layout-cases.sh): they format and mount ns1.
t_layout_boot() {
    boot_guest "$serial_layout" "$work-layout" /xvf/layout-cases.sh
}

# host_sees IMG TEXT - the backing file holds TEXT at 1 MiB (a VF wrote
# it through the guest's nvme driver and QEMU's namespace).
host_sees() {
    local got
    got=$(dd if="$work/$1" bs=4096 skip=256 count=1 2>/dev/null |
        head -n 1 | tr -d '\0')
    echo "$1 at 1 MiB: '$got'"
    [ "$got" = "$2" ]
}

t_host_data() {
    local ok=0
    host_sees ns2.img "XVF-VF-WROTE ns2-two" || ok=1
    host_sees ns3.img "XVF-VF-WROTE ns3-two" || ok=1
    host_sees ns1.img "" || ok=1
    host_sees ns4.img "" || ok=1
    [ "$(head -n 1 "$work/ns1.img")" = "XVF-SIG ns1" ] || ok=1
    [ $ok -eq 0 ] || { step_detail "backing files not as the VFs left them"; \
        return 1; }
    step_detail "ns2/ns3 hold the VFs' writes, ns1/ns4 untouched"
}

step --needs none steps-lib -- tests/lib/steps-selftest.sh
step --needs none deps -- t_deps
step --needs deps build -- t_build
step --needs deps kernel -- t_kernel
step --needs kernel initrd -- t_initrd
step --needs initrd --timeout 900 boot -- t_boot
if [ -s "$serial" ]; then
    steps_import_console "$serial"
fi
step --needs boot,two-io host-backing-files -- t_host_data
step --needs initrd --timeout 600 layout-boot -- t_layout_boot
if [ -s "$serial_layout" ]; then
    steps_import_console "$serial_layout"
fi

steps_finish
