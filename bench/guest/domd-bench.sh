#!/bin/bash
# Runs inside the emulated DomD board (tests/domd/qemu-run.sh) as the
# /init payload: every variant prepares a VF for namespace 2 of nvme0 and
# releases it again, each as its own process(es) timed by xvf-bench-time.
# Rounds interleave the variants, rotating their order each round so that
# none always follows the same neighbour; round 0 is a warm-up.
#
# Variants (docs/performance.md):
#   floor          xvf-bench-floor prepare / release, driver nvme
#   engine         xen-vfctl prepare --local / release, driver nvme, state
#                  on tmpfs (as the tmpfs /run of the board)
#   seed           the guide's order: autoprobe on, failed probe, bind
#   floor-stub     as floor, driver pci-stub (a stub, like pciback)
#   engine-stub    as engine, driver pci-stub
#   engine-fsync   as engine, state directory on ext2 on nvme0n1, so that
#                  the journal's fsync reaches the (emulated) disk
#   health         not run: the sum of the engine variant's PF health
#                  checks (its steps health-before, health-vfs, health),
#                  from the step times xen-vfctl -v prints
#   calib          xen-vfctl check SPEC: start, dynamic linking, parsing,
#                  no device; bench/run.sh times the same on the host, so
#                  the ratio says how much slower the emulated CPU runs
#
# Output on the console, one line each, for the host to collect:
#   XVF-BENCH run,ROUND,VARIANT,OP,WALL_US,USER_US,SYS_US,MAXRSS_KIB,RC
#   XVF-BENCH step,ROUND,VARIANT,OP,STEP,US    (floor, seed, engine prepare)
#   XVF-BENCH-NOTE text
# Kernel command line: xvf.bench_rounds=N (default 10), xvf.bench_only=A,B
set -uo pipefail
export PATH=/bench/bin:/usr/sbin:/usr/bin:/sbin:/bin

# shellcheck source=tests/domd/guest/lib.sh
. /xvf/lib.sh

ROUNDS=10
ONLY=
read -r -a words </proc/cmdline
for w in "${words[@]}"; do
    case $w in
        xvf.bench_rounds=*) ROUNDS=${w#*=} ;;
        xvf.bench_only=*) ONLY=${w#*=} ;;
    esac
done

NSID=2
SPEC=vf:nvme0/ns2
ST_TMP=/run/xvf-bench-state
MNT=/mnt/state
ST_DISK=$MNT/xen-vf
T=/tmp/bench.t
OUT=/tmp/bench.out
ERR=/tmp/bench.err

note() { echo "XVF-BENCH-NOTE $*"; }

# timed ROUND VARIANT OP CMD... - run CMD under xvf-bench-time, emit a run
# line; CMD's stdout stays in $OUT, its stderr in $ERR.
timed() {
    local round=$1 variant=$2 op=$3 rc=0
    shift 3
    xvf-bench-time -o "$T" -- "$@" >"$OUT" 2>"$ERR" || rc=$?
    echo "XVF-BENCH run,$round,$variant,$op,$(cat "$T")"
    if [ $rc -ne 0 ]; then
        note "$variant $op failed ($rc): $(head -c 300 "$ERR" | tr '\n' ' ')"
    fi
    return $rc
}

# steps ROUND VARIANT OP - the floor's per-step times from $ERR
steps() {
    sed -n "s/^step,/XVF-BENCH step,$1,$2,$3,/p" "$ERR"
}

v_floor() {
    local round=$1 name=$2 drv=$3 vf scid
    XVF_BENCH_STEPS=1 timed "$round" "$name" prepare \
        xvf-bench-floor prepare "$PFNAME" "$NSID" "$drv" || return 1
    steps "$round" "$name" prepare
    read -r vf scid _ <"$OUT"
    XVF_BENCH_STEPS=1 timed "$round" "$name" release \
        xvf-bench-floor release "$PFNAME" "$NSID" "$scid" "$vf" || return 1
    steps "$round" "$name" release
}

v_seed() {
    local round=$1 vf scid
    XVF_BENCH_STEPS=1 timed "$round" seed prepare \
        xvf-bench-floor seed-prepare "$PFNAME" "$NSID" || return 1
    steps "$round" seed prepare
    read -r vf scid _ <"$OUT"
    XVF_BENCH_STEPS=1 timed "$round" seed release \
        xvf-bench-floor seed-release "$PFNAME" "$NSID" "$scid" "$vf" ||
        return 1
    steps "$round" seed release
}

# engine_steps ROUND VARIANT OP - the engine's step times (xen-vfctl -v)
# from $ERR, and the sum of its PF health checks as variant "health"
engine_steps() {
    sed -n -E "s/^xen-vfctl: step ([a-z-]+) took ([0-9]+) us$/XVF-BENCH step,$1,$2,$3,\1,\2/p" "$ERR"
    [ "$2" = engine ] || return 0
    awk -v r="$1" -v op="$3" '
        /^xen-vfctl: step health(-[a-z]+)? took [0-9]+ us$/ {
            sum += $(NF - 1); n++
        }
        END { if (n) printf "XVF-BENCH run,%s,health,%s,%d,0,0,0,0\n", r, op, sum }' "$ERR"
}

v_engine() {
    local round=$1 name=$2 drv=$3 st=$4
    timed "$round" "$name" prepare \
        xen-vfctl -v --state-dir "$st" prepare --local "$SPEC,driver=$drv" ||
        return 1
    engine_steps "$round" "$name" prepare
    timed "$round" "$name" release \
        xen-vfctl --state-dir "$st" release --local "$SPEC,driver=$drv"
}

run_variant() {
    case $2 in
        calib) timed "$1" calib check xen-vfctl check "$SPEC" ;;
        floor) v_floor "$1" floor nvme ;;
        floor-stub) v_floor "$1" floor-stub pci-stub ;;
        seed) v_seed "$1" ;;
        engine) v_engine "$1" engine nvme "$ST_TMP" ;;
        engine-stub) v_engine "$1" engine-stub pci-stub "$ST_TMP" ;;
        engine-fsync) v_engine "$1" engine-fsync nvme "$ST_DISK" ;;
        *) note "unknown variant $2"; return 1 ;;
    esac
}

