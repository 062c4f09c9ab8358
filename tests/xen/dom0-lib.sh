# shellcheck shell=bash
# dom0-lib.sh - what the Xen tier's job (dom0-test.sh), the demo
# (dom0-demo.sh) and the xen-arm64 tier's job (tests/xen-arm64/
# dom0-test.sh) share in dom0: paths, knobs from the kernel command line,
# helpers, starting the Xen daemons, the steps both jobs run. Sourced;
# callers define step_detail (tests/lib/steps.sh does).
# shellcheck disable=SC2034  # the constants are for the sourcing scripts

XEN_BIN=/usr/lib/xen-4.17/bin
RUN=/run/xvf                    # state shared between steps (subshells)
CONLOG=/var/log/xen/console
STATE_DIR=/var/lib/xen-vf
VFD_PID=/run/xen-vfd.pid
XS_AREA=/local/domain/0/backend/pci-name
PF_NAME=nvme0
GUEST_WAIT=150
JOBS=vfd,neg,nic,drvdom
nvme_tmo=1

mkdir -p "$RUN"

read -r -a words </proc/cmdline
for w in "${words[@]}"; do
    case $w in
        xvf.guest_wait=*) GUEST_WAIT=${w#*=} ;;
        xvf.nvme_timeout=*) nvme_tmo=${w#*=} ;;
        xvf.jobs=*) JOBS=${w#*=} ;;
    esac
done

is_mounted() { grep -q " $1 " /proc/mounts; }
log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }
fail() { log "FAIL: $*"; step_detail "$*"; return 1; }

# wait_for SECS DESC CMD...: run CMD every 0.2 s until it succeeds, for
# at most SECS seconds of wall time (CMD itself may take a while).
wait_for() {
    local secs=$1 desc=$2 deadline
    shift 2
    deadline=$((SECONDS + secs))
    while ! "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            log "timed out after ${secs}s waiting for $desc"
            return 1
        fi
        sleep 0.2
    done
}

pf_bdf() {
    local d
    d=$(readlink -f "/sys/class/nvme/$PF_NAME/device") || return 1
    echo "${d##*/}"
}

# read_sig DEV: the first line of DEV's first sector.
read_sig() {
    dd if="$1" bs=512 count=1 2>/dev/null | head -n 1 | tr -d '\000\r'
}

journal_count() {
    local f n=0
    for f in "$STATE_DIR"/vf-*; do
        [ -e "$f" ] && n=$((n + 1))
    done
    echo $n
}

# journal_of OWNER: the journal files of OWNER, one a line; "domain:N"
# also finds the requests of domain N ("domain:N/DEVID").
journal_of() {
    grep -l -x -E "owner=$1(/[0-9]+)?" "$STATE_DIR"/vf-* 2>/dev/null
}

xs_children() {
    xenstore-list "$1" 2>/dev/null | grep -c .
}

# What "nothing changed in DomD" compares: SR-IOV state, the secondary
# controllers, namespace attachments and the journal.
domd_snapshot() {
    local pf f
    pf=$(cat "$RUN/pf")
    echo "numvfs $(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")"
    echo "autoprobe $(cat "/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe")"
    nvme list-secondary "/dev/$PF_NAME" | grep -E '^ *(SCID|SCS|NVQ|NVI) '
    for n in 2 3 4; do
        echo "ns$n: $(nvme list-ctrl "/dev/$PF_NAME" -n $n 2>&1 | tr '\n' ' ')"
    done
    for f in "$STATE_DIR"/vf-*; do
        [ -e "$f" ] || continue
        echo "journal ${f##*/}: $(grep -E '^(spec|owner|state|vf)=' "$f" |
            tr '\n' ' ')"
    done
}

