#!/bin/bash
# Build Xen's libxlutil, libxenlight and xl with the xen-patches/ series,
# into a staging root cached outside the clone.
#
# Usage: scripts/build-xen.sh [--src DIR | --tarball FILE] [--series DIR]
#                             [--arch arm64] [--link PATH] [--print]
#                             [--check-only]
#
#   (no --src)    Debian 12's Xen source package (apt-get source xen), the
#                 newest version the archive serves; series xen-patches/4.17
#   --src DIR     a Xen tree of your own (e.g. the R-Car fork); it is copied,
#                 never changed
#   --tarball FILE
#                 a snapshot (tar.xz, one top directory) from
#                 ../shared/xen-src; its SHA256 must be the one the
#                 SHA256SUMS beside it lists; nothing is downloaded.
#                 With --src or --tarball the series is xen-patches/X.Y for
#                 Xen X.Y; else xen-patches/rcar for a tree with pcid
#                 (tools/libs/light/libxl_pcid.c: EPAM's R-Car trees);
#                 else xen-patches/upstream for 4.20 and later
#   --series DIR  use this series instead
#   --arch arm64  cross-build for arm64 (Debian's aarch64-linux-gnu cross
#                 compiler, against the sysroot of
#                 scripts/arm64-sysroot.sh, whose package list is one of
#                 the inputs); the stage has Debian's arm64 layout
#   --link PATH   make PATH a symlink to the cache entry
#   --print       only print the cache entry's path (building if needed)
#   --check-only  apply the series (git apply --check) and stop
#
# The cache entry is ${XEN_VF_CACHE:-/var/cache/xen-vf}/xen-<ver>-<hash>
# (xen-arm64-<ver>-<hash> for --arch arm64), <hash> covering the source (a
# tarball: its SHA256), the series, this script and, cross, the sysroot's
# packages, and holds
#   stage/      the install root: for Debian's source, the layout of
#               Debian's packages (libs in /usr/lib/<multiarch>, xl in
#               /usr/lib/xen-X.Y/bin), so it can be copied over a Debian
#               system; includes the headers
#   build.log   the whole build
#   info        version, series, patches, libdir (in stage/), build seconds
# A second run with the same inputs finds the entry and takes a second.
# Builds with Xen's own -Werror. Jobs: ${XEN_VF_JOBS:-2}.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
jobs=${XEN_VF_JOBS:-2}
src='' tarball='' series='' link='' print=0 check_only=0 arch=''

while [ $# -gt 0 ]; do
    case $1 in
        --src) src=$2; shift 2 ;;
        --tarball) tarball=$2; shift 2 ;;
        --series) series=$2; shift 2 ;;
        --arch) arch=$2; shift 2 ;;
        --link) link=$2; shift 2 ;;
        --print) print=1; shift ;;
        --check-only) check_only=1; shift ;;
        *) echo "build-xen: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

say() { [ $print -eq 1 ] || echo "build-xen: $*"; }
die() { echo "build-xen: $*" >&2; exit 1; }

[ -z "$src" ] || [ -z "$tarball" ] || die "--src and --tarball exclude each other"

mkdir -p "$cache"
exec 9>"$cache/xen-build.lock"
flock -w 3600 9 || die "another build holds $cache/xen-build.lock"

multiarch=$(gcc -print-multiarch)
# Cross: the compiler, its sysroot and what Xen's make and configure are
# told; empty for a native build.
cross_id='' prefix=xen
cross_conf=() cross_make=() cross_env=()
case $arch in
    ''|"$(dpkg --print-architecture)") ;;
    arm64)
        multiarch=aarch64-linux-gnu
        sysroot=$("$top/scripts/arm64-sysroot.sh" dev) ||
            die "no arm64 sysroot (scripts/arm64-sysroot.sh dev)"
        cross_id="arm64 $(cat "$sysroot/packages")"
        prefix=xen-arm64
        cc="$multiarch-gcc --sysroot=$sysroot/root"
        pc=$sysroot/bin/$multiarch-pkg-config
        cross_conf=(--host="$multiarch" --build="$(gcc -dumpmachine)")
        cross_env=(CC="$cc" PKG_CONFIG="$pc" DEB_HOST_ARCH=arm64)
        cross_make=(XEN_TARGET_ARCH=arm64 CROSS_COMPILE="$multiarch-"
                    CC="$cc" PKG_CONFIG="$pc") ;;
    *) die "--arch $arch: only arm64 can be cross-built" ;;
