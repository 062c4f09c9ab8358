#!/bin/bash
# The Xen tier's job, run in dom0 (= DomD) as /xvf/run of the board's
# initramfs. Each step's result and log go to the console as XVF-STEP /
# XVF-LOG markers (tests/lib/steps.sh, STEPS_ECHO=1); the host imports
# them (steps_import_console) into its own job.
#
# Sections (xvf.jobs=a,b,... on dom0's command line; default
# vfd,neg,nic,drvdom):
#   base   host-boot, daemons-up (xenstored, xen-init-dom0, xenconsoled,
#          xl info, xenstore rw), pf-ready (nvme0 is the SR-IOV PF, ns1
#          reads back in DomD). Always runs.
#   local  no daemon: xen-vfctl prepare --local, xl create with the BDF,
#          the domU reads ns2, xl destroy, xen-vfctl release, leak check
#   vfd    xen-vfd runs; xl create with pci = [ "vf:nvme0/ns2" ]; the
#          domU sees the VF, reads ns2's signature, cannot write DomD's
#          request area; xl pci-detach and pci-attach by name; the domU
#          powers off; xen-vfd releases; leak check
#   neg    through xl create: malformed spec, unknown controller, ns1 (in
#          use by DomD); a guest that says drivers/xen-vf/status = ready
#          neither gets requests nor stops them, also while xen-vfd is
#          down (DomD identity); the same namespace for a second guest; a
#          request not created by Dom0; SIGKILL of xen-vfd in the middle of the
#          engine and during the add hook, each followed by a restart that
#          must converge; a site hook that refuses; xl destroy of one of
#          two guests; xl destroy releases; leak check; xl pci-detach
#          -f of a paused guest then xl destroy (no crash), leak check
#   nic    xen-vfd runs; the igb PF up, xl create with pci =
#          [ "vf:<igb netdev>,mac=..." ]: the domU sees the 82576 VF
#          (8086:10ca), ip link shows vf 0 with the MAC; xl destroy
#          releases it (numvfs 0, no journal, no xenstore request)
#   drvdom xen-vfd in a second domain (tests/xen/dom0-drvdom.sh): a PV
#          driver domain with the fake kernel boots and says ready; Dom0
#          names it (domd=) and runs xen-vf-reaper; xl create and xl
#          pci-attach with vf:nvme0/ns2 get its fake BDF, fail to assign
#          it and release it (leak check in the fake); pci-detach of
#          nothing asks nothing; xl killed while waiting, then xl destroy:
#          the reaper has the VF released, also when it starts only after
#          the domain went; xen-vfd stopped there: xl create refused at
#          once
# Steps of a section need the base steps and the steps before them in
# their section only, so one broken section does not block the others.
set -uo pipefail
export PATH=/xvf/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# shellcheck source=tests/lib/steps.sh
. /xvf/lib/steps.sh

# shellcheck source=tests/xen/dom0-lib.sh
. /xvf/lib/dom0-lib.sh
# The sections' own steps, one file each.
# shellcheck source=tests/xen/dom0-neg.sh
. /xvf/lib/dom0-neg.sh
# shellcheck source=tests/xen/dom0-lifecycle.sh
. /xvf/lib/dom0-lifecycle.sh
# shellcheck source=tests/xen/dom0-nic.sh
. /xvf/lib/dom0-nic.sh
# shellcheck source=tests/xen/dom0-drvdom.sh
. /xvf/lib/dom0-drvdom.sh

# --- base

t_daemons_up() {
    local v
    start_xen_daemons || return 1
    xl info | tee "$RUN/xl-info" | grep -E \
        '^(xen_version|virt_caps|total_memory|free_memory|xen_commandline)'
    grep -q '^virt_caps.*pv_directio' "$RUN/xl-info" ||
        { fail "xl info: no pv_directio (no IOMMU pass-through)"; return 1; }
    xl list
    grep -q '^Domain-0 ' <<<"$(xl list)" ||
        { fail "xl list: no Domain-0"; return 1; }
    xenstore-write /xvf-test/probe "hello-$$" || return 1
    v=$(xenstore-read /xvf-test/probe) || return 1
    [ "$v" = "hello-$$" ] || { fail "xenstore read back '$v'"; return 1; }
    xenstore-rm /xvf-test || return 1
    # To a file first: grep -q closing a pipe early fails it (pipefail).
    xl dmesg >"$RUN/xl-dmesg"
    grep -E 'I/O virtualisation|Interrupt remapping|VT-d' "$RUN/xl-dmesg"
    grep -q 'I/O virtualisation enabled' "$RUN/xl-dmesg" ||
        { fail "Xen: I/O virtualisation not enabled"; return 1; }
    step_detail "$(sed -n 's/^xen_version *: //p' "$RUN/xl-info"), xenstore rw ok"
}

