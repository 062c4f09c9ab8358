#!/bin/bash
# Runs in dom0 (= DomD) of the Xen board (tests/xen/qemu-xen.sh) as the
# /init payload. Starts the Xen daemons and xen-vfd as the xen tier does
# (tests/xen/dom0-lib.sh), then measures, in interleaved rounds whose
# order rotates every round (round 0 is a warm-up):
#
#   floor       xvf-bench-floor prepare / release, driver pciback;
#               floor-inner: the prepare without the process's start (from
#               its own clock, as xenstore-answer)
#   floor-reset the floor with pciback's own reset at the bind (the engine
#               leaves the VF's reset to libxl's, at assignment)
#   engine      xen-vfctl prepare --local / release --local (pciback)
#   xenstore    a request written to xenstore as libxl writes it
#               -> xen-vfd answers ready; op=release -> xen-vfd
#               removed the request (xvf-bench-xs); for a paused domain
#               (the shipped configuration: no site hook, so xen-vfd
#               runs no hotplug script); xenstore-write: until the
#               request is committed, xenstore-pickup: from then until
#               the client read a state other than "requested"
#               xenstore-op: one xenstored round trip (200 reads, the
#               microseconds of one, as "wall ms" in the table)
#   xenstore-hook  the same with one site hook installed (the shipped
#               50-log.hook.sample), so the hotplug script runs
#   hotplug     the hotplug script xen-vfd runs then (xen-vf add /
#               remove, with that hook), alone, on a scratch xenstore path
#   create-vf   xl create -p with pci = [ "vf:nvme0/ns2" ]; xl destroy;
#               "released" is the wait for xen-vfd to finish releasing
#   create-bdf  the same VF prepared beforehand (xen-vfctl, untimed), xl
#               create -p with pci = [ "BDF" ]; xl destroy; release untimed
#   create-vf-nice0  create-vf with xen-vfd at nice 0 (it runs at the
#               nice level of xen-vfd.service otherwise)
#   create-vf-warm  create-vf with xen-vfd --keep-vfs and the PF's VFs
#               still enabled from a release before (untimed)
#   restart-vf  a guest restart with xen-vfd --keep-vfs: xl destroy, then
#               at once xl create of the same configuration (both timed)
#   restart-bdf the same with the BDF guest, its VF staying prepared
#   kcreate-vf, kcreate-bdf, kcreate-vf-warm, krestart-vf, krestart-bdf
#               the five above with a guest that has a real kernel (the
#               xen tier's domU kernel and initramfs), whose domain build
#               takes what a real one takes (xvf.bench_kernel_rounds)
#   sequential  two guests, vf:nvme0/ns2 and vf:nvme0/ns3, one xl create
#               after the other
#   concurrent  the same two xl create started together
#
# The guests are PV, created paused (-p) and never run; their kernel is
# bench/pv-stub.S, so that xl create does not spend seconds of emulated
# CPU decompressing a real kernel (the same in every variant, but noise).
#
# and at the end xen-vfd's footprint: context switches and CPU while idle,
# VmRSS / VmHWM / RssAnon, CPU per request (from the xenstore rounds).
#
# Output lines (console), collected by bench/run.sh:
#   XVF-BENCH run,ROUND,VARIANT,OP,WALL_US,USER_US,SYS_US,MAXRSS_KIB,RC
#   XVF-BENCH fp,KEY,VALUE
#   XVF-BENCH-NOTE text / XVF-BENCH-INFO / XVF-BENCH-END fails=N
# Kernel command line: xvf.bench_rounds=N (default 5),
# xvf.bench_pair_rounds=N (default 3), xvf.bench_kernel_rounds=N (default
# 2), xvf.bench_idle=SECONDS (default 10), xvf.bench_only=V1,V2,... (only
# these variants; default all), xvf.bench_vfd_nice=N (xen-vfd's nice
# level, default xen-vfd.service's -10)
set -uo pipefail
export PATH=/bench/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# dom0-lib.sh's fail() reports through step_detail.
step_detail() { :; }

