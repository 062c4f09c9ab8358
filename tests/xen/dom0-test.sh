#!/bin/bash
# The Xen tier's job, run in dom0 (= DomD) as /xvf/run of the board's
# initramfs. Each step's result and log go to the console as XVF-STEP /
# XVF-LOG markers (tests/lib/steps.sh, STEPS_ECHO=1); the host imports
# them (steps_import_console) into its own job.
#
# Job (each step needs the ones before it unless it says otherwise):
#   host-boot        Xen is the hypervisor, IOMMU on
#   daemons-up       xenstored, xen-init-dom0, xenconsoled; xl info,
#                    xenstore write/read
#   pf-ready         nvme0 is the SR-IOV PF, namespace 1 reads back its
#                    signature in DomD
#   vf-prepare       xen-vfctl prepare --local vf:nvme0/ns2 (-> pciback)
#   guest-create     stock xl create, pci = [ "<the VF's BDF>" ]
#   guest-sees-vf    the domU lists the VF (vendor:device) bound to nvme
#   guest-data       the domU reads namespace 2's signature
#   guest-destroy    xl destroy; the domain is gone
#   vf-release       xen-vfctl release --local <BDF>
#   leak-check       VF gone, secondaries offline with 0 VQ/VI, ns2
#                    detached, sriov_numvfs 0, no journal entry
#   pf-still-works   namespace 1 still reads back in DomD
set -uo pipefail
export PATH=/xvf/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# shellcheck source=tests/lib/steps.sh
. /xvf/lib/steps.sh

XEN_BIN=/usr/lib/xen-4.17/bin
RUN=/run/xvf                    # state shared between steps (subshells)
CONLOG=/var/log/xen/console
SPEC=vf:nvme0/ns2
PF_NAME=nvme0
GUEST_WAIT=${XVF_GUEST_WAIT:-150}

mkdir -p "$RUN"

# Kernel command line knobs: xvf.guest_wait=S, xvf.nvme_timeout=S.
nvme_tmo=1
read -r -a words </proc/cmdline
for w in "${words[@]}"; do
    case $w in
        xvf.guest_wait=*) GUEST_WAIT=${w#*=} ;;
        xvf.nvme_timeout=*) nvme_tmo=${w#*=} ;;
    esac
done

log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
fail() { log "FAIL: $*"; step_detail "$*"; return 1; }

# wait_for SECS DESC CMD...: run CMD every 0.5 s until it succeeds.
wait_for() {
    local secs=$1 desc=$2 i=0
    shift 2
    while ! "$@" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -ge $((secs * 2)) ]; then
            log "timed out after ${secs}s waiting for $desc"
            return 1
        fi
        sleep 0.5
    done
}

pf_bdf() {
    local d
    d=$(readlink -f "/sys/class/nvme/$PF_NAME/device") || return 1
    echo "${d##*/}"
}

t_host_boot() {
    local t
    read -r t </sys/hypervisor/type || return 1
    log "hypervisor: $t $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)"
    [ "$t" = xen ] || { fail "not running on Xen ($t)"; return 1; }
    [ -e /sys/bus/xen ] || { fail "no xen bus"; return 1; }
    grep -q 'control_d' /proc/xen/capabilities 2>/dev/null ||
        mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen ||
        { fail "cannot mount xenfs"; return 1; }
    grep -q control_d /proc/xen/capabilities ||
        { fail "not the control domain"; return 1; }
    step_detail "dom0 up at $(cut -d' ' -f1 /proc/uptime)s uptime"
}

