#!/bin/bash
# The domd tier's test cases, run by /init inside the emulated DomD.
#
# Each case is a step of tests/lib/steps.sh with STEPS_ECHO=1, so its log
# and its "XVF-STEP <name> PASS|FAIL|BLOCKED <detail>" line reach the host
# over the serial console (tests/domd/run.sh imports them). Sanity steps
# use nvme-cli and sysfs only; the xen-vfctl cases assert through nvme-cli
# and sysfs too, never only through xen-vfctl's own report.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/steps.sh
. "$here/lib/steps.sh"
# shellcheck source=tests/domd/guest/lib.sh
. "$here/lib.sh"

export STEPS_ECHO=1
export STEPS_TIMEOUT=${STEPS_TIMEOUT:-120}
steps_init domd-guest /tmp/steps

PF=$(pf_bdf || true)
S_REF=/tmp/state-refusals
S_ONE=/tmp/state-single
S_TWO=/tmp/state-two
S_RE=/tmp/state-reprepare
S_IRQ=/tmp/state-irq
mkdir -p "$S_REF" "$S_ONE" "$S_TWO" "$S_RE" "$S_IRQ"
SPEC2=vf:nvme0/ns2,driver=nvme
SPEC3=vf:nvme0/ns3,driver=nvme
SPEC4=vf:nvme0/ns4,driver=nvme

# Between groups: a group that failed half-way may leave a VF behind;
# reset the device by hand so the next group starts from power-on state.
# Not a test (it asserts nothing); it says on the console when it acted.
settle() {
    if ! device_clean >/dev/null 2>&1; then
        echo "XVF-NOTE device not clean after $1; resetting it by hand"
        device_reset >/dev/null 2>&1
        device_clean >/dev/null 2>&1 ||
            echo "XVF-NOTE device still not clean after the reset"
    fi
}

# --- sanity: nvme-cli and sysfs only --------------------------------------

t_pf_present() {
    [ -n "$PF" ] || { fail "no /sys/class/nvme/$PFNAME"; return 1; }
    echo "PF $PFNAME at $PF, driver $(vf_driver "$PF")"
    [ "$(vf_driver "$PF")" = nvme ] || { fail "PF driver not nvme"; return 1; }
    [ -c "$PFDEV" ] || { fail "$PFDEV missing"; return 1; }
    local t
    t=$(cat "$SYSPCI/$PF/sriov_totalvfs")
    [ "$t" = 2 ] || { fail "sriov_totalvfs $t, want 2"; return 1; }
    step_detail "$PF sriov_totalvfs=2"
}

t_pf_identify() {
    local j c o
    j=$(nvme id-ctrl "$PFDEV" -o json) || { fail "id-ctrl failed"; return 1; }
    c=$(jq -r .cntlid <<<"$j")
    o=$(jq -r .oacs <<<"$j")
    echo "cntlid $c oacs $o"
    # OACS bit 7: Virtualization Management.
    (( (o & 0x80) != 0 )) || { fail "no Virtualization Management"; return 1; }
    step_detail "cntlid=$c oacs=$(printf 0x%x "$o")"
}

t_primary_caps() {
    local j
    j=$(nvme primary-ctrl-caps "$PFDEV" -o json) || return 1
    echo "$j"
    [ "$(jq .vqfrt <<<"$j")" = 8 ] || { fail "vqfrt != 8"; return 1; }
    [ "$(jq .vifrt <<<"$j")" = 4 ] || { fail "vifrt != 4"; return 1; }
    step_detail "vqfrt=8 vifrt=4 vqfrsm=$(jq .vqfrsm <<<"$j")"
}

t_list_secondary() {
    local j
    j=$(secondary_json "$PFNAME") || return 1
    echo "$j"
    [ "$(jq .num <<<"$j")" = 2 ] || { fail "not 2 secondaries"; return 1; }
    device_clean || { fail "device not in power-on state"; return 1; }
    step_detail "2 secondaries, all offline with 0 VQ/VI"
}

t_ns1_read() {
    pf_healthy || return 1
    step_detail "nvme0n1 reads XVF-SIG ns1"
}

t_xvfctl_present() {
    [ -x "$XVFCTL" ] || { fail "$XVFCTL not in the image (build failed?)"; \
        return 1; }
    x "$XVFCTL" check "$SPEC2" || { fail "xen-vfctl check failed"; return 1; }
}