# --- shared guest checks

# guest_sees_vf NAME
guest_sees_vf() {
    local glog line
    glog=$(guest_log "$1")
    wait_for "$GUEST_WAIT" "DOMU-PCI in $glog" grep -q 'DOMU-PCI ' "$glog" ||
        { cat "$glog" 2>/dev/null; fail "domU listed no PCI device"; return 1; }
    grep -a 'DOMU-' "$glog"
    line=$(domu_line "$1" 'DOMU-PCI ')
    case $line in
        *" 0x1b36:0x0010 "*) ;;
        *) fail "domU sees '$line', not the NVMe VF"; return 1 ;;
    esac
    step_detail "${line#*DOMU-PCI }"
}

# guest_data NAME
guest_data() {
    local glog line pci
    glog=$(guest_log "$1")
    wait_for "$GUEST_WAIT" "DOMU-DONE in $glog" grep -q 'DOMU-DONE' "$glog" ||
        { grep -a -E 'DOMU-|nvme' "$glog"; fail "domU did not finish"; return 1; }
    grep -a -E 'DOMU-|nvme' "$glog"
    line=$(domu_line "$1" 'DOMU-BLK ')
    case $line in
        *" sig=XVF-SIG ns2") ;;
        *) fail "domU read '${line:-nothing}', not 'XVF-SIG ns2'"; return 1 ;;
    esac
    # ... through the controller of the VF it was given.
    pci=$(domu_line "$1" 'DOMU-PCI ' | awk '{ print $2 }')
    case $line in
        *" pci=$pci "*) ;;
        *) fail "namespace not on the VF $pci: '$line'"; return 1 ;;
    esac
    step_detail "${line#*DOMU-BLK }"
}

# --- local: no daemon, stock flow with a BDF

t_local_prepare() {
    local vf drv rm
    vf=$(xen-vfctl -v prepare --local vf:nvme0/ns2 2>"$RUN/local-prepare.err") ||
        { fail "xen-vfctl prepare vf:nvme0/ns2 failed: $(cat "$RUN/local-prepare.err")"; return 1; }
    cat "$RUN/local-prepare.err"
    log "prepared vf:nvme0/ns2 -> $vf"
    echo "$vf" >"$RUN/local-vf"
    drv=$(readlink "/sys/bus/pci/devices/$vf/driver") ||
        { fail "VF $vf has no driver"; return 1; }
    [ "${drv##*/}" = pciback ] ||
        { fail "VF $vf bound to ${drv##*/}, not pciback"; return 1; }
    grep -q "${vf#0000:}" <<<"$(xl pci-assignable-list)" ||
        { fail "$vf not in xl pci-assignable-list"; return 1; }
    # pciback took it without its reset (libxl resets it at assignment),
    # and the VF has its reset methods back for that
    grep -q "without pciback's reset" "$RUN/local-prepare.err" ||
        { fail "pciback's bind was not told to skip its reset"; return 1; }
    rm=$(cat "/sys/bus/pci/devices/$vf/reset_method")
    [ -n "$rm" ] || { fail "VF $vf left without reset methods"; return 1; }
    step_detail "vf:nvme0/ns2 -> $vf (pciback, bound without its reset; reset_method $rm)"
}

t_local_create() {
    local vf
    vf=$(cat "$RUN/local-vf")
    write_cfg local1 "\"$vf\"" "xvf.hold=1"
    cat "$RUN/local1.cfg"
    xl create "$RUN/local1.cfg" || { fail "xl create failed"; return 1; }
    xl list local1 || { fail "local1 not listed"; return 1; }
    step_detail "local1 created with pci $vf"
}

t_local_destroy() {
    xl destroy local1 || { fail "xl destroy failed"; return 1; }
    wait_for 30 "local1 to go" sh -c '! xl list local1' ||
        { fail "local1 still listed"; return 1; }
    step_detail "local1 destroyed"
}

