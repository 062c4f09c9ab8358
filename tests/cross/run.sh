#!/bin/bash
# The cross tier: xen-vf cross-built for arm64 (aarch64-linux-gnu) by
# the xen-vf recipe's own commands (meta-xen-vf: scripts/yocto-build.sh),
# with the environment a Yocto build gives them, and the unit tier's
# binaries run on aarch64 under QEMU user mode.
#
# Usage: tests/cross/run.sh        (run-tiers.sh runs it from the top)
#
# Steps (tests/lib/steps.sh; one log each in $XEN_VF_TIER_LOGDIR, default
# build/logs/cross):
#   tools        the cross compiler, binutils, qemu-aarch64, pkg-config,
#                file, python3 (scripts/deps.sh cross installs them)
#   sysroot      scripts/arm64-sysroot.sh: Debian 12 arm64 -dev packages
#                unpacked in $XEN_VF_CACHE, keyed by their versions
#   recipe       meta-xen-vf: the recipe's LIC_FILES_CHKSUM md5s match the
#                sources; the xen-tools bbappend's patches are, for each
#                series it can pick (rcar, 4.17, upstream), that series' files
#   cross-build  the recipe's do_compile (tests/cross/recipe.py expands it)
#                with CC (Cortex-A55 options, --sysroot), AR, CFLAGS,
#                LDFLAGS, PKG_CONFIG_SYSROOT_DIR/LIBDIR and PARALLEL_MAKE
#                as Yocto exports them, plus WERROR=1; then make unit the
#                same way; every program, library and object is aarch64
#   install      the recipe's do_install into $BUILD/arm64/image: every
#                installed file and empty directory is in one package by
#                the recipe's PACKAGES/FILES (xen-vf-reaper in
#                xen-vf-reaper), each FILES entry of the recipe's takes
#                something, the ELF files are aarch64
#   binfmt       qemu-aarch64 registered with binfmt_misc (the tests start
#                child processes); an explicit SKIP, with unit-arm64, when
#                scripts/deps.sh found the machine cannot do it
#   unit-arm64   tests/unit/run.sh on the arm64 build, QEMU_LD_PREFIX =
#                the sysroot
# What it proves: the code builds for aarch64 with a Yocto build's
# commands and flags, installs what the recipe packages, and its unit
# tests pass on aarch64 under emulation. Not bitbake itself (its parser
# and QA are not run), not real hardware, not an arm64 kernel (the fake
# kernel is the unit tier's).
# Closing line: "N passed, N failed" (blocked steps count as failed).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/steps.sh

BUILD=${BUILD:-build}
logdir=${XEN_VF_TIER_LOGDIR:-$top/$BUILD/logs/cross}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
export XEN_VF_CACHE=$cache
# shellcheck source=tests/cross/lib.sh
. tests/cross/lib.sh
bbappend=meta-xen-vf/recipes-extended/xen/xen-tools_%.bbappend
mkdir -p "$abuild"

qemu_user() {
    command -v qemu-aarch64-static || command -v qemu-aarch64
}

