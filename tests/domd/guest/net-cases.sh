# shellcheck shell=bash
# NIC cases of the domd tier, sourced by cases.sh (same job, same step
# library). The igb PF (82576, 7 VFs at 02:10.x with stride 2) is eth0,
# down after boot. Assertions go through iproute2's `ip link show` (the
# PF driver's view of its VFs), sysfs and the VF's own netdev, never only
# through xen-vfctl's report.

# netdev_of BDF - the first netdev of a PCI function, or nothing
netdev_of() {
    local n
    for n in "$SYSPCI/$1"/net/*; do
        [ -e "$n" ] && { echo "${n##*/}"; return 0; }
    done
    return 1
}

NPF=0000:02:00.0
NIF=$(netdev_of "$NPF")
IP=/usr/sbin/ip
S_NET=/tmp/state-net
S_NEX=/tmp/state-net-exhaust
mkdir -p "$S_NET" "$S_NEX"
MACA=02:00:00:00:0a:01
MACB=02:00:00:00:0b:02
SPECA="vf:$NIF,mac=$MACA,vlan=100,driver=igbvf"
SPECB="vf:$NIF,mac=$MACB,vlan=200,qos=2,driver=pci-stub"
# the PF's stable form, and the settings that need trust/rate support
SPECC="vf:$NPF,spoofchk=off,trust=on,rate=100,driver=pci-stub"

pf_flags() {
    "$IP" -o link show "$NIF" | sed -n 's/^[^<]*<\([^>]*\)>.*/\1/p'
}

pf_is_up() {
    [[ ,$(pf_flags), == *,UP,* ]]
}

# vf_line N - the PF driver's line for VF N in `ip link show`
vf_line() {
    "$IP" link show "$NIF" | grep -E "^ *vf $1 "
}

# net_snapshot STATE_DIR - what a refused NIC request must leave alone
# (carrier is left out: the link may come up on its own after a bring-up)
net_snapshot() {
    local d
    echo "numvfs $(cat "$SYSPCI/$NPF/sriov_numvfs")"
    echo "autoprobe $(cat "$SYSPCI/$NPF/sriov_drivers_autoprobe")"
    pf_is_up && echo "pf up" || echo "pf down"
    "$IP" link show "$NIF" | grep -E '^ *vf '
    for d in "$SYSPCI"/0000:02:*; do
        [ -e "$d" ] || continue
        echo "pci ${d##*/} driver=$(vf_driver "${d##*/}")" \
            "override=$(cat "$d/driver_override" 2>/dev/null)"
    done
    echo "journal $("$XVFCTL" --state-dir "$1" status --json |
        jq -c .journal)"
}

# refuse_net WANT_RC SPEC STATE_DIR TEXT [VAR=VALUE | --OPTION=VALUE]...
# - exit WANT_RC with a message containing TEXT and nothing changed;
# VAR=VALUE go to xen-vfctl's environment, --OPTION=VALUE to prepare
refuse_net() {
    local want=$1 spec=$2 st=$3 text=$4 before after a
    local envs=() opts=()
    shift 4
    for a in "$@"; do
        case $a in
            --*=*) opts+=("${a%%=*}" "${a#*=}") ;;
            *) envs+=("$a") ;;
        esac
    done
    before=$(net_snapshot "$st")
    echo "+ ${envs[*]} xen-vfctl --state-dir $st prepare --local" \
        "${opts[*]} $spec"
    XVF_RC=0
    env "${envs[@]}" "$XVFCTL" --state-dir "$st" prepare --local \
        "${opts[@]}" "$spec" >/tmp/xvf.out 2>/tmp/xvf.err || XVF_RC=$?
    XVF_OUT=$(cat /tmp/xvf.out)
    XVF_ERR=$(cat /tmp/xvf.err)
    echo "  stdout: $XVF_OUT"
    echo "  stderr: $XVF_ERR"
    echo "  exit: $XVF_RC"
    after=$(net_snapshot "$st")
    [ "$XVF_RC" = "$want" ] || { fail "exit $XVF_RC, want $want"; return 1; }
    [ -z "$XVF_OUT" ] || { fail "printed '$XVF_OUT' on stdout"; return 1; }
    [[ $XVF_ERR == xen-vfctl:*"$text"* ]] ||
        { fail "message lacks '$text'"; return 1; }
    if [ "$before" != "$after" ]; then
        diff <(echo "$before") <(echo "$after")
        fail "device state changed"
        return 1
    fi
    step_detail "exit $want: $(cut -c1-110 <<<"${XVF_ERR#*: }")"
}