t_local_release() {
    local vf
    vf=$(cat "$RUN/local-vf")
    xen-vfctl -v release --local "$vf" 2>"$RUN/local-release.err" ||
        { fail "xen-vfctl release $vf failed: $(cat "$RUN/local-release.err")"; return 1; }
    cat "$RUN/local-release.err"
    # pciback let it go without its reset, and the methods are back
    if [ -e "/sys/bus/pci/devices/$vf/reset_method" ] &&
        [ -z "$(cat "/sys/bus/pci/devices/$vf/reset_method")" ]; then
        fail "VF $vf left without reset methods"
        return 1
    fi
    step_detail "released $vf"
}

# --- vfd: the daemon and xl create with a vf: name

t_vfd_create() {
    local id st bdf drv
    write_cfg domu2 '"vf:nvme0/ns2"' "xvf.xs_attack=1 xvf.wait_poweroff=1"
    cat "$RUN/domu2.cfg"
    xl create "$RUN/domu2.cfg" 2>&1 | tee "$RUN/domu2.create"
    [ "${PIPESTATUS[0]}" = 0 ] || { fail "xl create failed"; return 1; }
    id=$(xl domid domu2) || { fail "domu2 not listed"; return 1; }
    echo "$id" >"$RUN/domu2.id"
    xenstore-ls -f "$XS_AREA"
    st=$(xenstore-read "$XS_AREA/$id/0/state")
    bdf=$(xenstore-read "$XS_AREA/$id/0/bdf")
    log "request $id/0: state=$st bdf=$bdf"
    [ "$st" = ready ] || { fail "request state '$st'"; return 1; }
    echo "$bdf" >"$RUN/domu2.vf"
    journal_of "domain:$id" ||
        { fail "no journal entry owned by domain:$id"; return 1; }
    drv=$(readlink "/sys/bus/pci/devices/$bdf/driver")
    [ "${drv##*/}" = pciback ] ||
        { fail "VF $bdf bound to '${drv##*/}'"; return 1; }
    xl pci-list domu2 | tee "$RUN/domu2.pci"
    grep -q "${bdf#0000:}" "$RUN/domu2.pci" ||
        { fail "xl pci-list domu2 has no $bdf"; return 1; }
    grep xen-vfd /var/log/messages | tail -n 20
    step_detail "domu2 (domain $id) got vf:nvme0/ns2 = $bdf"
}

t_vfd_hooks() {
    local id bdf
    id=$(cat "$RUN/domu2.id")
    bdf=$(cat "$RUN/domu2.vf")
    cat /run/xvf-hook/log
    hook_has "^add vf:nvme0/ns2 $bdf $id 2\$" ||
        { fail "xen-vf add did not run the site hook for domain $id"; return 1; }
    [ "$(xenstore-read "$XS_AREA/$id/0/hotplug-status")" = connected ] ||
        { fail "no hotplug-status connected under the request"; return 1; }
    step_detail "xen-vf add ran the nvme add hook: VF $bdf, domain $id, ns 2"
}

t_vfd_domd_ns1() {
    local sig
    sig=$(read_sig "/dev/${PF_NAME}n1")
    [ "$sig" = "XVF-SIG ns1" ] ||
        { fail "ns1 reads '$sig' while the VF is in use"; return 1; }
    nvme id-ctrl "/dev/$PF_NAME" >"$RUN/id-ctrl" ||
        { fail "Identify on the PF failed"; return 1; }
    head -n 3 "$RUN/id-ctrl"
    step_detail "ns1 '$sig' in DomD while domu2 holds ns2"
}

t_vfd_xs_refused() {
    local glog bad=0 line
    glog=$(guest_log domu2)
    grep -a 'DOMU-XS' "$glog" | tr -d '\r' | tee "$RUN/domu2.xs"
    [ -s "$RUN/domu2.xs" ] || { fail "domU printed no DOMU-XS lines"; return 1; }
    grep -q 'DOMU-XS domid=[0-9]' "$RUN/domu2.xs" ||
        { fail "domU could not use xenstore at all"; return 1; }
    while read -r line; do
        case $line in
            *" write "*" rc=0"*|*" read "*" rc=0"*)
                log "NOT refused: $line"
                bad=1 ;;
        esac
    done <"$RUN/domu2.xs"
    [ $bad -eq 0 ] || { fail "the domU reached DomD's request area"; return 1; }
    step_detail "3 writes and 1 read by the domU refused"
}

