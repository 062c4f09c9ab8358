#!/bin/bash
# The domd tier's namespace layout cases (xen-vfctl nvme-layout), run by
# /init in a second boot of the emulated DomD, after cases.sh's boot.
#
# QEMU 10 advertises Namespace Management in OACS but answers it with
# Invalid Command Opcode (0x4001), so the namespaces are pre-provisioned
# (ns1 attached to the primary, ns2-4 detached, 64 MiB each) and these
# cases drive the attach / detach part of a layout, the 0x4001 path, and
# the refusal to touch the namespace this domain has mounted. Assertions
# go through nvme-cli and sysfs, not only through xen-vfctl's report.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/steps.sh
. "$here/lib/steps.sh"
# shellcheck source=tests/domd/guest/lib.sh
. "$here/lib.sh"

export STEPS_ECHO=1
export STEPS_TIMEOUT=${STEPS_TIMEOUT:-120}
steps_init domd-layout /tmp/steps-layout

S=/tmp/state-layout
mkdir -p "$S"
MNT=/mnt/ns1
GUIDE='ns1: 512MiB, attach=primary; ns2: 512MiB, attach=secondary:1'
ALL_ANY='ns1: any, attach=primary; ns3: keep; ns4: keep'

# on NSID - the controllers NSID is attached to, in decimal ("0 1 ")
on() {
    local c
    for c in $(ns_ctrls "$1"); do
        printf '%d ' "$c"
    done
}

# pf_disk NSID - /dev node of namespace NSID on the PF's controller, by
# its nsid attribute (the disk's number is the kernel's, not the NSID)
pf_disk() {
    local p head
    for p in /sys/class/nvme/"$PFNAME"/nvme*n*; do
        [ "$(cat "$p/nsid" 2>/dev/null)" = "$1" ] || continue
        p=$(basename "$p")
        if [[ $p =~ ^nvme([0-9]+)c[0-9]+n([0-9]+)$ ]]; then
            head=nvme${BASH_REMATCH[1]}n${BASH_REMATCH[2]}
        else
            head=$p
        fi
        [ -b "/dev/$head" ] && { echo "/dev/$head"; return 0; }
    done
    return 1
}

# layout ARGS... - xen-vfctl nvme-layout on nvme0 with the state dir
layout() {
    xvf "$S" nvme-layout "$PFNAME" "$@"
}

# unchanged BEFORE - the device and the primary's disks are as BEFORE
unchanged() {
    local after
    after=$(dev_snapshot "$S"; ls /sys/block)
    [ "$1" = "$after" ] && return 0
    diff <(echo "$1") <(echo "$after")
    fail "device state changed"
}

t_show() {
    local n
    layout
    [ "$XVF_RC" = 0 ] || { fail "exit $XVF_RC: $XVF_ERR"; return 1; }
    n=$(nvme list-ns "$PFDEV" -a | grep -c '^\[')
    [ "$n" = 4 ] || { fail "nvme list-ns -a: $n namespaces, want 4"; \
        return 1; }
    [[ $XVF_OUT == *"namespaces:     4"* ]] ||
        { fail "xen-vfctl does not show the 4 namespaces"; return 1; }
    [[ $XVF_OUT == *"not implemented"*"0x4001"* ]] ||
        { fail "no word on QEMU's Namespace Management"; return 1; }
    [[ $XVF_OUT == *"here: nvme0n1"* ]] ||
        { fail "ns1 not shown as nvme0n1 in this domain"; return 1; }
    step_detail "4 namespaces, ns1 = nvme0n1, NS management: not implemented"
}

# The closing note's dry run: the guide's layout on this controller.
t_guide_dry_run() {
    local before
    before=$(dev_snapshot "$S"; ls /sys/block)
    layout "$GUIDE"
    [ "$XVF_RC" = 3 ] || { fail "exit $XVF_RC, want 3 (in part)"; return 1; }
    [[ $XVF_OUT == *"attach namespace 2 to secondary controller 0x1"* ]] ||
        { fail "plan lacks the attach of ns2"; return 1; }
    [[ $XVF_OUT == *"dry run: nothing was changed"* ]] ||
        { fail "no dry-run line"; return 1; }
    unchanged "$before" || return 1
    step_detail "exit 3: attach part planned, resizing skipped, nothing changed"
}

# The same layout, saved as a dump and checked offline.
t_dump() {
    layout --save-dump /tmp/nvme0.dump
    [ "$XVF_RC" = 0 ] || { fail "save-dump exit $XVF_RC"; return 1; }
    head -n 1 /tmp/nvme0.dump | grep -q '^# xen-vfctl nvme-layout dump 1' ||
        { fail "not a dump"; return 1; }
    grep -q '^ns nsid=1 .*blockdev=nvme0n1' /tmp/nvme0.dump ||
        { fail "dump lacks ns1 as nvme0n1"; return 1; }
    echo "+ xen-vfctl nvme-layout --from-dump /tmp/nvme0.dump '$GUIDE'"
    local rc=0 out
    out=$("$XVFCTL" nvme-layout --from-dump /tmp/nvme0.dump "$GUIDE") ||
        rc=$?
    echo "$out"
    [ "$rc" = 3 ] || { fail "from-dump exit $rc, want 3"; return 1; }
    layout "$GUIDE"
    [ "$(sed -n '/^layout:/,/^plan:/p' <<<"$out")" = \
      "$(sed -n '/^layout:/,/^plan:/p' <<<"$XVF_OUT")" ] ||
        { fail "the plan from the dump differs"; return 1; }
    step_detail "dump saved; the same plan from it without the device"
}