# net_prepare STATE SPEC DRIVER VAR [ENV...] - prepare; the VF is one of
# the PF's, bound to DRIVER; its BDF and VF number go to /tmp/VAR{,.vfn}
net_prepare() {
    local st=$1 spec=$2 drv=$3 var=$4 vf vfn d
    shift 4
    echo "+ $* xen-vfctl --state-dir $st -v prepare --local $spec"
    XVF_RC=0
    env "$@" "$XVFCTL" --state-dir "$st" -v prepare --local "$spec" \
        >/tmp/xvf.out 2>/tmp/xvf.err || XVF_RC=$?
    sed 's/^/  /' /tmp/xvf.err
    vf=$(cat /tmp/xvf.out)
    [ "$XVF_RC" = 0 ] || { fail "prepare exit $XVF_RC"; return 1; }
    is_bdf "$vf" || { fail "stdout '$vf' is not a BDF"; return 1; }
    vfn=$(vf_vfn "$NPF" "$vf") || { fail "$vf is no VF of $NPF"; return 1; }
    d=$(vf_driver "$vf")
    [ "$d" = "$drv" ] || { fail "$vf driver '$d', want $drv"; return 1; }
    echo "$vf" >"/tmp/$var"
    echo $((vfn - 1)) >"/tmp/$var.vfn"
    echo "VF $vf (vf $((vfn - 1)) of $NIF), driver $d"
    vf_line $((vfn - 1))
}

t_nic_pf_down() {
    echo "$NIF flags: $(pf_flags)"
    pf_is_up && { fail "$NIF is up after boot; the case needs it down"; \
        return 1; }
    refuse_net 1 "$SPECA" "$S_NET" "is down"
}

t_nic_prepare_a() {
    local vf l
    net_prepare "$S_NET" "$SPECA" igbvf a XEN_VF_BRING_PF_UP=1 || return 1
    vf=$(cat /tmp/a)
    pf_is_up || { fail "$NIF not brought up"; return 1; }
    l=$(vf_line "$(cat /tmp/a.vfn)")
    [[ $l == *"link/ether $MACA "* && $l == *", vlan 100,"* ]] ||
        { fail "ip link: '$l' lacks $MACA / vlan 100"; return 1; }
    [ "$(cat "$SYSPCI/$NPF/sriov_drivers_autoprobe")" = 0 ] ||
        { fail "autoprobe not 0"; return 1; }
    step_detail "$vf igbvf, $MACA vlan 100 on the PF;" \
        "$NIF brought up, $(cat "$SYSPCI/$NPF/sriov_numvfs") VFs"
}