t_status_idle() {
    local j
    xvf "$S_REF" status --json
    [ "$XVF_RC" = 0 ] || { fail "status exit $XVF_RC"; return 1; }
    j=$XVF_OUT
    jq -e --arg pf "$PF" '.pfs[] | select(.bdf == $pf) |
        .totalvfs == 2 and .numvfs == 0 and .vq.total == 8 and
        .vi.total == 4 and (.secondaries | length) == 2' <<<"$j" ||
        { fail "status --json does not describe the idle PF"; return 1; }
    jq -e '.journal | length == 0' <<<"$j" >/dev/null ||
        { fail "journal not empty"; return 1; }
    step_detail "status --json matches the idle PF"
}

# The igb NIC is there for the NIC work: the PF must be bound and SR-IOV
# capable, so a later NIC case starts from a known board.
t_nic_present() {
    local n
    [ -e "$SYSPCI/0000:02:00.0" ] ||
        { fail "no PCI device at 0000:02:00.0"; return 1; }
    n=$(vf_driver 0000:02:00.0)
    [ "$n" = igb ] || { fail "0000:02:00.0 driver '$n', want igb"; return 1; }
    n=$(cat "$SYSPCI/0000:02:00.0/sriov_totalvfs")
    [ "$n" -ge 1 ] || { fail "igb sriov_totalvfs $n"; return 1; }
    step_detail "igb at 0000:02:00.0, sriov_totalvfs=$n," \
        "netdev $(ls "$SYSPCI/0000:02:00.0/net" 2>/dev/null)"
}

step pf-present -- t_pf_present
step --needs pf-present pf-identify -- t_pf_identify
step --needs pf-identify primary-caps -- t_primary_caps
step --needs pf-present list-secondary -- t_list_secondary
step --needs pf-present pf-ns1-read -- t_ns1_read
step --needs none nic-present -- t_nic_present
step --needs none xen-vfctl-present -- t_xvfctl_present
step --needs xen-vfctl-present,list-secondary status-idle -- t_status_idle

# --- refusals: exit 1 (or 2), a message, nothing changed ------------------

# refuse NAME WANT_RC SPEC [EXTRA_ARGS...]
refuse() {
    local want=$1 spec=$2 st=${3:-$S_REF} before after
    before=$(dev_snapshot "$st")
    xvf "$st" prepare --local "$spec"
    after=$(dev_snapshot "$st")
    if [ "$XVF_RC" != "$want" ]; then
        fail "exit $XVF_RC, want $want"
        return 1
    fi
    [ -z "$XVF_OUT" ] || { fail "printed '$XVF_OUT' on stdout"; return 1; }
    [[ $XVF_ERR == xen-vfctl:* ]] ||
        { fail "no 'xen-vfctl: ...' message on stderr"; return 1; }
    if [ "$before" != "$after" ]; then
        diff <(echo "$before") <(echo "$after")
        fail "device state changed"
        return 1
    fi
    step_detail "exit $want: $(head -n 1 <<<"$XVF_ERR" | cut -c1-100)"
}

R='pf-present,xen-vfctl-present,list-secondary'
step --needs $R refuse-ns1-primary -- refuse 1 vf:nvme0/ns1,driver=nvme
step --needs $R refuse-unknown-ctrl -- refuse 1 vf:nvme9/ns2,driver=nvme
step --needs $R refuse-unknown-ns -- refuse 1 vf:nvme0/ns7,driver=nvme
step --needs $R refuse-vq-99 -- refuse 1 vf:nvme0/ns2,driver=nvme,vq=99
step --needs $R refuse-malformed -- refuse 2 vf:nvme0/nsX
step --needs $R refuse-malformed-key -- refuse 2 vf:nvme0/ns2,colour=red

t_release_unprepared() {
    local before after
    before=$(dev_snapshot "$S_REF")
    xvf "$S_REF" release --local "$SPEC2"
    after=$(dev_snapshot "$S_REF")
    [ "$XVF_RC" = 1 ] || { fail "exit $XVF_RC, want 1"; return 1; }
    [[ $XVF_ERR == *"no VF prepared"* ]] ||
        { fail "message lacks 'no VF prepared'"; return 1; }
    [ "$before" = "$after" ] || { fail "device state changed"; return 1; }
    step_detail "exit 1: $XVF_ERR"
}
step --needs $R release-unprepared -- t_release_unprepared
settle refusals

# --- one VF: prepare, use, release ----------------------------------------

