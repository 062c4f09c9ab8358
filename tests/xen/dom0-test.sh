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
    local vf drv
    vf=$(xen-vfctl -v prepare --local vf:nvme0/ns2) ||
        { fail "xen-vfctl prepare vf:nvme0/ns2 failed"; return 1; }
    log "prepared vf:nvme0/ns2 -> $vf"
    echo "$vf" >"$RUN/local-vf"
    drv=$(readlink "/sys/bus/pci/devices/$vf/driver") ||
        { fail "VF $vf has no driver"; return 1; }
    [ "${drv##*/}" = pciback ] ||
        { fail "VF $vf bound to ${drv##*/}, not pciback"; return 1; }
    grep -q "${vf#0000:}" <<<"$(xl pci-assignable-list)" ||
        { fail "$vf not in xl pci-assignable-list"; return 1; }
    step_detail "vf:nvme0/ns2 -> $vf (pciback)"
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
    xen-vfctl -v release --local "$vf" ||
        { fail "xen-vfctl release $vf failed"; return 1; }
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

# --- neg: refusals through xl create, foreign requests, SIGKILL

t_neg_malformed() {
    xl_refused bad1 '"vf:nvme0/nsX"' 'nsX|namespace|spec'
}

t_neg_unknown() {
    xl_refused bad2 '"vf:nvme7/ns2"' 'nvme7'
}

t_neg_ns1() {
    xl_refused bad3 '"vf:nvme0/ns1"' 'namespace 1|primary'
}

t_neg_hold() {
    local id
    write_cfg p1 '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/p1.cfg" || { fail "xl create -p p1 failed"; return 1; }
    id=$(xl domid p1) || return 1
    echo "$id" >"$RUN/p1.id"
    journal_of "domain:$id" || { fail "no journal entry of domain:$id"; return 1; }
    step_detail "paused p1 (domain $id) holds vf:nvme0/ns2"
}

t_neg_same_ns() {
    xl_refused bad4 '"vf:nvme0/ns2"' 'ns2|namespace 2|in use|held|prepared'
}

# A request Dom0 did not create is ignored: it stays "requested" and the
# device does not change. Its directory is given to the guest before any
# child exists, so no event ever shows a whole request owned by Dom0
# (children inherit the owner). A malformed request written after it by
# Dom0 is the barrier: once that one is answered, xen-vfd has seen both.
t_neg_foreign() {
    local id foreign barrier st
    id=$(cat "$RUN/p1.id")
    domd_snapshot >"$RUN/foreign.before"
    foreign=$XS_AREA/$id/7
    barrier=$XS_AREA/$id/8
    xenstore-write "$foreign" "" || return 1
    xenstore-chmod "$foreign" "n$id" || return 1
    xenstore-write "$foreign/name" vf:nvme0/ns3 "$foreign/op" prepare \
        "$foreign/state" requested "$foreign/bdf" "" "$foreign/error" "" ||
        return 1
    xenstore-ls -p "$foreign"
    xenstore-write "$barrier/name" 'vf:nvme0/nsX' "$barrier/op" prepare \
        "$barrier/state" requested "$barrier/bdf" "" "$barrier/error" "" ||
        return 1
    wait_for 30 "the barrier request's answer" sh -c \
        "[ \"\$(xenstore-read $barrier/state)\" = error ]" ||
        { fail "xen-vfd did not answer Dom0's request"; return 1; }
    log "barrier answered: $(xenstore-read "$barrier/error")"
    st=$(xenstore-read "$foreign/state")
    log "foreign request state: $st"
    grep xen-vfd /var/log/messages | tail -n 5
    domd_snapshot >"$RUN/foreign.after"
    xenstore-rm "$foreign"
    xenstore-rm "$barrier"
    [ "$st" = requested ] || { fail "foreign request answered: $st"; return 1; }
    diff "$RUN/foreign.before" "$RUN/foreign.after" ||
        { fail "DomD changed for a foreign request"; return 1; }
    grep -q 'ignored: request created by domain' /var/log/messages ||
        { fail "xen-vfd did not log the foreign request"; return 1; }
    step_detail "request owned by domain $id ignored; Dom0's answered"
}

# --- neg, DomD identity: a guest cannot make itself the driver domain
# (issue #15). libxl gives every guest a writable /local/domain/ID/drivers,
# so a guest can say drivers/xen-vf/status = ready; dom0 writes that for
# the guest and gives the node to it (owner = the guest, as if the guest
# had written it). xl.conf's pci.name_backends says "vf=0": Dom0 serves.

