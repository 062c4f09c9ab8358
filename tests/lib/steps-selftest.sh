#!/bin/bash
# Self-test of tests/lib/steps.sh: statuses, blocking, timeouts, the
# console round trip and the closing line. Exits non-zero on a mismatch.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xvf-steps-selftest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0

expect() {
    if [ "$2" != "$3" ]; then
        echo "steps-selftest: $1: expected '$3', got '$2'" >&2
        bad=1
    fi
}

# A job run with STEPS_ECHO=1, as a guest would, in a child bash.
STEPS_ECHO=1 bash -c '
    . "$1/steps.sh"
    steps_init inner "$2/inner"
    ok() { echo "ok output"; step_detail "detail 42"; }
    no() { echo "broken because" >&2; return 3; }
    step a -- ok
    step b -- no
    step c -- ok
    step --needs a d -- ok
    step --needs none --timeout 1 e -- sleep 30
    step --always f -- ok
    step_skip g "not on this board"
    steps_finish
' _ "$here" "$tmp" >"$tmp/console" 2>&1
expect "inner rc" "$?" 1
expect "closing line" "$(tail -n 1 "$tmp/console")" "3 passed, 3 failed"
expect "breakdown" "$(tail -n 2 "$tmp/console" | head -n 1)" \
    "inner: 3 passed, 2 failed, 1 blocked, 1 skipped"
grep -q '^XVF-STEP c BLOCKED 0.0s needs b (FAIL)$' "$tmp/console" ||
    { echo "steps-selftest: no BLOCKED line for c" >&2; bad=1; }
grep -q '^XVF-STEP e FAIL .* timed out after 1s$' "$tmp/console" ||
    { echo "steps-selftest: no timeout for e" >&2; bad=1; }

# A guest that died in the middle of a step.
printf 'XVF-BEGIN z\n[  1.0] Kernel panic\n' >>"$tmp/console"

# shellcheck source=tests/lib/steps.sh
. "$here/steps.sh"
steps_init outer "$tmp/outer"
step host-ok -- true
steps_import_console "$tmp/console" guest-
out=$(steps_finish)
rc=$?
expect "outer rc" "$rc" 1
expect "outer closing" "$(tail -n 1 <<<"$out")" "4 passed, 4 failed"
expect "imported a" "$(step_status guest-a)" PASS
expect "imported c" "$(step_status guest-c)" BLOCKED
expect "imported g" "$(step_status guest-g)" SKIP
expect "imported z" "$(step_status guest-z)" FAIL
expect "detail" "${STEPS_DETAIL[guest-a]}" "detail 42"
expect "imported log" "$(cat "$(step_log guest-b)")" "broken because"
expect "log count" "$(find "$tmp/outer" -name '*.log' | wc -l)" 9

# A "remote" job (here a local bash; on a board, ssh).
steps_init remote "$tmp/remote"
# shellcheck disable=SC2016  # expanded by the inner bash
steps_run_remote --needs none far far- -- env STEPS_ECHO=1 bash -c '
    . "$1/steps.sh"
    steps_init board /tmp/xvf-steps-selftest-far.$$
    step x -- true
    step y -- false
    steps_finish
    rm -rf /tmp/xvf-steps-selftest-far.$$
' _ "$here"
expect "remote step" "$(step_status far)" PASS
expect "remote x" "$(step_status far-x)" PASS
expect "remote y" "$(step_status far-y)" FAIL
steps_run_remote --needs none gone gone- -- false
expect "remote gone" "$(step_status gone)" FAIL

if [ $bad -eq 0 ]; then
    echo "steps-selftest: ok"
fi
exit $bad
