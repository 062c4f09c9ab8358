#!/bin/bash
# scripts/arm64-sysroot.sh - a Debian 12 arm64 sysroot with the -dev
# packages xen-vf builds against, for cross-building on any host.
#
#   scripts/arm64-sysroot.sh            print the entry's directory
#
# The entry, $XEN_VF_CACHE/arm64-sysroot-<key> (XEN_VF_CACHE defaults to
# /var/cache/xen-vf), holds
#   root/                              the sysroot (dpkg-deb -x of the debs,
#                                      absolute symlinks made to point inside)
#   bin/aarch64-linux-gnu-pkg-config   pkg-config for that sysroot
#   packages                           name=version of every deb in it
# <key> is a hash of that package list, so the entry is rebuilt when
# Debian updates one of them and reused (no download) otherwise.
#
# Nothing on the host changes: apt runs with its own state under
# $XEN_VF_CACHE/arm64-apt (sources for deb.debian.org bookworm,
# bookworm-updates and bookworm-security, arm64 only; lists refreshed
# when older than XEN_VF_ARM64_LISTS_MAX_AGE seconds, default 86400),
# resolves the packages' closure against an empty dpkg status and
# downloads the debs with `apt-get download`. No `dpkg --add-architecture`,
# no :arm64 package installed: bookworm's libnvme-dev and libxen-dev are
# not Multi-Arch, so installing their arm64 builds would remove the
# host's amd64 ones.
set -euo pipefail

cache=${XEN_VF_CACHE:-/var/cache/xen-vf}
max_age=${XEN_VF_ARM64_LISTS_MAX_AGE:-86400}
# What the Makefile's pkg-config modules need (libnvme.pc's
# Requires.private names json-c and openssl), the C library, and the
# sanitizer runtimes the unit tier's ASan/UBSan binaries load.
pkgs="libnvme-dev libxen-dev libpci-dev libmnl-dev libsystemd-dev
      libjson-c-dev libssl-dev libc6-dev libasan8 libubsan1"

log() { echo "arm64-sysroot: $*" >&2; }
die() { log "$*"; exit 1; }

apt=$cache/arm64-apt
mkdir -p "$apt"/state/lists/partial "$apt"/cache/archives/partial \
    "$apt"/parts "$apt"/debs
exec {lock}>"$cache/arm64-sysroot.lock"
flock "$lock"

cat >"$apt/sources.list" <<'EOF'
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm bookworm-updates main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
EOF
: >"$apt/state/status"
aptopts=(-q -o Dir::State="$apt/state" -o Dir::State::status="$apt/state/status"
    -o Dir::Cache="$apt/cache" -o Dir::Etc::sourcelist="$apt/sources.list"
    -o Dir::Etc::sourceparts="$apt/parts" -o Dir::Etc::preferencesparts="$apt/parts"
    -o APT::Architecture=arm64 -o APT::Architectures::=arm64
    -o Acquire::Languages=none -o Debug::NoLocking=1
    -o APT::Sandbox::User=root)

stamp=$apt/state/updated
if [ ! -f "$stamp" ] ||
        [ $(($(date +%s) - $(stat -c %Y "$stamp"))) -ge "$max_age" ]; then
    log "apt-get update (arm64 lists under $apt)"
    if apt-get "${aptopts[@]}" update >&2; then
        touch "$stamp"
    elif [ -f "$stamp" ]; then
        log "apt-get update failed: using the lists of $(date -r "$stamp")"
    else
        die "apt-get update failed and there are no lists yet"
    fi
fi

# The closure, as apt would install it on an empty arm64 system.
# shellcheck disable=SC2086
list=$(apt-get "${aptopts[@]}" -s install --no-install-recommends $pkgs |
    sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1=\2/p' | LC_ALL=C sort)
[ -n "$list" ] || die "apt resolved no package for: $pkgs"
key=$(printf '%s\n' "$list" | sha256sum | cut -c1-16)
entry=$cache/arm64-sysroot-$key
if [ -f "$entry/complete" ]; then
    echo "$entry"
    exit 0
fi

log "building $entry ($(echo "$list" | wc -l) packages)"
rm -rf "$entry"
mkdir -p "$entry/root" "$entry/bin"
# shellcheck disable=SC2046
(cd "$apt/debs" && apt-get "${aptopts[@]}" download \
    $(printf '%s\n' "$list" | sed 's/=/:arm64=/') >&2) ||
    die "apt-get download failed"
while IFS="=" read -r name ver; do
    # apt-get download names the file with the version's ':' as %3a
    deb=$(find "$apt/debs" -maxdepth 1 -name "${name}_${ver//:/%3a}_*.deb" | head -n 1)
    [ -n "$deb" ] || die "no deb for $name $ver in $apt/debs"
    dpkg-deb -x "$deb" "$entry/root"
done <<<"$list"

# libfoo.so -> /lib/aarch64-linux-gnu/libfoo.so.1 must stay in the sysroot
find "$entry/root" -type l -lname '/*' -print0 |
    while IFS= read -r -d '' l; do
        ln -sfn "$entry/root$(readlink "$l")" "$l"
    done

cat >"$entry/bin/aarch64-linux-gnu-pkg-config" <<EOF
#!/bin/sh
# pkg-config for the arm64 sysroot $entry/root
PKG_CONFIG_SYSROOT_DIR=$entry/root
PKG_CONFIG_LIBDIR=$entry/root/usr/lib/aarch64-linux-gnu/pkgconfig:$entry/root/usr/share/pkgconfig
export PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH
exec pkg-config "\$@"
EOF
chmod +x "$entry/bin/aarch64-linux-gnu-pkg-config"
printf '%s\n' "$list" >"$entry/packages"
touch "$entry/complete"
log "$entry: $(du -sh "$entry/root" | cut -f1)"
echo "$entry"
