#!/bin/sh
# The driver domain's /xvf/run in the Xen tier's drvdom section (busybox
# sh): a PV domain (domid != 0) that runs xen-vfd for Dom0.
#
# A PV guest cannot own an SR-IOV PF on this board, so the device side is
# the unit tier's fake kernel: an NVMe PF at 0000:0a:00.0 (the "qemu"
# preset of tests/fakes/kernel, moved to a bus Dom0 does not have) under
# the sysfs root XEN_VF_ROOT, with libxvf-mock.so preloaded into xen-vfd.
# xenstore, its permissions, the watches and the answers are real.
#
# Prints on its console (Dom0 reads xenconsoled's log of it):
#   DD-UP domid=N            xenstore reached, fake PF built
#   xen-vfd: ...             xen-vfd's own log (-F -v)
#   DD-CMD <seq> <verb> -> <answer>
# Dom0 drives it through xenstore: it writes "<seq> <verb>" to this
# domain's data/xvf-cmd, the answer comes back as "<seq> <answer>" in
# data/xvf-ack. Verbs:
#   state   journal=N numvfs=N fake=same|changed vfd=running|stopped|dead
#           (fake: the fake kernel's snapshot against the one taken
#           before xen-vfd started: SR-IOV, secondaries, attachments,
#           bindings)
#   stop | cont   SIGSTOP / SIGCONT xen-vfd (it hangs, as a busy or
#                 wedged daemon would)
#   term          SIGTERM, wait for it to exit: "exit=N"
#   start         start xen-vfd again
#   halt          leave the loop (/init then powers the domain off)
# shellcheck shell=sh
ROOT=/run/fake
STATE=/run/xen-vf
MOCK=/xvf/bin/libxvf-mock.so
PATH=/xvf/bin:$PATH
export PATH

me=$(xenstore-read domid) || { echo "DD-FAIL no xenstore"; exit 1; }
D=/local/domain/$me/data

{ xvf-mock preset qemu | sed 's/bdf=0000:01:00\.0/bdf=0000:0a:00.0/'
  echo "xen domd"; } >/run/fake.cfg
xvf-mock build "$ROOT" /run/fake.cfg || { echo "DD-FAIL fake"; exit 1; }
xvf-mock snapshot "$ROOT" >/run/snap.base
mkdir -p "$STATE"
echo "DD-UP domid=$me uptime=$(cut -d' ' -f1 /proc/uptime)"

start_vfd() {
    XEN_VF_ROOT=$ROOT LD_PRELOAD=$MOCK xen-vfd -F -v -S "" -s "$STATE" &
    echo $! >/run/vfd.pid
}

vfd_state() {
    pid=$(cat /run/vfd.pid)
    st=
    [ -r "/proc/$pid/status" ] &&
        st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$pid/status")
    case $st in
        T|t) echo stopped ;;
        ''|Z) echo dead ;;
        *) echo running ;;
    esac
}

state() {
    n=0
    for f in "$STATE"/vf-*; do
        [ -e "$f" ] && n=$((n + 1))
    done
    numvfs=$(cat "$ROOT/sys/bus/pci/devices/0000:0a:00.0/sriov_numvfs")
    xvf-mock snapshot "$ROOT" >/run/snap.now
    fake=same
    if ! cmp -s /run/snap.base /run/snap.now; then
        fake=changed
        diff /run/snap.base /run/snap.now | head -n 20 >&2
    fi
    echo "journal=$n numvfs=$numvfs fake=$fake vfd=$(vfd_state)"
}

start_vfd
echo "DD-VFD pid=$(cat /run/vfd.pid)"
last=
xenstore-watch "$D/xvf-cmd" | while read -r _; do
    cmd=$(xenstore-read "$D/xvf-cmd" 2>/dev/null) || continue
    seq=${cmd%% *}
    verb=${cmd#* }
    [ "$seq" = "$last" ] && continue
    last=$seq
    pid=$(cat /run/vfd.pid)
    case $verb in
        state) out=$(state) ;;
        stop) kill -STOP "$pid"; out=$(vfd_state) ;;
        cont) kill -CONT "$pid"; out=$(vfd_state) ;;
        term)
            kill -TERM "$pid"
            wait "$pid" 2>/dev/null
            i=0
            while [ "$(vfd_state)" != dead ] && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            out="exit $(vfd_state)" ;;
        start) start_vfd; out=started ;;
        halt) out=halting ;;
        *) out="unknown verb '$verb'" ;;
    esac
    echo "DD-CMD $seq $verb -> $out"
    xenstore-write "$D/xvf-ack" "$seq $out"
    [ "$verb" = halt ] && break
done
pid=$(cat /run/vfd.pid)
kill -TERM "$pid" 2>/dev/null
exit 0
