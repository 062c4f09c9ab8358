#!/bin/bash
# The xen-arm64 tier's job, run in dom0 (= DomD) of Xen 4.17 on Arm64 as
# /xvf/run of the board's initramfs (tests/xen-arm64/run.sh). Steps and
# their logs go to the console as XVF-STEP / XVF-LOG markers
# (tests/lib/steps.sh, STEPS_ECHO=1); the host imports them.
#
# Steps:
#   host-boot, pf-ready, vfctl-status, vfd-start, pf-still-works, collect
#                 as in the xen tier (tests/xen/dom0-lib.sh)
#   daemons-up    xenstored, xen-init-dom0, xenconsoled; xl info says
#                 Xen on aarch64 without directio (no IOMMU driven by
#                 Xen); xenstore read/write; xl is the patched one (its
#                 libxenlight writes backend/pci-name requests, its
#                 libxlutil parses served names) and xl.conf says that
#                 Dom0 serves "vf:" names (pci.name_backends)
#   create-refused  xl create with pci = [ "vf:nvme0/ns2" ] fails with
#                 upstream Arm's "passthrough not supported on this
#                 platform": libxl__domain_config_setdefault refuses before
#                 libxl__domain_make, so before the early request of
#                 patch 0006: no request appears under DomD's area (a
#                 xenstore watch sees none), no domain is left, DomD does
#                 not change
#   attach-failed xl pci-attach of vf:nvme0/ns2 to a paused guest without
#                 PCI devices: libxl asks Dom0, xen-vfd prepares
#                 the VF (the request is answered "ready" with its BDF,
#                 the add hook ran with the VF bound to pciback), Xen
#                 cannot assign it (xc_assign_device: EOPNOTSUPP, no
#                 IOMMU), pci-attach fails, and the failed-add path hands
#                 the VF back: xen-vfd releases it (logged, the remove hook
#                 ran, no journal entry, no request), the guest lists no
#                 device and is destroyed
#   attach-leak-check  nothing left (tests/xen/dom0-lib.sh leak_check)
#   domu-runs     a guest without PCI devices (PVH, Debian's arm64 kernel,
#                 tests/xen/domu-test.sh with xvf.blk=0) boots: its
#                 console shows DOMU-UP and DOMU-DONE pci=0; it powers off
#                 and is gone
#   final-leak-check  nothing left at the end
set -uo pipefail
export PATH=/xvf/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# shellcheck source=tests/lib/steps.sh
. /xvf/lib/steps.sh
# shellcheck source=tests/xen/dom0-lib.sh
. /xvf/lib/dom0-lib.sh

DOMU_TYPE=pvh
DOMU_KERNEL=/xvf/domu/Image.gz

t_daemons_up() {
    local v lib
    start_xen_daemons || return 1
    xl info | tee "$RUN/xl-info" | grep -E \
        '^(xen_version|xen_caps|virt_caps|total_memory|free_memory)'
    grep -q '^xen_caps.*aarch64' "$RUN/xl-info" ||
        { fail "xl info: not Xen on aarch64"; return 1; }
    if grep -q '^virt_caps.*directio' "$RUN/xl-info"; then
        fail "xl info: directio (an IOMMU); this board has none"
        return 1
    fi
    grep -q '^Domain-0 ' <<<"$(xl list)" ||
        { fail "xl list: no Domain-0"; return 1; }
    xenstore-write /xvf-test/probe "hello-$$" || return 1
    v=$(xenstore-read /xvf-test/probe) || return 1
    [ "$v" = "hello-$$" ] || { fail "xenstore read back '$v'"; return 1; }
    xenstore-rm /xvf-test || return 1
    for lib in /lib/aarch64-linux-gnu/libxenlight.so.4.17 \
        /usr/lib/aarch64-linux-gnu/libxenlight.so.4.17; do
        [ -e "$lib" ] || continue
        grep -q /backend/pci-name "$lib" ||
            { fail "$lib is not the patched libxenlight"; return 1; }
        grep -q xlu_pci_parse_spec_string_backends \
            "${lib%/*}/libxlutil.so.4.17" ||
            { fail "${lib%/*}/libxlutil.so.4.17 is not the patched one"
              return 1; }
    done
    grep -q '^pci.name_backends = \[ "vf=0" \]' /etc/xen/xl.conf ||
        { cat /etc/xen/xl.conf; fail "xl.conf: Dom0 does not serve vf:"
          return 1; }
    step_detail "$(sed -n 's/^xen_version *: //p' "$RUN/xl-info")," \
        "no directio, xenstore rw ok, patched libxenlight and libxlutil," \
        "xl.conf: vf=0"
}

# watch_area NAME: record every xenstore event under DomD's request area
# in $RUN/NAME.watch until unwatch NAME.
watch_area() {
    xenstore-watch "$XS_AREA" >"$RUN/$1.watch" 2>&1 &
    echo $! >"$RUN/$1.watch-pid"
    # The watch fires once when it is set: it is in place then.
    wait_for 10 "the watch on $XS_AREA" test -s "$RUN/$1.watch"
}

unwatch() {
    kill "$(cat "$RUN/$1.watch-pid")" 2>/dev/null
    wait "$(cat "$RUN/$1.watch-pid")" 2>/dev/null
    cat "$RUN/$1.watch"
}

