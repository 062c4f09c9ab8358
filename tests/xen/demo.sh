#!/bin/bash
# The end-to-end demo on the emulated Xen board: Xen 4.17 under QEMU TCG,
# dom0 as the driver domain running xen-vfd, the patched xl creating a PV
# guest with pci = [ "vf:nvme0/ns2" ], then xl destroy. dom0 narrates
# (tests/xen/dom0-demo.sh); this script builds the pieces (cached, see
# tests/xen/board.sh), boots the board and shows dom0's narration.
#
# Needs make all, make xen and scripts/deps.sh xen. Exit 0 only if dom0
# printed "XVF-DEMO PASS".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

BUILD=${BUILD:-build}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
work=$top/$BUILD/xen-demo
state=$work/state
xen_gz=${XEN_VF_XEN_GZ:-/boot/xen-4.17-amd64.gz}
export XEN_VF_CACHE=$cache
mkdir -p "$state"

# shellcheck source=tests/xen/board.sh
. tests/xen/board.sh

say() {
    printf '==> %s\n' "$*"
}

# The board functions report through step_detail.
step_detail() {
    printf '    %s\n' "$*"
}

quiet() {
    local log=$work/build.log
    "$@" >"$log" 2>&1 || { cat "$log"; exit 1; }
}

for f in xen-vfctl xen-vfd; do
    [ -e "$BUILD/$f" ] || { echo "demo: $BUILD/$f missing (make all)"; exit 1; }
done
say "patched xl/libxl (make xen; cached after the first build)"
quiet h_xen_tools
step_detail "$(sed -n 's/^version=//p' "$BUILD/xen/info") with $(grep -c \
    '^patch=' "$BUILD/xen/info") patches from xen-patches/"
say "Debian's Xen hypervisor and 6.1 kernel; dom0 and domU initramfs"
quiet h_kernel
quiet h_xen
quiet h_domu_initramfs
quiet h_dom0_initramfs
step_detail "dom0 initramfs $(du -h "$(cat "$state/dom0")" | cut -f1)," \
    "kernel $(cat "$(cat "$state/kdir")/kver")"
say "booting QEMU (TCG, no KVM): Xen, dom0, then the narration from dom0"

serial=$work/serial.log
rc=0
# The console, live, without Xen's and the kernels' own messages; the
# pipeline ends when QEMU does.
tests/xen/qemu-xen.sh -c -x "$(cat "$state/xen")" \
    -k "$(cat "$state/kdir")/vmlinuz" -i "$(cat "$state/dom0")" \
    -d "$work" -t "${XEN_VF_DEMO_TIMEOUT:-600}" \
    -a "xvf.loglevel=1 xvf.run=/xvf/demo" |
    sed -u -e 's/\r//g' |
    grep --line-buffered -a -v -E \
        '^\(XEN\)|^\[ *[0-9]+\.[0-9]+\]|^XVF-(BOOT|MODULES|DONE)|^ *$'
rc=${PIPESTATUS[0]}

if grep -a -q 'XVF-DEMO PASS' "$serial"; then
    exit 0
fi
[ "$rc" -eq 124 ] && echo "demo: QEMU timed out"
echo "demo: failed; the whole console is in $serial"
exit 1