# write_cfg NAME PCI-ENTRIES EXTRA-ARGS [MEMORY_MB]
# (the paused domains of the neg section never boot: 96 MB, the least the
# domU kernel loads into, keeps building and destroying them cheap under
# TCG). DOMU_TYPE and DOMU_KERNEL: pv and /xvf/domu/vmlinuz unless the
# job sets them (Arm has PVH guests only).
write_cfg() {
    cat >"$RUN/$1.cfg" <<EOF
name = "$1"
type = "${DOMU_TYPE:-pv}"
kernel = "${DOMU_KERNEL:-/xvf/domu/vmlinuz}"
ramdisk = "/xvf/domu/initrd.gz"
extra = "console=hvc0 loglevel=5 xvf.nvme_timeout=$nvme_tmo $3"
memory = ${4:-128}
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
pci = [ $2 ]
EOF
}

guest_log() {
    echo "$CONLOG/guest-$1.log"
}

domu_line() {
    grep -a "$2" "$(guest_log "$1")" 2>/dev/null | head -n 1 | tr -d '\r'
}

# set_name_backend DOMAIN: the domain that serves "vf:" names, in
# xl.conf (pci.name_backends), as an administrator configures it.
set_name_backend() {
    printf '# the Xen tier\npci.name_backends = [ "vf=%s" ]\n' "$1" \
        >/etc/xen/xl.conf
}

# start_xen_daemons: what xencommons does, without systemd.
start_xen_daemons() {
    mkdir -p /var/lib/xenstored /var/run/xen /run/xen /var/lib/xen \
        /var/log/xen/console "$STATE_DIR" /etc/xen /var/lock
    # What udev would make: Xen's hotplug locking stats /dev/stdin.
    for f in 0:stdin 1:stdout 2:stderr; do
        [ -e "/dev/${f#*:}" ] || ln -s "/proc/self/fd/${f%%:*}" "/dev/${f#*:}"
    done
    # xenconsoled hands each guest console a pty.
    is_mounted /dev/pts || mount -t devpts devpts /dev/pts ||
        { fail "cannot mount devpts"; return 1; }
    set_name_backend 0
    # xen-vfd logs to syslog when it runs as a daemon.
    syslogd -O /var/log/messages || { fail "syslogd"; return 1; }
    log "starting xenstored"
    XENSTORED_ROOTDIR=/var/lib/xenstored \
        "$XEN_BIN/xenstored" --pid-file /run/xen/xenstored.pid ||
        { fail "xenstored did not start"; return 1; }
    wait_for 20 "xenstored" xenstore-ls / || return 1
    log "xen-init-dom0"
    "$XEN_BIN/xen-init-dom0" || { fail "xen-init-dom0 failed"; return 1; }
    log "starting xenconsoled"
    "$XEN_BIN/xenconsoled" --pid-file=/run/xen/xenconsoled.pid \
        --log=guest --log-dir="$CONLOG" ||
        { fail "xenconsoled did not start"; return 1; }
}

# nic_pf: the igb PF's BDF (82576, 8086:10c9).
nic_pf() {
    local d
    for d in /sys/bus/pci/devices/*; do
        [ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x8086:0x10c9 ] || continue
        echo "${d##*/}"
        return 0
    done
    return 1
}

# released_for DOMID: xen-vfd holds nothing for DOMID and its requests
# are gone.
released_for() {
    ! grep -q -l -x -E "owner=domain:$1(/[0-9]+)?" "$STATE_DIR"/vf-* \
        2>/dev/null &&
        ! xenstore-list "$XS_AREA/$1" >/dev/null 2>&1
}