t_attach() {
    local c d
    layout "ns1: any, attach=primary; ns2: any, attach=secondary:auto;
        ns3: any, attach=primary; ns4: keep" --apply
    [ "$XVF_RC" = 0 ] || { fail "exit $XVF_RC: $XVF_ERR"; return 1; }
    c=$(on 2)
    [ "$c" = "1 " ] || { fail "ns2 attached to '$c', want 1"; return 1; }
    c=$(on 3)
    [ "$c" = "0 " ] || { fail "ns3 attached to '$c', want 0"; return 1; }
    d=$(pf_disk 3) || { fail "no disk for ns3 after the rescan"; return 1; }
    [ "$(read_sig "$d")" = "XVF-SIG ns3" ] ||
        { fail "$d does not read XVF-SIG ns3"; return 1; }
    pf_healthy || return 1
    step_detail "ns2 -> secondary 0x1, ns3 -> primary ($d reads ns3)"
}

t_again() {
    local before
    before=$(dev_snapshot "$S"; ls /sys/block)
    layout "ns1: any, attach=primary; ns2: any, attach=secondary:auto;
        ns3: any, attach=primary; ns4: keep" --apply
    [ "$XVF_RC" = 0 ] || { fail "exit $XVF_RC: $XVF_ERR"; return 1; }
    [[ $XVF_OUT == *"nothing to do"* ]] || { fail "not idempotent"; \
        return 1; }
    unchanged "$before" || return 1
    step_detail "second run: nothing to do, nothing changed"
}

# A layout the engine can use: ns2 on the secondary the layout chose.
t_engine_uses_it() {
    local vf scid
    xvf "$S" -v prepare --local vf:nvme0/ns2,driver=nvme
    [ "$XVF_RC" = 0 ] || { fail "prepare exit $XVF_RC: $XVF_ERR"; return 1; }
    vf=$XVF_OUT
    scid=$(scid_of_vfn "$(vf_vfn "$(pf_bdf)" "$vf")")
    [ "$scid" = 1 ] || { fail "engine used secondary $scid, not 1"; \
        return 1; }
    [ "$(read_sig "$(vf_blockdev "$vf" 2 15)")" = "XVF-SIG ns2" ] ||
        { fail "the VF does not read ns2"; return 1; }
    # held by xen-vf now: the layout refuses to move it
    layout "$ALL_ANY; ns2: any, attach=none" --apply
    [ "$XVF_RC" = 1 ] || { fail "moving a held ns: exit $XVF_RC"; return 1; }
    [[ $XVF_ERR == *"held by xen-vf"* ]] || { fail "no 'held' reason"; \
        return 1; }
    xvf "$S" release --local vf:nvme0/ns2,driver=nvme
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    [ "$(on 2)" = "1 " ] ||
        { fail "release changed the layout's attachment"; return 1; }
    step_detail "prepare picked secondary 1 with ns2; held ns refused; release kept it"
}

t_detach() {
    layout "ns1: any, attach=primary; ns2: any, attach=none;
        ns3: any, attach=none; ns4: keep" --apply
    [ "$XVF_RC" = 0 ] || { fail "exit $XVF_RC: $XVF_ERR"; return 1; }
    [ -z "$(ns_ctrls 2)" ] || { fail "ns2 still on $(ns_ctrls 2)"; return 1; }
    [ -z "$(ns_ctrls 3)" ] || { fail "ns3 still on $(ns_ctrls 3)"; return 1; }
    ! pf_disk 3 || { fail "the kernel still shows ns3"; return 1; }
    device_clean || { fail "device not back to power-on state"; return 1; }
    step_detail "ns2, ns3 detached; device as at power-on"
}