t_daemons_up() {
    local v
    mkdir -p /var/lib/xenstored /var/run/xen /run/xen /var/lib/xen \
        /var/log/xen/console /var/lib/xen-vf /etc/xen /var/lock
    # xenconsoled hands each guest console a pty.
    mountpoint -q /dev/pts || mount -t devpts devpts /dev/pts ||
        { fail "cannot mount devpts"; return 1; }
    [ -e /etc/xen/xl.conf ] || : >/etc/xen/xl.conf
    log "starting xenstored"
    XENSTORED_ROOTDIR=/var/lib/xenstored \
        "$XEN_BIN/xenstored" --pid-file /run/xen/xenstored.pid ||
        { fail "xenstored did not start"; return 1; }
    wait_for 20 "xenstored" xenstore-read /local 2>/dev/null ||
        wait_for 20 "xenstored" xenstore-ls / || return 1
    log "xen-init-dom0"
    "$XEN_BIN/xen-init-dom0" || { fail "xen-init-dom0 failed"; return 1; }
    log "starting xenconsoled"
    "$XEN_BIN/xenconsoled" --pid-file=/run/xen/xenconsoled.pid \
        --log=guest --log-dir="$CONLOG" ||
        { fail "xenconsoled did not start"; return 1; }
    xl info | tee "$RUN/xl-info" | grep -E \
        '^(xen_version|virt_caps|total_memory|free_memory|xen_commandline)'
    grep -q '^virt_caps.*pv_directio' "$RUN/xl-info" ||
        { fail "xl info: no pv_directio (no IOMMU pass-through)"; return 1; }
    xl list
    xl list | grep -q '^Domain-0 ' || { fail "xl list: no Domain-0"; return 1; }
    xenstore-write /xvf-test/probe "hello-$$" || return 1
    v=$(xenstore-read /xvf-test/probe) || return 1
    [ "$v" = "hello-$$" ] || { fail "xenstore read back '$v'"; return 1; }
    xenstore-rm /xvf-test || return 1
    xl dmesg | grep -E 'I/O virtualisation|Interrupt remapping|VT-d' | head -20
    xl dmesg | grep -q 'I/O virtualisation enabled' ||
        { fail "Xen: I/O virtualisation not enabled"; return 1; }
    step_detail "$(sed -n 's/^xen_version *: //p' "$RUN/xl-info"), xenstore rw ok"
}

# read_sig DEV: the first line of DEV's first sector.
read_sig() {
    dd if="$1" bs=512 count=1 2>/dev/null | head -n 1 | tr -d '\000\r'
}

t_pf_ready() {
    local pf sig
    wait_for 30 "/dev/${PF_NAME}n1" test -b "/dev/${PF_NAME}n1" || return 1
    pf=$(pf_bdf) || { fail "no $PF_NAME"; return 1; }
    echo "$pf" >"$RUN/pf"
    log "PF $pf totalvfs $(cat "/sys/bus/pci/devices/$pf/sriov_totalvfs")" \
        "numvfs $(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")"
    sig=$(read_sig "/dev/${PF_NAME}n1")
    log "ns1 in DomD: $sig"
    [ "$sig" = "XVF-SIG ns1" ] || { fail "ns1 signature '$sig'"; return 1; }
    nvme list-secondary "/dev/$PF_NAME" | tee "$RUN/secondary-before"
    step_detail "PF $pf, ns1 '$sig'"
}

t_vf_prepare() {
    local vf drv
    vf=$(xen-vfctl -v prepare --local "$SPEC") ||
        { fail "xen-vfctl prepare $SPEC failed"; return 1; }
    log "prepared $SPEC -> $vf"
    echo "$vf" >"$RUN/vf"
    drv=$(readlink "/sys/bus/pci/devices/$vf/driver") ||
        { fail "VF $vf has no driver"; return 1; }
    drv=${drv##*/}
    [ "$drv" = pciback ] || { fail "VF $vf bound to $drv, not pciback"; return 1; }
    log "Xen: $(xl dmesg | grep -i 'virtual function' | tail -n 2)"
    xl pci-assignable-list
    xl pci-assignable-list | grep -q "${vf#0000:}" ||
        { fail "$vf not in xl pci-assignable-list"; return 1; }
    step_detail "$SPEC -> $vf (pciback)"
}

# write_cfg NAME PCI-LIST-ENTRY HOLD
write_cfg() {
    cat >"$RUN/$1.cfg" <<EOF
name = "$1"
type = "pv"
kernel = "/xvf/domu/vmlinuz"
ramdisk = "/xvf/domu/initrd.gz"
extra = "console=hvc0 loglevel=5 xvf.hold=$3 xvf.nvme_timeout=$nvme_tmo"
memory = 128
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
pci = [ $2 ]
EOF
}

t_guest_create() {
    local vf
    vf=$(cat "$RUN/vf")
    write_cfg domu1 "\"$vf\"" 1
    cat "$RUN/domu1.cfg"
    xl create "$RUN/domu1.cfg" || { fail "xl create failed"; return 1; }
    xl list
    xl list domu1 >/dev/null || { fail "domu1 not listed"; return 1; }
    step_detail "domu1 created with pci $vf"
}

guest_log() {
    echo "$CONLOG/guest-$1.log"
}

t_guest_sees_vf() {
    local glog line
    glog=$(guest_log domu1)
    wait_for "$GUEST_WAIT" "DOMU-PCI in $glog" grep -q 'DOMU-PCI ' "$glog" ||
        { cat "$glog" 2>/dev/null; fail "domU listed no PCI device"; return 1; }
    grep -a 'DOMU-' "$glog"
    line=$(grep -a 'DOMU-PCI ' "$glog" | head -n 1 | tr -d '\r')
    case $line in
        *" 0x1b36:0x0010 "*) ;;
        *) fail "domU sees '$line', not the NVMe VF"; return 1 ;;
    esac
    step_detail "${line#*DOMU-PCI }"
}