esac

# --- the source -----------------------------------------------------------

# Newest version of Debian's source the archive actually serves. apt's
# lists may name one its mirror cannot give (a security update, say), so
# try them newest first, and remember the answer for this set of lists so
# that a cached run needs no network.
debian_source() {
    local versions key v dl
    versions=$(apt-cache showsrc xen 2>/dev/null |
        sed -n 's/^Version: //p' | sort -u | sort -r -V)
    [ -n "$versions" ] ||
        die "apt knows no source package 'xen': add a deb-src line for bookworm (scripts/deps.sh xen does)"
    key=$(echo "$versions" | sha256sum | cut -c1-12)
    dl=$cache/debsrc
    mkdir -p "$dl"
    if [ -f "$dl/resolved-$key" ]; then
        v=$(cat "$dl/resolved-$key")
        if [ -f "$dl/xen_${v#*:}.dsc" ]; then
            echo "$v"
            return 0
        fi
    fi
    for v in $versions; do
        if [ -f "$dl/xen_${v#*:}.dsc" ] ||
            (cd "$dl" && apt-get source -q --download-only "xen=$v" \
                >"$dl/download-${v#*:}.log" 2>&1); then
            echo "$v" >"$dl/resolved-$key"
            echo "$v"
            return 0
        fi
        echo "build-xen: xen $v: not downloadable, trying an older one" >&2
    done
    die "no version of Debian's xen source could be downloaded (see $dl/download-*.log)"
}

# X.Y from a xen/Makefile on stdin; $1 names the tree in errors.
makefile_version() {
    local mk maj min
    mk=$(cat)
    maj=$(echo "$mk" | sed -n 's/^export XEN_VERSION *= *//p')
    min=$(echo "$mk" | sed -n 's/^export XEN_SUBVERSION *= *//p')
    if [ -z "$maj" ] || [ -z "$min" ]; then
        die "$1: no Xen version in xen/Makefile"
    fi
    echo "$maj.$min"
}

# The SHA256 of a snapshot, checked against the SHA256SUMS beside it.
tarball_sum() {
    local f=$1 sums want have
    sums=$(dirname "$f")/SHA256SUMS
    [ -f "$sums" ] || die "$f: no SHA256SUMS beside it"
    want=$(awk -v n="$(basename "$f")" '$2 == n || $2 == "*" n { print $1 }' \
        "$sums")
    [ -n "$want" ] || die "$f: not listed in $sums"
    have=$(sha256sum <"$f" | cut -d' ' -f1)
    [ "$have" = "$want" ] ||
        die "$f: SHA256 $have, but $sums says $want"
    echo "$have"
}

