#!/bin/bash
# Boot the emulated Xen board: q35 under TCG, Xen 4.17 with a Linux dom0
# that is also the DomD, Intel VT-d and an SR-IOV NVMe controller. With
# XEN_VF_ARCH=arm64, the same devices on QEMU's Arm "virt" machine (the
# xen-arm64 tier, see below).
#
# Usage: tests/xen/qemu-xen.sh -x XEN -k VMLINUZ -i INITRD -d WORKDIR
#            [-a "EXTRA DOM0 ARGS"] [-X "EXTRA XEN ARGS"] [-t TIMEOUT_S] [-c]
#
#   -x XEN      the hypervisor as a multiboot ELF (gunzipped xen.gz)
#   -d WORKDIR  gets ns1..ns4.img (fresh each run), serial.log, cmdline
#   -c          also copy the serial console to stdout
#   -t          seconds before QEMU is killed (default 600); exit 124 then
#
# Board (pinned):
#   intel-iommu with interrupt remapping and eim=on: Xen runs x2APIC, and
#     with QEMU's default eim=off dom0 loses its device interrupts
#     (reference/xen-under-qemu.md, run1)
#   00:04.0 pcie-root-port -> 01:00.0 nvme PF [1b36:0010], nvme-subsys,
#           2 VFs, 8 flexible VQ, 4 flexible VI, the same controller as
#           tests/domd/qemu-run.sh
#           nsid 1 attached to the primary (DomD's own disk)
#           nsid 2, 3, 4 detached (for VFs)
#   00:05.0 pcie-root-port -> 02:00.0 igb PF [8086:10c9] (82576, SR-IOV,
#           7 VFs [8086:10ca]), user netdev with restrict=on, the same NIC
#           as tests/domd/qemu-run.sh
# Each ns<N>.img is a 64 MiB sparse file whose first sector starts with
# "XVF-SIG ns<N>\n", so a guest can tell which namespace it reads.
# QEMU loads Xen as a multiboot kernel; "-initrd 'KERNEL ARGS,INITRD'"
# gives Xen its two modules (commas in ARGS must be doubled).
# Exit status: QEMU's (0 after poweroff), 124 on timeout.
#
# XEN_VF_ARCH=arm64: -x is Xen's arm64 Image (Debian's
# /boot/xen-4.17-arm64), booted as -kernel of
# -M virt,virtualization=on,gic-version=2 -cpu cortex-a57 (EL2 for Xen;
# GICv2 because Debian's Xen 4.17 has no ITS driver, so with GICv3 dom0
# would have no MSI and a VF no interrupt at all; with GICv2 MSI-X goes
# through the GICv2m frame Xen maps to dom0). QEMU's guest-loader devices
# place dom0's kernel and initrd in memory and in the device tree
# (/chosen, "multiboot,module"), where Xen looks for them. Xen drives no
# IOMMU here (virt emulates only SMMUv3, which Debian's Xen lacks): dom0
# sees the PCIe host natively, and guests get no PCI device.
set -euo pipefail

xen='' kernel='' initrd='' workdir='' extra='' xextra='' tmo=600 console=0
while getopts x:k:i:d:a:X:t:c opt; do
    case $opt in
        x) xen=$OPTARG ;;
        k) kernel=$OPTARG ;;
        i) initrd=$OPTARG ;;
        d) workdir=$OPTARG ;;
        a) extra=$OPTARG ;;
        X) xextra=$OPTARG ;;
        t) tmo=$OPTARG ;;
        c) console=1 ;;
        *) echo "usage: see $0" >&2; exit 2 ;;
    esac
done
if [ -z "$xen" ] || [ -z "$kernel" ] || [ -z "$initrd" ] ||
    [ -z "$workdir" ]; then
    echo "qemu-xen: need -x, -k, -i and -d" >&2
    exit 2
fi
case "$kernel$initrd" in
    *,*|*' '*)
        echo "qemu-xen: kernel and initrd paths may not hold ',' or ' '" >&2
        exit 2 ;;
esac

qemu=${XEN_VF_QEMU:-qemu-system-x86_64}
mem=${XEN_VF_QEMU_MEM:-1536}
smp=${XEN_VF_QEMU_SMP:-2}
dom0_mem=${XEN_VF_DOM0_MEM:-512M}
# FSGSBASE hidden: with it, processes in dom0 now and then started with a
# wrong FS base (static busybox and xen-vfctl died in their TLS setup,
# "segfault at 0"), Xen's PV segment-base handling under TCG presumably.
cpu=${XEN_VF_QEMU_CPU:-max,-fsgsbase}

