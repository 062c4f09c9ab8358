#!/bin/bash
# make soak: many xl create / xl destroy cycles with vf: on the emulated
# Xen board (the Xen tier's board, tests/xen/board.sh), alternating an
# NVMe and a NIC guest, then the tier's leak check. dom0 runs
# tests/xen/dom0-soak.sh; this script builds the pieces (cached), boots
# the board once and reports dom0's "XVF-SOAK" lines. Not part of make
# check.
#
# Environment:
#   XEN_VF_SOAK_CYCLES   cycles (default 50)
#   XEN_VF_SOAK_TIMEOUT  seconds before QEMU is killed (default 300 + 120
#                        a cycle)
#   XEN_VF_XEN_GZ        hypervisor (default /boot/xen-4.17-amd64.gz)
#   XEN_VF_CONSOLE=1     copy the whole console to stdout
# Exit 0 only if dom0 printed "XVF-SOAK PASS".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

BUILD=${BUILD:-build}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
work=$top/$BUILD/xen-soak
state=$work/state
xen_gz=${XEN_VF_XEN_GZ:-/boot/xen-4.17-amd64.gz}
cycles=${XEN_VF_SOAK_CYCLES:-50}
tmo=${XEN_VF_SOAK_TIMEOUT:-$((300 + 120 * cycles))}
export XEN_VF_CACHE=$cache
mkdir -p "$state"

case $cycles in
    '' | *[!0-9]* | 0) echo "soak: XEN_VF_SOAK_CYCLES='$cycles' is not a" \
        "positive number"; exit 2 ;;
esac

# shellcheck source=tests/xen/board.sh
. tests/xen/board.sh

# The board functions report through step_detail.
# shellcheck disable=SC2317
step_detail() {
    printf '    %s\n' "$*"
}

quiet() {
    local log=$work/build.log
    "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
}

make -s -j2 all >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
echo "soak: building the board's pieces (cached)"
quiet h_xen_tools
quiet h_kernel
quiet h_xen
quiet h_domu_initramfs
quiet h_drvdom_initramfs
quiet h_dom0_initramfs
echo "soak: booting the board for $cycles cycles (QEMU killed after ${tmo}s)"

serial=$work/serial.log
c=()
[ "${XEN_VF_CONSOLE:-0}" = 1 ] && c=(-c)
t0=$(date +%s)
rc=0
tests/xen/qemu-xen.sh "${c[@]}" -x "$(cat "$state/xen")" \
    -k "$(cat "$state/kdir")/vmlinuz" -i "$(cat "$state/dom0")" \
    -d "$work" -t "$tmo" \
    -a "xvf.loglevel=1 xvf.run=/xvf/soak xvf.soak_cycles=$cycles" || rc=$?
t1=$(date +%s)
tr -d '\r' <"$serial" | grep -a '^XVF-SOAK' | tee "$work/soak.txt"
echo "soak: board wall time $((t1 - t0))s (boot included), console in $serial"
if grep -q '^XVF-SOAK PASS' "$work/soak.txt"; then
    exit 0
fi
[ "$rc" -eq 124 ] && echo "soak: QEMU timed out after ${tmo}s"
tr -d '\r' <"$serial" | tail -n 60
echo "soak: failed"
exit 1