# igbvf asked the PF for its MAC at probe, over the PF's mailbox
t_nic_vf_mac_a() {
    local vf mac i
    vf=$(cat /tmp/a)
    for ((i = 0; i < 50; i++)); do
        mac=$(cat "$SYSPCI/$vf"/net/*/address 2>/dev/null)
        [ -n "$mac" ] && break
        sleep 0.1
    done
    echo "VF netdev $(ls "$SYSPCI/$vf/net" 2>/dev/null): $mac"
    [ "$mac" = "$MACA" ] || { fail "VF netdev MAC '$mac', want $MACA"; \
        return 1; }
    step_detail "$vf's netdev got $mac from the PF"
}

t_nic_prepare_b() {
    local l
    net_prepare "$S_NET" "$SPECB" pci-stub b || return 1
    [ "$(cat /tmp/b)" != "$(cat /tmp/a)" ] || { fail "same VF"; return 1; }
    l=$(vf_line "$(cat /tmp/b.vfn)")
    [[ $l == *"link/ether $MACB "* && $l == *", vlan 200, qos 2,"* ]] ||
        { fail "ip link: '$l' lacks $MACB / vlan 200 qos 2"; return 1; }
    step_detail "$(cat /tmp/b) pci-stub, $MACB vlan 200 qos 2 on the PF"
}

t_nic_prepare_c() {
    local l
    net_prepare "$S_NET" "$SPECC" pci-stub c || return 1
    l=$(vf_line "$(cat /tmp/c.vfn)")
    [[ $l == *"max_tx_rate 100Mbps"* && $l == *"spoof checking off"* &&
       $l == *"trust on"* ]] ||
        { fail "ip link: '$l' lacks rate 100 / spoofchk off / trust on"; \
          return 1; }
    step_detail "$(cat /tmp/c) by PF address: rate 100, spoofchk off," \
        "trust on"
}

t_nic_status() {
    local j
    xvf "$S_NET" status --json
    j=$XVF_OUT
    jq -e --arg pf "$NPF" --arg a "$(cat /tmp/a)" --arg m "$MACA" \
        '[.pfs[] | select(.class == "net" and .bdf == $pf) | .vfs[] |
          select(.bdf == $a and .mac == $m and .vlan == 100 and
                 .driver == "igbvf")] | length == 1' <<<"$j" ||
        { fail "status: VF A not shown with its MAC and VLAN"; return 1; }
    jq -e '[.journal[] | select(.class == "net" and .state == "ready")] |
        length == 3' <<<"$j" >/dev/null ||
        { fail "status: want 3 ready NIC journal entries"; return 1; }
    step_detail "status --json: the PF's VFs with MAC/VLAN, 3 entries"
}

t_nic_release_a() {
    local l
    xvf "$S_NET" -v release --local "$SPECA"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    [ -z "$(vf_driver "$(cat /tmp/a)")" ] || { fail "A still bound"; \
        return 1; }
    l=$(vf_line "$(cat /tmp/a.vfn)")
    echo "$l"
    [[ $l == *"link/ether 00:00:00:00:00:00 "* && $l != *vlan* ]] ||
        { fail "A's MAC/VLAN not reset: '$l'"; return 1; }
    l=$(vf_line "$(cat /tmp/b.vfn)")
    [[ $l == *"link/ether $MACB "* && $l == *"vlan 200"* ]] ||
        { fail "B lost its settings: '$l'"; return 1; }
    [ "$(vf_driver "$(cat /tmp/b)")" = pci-stub ] ||
        { fail "B lost its driver"; return 1; }
    [ "$(cat "$SYSPCI/$NPF/sriov_numvfs")" != 0 ] ||
        { fail "VFs disabled while B and C are held"; return 1; }
    step_detail "A unbound, MAC 00:00:00:00:00:00 and no VLAN; B, C kept"
}

# nic_clean - no VF enabled, autoprobe back on, no VF line, nothing bound
nic_clean() {
    local bad=0
    [ "$(cat "$SYSPCI/$NPF/sriov_numvfs")" = 0 ] ||
        { echo "sriov_numvfs is not 0"; bad=1; }
    [ "$(cat "$SYSPCI/$NPF/sriov_drivers_autoprobe")" = 1 ] ||
        { echo "sriov_drivers_autoprobe is not 1"; bad=1; }
    ! "$IP" link show "$NIF" | grep -qE '^ *vf ' ||
        { echo "the PF still lists VFs"; bad=1; }
    return $bad
}

t_nic_release_all() {
    xvf "$S_NET" -v release --local --owner local
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    nic_clean || { fail "NIC not clean"; return 1; }
    xvf "$S_NET" status --json
    jq -e '.journal | length == 0' <<<"$XVF_OUT" >/dev/null ||
        { fail "journal not empty"; return 1; }
    pf_is_up || { fail "$NIF went down"; return 1; }
    step_detail "numvfs 0, autoprobe 1, no VF lines, journal empty," \
        "$NIF left up"
}

t_nic_exhaust() {
    net_prepare "$S_NEX" "vf:$NIF,vlan=11,driver=pci-stub" pci-stub x1 \
        XEN_VF_NET_NUMVFS=2 || return 1
    net_prepare "$S_NEX" "vf:$NIF,vlan=12,driver=pci-stub" pci-stub x2 \
        XEN_VF_NET_NUMVFS=2 || return 1
    [ "$(cat "$SYSPCI/$NPF/sriov_numvfs")" = 2 ] ||
        { fail "numvfs not 2"; return 1; }
    refuse_net 1 "vf:$NIF,vlan=13,driver=pci-stub" "$S_NEX" \
        "are all in use" XEN_VF_NET_NUMVFS=2 || return 1
    xvf "$S_NEX" release --local --owner local
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    nic_clean || { fail "NIC not clean"; return 1; }
    step_detail "2 VFs held, the third refused unchanged, all released"
}

# vf_mac N - the administrative MAC the PF's driver reports for VF N
vf_mac() {
    vf_line "$1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'
}

# vf_netdev_mac BDF - the MAC of the VF's own netdev (igbvf), waited for
vf_netdev_mac() {
    local i mac
    for ((i = 0; i < 50; i++)); do
        mac=$(cat "$SYSPCI/$1"/net/*/address 2>/dev/null)
        [ -n "$mac" ] && break
        sleep 0.1
    done
    echo "$mac"
}

