#!/bin/bash
# make bench: what the automation costs over the device itself, measured
# side by side on the emulated boards (docs/performance.md).
#
# Usage: bench/run.sh [domd] [xen]      (default: both; make bench)
#
#   domd  the emulated DomD board of tests/domd (QEMU TCG, SR-IOV NVMe):
#         floor, engine, the guide's order (bench/guest/domd-bench.sh)
#   xen   the Xen board of tests/xen (Xen 4.17 under QEMU TCG, dom0 as
#         DomD): floor and engine again, the xenstore path through
#         xen-vfd, xl create with vf: against a VF prepared beforehand,
#         two guests together against one after the other, xen-vfd's
#         footprint (bench/guest/dom0-bench.sh)
#
# The boards' own scripts build and boot them (tests/domd/board.sh,
# tests/xen/board.sh, tests/xen/qemu-xen.sh); this adds one initramfs
# layer with the benchmark programs and scripts on top and picks the
# benchmark script as the board's payload. The payload prints its numbers
# on the serial console; they are kept as CSV in $BUILD/bench/ and
# bench/report.sh prints the table at the end.
#
# Env: XEN_VF_BENCH_ROUNDS (DomD rounds, default 10),
#      XEN_VF_BENCH_XEN_ROUNDS (Xen rounds, default 5),
#      XEN_VF_BENCH_XEN_PAIR_ROUNDS (rounds of two guests, default 3),
#      XEN_VF_BENCH_XEN_KERNEL_ROUNDS (rounds of the create and restart
#      variants with a real guest kernel, default 2; ~150 s each),
#      XEN_VF_BENCH_XEN_ONLY (comma-separated variants of the Xen
#      board to run, e.g. floor,create-vf,create-bdf; default all),
#      XEN_VF_BENCH_VFD_NICE (xen-vfd's nice level on the Xen board,
#      default -10 as xen-vfd.service),
#      XEN_VF_BENCH_XEN_SMP (vCPUs of the Xen board, default 1: with 2,
#      a neighbour's QEMU on the same 2 cores preempts one vCPU while the
#      other spins on a lock it holds, and operations took 10 times as
#      long now and then),
#      XEN_VF_CACHE, XEN_VF_XEN_GZ as for the test tiers.
# Exit status: 0 when every part ran and every measurement succeeded.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
out=$top/$BUILD/bench
rounds=${XEN_VF_BENCH_ROUNDS:-10}
xen_rounds=${XEN_VF_BENCH_XEN_ROUNDS:-5}
xen_pair_rounds=${XEN_VF_BENCH_XEN_PAIR_ROUNDS:-3}
xen_kernel_rounds=${XEN_VF_BENCH_XEN_KERNEL_ROUNDS:-2}
export XEN_VF_CACHE=${XEN_VF_CACHE:-/var/cache/xen-vf}
mkdir -p "$out"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(domd xen)

say() { printf '==> %s\n' "$*"; }

# The boards' h_* / board_* functions report through step_detail.
# shellcheck disable=SC2317  # called from the sourced board scripts
step_detail() { printf '    %s\n' "$*"; }

# host_load - the host's load average and how many QEMUs run besides ours
# (other jobs on the same cores make every figure noisier)
host_load() {
    local n
    n=$(pgrep -c -x qemu-system-x86) || true
    echo "load $(cut -d' ' -f1 /proc/loadavg), ${n:-0} QEMU running"
}

