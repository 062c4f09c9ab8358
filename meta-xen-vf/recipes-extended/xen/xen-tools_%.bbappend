# xen-vf's libxl/xl series: PCI devices served by a backend domain, so
# that a guest's pci = [ "vf:nvme0/ns2" ] reaches xen-vfd, with
# pci.name_backends = [ "vf=DOMD" ] in Dom0's xl.conf. ../../README.md says
# which series fits which Xen tree. The series lives in the xen-vf tree, next to
# this layer; its patches are the same files the project's tests apply
# and build (tests/xenbuild, make xen).
# rcar: the R-Car stack's Xen (EPAM spider trees, pcid); 4.17: Debian 12's
# and other 4.17 trees; upstream: master.
XEN_VF_SERIES ?= "rcar"
FILESEXTRAPATHS:prepend := "${THISDIR}/../../../xen-patches/${XEN_VF_SERIES}:"

SRC_URI += " \
    file://0001-tools-xl-fix-a-crash-on-a-PCI-BDF-without-a-function.patch \
    file://0002-tools-libxl-fix-a-crash-removing-a-PCI-device-by-an-.patch \
    file://0003-tools-libxl-add-a-backend-domain-to-named-PCI-device.patch \
    file://0004-tools-libxl-ask-the-backend-domain-for-a-PCI-device-.patch \
    file://0005-tools-xl-accept-PCI-devices-that-backend-domains-ser.patch \
    file://0006-tools-libxl-ask-for-served-PCI-devices-as-soon-as-th.patch \
    file://0007-docs-man-document-PCI-devices-that-backend-domains-s.patch \
"