S_NLK=/tmp/state-net-leak
mkdir -p "$S_NLK"
MACG=02:16:3e:77:66:55

# A MAC given to a guest (mac=A) or set by one (through its igbvf, which
# igb keeps for the VF) must not reach the next holder of the same VF:
# release resets the administrative MAC. A holder keeps the VFs enabled
# throughout, so the same VF is handed out again with the PF's state.
t_nic_mac_no_leak() {
    local a x y m n
    net_prepare "$S_NLK" "vf:$NIF,vlan=21,driver=pci-stub" pci-stub h ||
        return 1
    net_prepare "$S_NLK" "vf:$NIF,mac=$MACA,driver=igbvf" igbvf la || return 1
    a=$(cat /tmp/la)
    n=$(cat /tmp/la.vfn)
    [ "$(vf_mac "$n")" = "$MACA" ] || { fail "vf $n has not $MACA"; return 1; }
    xvf "$S_NLK" -v release --local "vf:$NIF,mac=$MACA,driver=igbvf"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    m=$(vf_mac "$n")
    echo "after release of A: vf $n MAC $m"
    [ "$m" != "$MACA" ] || { fail "vf $n kept A's MAC $MACA"; return 1; }

    net_prepare "$S_NLK" "vf:$NIF,driver=igbvf" igbvf lx || return 1
    x=$(cat /tmp/lx)
    [ "$x" = "$a" ] || { fail "got $x, not A's VF $a again"; return 1; }
    m=$(vf_mac "$n")
    [ "$m" != "$MACA" ] || { fail "the next prepare got A's MAC"; return 1; }
    m=$(vf_netdev_mac "$x")
    echo "X: vf $n MAC $(vf_mac "$n"), VF netdev MAC $m"
    [ "$m" != "$MACA" ] || { fail "X's netdev has A's MAC"; return 1; }

    # X's "guest" sets its own MAC; igb keeps it as the VF's MAC
    "$IP" link set "$(netdev_of "$x")" address "$MACG" ||
        { fail "igbvf refused to set $MACG"; return 1; }
    m=$(vf_mac "$n")
    echo "after the guest set its MAC: vf $n MAC $m"
    [ "$m" = "$MACG" ] ||
        { fail "igb does not keep the guest's MAC ($m): not reproduced"; \
          return 1; }
    xvf "$S_NLK" -v release --local "vf:$NIF,driver=igbvf"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    m=$(vf_mac "$n")
    [ "$m" != "$MACG" ] || { fail "vf $n kept the guest's MAC"; return 1; }

    net_prepare "$S_NLK" "vf:$NIF,driver=igbvf" igbvf ly || return 1
    y=$(cat /tmp/ly)
    [ "$y" = "$a" ] || { fail "got $y, not the same VF $a"; return 1; }
    m=$(vf_netdev_mac "$y")
    echo "Y: vf $n MAC $(vf_mac "$n"), VF netdev MAC $m"
    if [ "$(vf_mac "$n")" = "$MACG" ] || [ "$m" = "$MACG" ]; then
        fail "the next holder got the guest's MAC"
        return 1
    fi
    xvf "$S_NLK" release --local --owner local
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    nic_clean || { fail "NIC not clean"; return 1; }
    step_detail "VF $a (vf $n) handed out 3 times: neither mac=$MACA nor" \
        "the guest-set $MACG reached the next holder"
}

