# shellcheck shell=bash
# Host side of the emulated DomD board, shared by tests/domd/run.sh and
# tests/domd/demo.sh. Source it with XVF_TOP set to the top of the tree.
#
#   board_kernel                 -> prints the kernel dir (cached)
#   board_initrd KDIR OUT [VFCTL] -> OUT = cached base + fresh overlay
#   board_boot INITRD KDIR WORKDIR SERIAL SCRIPT [-c]
#
# The initrd is two concatenated gzip'ed cpio archives. The base (kernel
# modules, busybox, bash, nvme-cli, jq, lspci, setpci and their
# libraries, /init)
# is cached under ${XEN_VF_CACHE:-/var/cache/xen-vf}/domd-base-<hash>;
# the overlay (xen-vfctl and its libraries, the guest scripts) is rebuilt
# on every run, which takes well under a second.
#
# XEN_VF_ARCH=arm64 (exported): the same board on QEMU's Arm "virt"
# machine (qemu-run.sh), Debian's arm64 kernel (fetch-kernel.sh), and
# images made from the arm64 guest root (scripts/arm64-sysroot.sh guest),
# cached apart from the x86 ones (the root is part of their inputs).

: "${XVF_TOP:?set XVF_TOP}"

# Loaded at boot: the NVMe driver and pci-stub (a VF driver= target), the
# igb PF and VF drivers for the NIC work. vfio-pci is only carried (it
# needs a vIOMMU to bind, see qemu-nvme-sriov.md).
BOARD_LOAD_MODULES="nvme pci-stub igb igbvf"
# ext4 (for ext2) and the crc32c it asks for let the layout cases mount a
# namespace.
BOARD_EXTRA_MODULES="vfio-pci ext4 crc32c_generic"
# iproute2's ip as /usr/sbin/ip (busybox's /bin/ip shows no VF lines).
BOARD_BINS="/bin/bash /usr/sbin/nvme /usr/bin/jq /usr/bin/lspci
    /usr/bin/setpci /bin/ip=/usr/sbin/ip"

board_kernel() {
    "$XVF_TOP/scripts/fetch-kernel.sh"
}

# board_target_root - the root the images' programs come from: "" (the
# host's) for x86_64, the arm64 guest root for arm64
board_target_root() {
    local entry
    case ${XEN_VF_ARCH:-x86_64} in
        arm64) entry=$("$XVF_TOP/scripts/arm64-sysroot.sh" guest) &&
               echo "$entry/root" ;;
        *) echo "" ;;
    esac
}

board_base() {
    local kdir=$1 m b args=()
    for m in $BOARD_LOAD_MODULES; do args+=(-l "$m"); done
    for m in $BOARD_EXTRA_MODULES; do args+=(-m "$m"); done
    for b in $BOARD_BINS; do args+=(-b "$b"); done
    [ ! -f /usr/share/misc/pci.ids ] ||
        args+=(-f /usr/share/misc/pci.ids=/usr/share/misc/pci.ids)
    "$XVF_TOP/scripts/mk-initramfs.sh" -k "$kdir" -B "${args[@]}" \
        -f "$XVF_TOP/tests/lib/guest-init.sh=/init" -c domd-base
}

# board_initrd KDIR OUT [XEN_VFCTL] - without XEN_VFCTL the image has no
# xen-vfctl and the cases that need it fail, the others still run.
board_initrd() {
    local kdir=$1 out=$2 vfctl=${3:-} base args=()
    XVF_TARGET_ROOT=$(board_target_root) || return 1
    export XVF_TARGET_ROOT
    base=$(board_base "$kdir") || return 1
    args=(
        -f "$XVF_TOP/tests/lib/steps.sh=/xvf/lib/steps.sh"
        -f "$XVF_TOP/tests/domd/guest=/xvf"
    )
    [ -z "$vfctl" ] || args+=(-b "$vfctl=/usr/sbin/xen-vfctl")
    "$XVF_TOP/scripts/mk-initramfs.sh" "${args[@]}" -o "$out.overlay" \
        >/dev/null || return 1
    cat "$base" "$out.overlay" >"$out"
    rm -f "$out.overlay"
    echo "base $base ($(du -h "$base" | cut -f1)), overlay rebuilt"
}

# board_boot INITRD KDIR WORKDIR SERIAL SCRIPT [-c] - boot and run SCRIPT
# (a path inside the guest), with $XVF_BOARD_APPEND added to the kernel
# command line. Returns QEMU's status (124: timeout).
board_boot() {
    local initrd=$1 kdir=$2 workdir=$3 serial=$4 script=$5
    shift 5
    "$XVF_TOP/tests/domd/qemu-run.sh" -k "$kdir/vmlinuz" -i "$initrd" \
        -d "$workdir" -s "$serial" -t "${XEN_VF_DOMD_TIMEOUT:-600}" \
        -a "xvf.run=$script${XVF_BOARD_APPEND:+ $XVF_BOARD_APPEND}" "$@"
}
