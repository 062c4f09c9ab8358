#!/bin/bash
# Build a gzip'ed newc cpio for a test guest.
#
# Usage: scripts/mk-initramfs.sh [options]
#   -k KDIR        kernel directory from scripts/fetch-kernel.sh
#   -m MODULE      add MODULE and its dependencies (needs -k)
#   -l MODULE      as -m, and load it at boot (/etc/xvf/modules.load keeps
#                  the insmod order, so /init needs no modprobe)
#   -b BIN[=DEST]  add an ELF binary (at DEST, default its own path) and
#                  the ldd closure of it
#   -f SRC=DEST    add a file or a directory tree
#   -B             add busybox-static as /bin/busybox plus applet links
#   -c NAME        cache the result as $XEN_VF_CACHE/NAME-<inputs hash>.cpio.gz
#   -o OUT         also copy the result to OUT
#
# Cross images (another architecture than the host's): XVF_TARGET_ROOT
# is a directory with the target's packages unpacked (scripts/
# arm64-sysroot.sh guest). busybox, and -b sources given as absolute
# paths it has, come from there; the libraries of every -b binary are
# resolved there with readelf (NEEDED and the interpreter), not ldd.
#
# Prints the path of the archive. Linux accepts several concatenated
# compressed cpio archives as one initrd, later ones overriding files of
# earlier ones; the domd tier uses that to keep the slow part (modules,
# busybox, nvme-cli) cached and to rebuild only the small part that
# carries build/xen-vfctl and the test scripts.
set -euo pipefail

cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
troot=${XVF_TARGET_ROOT:-}
kdir='' name='' out='' busybox=0
mods=() loads=() bins=() files=()

die() { echo "mk-initramfs: $*" >&2; exit 1; }

while getopts k:m:l:b:f:Bc:o: opt; do
    case $opt in
        k) kdir=$OPTARG ;;
        m) mods+=("$OPTARG") ;;
        l) mods+=("$OPTARG"); loads+=("$OPTARG") ;;
        b) bins+=("$OPTARG") ;;
        f) files+=("$OPTARG") ;;
        B) busybox=1 ;;
        c) name=$OPTARG ;;
        o) out=$OPTARG ;;
        *) die "bad option (see the header of $0)" ;;
    esac
done
[ -n "$name" ] || [ -n "$out" ] || die "need -c NAME or -o OUT"
if [ ${#mods[@]} -gt 0 ] && [ -z "$kdir" ]; then
    die "-m/-l need -k KDIR"
fi

kver=
if [ -n "$kdir" ]; then
    kver=$(cat "$kdir/kver")
fi

# tsrc PATH - where an -b source is read from: the target root's copy
# of an absolute path it has, else PATH (a program built for the target)
tsrc() {
    case $1 in
        /*) if [ -e "$troot$1" ]; then echo "$troot$1"; else echo "$1"; fi ;;
        *) echo "$1" ;;
    esac
}

# cross_libs FILE - target paths of FILE's interpreter and NEEDED closure
cross_libs() {
    local queue=("$1") f lib d found interp
    declare -A seen=()
    while ((${#queue[@]})); do
        f=${queue[0]}
        queue=("${queue[@]:1}")
        interp=$(readelf -lW "$f" 2>/dev/null |
            sed -n 's/.*program interpreter: \(.*\)]$/\1/p')
        [ -z "$interp" ] || echo "$interp"
        for lib in $(readelf -dW "$f" 2>/dev/null |
                sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
            [ -z "${seen[$lib]:-}" ] || continue
            seen[$lib]=1
            found=
            for d in "$troot"/lib/*-linux-gnu "$troot"/usr/lib/*-linux-gnu \
                    "$troot/lib" "$troot/usr/lib"; do
                [ -e "$d/$lib" ] && { found=${d#"$troot"}/$lib; break; }
            done
            [ -n "$found" ] || die "$lib (needed by $f) not in $troot"
            echo "$found"
            queue+=("$troot$found")
        done
    done
}

# ELF files to copy: "src dest" lines, binaries first, then their libraries.
elfs() {
    local b src dest
    for b in "${bins[@]}"; do
        src=${b%%=*}
        dest=$src
        [ "$b" = "$src" ] || dest=${b#*=}
        [ -z "$troot" ] || src=$(tsrc "$src")
        [ -x "$src" ] || die "binary $src missing"
        echo "$src $dest"
    done
    if [ -n "$troot" ]; then
        for b in "${bins[@]}"; do
            cross_libs "$(tsrc "${b%%=*}")"
        done | sort -u | while read -r src; do
            [ -n "$src" ] && echo "$troot$src $src"
        done
        return
    fi
    for b in "${bins[@]}"; do
        src=${b%%=*}
        # "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux..."
        ldd "$src" 2>/dev/null | awk '
            $2 == "=>" && $3 ~ /^\// { print $3 }
            $1 ~ /^\// { print $1 }' || true
    done | sort -u | while read -r src; do
        [ -n "$src" ] && echo "$src $src"
    done
}

# Modules to copy, in insmod order per requested module.
modpaths() {
    local m
    for m in "$@"; do
        modprobe -d "$kdir/root" -S "$kver" --show-depends "$m" ||
            die "module $m not found in $kdir"
    done | awk '$1 == "insmod" { print $2 }'
}

elf_list=$(elfs)
mod_list=
[ ${#mods[@]} -eq 0 ] || mod_list=$(modpaths "${mods[@]}" | awk '!seen[$0]++')
load_list=
[ ${#loads[@]} -eq 0 ] ||
    load_list=$(modpaths "${loads[@]}" | awk '!seen[$0]++')

inputs_hash() {
    local l src f
    {
        sha256sum "$0" | cut -d' ' -f1
        echo "kernel ${kdir##*/} busybox $busybox"
        printf 'mods %s\n' "${mods[@]}" "${loads[@]}"
        echo "$load_list"
        while read -r l; do
            [ -n "$l" ] || continue
            src=${l%% *}
            echo "elf $l $(sha256sum <"$src" | cut -d' ' -f1)"
        done <<<"$elf_list"
        for f in "${files[@]}"; do
            src=${f%%=*}
            echo "file $f"
            if [ -d "$src" ]; then
                (cd "$src" && find . -type f -print0 | sort -z |
                    xargs -0 -r sha256sum)
            else
                sha256sum <"$src"
            fi
        done
        [ $busybox -eq 0 ] || sha256sum <"$troot/bin/busybox"
        [ -z "$troot" ] || echo "target $troot"
    } | sha256sum | cut -c1-16
}