# pick_series X.Y HAS_PCID
pick_series() {
    local mm=$1 pcid=$2 maj min
    if [ -d "$top/xen-patches/$mm" ]; then
        echo "$top/xen-patches/$mm"
        return
    fi
    if [ "$pcid" -eq 1 ]; then
        echo "$top/xen-patches/rcar"
        return
    fi
    maj=${mm%%.*} min=${mm#*.}
    if [ "$maj" -gt 4 ] || { [ "$maj" -eq 4 ] && [ "$min" -ge 20 ]; }; then
        echo "$top/xen-patches/upstream"
        return
    fi
    die "no series for Xen $mm in xen-patches/ (use --series)"
}

pcid=0
if [ -n "$tarball" ]; then
    [ -f "$tarball" ] || die "no such file: $tarball"
    tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
    sum=$(tarball_sum "$tarball")
    mm=$(tar -xJOf "$tarball" --wildcards '*/xen/Makefile' |
        makefile_version "$tarball")
    # No grep -q: tar would die of SIGPIPE, and pipefail see a failure.
    if tar -tJf "$tarball" |
        grep '/tools/libs/light/libxl_pcid\.c$' >/dev/null; then
        pcid=1
    fi
    name=$(basename "$tarball" .tar.xz)
    ver=$mm-${name#xen-}
    flavour=generic
    src_id="tarball $sum"
elif [ -n "$src" ]; then
    src=$(cd "$src" && pwd) || die "no such directory: $src"
    mm=$(makefile_version "$src" <"$src/xen/Makefile")
    [ ! -f "$src/tools/libs/light/libxl_pcid.c" ] || pcid=1
    ver=$mm
    flavour=generic
    if git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
        ver=$mm-$(git -C "$src" rev-parse --short=12 HEAD)
        src_id=$( { git -C "$src" rev-parse HEAD
                    git -C "$src" status --porcelain
                    git -C "$src" diff; } | sha256sum)
    else
        src_id=$(cd "$src" && find . -type f ! -path './.git/*' \
            -printf '%p %s %T@\n' | sort | sha256sum)
    fi
else
    debver=$(debian_source)
    ver=${debver#*:}
    mm=$(echo "$ver" | cut -d. -f1,2)
    flavour=debian
    src_id="debian $debver"
fi
[ -n "$series" ] || series=$(pick_series "$mm" "$pcid")
series=$(cd "$series" && pwd) || die "no such series: $series"
mapfile -t patches < <(find "$series" -maxdepth 1 -name '*.patch' | sort)
[ ${#patches[@]} -gt 0 ] || die "no patches in $series"

hash=$( { echo "$src_id"; echo "$flavour"
          [ -z "$cross_id" ] || echo "$cross_id"
          cat "${patches[@]}" "$0"; } | sha256sum | cut -c1-12)
entry=$cache/$prefix-$ver-$hash

finish() {
    if [ -n "$link" ]; then
        mkdir -p "$(dirname "$link")"
        ln -sfn "$entry" "$link"
    fi
    if [ $print -eq 1 ]; then
        echo "$entry"
    else
        say "$entry/stage"
    fi
}

if [ $check_only -eq 0 ] && [ -f "$entry/ok" ]; then
    say "cached: xen $ver with $(basename "$series") (${#patches[@]} patches)"
    finish
    exit 0
fi

# --- unpack and patch -------------------------------------------------------

work=$cache/xen-work-$hash
rm -rf "$work" "$entry.tmp"
mkdir -p "$work" "$entry.tmp"
# Until the build starts, nothing is worth keeping; a failed build keeps
# its tree and log for a look.
trap 'rm -rf "$work" "$entry.tmp"' EXIT
log=$entry.tmp/build.log
: >"$log"
t0=$(date +%s)

if [ "$flavour" = debian ]; then
    say "unpacking Debian's xen $debver"
    dpkg-source -x "$cache/debsrc/xen_$ver.dsc" "$work/src" >>"$log" 2>&1 ||
        die "dpkg-source -x failed, see $log"
elif [ -n "$tarball" ]; then
    say "unpacking $(basename "$tarball")"
    mkdir -p "$work/src"
    tar -C "$work/src" --strip-components=1 -xJf "$tarball"
else
    say "copying $src"
    mkdir -p "$work/src"
    tar -C "$src" --exclude=./.git -cf - . | tar -C "$work/src" -xf -
fi
tree=$work/src

say "applying $(basename "$series"): ${#patches[@]} patches"
for p in "${patches[@]}"; do
    # Clean: no fuzz, no rejects; an offset is noted in the log.
    if ! out=$(cd "$tree" && patch -p1 -F0 -N --dry-run <"$p" 2>&1); then
        echo "$out" | tee -a "$log" >&2
        die "$(basename "$p") does not apply cleanly to xen $ver"
    fi
    (cd "$tree" && patch -p1 -F0 -N -s --no-backup-if-mismatch <"$p") \
        >>"$log" 2>&1
    echo "applied $(basename "$p")${out:+: $(echo "$out" | grep -c offset) offset hunk(s)}" >>"$log"
done
if [ $check_only -eq 1 ]; then
    say "series applies cleanly to xen $ver"
    exit 0
fi

# --- configure and build ----------------------------------------------------

conf=(--prefix=/usr --sysconfdir=/etc --localstatedir=/var
      --disable-xen --disable-docs --disable-stubdom
      --disable-qemu-traditional --disable-rombios --disable-seabios
      --disable-ipxe --disable-ovmf --disable-pvshim
      --disable-ocamltools --disable-golang --disable-pygrub
      --disable-systemd "${cross_conf[@]}")
if [ "$flavour" = debian ]; then
    # As debian/rules, so that the result replaces Debian's own files.
    conf+=(--includedir=/usr/include "--libdir=/usr/lib/$multiarch"
           "--with-libexec-libdir-suffix=/$multiarch"
           "--with-libexec-leaf-dir=xen-$mm" --mandir=/usr/share/man
           --with-system-qemu=/usr/libexec/xen-qemu-system-i386)
    # Debian's quilt series deletes the generated build system.
    for f in config.sub config.guess; do
        if [ -f /usr/share/misc/$f ]; then
            cp /usr/share/misc/$f "$tree/"
        else
            cp /usr/share/autoconf/build-aux/$f "$tree/"
        fi
    done
fi

build() {
    # Runs where set -e is ignored (an if), hence the explicit returns.
    cd "$tree" || return 1
    if [ ! -x configure ] || [ ! -x tools/configure ]; then
        ./autogen.sh || return 1
    fi
    env "${cross_env[@]}" ./configure "${conf[@]}" || return 1
    # Xen adds -Werror itself (tools/Rules.mk); Debian's hardening flags
    # (the target's, cross) come on top, as in debian/rules.
    local flags=(env "${cross_env[@]}" dpkg-buildflags)
    local mk=(V=1 "${cross_make[@]}"
              EXTRA_CFLAGS_XEN_TOOLS="$("${flags[@]}" --get CFLAGS) $("${flags[@]}" --get CPPFLAGS)"
              PREPEND_LDFLAGS_XEN_TOOLS="$("${flags[@]}" --get LDFLAGS)")
    local d=$entry.tmp/stage libdir
    make -j"$jobs" -C tools/include "${mk[@]}" || return 1
    make -j"$jobs" -C tools/libs "${mk[@]}" || return 1
    make -j"$jobs" -C tools/xl "${mk[@]}" || return 1
    # Without it, installing a .pc file makes a file of that name.
    libdir=$(sed -n 's/^libdir *:= *//p' config/Paths.mk)
    mkdir -p "$d$libdir/pkgconfig" || return 1
    if [ "$flavour" = debian ]; then
        # Only what the series changes: the rest stays Debian's.
        make -C tools/libs/light install DESTDIR="$d" "${mk[@]}" || return 1
        make -C tools/libs/util install DESTDIR="$d" "${mk[@]}" || return 1
    else
        # Another Xen's libraries: all of them, so the stage is complete.
        make -C tools/libs install DESTDIR="$d" "${mk[@]}" || return 1
    fi
    make -C tools/xl install DESTDIR="$d" "${mk[@]}" || return 1
    if [ "$flavour" = debian ]; then
        # Debian's /usr/sbin/xl is a wrapper that runs this one.
        mkdir -p "$d/usr/lib/xen-$mm/bin" || return 1
        mv "$d/usr/sbin/xl" "$d/usr/lib/xen-$mm/bin/xl" || return 1
    fi
}

say "building tools-only (libxlutil, libxenlight, xl), -j$jobs; log: $entry/build.log"
trap 'rm -rf "$entry.tmp"' EXIT
t1=$(date +%s)
if ! (build) >>"$log" 2>&1; then
    grep -E 'error|Error' "$log" | tail -n 20 >&2
    mv "$log" "$entry.failed.log"
    die "build failed; work tree kept in $work, log in $entry.failed.log"
fi
t2=$(date +%s)

stage=$entry.tmp/stage
libdir=$(sed -n 's/^libdir *:= *//p' "$tree/config/Paths.mk")
sbindir=$(sed -n 's/^sbindir *:= *//p' "$tree/config/Paths.mk")
xl=$sbindir/xl
[ "$flavour" = generic ] || xl=/usr/lib/xen-$mm/bin/xl
for f in "$libdir/libxenlight.so.$mm.0" "$libdir/libxlutil.so.$mm.0" \
         usr/include/libxlutil.h "$xl"; do
    [ -e "$stage/${f#/}" ] || die "build did not produce $f"
done

{
    echo "version=$ver"
    echo "arch=${arch:-$(dpkg --print-architecture)}"
    echo "source=$src_id"
    echo "flavour=$flavour"
    echo "series=$series"
    echo "libdir=$libdir"
    echo "xl=$xl"
    for p in "${patches[@]}"; do echo "patch=$(basename "$p")"; done
    echo "seconds_prepare=$((t1 - t0))"
    echo "seconds_build=$((t2 - t1))"
    echo "seconds_total=$((t2 - t0))"
} >"$entry.tmp/info"
touch "$entry.tmp/ok"
rm -rf "$entry"
mv "$entry.tmp" "$entry"
rm -rf "$work"
trap - EXIT
# Keep the three newest builds of this version (other checkouts may be at
# other patch states); older ones are rebuilt if ever needed.
find "$cache" -maxdepth 1 -name "$prefix-$ver-*" -type d ! -name '*.tmp' \
    -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2- |
    while read -r old; do rm -rf "$old"; done
say "built xen $ver in $((t2 - t0)) s"
finish