mkdir -p "$workdir"
for n in 1 2 3 4; do
    img=$workdir/ns$n.img
    rm -f "$img"
    truncate -s 64M "$img"
    printf 'XVF-SIG ns%d\n' "$n" | dd of="$img" conv=notrunc status=none
done
serial=$workdir/serial.log
: >"$serial"

if [ $console -eq 1 ]; then
    chardev="stdio,id=ser0,logfile=$serial,signal=off"
else
    chardev="file,id=ser0,path=$serial"
fi

# bootscrub=false: Xen would otherwise scrub all RAM at boot, which TCG
# makes slow and which proves nothing here.
# spec-ctrl=eager-fpu: TCG's "max" CPU is an AMD one, for which Xen
# switches PV vCPUs' FPU state lazily (CR0.TS set, restored on #NM), and
# TCG's XSAVE/XRSTOR/XSAVEOPT do not raise #NM with CR0.TS set (its
# FXSAVE/FXRSTOR and SSE/AVX do). dom0's kernel then saved or loaded a
# task's registers while they still held another vCPU's, and Xen's late
# restore overwrote them: busybox died in its TLS and malloc code reading
# another process's pointers, xl's XZ decompression of the domU kernel
# failed. With 2 busy loops on the host, vfd,neg: 12 crash lines and 7
# failed steps (25 blocked) without it, 0 crash lines with it (README).
xen_args="console=com1 com1=115200,8n1 dom0_mem=$dom0_mem,max:$dom0_mem"
xen_args+=" dom0_max_vcpus=$smp bootscrub=false noreboot iommu=verbose"
xen_args+=" spec-ctrl=eager-fpu"
xen_args+=" ${xextra}"
dom0_args="console=hvc0 earlyprintk=xen quiet panic=-1 $extra"

nvme="nvme,id=nvme0,serial=deadbeef,subsys=subsys0,bus=rp0"
nvme+=",max_ioqpairs=16,msix_qsize=17"
nvme+=",sriov_max_vfs=2,sriov_vq_flexible=8,sriov_vi_flexible=4"

# shellcheck disable=SC2054  # QEMU option lists are comma separated
case ${XEN_VF_ARCH:-x86_64} in
    x86_64)
        board=(-M q35 -accel tcg,thread=multi -cpu "$cpu" -smp "$smp"
            -vga none
            -device intel-iommu,intremap=on,caching-mode=on,eim=on
            -kernel "$xen" -append "$xen_args"
            -initrd "$kernel ${dom0_args//,/,,},$initrd") ;;
    arm64)
        qemu=${XEN_VF_QEMU:-qemu-system-aarch64}
        xen_args="console=dtuart dom0_mem=$dom0_mem dom0_max_vcpus=1"
        xen_args+=" bootscrub=false $xextra"
        dom0_args="console=hvc0 earlycon=xen quiet panic=-1 $extra"
        board=(-M virt,virtualization=on,gic-version=2 -accel tcg
            -cpu "${XEN_VF_QEMU_CPU:-cortex-a57}" -smp "$smp"
            -kernel "$xen" -append "$xen_args"
            -device "guest-loader,addr=0x42000000,kernel=$kernel,bootargs=${dom0_args//,/,,}"
            -device "guest-loader,addr=0x50000000,initrd=$initrd") ;;
    *) echo "qemu-xen: unknown XEN_VF_ARCH $XEN_VF_ARCH" >&2; exit 2 ;;
esac
# shellcheck disable=SC2054
args=(
    "${board[@]}" -m "$mem"
    -nodefaults -display none -no-reboot
    -chardev "$chardev" -serial chardev:ser0
    -device pcie-root-port,id=rp0,chassis=1,slot=1,bus=pcie.0,addr=0x4
    -device nvme-subsys,id=subsys0,nqn=subsys0
    -device "$nvme"
    -device pcie-root-port,id=rp1,chassis=2,slot=2,bus=pcie.0,addr=0x5
    -netdev user,id=net0,restrict=on
    -device igb,bus=rp1,netdev=net0,id=igb0
)
for n in 1 2 3 4; do
    att=
    [ $n -eq 1 ] || att=,detached=on
    args+=(
        -drive "file=$workdir/ns$n.img,if=none,id=nvm$n,format=raw"
        -device "nvme-ns,drive=nvm$n,bus=nvme0,nsid=$n,shared=off$att"
    )
done

printf '%q ' "$qemu" "${args[@]}" >"$workdir/cmdline"
echo >>"$workdir/cmdline"

rc=0
timeout -k 10 "$tmo" "$qemu" "${args[@]}" </dev/null || rc=$?
exit $rc