settle_net() {
    local v
    nic_clean >/dev/null 2>&1 && return 0
    echo "XVF-NOTE NIC not clean after $1; resetting it by hand"
    for v in "$SYSPCI/$NPF"/virtfn*; do
        [ -e "$v" ] || continue
        v=$(basename "$(readlink -f "$v")")
        [ -e "$SYSPCI/$v/driver" ] && echo "$v" >"$SYSPCI/$v/driver/unbind"
        echo >"$SYSPCI/$v/driver_override" 2>/dev/null
    done
    echo 0 >"$SYSPCI/$NPF/sriov_numvfs"
    echo 1 >"$SYSPCI/$NPF/sriov_drivers_autoprobe"
    rm -f "$S_NET"/* "$S_NEX"/* "$S_NLK"/*
}

RN='nic-present,xen-vfctl-present'
step --needs $RN nic-refuse-pf-down -- t_nic_pf_down
step --needs $RN nic-refuse-bad-mac -- \
    refuse_net 2 "vf:$NIF,mac=01:00:5e:00:00:01" "$S_NET" "multicast"
step --needs $RN nic-refuse-vlan-range -- \
    refuse_net 2 "vf:$NIF,vlan=4095" "$S_NET" "between 0 and 4094"
step --needs $RN nic-refuse-not-a-nic -- \
    refuse_net 1 "vf:0000:01:00.0" "$S_NET" "is not a network controller"
step --needs $RN nic-refuse-no-sriov -- \
    refuse_net 1 "vf:lo" "$S_NET" "not a PCI function"
step --needs $RN nic-prepare-a -- t_nic_prepare_a
# QEMU's igb on the Arm "virt" board delivers the PF's mailbox interrupt
# once only after VFs are enabled: igbvf's reset request is never
# answered ("PF still in reset state") and it takes a random MAC (the
# same QEMU on q35 works).
if grep -qs 'linux,dummy-virt' /proc/device-tree/compatible; then
    step_skip nic-vf-mac-a "QEMU's igb on the Arm virt board does not" \
        "answer igbvf's mailbox after VFs are enabled: random VF MAC"
else
    step --needs nic-prepare-a nic-vf-mac-a -- t_nic_vf_mac_a
fi
step --needs nic-prepare-a nic-prepare-b -- t_nic_prepare_b
step --needs nic-prepare-b nic-prepare-c -- t_nic_prepare_c
step --needs nic-prepare-a nic-refuse-vf-netdev -- \
    refuse_net 1 "vf:$(netdev_of "$(cat /tmp/a 2>/dev/null)")" "$S_NET" \
    "is the netdev of VF"
step --needs nic-prepare-a nic-refuse-held -- \
    refuse_net 1 "$SPECA" "$S_NET" "is already given to 'local'" \
    --owner=domain:9
step --needs nic-prepare-c nic-refuse-rate-speed -- \
    refuse_net 1 "vf:$NIF,rate=2000,driver=pci-stub" "$S_NET" \
    "rate=2000 Mbit/s is above the link speed of $NIF (1000 Mb/s)"
step --needs nic-prepare-c nic-status -- t_nic_status
step --needs nic-prepare-c nic-release-a -- t_nic_release_a
step --needs nic-prepare-a nic-release-all -- t_nic_release_all
settle_net release
step --needs nic-release-all nic-exhaust -- t_nic_exhaust
settle_net exhaust
# The guest's own MAC reaches igb through the same mailbox (see above).
if grep -qs 'linux,dummy-virt' /proc/device-tree/compatible; then
    step_skip nic-mac-no-leak "QEMU's igb on the Arm virt board does not" \
        "answer igbvf's mailbox: a guest cannot set the VF's MAC"
else
    step --needs nic-release-all nic-mac-no-leak -- t_nic_mac_no_leak
fi
settle_net mac-no-leak