# An xl create with a vf: name still works while a guest claims to be
# DomD, and its request goes to Dom0 only.
t_neg_domd_claim() {
    local g id st rc=0
    write_cfg claim "" "" 96
    xl create -p "$RUN/claim.cfg" ||
        { fail "xl create -p claim failed"; return 1; }
    g=$(xl domid claim) || { fail "claim not listed"; return 1; }
    echo "$g" >"$RUN/claim.id"
    for st in drivers/xen-vf/status drivers/pci-name/status; do
        xenstore-write "/local/domain/$g/$st" ready || return 1
        xenstore-chmod "/local/domain/$g/$st" "n$g" || return 1
    done
    xenstore-ls -p "/local/domain/$g/drivers"
    write_cfg dc1 '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/dc1.cfg" >"$RUN/dc1.out" 2>&1 || rc=$?
    cat "$RUN/dc1.out"
    [ $rc = 0 ] ||
        { fail "xl create failed while domain $g says ready"; return 1; }
    id=$(xl domid dc1) || { fail "dc1 not listed"; return 1; }
    [ "$(xenstore-read "$XS_AREA/$id/0/state")" = ready ] ||
        { fail "no ready request of dc1 under $XS_AREA"; return 1; }
    if xenstore-ls "/local/domain/$g/backend/pci-name" 2>/dev/null; then
        fail "a request reached domain $g"
        return 1
    fi
    xl destroy dc1 || { fail "xl destroy dc1 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "! grep -l -x -E 'owner=domain:$id(/[0-9]+)?' $STATE_DIR/vf-* && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of dc1 not released"; return 1; }
    step_detail "domain $g says drivers/{xen-vf,pci-name}/status=ready; dc1" \
        "(domain $id) got vf:nvme0/ns2 from Dom0's xen-vfd"
}

# xen-vfd is down (restart, upgrade) while the guest claims to be DomD:
# xl create fails at once saying what to configure; nothing reaches the
# guest, nothing is seized. xen-vfd is started again in any case.
t_neg_domd_down() {
    local g old pf n0 n1 drv t0 secs rc=0
    g=$(cat "$RUN/claim.id")
    old=$(cat "$VFD_PID")
    pf=$(cat "$RUN/pf")
    n0=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
    kill "$old"
    wait_for 20 "xen-vfd $old to stop" sh -c "! kill -0 $old" ||
        { fail "xen-vfd $old did not stop"; return 1; }
    log "Dom0 status: $(xenstore-read /local/domain/0/drivers/xen-vf/status)"
    [ "$(xenstore-read "/local/domain/$g/drivers/xen-vf/status")" = ready ] ||
        { fail "domain $g no longer says ready"; rc=1; }
    t0=$SECONDS
    xl_refused dd1 '"vf:nvme0/ns2"' \
        'backend domain 0 does not serve PCI names now' || rc=1
    secs=$((SECONDS - t0))
    log "xl create failed after ${secs}s"
    [ $secs -le 30 ] || { fail "xl create took ${secs}s to fail"; rc=1; }
    if xenstore-ls "/local/domain/$g/backend/pci-name" 2>/dev/null; then
        fail "a request reached domain $g"
        rc=1
    fi
    drv=$(readlink "/sys/bus/pci/devices/$pf/driver")
    n1=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
    log "PF $pf: driver ${drv##*/}, sriov_numvfs $n0 -> $n1"
    [ "${drv##*/}" = nvme ] || { fail "PF bound to '${drv##*/}'"; rc=1; }
    [ "$n1" = "$n0" ] || { fail "sriov_numvfs $n0 -> $n1"; rc=1; }
    restart_vfd "$old" || return 1
    wait_for 20 "xen-vfd to be ready" sh -c \
        "[ \"\$(xenstore-read /local/domain/0/drivers/xen-vf/status)\" = ready ]" ||
        { fail "xen-vfd not ready after the restart"; return 1; }
    xl destroy claim || { fail "xl destroy claim failed"; return 1; }
    [ $rc = 0 ] || return 1
    step_detail "xen-vfd down, domain $g says ready: xl create failed in" \
        "${secs}s ($(grep -o 'backend domain 0 does not.*' "$RUN/dd1.out" |
            head -n 1));" \
        "PF still nvme, numvfs $n1"
}