# QEMU answers Namespace Management with 0x4001 (nvme-cli shows it); the
# layout run that tries it anyway (--trust-oacs) falls back to the
# attach part and says so.
t_0x4001() {
    local out c
    out=$(nvme create-ns "$PFDEV" -s 2048 -c 2048 -f 0 2>&1)
    echo "nvme create-ns: $out"
    [[ $out == *"0x4001"* ]] ||
        { fail "nvme-cli: QEMU did not answer 0x4001"; return 1; }
    layout "$ALL_ANY; ns2: any, attach=secondary:auto; ns5: 16MiB" \
        --trust-oacs --apply
    [ "$XVF_RC" = 3 ] || { fail "exit $XVF_RC, want 3: $XVF_ERR"; return 1; }
    [[ $XVF_OUT == *"Invalid Command Opcode although OACS advertises it"* ]] ||
        { fail "no message about the 0x4001 answer"; return 1; }
    [[ $XVF_OUT == *"done in part"* ]] || { fail "no 'done in part'"; \
        return 1; }
    c=$(on 2)
    [ "$c" = "1 " ] || { fail "attach part not done: ns2 on '$c'"; \
        return 1; }
    [ "$(nvme list-ns "$PFDEV" -a | grep -c '^\[')" = 4 ] ||
        { fail "namespace count changed"; return 1; }
    # the effects log makes the plain run skip it without trying
    layout "$ALL_ANY; ns2: any, attach=none; ns5: 16MiB" --apply
    [ "$XVF_RC" = 3 ] || { fail "exit $XVF_RC, want 3"; return 1; }
    [[ $XVF_OUT != *"Invalid Command Opcode although"* ]] ||
        { fail "tried Namespace Management despite the effects log"; \
          return 1; }
    [ -z "$(ns_ctrls 2)" ] || { fail "ns2 not detached"; return 1; }
    step_detail "0x4001 -> attach part only (exit 3); effects log: not even tried"
}

t_mount() {
    x modprobe crc32c_generic || { fail "modprobe crc32c_generic"; return 1; }
    x modprobe ext4 || { fail "modprobe ext4"; return 1; }
    x mke2fs -q -F /dev/nvme0n1 || { fail "mke2fs"; return 1; }
    mkdir -p "$MNT"
    x mount -t ext4 /dev/nvme0n1 "$MNT" || { fail "mount"; return 1; }
    echo "kept by the layout cases" >"$MNT/file"
    sync
    grep " $MNT " /proc/self/mountinfo ||
        { fail "not in mountinfo"; return 1; }
    step_detail "ext2 on nvme0n1, mounted on $MNT"
}

t_refuse_mounted() {
    local before
    before=$(dev_snapshot "$S"; ls /sys/block)
    # detaching the mounted namespace from this domain
    layout "ns1: any, attach=none; ns2: keep; ns3: keep; ns4: keep" --apply
    [ "$XVF_RC" = 1 ] || { fail "detach: exit $XVF_RC, want 1"; return 1; }
    [[ $XVF_ERR == *"mounted on $MNT"* ]] ||
        { fail "detach refusal does not name the mount"; return 1; }
    # deleting it, even with --destroy-ns (Namespace Management trusted
    # so that the plan deletes rather than skips)
    layout "ns1: 32MiB, attach=primary; ns2: keep; ns3: keep; ns4: keep" \
        --trust-oacs --destroy-ns 1 --apply
    [ "$XVF_RC" = 1 ] || { fail "delete: exit $XVF_RC, want 1"; return 1; }
    [[ $XVF_ERR == *"in use in this domain"*"does not override"* ]] ||
        { fail "delete refusal not about the use"; return 1; }
    unchanged "$before" || return 1
    grep -q " $MNT " /proc/self/mountinfo || { fail "no longer mounted"; \
        return 1; }
    [ "$(cat "$MNT/file")" = "kept by the layout cases" ] ||
        { fail "the file system lost its file"; return 1; }
    step_detail "detach and delete of mounted nvme0n1 refused, nothing changed"
}

t_unmounted() {
    x umount "$MNT" || { fail "umount"; return 1; }
    # no longer in use: detaching it is allowed, and attaching it back
    layout "ns1: any, attach=none; ns2: keep; ns3: keep; ns4: keep" --apply
    [ "$XVF_RC" = 0 ] || { fail "detach exit $XVF_RC: $XVF_ERR"; return 1; }
    [ -z "$(ns_ctrls 1)" ] || { fail "ns1 still attached"; return 1; }
    layout "ns1: any, attach=primary; ns2: keep; ns3: keep; ns4: keep" \
        --apply
    [ "$XVF_RC" = 0 ] || { fail "attach exit $XVF_RC: $XVF_ERR"; return 1; }
    [ "$(on 1)" = "0 " ] || { fail "ns1 not back"; return 1; }
    [ -b /dev/nvme0n1 ] || { fail "no /dev/nvme0n1"; return 1; }
    step_detail "after umount: detached and attached back"
}

step layout-show -- t_show
step --needs layout-show layout-guide-dry-run -- t_guide_dry_run
step --needs layout-show layout-dump -- t_dump
step --needs layout-show layout-attach -- t_attach
step --needs layout-attach layout-again -- t_again
step --needs layout-attach layout-engine -- t_engine_uses_it
step --needs layout-attach layout-detach -- t_detach
step --needs layout-show layout-0x4001 -- t_0x4001
step --needs layout-show layout-mount -- t_mount
step --needs layout-mount layout-refuse-mounted -- t_refuse_mounted
step --needs layout-mount layout-unmounted -- t_unmounted

steps_finish
