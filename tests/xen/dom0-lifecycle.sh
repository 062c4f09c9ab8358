# shellcheck shell=bash
# dom0-lifecycle.sh - the early request of xl create and xen-vfd --keep-vfs
# (run in the neg section)
# Sourced by tests/xen/dom0-test.sh (the Xen tier's job in dom0), after
# dom0-lib.sh; the steps are registered there.
# shellcheck disable=SC2154

# libxl asks for a vf: device right after the domain is made (patch 0006)
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