t_guest_data() {
    local glog line
    glog=$(guest_log domu1)
    wait_for "$GUEST_WAIT" "DOMU-DONE in $glog" grep -q 'DOMU-DONE' "$glog" ||
        { grep -a -E 'DOMU-|nvme' "$glog"; fail "domU did not finish"; return 1; }
    grep -a -E 'DOMU-|nvme' "$glog"
    line=$(grep -a 'DOMU-BLK ' "$glog" | head -n 1 | tr -d '\r')
    case $line in
        *" sig=XVF-SIG ns2") ;;
        *) fail "domU read '${line:-nothing}', not 'XVF-SIG ns2'"; return 1 ;;
    esac
    step_detail "${line#*DOMU-BLK }"
}

t_guest_destroy() {
    xl destroy domu1 || { fail "xl destroy failed"; return 1; }
    wait_for 30 "domu1 to go" sh -c '! xl list domu1' ||
        { fail "domu1 still listed"; return 1; }
    xl list
    step_detail "domu1 destroyed"
}

t_vf_release() {
    local vf
    vf=$(cat "$RUN/vf")
    xen-vfctl -v release --local "$vf" ||
        { fail "xen-vfctl release $vf failed"; return 1; }
    step_detail "released $vf"
}

t_leak_check() {
    local pf vf n bad=0 out
    pf=$(cat "$RUN/pf")
    vf=$(cat "$RUN/vf")
    n=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
    log "sriov_numvfs $n"
    [ "$n" = 0 ] || { log "sriov_numvfs is $n"; bad=1; }
    if [ -e "/sys/bus/pci/devices/$vf" ]; then
        log "VF $vf still present"
        bad=1
    fi
    nvme list-secondary "/dev/$PF_NAME" | tee "$RUN/secondary-after"
    if grep -q 'Online' "$RUN/secondary-after"; then
        log "a secondary controller is online"
        bad=1
    fi
    if grep -E '^ *(NVQ|NVI) ' "$RUN/secondary-after" | grep -qv ': 0x0000'; then
        log "a secondary controller holds VQ/VI resources"
        bad=1
    fi
    out=$(nvme list-ctrl "/dev/$PF_NAME" -n 2 2>&1)
    log "controllers attached to ns2: $out"
    if echo "$out" | grep -qE '^ *\[ *[0-9]+\]'; then
        log "namespace 2 is still attached"
        bad=1
    fi
    if ls /var/lib/xen-vf/vf-* >/dev/null 2>&1; then
        log "journal entries left:"
        ls -l /var/lib/xen-vf/
        bad=1
    fi
    xen-vfctl status || true
    [ $bad -eq 0 ] || { fail "leftovers after release"; return 1; }
    step_detail "numvfs 0, VF gone, secondaries offline, ns2 detached, no journal"
}

t_pf_still_works() {
    local sig
    sig=$(read_sig "/dev/${PF_NAME}n1")
    log "ns1 in DomD: $sig"
    [ "$sig" = "XVF-SIG ns1" ] || { fail "ns1 reads '$sig'"; return 1; }
    nvme id-ctrl "/dev/$PF_NAME" | head -n 5 ||
        { fail "Identify on the PF failed"; return 1; }
    step_detail "ns1 '$sig', Identify ok"
}

t_collect() {
    echo "--- xl dmesg (tail)"
    xl dmesg 2>/dev/null | tail -n 60
    echo "--- dmesg (tail)"
    dmesg | tail -n 80
    for f in "$CONLOG"/guest-*.log; do
        [ -e "$f" ] || continue
        echo "--- $f"
        tr -d '\r' <"$f" | tail -n 80
    done
    return 0
}

STEPS_ECHO=1
export STEPS_ECHO
steps_init xen /run/xvf-logs

step host-boot -- t_host_boot
step daemons-up -- t_daemons_up
step pf-ready -- t_pf_ready
step vf-prepare -- t_vf_prepare
step --timeout 60 guest-create -- t_guest_create
step --timeout $((GUEST_WAIT + 30)) guest-sees-vf -- t_guest_sees_vf
step --timeout $((GUEST_WAIT + 30)) guest-data -- t_guest_data
step --needs guest-create --timeout 60 guest-destroy -- t_guest_destroy
step --needs vf-prepare,guest-destroy vf-release -- t_vf_release
step --needs vf-release leak-check -- t_leak_check
step --needs pf-ready pf-still-works -- t_pf_still_works
step --always collect -- t_collect

steps_finish
