# shellcheck shell=bash
# board.sh - build the pieces of the emulated Xen board (sourced by
# tests/xen/run.sh and tests/xen/demo.sh, from the top of the tree).
#
# Each h_* function records its result in $state/<name> and calls
# step_detail (tests/lib/steps.sh, or a stub) with a one-line summary:
#   h_kernel          Debian's 6.1 kernel (scripts/fetch-kernel.sh)
#   h_xen             Debian's Xen 4.17 hypervisor, gunzipped into the cache
#   h_xen_tools       make xen: xl/libxl with xen-patches/ (cached)
#   h_domu_initramfs  busybox, pcifront + nvme modules, domu-test.sh
#   h_drvdom_initramfs the driver domain of the drvdom section: busybox,
#                     xen-vfd, xenstore clients, the fake kernel
#                     (libxvf-mock.so, xvf-mock), drvdom-guest.sh
#   h_dom0_initramfs  three concatenated cpio layers: the stable base
#                     (busybox, bash, Xen tools, nvme-cli, ip, modules,
#                     the domU kernel; cached by inputs), our binaries and
#                     scripts, and the patched libxl last so it wins
#
# Needs: $state, $work, $cache, $BUILD, $xen_gz set by the caller.
# shellcheck disable=SC2154
XEN_BIN=/usr/lib/xen-4.17/bin

# shellcheck source=tests/xen/board-common.sh
. tests/xen/board-common.sh

# Xen's xl and libxl with the xen-patches/ series (make xen, cached).
h_xen_tools() {
    local st=$BUILD/xen/stage
    make -s xen || return 1
    [ -x "$st/usr/lib/xen-4.17/bin/xl" ] || { echo "no patched xl"; return 1; }
    cat "$BUILD/xen/info" 2>/dev/null
    step_detail "$(sed -n 's/^version=//p' "$BUILD/xen/info"), $(grep -c \
        '^patch=' "$BUILD/xen/info") patches"
}

h_kernel() {
    local k
    k=$(scripts/fetch-kernel.sh) || return 1
    echo "$k" >"$state/kdir"
    step_detail "$(cat "$k/kver")"
}

h_xen() {
    local h out
    [ -f "$xen_gz" ] || { echo "no $xen_gz (scripts/deps.sh xen)"; return 1; }
    h=$(sha256sum <"$xen_gz" | cut -c1-16)
    out=$cache/xen-$h.elf
    if [ ! -s "$out" ]; then
        mkdir -p "$cache"
        gzip -dc "$xen_gz" >"$out.tmp" && mv "$out.tmp" "$out" || return 1
    fi
    file "$out" 2>/dev/null || true
    echo "$out" >"$state/xen"
    step_detail "$(basename "$xen_gz") -> $out"
}

h_domu_initramfs() {
    local k out
    k=$(cat "$state/kdir")
    out=$(scripts/mk-initramfs.sh -k "$k" -B \
        -m nvme -m xen-pcifront \
        -b /usr/bin/xenstore-read -b /usr/bin/xenstore-write \
        -f tests/lib/guest-init.sh=/init \
        -f tests/xen/domu-test.sh=/xvf/run \
        -c xen-domu) || return 1
    echo "$out" >"$state/domu"
    step_detail "$(basename "$out") $(du -h "$out" | cut -f1)"
}

h_drvdom_initramfs() {
    local out xs bins=() u=$BUILD/tests/unit
    for xs in xenstore-read xenstore-write xenstore-watch xenstore-ls; do
        bins+=(-b "/usr/bin/$xs")
    done
    out=$(scripts/mk-initramfs.sh -B "${bins[@]}" \
        -b "$BUILD/xen-vfd=/usr/sbin/xen-vfd" \
        -b "$u/xvf-mock=/xvf/bin/xvf-mock" \
        -f "$u/libxvf-mock.so=/xvf/bin/libxvf-mock.so" \
        -f tests/lib/guest-init.sh=/init \
        -f tests/xen/drvdom-guest.sh=/xvf/run \
        -c xen-drvdom) || return 1
    echo "$out" >"$state/drvdom"
    step_detail "$(basename "$out") $(du -h "$out" | cut -f1)"
}