# leak_check WHAT: nothing held, nothing left anywhere: no VF of the
# NVMe PF nor of the igb PF, no online secondary, no attachment, no
# journal, no xenstore request.
leak_check() {
    local pf n bad=0 out
    for pf in "$(cat "$RUN/pf")" "$(nic_pf)"; do
        [ -n "$pf" ] || continue
        n=$(cat "/sys/bus/pci/devices/$pf/sriov_numvfs")
        log "$pf sriov_numvfs $n"
        [ "$n" = 0 ] || { log "sriov_numvfs of $pf is $n"; bad=1; }
        for v in /sys/bus/pci/devices/"$pf"/virtfn*; do
            [ -e "$v" ] && { log "VF ${v##*/} of $pf still present"; bad=1; }
        done
    done
    nvme list-secondary "/dev/$PF_NAME" | tee "$RUN/secondary-after"
    if grep -q 'Online' "$RUN/secondary-after"; then
        log "a secondary controller is online"
        bad=1
    fi
    if grep -E '^ *(NVQ|NVI) ' "$RUN/secondary-after" |
        grep -qv ': 0x0000'; then
        log "a secondary controller holds VQ/VI resources"
        bad=1
    fi
    for ns in 2 3; do
        out=$(nvme list-ctrl "/dev/$PF_NAME" -n $ns 2>&1)
        log "controllers attached to ns$ns: $out"
        if echo "$out" | grep -qE '^ *\[ *[0-9]+\]'; then
            log "namespace $ns is still attached"
            bad=1
        fi
    done
    n=$(journal_count)
    if [ "$n" != 0 ]; then
        log "$n journal entries left:"
        head -n 50 "$STATE_DIR"/vf-*
        bad=1
    fi
    n=$(xs_children "$XS_AREA")
    if [ "$n" != 0 ]; then
        log "xenstore leftovers under $XS_AREA:"
        xenstore-ls -f "$XS_AREA"
        bad=1
    fi
    xen-vfctl status || true
    [ $bad -eq 0 ] || { fail "leftovers after $1"; return 1; }
    step_detail "after $1: numvfs 0 (NVMe, igb), no VF, secondaries" \
        "offline 0 VQ/VI, ns2/ns3 detached, no journal, no xenstore request"
}

# hook_has LINE-REGEX: the test hook (tests/xen/hooks) logged it.
hook_has() {
    grep -q -E "$1" /run/xvf-hook/log 2>/dev/null
}

# --- steps the Xen tiers share (tests/xen, tests/xen-arm64)

t_host_boot() {
    local t
    read -r t </sys/hypervisor/type || return 1
    log "hypervisor: $t $(cat /sys/hypervisor/version/major)." \
        "$(cat /sys/hypervisor/version/minor)"
    [ "$t" = xen ] || { fail "not running on Xen ($t)"; return 1; }
    is_mounted /proc/xen || mount -t xenfs xenfs /proc/xen ||
        { fail "cannot mount xenfs"; return 1; }
    grep -q control_d /proc/xen/capabilities ||
        { fail "not the control domain"; return 1; }
    step_detail "dom0 up at $(cut -d' ' -f1 /proc/uptime)s uptime"
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
    nvme list-secondary "/dev/$PF_NAME"
    step_detail "PF $pf, ns1 '$sig'"
}

t_vfd_start() {
    local st ver
    xen-vfd -v -p "$VFD_PID" || { fail "xen-vfd did not start"; return 1; }
    [ -s "$VFD_PID" ] || { fail "no pidfile $VFD_PID"; return 1; }
    kill -0 "$(cat "$VFD_PID")" || { fail "xen-vfd not running"; return 1; }
    st=$(xenstore-read /local/domain/0/drivers/xen-vf/status)
    ver=$(xenstore-read /local/domain/0/drivers/xen-vf/protocol)
    log "drivers/xen-vf/status=$st protocol=$ver"
    [ "$st" = ready ] || { fail "status '$st', not ready"; return 1; }
    st=$(xenstore-read /local/domain/0/drivers/pci-name/status)
    [ "$st" = ready ] ||
        { fail "drivers/pci-name/status '$st', not ready"; return 1; }
    # A second instance must refuse while the first holds the pidfile.
    if xen-vfd -F -p "$VFD_PID" 2>"$RUN/second.err"; then
        fail "a second xen-vfd started"
        return 1
    fi
    cat "$RUN/second.err"
    grep -q 'already running' "$RUN/second.err" ||
        { fail "second xen-vfd: $(cat "$RUN/second.err")"; return 1; }
    grep xen-vfd /var/log/messages
    step_detail "pid $(cat "$VFD_PID"), status=$st, protocol=$ver"
}