# shellcheck source=tests/xen/dom0-lib.sh
. /xvf/lib/dom0-lib.sh

ROUNDS=5
PAIR_ROUNDS=3
KERNEL_ROUNDS=2
IDLE=10
ONLY=
# as xen-vfd.service (Nice=)
VFD_NICE=-10
for w in "${words[@]}"; do
    case $w in
        xvf.bench_rounds=*) ROUNDS=${w#*=} ;;
        xvf.bench_pair_rounds=*) PAIR_ROUNDS=${w#*=} ;;
        xvf.bench_kernel_rounds=*) KERNEL_ROUNDS=${w#*=} ;;
        xvf.bench_idle=*) IDLE=${w#*=} ;;
        xvf.bench_only=*) ONLY=${w#*=} ;;
        xvf.bench_vfd_nice=*) VFD_NICE=${w#*=} ;;
    esac
done

SPEC=vf:nvme0/ns2
NSID=2
T=/tmp/bench.t
OUT=/tmp/bench.out
ERR=/tmp/bench.err
HZ_US=$((1000000 / $(getconf CLK_TCK 2>/dev/null || echo 100)))
fails=0

note() { echo "XVF-BENCH-NOTE $*"; }
fp() { echo "XVF-BENCH fp,$1,$2"; }

# timed ROUND VARIANT OP CMD... (see bench/guest/domd-bench.sh)
timed() {
    local round=$1 variant=$2 op=$3 rc=0
    shift 3
    xvf-bench-time -o "$T" -- "$@" >"$OUT" 2>"$ERR" || rc=$?
    echo "XVF-BENCH run,$round,$variant,$op,$(cat "$T")"
    if [ $rc -ne 0 ]; then
        note "$variant $op failed ($rc): $(tail -c 400 "$ERR" | tr '\n' ' ')"
    fi
    return $rc
}

# row ROUND VARIANT OP US - a figure measured by other means
row() {
    echo "XVF-BENCH run,$1,$2,$3,$4,0,0,0,0"
}

vfd_pid() {
    cat "$VFD_PID"
}

# On-CPU nanoseconds of xen-vfd itself (schedstat), and the user + system
# microseconds of the children it waited for (its hotplug scripts).
vfd_cpu() {
    local pid s c
    pid=$(vfd_pid)
    read -r s _ </proc/"$pid"/schedstat
    c=$(awk -v hz="$HZ_US" '{ sub(/^.*\) /, ""); print ($14 + $15) * hz }' \
        /proc/"$pid"/stat)
    echo "$s $c"
}

released() {
    [ "$(journal_count)" = 0 ] && [ "$(xs_children "$XS_AREA")" = 0 ]
}

# Microseconds of the wall clock (busybox date has no %N).
now_us() {
    echo "${EPOCHREALTIME/./}"
}

# wait_released ROUND VARIANT - time until xen-vfd has released everything
wait_released() {
    local t0 t1
    t0=$(now_us)
    wait_for 60 "xen-vfd to release" released ||
        { note "$2: not released within 60 s"; return 1; }
    t1=$(now_us)
    row "$1" "$2" released $((t1 - t0))
}

v_floor() {
    local vf scid
    XVF_BENCH_STEPS=1 timed "$1" floor prepare xvf-bench-floor prepare \
        "$PF_NAME" "$NSID" pciback || return 1
    sed -n "s/^step,/XVF-BENCH step,$1,floor,prepare,/p" "$ERR"
    read -r vf scid us <"$OUT"
    row "$1" floor-inner prepare "$us"
    timed "$1" floor release xvf-bench-floor release "$PF_NAME" "$NSID" \
        "$scid" "$vf"
}

# the floor with pciback's own reset at the bind, as before the engine
# left it to libxl's reset at assignment
v_floor_reset() {
    local vf scid
    XVF_BENCH_PCIBACK_RESET=1 timed "$1" floor-reset prepare \
        xvf-bench-floor prepare "$PF_NAME" "$NSID" pciback || return 1
    read -r vf scid _ <"$OUT"
    timed "$1" floor-reset release xvf-bench-floor release "$PF_NAME" \
        "$NSID" "$scid" "$vf"
}

v_engine() {
    timed "$1" engine prepare xen-vfctl -v prepare --local "$SPEC" ||
        return 1
    sed -n -E "s/^xen-vfctl: step ([a-z-]+) took ([0-9]+) us$/XVF-BENCH step,$1,engine,prepare,\1,\2/p" "$ERR"
    timed "$1" engine release xen-vfctl release --local "$SPEC"
}

# vfd_cpu_rows ROUND OP BEFORE AFTER VARIANT - xen-vfd's CPU between two
# vfd_cpu, as VARIANT-cpu (itself) and VARIANT-cpu-script (its children)
vfd_cpu_rows() {
    local s0 c0 s1 c1
    read -r s0 c0 <<<"$3"
    read -r s1 c1 <<<"$4"
    row "$1" "$5-cpu" "$2" $(((s1 - s0) / 1000))
    row "$1" "$5-cpu-script" "$2" $((c1 - c0))
}

# On-CPU microseconds of xenstored so far (schedstat).
xsd_cpu() {
    local s
    read -r s _ </proc/"$(cat /run/xen/xenstored.pid)"/schedstat
    echo $((s / 1000))
}

# xs_cycle ROUND NAME - one request and its release through xen-vfd;
# NAME-xsd-cpu: xenstored's CPU for the prepare
xs_cycle() {
    local a us x w p
    a=$(vfd_cpu)
    x=$(xsd_cpu)
    timed "$1" "$2" prepare xvf-bench-xs prepare "$OWNER" 0 "$SPEC" ||
        return 1
    row "$1" "$2-xsd-cpu" prepare $(($(xsd_cpu) - x))
    vfd_cpu_rows "$1" prepare "$a" "$(vfd_cpu)" "$2"
    read -r us _ w p <"$OUT"
    row "$1" "$2-answer" prepare "$us"
    row "$1" "$2-write" prepare "$w"
    row "$1" "$2-pickup" prepare "$p"
    a=$(vfd_cpu)
    timed "$1" "$2" release xvf-bench-xs release "$OWNER" 0 || return 1
    vfd_cpu_rows "$1" release "$a" "$(vfd_cpu)" "$2"
    read -r us <"$OUT"
    row "$1" "$2-answer" release "$us"
}

v_xenstore() {
    xs_cycle "$1" xenstore || return 1
    xvf-bench-xs ops 200 >"$OUT" 2>"$ERR" ||
        { note "xenstore ops failed: $(cat "$ERR")"; return 1; }
    row "$1" xenstore-op read "$(cat "$OUT")"
    xvf-bench-xs ops 200 watched >"$OUT" 2>"$ERR" ||
        { note "xenstore ops failed: $(cat "$ERR")"; return 1; }
    row "$1" xenstore-op watched "$(cat "$OUT")"
}

# start_vfd [ARGS] - (re)start xen-vfd and wait until it says ready
start_vfd() {
    local old
    if [ -s "$VFD_PID" ] && old=$(vfd_pid) && kill -0 "$old" 2>/dev/null
    then
        kill "$old"
        wait_for 10 "xen-vfd $old to stop" sh -c "! kill -0 $old" ||
            return 1
    fi
    xen-vfd -p "$VFD_PID" "$@" || return 1
    wait_for 10 "xen-vfd ready" vfd_ready || return 1
    [ "$VFD_NICE" = 0 ] || renice -n "$VFD_NICE" -p "$(vfd_pid)" >/dev/null
}

HOOK_SAMPLE=/etc/xen/scripts/xen-vf-nvme-add.d/50-log.hook.sample

# hooks on|off - the one site hook of xenstore-hook and hotplug
hooks() {
    local c
    for c in add remove; do
        if [ "$1" = on ]; then
            mkdir -p "/etc/xen/scripts/xen-vf-nvme-$c.d"
            cp "$HOOK_SAMPLE" "/etc/xen/scripts/xen-vf-nvme-$c.d/50-log.hook"
            chmod +x "/etc/xen/scripts/xen-vf-nvme-$c.d/50-log.hook"
        else
            rm -f "/etc/xen/scripts/xen-vf-nvme-$c.d/50-log.hook"
        fi
    done
}

v_xenstore_hook() {
    local rc=0
    hooks on
    xs_cycle "$1" xenstore-hook || rc=1
    hooks off
    return $rc
}

# The hotplug script with what xen-vfd gives it, on a path of its own.
v_hotplug() {
    local rc=0
    hooks on
    hotplug_pair "$1" || rc=1
    hooks off
    return $rc
}

hotplug_pair() {
    local vf=$HOTPLUG_VF p=/local/domain/0/backend/vf-bench/$OWNER/0
    xenstore-write "$p/state" bench || return 1
    XENBUS_PATH=$p XVF_CLASS=nvme XVF_SPEC=$SPEC XVF_PF=$(cat "$RUN/pf") \
        XVF_VF=$vf XVF_DOMID=$OWNER XVF_SCID=1 XVF_NSID=$NSID \
        timed "$1" hotplug add /etc/xen/scripts/xen-vf add || return 1
    XENBUS_PATH=$p XVF_CLASS=nvme XVF_SPEC=$SPEC XVF_PF=$(cat "$RUN/pf") \
        XVF_VF=$vf XVF_DOMID=$OWNER XVF_SCID=1 XVF_NSID=$NSID \
        timed "$1" hotplug remove /etc/xen/scripts/xen-vf remove
    xenstore-rm /local/domain/0/backend/vf-bench
}

# guest_cfg NAME PCI-ENTRIES KERNEL MEMORY-MB [RAMDISK] - a PV guest
guest_cfg() {
    {
        printf 'name = "%s"\ntype = "pv"\nkernel = "%s"\n' "$1" "$3"
        [ -z "${5:-}" ] || printf 'ramdisk = "%s"\n' "$5"
        printf 'memory = %s\nvcpus = 1\n' "$4"
        printf 'on_%s = "destroy"\n' poweroff reboot crash
        printf 'pci = [ %s ]\n' "$2"
    } >"$RUN/$1.cfg"
}

# bench_cfg NAME PCI-ENTRIES - a PV guest that is created paused, never
# runs, and whose kernel the builder loads in no time
bench_cfg() {
    guest_cfg "$1" "$2" /bench/pv-stub 16
}

# kernel_cfg NAME PCI-ENTRIES - the same with the xen tier's domU kernel
# and initramfs (96 MB: the least that kernel loads into)
kernel_cfg() {
    guest_cfg "$1" "$2" /xvf/domu/vmlinuz 96 /xvf/domu/initrd.gz
}

# The guests of the create and restart variants: the stub (bvf, bbdf,
# variants as named) or, for the k* variants, the real kernel (kvf, kbdf).
GV=bvf
GB=bbdf
VP=
CFG=bench_cfg

TRACE=/tmp/bench.trace

# traced_create ROUND VARIANT CFG - timed xl create -p CFG, with its
# timeline from xvf-bench-xs trace as rows of VARIANT: intro (xl start
# -> the domain introduced, after its build), ask (xl start -> the
# request), answer (request -> ready), handover (ready -> Dom0's pciback
# backend written: libxl hands the device over), record (ready, or for a
# BDF the introduction, -> libxl's /libxl/pci record, written just
# before it resets the device), reset (that record -> the backend
# written: the reset and the assignment), pci (xl start -> the
# hand-over), after (hand-over -> xl exits)
traced_create() {
    local tp t0 t3 rc=0 req ready pci intro rec
    : >"$TRACE"
    xvf-bench-xs trace >"$TRACE" 2>/dev/null &
    tp=$!
    wait_for 10 "the tracer" grep -q armed "$TRACE" ||
        { kill "$tp"; return 1; }
    t0=$(now_us)
    timed "$1" "$2" create xl create -p "$3" || rc=1
    t3=$(now_us)
    kill "$tp" 2>/dev/null
    wait "$tp" 2>/dev/null
    [ $rc = 0 ] || return 1
    req=$(awk -v t="$t0" '$1 > t && $2 == "name" { print $1; exit }' "$TRACE")
    ready=$(awk -v t="$t0" '$1 > t && $2 == "name" && $3 == "ready" {
        print $1; exit }' "$TRACE")
    pci=$(awk -v t="$t0" '$1 > t && $2 == "pci" { print $1; exit }' "$TRACE")
    intro=$(awk -v t="$t0" '$1 > t && $2 == "intro" { print $1; exit }' "$TRACE")
    rec=$(awk -v t="$t0" '$1 > t && $2 == "record" { r = $1 }
        $2 == "pci" { exit } END { print r }' "$TRACE")
    if [ -z "$pci" ]; then
        note "$2: no pciback backend seen during xl create"
        return 1
    fi
    if [ -n "$req" ] && [ -n "$ready" ]; then
        row "$1" "$2" ask $((req - t0))
        row "$1" "$2" answer $((ready - req))
        row "$1" "$2" handover $((pci - ready))
    fi
    row "$1" "$2" pci $((pci - t0))
    row "$1" "$2" after $((t3 - pci))
    [ -z "$intro" ] || row "$1" "$2" intro $((intro - t0))
    if [ -n "$rec" ]; then
        row "$1" "$2" record $((rec - ${ready:-${intro:-$t0}}))
        row "$1" "$2" reset $((pci - rec))
    fi
}

v_create_vf() {
    traced_create "$1" "${VP}create-vf" "$RUN/$GV.cfg" || return 1
    timed "$1" "${VP}create-vf" destroy xl destroy "$GV" || return 1
    wait_released "$1" "${VP}create-vf"
}

# create-vf with xen-vfd at nice 0 instead of the unit's level
v_create_vf_nice0() {
    local rc=0 v=${VP}create-vf-nice0
    renice -n $((-VFD_NICE)) -p "$(vfd_pid)" >/dev/null ||
        { note "$v: renice failed"; return 1; }
    traced_create "$1" "$v" "$RUN/$GV.cfg" || rc=1
    [ $rc -ne 0 ] || timed "$1" "$v" destroy xl destroy "$GV" || rc=1
    renice -n "$VFD_NICE" -p "$(vfd_pid)" >/dev/null || rc=1
    [ $rc -ne 0 ] || wait_released "$1" "$v" || rc=1
    return $rc
}

# with_keep VARIANT FN ARGS... - FN with xen-vfd --keep-vfs, then back to
# the default (whose start disables the VFs kept enabled)
with_keep() {
    local rc=0 v=$1
    shift
    start_vfd --keep-vfs 600 || { note "$v: xen-vfd -k did not start"; return 1; }
    "$@" || rc=1
    start_vfd || { note "$v: xen-vfd did not restart"; return 1; }
    return $rc
}

warm_vf() {
    if ! xl create -p "$RUN/$GV.cfg" >/dev/null 2>&1 ||
        ! xl destroy "$GV" >/dev/null 2>&1 ||
        ! wait_for 60 "xen-vfd to release" released; then
        note "$1: warming the PF failed"
        return 1
    fi
}

create_vf_warm() {
    local v=${VP}create-vf-warm
    warm_vf "$v" || return 1
    traced_create "$1" "$v" "$RUN/$GV.cfg" || return 1
    timed "$1" "$v" destroy xl destroy "$GV" || return 1
    wait_released "$1" "$v"
}

v_create_vf_warm() {
    with_keep "${VP}create-vf-warm" create_vf_warm "$1"
}

restart_vf() {
    local v=${VP}restart-vf
    xl create -p "$RUN/$GV.cfg" >/dev/null 2>&1 ||
        { note "$v: first create failed"; return 1; }
    timed "$1" "$v" destroy xl destroy "$GV" || return 1
    timed "$1" "$v" create xl create -p "$RUN/$GV.cfg" || return 1
    xl destroy "$GV" >/dev/null 2>&1
    wait_released "$1" "$v"
}

v_restart_vf() {
    with_keep "${VP}restart-vf" restart_vf "$1"
}

v_restart_bdf() {
    local vf rc=0 v=${VP}restart-bdf
    vf=$(xen-vfctl prepare --local "$SPEC") ||
        { note "$v: xen-vfctl prepare failed"; return 1; }
    "$CFG" "$GB" "\"$vf\""
    if xl create -p "$RUN/$GB.cfg" >/dev/null 2>&1; then
        timed "$1" "$v" destroy xl destroy "$GB" || rc=1
        timed "$1" "$v" create xl create -p "$RUN/$GB.cfg" || rc=1
        xl destroy "$GB" >/dev/null 2>&1
    else
        note "$v: first create failed"
        rc=1
    fi
    xen-vfctl release --local "$vf" ||
        { note "$v: xen-vfctl release failed"; return 1; }
    return $rc
}

v_create_bdf() {
    local vf v=${VP}create-bdf
    vf=$(xen-vfctl prepare --local "$SPEC") ||
        { note "$v: xen-vfctl prepare failed"; return 1; }
    "$CFG" "$GB" "\"$vf\""
    traced_create "$1" "$v" "$RUN/$GB.cfg" || return 1
    timed "$1" "$v" destroy xl destroy "$GB" || return 1
    xen-vfctl release --local "$vf" ||
        { note "$v: xen-vfctl release failed"; return 1; }
}

# The same five with a PV guest that has a real kernel (kernel_cfg), so
# that the domain build takes what it takes and the early request can
# overlap it.
kernel_set() {
    local rc=0
    GV=kvf GB=kbdf VP=k CFG=kernel_cfg
    "$@" || rc=1
    GV=bvf GB=bbdf VP='' CFG=bench_cfg
    return $rc
}
v_kcreate_vf() { kernel_set v_create_vf "$1"; }
v_kcreate_bdf() { kernel_set v_create_bdf "$1"; }
v_kcreate_vf_warm() { kernel_set v_create_vf_warm "$1"; }
v_krestart_vf() { kernel_set v_restart_vf "$1"; }
v_krestart_bdf() { kernel_set v_restart_bdf "$1"; }

# create_bg N - start xl create -p cN under xvf-bench-time, in the
# background; its line goes to $T.N, its output to $OUT.N
create_bg() {
    xvf-bench-time -o "$T.$1" -- xl create -p "$RUN/c$1.cfg" \
        >"$OUT.$1" 2>&1 &
}

# pair_rows ROUND VARIANT T0 RC1 RC2 - the whole and each create
pair_rows() {
    local t1 n ok=0
    t1=$(now_us)
    row "$1" "$2" both $((t1 - $3))
    for n in 1 2; do
        echo "XVF-BENCH run,$1,$2,c$n,$(cat "$T.$n")"
    done
    if [ "$4" -ne 0 ] || [ "$5" -ne 0 ]; then
        note "$2: xl create failed: $(cat "$OUT.1" "$OUT.2" | tr '\n' ' ')"
        ok=1
    fi
    return $ok
}

# destroy_pair ROUND VARIANT - both guests at once (each xl destroy of a
# paused PV guest with a device waits 10 s for a backend that never
# connects), then until xen-vfd has released both VFs
destroy_pair() {
    local a b rc=0
    xl destroy c1 &
    a=$!
    xl destroy c2 &
    b=$!
    wait $a || rc=1
    wait $b || rc=1
    [ $rc -eq 0 ] || { note "$2: xl destroy failed"; return 1; }
    wait_released "$1" "$2"
}

v_sequential() {
    local t0 r1=0 r2=0
    t0=$(now_us)
    create_bg 1
    wait $! || r1=$?
    create_bg 2
    wait $! || r2=$?
    pair_rows "$1" sequential "$t0" $r1 $r2 || return 1
    destroy_pair "$1" sequential
}

v_concurrent() {
    local t0 a b r1=0 r2=0
    t0=$(now_us)
    create_bg 1
    a=$!
    create_bg 2
    b=$!
    wait $a || r1=$?
    wait $b || r2=$?
    pair_rows "$1" concurrent "$t0" $r1 $r2 || return 1
    destroy_pair "$1" concurrent
}

# Nothing held, no guest but the owner: what every variant starts from.
# Anything left behind is cleaned up, noted and counted as a failure.
ensure_clean() {
    local d pf bad=0
    pf=$(cat "$RUN/pf")
    for d in bvf bbdf kvf kbdf c1 c2; do
        xl list "$d" >/dev/null 2>&1 || continue
        note "$d left running after $1"
        xl destroy "$d"
        bad=1
    done
    wait_for 60 "releases after $1" released ||
        { note "not released after $1"; bad=1; }
    if [ "$(journal_count)" != 0 ]; then
        bad=1
        note "journal left after $1: $(ls "$STATE_DIR")"
        xen-vfctl release --local --owner local
        for d in "$STATE_DIR"/vf-*; do
            [ -e "$d" ] && xen-vfctl release --local \
                "$(sed -n 's/^vf=//p' "$d")"
        done
    fi
    if [ "$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")" != 0 ]; then
        note "VFs left after $1 (floor failed?): resetting"
        for d in /sys/bus/pci/devices/"$pf"/virtfn*; do
            d=$(basename "$(readlink -f "$d")")
            [ -e "/sys/bus/pci/devices/$d/driver" ] &&
                echo "$d" >"/sys/bus/pci/devices/$d/driver/unbind"
            echo >"/sys/bus/pci/devices/$d/driver_override"
        done
        for d in 2 3; do
            nvme detach-ns "/dev/$PF_NAME" -n $d -c 1 >/dev/null 2>&1
            nvme detach-ns "/dev/$PF_NAME" -n $d -c 2 >/dev/null 2>&1
        done
        echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs"
        nvme virt-mgmt "/dev/$PF_NAME" -c 1 -a 7 >/dev/null 2>&1
        nvme virt-mgmt "/dev/$PF_NAME" -c 2 -a 7 >/dev/null 2>&1
        bad=1
    fi
    if [ "$(cat "/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe")" != 1 ]
    then
        note "autoprobe left off after $1"
        bad=1
    fi
    echo 1 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
    return $bad
}

# rounds N VARIANT... - N rounds after a warm-up, order rotating
rounds() {
    local n=$1 round i v k vs=()
    shift
    for v in "$@"; do
        [ -z "$ONLY" ] || [[ ",$ONLY," == *",$v,"* ]] && vs+=("$v")
    done
    k=${#vs[@]}
    for ((round = 0; round <= n; round++)); do
        for ((i = 0; i < k; i++)); do
            v=${vs[$(((i + round) % k))]}
            "v_${v//-/_}" "$round" || fails=$((fails + 1))
            ensure_clean "$v round $round" || fails=$((fails + 1))
        done
    done
}

# status_kv PID KEY - a value of /proc/PID/status, in kB where it has units
status_kv() {
    sed -n "s/^$2:[[:space:]]*\\([0-9]*\\).*/\\1/p" "/proc/$1/status"
}

# idle_sample SECONDS TAG - what xen-vfd does while nothing happens
idle_sample() {
    local pid s0 s1 c0 c1 n0 n1 r0 r1
    pid=$(vfd_pid)
    read -r s0 _ n0 </proc/"$pid"/schedstat
    c0=$(( $(status_kv "$pid" voluntary_ctxt_switches) + \
        $(status_kv "$pid" nonvoluntary_ctxt_switches) ))
    r0=$(now_us)
    sleep "$1"
    r1=$(now_us)
    read -r s1 _ n1 </proc/"$pid"/schedstat
    c1=$(( $(status_kv "$pid" voluntary_ctxt_switches) + \
        $(status_kv "$pid" nonvoluntary_ctxt_switches) ))
    fp "idle_$2_seconds" "$(awk -v a="$r0" -v b="$r1" \
        'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
    fp "idle_$2_context_switches" $((c1 - c0))
    fp "idle_$2_timeslices" $((n1 - n0))
    fp "idle_$2_cpu_us" $(((s1 - s0) / 1000))
}

# --- setup

is_mounted /proc/xen || mount -t xenfs xenfs /proc/xen ||
    { note "cannot mount xenfs"; echo "XVF-BENCH-END fails=1"; exit 1; }
start_xen_daemons >/tmp/daemons.log 2>&1 ||
    { note "Xen daemons: $(tail -n 5 /tmp/daemons.log | tr '\n' ' ')"; \
      echo "XVF-BENCH-END fails=1"; exit 1; }
wait_for 30 "/dev/${PF_NAME}n1" test -b "/dev/${PF_NAME}n1" ||
    { note "no $PF_NAME"; echo "XVF-BENCH-END fails=1"; exit 1; }
pf_bdf >"$RUN/pf"
vfd_ready() {
    [ "$(xenstore-read /local/domain/0/drivers/xen-vf/status)" = ready ]
}
# The shipped configuration: no site hook (the board has the xen tier's).
rm -f /etc/xen/scripts/xen-vf-nvme-*.d/*.hook
start_vfd ||
    { note "xen-vfd did not start"; echo "XVF-BENCH-END fails=1"; exit 1; }
fp vfd_start_VmRSS_kB "$(status_kv "$(vfd_pid)" VmRSS)"
fp vfd_start_RssAnon_kB "$(status_kv "$(vfd_pid)" RssAnon)"
idle_sample "$IDLE" start

# The guest the xenstore requests are for: it exists (xen-vfd checks) and
# never runs.
bench_cfg owner ""
xl create -p "$RUN/owner.cfg" >/tmp/owner.log 2>&1 ||
    { note "owner domain: $(tr '\n' ' ' </tmp/owner.log)"; \
      echo "XVF-BENCH-END fails=1"; exit 1; }
OWNER=$(xl domid owner)
# The VF the hotplug script is told about (it only logs it).
HOTPLUG_VF=$(cat "$RUN/pf")
HOTPLUG_VF=${HOTPLUG_VF%.0}.1
bench_cfg bvf "\"$SPEC\""
kernel_cfg kvf "\"$SPEC\""
bench_cfg c1 '"vf:nvme0/ns2"'
bench_cfg c2 '"vf:nvme0/ns3"'

echo "XVF-BENCH-INFO board=xen $(xl info | sed -n 's/^xen_version *: /xen=/p')" \
    "dom0=$(uname -r) vcpus=$(grep -c ^processor /proc/cpuinfo)" \
    "rounds=$ROUNDS pair_rounds=$PAIR_ROUNDS kernel_rounds=$KERNEL_ROUNDS"

rounds "$ROUNDS" floor floor-reset engine xenstore xenstore-hook hotplug \
    create-vf create-vf-nice0 create-bdf create-vf-warm restart-vf restart-bdf
rounds "$KERNEL_ROUNDS" kcreate-vf kcreate-bdf kcreate-vf-warm krestart-vf \
    krestart-bdf
rounds "$PAIR_ROUNDS" sequential concurrent

# --- footprint
pid=$(vfd_pid)
idle_sample "$IDLE" end
for k in VmRSS VmHWM RssAnon RssFile RssShmem VmData; do
    fp "vfd_end_${k}_kB" "$(status_kv "$pid" "$k")"
done
fp vfd_end_Pss_kB "$(sed -n 's/^Pss: *\([0-9]*\).*/\1/p' \
    /proc/"$pid"/smaps_rollup)"
fp vfd_threads "$(status_kv "$pid" Threads)"
fp vfd_fds "$(find /proc/"$pid"/fd -mindepth 1 | wc -l)"
fp xenstored_VmRSS_kB "$(status_kv "$(cat /run/xen/xenstored.pid)" VmRSS)"
xl destroy owner

echo "XVF-BENCH-END fails=$fails"
