# shellcheck shell=bash
# The arm64 cross build as the xen-vf recipe does it (meta-xen-vf), shared
# by the cross tier (tests/cross/run.sh) and the arm64 DomD tier
# (tests/domd/run.sh with XEN_VF_ARCH=arm64). Source it with $top set to
# the top of the tree; it sets
#   abuild      $top/${BUILD:-build}/arm64, the build directory (${B})
#   image       $abuild/image, the install directory (${D})
#   triplet     aarch64-linux-gnu
#   recipe      the layer's xen-vf recipe
# and defines
#   cross_sysroot     scripts/arm64-sysroot.sh; remembers the entry
#   yocto_env         the environment bitbake gives the recipe's tasks
#   recipe_task NAME  the recipe's task NAME, expanded for this tree
#   cross_compile     the recipe's do_compile with WERROR=1, after
#                     cleaning $abuild when the sysroot or flags changed

: "${top:?set top}"
abuild=$top/${BUILD:-build}/arm64
image=$abuild/image
triplet=aarch64-linux-gnu
recipe=meta-xen-vf/recipes-extended/xen-vf/xen-vf_0.1.bb
# the sysroot entry, found by cross_sysroot, used by the others
entry_file=$abuild/sysroot-entry

cross_sysroot() {
    local entry
    mkdir -p "$abuild"
    entry=$("$top/scripts/arm64-sysroot.sh") || return 1
    echo "$entry" >"$entry_file"
    echo "$entry"
}

# One VAR=value a line, for mapfile: an R-Car S4 (Cortex-A55) machine's
# compiler options and security flags in CC, as poky puts them there.
yocto_env() {
    local entry root
    entry=$(cat "$entry_file") || return 1
    root=$entry/root
    printf '%s\n' \
        CC="$triplet-gcc -mcpu=cortex-a55+crc -mbranch-protection=standard -fstack-protector-strong -O2 -D_FORTIFY_SOURCE=2 -Wformat -Wformat-security -Werror=format-security --sysroot=$root" \
        AR="$triplet-ar" \
        CFLAGS="-O2 -pipe -g -feliminate-unused-debug-types" \
        LDFLAGS="-Wl,-O1 -Wl,--hash-style=gnu -Wl,--as-needed -Wl,-z,relro,-z,now" \
        PKG_CONFIG=pkg-config PKG_CONFIG_SYSROOT_DIR="$root" \
        PKG_CONFIG_LIBDIR="$root/usr/lib/$triplet/pkgconfig:$root/usr/share/pkgconfig" \
        PKG_CONFIG_PATH= PARALLEL_MAKE="-j 2" BUILD="$abuild"
}

recipe_task() {
    "$top/tests/cross/recipe.py" --set S="$top" --set B="$abuild" \
        --set D="$image" "$top/$recipe" task "$1"
}

cross_compile() {
    local env key task
    mapfile -t env < <(yocto_env)
    # Objects built against another sysroot or with other flags are
    # stale: make tracks neither (system headers are not in -MMD's lists).
    key=$(printf '%s\n' "${env[@]}" | sha256sum | cut -c1-16)
    if [ "$(cat "$abuild/.flags" 2>/dev/null)" != "$key" ]; then
        echo "new sysroot or flags: cleaning $abuild"
        find "$abuild" -mindepth 1 -maxdepth 1 ! -name sysroot-entry \
            -exec rm -rf {} +
        echo "$key" >"$abuild/.flags"
    fi
    task=$(recipe_task do_compile) || return 1
    echo "do_compile: $task"
    (cd "$top" && env "${env[@]}" WERROR=1 bash -ec "$task")
}
