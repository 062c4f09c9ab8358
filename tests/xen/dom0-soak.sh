#!/bin/bash
# `make soak` in dom0 (= DomD) of the emulated Xen board (/xvf/soak, run
# with xvf.run=/xvf/soak): xen-vfd serves XEN_VF_SOAK_CYCLES (the
# xvf.soak_cycles= word, default 50) xl create / xl destroy cycles,
# alternating a guest with vf:nvme0/ns2 and one with vf:<igb netdev>
# (a MAC on every other NIC cycle). Each cycle: xl create, the request is
# ready and its VF on pciback, the guest lists the VF, xl destroy, xen-vfd
# releases it. Then the leak check of the Xen tier (dom0-lib.sh). A guest
# whose kernel panics on its own, or an xl killed by a signal (both seen
# under host load, tests/xen/README.md), is reported, the domain
# destroyed, its VF's release checked and the cycle run again; more than
# xvf.soak_crashes= (default 3) such crashes fail the soak.
#
# Prints "XVF-SOAK cycle N/M <class> <bdf> create=..s guest=..s
# release=..s" per cycle and ends with "XVF-SOAK PASS cycles=M wall=Ns"
# or "XVF-SOAK FAIL: why".
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

step_detail() { echo "XVF-SOAK detail: $*"; }
# shellcheck source=tests/xen/dom0-lib.sh
. /xvf/lib/dom0-lib.sh

CYCLES=50
MAX_CRASHES=3
for w in "${words[@]}"; do
    case $w in
        xvf.soak_cycles=*) CYCLES=${w#*=} ;;
        xvf.soak_crashes=*) MAX_CRASHES=${w#*=} ;;
    esac
done

die() {
    echo "XVF-SOAK FAIL: $*"
    echo "--- xen-vfd log (tail)"
    grep xen-vfd /var/log/messages 2>/dev/null | tail -n 40
    echo "--- xenstore $XS_AREA"
    xenstore-ls -f "$XS_AREA" 2>/dev/null
    xl list 2>/dev/null
    exit 1
}

now() { cut -d' ' -f1 /proc/uptime; }
# secs T0 T1: T1 - T0 with one decimal
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

is_mounted /proc/xen || mount -t xenfs xenfs /proc/xen || die "no xenfs"
start_xen_daemons >/dev/null || die "the Xen daemons did not start"
wait_for 30 "/dev/${PF_NAME}n1" test -b "/dev/${PF_NAME}n1" ||
    die "no /dev/${PF_NAME}n1"
pf_bdf >"$RUN/pf" || die "no $PF_NAME"
npf=$(nic_pf) || die "no igb PF (8086:10c9)"
ifc=
for l in "/sys/bus/pci/devices/$npf"/net/*; do
    [ -e "$l" ] && ifc=${l##*/}
done
[ -n "$ifc" ] || die "igb PF $npf has no netdev"
ip link set "$ifc" up || die "ip link set $ifc up"
xen-vfd -p "$VFD_PID" || die "xen-vfd did not start"
[ "$(xenstore-read /local/domain/0/drivers/xen-vf/status)" = ready ] ||
    die "xen-vfd is not ready"
echo "XVF-SOAK start cycles=$CYCLES nvme=$(cat "$RUN/pf") nic=$npf ($ifc)"

# crashed RC WHAT: RC is a death by signal (xl aborting in libgcc_s's
# unwinder under host load, tests/xen/README.md): count and show it, and
# fail the soak after MAX_CRASHES. Returns 1 for any other failure.
crashed() {
    [ "$1" -gt 128 ] || return 1
    count_crash "$2 died of signal $(($1 - 128))"
}

count_crash() {
    crashes=$((crashes + 1))
    echo "XVF-SOAK crash $crashes: cycle $i: $1"
    [ "$crashes" -le "$MAX_CRASHES" ] || die "more than $MAX_CRASHES crashes"
}

# destroy_released NAME DOMID: xl destroy (again if xl itself crashes),
# then the domain's VF must come back.
destroy_released() {
    local rc=0
    for _ in 1 2 3; do
        xl domid "$1" >/dev/null 2>&1 || break
        rc=0
        xl destroy "$1" || rc=$?
        [ $rc -eq 0 ] && break
        crashed $rc "xl destroy $1" || die "cycle $i: xl destroy failed"
    done
    wait_for 60 "the release of domain $2" released_for "$2" ||
        die "cycle $i: domain $2's VF not released"
}