# xl_refused NAME PCI REGEX: xl create must fail, with a message that
# matches REGEX, leave no domain and change nothing in DomD.
xl_refused() {
    local name=$1 pci=$2 re=$3 msg
    domd_snapshot >"$RUN/$name.before"
    write_cfg "$name" "$pci" "" 96
    if xl create -p "$RUN/$name.cfg" >"$RUN/$name.out" 2>&1; then
        cat "$RUN/$name.out"
        fail "xl create with pci = [ $pci ] succeeded"
        return 1
    fi
    cat "$RUN/$name.out"
    msg=$(grep -i -E "$re" "$RUN/$name.out" | head -n 1)
    [ -n "$msg" ] || { fail "no error matching '$re'"; return 1; }
    if xl list "$name" >/dev/null 2>&1; then
        fail "domain $name left behind"
        return 1
    fi
    domd_snapshot >"$RUN/$name.after"
    if ! diff "$RUN/$name.before" "$RUN/$name.after"; then
        fail "DomD changed"
        return 1
    fi
    step_detail "${msg#*libxl: }"
}

t_collect() {
    echo "--- xl list"
    xl list 2>/dev/null
    echo "--- xen-vfd log"
    grep xen-vfd /var/log/messages 2>/dev/null | tail -n 100
    echo "--- xenstore $XS_AREA"
    xenstore-ls -f "$XS_AREA" 2>/dev/null
    echo "--- xl dmesg (tail)"
    xl dmesg 2>/dev/null | tail -n 40
    echo "--- dmesg (tail)"
    dmesg | tail -n 60
    for f in "$CONLOG"/guest-*.log /var/log/xen/xl-*.log \
        /var/log/xen/xen-hotplug.log; do
        [ -e "$f" ] || continue
        echo "--- $f"
        tr -d '\r' <"$f" | tail -n 60
    done
    return 0
}

t_pf_still_works() {
    local sig
    sig=$(read_sig "/dev/${PF_NAME}n1")
    [ "$sig" = "XVF-SIG ns1" ] || { fail "ns1 reads '$sig'"; return 1; }
    nvme id-ctrl "/dev/$PF_NAME" >"$RUN/id-ctrl" ||
        { fail "Identify on the PF failed"; return 1; }
    head -n 3 "$RUN/id-ctrl"
    step_detail "ns1 '$sig', Identify ok"
}

# xen-vfctl status must work in the driver domain as deployed (no
# pci.ids here, as on a minimal DomD).
t_vfctl_status() {
    local rc=0
    xen-vfctl status >"$RUN/status" 2>&1 || rc=$?
    cat "$RUN/status"
    [ $rc -eq 0 ] || { fail "xen-vfctl status exited $rc"; return 1; }
    grep -q "$(cat "$RUN/pf")" "$RUN/status" ||
        { fail "xen-vfctl status does not list the PF"; return 1; }
    step_detail "$(head -n 1 "$RUN/status")"
}

# base_steps TIER - start TIER's steps in dom0 (echoed to the console for
# the host) and run the base ones every section needs: host-boot,
# daemons-up (the caller's t_daemons_up), pf-ready, vfctl-status; $base
# names the first three for --needs.
base=host-boot,daemons-up,pf-ready
base_steps() {
    STEPS_ECHO=1
    export STEPS_ECHO
    steps_init "$1" /run/xvf-logs
    step host-boot -- t_host_boot
    step daemons-up -- t_daemons_up
    step pf-ready -- t_pf_ready
    step --needs pf-ready vfctl-status -- t_vfctl_status
}