# kill_when_preparing PID SECS: SIGKILL PID as soon as a journal entry
# says "preparing", that is while the engine is in the middle of a
# prepare. Bash builtins only (no fork per check): a prepare takes a few
# hundred ms here. Prints the entry it saw.
kill_when_preparing() {
    local pid=$1 end=$((SECONDS + $2)) f l st
    while [ $SECONDS -lt $end ]; do
        for f in "$STATE_DIR"/vf-*; do
            [[ -e $f ]] || continue
            st=
            while IFS= read -r l; do
                [[ $l == state=* ]] && st=${l#state=}
            done <"$f" 2>/dev/null
            if [[ $st == preparing ]]; then
                kill -9 "$pid"
                echo "$f"
                return 0
            fi
        done
    done
    return 1
}

# check_converged NAME RC: after a restart, xl create NAME either
# completed with a ready journal entry or failed leaving nothing.
check_converged() {
    local name=$1 rc=$2 id j
    if [ "$rc" -eq 0 ]; then
        id=$(xl domid "$name") ||
            { fail "$name created but not listed"; return 1; }
        echo "$id" >"$RUN/$name.id"
        j=$(journal_of "domain:$id") ||
            { fail "$name created but no journal entry"; return 1; }
        grep -q -x 'state=ready' "$j" ||
            { fail "journal entry of $name not ready"; return 1; }
        [ "$(xenstore-read "$XS_AREA/$id/0/state")" = ready ] ||
            { fail "request of $name not ready"; return 1; }
        echo "completed (domain $id)"
    else
        xl list "$name" >/dev/null 2>&1 &&
            { fail "$name failed but exists"; return 1; }
        for j in "$STATE_DIR"/vf-*; do
            [ -e "$j" ] || continue
            grep -q -x 'state=ready' "$j" ||
                { fail "journal entry ${j##*/} left unfinished"; return 1; }
        done
        echo "failed cleanly"
    fi
}

# restart_vfd OLD-PID: wait for it to be gone, start a new one.
restart_vfd() {
    wait_for 10 "xen-vfd $1 to die" sh -c "! kill -0 $1" || return 1
    xen-vfd -v -p "$VFD_PID" || { fail "xen-vfd did not restart"; return 1; }
    log "restarted xen-vfd $(cat "$VFD_PID")"
}

# SIGKILL while the engine prepares; a restarted xen-vfd must converge.
t_neg_kill_engine() {
    local xlpid rc=0 at old res
    old=$(cat "$VFD_PID")
    write_cfg p3 '"vf:nvme0/ns3"' "" 96
    xl create -p "$RUN/p3.cfg" >"$RUN/p3.out" 2>&1 &
    xlpid=$!
    at=$(kill_when_preparing "$old" 60)
    log "SIGKILL xen-vfd $old while ${at:-nothing was preparing}"
    [ -n "$at" ] && cat "$at"
    [ -n "$at" ] || kill -9 "$old"
    restart_vfd "$old" || return 1
    wait "$xlpid" || rc=$?
    cat "$RUN/p3.out"
    grep xen-vfd /var/log/messages | tail -n 30
    res=$(check_converged p3 $rc) || return 1
    [ -n "$at" ] || { fail "never caught the engine preparing"; return 1; }
    step_detail "killed mid-prepare (${at##*/} preparing): create $res" \
        "after restart"
}

# xl destroy of one of two guests releases only its VF.
t_neg_destroy_one() {
    local id keep
    id=$(cat "$RUN/p3.id")
    keep=$(cat "$RUN/p1.id")
    xl destroy p3 || { fail "xl destroy p3 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "! grep -l -x -E 'owner=domain:$id(/[0-9]+)?' $STATE_DIR/vf-* && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of domain $id not released"; return 1; }
    journal_of "domain:$keep" ||
        { fail "the VF of domain $keep went too"; return 1; }
    step_detail "p3 (domain $id) released, p1 (domain $keep) kept its VF"
}

# SIGKILL while the site hook runs (engine done, answer not written).
t_neg_kill_hook() {
    local xlpid rc=0 old res id
    old=$(cat "$VFD_PID")
    mkdir -p /run/xvf-hook
    rm -f /run/xvf-hook/blocked /run/xvf-hook/unblock
    : >/run/xvf-hook/block
    write_cfg p4 '"vf:nvme0/ns3"' "" 96
    xl create -p "$RUN/p4.cfg" >"$RUN/p4.out" 2>&1 &
    xlpid=$!
    wait_for 60 "the add hook to block" test -e /run/xvf-hook/blocked ||
        { kill "$xlpid"; fail "the add hook never ran"; return 1; }
    kill -9 "$old"
    log "SIGKILL xen-vfd $old while its add hook runs"
    : >/run/xvf-hook/unblock
    restart_vfd "$old" || return 1
    wait "$xlpid" || rc=$?
    cat "$RUN/p4.out"
    cat /run/xvf-hook/log
    grep xen-vfd /var/log/messages | tail -n 20
    res=$(check_converged p4 $rc) || return 1
    if [ $rc -eq 0 ]; then
        id=$(cat "$RUN/p4.id")
        [ "$(grep -c "^add vf:nvme0/ns3 .* $id 3\$" /run/xvf-hook/log)" -ge 2 ] ||
            { fail "the add hook did not run again after the restart"; return 1; }
        xl destroy p4 || { fail "xl destroy p4 failed"; return 1; }
        wait_for 60 "release of domain $id" sh -c \
            "! grep -l -x -E 'owner=domain:$id(/[0-9]+)?' $STATE_DIR/vf-*" ||
            { fail "VF of p4 not released"; return 1; }
    fi
    step_detail "killed during the add hook: create $res after restart"
}

# A site hook refuses: xl create fails with its message, nothing changes.
t_neg_hook_refuse() {
    local rc=0
    mkdir -p /run/xvf-hook
    echo "site policy: namespace 3 is reserved" >/run/xvf-hook/refuse
    xl_refused bad5 '"vf:nvme0/ns3"' 'site hook: site policy' || rc=1
    rm -f /run/xvf-hook/refuse
    return $rc
}

t_neg_destroy() {
    local d
    for d in p1 p3 p4; do
        xl list "$d" >/dev/null 2>&1 || continue
        xl destroy "$d" || { fail "xl destroy $d failed"; return 1; }
    done
    wait_for 60 "xen-vfd to release everything" sh -c \
        "[ -z \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" ] && \
         [ -z \"\$(xenstore-list $XS_AREA 2>/dev/null)\" ]" ||
        { fail "VFs not released after xl destroy"; return 1; }
    grep xen-vfd /var/log/messages | tail -n 10
    step_detail "xl destroy p1: released"
}

# --- neg: detach/destroy regressions

# xl pci-detach -f of a paused guest that never booted: its pcifront
# never connected, so libxl cannot take the device out of the backend.
# The VF must stay the guest's (released, it left the backend naming a
# device whose name was gone, and xl destroy crashed on it) and go back
# to xen-vfd on xl destroy, which must neither crash nor fail.
t_neg_detach_paused() {
    local id rc=0
    write_cfg dp1 '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/dp1.cfg" || { fail "xl create -p dp1 failed"; return 1; }
    id=$(xl domid dp1) || { fail "dp1 not listed"; return 1; }
    xl pci-detach -f dp1 vf:nvme0/ns2 >"$RUN/dp1.detach" 2>&1 || rc=$?
    cat "$RUN/dp1.detach"
    log "xl pci-detach -f: exit $rc"
    if [ $rc -ge 128 ] || grep -qi 'segmentation fault' "$RUN/dp1.detach"
    then
        fail "xl pci-detach -f crashed (exit $rc)"
        return 1
    fi
    xl pci-list dp1
    if ! journal_of "domain:$id" >/dev/null; then
        log "VF released while still in the backend of domain $id"
    fi
    rc=0
    xl destroy dp1 >"$RUN/dp1.destroy" 2>&1 || rc=$?
    cat "$RUN/dp1.destroy"
    if [ $rc != 0 ] || grep -qi 'segmentation fault' "$RUN/dp1.destroy"
    then
        fail "xl destroy dp1 failed (exit $rc)"
        return 1
    fi
    if xl list dp1 >/dev/null 2>&1; then
        fail "dp1 still exists after xl destroy"
        return 1
    fi
    wait_for 60 "xen-vfd to release domain $id" released_for "$id" ||
        { fail "VF of dp1 not released after xl destroy"; return 1; }
    step_detail "paused dp1 (domain $id): pci-detach -f, then xl destroy" \
        "exited 0, VF released"
}

# --- nic: a NIC VF (QEMU's igb, 82576) by name to a PV domU

NIC_MAC=02:16:3e:00:00:42

# The PF is brought up here (xen-vfd refuses a PF that is down); xl create
# asks xen-vfd for a VF with a MAC, bound to pciback.
t_nic_create() {
    local pf ifc id st bdf drv l
    pf=$(nic_pf) || { fail "no igb PF (8086:10c9)"; return 1; }
    ifc=
    for l in "/sys/bus/pci/devices/$pf"/net/*; do
        [ -e "$l" ] && ifc=${l##*/}
    done
    [ -n "$ifc" ] || { fail "igb PF $pf has no netdev"; return 1; }
    echo "$pf" >"$RUN/nic-pf"
    echo "$ifc" >"$RUN/nic-if"
    log "igb PF $pf = $ifc, totalvfs" \
        "$(cat "/sys/bus/pci/devices/$pf/sriov_totalvfs")"
    ip link set "$ifc" up || { fail "ip link set $ifc up"; return 1; }
    write_cfg nic1 "\"vf:$ifc,mac=$NIC_MAC\"" "xvf.hold=1 xvf.wait=20"
    cat "$RUN/nic1.cfg"
    xl create "$RUN/nic1.cfg" 2>&1 | tee "$RUN/nic1.create"
    [ "${PIPESTATUS[0]}" = 0 ] || { fail "xl create failed"; return 1; }
    id=$(xl domid nic1) || { fail "nic1 not listed"; return 1; }
    echo "$id" >"$RUN/nic1.id"
    st=$(xenstore-read "$XS_AREA/$id/0/state")
    bdf=$(xenstore-read "$XS_AREA/$id/0/bdf")
    log "request $id/0: state=$st bdf=$bdf"
    [ "$st" = ready ] || { fail "request state '$st'"; return 1; }
    l=$(readlink "/sys/bus/pci/devices/$pf/virtfn0")
    [ "${l##*/}" = "$bdf" ] || { fail "$bdf is not VF 0 of $pf"; return 1; }
    journal_of "domain:$id" || { fail "no journal entry"; return 1; }
    drv=$(readlink "/sys/bus/pci/devices/$bdf/driver")
    [ "${drv##*/}" = pciback ] ||
        { fail "VF $bdf bound to '${drv##*/}'"; return 1; }
    ip link show "$ifc" | tee "$RUN/nic-link"
    l=$(grep -E '^ +vf 0 ' "$RUN/nic-link")
    [[ $l == *"link/ether $NIC_MAC "* ]] ||
        { fail "ip link: vf 0 is '$l', not $NIC_MAC"; return 1; }
    step_detail "nic1 (domain $id) got vf:$ifc = $bdf; vf 0 $NIC_MAC"
}

t_nic_guest() {
    local glog line
    glog=$(guest_log nic1)
    wait_for "$GUEST_WAIT" "DOMU-DONE in $glog" grep -q 'DOMU-DONE' "$glog" ||
        { cat "$glog" 2>/dev/null; fail "domU did not finish"; return 1; }
    grep -a 'DOMU-' "$glog"
    line=$(domu_line nic1 'DOMU-PCI ')
    case $line in
        *" 0x8086:0x10ca "*) ;;
        *) fail "domU sees '${line:-nothing}', not the 82576 VF"; return 1 ;;
    esac
    step_detail "${line#*DOMU-PCI }"
}

