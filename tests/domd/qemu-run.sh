#!/bin/bash
# Boot the emulated DomD board: q35 under TCG with an SR-IOV NVMe
# controller and an igb NIC; with XEN_VF_ARCH=arm64 the same devices on
# QEMU's Arm "virt" machine (XEN_VF_QEMU_MACHINE, default
# virt,gic-version=3: MSI-X through the GICv3 ITS; XEN_VF_QEMU_CPU,
# default max,pauth-impdef=on) with a PL011 console.
#
# Usage: tests/domd/qemu-run.sh -k VMLINUZ -i INITRD -d WORKDIR
#            [-s SERIAL_LOG] [-a "EXTRA KERNEL ARGS"] [-t TIMEOUT_S] [-c]
#
#   -d WORKDIR  gets ns1..ns4.img (fresh each run) and cmdline
#   -s LOG      serial console log (default WORKDIR/serial.log)
#   -c          also copy the serial console to stdout (for the demo)
#   -t          seconds before QEMU is killed (default 300); exit 124 then
#
# Board (pinned; QEMU calls NVMe SR-IOV experimental):
#   00:04.0 pcie-root-port -> 01:00.0 nvme PF [1b36:0010], nvme-subsys,
#           2 VFs (01:00.1, 01:00.2 with ARI), 8 flexible VQ, 4 flexible VI
#           nsid 1 attached to the primary (DomD's own disk)
#           nsid 2, 3, 4 detached (for VFs; ns4 lets a test run out of
#           secondary controllers before it runs out of namespaces)
#   00:05.0 pcie-root-port -> 02:00.0 igb (82576, SR-IOV, VFs at 02:10.x)
# Each ns<N>.img is a 64 MiB sparse file whose first sector starts with
# "XVF-SIG ns<N>\n", so the guest can tell which namespace it reads.
# Exit status: QEMU's (0 after the guest's poweroff -f), 124 on timeout.
set -euo pipefail

kernel='' initrd='' workdir='' extra='' tmo=300 console=0 serial=''
while getopts k:i:d:s:a:t:c opt; do
    case $opt in
        k) kernel=$OPTARG ;;
        i) initrd=$OPTARG ;;
        d) workdir=$OPTARG ;;
        s) serial=$OPTARG ;;
        a) extra=$OPTARG ;;
        t) tmo=$OPTARG ;;
        c) console=1 ;;
        *) echo "usage: see $0" >&2; exit 2 ;;
    esac
done
if [ -z "$kernel" ] || [ -z "$initrd" ] || [ -z "$workdir" ]; then
    echo "qemu-run: need -k, -i and -d" >&2
    exit 2
fi

# XEN_VF_ARCH=arm64: the same board on QEMU's Arm "virt" machine (GICv3
# with ITS for MSI-X, PL011 console); the PCIe topology is the same.
arch=${XEN_VF_ARCH:-x86_64}
case $arch in
    x86_64)
        qemu=${XEN_VF_QEMU:-qemu-system-x86_64}
        machine=(-M q35 -accel tcg -cpu max)
        ttycon=ttyS0 ;;
    arm64)
        qemu=${XEN_VF_QEMU:-qemu-system-aarch64}
        machine=(-M "${XEN_VF_QEMU_MACHINE:-virt,gic-version=3}" -accel tcg
            -cpu "${XEN_VF_QEMU_CPU:-max,pauth-impdef=on}")
        ttycon=ttyAMA0 ;;
    *) echo "qemu-run: unknown XEN_VF_ARCH $arch" >&2; exit 2 ;;
esac
mem=${XEN_VF_QEMU_MEM:-512}
# One vCPU: the guest does not need two, the host has only two cores for
# every helper's QEMU, and single-threaded TCG avoids a rare QEMU 10.0.2
# abort seen once with -smp 2 while VFs were being disabled
# ("iotlb_to_section: Assertion `section_index < d->map.sections_nb'").
smp=${XEN_VF_QEMU_SMP:-1}

mkdir -p "$workdir"
for n in 1 2 3 4; do
    img=$workdir/ns$n.img
    rm -f "$img"
    truncate -s 64M "$img"
    printf 'XVF-SIG ns%d\n' "$n" | dd of="$img" conv=notrunc status=none
done
serial=${serial:-$workdir/serial.log}
: >"$serial"

if [ $console -eq 1 ]; then
    chardev="stdio,id=ser0,logfile=$serial,signal=off"
else
    chardev="file,id=ser0,path=$serial"
fi

nvme="nvme,id=nvme0,serial=deadbeef,subsys=subsys0,bus=rp0"
nvme+=",max_ioqpairs=16,msix_qsize=17"
nvme+=",sriov_max_vfs=2,sriov_vq_flexible=8,sriov_vi_flexible=4"

# shellcheck disable=SC2054  # QEMU option lists are comma separated
args=(
    "${machine[@]}" -smp "$smp" -m "$mem"
    -nodefaults -display none -no-reboot
    -chardev "$chardev" -serial chardev:ser0
    -kernel "$kernel" -initrd "$initrd"
    -append "console=$ttycon quiet panic=-1 $extra"
    -device pcie-root-port,id=rp0,chassis=1,slot=1,bus=pcie.0,addr=0x4
    -device nvme-subsys,id=subsys0,nqn=subsys0
    -device "$nvme"
)
for n in 1 2 3 4; do
    att=
    [ $n -eq 1 ] || att=,detached=on
    args+=(
        -drive "file=$workdir/ns$n.img,if=none,id=nvm$n,format=raw"
        -device "nvme-ns,drive=nvm$n,bus=nvme0,nsid=$n,shared=off$att"
    )
done
# shellcheck disable=SC2054
args+=(
    -device pcie-root-port,id=rp1,chassis=2,slot=2,bus=pcie.0,addr=0x5
    -netdev user,id=net0,restrict=on
    -device igb,bus=rp1,netdev=net0,id=igb0
)

printf '%q ' "$qemu" "${args[@]}" >"$workdir/cmdline"
echo >>"$workdir/cmdline"

rc=0
timeout -k 10 "$tmo" "$qemu" "${args[@]}" </dev/null || rc=$?
exit $rc
