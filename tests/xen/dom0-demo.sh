#!/bin/bash
# `make demo` in dom0 (= DomD) of the emulated Xen board, narrated on the
# console: what the guest's configuration says, what the driver domain
# did, what the guest sees, what xl destroy released. Runs as /xvf/demo
# (xvf.run=/xvf/demo); prints "XVF-DEMO PASS" or "XVF-DEMO FAIL: why".
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

step_detail() { :; }
# shellcheck source=tests/xen/dom0-lib.sh
. /xvf/lib/dom0-lib.sh

say() {
    echo
    echo "==> $*"
}

show() {
    sed 's/^/    /'
}

die() {
    echo "XVF-DEMO FAIL: $*"
    exit 1
}

vfd_log_since() {
    grep 'xen-vfd\[' /var/log/messages | tail -n +"$(($1 + 1))" |
        sed -e 's/^.*xen-vfd\[[0-9]*\]: //'
}

vfd_lines() {
    grep -c 'xen-vfd\[' /var/log/messages
}

mountpoint_xen() {
    is_mounted /proc/xen || mount -t xenfs xenfs /proc/xen
}

say "Xen $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor) is up; this is dom0, which is also the driver domain (DomD)"
mountpoint_xen || die "cannot mount xenfs"
start_xen_daemons >/dev/null || die "the Xen daemons did not start"
xl info | grep -E '^(xen_version|virt_caps)' | show
echo "    IOMMU: $(xl dmesg | grep -o 'I/O virtualisation enabled')"

say "DomD owns the NVMe controller nvme0 (an SR-IOV PF with 2 VFs); namespace 1 is its own disk"
xen-vfctl status | show
echo "    namespace 1 reads: '$(read_sig /dev/nvme0n1)'"

say "DomD starts xen-vfd, which watches its request area in xenstore"
xen-vfd -v -p "$VFD_PID" || die "xen-vfd did not start"
echo "    /local/domain/0/drivers/xen-vf/status = $(xenstore-read /local/domain/0/drivers/xen-vf/status)"

say "The guest's configuration asks for a VF with namespace 2, by name"
write_cfg demo '"vf:nvme0/ns2"' "xvf.hold=1"
show <"$RUN/demo.cfg"

n=$(vfd_lines)
say "xl create (Dom0): libxl asks the domain xl.conf names for vf: (Dom0 here)"
xl create "$RUN/demo.cfg" 2>&1 | show
[ "${PIPESTATUS[0]}" = 0 ] || die "xl create failed"
id=$(xl domid demo) || die "no domain demo"

say "What DomD did for domain $id (xen-vfd's log)"
vfd_log_since "$n" | show

say "The request and its answer in xenstore"
xenstore-ls -f "$XS_AREA" | show
bdf=$(xenstore-read "$XS_AREA/$id/0/bdf")

say "libxl assigned the VF like any PCI device"
xl pci-list demo | show
xen-vfctl status | show

say "What the guest sees (its console; without MSI-X in a PV guest each NVMe command completes by the driver's timeout poll, so this takes a minute)"
glog=$(guest_log demo)
wait_for "$GUEST_WAIT" "the guest's report" grep -q 'DOMU-DONE' "$glog" ||
    die "the guest did not report"
grep -a -E 'DOMU-(PCI|BLK)' "$glog" | tr -d '\r' | show
line=$(domu_line demo 'DOMU-BLK ')
case $line in
    *" sig=XVF-SIG ns2") ;;
    *) die "the guest read '${line:-nothing}' instead of namespace 2" ;;
esac
echo "    namespace 1 still reads in DomD: '$(read_sig /dev/nvme0n1)'"

n=$(vfd_lines)
say "xl destroy demo"
xl destroy demo 2>&1 | show
wait_for 60 "the release" sh -c \
    "[ -z \"\$(ls $STATE_DIR/vf-* 2>/dev/null)\" ] && \
     [ -z \"\$(xenstore-list $XS_AREA 2>/dev/null)\" ]" ||
    die "the VF was not released"

say "What destroy released (xen-vfd's log)"
vfd_log_since "$n" | show

say "DomD afterwards: no VF, secondaries offline, nothing in xenstore"
xen-vfctl status | show
echo "    $XS_AREA: $(xenstore-list "$XS_AREA" 2>/dev/null | wc -l) requests"
[ "$(cat "/sys/class/nvme/$PF_NAME/device/sriov_numvfs")" = 0 ] ||
    die "sriov_numvfs is not back to 0"

echo
echo "XVF-DEMO PASS ($bdf went to domain $id and came back)"