# After every variant the device must be as at power-on; if not, the
# variant failed somewhere: reset by hand so the next one starts clean.
ensure_clean() {
    local why
    if ! why=$(device_clean 2>&1); then
        note "device not clean after $1: $(echo "$why" | tr '\n' ' ')"
        device_reset >/dev/null 2>&1
        rm -rf "${ST_TMP:?}"/* "${ST_DISK:?}"/* 2>/dev/null
        device_clean >/dev/null 2>&1 || note "still not clean after reset"
        return 1
    fi
}

setup_disk() {
    modprobe crc32c_generic && modprobe ext4 &&
        mke2fs -q -F /dev/nvme0n1 && mkdir -p "$MNT" &&
        mount -t ext4 /dev/nvme0n1 "$MNT" && mkdir -p "$ST_DISK"
}

variants=(floor engine seed floor-stub engine-stub engine-fsync calib)
if [ -n "$ONLY" ]; then
    IFS=, read -r -a variants <<<"$ONLY"
fi
wait_for_pf() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ -c "$PFDEV" ] && [ -b /dev/nvme0n1 ] && [ -n "$(pf_bdf)" ] &&
            return 0
        sleep 0.1
    done
    return 1
}
wait_for_pf || { note "no $PFDEV"; exit 1; }
mkdir -p "$ST_TMP"
if [[ " ${variants[*]} " == *" engine-fsync "* ]] && ! setup_disk; then
    note "no ext2 on nvme0n1: engine-fsync left out"
    variants=("${variants[@]/engine-fsync/}")
fi

echo "XVF-BENCH-INFO board=domd kernel=$(uname -r)" \
    "cpus=$(grep -c ^processor /proc/cpuinfo) rounds=$ROUNDS" \
    "variants=${variants[*]}"
n=${#variants[@]}
fails=0
for ((round = 0; round <= ROUNDS; round++)); do
    for ((i = 0; i < n; i++)); do
        v=${variants[$(((i + round) % n))]}
        [ -n "$v" ] || continue
        run_variant "$round" "$v" || fails=$((fails + 1))
        ensure_clean "$v round $round" || fails=$((fails + 1))
    done
done
# Where the guide order's time goes: the kernel's messages about the VF
# during one more (untimed) seed prepare.
probe_trace() {
    local vf scid t0
    dmesg -c >/dev/null
    t0=$(cut -d' ' -f1 /proc/uptime)
    xvf-bench-floor seed-prepare "$PFNAME" "$NSID" >"$OUT" 2>"$ERR" ||
        return 1
    note "probe trace: seed-prepare started at uptime $t0 s"
    dmesg | grep -E '01:00\.[12]|nvme[12]' | head -n 20 | while read -r l; do
        note "probe trace: $l"
    done
    read -r vf scid _ <"$OUT"
    xvf-bench-floor seed-release "$PFNAME" "$NSID" "$scid" "$vf"
}
probe_trace || note "probe trace failed"
ensure_clean "probe trace" || fails=$((fails + 1))

echo "XVF-BENCH-END fails=$fails"
[ $fails -eq 0 ]
