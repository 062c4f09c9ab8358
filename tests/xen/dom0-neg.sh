# shellcheck shell=bash
# dom0-neg.sh - the neg section: refusals through xl create, DomD identity,
# foreign requests, SIGKILL of xen-vfd, detach/destroy regressions
# Sourced by tests/xen/dom0-test.sh (the Xen tier's job in dom0), after
# dom0-lib.sh; the steps are registered there.
# shellcheck disable=SC2154

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