t_create_refused() {
    watch_area create || return 1
    xl_refused armpci '"vf:nvme0/ns2"' \
        'passthrough not supported on this platform' || { unwatch create; return 1; }
    unwatch create
    if grep -q "^$XS_AREA/" "$RUN/create.watch"; then
        fail "a request appeared under $XS_AREA"
        return 1
    fi
    step_detail "refused before libxl__domain_make, so before the early" \
        "request: Dom0 not asked, no domain, DomD unchanged"
}

t_attach_failed() {
    local id bdf drv n
    write_cfg armp '' "" 128
    xl create -p "$RUN/armp.cfg" || { fail "xl create -p armp failed"; return 1; }
    id=$(xl domid armp) || { fail "armp not listed"; return 1; }
    echo "$id" >"$RUN/armp.id"
    watch_area attach || return 1
    if xl pci-attach armp vf:nvme0/ns2 >"$RUN/attach.out" 2>&1; then
        cat "$RUN/attach.out"
        unwatch attach
        fail "xl pci-attach succeeded on a board without an IOMMU"
        return 1
    fi
    cat "$RUN/attach.out"
    unwatch attach
    grep -q -E 'xc_assign_device|no IOMMU|not assignable|pci_add failed' \
        "$RUN/attach.out" || { fail "no assignment error from libxl"; return 1; }
    # The request was answered: state ready with the VF's BDF.
    grep -q "^$XS_AREA/$id/0/state" "$RUN/attach.watch" ||
        { fail "no request of domain $id seen"; return 1; }
    cat /run/xvf-hook/log /run/xvf-hook/drivers 2>/dev/null
    bdf=$(awk -v d="$id" '$1 == "add" && $2 == "vf:nvme0/ns2" && $4 == d \
        { print $3; exit }' /run/xvf-hook/log 2>/dev/null)
    [ -n "$bdf" ] || { fail "xen-vfd never ran the add hook for domain $id"; return 1; }
    drv=$(awk -v v="$bdf" '$1 == "add" && $2 == v { print $3; exit }' \
        /run/xvf-hook/drivers)
    [ "$drv" = pciback ] ||
        { fail "VF $bdf was bound to '$drv' when prepared, not pciback"; return 1; }
    grep xen-vfd /var/log/messages | tail -n 20
    grep -q "xen-vfd.*ready for domain $id: VF $bdf" /var/log/messages ||
        { fail "xen-vfd did not answer ready with $bdf"; return 1; }
    wait_for 60 "xen-vfd to release domain $id's VF" released_for "$id" ||
        { fail "VF not released after the failed pci-attach"; return 1; }
    grep -q "xen-vfd.*release $bdf (vf:nvme0/ns2) of domain $id" \
        /var/log/messages || { fail "xen-vfd logged no release"; return 1; }
    hook_has "^remove vf:nvme0/ns2 $bdf $id 2\$" ||
        { fail "the remove hook did not run for $bdf"; return 1; }
    n=$(xl pci-list armp | grep -c "${bdf#0000:}")
    [ "$n" = 0 ] || { fail "armp lists $bdf"; return 1; }
    xl destroy armp || { fail "xl destroy armp failed"; return 1; }
    wait_for 30 "armp to go" sh -c '! xl list armp' ||
        { fail "armp still listed"; return 1; }
    step_detail "domain $id: xen-vfd prepared $bdf (pciback), assignment" \
        "failed ($(grep -m1 -o -E 'xc_assign_device failed|no IOMMU|not assignable' \
        "$RUN/attach.out")), the failed add released it"
}

t_domu_runs() {
    local glog
    write_cfg armu '' "xvf.blk=0 xvf.wait=0" 128
    cat "$RUN/armu.cfg"
    xl create "$RUN/armu.cfg" || { fail "xl create armu failed"; return 1; }
    glog=$(guest_log armu)
    wait_for "$GUEST_WAIT" "DOMU-DONE in $glog" grep -q 'DOMU-DONE' "$glog" ||
        { cat "$glog"; fail "the guest did not finish"; return 1; }
    grep -a 'DOMU-' "$glog" | tr -d '\r'
    grep -q 'DOMU-DONE pci=0' "$glog" ||
        { fail "the guest lists PCI devices"; return 1; }
    wait_for 60 "armu to power off" sh -c '! xl list armu' ||
        { fail "armu still running"; return 1; }
    step_detail "$(domu_line armu 'DOMU-UP' | cut -d' ' -f1-3), powered off"
}

gw=$((GUEST_WAIT + 30))
base_steps xen-arm64
step --needs $base vfd-start -- t_vfd_start
step --needs vfd-start --timeout 120 create-refused -- t_create_refused
step --needs vfd-start --timeout 240 attach-failed -- t_attach_failed
step --needs attach-failed attach-leak-check -- \
    leak_check "a failed pci-attach"
step --needs daemons-up --timeout $gw domu-runs -- t_domu_runs
step --needs vfd-start final-leak-check -- leak_check "the Arm run"
step --needs pf-ready pf-still-works -- t_pf_still_works
step --always collect -- t_collect

steps_finish
