#!/bin/bash
# `make demo`, guest side: a narrated prepare / use / release of an NVMe
# VF with xen-vfctl on the emulated DomD. Every claim it prints is checked;
# it ends with "XVF-DEMO PASS" or "XVF-DEMO FAIL <why>" and that exit code.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The helpers call step_detail; outside a step job that is a no-op.
step_detail() { :; }
# shellcheck source=tests/domd/guest/lib.sh
. "$here/lib.sh"

SPEC=vf:nvme0/ns2,driver=nvme
# xen-vfctl takes its state directory from the environment too.
export XEN_VF_STATE_DIR=/tmp/xen-vf-demo
mkdir -p "$XEN_VF_STATE_DIR"
dmesg -n 1

# Colours only when the host's terminal is one (xvf.color=1).
B='' C='' R='' G='' N=''
if grep -qw xvf.color=1 /proc/cmdline; then
    B=$'\033[1m' C=$'\033[36m' R=$'\033[31m' G=$'\033[32m' N=$'\033[0m'
fi

say() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$@"; }
cmd() { printf '%s# %s%s\n' "$C" "$*" "$N"; }
show() {
    cmd "$@"
    "$@" 2>&1 | sed 's/^/  /'
    return "${PIPESTATUS[0]}"
}
die() {
    printf '\n%sXVF-DEMO FAIL %s%s\n' "$R" "$*" "$N"
    exit 1
}

PF=$(pf_bdf) || die "no NVMe controller nvme0 on this board"
PATH=$(dirname "$XVFCTL"):$PATH
[ -x "$XVFCTL" ] || die "xen-vfctl is not in the image (did make all fail?)"

say "xen-vf demo: an NVMe virtual function on demand (emulated DomD board)"
note "QEMU q35 (TCG), Linux $(uname -r), NVMe controller nvme0 at $PF:" \
     "SR-IOV with 2 VFs, 8 flexible queues and 4 flexible interrupts," \
     "namespace 1 is DomD's own disk, namespaces 2-4 are detached spares."

say "1. The board before"
show lspci -nn -s "${PF%.*}.*"
show nvme list-ns "$PFDEV" -a
show cat "$SYSPCI/$PF/sriov_numvfs"
device_clean >/dev/null || die "the board does not start clean"

say "2. What the SR-IOV guide has you type in DomD for every VF"
# shellcheck disable=SC2016  # the backquotes are meant literally
note '# nvme virt-mgmt /dev/nvme0 -c 0x1 -r0 -n2 -a8   (queues to secondary 1)' \
     '# nvme virt-mgmt /dev/nvme0 -c 0x1 -r1 -n2 -a8   (interrupts)' \
     '# echo 1 > /sys/bus/pci/devices/0000:01:00.0/sriov_numvfs' \
     '# nvme virt-mgmt /dev/nvme0 -c 0x1 -a9           (secondary online)' \
     '  ... wait for "nvme nvme1: Device not ready; aborting initialisation"' \
     '# echo 0000:01:00.2 > /sys/bus/pci/drivers/nvme/bind' \
     '# nvme attach-ns /dev/nvme0 -n2 -c0x1            (one-time setup)' \
     '  ... and the reverse by hand when the guest is gone.' \
     'xen-vfctl (and xen-vfd, for `pci = [ "vf:nvme0/ns2" ]` in a domU' \
     'config) does all of it, finds the controller IDs itself, avoids the' \
     'failed probe (autoprobe off + driver_override) and journals each step.' \
     'Here the VF goes to the nvme driver so DomD can use it; for a guest' \
     'it goes to pciback (driver=pciback, the default).'

say "3. Prepare: one command"
cmd xen-vfctl -v prepare --local "$SPEC"
VF=$(xen-vfctl -v prepare --local "$SPEC" 2>/tmp/prep.err)
rc=$?
sed 's/^/  /' /tmp/prep.err
printf '  %s\n' "$VF"
[ $rc -eq 0 ] || die "prepare exited $rc"
is_bdf "$VF" || die "prepare printed '$VF', not a PCI address"
note "-> the VF is $VF"

say "4. Status"
show xen-vfctl status || die "status failed"

say "5. The VF, seen by Linux"
show lspci -nn -s "$VF"
drv=$(vf_driver "$VF")
note "driver: $drv"
[ "$drv" = nvme ] || die "VF driver is '$drv', not nvme"
ctrl=$(vf_ctrl "$VF") || die "no NVMe controller on $VF"
blk=$(vf_blockdev "$VF" 2 15) || die "namespace 2 did not appear"
note "controller: $ctrl (cntlid $(cat "/sys/class/nvme/$ctrl/cntlid"))," \
     "namespace 2: $blk" \
     "(the VF shares nvme0's NVM subsystem, so native multipath names the" \
     " disk after nvme-subsys0: $blk, path node under $ctrl; not nvme1n1)"
vfn=$(vf_vfn "$PF" "$VF")
show nvme list-secondary "$PFDEV" -e 1 -c "$(scid_of_vfn "$vfn")"

say "6. I/O through the VF"
sig=$(read_sig "$blk")
cmd "dd if=$blk bs=512 count=1 | head -n 1"
printf '  %s\n' "$sig"
[ "$sig" = "XVF-SIG ns2" ] ||
    die "read '$sig', not the signature the host wrote into ns2"
note "that is the signature the host wrote into namespace 2's backing file"
io_check "$blk" demo >/tmp/io.log 2>&1 || { cat /tmp/io.log; die "I/O"; }
note "$(tail -n 1 /tmp/io.log)"

say "7. Release"
cmd xen-vfctl -v release --local "$SPEC"
xen-vfctl -v release --local "$SPEC" 2>&1 |
    sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || die "release failed"

say "8. The board after"
show xen-vfctl status || die "status failed"
show cat "$SYSPCI/$PF/sriov_numvfs"
device_clean >/tmp/clean.log 2>&1 || { cat /tmp/clean.log; \
    die "the device is not back to its power-on state"; }
pf_healthy >/tmp/pf.log 2>&1 || { cat /tmp/pf.log; die "PF unhealthy"; }
note "no VF, secondaries offline with no queues, autoprobe back to 1," \
     "namespace 2 detached, journal empty; nvme0 still answers and" \
     "nvme0n1 still reads its own data."

printf '\n%sXVF-DEMO PASS%s\n' "$G" "$N"
