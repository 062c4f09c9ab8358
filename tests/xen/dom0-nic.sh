# shellcheck shell=bash
# dom0-nic.sh - the nic section: a NIC VF by name to a PV domU, and request
# identity (a request owns exactly its VF; a NIC PF is a pool)
# Sourced by tests/xen/dom0-test.sh (the Xen tier's job in dom0), after
# dom0-lib.sh; the steps are registered there.
# shellcheck disable=SC2154

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