s_tools() {
    local t missing=()
    for t in $triplet-gcc $triplet-ar $triplet-readelf pkg-config file \
            apt-get dpkg-deb make timeout python3; do
        command -v "$t" || missing+=("$t")
    done
    qemu_user || missing+=(qemu-aarch64-static)
    if [ ${#missing[@]} -gt 0 ]; then
        step_detail "missing ${missing[*]} (scripts/deps.sh cross)"
        return 1
    fi
    step_detail "$($triplet-gcc -dumpfullversion), $("$(qemu_user)" --version | head -n 1)"
}

s_sysroot() {
    local entry
    entry=$(cross_sysroot) || return 1
    cat "$entry/packages"
    "$entry/bin/$triplet-pkg-config" --modversion libnvme xenlight libpci \
        libmnl xenstore libsystemd || return 1
    step_detail "$(basename "$entry"), $(wc -l <"$entry/packages") packages"
}

# check_elf FILE... - each is an aarch64 ELF
check_elf() {
    local f m bad=0
    for f in "$@"; do
        m=$($triplet-readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p')
        if [ "$m" != AArch64 ]; then
            echo "not aarch64 ELF: $f (${m:-not ELF}): $(file -b "$f")"
            bad=1
        fi
    done
    return $bad
}

s_recipe() {
    local series bad=0
    tests/cross/recipe.py "$recipe" lic "$top" || bad=1
    for series in rcar 4.17 upstream; do
        echo "XEN_VF_SERIES=$series:"
        tests/cross/recipe.py --set XEN_VF_SERIES="$series" "$bbappend" \
            patches || bad=1
    done
    [ $bad -eq 0 ] || return 1
    step_detail "licence md5s, bbappend = xen-patches/{rcar,4.17,upstream}"
}

s_cross_build() {
    local env n
    mapfile -t env < <(yocto_env)
    cross_compile || return 1
    env "${env[@]}" WERROR=1 make -j2 --no-print-directory unit || return 1
    mapfile -t objs < <(find "$abuild" -path "$image" -prune -o \
        -path "$abuild/image-*" -prune -o \
        -type f \( -name '*.o' -o -name '*.so' -o -name '*.a' -o -perm -u+x \) \
        -print)
    n=0
    for f in "${objs[@]}"; do
        case $f in *.a) continue ;; esac
        check_elf "$f" || return 1
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || { echo "nothing built in $abuild"; return 1; }
    check_elf "$abuild/xen-vfctl" "$abuild/xen-vfd" "$abuild/xen-vf-reaper" \
        "$abuild/tests/unit/libxvf-mock.so" || return 1
    step_detail "$n aarch64 ELF files, -Werror clean"
}

s_install() {
    local env f elves=() task
    mapfile -t env < <(yocto_env)
    rm -rf "$image"
    task=$(recipe_task do_install) || return 1
    echo "do_install: $task"
    env "${env[@]}" bash -ec "$task" || return 1
    echo "packages:"
    tests/cross/recipe.py "$recipe" files "$image" | tee "$abuild/packages" ||
        return 1
    grep -qx "xen-vf-reaper /usr/sbin/xen-vf-reaper" "$abuild/packages" ||
        { echo "xen-vf-reaper not in package xen-vf-reaper"; return 1; }
    for f in /usr/sbin/xen-vfd /usr/sbin/xen-vfctl /etc/xen/scripts/xen-vf \
            /lib/systemd/system/xen-vfd.service; do
        grep -qx "xen-vf $f" "$abuild/packages" ||
            { echo "$f not in package xen-vf"; return 1; }
    done
    grep -q '^ExecStart=/usr/sbin/xen-vfd ' \
        "$image/lib/systemd/system/xen-vfd.service" ||
        { echo "the unit's ExecStart does not name /usr/sbin/xen-vfd"; return 1; }
    while IFS= read -r -d '' f; do
        [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = 177ELF ] &&
            elves+=("$f")
    done < <(find "$image" -type f -print0)
    [ ${#elves[@]} -ge 3 ] || { echo "only ${#elves[@]} ELF files"; return 1; }
    check_elf "${elves[@]}" || return 1
    file "${elves[@]}"
    step_detail "${#elves[@]} aarch64 ELF files in $(cut -d' ' -f1 \
        "$abuild/packages" | sort -u | wc -l) packages"
}

binfmt_entry=/proc/sys/fs/binfmt_misc/qemu-aarch64

s_binfmt() {
    cat "$binfmt_entry" || { echo "qemu-aarch64 not registered" \
        "with binfmt_misc (scripts/deps.sh cross)"; return 1; }
    grep -qx enabled "$binfmt_entry" || { echo "disabled"; return 1; }
    step_detail "$(sed -n 's/^interpreter //p' "$binfmt_entry")"
}

s_unit_arm64() {
    local env entry out
    mapfile -t env < <(yocto_env)
    entry=$(cat "$entry_file")
    mkdir -p "$logdir/unit-arm64"
    # run.sh's make sees the same variables through the environment
    # LeakSanitizer stops the world with ptrace, which QEMU user mode
    # does not emulate: leaks are the native unit tier's business.
    env "${env[@]}" QEMU_LD_PREFIX="$entry/root" \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        XEN_VF_TIER_LOGDIR="$logdir/unit-arm64" tests/unit/run.sh |
        tee "$logdir/unit-arm64/summary"
    out=${PIPESTATUS[0]}
    step_detail "$(tail -n 1 "$logdir/unit-arm64/summary")"
    return "$out"
}

steps_init cross "$logdir"
step tools -- s_tools
step --timeout 600 sysroot -- s_sysroot
step --needs none recipe -- s_recipe
step --needs tools,sysroot --timeout 900 cross-build -- s_cross_build
step install -- s_install
if [ ! -e "$binfmt_entry" ] && [ -f "$cache/binfmt-unavailable" ]; then
    why=$(cat "$cache/binfmt-unavailable")
    step_skip binfmt "$why"
    step_skip unit-arm64 "no binfmt_misc for qemu-aarch64: $why"
else
    step --needs none binfmt -- s_binfmt
    step --needs cross-build,binfmt --timeout 900 unit-arm64 -- s_unit_arm64
fi
steps_finish
