# shellcheck shell=bash
# Helpers for the scripts that run inside the emulated DomD (cases.sh,
# demo.sh). Everything is found through sysfs and nvme-cli, independently
# of xen-vfctl, so the assertions do not trust the code under test.

SYSPCI=/sys/bus/pci/devices
PFNAME=nvme0
PFDEV=/dev/$PFNAME
XVFCTL=${XVFCTL:-/usr/sbin/xen-vfctl}

# Plain jq output even on the serial console (a tty).
jq() {
    command jq -M "$@"
}

# Run a command and show it in the log first.
x() {
    echo "+ $*"
    "$@"
}

fail() {
    echo "FAIL: $*"
    step_detail "$*"
    return 1
}

pf_bdf() {
    local d
    d=$(readlink -f "/sys/class/nvme/$PFNAME/device" 2>/dev/null) || return 1
    [ -n "$d" ] && basename "$d"
}

# xvf STATE_DIR ARGS... - run xen-vfctl with a state dir; sets XVF_OUT,
# XVF_ERR, XVF_RC and echoes all three into the log.
xvf() {
    local st=$1
    shift
    echo "+ xen-vfctl --state-dir $st $*"
    XVF_RC=0
    "$XVFCTL" --state-dir "$st" "$@" >/tmp/xvf.out 2>/tmp/xvf.err ||
        XVF_RC=$?
    XVF_OUT=$(cat /tmp/xvf.out)
    XVF_ERR=$(cat /tmp/xvf.err)
    [ -z "$XVF_OUT" ] || sed 's/^/  stdout: /' /tmp/xvf.out
    [ -z "$XVF_ERR" ] || sed 's/^/  stderr: /' /tmp/xvf.err
    echo "  exit: $XVF_RC"
}