# collect SERIAL BOARD - the payload's lines into $out/BOARD*.csv
collect() {
    local serial=$1 board=$2 hdr f
    hdr="board,round,variant,op,wall_us,user_us,sys_us,maxrss_kib,rc"
    tr -d '\r' <"$serial" >"$out/$board-serial.txt"
    {
        echo "$hdr"
        sed -n -E "s/^.*XVF-BENCH run,/$board,/p" "$out/$board-serial.txt" |
            grep -E "^$board,[0-9]+,[a-z0-9-]+,[a-z0-9-]+(,-?[0-9]+){5}$"
    } >"$out/$board.csv"
    {
        echo "board,round,variant,op,step,us"
        sed -n -E "s/^.*XVF-BENCH step,/$board,/p" "$out/$board-serial.txt" |
            grep -E "^$board,[0-9]+(,[a-z0-9-]+){3},-?[0-9]+$"
    } >"$out/$board-steps.csv"
    {
        echo "board,key,value"
        sed -n -E "s/^.*XVF-BENCH fp,/$board,/p" "$out/$board-serial.txt" |
            grep -E "^$board,[A-Za-z0-9_.-]+,[^,]*$"
    } >"$out/$board-footprint.csv"
    # Only the files that have rows.
    for f in "$out/$board-steps.csv" "$out/$board-footprint.csv"; do
        [ "$(wc -l <"$f")" -gt 1 ] || rm -f "$f"
    done
    grep -a -E 'XVF-BENCH-(NOTE|INFO|END|HOST)' "$out/$board-serial.txt" |
        sed 's/^.*XVF-BENCH-/    /'
    echo "    $(($(wc -l <"$out/$board.csv") - 1)) measurements in" \
        "$BUILD/bench/$board.csv"
    grep -a -q 'XVF-BENCH-END fails=0' "$out/$board-serial.txt"
}

# calibrate - xen-vfctl check on the host, as the board's calib variant
# runs it, for the emulation's slowdown
calibrate() {
    local i
    echo "board,round,variant,op,wall_us,user_us,sys_us,maxrss_kib,rc"
    for ((i = 0; i <= rounds; i++)); do
        "$BUILD/bench/xvf-bench-time" -o "$out/calib.t" -- \
            "$BUILD/xen-vfctl" check vf:nvme0/ns2 >/dev/null 2>&1
        echo "host,$i,calib,check,$(cat "$out/calib.t")"
    done
    rm -f "$out/calib.t"
}

part_domd() {
    local work=$out/domd k rc=0 host0
    XVF_TOP=$top
    # shellcheck source=tests/domd/board.sh
    . tests/domd/board.sh
    say "DomD board: packages, kernel, initramfs"
    scripts/deps.sh domd >"$out/domd-deps.log" 2>&1 ||
        { cat "$out/domd-deps.log"; return 1; }
    mkdir -p "$work"
    k=$(board_kernel) || return 1
    board_initrd "$k" "$work/initrd" "$BUILD/xen-vfctl" | sed 's/^/    /'
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    scripts/mk-initramfs.sh \
        -b "$BUILD/bench/xvf-bench-floor=/bench/bin/xvf-bench-floor" \
        -b "$BUILD/bench/xvf-bench-time=/bench/bin/xvf-bench-time" \
        -f bench/guest/domd-bench.sh=/bench/domd-bench.sh \
        -o "$work/bench.cpio.gz" >/dev/null || return 1
    cat "$work/bench.cpio.gz" >>"$work/initrd"
    calibrate >"$out/domd-host.csv"
    say "DomD board: $rounds rounds (QEMU TCG; ~$((rounds * 13 + 20)) s)"
    host0=$(host_load)
    XVF_BOARD_APPEND="xvf.loglevel=1 xvf.bench_rounds=$rounds" \
        XEN_VF_DOMD_TIMEOUT=${XEN_VF_BENCH_DOMD_TIMEOUT:-900} \
        board_boot "$work/initrd" "$k" "$work" "$work/serial.log" \
        /bench/domd-bench.sh || rc=$?
    echo "XVF-BENCH-HOST before: $host0; after: $(host_load)" \
        >>"$work/serial.log"
    [ "$rc" -eq 0 ] || echo "    QEMU exit $rc$([ "$rc" -eq 124 ] &&
        echo ' (timeout)')"
    collect "$work/serial.log" domd
}

