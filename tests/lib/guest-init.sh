#!/bin/sh
# /init of the test guests (busybox sh; POSIX sh, no bashisms).
#
# Mounts the pseudo file systems, loads /etc/xvf/modules.load in order,
# runs the script named by `xvf.run=PATH` on the kernel command line
# (default /xvf/run), prints "XVF-DONE rc=N" and powers off. QEMU runs
# with -no-reboot and the kernel with panic=-1, so any way out of here
# ends QEMU; the host treats a missing XVF-DONE as a crash or a hang.
# shellcheck shell=sh
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug
ln -sf /proc/self/fd /dev/fd 2>/dev/null
hostname xvf-guest

run=/xvf/run
read -r cmdline </proc/cmdline
for w in $cmdline; do
    case "$w" in
        xvf.run=*) run=${w#xvf.run=} ;;
        xvf.loglevel=*) dmesg -n "${w#xvf.loglevel=}" ;;
    esac
done

echo "XVF-BOOT uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ -f /etc/xvf/modules.load ]; then
    while read -r m; do
        [ -n "$m" ] || continue
        insmod "$m" || echo "XVF-NOTE insmod $m failed"
    done </etc/xvf/modules.load
fi
echo "XVF-MODULES uptime=$(cut -d' ' -f1 /proc/uptime)"

rc=127
if [ -x "$run" ]; then
    "$run"
    rc=$?
else
    echo "XVF-NOTE no test script $run"
fi
echo "XVF-DONE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