# prepare_ok STATE SPEC NSID VARNAME - prepare and check the VF and its
# namespace through sysfs; sets VARNAME to the BDF.
prepare_ok() {
    local st=$1 spec=$2 nsid=$3 var=$4 vf drv blk sig
    xvf "$st" -v prepare --local "$spec"
    [ "$XVF_RC" = 0 ] || { fail "prepare exit $XVF_RC: $XVF_ERR"; return 1; }
    vf=$XVF_OUT
    is_bdf "$vf" || { fail "stdout '$vf' is not a BDF"; return 1; }
    printf '%s\n' "$vf" >"/tmp/$var"
    [ "$(readlink -f "$SYSPCI/$vf/physfn")" = "$(readlink -f "$SYSPCI/$PF")" ] ||
        { fail "$vf is not a VF of $PF"; return 1; }
    drv=$(vf_driver "$vf")
    echo "VF $vf driver $drv"
    [ "$drv" = nvme ] || { fail "$vf driver '$drv', want nvme"; return 1; }
    blk=$(vf_blockdev "$vf" "$nsid" 15) ||
        { fail "no block device for ns$nsid under $vf"; return 1; }
    printf '%s\n' "$blk" >"/tmp/$var.blk"
    echo "namespace $nsid of $vf is $blk"
    sig=$(read_sig "$blk")
    echo "sector 0: $sig"
    [ "$sig" = "XVF-SIG ns$nsid" ] ||
        { fail "$blk reads '$sig', not 'XVF-SIG ns$nsid'"; return 1; }
    step_detail "$vf driver=nvme $blk reads XVF-SIG ns$nsid"
}

# secondary_ok VF - nvme-cli: the VF's secondary is online with VQ/VI.
secondary_ok() {
    local vfn scid e
    vfn=$(vf_vfn "$PF" "$1") || { fail "$1 is no virtfn of $PF"; return 1; }
    e=$(secondary_json "$PFNAME" | jq -c --argjson v "$vfn" \
        '."secondary-controllers"[] | select(."virtual-function-number" == $v)')
    echo "nvme list-secondary entry for VFN $vfn: $e"
    scid=$(jq -r '."secondary-controller-identifier"' <<<"$e")
    jq -e '."secondary-controller-state" == 1 and
        ."num-virtual-queues" > 0 and ."num-virtual-interrupts" > 0' \
        <<<"$e" >/dev/null ||
        { fail "secondary $scid not online with VQ/VI"; return 1; }
    echo "$scid"
}

t_prepare_ns2() {
    prepare_ok "$S_ONE" "$SPEC2" 2 vf2
}

t_io_ns2() {
    io_check "$(cat /tmp/vf2.blk)" ns2-single ||
        { fail "read back differs"; return 1; }
    step_detail "256 KiB written, caches dropped, read back equal"
}

t_status_ns2() {
    local vf scid j
    vf=$(cat /tmp/vf2)
    scid=$(secondary_ok "$vf" | tail -n 1) || return 1
    xvf "$S_ONE" status --json
    j=$XVF_OUT
    # NIC PFs are in .pfs too (class "net"), with VFs, not secondaries
    jq -e --arg vf "$vf" '[.pfs[] | select(.class == "nvme") |
        .secondaries[] | select(.vf == $vf and .state == "online" and
        .nvq > 0 and .nvi > 0 and .driver == "nvme")] | length == 1' \
        <<<"$j" ||
        { fail "status: no online secondary with VQ/VI for $vf"; return 1; }
    jq -e --arg vf "$vf" --argjson sc "$scid" '[.journal[] |
        select(.vf == $vf and .nsid == 2 and .scid == $sc and
        .state == "ready" and .owner == "local")] | length == 1' <<<"$j" ||
        { fail "status: no ready journal entry for $vf"; return 1; }
    [ "$(ns_ctrls 2)" = "$(printf '0x%x ' "$scid")" ] ||
        { fail "ns2 attached to '$(ns_ctrls 2)', want secondary $scid"; \
          return 1; }
    step_detail "secondary $scid online, journal ready, ns2 attached to it"
}

t_pf_during() {
    pf_healthy || return 1
    step_detail "PF answers Identify and reads nvme0n1 while the VF runs"
}

t_release_ns2() {
    xvf "$S_ONE" -v release --local "$SPEC2"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC: $XVF_ERR"; return 1; }
}

t_released_ns2() {
    local vf d j
    vf=$(cat /tmp/vf2)
    d=$(vf_driver "$vf")
    [ -z "$d" ] || { fail "$vf still bound to $d"; return 1; }
    x nvme list-secondary "$PFDEV"
    j=$(secondary_json "$PFNAME")
    jq -e '."secondary-controllers"[] | select(."virtual-function-number"
        == 1) | ."secondary-controller-state" == 0 and
        ."num-virtual-queues" == 0 and ."num-virtual-interrupts" == 0' \
        <<<"$j" >/dev/null ||
        { fail "secondary of VF 1 not Offline with NVQ 0 NVI 0"; return 1; }
    device_clean || { fail "device not back to power-on state"; return 1; }
    xvf "$S_ONE" status --json
    jq -e '.journal | length == 0' <<<"$XVF_OUT" >/dev/null ||
        { fail "journal not empty"; return 1; }
    pf_healthy || return 1
    step_detail "VF unbound, secondary offline 0/0, numvfs 0, autoprobe 1," \
        "journal empty, PF fine"
}