part_xen() {
    local work=$out/xen-board cache=$XEN_VF_CACHE state log rc=0 f host0
    local xen_gz=${XEN_VF_XEN_GZ:-/boot/xen-4.17-amd64.gz} img
    state=$work/state
    log=$out/xen-build.log
    mkdir -p "$state"
    # shellcheck source=tests/xen/board.sh
    . tests/xen/board.sh
    say "Xen board: packages, patched xl (make xen), kernel, initramfs"
    : >"$log"
    scripts/deps.sh xen >>"$log" 2>&1 || { tail -n 30 "$log"; return 1; }
    for f in h_xen_tools h_kernel h_xen h_domu_initramfs h_drvdom_initramfs \
        h_dom0_initramfs; do
        "$f" >>"$log" 2>&1 || { tail -n 30 "$log"; return 1; }
    done
    scripts/mk-initramfs.sh \
        -b "$BUILD/bench/xvf-bench-floor=/bench/bin/xvf-bench-floor" \
        -b "$BUILD/bench/xvf-bench-time=/bench/bin/xvf-bench-time" \
        -b "$BUILD/bench/xvf-bench-xs=/bench/bin/xvf-bench-xs" \
        -f "$BUILD/bench/pv-stub=/bench/pv-stub" \
        -f bench/guest/dom0-bench.sh=/bench/dom0-bench.sh \
        -f hotplug-scripts/xen-vf-nvme-add.d/50-log.hook.sample=/etc/xen/scripts/xen-vf-nvme-add.d/50-log.hook.sample \
        -o "$work/bench.cpio.gz" >/dev/null || return 1
    img=$work/dom0-bench.cpio.gz
    cat "$(cat "$state/dom0")" "$work/bench.cpio.gz" >"$img" || return 1
    say "Xen board: $xen_rounds + $xen_kernel_rounds + $xen_pair_rounds" \
        "rounds (QEMU TCG; ~$((120 + (xen_rounds + 1) * 45 + \
        (xen_kernel_rounds + 1) * 150 + (xen_pair_rounds + 1) * 45)) s)"
    host0=$(host_load)
    XEN_VF_QEMU_SMP=${XEN_VF_BENCH_XEN_SMP:-1} \
        tests/xen/qemu-xen.sh -x "$(cat "$state/xen")" \
        -k "$(cat "$state/kdir")/vmlinuz" -i "$img" -d "$work" \
        -t "${XEN_VF_BENCH_XEN_TIMEOUT:-2400}" \
        -a "xvf.loglevel=1 xvf.run=/bench/dom0-bench.sh \
xvf.bench_rounds=$xen_rounds xvf.bench_pair_rounds=$xen_pair_rounds \
xvf.bench_kernel_rounds=$xen_kernel_rounds \
${XEN_VF_BENCH_XEN_ONLY:+xvf.bench_only=$XEN_VF_BENCH_XEN_ONLY} \
${XEN_VF_BENCH_VFD_NICE:+xvf.bench_vfd_nice=$XEN_VF_BENCH_VFD_NICE}" ||
        rc=$?
    echo "XVF-BENCH-HOST before: $host0; after: $(host_load)" \
        >>"$work/serial.log"
    [ "$rc" -eq 0 ] || echo "    QEMU exit $rc$([ "$rc" -eq 124 ] &&
        echo ' (timeout)')"
    # Sizes, from the build.
    size "$BUILD/xen-vf-reaper" "$BUILD/xen-vfd" "$BUILD/bench/xvf-bench-floor" \
        2>/dev/null | awk 'NR > 1 { n = $6; sub(/^.*\//, "", n);
            printf "XVF-BENCH fp,%s_text_data_bss_bytes,%d\n", n, $4 }' \
        >>"$work/serial.log"
    collect "$work/serial.log" xen
}

rc=0
declare -A status=()
for p in "${parts[@]}"; do
    case $p in
        domd|xen) ;;
        *) echo "bench: unknown part '$p' (domd, xen)"; exit 2 ;;
    esac
    t0=$(date +%s)
    r=0
    case $p in
        domd) part_domd || r=$? ;;
        xen) part_xen || r=$? ;;
    esac
    if [ $r -eq 0 ]; then
        status[$p]=ok
    else
        status[$p]=FAILED
        rc=1
    fi
    echo "    $p: ${status[$p]} in $(($(date +%s) - t0)) s"
done

say "results ($BUILD/bench/*.csv)"
bench/report.sh "$out" "${parts[@]}" | tee "$out/table.txt"
for p in "${parts[@]}"; do
    [ "${status[$p]}" = ok ] || echo "bench: part $p FAILED (see above)"
done
exit $rc
