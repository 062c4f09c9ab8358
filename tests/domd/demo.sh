#!/bin/bash
# `make demo`: boot the emulated DomD board and run the narrated
# prepare / use / release of an NVMe VF (tests/domd/guest/demo.sh).
# Needs build/xen-vfctl (make all) and the domd packages
# (scripts/deps.sh domd); the Makefile's demo target does both first.
# Exit 0 only if the guest printed "XVF-DEMO PASS" and powered off.
set -uo pipefail

XVF_TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$XVF_TOP" || exit 1
# shellcheck source=tests/domd/board.sh
. tests/domd/board.sh

work=$XVF_TOP/build/domd-demo
serial=$work/serial.log
mkdir -p "$work"

if [ -t 1 ]; then
    color=1
    say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
    color=0
    say() { printf '==> %s\n' "$*"; }
fi

[ -x build/xen-vfctl ] || { echo "demo: build/xen-vfctl missing (make all)"; \
    exit 1; }
say "kernel (Debian 12, fetched once into ${XEN_VF_CACHE:-/var/cache/xen-vf})"
kdir=$(board_kernel) || exit 1
echo "    $(cat "$kdir/package")"
say "initrd (cached base + xen-vfctl and the demo script)"
board_initrd "$kdir" "$work/initrd" build/xen-vfctl | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
say "booting QEMU (TCG, no KVM: about 10 s to the demo)"

: >"$serial"
# Show the guest console without /init's bookkeeping lines.
tail -n +1 -F "$serial" 2>/dev/null |
    grep --line-buffered -v -E '^XVF-(BOOT|MODULES|DONE)|reboot: Power down' &
follow=$!
t0=$(date +%s)
rc=0
XVF_BOARD_APPEND="xvf.color=$color" \
    board_boot "$work/initrd" "$kdir" "$work" "$serial" /xvf/demo.sh || rc=$?
sleep 0.5
# $! is grep; ending it makes tail die of SIGPIPE at its next line.
kill "$follow" 2>/dev/null
wait "$follow" 2>/dev/null
echo "    (QEMU ran $(($(date +%s) - t0)) s; console log: $serial)"

if [ $rc -ne 0 ]; then
    echo "demo: QEMU exited $rc$([ $rc -eq 124 ] && echo ' (timeout)')"
    exit 1
fi
if ! grep -q 'XVF-DEMO PASS' "$serial"; then
    echo "demo: FAILED (see above)"
    exit 1
fi
grep -q 'XVF-DONE rc=0' "$serial" || { echo "demo: guest script failed"; \
    exit 1; }
say "demo passed"