result=
if [ -n "$name" ]; then
    result="$cache/$name-$(inputs_hash).cpio.gz"
    if [ -s "$result" ]; then
        [ -z "$out" ] || cp "$result" "$out"
        echo "$result"
        exit 0
    fi
    mkdir -p "$cache"
fi

tree=$(mktemp -d "${TMPDIR:-/tmp}/xvf-initramfs.XXXXXX")
trap 'rm -rf "$tree"' EXIT

mkdir -p "$tree"/{bin,sbin,etc/xvf,proc,sys,dev,tmp,run,root,mnt}
mkdir -p "$tree"/lib/x86_64-linux-gnu "$tree"/lib64 "$tree"/usr/{bin,sbin}

if [ $busybox -eq 1 ]; then
    [ -x "$troot/bin/busybox" ] || die "busybox-static missing"
    cp "$troot/bin/busybox" "$tree/bin/busybox"
    # `busybox --list` names busybox itself: a link to itself loops.
    # A foreign busybox cannot run here: the host's (same Debian version)
    # gives the applet list.
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] && continue
        [ -e "$tree/bin/$a" ] || ln -s busybox "$tree/bin/$a"
    done
fi

while read -r src dest; do
    [ -n "$src" ] || continue
    mkdir -p "$tree$(dirname "$dest")"
    cp -L "$src" "$tree$dest"
done <<<"$elf_list"

for f in "${files[@]}"; do
    src=${f%%=*}
    dest=${f#*=}
    [ -e "$src" ] || die "file $src missing"
    mkdir -p "$tree$(dirname "$dest")"
    if [ -d "$src" ]; then
        mkdir -p "$tree$dest"
        cp -a "$src/." "$tree$dest/"
    else
        cp -L "$src" "$tree$dest"
    fi
done

if [ -n "$mod_list" ]; then
    while read -r m; do
        rel=${m#"$kdir/root"}
        mkdir -p "$tree$(dirname "$rel")"
        cp "$m" "$tree$rel"
    done <<<"$mod_list"
    cp "$kdir/root/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} \
        "$tree/lib/modules/$kver/" 2>/dev/null || true
    depmod -b "$tree" "$kver"
    : >"$tree/etc/xvf/modules.load"
    while read -r m; do
        [ -n "$m" ] && echo "${m#"$kdir/root"}" >>"$tree/etc/xvf/modules.load"
    done <<<"$load_list"
fi

tmpout=$(mktemp "${result:-$out}.XXXXXX")
(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 | gzip -1) >"$tmpout"
if [ -n "$result" ]; then
    chmod 644 "$tmpout"
    mv "$tmpout" "$result"
    [ -z "$out" ] || cp "$result" "$out"
    echo "$result"
else
    chmod 644 "$tmpout"
    mv "$tmpout" "$out"
    echo "$out"
fi