step --needs $R prepare-ns2 -- t_prepare_ns2
step --needs prepare-ns2 io-ns2 -- t_io_ns2
step --needs prepare-ns2 status-ns2 -- t_status_ns2
step --needs prepare-ns2 pf-while-vf -- t_pf_during
step --needs prepare-ns2 release-ns2 -- t_release_ns2
step --needs release-ns2 released-ns2 -- t_released_ns2
settle single

# --- prepare again after release: offline zeroed VQ/VI --------------------

t_reprepare() {
    prepare_ok "$S_RE" "$SPEC2" 2 vf2b || return 1
    secondary_ok "$(cat /tmp/vf2b)" >/dev/null || return 1
    drop_caches
    local m
    m=$(dd if="$(cat /tmp/vf2b.blk)" bs=4096 skip=256 count=1 2>/dev/null |
        head -n 1)
    echo "data at 1 MiB: $m"
    [ "$m" = "XVF-VF-WROTE ns2-single" ] ||
        { fail "the first run's data is gone ('$m')"; return 1; }
    step_detail "$(cat /tmp/vf2b) again, VQ/VI reassigned, earlier data kept"
}

t_rerelease() {
    xvf "$S_RE" release --local "$(cat /tmp/vf2b)"
    [ "$XVF_RC" = 0 ] || { fail "release by BDF exit $XVF_RC"; return 1; }
    device_clean || { fail "device not clean"; return 1; }
    step_detail "released by BDF, device clean"
}

step --needs released-ns2 reprepare-ns2 -- t_reprepare
step --needs reprepare-ns2 rerelease-ns2 -- t_rerelease
settle reprepare

# --- two VFs at once -------------------------------------------------------

t_two_prepare3() {
    prepare_ok "$S_TWO" "$SPEC3" 3 vf3 || return 1
    [ "$(cat /tmp/vf3)" != "$(cat /tmp/vf2t)" ] ||
        { fail "same BDF as the ns2 VF"; return 1; }
}

t_two_io() {
    io_check "$(cat /tmp/vf2t.blk)" ns2-two || { fail "ns2 I/O"; return 1; }
    io_check "$(cat /tmp/vf3.blk)" ns3-two || { fail "ns3 I/O"; return 1; }
    [ "$(read_sig "$(cat /tmp/vf2t.blk)")" = "XVF-SIG ns2" ] ||
        { fail "ns2 signature changed under the ns3 VF"; return 1; }
    step_detail "I/O on both; $(cat /tmp/vf2t.blk) and $(cat /tmp/vf3.blk)"
}

t_two_status() {
    secondary_ok "$(cat /tmp/vf2t)" >/dev/null || return 1
    secondary_ok "$(cat /tmp/vf3)" >/dev/null || return 1
    xvf "$S_TWO" status --json
    jq -e '(.journal | length) == 2 and
        ([.pfs[] | select(.class == "nvme") | .secondaries[] |
        select(.state == "online")] | length) == 2' \
        <<<"$XVF_OUT" >/dev/null ||
        { fail "status: want 2 online secondaries, 2 journal entries"; \
          return 1; }
    step_detail "both secondaries online, 2 journal entries"
}

t_two_release() {
    xvf "$S_TWO" release --local "$SPEC2"
    [ "$XVF_RC" = 0 ] || { fail "release ns2 exit $XVF_RC"; return 1; }
    [ -z "$(vf_driver "$(cat /tmp/vf2t)")" ] ||
        { fail "ns2 VF still bound"; return 1; }
    # The other VF must survive its sibling's release.
    [ "$(vf_driver "$(cat /tmp/vf3)")" = nvme ] ||
        { fail "ns3 VF lost its driver when ns2 was released"; return 1; }
    [ "$(read_sig "$(cat /tmp/vf3.blk)")" = "XVF-SIG ns3" ] ||
        { fail "ns3 unreadable after releasing ns2"; return 1; }
    xvf "$S_TWO" release --local "$SPEC3"
    [ "$XVF_RC" = 0 ] || { fail "release ns3 exit $XVF_RC"; return 1; }
    device_clean || { fail "device not clean"; return 1; }
    pf_healthy || return 1
    step_detail "ns3 VF kept working while ns2 was released; all clean"
}