t_start=$(now)
crashes=0 n=0
for ((i = 1; i <= CYCLES; i++)); do
    n=$((n + 1))
    name=soak$n
    if ((i % 2)); then
        cls=nvme spec=vf:nvme0/ns2
    elif ((i % 4)); then
        cls=nic spec=vf:$ifc
    else
        cls=nic spec=$(printf 'vf:%s,mac=02:16:3e:00:01:%02x' "$ifc" $((i % 256)))
    fi
    # the guest lists its PCI devices only (xvf.blk=0: no nvme probe,
    # which takes about 25 s in a PV guest without MSI-X) and waits
    # (pcifront may take a minute to list the VF under host load)
    write_cfg "$name" "\"$spec\"" "xvf.hold=1 xvf.blk=0 xvf.wait=180"
    t0=$(now)
    rc=0
    xl create "$RUN/$name.cfg" >"$RUN/$name.create" 2>&1 || rc=$?
    if [ $rc -ne 0 ]; then
        cat "$RUN/$name.create"
        crashed $rc "xl create ($spec)" ||
            die "cycle $i: xl create ($spec) failed"
        # the domain may be there, with its VF: it must come back
        if id=$(xl domid "$name" 2>/dev/null); then
            destroy_released "$name" "$id"
        fi
        wait_for 60 "no request and no journal entry" sh -c \
            "[ -z \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" ] && \
             [ -z \"\$(xenstore-list $XS_AREA 2>/dev/null)\" ]" ||
            die "cycle $i: left over after xl create crashed"
        i=$((i - 1))
        continue
    fi
    id=$(xl domid "$name") || die "cycle $i: $name not listed"
    st=$(xenstore-read "$XS_AREA/$id/0/state" 2>/dev/null)
    bdf=$(xenstore-read "$XS_AREA/$id/0/bdf" 2>/dev/null)
    [ "$st" = ready ] || die "cycle $i: request state '$st'"
    drv=$(readlink "/sys/bus/pci/devices/$bdf/driver")
    [ "${drv##*/}" = pciback ] ||
        die "cycle $i: VF $bdf bound to '${drv##*/}'"
    t1=$(now)
    glog=$(guest_log "$name")
    if ! wait_for 240 "DOMU-DONE of $name" grep -q 'DOMU-DONE' "$glog"; then
        # The guest kernel died on its own (known under TCG with another
        # load on the host, tests/xen/README.md): Xen destroys it
        # (on_crash), and its VF must still come back. Counted, shown,
        # and the cycle runs again; more than MAX_CRASHES fail the soak.
        if grep -a -q 'Kernel panic' "$glog"; then
            count_crash "the guest $name panicked; its console:"
            tr -d '\r' <"$glog" | grep -a -v '^ *$' | tail -n 60
            destroy_released "$name" "$id"
            i=$((i - 1))
            continue
        fi
        tr -d '\r' <"$glog" | tail -n 60
        die "cycle $i: guest did not report"
    fi
    line=$(domu_line "$name" 'DOMU-PCI ')
    [ -n "$line" ] ||
        { tr -d '\r' <"$glog" | tail -n 40; die "cycle $i: the guest lists no PCI device"; }
    t2=$(now)
    destroy_released "$name" "$id"
    t3=$(now)
    echo "XVF-SOAK cycle $i/$CYCLES $cls $bdf create=$(secs "$t0" "$t1")s" \
        "guest=$(secs "$t1" "$t2")s release=$(secs "$t2" "$t3")s" \
        "(${line#*DOMU-PCI })"
done
wall=$(secs "$t_start" "$(now)")

leak_check "$CYCLES xl create/destroy cycles" || die "leak check failed"
kill -0 "$(cat "$VFD_PID")" || die "xen-vfd is gone"
echo "XVF-SOAK leak-check numvfs 0 (NVMe, igb), no VF, secondaries" \
    "offline 0 VQ/VI, ns2/ns3 detached, no journal, no xenstore request"
echo "XVF-SOAK PASS cycles=$CYCLES wall=${wall}s crashes=$crashes"