t_nic_destroy() {
    local id pf ifc n l
    id=$(cat "$RUN/nic1.id")
    pf=$(cat "$RUN/nic-pf")
    ifc=$(cat "$RUN/nic-if")
    xl destroy nic1 || { fail "xl destroy nic1 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" released_for "$id" ||
        { fail "VF of domain $id not released"; return 1; }
    grep xen-vfd /var/log/messages | tail -n 10
    n=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
    [ "$n" = 0 ] || { fail "sriov_numvfs of $pf is $n"; return 1; }
    ip link show "$ifc" | tee "$RUN/nic-link"
    l=$(grep -E '^ +vf 0 ' "$RUN/nic-link")
    if [ -n "$l" ] && [[ $l != *"link/ether 00:00:00:00:00:00"* ]]; then
        fail "vf 0 not reset: '$l'"
        return 1
    fi
    [ "$(journal_count)" = 0 ] || { fail "journal entries left"; return 1; }
    [ "$(xs_children "$XS_AREA")" = 0 ] ||
        { xenstore-ls -f "$XS_AREA"; fail "xenstore requests left"; return 1; }
    step_detail "nic1 destroyed: numvfs 0, no vf 0 MAC, no journal," \
        "no xenstore request"
}

# --- Request identity: a request owns exactly its VF. A second request
# for a namespace a running guest holds is refused and leaves that VF
# alone; a NIC spec is a pool, one VF per request.

# id_held DOMID: a journal entry of DOMID (any request of it) exists.
id_held() {
    grep -q -l -x -E "owner=domain:$1(/[0-9]+)?" "$STATE_DIR"/vf-* \
        2>/dev/null
}

# id_create NAME PCI: xl create NAME holding PCI; its domid and VF in $RUN.
id_create() {
    local id bdf
    write_cfg "$1" "$2" "xvf.hold=1 xvf.wait=20"
    xl create "$RUN/$1.cfg" 2>&1 | tee "$RUN/$1.create"
    [ "${PIPESTATUS[0]}" = 0 ] || { fail "xl create $1 failed"; return 1; }
    id=$(xl domid "$1") || { fail "$1 not listed"; return 1; }
    bdf=$(xenstore-read "$XS_AREA/$id/0/bdf") ||
        { fail "no answered request for $1"; return 1; }
    echo "$id" >"$RUN/$1.id"
    echo "$bdf" >"$RUN/$1.vf"
    id_held "$id" || { fail "no journal entry of domain $id"; return 1; }
}

# id_vf_in_use NAME: NAME's VF is bound to pciback and listed by xl.
id_vf_in_use() {
    local bdf drv
    bdf=$(cat "$RUN/$1.vf")
    drv=$(readlink "/sys/bus/pci/devices/$bdf/driver")
    [ "${drv##*/}" = pciback ] ||
        { fail "VF $bdf of $1 bound to '${drv##*/}'"; return 1; }
    xl pci-list "$1" | tee "$RUN/$1.pci"
    grep -q "${bdf#0000:}" "$RUN/$1.pci" ||
        { fail "xl pci-list $1 has no $bdf"; return 1; }
}

t_id_create() {
    id_create id1 '"vf:nvme0/ns2"' || return 1
    step_detail "id1 (domain $(cat "$RUN/id1.id")) got vf:nvme0/ns2 =" \
        "$(cat "$RUN/id1.vf")"
}

t_id_second_attach() {
    local id bdf msg
    id=$(cat "$RUN/id1.id")
    bdf=$(cat "$RUN/id1.vf")
    local rc=0
    xl pci-attach id1 vf:nvme0/ns2 >"$RUN/id-attach.out" 2>&1 || rc=$?
    cat -v "$RUN/id-attach.out"
    log "xl pci-attach exit $rc"
    [ $rc != 0 ] ||
        { fail "a second pci-attach of vf:nvme0/ns2 succeeded"; return 1; }
    msg=$(grep -a -E "held by domain $id \(device 0\)" \
        "$RUN/id-attach.out" | head -n 1)
    [ -n "$msg" ] || { fail "no 'held by domain $id (device 0)'"; return 1; }
    # libxl's error path asks for the refused request's release; whether
    # it is gone is libxl's business, what matters is the VF in use.
    wait_for 30 "the refused request to go" sh -c \
        "! xenstore-list $XS_AREA/$id/1" ||
        { xenstore-ls -f "$XS_AREA/$id"; log "refused request left"; }
    grep xen-vfd /var/log/messages | tail -n 10
    [ "$(xenstore-read "$XS_AREA/$id/0/state")" = ready ] ||
        { fail "request $id/0 no longer ready"; return 1; }
    id_vf_in_use id1 || return 1
    nvme list-secondary "/dev/$PF_NAME" | tee "$RUN/id-secondary"
    grep -q Online "$RUN/id-secondary" ||
        { fail "no secondary online any more"; return 1; }
    [ "$(journal_count)" = 1 ] || { fail "journal changed"; return 1; }
    step_detail "${msg#*libxl: }; $bdf still id1's"
}

t_id_destroy() {
    local id
    id=$(cat "$RUN/id1.id")
    xl destroy id1 || { fail "xl destroy id1 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "[ \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" = '' ] && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of domain $id not released"; return 1; }
    step_detail "id1 destroyed, its VF released"
}

t_id_nic_pool() {
    local ifc a b
    ifc=$(cat "$RUN/nic-if")
    id_create nicp1 "\"vf:$ifc\"" || return 1
    grep -E 'Mem(Free|Available)' /proc/meminfo
    xl info | grep -E 'free_memory|total_memory'
    if ! id_create nicp2 "\"vf:$ifc\""; then
        # Seen once: libxc could not decompress the domU kernel; not ours.
        grep -q -a 'decompress kernel' "$RUN/nicp2.create" || return 1
        log "retrying xl create nicp2 once"
        id_create nicp2 "\"vf:$ifc\"" || return 1
    fi
    a=$(cat "$RUN/nicp1.vf")
    b=$(cat "$RUN/nicp2.vf")
    [ "$a" != "$b" ] || { fail "both guests got $a"; return 1; }
    id_vf_in_use nicp1 && id_vf_in_use nicp2 || return 1
    step_detail "vf:$ifc twice: nicp1 got $a, nicp2 got $b"
}

t_id_nic_destroy_one() {
    local id keep
    id=$(cat "$RUN/nicp1.id")
    keep=$(cat "$RUN/nicp2.id")
    xl destroy nicp1 || { fail "xl destroy nicp1 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "! grep -q -E 'owner=domain:$id(/|\$)' $STATE_DIR/vf-* && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of nicp1 not released"; return 1; }
    id_held "$keep" || { fail "the VF of nicp2 went too"; return 1; }
    id_vf_in_use nicp2 || return 1
    xl destroy nicp2 || { fail "xl destroy nicp2 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $keep" sh -c \
        "[ \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" = '' ] && \
         ! xenstore-list $XS_AREA/$keep" ||
        { fail "VF of nicp2 not released"; return 1; }
    step_detail "nicp1 destroyed: its VF released, nicp2 kept $(cat \
        "$RUN/nicp2.vf") until destroyed"
}

# libxl asks for a vf: device right after the domain is made (patch 0007)
# and the add takes that request over: one request, made early.
t_early_request() {
    local id n
    write_cfg early1 '"vf:nvme0/ns2"' "" 96
    xl -vvv create -p "$RUN/early1.cfg" >"$RUN/early1.create" 2>&1 ||
        { tail -n 30 "$RUN/early1.create"; fail "xl create -p early1 failed"; return 1; }
    grep -a -E 'vf:nvme0/ns2: (requested early|taking over)' "$RUN/early1.create"
    grep -q -a 'vf:nvme0/ns2: requested early' "$RUN/early1.create" ||
        { fail "xl made no early request"; return 1; }
    grep -q -a 'vf:nvme0/ns2: taking over the early request' \
        "$RUN/early1.create" ||
        { fail "the add did not take the early request over"; return 1; }
    id=$(xl domid early1) || { fail "early1 not listed"; return 1; }
    n=$(xs_children "$XS_AREA/$id")
    [ "$n" = 1 ] || { xenstore-ls -f "$XS_AREA/$id"; fail "$n requests for domain $id"; return 1; }
    [ "$(xenstore-read "$XS_AREA/$id/0/state")" = ready ] ||
        { fail "request $id/0 not ready"; return 1; }
    journal_of "domain:$id/0" || { fail "no journal entry of domain:$id/0"; return 1; }
    xl destroy early1 || { fail "xl destroy early1 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "[ \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" = '' ] && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of domain $id not released"; return 1; }
    step_detail "one request $id/0, made when the domain was made and" \
        "taken over by the add; released on destroy"
}

# A creation that fails after the domain was made but before its devices
# are added gives the early request back.
t_early_drop() {
    local rc=0
    write_cfg early2 '"vf:nvme0/ns2"' "" 96
    sed -i 's|^kernel = .*|kernel = "/xvf/no-such-kernel"|' "$RUN/early2.cfg"
    xl -vvv create -p "$RUN/early2.cfg" >"$RUN/early2.create" 2>&1 || rc=$?
    [ $rc != 0 ] || { xl destroy early2; fail "xl create early2 succeeded"; return 1; }
    grep -a -E 'requested early|no-such-kernel' "$RUN/early2.create" | head -n 5
    grep -q -a 'vf:nvme0/ns2: requested early' "$RUN/early2.create" ||
        { fail "the failure came before the early request"; return 1; }
    ! grep -q -a 'taking over the early request' "$RUN/early2.create" ||
        { fail "the device was added after all"; return 1; }
    wait_for 60 "xen-vfd to release the early request" sh -c \
        "[ \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" = '' ] && \
         [ \"\$(xenstore-list $XS_AREA 2>/dev/null)\" = '' ]" ||
        { xenstore-ls -f "$XS_AREA"; fail "early request not given back"; return 1; }
    step_detail "xl create failed loading the kernel (exit $rc); the early" \
        "request was released, nothing held"
}

# xl killed while it waits for a stopped xen-vfd: with the early request
# that can be during the build, before xenstored knows the domain (and
# then it never fires @releaseDomain for it). xen-vfd answers a request
# nobody waits for; xl destroy removes the domain's home, which xen-vfd
# watched, and the VF is released.
t_early_xl_killed() {
    local pid xlpid id intro
    pid=$(cat "$VFD_PID")
    kill -STOP "$pid"
    write_cfg early3 '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/early3.cfg" >"$RUN/early3.out" 2>&1 &
    xlpid=$!
    if ! wait_for 60 "early3's request" sh -c \
        "xenstore-list $XS_AREA | grep -q ."; then
        kill -CONT "$pid"
        kill -9 "$xlpid"
        fail "no request of early3 reached xen-vfd"
        return 1
    fi
    kill -9 "$xlpid"
    wait "$xlpid" 2>/dev/null
    id=$(xl domid early3) ||
        { kill -CONT "$pid"; fail "early3 not left by the killed xl"; return 1; }
    intro=introduced
    xenstore-read "/local/domain/$id/store/port" >/dev/null 2>&1 ||
        intro="not introduced yet"
    log "killed xl create $xlpid; early3 is domain $id, $intro"
    kill -CONT "$pid"
    wait_for 60 "xen-vfd to answer the orphan request" sh -c \
        "[ \"\$(xenstore-read $XS_AREA/$id/0/state)\" = ready ]" ||
        { fail "request of early3 not answered"; return 1; }
    journal_of "domain:$id" >/dev/null || { fail "no VF held for early3"; return 1; }
    xl destroy early3 || { fail "xl destroy early3"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "[ \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" = '' ] && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of domain $id ($intro when xl died) not released"; return 1; }
    step_detail "xl killed while waiting (domain $id $intro);" \
        "xl destroy: xen-vfd released its VF"
}

# keep_guest NAME - xl create -p NAME with vf:nvme0/ns2, then destroy it
# and wait until xen-vfd released the VF; its domid in $RUN/NAME.id
keep_guest() {
    local id
    write_cfg "$1" '"vf:nvme0/ns2"' "" 96
    xl create -p "$RUN/$1.cfg" || { fail "xl create -p $1 failed"; return 1; }
    id=$(xl domid "$1") || { fail "$1 not listed"; return 1; }
    echo "$id" >"$RUN/$1.id"
    xl destroy "$1" || { fail "xl destroy $1 failed"; return 1; }
    wait_for 60 "xen-vfd to release domain $id" sh -c \
        "[ \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" = '' ] && \
         ! xenstore-list $XS_AREA/$id" ||
        { fail "VF of domain $id not released"; return 1; }
}

# xen-vfd --keep-vfs: a release leaves the VFs enabled with nothing usable
# on them, the next prepare does not enable them again, a restart of
# xen-vfd without it disables them.
t_keep_vfs() {
    local old pf n id out
    old=$(cat "$VFD_PID")
    pf=$(cat "$RUN/pf")
    kill "$old"
    wait_for 10 "xen-vfd $old to die" sh -c "! kill -0 $old" ||
        { fail "xen-vfd $old did not stop"; return 1; }
    xen-vfd -v -p "$VFD_PID" --keep-vfs 600 ||
        { fail "xen-vfd --keep-vfs 600 did not start"; return 1; }
    keep_guest keep1 || return 1
    n=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
    [ "$n" -gt 0 ] || { fail "sriov_numvfs $n after the release"; return 1; }
    for v in /sys/bus/pci/devices/"$pf"/virtfn*; do
        [ -e "$(readlink -f "$v")/driver" ] &&
            { fail "VF $(basename "$(readlink -f "$v")") is bound"; return 1; }
    done
    nvme list-secondary "/dev/$PF_NAME" | tee "$RUN/keep-secondary"
    ! grep -q Online "$RUN/keep-secondary" ||
        { fail "a secondary is online while kept"; return 1; }
    ! grep -E '^ *(NVQ|NVI) ' "$RUN/keep-secondary" | grep -qv ': 0x0000' ||
        { fail "a kept secondary holds VQ/VI"; return 1; }
    out=$(nvme list-ctrl "/dev/$PF_NAME" -n 2 2>&1)
    ! echo "$out" | grep -qE '^ *\[ *[0-9]+\]' ||
        { fail "ns2 attached while kept: $out"; return 1; }
    xen-vfctl status | tee "$RUN/keep-status"
    grep -q "VFs of $pf kept enabled" "$RUN/keep-status" ||
        { fail "status does not show $pf kept enabled"; return 1; }
    keep_guest keep2 || return 1
    id=$(cat "$RUN/keep2.id")
    grep -a "request $id/0: step" /var/log/messages | head -n 20
    grep -a -q "request $id/0: step" /var/log/messages ||
        { fail "no step logged for request $id/0"; return 1; }
    ! grep -a -q "request $id/0: step numvfs" /var/log/messages ||
        { fail "the prepare on a kept PF enabled VFs again"; return 1; }
    old=$(cat "$VFD_PID")
    kill "$old"
    restart_vfd "$old" || return 1
    wait_for 20 "the VFs to be disabled" sh -c \
        "[ \"\$(cat /sys/bus/pci/devices/$pf/sriov_numvfs)\" = 0 ]" ||
        { fail "VFs still enabled after a restart without --keep-vfs"; return 1; }
    step_detail "released with $n VFs left enabled (unbound, offline," \
        "ns2 detached, status says kept); the next prepare skipped" \
        "sriov_numvfs; a restart without --keep-vfs disabled them"
}

has_job() {
    case ",$JOBS," in *",$1,"*) return 0 ;; esac
    return 1
}

STEPS_ECHO=1
export STEPS_ECHO
steps_init xen /run/xvf-logs
gw=$((GUEST_WAIT + 30))

step host-boot -- t_host_boot
step daemons-up -- t_daemons_up
step pf-ready -- t_pf_ready
base=host-boot,daemons-up,pf-ready
step --needs pf-ready vfctl-status -- t_vfctl_status

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