is_bdf() {
    [[ $1 =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]
}

# vf_driver BDF - name of the bound driver, or nothing.
vf_driver() {
    local l
    l=$(readlink "$SYSPCI/$1/driver" 2>/dev/null) || return 0
    basename "$l"
}

# vf_vfn PF VF - the VF number (virtfnN + 1) of VF under PF.
vf_vfn() {
    local l
    for l in "$SYSPCI/$1"/virtfn*; do
        [ -e "$l" ] || continue
        if [ "$(basename "$(readlink -f "$l")")" = "$2" ]; then
            l=${l##*virtfn}
            echo $((l + 1))
            return 0
        fi
    done
    return 1
}

# vf_ctrl VF - the nvme controller (nvmeN) the VF's driver created.
vf_ctrl() {
    local c
    for c in "$SYSPCI/$1"/nvme/nvme*; do
        [ -d "$c" ] && { basename "$c"; return 0; }
    done
    return 1
}

# vf_blockdev VF NSID [TIMEOUT] - /dev node of namespace NSID seen through
# the VF's controller. With native multipath (Debian's default) the
# controller holds a path node nvme<S>c<C>n<H> and the disk is the head
# nvme<S>n<H>; without it the controller holds nvme<C>n<H> itself.
vf_blockdev() {
    local vf=$1 nsid=$2 tmo=${3:-10} i c p head
    for ((i = 0; i < tmo * 10; i++)); do
        c=$(vf_ctrl "$vf") || { sleep 0.1; continue; }
        for p in "$SYSPCI/$vf/nvme/$c"/nvme*n*; do
            [ -d "$p" ] || continue
            p=$(basename "$p")
            if [[ $p =~ ^nvme([0-9]+)c[0-9]+n([0-9]+)$ ]]; then
                head=nvme${BASH_REMATCH[1]}n${BASH_REMATCH[2]}
            else
                head=$p
            fi
            if [ "$(cat "/sys/block/$head/nsid" 2>/dev/null)" = "$nsid" ] &&
                [ -b "/dev/$head" ]; then
                echo "/dev/$head"
                return 0
            fi
        done
        sleep 0.1
    done
    return 1
}

drop_caches() {
    sync
    echo 3 >/proc/sys/vm/drop_caches
}

# read_sig DEV - first line of the first sector.
read_sig() {
    drop_caches
    dd if="$1" bs=512 count=1 2>/dev/null | head -n 1 | tr -d '\0'
}

# io_check DEV TAG - write 256 KiB at 1 MiB (starting with a marker line
# the host looks for in the backing file after the run), drop caches,
# read back, compare.
io_check() {
    local dev=$1 tag=$2 a b
    {
        printf 'XVF-VF-WROTE %s\n' "$tag"
        head -c 262144 /dev/urandom
    } | head -c 262144 >/tmp/io.pat
    [ "$(wc -c </tmp/io.pat)" = 262144 ] || return 1
    x dd if=/tmp/io.pat of="$dev" bs=4096 seek=256 conv=fsync \
        2>&1 || return 1
    drop_caches
    x dd if="$dev" of=/tmp/io.back bs=4096 skip=256 count=64 2>&1 ||
        return 1
    a=$(md5sum </tmp/io.pat | cut -d' ' -f1)
    b=$(md5sum </tmp/io.back | cut -d' ' -f1)
    echo "written md5 $a, read back md5 $b"
    [ "$a" = "$b" ]
}

# secondary_json PF_CTRL - nvme-cli's secondary controller list (JSON).
secondary_json() {
    nvme list-secondary "/dev/$1" -o json
}

# scid_of_vfn VFN - the secondary controller of that VF number.
scid_of_vfn() {
    secondary_json "$PFNAME" | jq -r --argjson v "$1" \
        '."secondary-controllers"[] |
         select(."virtual-function-number" == $v) |
         ."secondary-controller-identifier"'
}

# ns_ctrls NSID - the controllers NSID is attached to, one line.
ns_ctrls() {
    nvme list-ctrl "$PFDEV" -n "$1" 2>&1 | sed -n 's/^\[ *[0-9]*\]://p' |
        tr '\n' ' '
}

# dev_snapshot STATE_DIR - what a refused request must leave unchanged.
dev_snapshot() {
    local pf n
    pf=$(pf_bdf)
    echo "numvfs $(cat "$SYSPCI/$pf/sriov_numvfs")"
    echo "autoprobe $(cat "$SYSPCI/$pf/sriov_drivers_autoprobe")"
    echo "vfs $(cd "$SYSPCI/$pf" && echo virtfn*)"
    secondary_json "$PFNAME" | jq -c '."secondary-controllers"[]'
    for n in 1 2 3 4; do
        echo "ns$n attached to: $(ns_ctrls "$n")"
    done
    echo "primary sees: $(nvme list-ns "$PFDEV" | tr -s ' \n' ' ')"
    for n in $(cd "$SYSPCI" && echo "${pf%%:??.?}":*); do
        echo "pci $n driver=$(vf_driver "$n") override=$(cat \
            "$SYSPCI/$n/driver_override" 2>/dev/null)"
    done
    if [ -n "${1:-}" ]; then
        echo "journal $("$XVFCTL" --state-dir "$1" status --json |
            jq -c .journal)"
    fi
}

# pf_healthy - the PF still answers Identify and its own namespace reads.
pf_healthy() {
    local c s
    c=$(nvme id-ctrl "$PFDEV" -o json | jq -r .cntlid) ||
        { fail "nvme id-ctrl $PFDEV failed"; return 1; }
    echo "PF $PFDEV answers Identify: cntlid $c"
    s=$(read_sig /dev/nvme0n1)
    echo "nvme0n1 sector 0: $s"
    [ "$s" = "XVF-SIG ns1" ] ||
        { fail "nvme0n1 reads '$s', not 'XVF-SIG ns1'"; return 1; }
}

# device_clean - nothing of a VF left: no VFs, every secondary offline with
# no resources, autoprobe 1, namespaces 2..4 attached to nobody.
device_clean() {
    local pf bad=0 n
    pf=$(pf_bdf)
    [ "$(cat "$SYSPCI/$pf/sriov_numvfs")" = 0 ] ||
        { echo "sriov_numvfs is not 0"; bad=1; }
    [ "$(cat "$SYSPCI/$pf/sriov_drivers_autoprobe")" = 1 ] ||
        { echo "sriov_drivers_autoprobe is not 1"; bad=1; }
    n=$(secondary_json "$PFNAME" | jq '[."secondary-controllers"[] |
        select(."secondary-controller-state" != 0 or
               ."num-virtual-queues" != 0 or
               ."num-virtual-interrupts" != 0)] | length')
    [ "$n" = 0 ] || { echo "$n secondaries online or holding VQ/VI"; bad=1; }
    for n in 2 3 4; do
        [ -z "$(ns_ctrls "$n")" ] ||
            { echo "ns$n still attached to $(ns_ctrls "$n")"; bad=1; }
    done
    return $bad
}

# device_reset - put the device back to its power-on state by hand
# (nvme-cli and sysfs only), after a case that left things behind.
device_reset() {
    local pf v s n
    pf=$(pf_bdf)
    for v in "$SYSPCI/$pf"/virtfn*; do
        [ -e "$v" ] || continue
        v=$(basename "$(readlink -f "$v")")
        [ -e "$SYSPCI/$v/driver" ] &&
            echo "$v" >"$SYSPCI/$v/driver/unbind"
        echo >"$SYSPCI/$v/driver_override" 2>/dev/null
    done
    for n in 2 3 4; do
        for s in $(ns_ctrls "$n"); do
            nvme detach-ns "$PFDEV" -n "$n" -c "$s"
        done
    done
    echo 0 >"$SYSPCI/$pf/sriov_numvfs"
    for s in $(secondary_json "$PFNAME" |
        jq -r '."secondary-controllers"[]."secondary-controller-identifier"'); do
        nvme virt-mgmt "$PFDEV" -c "$s" -a 7 >/dev/null 2>&1
    done
    echo 1 >"$SYSPCI/$pf/sriov_drivers_autoprobe"
}
