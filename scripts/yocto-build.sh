#!/bin/bash
# scripts/yocto-build.sh - the compile and install steps of the xen-vf
# recipe (meta-xen-vf/recipes-extended/xen-vf/xen-vf_0.1.bb). The recipe's
# do_compile and do_install call it, and so does the cross tier
# (tests/cross/run.sh), so CI runs the commands a Yocto build runs.
#
#   scripts/yocto-build.sh compile BUILD=DIR [VAR=value...]
#   scripts/yocto-build.sh install BUILD=DIR DESTDIR=DIR [VAR=value...]
#
# BUILD is the recipe's ${B}, DESTDIR its ${D}; the other VAR=value are
# make variables, the recipe's paths (prefix, sbindir, libexecdir,
# sysconfdir, localstatedir, mandir, systemdunitdir). Give both steps the same ones: paths are
# compiled in (the state directory, the script directory, the unit's
# ExecStart).
#
# The toolchain comes from the environment, as bitbake exports it to a
# task: CC (with the machine's options and --sysroot), AR, CFLAGS,
# CPPFLAGS, LDFLAGS, PKG_CONFIG (default pkg-config, which finds the
# target's .pc files through PKG_CONFIG_SYSROOT_DIR, PKG_CONFIG_LIBDIR and
# PKG_CONFIG_PATH) and PARALLEL_MAKE ("-j 8"). -Werror only with WERROR=1
# in the environment (the project's CI), never from a distribution's
# flags (docs/design.md).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
    echo "yocto-build: $*" >&2
    exit 2
}

[ $# -gt 0 ] || die "usage: $0 compile|install BUILD=DIR [DESTDIR=DIR] [VAR=value...]"
step=$1
shift
case $step in
    compile) goal=all ;;
    install) goal=install ;;
    *) die "unknown step '$step' (compile or install)" ;;
esac

build='' dest=''
for a in "$@"; do
    case $a in
        BUILD=*) build=${a#BUILD=} ;;
        DESTDIR=*) dest=${a#DESTDIR=} ;;
        [A-Za-z_]*=*) ;;
        *) die "'$a' is not a make variable assignment VAR=value" ;;
    esac
done
[ -n "$build" ] || die "BUILD=DIR missing (the recipe's \${B})"
[[ $build == /* ]] || die "BUILD=$build is not an absolute path"
if [ "$step" = install ]; then
    [ -n "$dest" ] || die "DESTDIR=DIR missing (the recipe's \${D})"
    [[ $dest == /* ]] || die "DESTDIR=$dest is not an absolute path"
fi
[ -n "${CC:-}" ] || die "CC is not set (bitbake exports it to every task)"

# The toolchain goes on make's command line, as the cross tier always
# passed it: a command-line CFLAGS wins over any the Makefile sets.
vars=(CC="$CC" AR="${AR:-ar}" PKG_CONFIG="${PKG_CONFIG:-pkg-config}")
[ -z "${CFLAGS+x}" ] || vars+=(CFLAGS="$CFLAGS")
[ -z "${CPPFLAGS+x}" ] || vars+=(CPPFLAGS="$CPPFLAGS")
[ -z "${LDFLAGS+x}" ] || vars+=(LDFLAGS="$LDFLAGS")
set -x
# shellcheck disable=SC2086  # PARALLEL_MAKE is "-j N", split on purpose
make -C "$top" --no-print-directory ${PARALLEL_MAKE:-} "${vars[@]}" "$@" \
    "$goal"