step --needs $R two-prepare-ns2 -- prepare_ok "$S_TWO" "$SPEC2" 2 vf2t
step --needs two-prepare-ns2 two-prepare-ns3 -- t_two_prepare3
step --needs two-prepare-ns3 refuse-third-vf -- refuse 1 "$SPEC4" "$S_TWO"
# ns2 is held: asking for it again by the PF's stable address is refused
step --needs two-prepare-ns3 refuse-ns-held -- \
    refuse 1 vf:0000:01:00.0/ns2 "$S_TWO"
step --needs two-prepare-ns3 two-io -- t_two_io
step --needs two-prepare-ns3 two-status -- t_two_status
step --needs two-prepare-ns2,two-prepare-ns3 two-release -- t_two_release
settle two

# --- the PF's interrupts lost (the R-Car S4's known issue) ----------------

# Masking the PF's MSI-X (Function Mask, bit 14 of Message Control) is
# what the guide's platform does after VFs are enabled: the nvme driver's
# timeout handler then finds each admin command done ("completion
# polled") and completes it, admin_timeout (60 s) late. The device state
# is compared while unmasked, since nvme-cli would wait those 60 s a
# command.
t_pf_irq_lost() {
    local before after t0 t1 ms polled0 polled1 q0
    before=$(dev_snapshot "$S_IRQ")
    q0=$(grep " ${PFNAME}q0\$" /proc/interrupts)
    echo "before: $q0"
    [ -n "$q0" ] || { fail "no ${PFNAME}q0 line in /proc/interrupts"; return 1; }
    polled0=$(dmesg | grep -c 'completion polled')
    x setpci -s "$PF" CAP_MSIX+2.w=4000:4000
    echo "MSI-X Message Control: $(setpci -s "$PF" CAP_MSIX+2.w)"
    t0=${EPOCHREALTIME/./}
    xvf "$S_IRQ" -v prepare --local "$SPEC2"
    t1=${EPOCHREALTIME/./}
    echo "after: $(grep " ${PFNAME}q0\$" /proc/interrupts)"
    x setpci -s "$PF" CAP_MSIX+2.w=0000:4000
    ms=$(( (t1 - t0) / 1000 ))
    echo "prepare took $ms ms"
    dmesg | grep 'completion polled' | tail -n 3
    polled1=$(dmesg | grep -c 'completion polled')
    after=$(dev_snapshot "$S_IRQ")
    [ "$XVF_RC" = 1 ] || { fail "prepare exit $XVF_RC, want 1"; return 1; }
    [[ $XVF_ERR == *"interrupt (${PFNAME}q0) did not fire before any change"* &&
       $XVF_ERR == *"interrupts are lost (a known issue"* &&
       $XVF_ERR == *"nothing was changed"* ]] ||
        { fail "message does not name the lost interrupts"; return 1; }
    [ "$ms" -lt 10000 ] ||
        { fail "refused after $ms ms, want well under 60 s"; return 1; }
    [ "$polled1" -gt "$polled0" ] ||
        { fail "no 'completion polled' in dmesg: not the real failure"; \
          return 1; }
    if [ "$before" != "$after" ]; then
        diff <(echo "$before") <(echo "$after")
        fail "device state changed"
        return 1
    fi
    step_detail "refused in $ms ms, dmesg 'completion polled', unchanged"
}

t_pf_irq_back() {
    prepare_ok "$S_IRQ" "$SPEC2" 2 vf2i || return 1
    xvf "$S_IRQ" release --local "$SPEC2"
    [ "$XVF_RC" = 0 ] || { fail "release exit $XVF_RC"; return 1; }
    device_clean || { fail "device not clean"; return 1; }
    pf_healthy || return 1
    step_detail "unmasked: $(cat /tmp/vf2i) prepared and released, clean"
}

step --needs $R pf-irq-lost -- t_pf_irq_lost
step --needs pf-irq-lost pf-irq-back -- t_pf_irq_back
# never leave the PF masked for the groups after this one
setpci -s "$PF" CAP_MSIX+2.w=0000:4000 2>/dev/null
settle pf-irq

# --- what real devices do: PF reset, primary-held resources --------------

# shellcheck source=tests/domd/guest/device-cases.sh
. "$here/device-cases.sh"

# --- NIC VFs (igb) ----------------------------------------------------------

# shellcheck source=tests/domd/guest/net-cases.sh
. "$here/net-cases.sh"

steps_finish
