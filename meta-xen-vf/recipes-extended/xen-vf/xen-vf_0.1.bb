SUMMARY = "xen-vf: SR-IOV virtual functions on demand for Xen guests"
DESCRIPTION = "xen-vfd, the driver domain's daemon that prepares NVMe and \
NIC SR-IOV virtual functions for guests asking with pci = [ \"vf:...\" ]; \
xen-vfctl, its command line tool; the xen-vf hotplug script; and \
xen-vf-reaper, Dom0's clean-up for a separate driver domain. Dom0's xl \
asks xen-vfd itself (xen-tools with the series of xen-tools_%.bbappend, \
and pci.name_backends in xl.conf)."
LICENSE = "GPL-2.0-only & LGPL-2.1-only"
# No licence text in the tree: every file carries its SPDX line (the
# daemon and the CLI GPL-2.0-only, the library and the reaper's Dom0 side
# LGPL-2.1-only).
LIC_FILES_CHKSUM = " \
    file://plugin/xen-vfd/xen-vfd.c;beginline=1;endline=1;md5=a9f1449b768f69dcffc44cb5e556b102 \
    file://plugin/lib/engine/engine.c;beginline=1;endline=1;md5=640049f26747466e740bb5ad51aabf86 \
"

# The source is the tree this layer is part of (meta-xen-vf/ at its top),
# built with externalsrc. With the layer copied elsewhere, set XEN_VF_SRC
# to the tree's absolute path (local.conf), or drop externalsrc in a
# bbappend and fetch it (SRC_URI = "git://...;branch=main", SRCREV,
# S = "${WORKDIR}/git").
XEN_VF_TREE := "${THISDIR}/../../.."
XEN_VF_SRC ?= "${XEN_VF_TREE}"
inherit externalsrc
EXTERNALSRC = "${XEN_VF_SRC}"
EXTERNALSRC_BUILD = "${WORKDIR}/build"
B = "${WORKDIR}/build"

# libpci is pciutils' library; libnvme.pc names json-c and openssl
# (Requires.private), which pkg-config --cflags needs too; xenstore and
# comes from xen-tools;
# xen-vfd talks to systemd (sd_notify); pod2man makes the man pages.
DEPENDS = "libnvme xen-tools pciutils libmnl systemd json-c openssl \
           perl-native"

inherit pkgconfig systemd

# The make variables of both steps (paths are compiled in).
XEN_VF_MAKE_VARS = "prefix=${prefix} exec_prefix=${exec_prefix} \
    sbindir=${sbindir} libdir=${libdir} libexecdir=${libexecdir} \
    sysconfdir=${sysconfdir} localstatedir=${localstatedir} \
    mandir=${mandir} systemdunitdir=${systemd_system_unitdir}"

# The commands the cross tier runs (tests/cross/run.sh): keep them there.
do_compile() {
    ${S}/scripts/yocto-build.sh compile BUILD=${B} ${XEN_VF_MAKE_VARS}
}

do_install() {
    ${S}/scripts/yocto-build.sh install BUILD=${B} DESTDIR=${D} ${XEN_VF_MAKE_VARS}
}

# DomD gets xen-vf (the daemon, the CLI, the hotplug script and its hook
# directories); Dom0, where xl runs, gets xen-vf-reaper, which a Dom0
# with a separate DomD enables (xl itself needs nothing of xen-vf, only
# pci.name_backends in xl.conf). When DomD is Dom0, xen-vf is enough.
PACKAGE_BEFORE_PN = "${PN}-reaper"

FILES:${PN}-reaper = " \
    ${sbindir}/xen-vf-reaper \
    ${systemd_system_unitdir}/xen-vf-reaper.service \
"
FILES:${PN} = " \
    ${sbindir}/xen-vfd \
    ${sbindir}/xen-vfctl \
    ${sysconfdir}/xen/scripts/xen-vf \
    ${sysconfdir}/xen/scripts/xen-vf-nvme-add.d \
    ${sysconfdir}/xen/scripts/xen-vf-nvme-remove.d \
    ${sysconfdir}/xen/scripts/xen-vf-net-add.d \
    ${sysconfdir}/xen/scripts/xen-vf-net-remove.d \
    ${systemd_system_unitdir}/xen-vfd.service \
    ${localstatedir}/lib/xen-vf \
"

SYSTEMD_PACKAGES = "${PN} ${PN}-reaper"
SYSTEMD_SERVICE:${PN} = "xen-vfd.service"
# Only for a DomD that is not Dom0 (xen-vf-reaper(8)): enabled by hand.
SYSTEMD_SERVICE:${PN}-reaper = "xen-vf-reaper.service"
SYSTEMD_AUTO_ENABLE:${PN}-reaper = "disable"

# Package names of meta-virtualization's xen-tools: the hotplug script
# sources xen-hotplug-common.sh and calls xenstore-*; the reaper reads
# xl's xl.conf.
RDEPENDS:${PN} = "bash xen-tools-scripts-common xen-tools-xenstore"
RDEPENDS:${PN}-reaper = "xen-tools-xl"
