# shellcheck shell=bash
# scripts/arm64-apt.sh - apt for Debian 12 arm64 packages, with its own
# state, so nothing on the host changes. Sourced by arm64-sysroot.sh and
# fetch-kernel.sh.
#
#   arm64_apt_init     sets up $XEN_VF_CACHE/arm64-apt (sources for
#                      deb.debian.org bookworm, bookworm-updates and
#                      bookworm-security, arm64 only), refreshes its lists
#                      when older than XEN_VF_ARM64_LISTS_MAX_AGE seconds
#                      (default 86400), and sets ARM64_APT, the options
#                      for apt-get and apt-cache to use them
#
# apt resolves against an empty dpkg status: `apt-get -s install` lists a
# package's whole closure, as on an empty arm64 system. No
# `dpkg --add-architecture`, no :arm64 package installed: bookworm's
# libnvme-dev and libxen-dev are not Multi-Arch, so installing their arm64
# builds would remove the host's amd64 ones.

arm64_apt_init() {
    local cache=${XEN_VF_CACHE:-/var/cache/xen-vf} stamp
    local max_age=${XEN_VF_ARM64_LISTS_MAX_AGE:-86400}
    ARM64_APT_DIR=$cache/arm64-apt
    mkdir -p "$ARM64_APT_DIR"/state/lists/partial \
        "$ARM64_APT_DIR"/cache/archives/partial "$ARM64_APT_DIR"/parts \
        "$ARM64_APT_DIR"/debs
    cat >"$ARM64_APT_DIR/sources.list" <<'SRC'
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm bookworm-updates main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
SRC
    [ -f "$ARM64_APT_DIR/state/status" ] || : >"$ARM64_APT_DIR/state/status"
    ARM64_APT=(-q -o Dir::State="$ARM64_APT_DIR/state"
        -o Dir::State::status="$ARM64_APT_DIR/state/status"
        -o Dir::Cache="$ARM64_APT_DIR/cache"
        -o Dir::Etc::sourcelist="$ARM64_APT_DIR/sources.list"
        -o Dir::Etc::sourceparts="$ARM64_APT_DIR/parts"
        -o Dir::Etc::preferencesparts="$ARM64_APT_DIR/parts"
        -o APT::Architecture=arm64 -o APT::Architectures::=arm64
        -o Acquire::Languages=none -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
    stamp=$ARM64_APT_DIR/state/updated
    if [ -f "$stamp" ] &&
            [ $(($(date +%s) - $(stat -c %Y "$stamp"))) -lt "$max_age" ]; then
        return 0
    fi
    echo "arm64-apt: apt-get update (arm64 lists under $ARM64_APT_DIR)" >&2
    if apt-get "${ARM64_APT[@]}" update >&2; then
        touch "$stamp"
    elif [ -f "$stamp" ]; then
        echo "arm64-apt: apt-get update failed: using the lists of" \
            "$(date -r "$stamp")" >&2
    else
        echo "arm64-apt: apt-get update failed and there are no lists yet" >&2
        return 1
    fi
}
