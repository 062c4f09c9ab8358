#!/bin/bash
# Run test tiers and add up their results.
#
# Usage: tests/lib/run-tiers.sh [TIER...]
#
# Tiers: the arguments, else $CHECK_TIERS, else "unit cross domd
# domd-arm64 xenbuild xen xen-arm64".
# Each tier is tests/<tier>/run.sh, run from the top of the tree with
#   XEN_VF_LOGDIR       ${XEN_VF_LOGDIR:-build/logs}, absolute
#   XEN_VF_TIER_LOGDIR  $XEN_VF_LOGDIR/<tier>, for the tier's own step logs
# Its output goes to the console and to $XEN_VF_LOGDIR/<tier>.log; its
# last "N passed, N failed" line is its result. A tier is FAIL when its
# run.sh is missing ("tier not implemented"), exits non-zero, prints no
# closing line, reports a failure, or runs past $XEN_VF_TIER_TIMEOUT
# seconds (default 3000). A FAIL tier counts at least one failed test, so
# the closing line can never read "0 failed" for a run that failed.
#
# Prints, for each failed tier, its failed steps and the end of a board's
# console that never finished, then a table (tier, passed, failed, wall
# seconds, status) and, last,
# "N passed, N failed" summed over the tiers. Exits 1 if any tier failed.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

if [ $# -gt 0 ]; then
    tiers=("$@")
else
    read -r -a tiers <<<"${CHECK_TIERS:-unit cross domd domd-arm64 xenbuild xen xen-arm64}"
fi
logdir=${XEN_VF_LOGDIR:-build/logs}
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
export XEN_VF_LOGDIR=$logdir
tmo=${XEN_VF_TIER_TIMEOUT:-3000}

declare -A t_pass=() t_fail=() t_secs=() t_status=() t_note=()

closing_line() {
    # "N passed, N failed", optionally after one "word:" and before
    # ", N skipped"; the last such line wins.
    sed -n -E 's/^([A-Za-z0-9_.-]+: )?([0-9]+) passed, ([0-9]+) failed(, [0-9]+ skipped)?[[:space:]]*$/\2 \3/p' \
        "$1" | tail -n 1
}

for t in "${tiers[@]}"; do
    log=$logdir/$t.log
    run=tests/$t/run.sh
    echo "=== tier $t ==="
    start=$(date +%s.%N)
    rc=0
    if [ ! -f "$run" ]; then
        echo "run-tiers: $run does not exist: tier not implemented" | tee "$log"
        rc=127
    else
        mkdir -p "$logdir/$t"
        XEN_VF_TIER_LOGDIR=$logdir/$t timeout -k 30 "$tmo" bash "$run" 2>&1 |
            tee "$log"
        rc=${PIPESTATUS[0]}
    fi
    end=$(date +%s.%N)
    t_secs[$t]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')

    pass=0 fail=0 note=''
    line=$(closing_line "$log")
    if [ -n "$line" ]; then
        read -r pass fail <<<"$line"
    fi
    if [ "$rc" -eq 127 ] && [ ! -f "$run" ]; then
        note="tier not implemented"
    elif [ "$rc" -eq 124 ]; then
        note="timed out after ${tmo}s"
    elif [ -z "$line" ]; then
        note="no closing 'N passed, N failed' line (exit $rc)"
    elif [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
        note="exit $rc although it reported 0 failed"
    elif [ "$rc" -eq 0 ] && [ "$fail" -ne 0 ]; then
        note="exit 0 although it reported $fail failed"
    elif [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
        note="ran no test"
    fi
    if [ -z "$note" ] && [ "$rc" -eq 0 ]; then
        t_status[$t]=PASS
    else
        t_status[$t]=FAIL
        [ "$fail" -gt 0 ] || fail=1
    fi
    t_pass[$t]=$pass
    t_fail[$t]=$fail
    t_note[$t]=$note
    echo "=== tier $t: ${t_status[$t]} ($pass passed, $fail failed," \
        "${t_secs[$t]} s)${note:+ - $note} ==="
done

# What failed, next to the summary: a CI that keeps only the end of the
# output still shows which steps failed and how a board ended.
for t in "${tiers[@]}"; do
    [ "${t_status[$t]}" = PASS ] && continue
    echo
    echo "=== $t: what failed ==="
    grep -a -E '(^|[[:space:]])FAIL([[:space:]]|:|$)' "$logdir/$t.log" |
        grep -v -E '^=== tier' | tail -n 12
    serial=$logdir/$t/board-serial.log
    if [ -s "$serial" ] && ! grep -a -q 'XVF-DONE' "$serial"; then
        echo "--- the end of $serial (dom0 never finished)"
        tr -d '\r' <"$serial" | tail -n 15
    fi
done

echo
echo "=== summary (logs in $logdir) ==="
printf '%-10s %7s %7s %7s  %s\n' tier passed failed secs status
tp=0 tf=0 bad=0
for t in "${tiers[@]}"; do
    printf '%-10s %7d %7d %7d  %s\n' "$t" "${t_pass[$t]}" "${t_fail[$t]}" \
        "${t_secs[$t]}" "${t_status[$t]}${t_note[$t]:+ (${t_note[$t]})}"
    tp=$((tp + t_pass[$t]))
    tf=$((tf + t_fail[$t]))
    [ "${t_status[$t]}" = PASS ] || bad=1
done
echo "$tp passed, $tf failed"
exit $bad