h_dom0_initramfs() {
    local k base top_img xen_img bins=() st lib hook
    k=$(cat "$state/kdir")
    # The slow, stable layer: busybox, bash, the Xen tools, nvme-cli,
    # kernel modules and the domU kernel.
    xen_dom0_tools "" "$(gcc -print-multiarch)"
    base=$(scripts/mk-initramfs.sh -k "$k" -B "${bins[@]}" \
        -l xenfs -l xen-evtchn -l xen-gntdev -l xen-gntalloc \
        -l xen-privcmd -l xen-pciback -l nvme -l igb \
        -f tests/lib/guest-init.sh=/init \
        -f "$k/vmlinuz=/xvf/domu/vmlinuz" \
        -c xen-dom0-base) || return 1
    # The small layer that changes with the tree: our binaries and the
    # patched xl/libxl over the stock ones of the base layer.
    st=$BUILD/xen/stage
    lib=/lib/x86_64-linux-gnu
    hook=tests/xen/hooks/90-xvf-test.hook
    top_img=$(scripts/mk-initramfs.sh \
        -b "$BUILD/xen-vfctl=/usr/sbin/xen-vfctl" \
        -b "$BUILD/xen-vfd=/usr/sbin/xen-vfd" \
        -b "$BUILD/xen-vf-reaper=/usr/sbin/xen-vf-reaper" \
        -b "$st/usr/lib/xen-4.17/bin/xl=/usr/sbin/xl" \
        -f "$st/usr/lib/xen-4.17/bin/xl=$XEN_BIN/xl" \
        -f tests/lib/steps.sh=/xvf/lib/steps.sh \
        -f hotplug-scripts/xen-vf=/etc/xen/scripts/xen-vf \
        -f "$hook=/etc/xen/scripts/xen-vf-nvme-add.d/90-xvf-test.hook" \
        -f "$hook=/etc/xen/scripts/xen-vf-nvme-remove.d/90-xvf-test.hook" \
        -f tests/xen/dom0-lib.sh=/xvf/lib/dom0-lib.sh \
        -f tests/xen/dom0-test.sh=/xvf/run \
        -f tests/xen/dom0-neg.sh=/xvf/lib/dom0-neg.sh \
        -f tests/xen/dom0-lifecycle.sh=/xvf/lib/dom0-lifecycle.sh \
        -f tests/xen/dom0-nic.sh=/xvf/lib/dom0-nic.sh \
        -f tests/xen/dom0-drvdom.sh=/xvf/lib/dom0-drvdom.sh \
        -f tests/xen/dom0-demo.sh=/xvf/demo \
        -f tests/xen/dom0-soak.sh=/xvf/soak \
        -f "$(cat "$state/domu")=/xvf/domu/initrd.gz" \
        -f "$(cat "$state/drvdom")=/xvf/drvdom/initrd.gz" \
        -o "$work/dom0-top.cpio.gz") || return 1
    # Last, so that they win over the stock libraries the closures of the
    # layers before brought in; -b for libxenlight's own closure (the
    # patched build links libnl).
    xen_img=$(scripts/mk-initramfs.sh \
        -b "$st/usr$lib/libxenlight.so.4.17.0=$lib/libxenlight.so.4.17" \
        -f "$st/usr$lib/libxlutil.so.4.17.0=$lib/libxlutil.so.4.17" \
        -o "$work/dom0-xen.cpio.gz") || return 1
    cat "$base" "$top_img" "$xen_img" >"$work/dom0.cpio.gz" || return 1
    echo "$work/dom0.cpio.gz" >"$state/dom0"
    step_detail "base $(du -h "$base" | cut -f1), top $(du -h "$top_img" |
        cut -f1), xen $(du -h "$xen_img" | cut -f1)"
}