# xl pci-detach by the vf: name from the running guest: libxl finds the
# BDF through the name it recorded, pcifront gives the device up, libxl
# de-assigns it and asks DomD to release it.
t_vfd_detach() {
    local id
    id=$(cat "$RUN/domu2.id")
    xl pci-detach domu2 vf:nvme0/ns2 2>&1 | tee "$RUN/detach.out"
    [ "${PIPESTATUS[0]}" = 0 ] || { fail "xl pci-detach failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id's VF" released_for "$id" ||
        { fail "VF not released after pci-detach"; return 1; }
    xl pci-list domu2 | tee "$RUN/domu2.pci"
    [ "$(grep -c . "$RUN/domu2.pci")" -le 1 ] ||
        { fail "domu2 still lists a PCI device"; return 1; }
    step_detail "pci-detach domu2 vf:nvme0/ns2: VF released, request gone"
}

# xl pci-attach by name to the running guest.
t_vfd_attach() {
    local id bdf
    id=$(cat "$RUN/domu2.id")
    xl pci-attach domu2 vf:nvme0/ns2 2>&1 | tee "$RUN/attach.out"
    [ "${PIPESTATUS[0]}" = 0 ] || { fail "xl pci-attach failed"; return 1; }
    xenstore-ls -f "$XS_AREA"
    bdf=$(xenstore-read "$XS_AREA/$id/0/bdf") ||
        { fail "no answered request for domain $id"; return 1; }
    xl pci-list domu2 | tee "$RUN/domu2.pci"
    grep -q "${bdf#0000:}" "$RUN/domu2.pci" ||
        { fail "domu2 does not list $bdf"; return 1; }
    journal_of "domain:$id" || { fail "no journal entry"; return 1; }
    step_detail "pci-attach domu2 vf:nvme0/ns2 -> $bdf"
}

t_vfd_poweroff() {
    local id
    id=$(cat "$RUN/domu2.id")
    # The domU powers itself off once told to.
    xenstore-write "/local/domain/$id/data/xvf-poweroff" 1 ||
        { fail "cannot tell domu2 to power off"; return 1; }
    wait_for 60 "domu2 to power off" sh -c '! xl list domu2' ||
        { fail "domu2 still running"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" released_for "$id" ||
        { fail "VF of domain $id not released"; return 1; }
    grep xen-vfd /var/log/messages | tail -n 20
    hook_has "^remove vf:nvme0/ns2 [0-9a-f:.]+ $id 2\$" ||
        { fail "xen-vf remove did not run the hook for domain $id"; return 1; }
    step_detail "domu2 powered off; xen-vfd released its VF (remove hook ran)"
}

has_job() {
    case ",$JOBS," in *",$1,"*) return 0 ;; esac
    return 1
}

gw=$((GUEST_WAIT + 30))
base_steps xen

if has_job local; then
    step --needs $base local-prepare -- t_local_prepare
    step --needs $base,local-prepare --timeout 60 local-create -- t_local_create
    step --needs local-create --timeout $gw local-guest-sees-vf -- \
        guest_sees_vf local1
    step --needs local-guest-sees-vf --timeout $gw local-guest-data -- \
        guest_data local1
    step --needs local-create --timeout 60 local-destroy -- t_local_destroy
    step --needs local-destroy local-release -- t_local_release
    step --needs local-release local-leak-check -- leak_check "local release"
fi

if has_job vfd; then
    step --needs $base vfd-start -- t_vfd_start
    step --needs vfd-start --timeout 90 vfd-create -- t_vfd_create
    step --needs vfd-create vfd-hook-add -- t_vfd_hooks
    step --needs vfd-create --timeout $gw vfd-guest-sees-vf -- \
        guest_sees_vf domu2
    step --needs vfd-create vfd-domd-ns1 -- t_vfd_domd_ns1
    step --needs vfd-guest-sees-vf --timeout $gw vfd-guest-data -- \
        guest_data domu2
    step --needs vfd-guest-data vfd-guest-xs-refused -- t_vfd_xs_refused
    step --needs vfd-guest-data --timeout 90 vfd-detach -- t_vfd_detach
    step --needs vfd-detach --timeout 90 vfd-attach -- t_vfd_attach
    step --needs vfd-create --timeout 150 vfd-poweroff-release -- \
        t_vfd_poweroff
    step --needs vfd-poweroff-release vfd-leak-check -- \
        leak_check "domU poweroff"
fi

if has_job neg; then
    if [ "$(step_status vfd-start)" = "" ]; then
        step --needs $base vfd-start -- t_vfd_start
    fi
    n=vfd-start
    step --needs $n --timeout 60 neg-malformed -- t_neg_malformed
    step --needs $n --timeout 60 neg-unknown-ctrl -- t_neg_unknown
    step --needs $n --timeout 60 neg-ns1 -- t_neg_ns1
    # DomD identity
    step --needs $n --timeout 150 neg-domd-claim -- t_neg_domd_claim
    step --needs neg-domd-claim --timeout 120 neg-domd-down -- \
        t_neg_domd_down
    step --needs $n --timeout 60 neg-hold -- t_neg_hold
    step --needs neg-hold --timeout 60 neg-same-ns -- t_neg_same_ns
    step --needs neg-hold --timeout 60 neg-foreign-request -- t_neg_foreign
    step --needs neg-hold --timeout 120 neg-kill-engine -- t_neg_kill_engine
    step --needs neg-kill-engine --timeout 90 neg-destroy-one -- \
        t_neg_destroy_one
    step --needs neg-destroy-one --timeout 150 neg-kill-hook -- \
        t_neg_kill_hook
    step --needs neg-kill-hook --timeout 60 neg-hook-refuse -- \
        t_neg_hook_refuse
    step --needs neg-hold --timeout 90 neg-destroy-release -- t_neg_destroy
    step --needs neg-destroy-release neg-leak-check -- \
        leak_check "xl destroy"
    # detach/destroy regressions
    step --needs neg-destroy-release --timeout 150 neg-detach-paused -- \
        t_neg_detach_paused
    step --needs neg-detach-paused neg-detach-leak-check -- \
        leak_check "pci-detach -f and xl destroy of a paused guest"
    step --needs neg-detach-leak-check --timeout 120 early-request -- \
        t_early_request
    step --needs neg-detach-leak-check --timeout 120 early-drop -- \
        t_early_drop
    step --needs neg-detach-leak-check --timeout 150 early-xl-killed -- \
        t_early_xl_killed
    step --needs early-request,early-drop,early-xl-killed early-leak-check -- \
        leak_check "early requests"
    step --needs early-leak-check --timeout 150 keep-vfs -- t_keep_vfs
    step --needs keep-vfs keep-vfs-leak-check -- \
        leak_check "xen-vfd --keep-vfs, then a restart without"
fi

if has_job nic; then
    if [ "$(step_status vfd-start)" = "" ]; then
        step --needs $base vfd-start -- t_vfd_start
    fi
    step --needs vfd-start --timeout 90 nic-create -- t_nic_create
    step --needs nic-create --timeout $gw nic-guest-sees-vf -- t_nic_guest
    step --needs nic-create --timeout 90 nic-destroy-release -- t_nic_destroy
    # Request identity
    step --needs vfd-start --timeout 90 id-create -- t_id_create
    step --needs id-create --timeout 120 id-second-attach -- \
        t_id_second_attach
    step --needs id-create --timeout 90 id-destroy -- t_id_destroy
    step --needs id-destroy id-leak-check -- leak_check "request identity"
    step --needs nic-destroy-release --timeout 150 id-nic-pool -- \
        t_id_nic_pool
    step --needs id-nic-pool --timeout 150 id-nic-destroy-one -- \
        t_id_nic_destroy_one
fi

if has_job drvdom; then
    step --needs $base --timeout 180 drvdom-boot -- t_dd_boot
    step --needs drvdom-boot --timeout 60 drvdom-config -- t_dd_config
    step --needs drvdom-config --timeout 150 drvdom-create -- t_dd_create
    step --needs drvdom-config --timeout 150 drvdom-attach -- t_dd_attach
    step --needs drvdom-attach --timeout 90 drvdom-detach -- t_dd_detach
    step --needs drvdom-detach --timeout 180 drvdom-xl-killed -- \
        t_dd_xl_killed
    step --needs drvdom-xl-killed --timeout 180 drvdom-reaper-down -- \
        t_dd_reaper_down
    step --needs drvdom-config --timeout 90 drvdom-down -- t_dd_down
    # Dom0 as the other sections expect it; not a step (asserts nothing).
    t_dd_teardown
fi

step --needs pf-ready pf-still-works -- t_pf_still_works
step --always collect -- t_collect

steps_finish
