#!/bin/bash
# The cross tier: xen-vf cross-built for arm64 (aarch64-linux-gnu) with
# the flags a Yocto build passes, and the unit tier's binaries run on
# aarch64 under QEMU user mode.
#
# Usage: tests/cross/run.sh        (run-tiers.sh runs it from the top)
#
# Steps (tests/lib/steps.sh; one log each in $XEN_VF_TIER_LOGDIR, default
# build/logs/cross):
#   tools        the cross compiler, binutils, qemu-aarch64, pkg-config,
#                file (scripts/deps.sh cross installs them)
#   sysroot      scripts/arm64-sysroot.sh: Debian 12 arm64 -dev packages
#                unpacked in $XEN_VF_CACHE, keyed by their versions
#   cross-build  make all unit into $BUILD/arm64 with CC, AR, PKG_CONFIG,
#                CFLAGS and LDFLAGS as Yocto sets them, WERROR=1; every
#                program, library and object built is aarch64
#   install      make install DESTDIR=$BUILD/arm64/image: the programs and
#                vf.so are aarch64 ELF, vf.so in the directory of the
#                target's Xen (Debian's, from the sysroot)
#   binfmt       qemu-aarch64 registered with binfmt_misc (the tests start
#                child processes); an explicit SKIP, with unit-arm64, when
#                scripts/deps.sh found the machine cannot do it
#   unit-arm64   tests/unit/run.sh on the arm64 build, QEMU_LD_PREFIX =
#                the sysroot
# What it proves: the code builds for aarch64 with Yocto-like flags and
# its unit tests pass on aarch64 under emulation. Not real hardware, not
# an arm64 kernel (the fake kernel is the unit tier's).
# Closing line: "N passed, N failed" (blocked steps count as failed).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/steps.sh

BUILD=${BUILD:-build}
logdir=${XEN_VF_TIER_LOGDIR:-$top/$BUILD/logs/cross}
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
export XEN_VF_CACHE=$cache
abuild=$top/$BUILD/arm64
image=$abuild/image
triplet=aarch64-linux-gnu
mkdir -p "$abuild"
# the sysroot entry, found by the sysroot step, used by the later ones
entry_file=$abuild/sysroot-entry

qemu_user() {
    command -v qemu-aarch64-static || command -v qemu-aarch64
}

s_tools() {
    local t missing=()
    for t in $triplet-gcc $triplet-ar $triplet-readelf pkg-config file \
            apt-get dpkg-deb make timeout; do
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
    entry=$(scripts/arm64-sysroot.sh) || return 1
    echo "$entry" >"$entry_file"
    cat "$entry/packages"
    "$entry/bin/$triplet-pkg-config" --modversion libnvme xenlight libpci \
        libmnl xenstore libsystemd || return 1
    step_detail "$(basename "$entry"), $(wc -l <"$entry/packages") packages"
}

# The make variables of a Yocto build for this sysroot (one per line,
# for mapfile).
make_vars() {
    local entry root
    entry=$(cat "$entry_file")
    root=$entry/root
    printf '%s\n' BUILD="$abuild" WERROR=1 \
        CC="$triplet-gcc" AR="$triplet-ar" \
        PKG_CONFIG="$entry/bin/$triplet-pkg-config" \
        CFLAGS="-O2 -pipe -g -feliminate-unused-debug-types --sysroot=$root" \
        LDFLAGS="--sysroot=$root -Wl,-O1 -Wl,--hash-style=gnu -Wl,--as-needed"
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

s_cross_build() {
    local vars n
    mapfile -t vars < <(make_vars)
    # Objects built against another sysroot are stale: its headers are
    # system headers, which -MMD does not track.
    if [ "$(cat "$abuild/.sysroot" 2>/dev/null)" != "$(cat "$entry_file")" ]; then
        echo "new sysroot: cleaning $abuild"
        find "$abuild" -mindepth 1 -maxdepth 1 ! -name sysroot-entry \
            -exec rm -rf {} +
        cp "$entry_file" "$abuild/.sysroot"
    fi
    printf '%q ' make -j2 "${vars[@]}" all unit; echo
    make -j2 --no-print-directory "${vars[@]}" all unit || return 1
    mapfile -t objs < <(find "$abuild" -path "$image" -prune -o \
        -type f \( -name '*.o' -o -name '*.so' -o -name '*.a' -o -perm -u+x \) \
        -print)
    n=0
    for f in "${objs[@]}"; do
        case $f in *.a) continue ;; esac
        check_elf "$f" || return 1
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || { echo "nothing built in $abuild"; return 1; }
    check_elf "$abuild/xen-vfctl" "$abuild/xen-vfd" "$abuild/vf.so" \
        "$abuild/tests/unit/libxvf-mock.so" || return 1
    step_detail "$n aarch64 ELF files, -Werror clean"
}

s_install() {
    local vars f elves=() provider
    mapfile -t vars < <(make_vars)
    rm -rf "$image"
    make --no-print-directory "${vars[@]}" install DESTDIR="$image" ||
        return 1
    (cd "$image" && find . -type f | sort)
    for f in usr/sbin/xen-vfctl usr/sbin/xen-vfd; do
        [ -f "$image/$f" ] || { echo "not installed: /$f"; return 1; }
    done
    # Debian's Xen in the sysroot: libxl looks in its LIBEXEC_LIB
    provider=usr/lib/xen-4.17/lib/$triplet/pci-providers/vf.so
    [ -f "$image/$provider" ] ||
        { echo "vf.so not at /$provider (the target's Xen layout)"; return 1; }
    while IFS= read -r -d '' f; do
        [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = 177ELF ] &&
            elves+=("$f")
    done < <(find "$image" -type f -print0)
    [ ${#elves[@]} -ge 3 ] || { echo "only ${#elves[@]} ELF files"; return 1; }
    check_elf "${elves[@]}" || return 1
    file "${elves[@]}"
    step_detail "${#elves[@]} aarch64 ELF files, /$provider"
}

binfmt_entry=/proc/sys/fs/binfmt_misc/qemu-aarch64

s_binfmt() {
    cat "$binfmt_entry" || { echo "qemu-aarch64 not registered" \
        "with binfmt_misc (scripts/deps.sh cross)"; return 1; }
    grep -qx enabled "$binfmt_entry" || { echo "disabled"; return 1; }
    step_detail "$(sed -n 's/^interpreter //p' "$binfmt_entry")"
}

s_unit_arm64() {
    local vars entry out
    mapfile -t vars < <(make_vars)
    entry=$(cat "$entry_file")
    mkdir -p "$logdir/unit-arm64"
    # run.sh's make sees the same variables through the environment
    # LeakSanitizer stops the world with ptrace, which QEMU user mode
    # does not emulate: leaks are the native unit tier's business.
    env "${vars[@]}" QEMU_LD_PREFIX="$entry/root" \
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
step --timeout 900 cross-build -- s_cross_build
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
