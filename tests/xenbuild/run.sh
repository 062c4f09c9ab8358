#!/bin/bash
# The xenbuild tier: the Xen patch series (named PCI devices that a
# backend domain serves), without a hypervisor.
#
# Usage: tests/xenbuild/run.sh        (run-tiers.sh runs it from the top)
#
# Steps (OSSTest style, tests/lib/steps.sh; one log each in
# $XEN_VF_TIER_LOGDIR, default build/logs/xenbuild):
#   series-lint      every patch of every series: git format-patch output,
#                    a tools/libxl:, tools/xl: or docs/man: subject, a
#                    message, no Signed-off-by, no tab, no trailing space,
#                    C lines within libxl's 75 columns
#   series-same      4.17/, upstream/ and rcar/ make the same changes:
#                    patch by patch, the same files and the same added and
#                    removed lines (context, hunk positions, messages and
#                    CHANGELOG.md may differ)
#   make-xen         make xen: the 4.17 series applies cleanly to Debian's
#                    source and builds with Xen's -Werror (cached)
#   xl-links         the staged xl runs on the staged libraries, which
#                    carry the new parser, and no plug-in loader is left
#   parser           PCI_SPEC_STRINGs through the patched libxlutil, with
#                    and without xl.conf's pci.name_backends
#   answer-checks    libxl's checks of a backend domain's answer (which
#                    node permissions and BDFs it takes), called in the
#                    patched libxenlight's static archive
# and for the other Xen trees, snapshots in $XEN_VF_XEN_SRC (default the
# project's ../shared/xen-src; SHA256SUMS checked, nothing downloaded),
# built tools-only by scripts/build-xen.sh --tarball and cached like 4.17:
#   upstream-build   master c447b7308b + upstream/: applies, builds with
#                    -Werror, xl links, the libraries have the new parser
#   upstream-parser  the parser step against that build
#   rcar-v11-build   EPAM's spider-vpci-v11 tree (4.19, pcid) + rcar/: as
#                    upstream-build
#   rcar-v11-parser  the parser step against that build
#   rcar-v9-apply    rcar/ applies cleanly to spider-vpci-v9 (4.18)
# Closing line: "N passed, N failed" (blocked steps count as failed).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib/steps.sh

BUILD=${BUILD:-build}
logdir=${XEN_VF_TIER_LOGDIR:-$top/$BUILD/logs/xenbuild}
work=$top/$BUILD/xenbuild
multiarch=$(gcc -print-multiarch)
stage=$top/$BUILD/xen/stage
CFLAGS_T=(-std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter
          -Wmissing-prototypes -Wstrict-prototypes -D_GNU_SOURCE -g)
mkdir -p "$work"

# The Xen snapshots: beside the main checkout, also from a git worktree.
xen_src_dir() {
    local common
    if [ -n "${XEN_VF_XEN_SRC:-}" ]; then
        echo "$XEN_VF_XEN_SRC"
        return
    fi
    common=$(git -C "$top" rev-parse --path-format=absolute \
        --git-common-dir 2>/dev/null) && [ -d "$common/../../shared/xen-src" ] &&
        { echo "$common/../../shared/xen-src"; return; }
    echo "$top/../shared/xen-src"
}
xen_src=$(xen_src_dir)
TARBALL_UPSTREAM=xen-upstream-c447b7308b.tar.xz
TARBALL_V11=xen-spider-vpci-v11-2f94e7be.tar.xz
TARBALL_V9=xen-spider-vpci-v9-3ef38f2b.tar.xz

