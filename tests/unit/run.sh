#!/bin/bash
# tests/unit/run.sh - build the unit tests and run each one: with
# libxvf-mock.so preloaded (so the processes they start are faked too),
# but for the sanitized ones under $BUILD/tests/unit/san (ASan must be
# the first library loaded).
#
#   tests/unit/run.sh [NAME-FILTER]
#
# Environment: BUILD (default build, as in the Makefile), CC, PKG_CONFIG
# and the other variables the Makefile reads (a cross build passes them
# here, see tests/cross/run.sh), UNIT_TIMEOUT
# (seconds per test binary, default 300), V=1 (print every output),
# XEN_VF_TIER_LOGDIR (where the logs go, default $BUILD/tests/unit/logs;
# set by tests/lib/run-tiers.sh).
# Prints one line per binary and the closing "N passed, N failed" summed
# over all of them; exits non-zero on any failure. A missing tool, a
# failed build or a binary that dies without its summary is a failure.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build}
[[ $build == /* ]] || build=$top/$build
unit=$build/tests/unit
filter=${1:-}
timeout_s=${UNIT_TIMEOUT:-300}
passed=0
failed=0
skipped=0

fail() {
    echo "FAIL $1: $2"
    failed=$((failed + 1))
}

now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# milliseconds since $1 as seconds with one decimal
since() {
    local ms=$(($(now_ms) - $1))
    printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

finish() {
    ((skipped)) && echo "# $skipped skipped"
    echo "$passed passed, $failed failed"
    ((failed == 0))
    exit
}

# The compiler and pkg-config the Makefile will use (CC may carry options,
# as in "aarch64-linux-gnu-gcc --sysroot=DIR"), not the build host's.
read -r cc_tool _ <<<"${CC:-cc}"
pkg_config=${PKG_CONFIG:-pkg-config}
for tool in make "$cc_tool" "$pkg_config" timeout; do
    command -v "$tool" >/dev/null || fail prerequisites "$tool not found"
done
# --modversion, not --exists: libnvme.pc's Requires.private (json-c) need
# not be installed to build against it
if command -v "$pkg_config" >/dev/null &&
        ! "$pkg_config" --modversion libnvme >/dev/null 2>&1; then
    fail prerequisites "libnvme.pc not found by $pkg_config (scripts/deps.sh build)"
fi
((failed == 0)) || finish

logs=${XEN_VF_TIER_LOGDIR:-$unit/logs}
mkdir -p "$logs"
buildlog=$logs/build.log
start=$(now_ms)
if ! make -C "$top" --no-print-directory BUILD="$build" unit \
        >"$buildlog" 2>&1; then
    tail -n 40 "$buildlog"
    fail build "make unit failed (log: $buildlog)"
    finish
fi
echo "build: ok ($(since "$start") s)"

mock=$unit/libxvf-mock.so
[[ -f $mock ]] || { fail build "$mock missing"; finish; }

# One binary per tests/unit/test-*.c: $unit/test-X runs with the mock
# preloaded, $unit/san/test-X (ASan and UBSan, see unit.mk) without it.
# A source without its binary is a failure, not a skip. The engine's
# suites run once per device profile of the fake kernel
# ($XVF_MOCK_PROFILE, tests/fakes/kernel/mock.h), each run counted on its
# own as "test-X[profile]".
profiles=(qemu pm173x noflexvi)
per_profile=" test-engine test-devices test-net test-keep-vfs "
tests=()
for src in "$top"/tests/unit/test-*.c; do
    name=$(basename "$src" .c)
    [[ -z $filter || $name == *"$filter"* ]] || continue
    if [[ -x $unit/$name && -f $unit/$name ]]; then
        if [[ $per_profile == *" $name "* ]]; then
            for p in "${profiles[@]}"; do
                tests+=("$unit/$name:$p")
            done
        else
            tests+=("$unit/$name:")
        fi
    elif [[ -x $unit/san/$name && -f $unit/san/$name ]]; then
        tests+=("$unit/san/$name:")
    else
        fail "$name" "no binary $unit/$name or $unit/san/$name"
    fi
done
((${#tests[@]} + failed)) || { fail discovery "no test matches '$filter'"; finish; }

for tp in "${tests[@]}"; do
    t=${tp%:*}
    profile=${tp##*:}
    name=$(basename "$t")${profile:+[$profile]}
    log=$logs/$(basename "$t")${profile:+-$profile}.log
    rc=0
    start=$(now_ms)
    preload=$mock
    [[ $t == "$unit/san/"* ]] && preload=
    XVF_MOCK_PROFILE=$profile LD_PRELOAD=$preload timeout "$timeout_s" "$t" \
        >"$log" 2>&1 || rc=$?
    secs=$(since "$start")
    last=$(tail -n 1 "$log")
    if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]}
        f=${BASH_REMATCH[2]}
    else
        p=0
        f=1
        if ((rc == 124)); then
            echo "$name: timed out after $timeout_s s"
        else
            echo "$name: ended without a summary (exit $rc)"
        fi
    fi
    if ((rc != 0 && f == 0)); then
        echo "$name: exit status $rc despite 0 failures"
        f=1
    fi
    s=$(sed -n 's/^# \([0-9]\+\) skipped$/\1/p' "$log" | tail -n 1)
    skipped=$((skipped + ${s:-0}))
    printf '%s: %s passed, %s failed%s (%s s)\n' "$name" "$p" "$f" \
        "${s:+, $s skipped}" "$secs"
    if [[ ${V:-0} == 1 ]]; then
        sed 's/^/    /' "$log"
    elif ((f)); then
        # the failed cases with their diagnostics, and any stray output
        grep -v -e '^ok ' -e '^# [^ ]*$' -e '^1\.\.' -e '^# [0-9]* checks' \
            -e '^[0-9]* passed, [0-9]* failed$' \
            "$log" | sed 's/^/    /' | tail -n 60
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
finish