lint_patch() {
    local p=$1 subj bad=0
    head -n 1 "$p" | grep -q '^From [0-9a-f]\{40\} ' ||
        { echo "$p: not git format-patch output"; bad=1; }
    subj=$(sed -n 's/^Subject: \(\[PATCH[^]]*\] \)\{0,1\}//p' "$p" | head -n 1)
    echo "$subj" | grep -Eq '^(tools/libxl|tools/xl|docs/man): .+' ||
        { echo "$p: subject '$subj'"; bad=1; }
    [ "${#subj}" -le 80 ] || { echo "$p: subject over 80 chars"; bad=1; }
    if grep -qi '^Signed-off-by:' "$p"; then
        echo "$p: has a Signed-off-by (a human adds it)"; bad=1
    fi
    # The message: lines between the header and the first "---".
    [ "$(awk '/^$/ && !h { h = 1; next } h && /^---$/ { exit }
              h && NF { n++ } END { print n + 0 }' "$p")" -ge 3 ] ||
        { echo "$p: commit message under 3 lines"; bad=1; }
    awk -v P="$p" '
        /^\+\+\+ / { f = $2; next }
        /^\+/ {
            l = substr($0, 2)
            if (l ~ /\t/ && f !~ /Makefile/) { print P ": " f ": tab: " l; b = 1 }
            if (l ~ /[ \t]$/) { print P ": " f ": trailing space: " l; b = 1 }
            if (f ~ /\.[ch]$/ && length(l) > 75) {
                print P ": " f ": " length(l) " columns: " l; b = 1
            }
        }
        END { exit b }' "$p" || bad=1
    return $bad
}

s_series_lint() {
    local d p n=0 bad=0
    for d in xen-patches/*/; do
        for p in "$d"*.patch; do
            [ -e "$p" ] || continue
            n=$((n + 1))
            lint_patch "$p" || bad=1
            grep -m1 '^Subject:' "$p"
        done
    done
    [ $n -gt 0 ] || { echo "no patches in xen-patches/"; return 1; }
    step_detail "$n patches"
    return $bad
}

# The "+" and "-" lines of a patch, each after its file's name; what the
# patch changes, whatever its context. CHANGELOG.md is each tree's own.
# A "-- " line followed by a version (or nothing) is format-patch's
# signature, not a removed "- " line.
patch_changes() {
    awk '
        held { held = 0; if ($0 ~ /^[0-9]/) exit; print f "\t-- " }
        /^diff --git / { f = $4; next }
        /^(\+\+\+|---) / || /^index / { next }
        f == "b/CHANGELOG.md" { next }
        /^-- $/ { held = 1; next }
        /^[-+]/ && f != "" { print f "\t" $0 }' "$1"
}

s_series_same() {
    local p base q d n=0 bad=0
    for p in xen-patches/4.17/*.patch; do
        base=$(basename "$p")
        for d in upstream rcar; do
            q=xen-patches/$d/$base
            if [ ! -f "$q" ]; then
                echo "$q: missing (4.17 has $base)"; bad=1; continue
            fi
            if ! diff <(patch_changes "$p") <(patch_changes "$q"); then
                echo "$q: changes differ from $p"; bad=1
            fi
            n=$((n + 1))
        done
    done
    for d in upstream rcar; do
        [ "$(find "xen-patches/$d" -name '*.patch' | wc -l)" -eq \
          "$(find xen-patches/4.17 -name '*.patch' | wc -l)" ] ||
            { echo "xen-patches/$d: not as many patches as 4.17/"; bad=1; }
    done
    step_detail "$n patches compared with 4.17/'s"
    return $bad
}

s_make_xen() {
    local t0 t1
    t0=$(date +%s)
    make -s xen || return 1
    t1=$(date +%s)
    cat "$BUILD/xen/info"
    step_detail "$(sed -n 's/^version=//p' "$BUILD/xen/info"), $(grep -c '^patch=' \
        "$BUILD/xen/info") patches, $((t1 - t0)) s (build $(sed -n \
        's/^seconds_total=//p' "$BUILD/xen/info") s when cold)"
}

s_xl_links() {
    local lib=$stage/usr/lib/$multiarch out
    out=$(LD_LIBRARY_PATH=$lib ldd "$stage/usr/lib/xen-4.17/bin/xl") ||
        return 1
    echo "$out"
    if echo "$out" | grep -q 'not found'; then
        echo "missing libraries"; return 1
    fi
    echo "$out" | grep -q "libxenlight.so.4.17 => $lib/" ||
        { echo "xl does not use the staged libxenlight"; return 1; }
    nm -D --undefined-only "$stage/usr/lib/xen-4.17/bin/xl" |
        grep -w xlu_pci_parse_spec_string_backends ||
        { echo "xl does not use xlu_pci_parse_spec_string_backends"
          return 1; }
    check_libs "$lib" || return 1
    step_detail "xl uses xlu_pci_parse_spec_string_backends; no loader"
}

# check_libs LIBDIR: the staged libraries have what the series adds, and
# nothing of the plug-in interface it replaced.
check_libs() {
    local lib=$1
    nm -D --defined-only "$lib"/libxlutil.so.*.0 |
        grep -w xlu_pci_parse_spec_string_backends ||
        { echo "libxlutil lacks xlu_pci_parse_spec_string_backends"
          return 1; }
    if nm -D "$lib"/libxenlight.so.*.0 "$lib"/libxlutil.so.*.0 |
        grep -E 'pci_provider|dlopen'; then
        echo "a plug-in loader is left in libxl"; return 1
    fi
    strings "$lib"/libxenlight.so.*.0 | grep '/backend/pci-name' >/dev/null ||
        { echo "libxenlight does not write backend/pci-name requests"
          return 1; }
}

# parse_test STAGE LIBDIR OUT: build tests/xenbuild/pci-parse-test.c
# against a staged Xen and run it; OUT is its directory.
parse_test() {
    local st=$1 lib=$1$2 out=$3 extra=()
    rm -rf "$out"
    mkdir -p "$out"
    # The R-Car fork's libxenlight calls libxenvchan (its pcid client)
    # without linking it; its xl links it itself, and so must we.
    if nm -D --undefined-only "$lib"/libxenlight.so.*.0 |
        grep ' libxenvchan_' >/dev/null; then
        extra=(-lxenvchan)
    fi
    gcc "${CFLAGS_T[@]}" -I"$st/usr/include" -Itests/lib \
        -o "$out/pci-parse-test" tests/xenbuild/pci-parse-test.c \
        -L"$lib" -lxlutil -lxenlight "${extra[@]}" \
        -Wl,--disable-new-dtags -Wl,-rpath,"$lib" || return 1
    "$out/pci-parse-test" | tee "$out/pci-parse-test.out"
    local rc=${PIPESTATUS[0]}
    step_detail "$(sed -n 's/^# \(.*\) specs as expected$/\1/p' \
        "$out/pci-parse-test.out" | paste -sd ';'), $(tail \
        -n 1 "$out/pci-parse-test.out")"
    return "$rc"
}

s_answer_checks() {
    local lib=$stage/usr/lib/$multiarch out=$work/4.17/pci-name-test rc deps
    mkdir -p "$(dirname "$out")"
    read -ra deps < <(pkg-config --libs xentoollog xenevtchn xentoolcore \
        xencontrol xenstore xenhypfs xenguest xendevicemodel \
        xenforeignmemory xencall) || return 1
    # The archive's own dependencies: Debian's Xen libraries (the series
    # changes none of them) and what libxenlight links.
    gcc "${CFLAGS_T[@]}" -I"$stage/usr/include" -Itests/lib -o "$out" \
        tests/xenbuild/pci-name-test.c "$lib/libxenlight.a" "${deps[@]}" \
        -luuid -lyajl -lnl-3 -lnl-route-3 -lutil -lrt -lpthread || return 1
    "$out" | tee "$out.out"
    rc=${PIPESTATUS[0]}
    step_detail "$(sed -n 's/^# \([0-9]* [a-zA-Z ]*\)$/\1/p' "$out.out" |
        grep -v checks | paste -sd ';'); $(tail -n 1 "$out.out")"
    return "$rc"
}

s_parser() {
    parse_test "$stage" "/usr/lib/$multiarch" "$work/4.17"
}

# tree_build NAME TARBALL: build a snapshot with its series (build-xen.sh
# picks upstream/ or rcar/), link it as $BUILD/xen-NAME and check what
# the parser step relies on.
tree_build() {
    local tb=$xen_src/$2 link=$top/$BUILD/xen-$1 t0 t1 e
    local st lib xl out
    [ -f "$tb" ] || { echo "$tb: missing (set XEN_VF_XEN_SRC)"; return 1; }
    t0=$(date +%s)
    XEN_VF_CACHE=${XEN_VF_CACHE:-/var/cache/xen-vf} nice -n 10 \
        scripts/build-xen.sh --tarball "$tb" --link "$link" || return 1
    t1=$(date +%s)
    e=$link/info
    cat "$e"
    st=$link/stage
    lib=$st$(sed -n 's/^libdir=//p' "$e")
    xl=$st$(sed -n 's/^xl=//p' "$e")
    out=$(LD_LIBRARY_PATH=$lib ldd "$xl") || return 1
    echo "$out"
    if echo "$out" | grep -q 'not found'; then
        echo "xl: missing libraries"; return 1
    fi
    echo "$out" | grep -q "libxenlight\.so\..* => $lib/" ||
        { echo "xl does not use the staged libxenlight"; return 1; }
    check_libs "$lib" || return 1
    grep -q -- '-Werror' "$link/build.log" ||
        { echo "built without -Werror"; return 1; }
    local ver series n cold
    ver=$(sed -n 's/^version=//p' "$e")
    series=$(basename "$(sed -n 's/^series=//p' "$e")")
    n=$(grep -c '^patch=' "$e")
    cold=$(sed -n 's/^seconds_total=//p' "$e")
    step_detail "$ver + $series/ ($n patches), $((t1 - t0)) s (cold build $cold s)"
}

tree_parser() {
    local link=$top/$BUILD/xen-$1
    parse_test "$link/stage" "$(sed -n 's/^libdir=//p' "$link/info")" \
        "$work/$1"
}

s_rcar_v9_apply() {
    local tb=$xen_src/$TARBALL_V9 out
    [ -f "$tb" ] || { echo "$tb: missing (set XEN_VF_XEN_SRC)"; return 1; }
    out=$(scripts/build-xen.sh --tarball "$tb" --check-only 2>&1)
    local rc=$?
    echo "$out"
    echo "$out" | grep -q 'applying rcar:' ||
        { echo "not the rcar series"; return 1; }
    step_detail "$(echo "$out" | tail -n 1 | sed 's/^build-xen: //')"
    return $rc
}

steps_init xenbuild "$logdir"
step --needs none series-lint -- s_series_lint
step --needs none series-same -- s_series_same
step --needs none --timeout 1800 make-xen -- s_make_xen
step --needs make-xen xl-links -- s_xl_links
step --needs make-xen parser -- s_parser
step --needs make-xen answer-checks -- s_answer_checks
step --needs none --timeout 1800 upstream-build -- \
    tree_build upstream "$TARBALL_UPSTREAM"
step --needs upstream-build upstream-parser -- \
    tree_parser upstream
step --needs none --timeout 1800 rcar-v11-build -- \
    tree_build rcar-v11 "$TARBALL_V11"
step --needs rcar-v11-build rcar-v11-parser -- \
    tree_parser rcar-v11
step --needs none rcar-v9-apply -- s_rcar_v9_apply
steps_finish
