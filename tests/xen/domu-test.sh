#!/bin/sh
# The test domU's /xvf/run (busybox sh): report the PCI devices pcifront
# gives it and read the first sector of each NVMe namespace it finds.
#
# Prints, on its console (dom0 reads it from xenconsoled's guest log):
#   DOMU-UP <uname -r>
#   DOMU-PCI <bdf> <vendor>:<device> class=<class> driver=<driver>
#   DOMU-BLK <dev> ctrl=<nvmeN> pci=<bdf> sig=<first line of sector 0>
#   DOMU-XS ...   (xvf.xs_attack=1) its attempts on DomD's request area
#   DOMU-DONE pci=<n> blk=<n>
# then, with xvf.hold=1 on the command line, waits to be destroyed;
# with xvf.wait_poweroff=1 waits for dom0 to write data/xvf-poweroff;
# then /init powers the domain off. With xvf.blk=0 no NVMe driver is
# loaded: the guest only lists its PCI devices (the soak, dom0-soak.sh).
#
# The Linux PV pcifront cannot re-enable MSI-X (reference/xen-under-qemu.md),
# so a VF's queues have no interrupt and every command completes when the
# nvme driver polls after its timeout: nvme_core's timeouts are made short
# here, before the driver probes. insmod ignores "nvme_core.x=" on the
# kernel command line (only modprobe reads it), hence the options below.
# shellcheck shell=sh
tmo=1 hold=0 wait_s=90 xs_attack=0 wait_poweroff=0 blk=1
read -r cmdline </proc/cmdline
for w in $cmdline; do
    case "$w" in
        xvf.nvme_timeout=*) tmo=${w#xvf.nvme_timeout=} ;;
        xvf.hold=*) hold=${w#xvf.hold=} ;;
        xvf.wait=*) wait_s=${w#xvf.wait=} ;;
        xvf.xs_attack=*) xs_attack=${w#xvf.xs_attack=} ;;
        xvf.wait_poweroff=*) wait_poweroff=${w#xvf.wait_poweroff=} ;;
        xvf.blk=*) blk=${w#xvf.blk=} ;;
    esac
done

echo "DOMU-UP $(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ "$blk" = 1 ]; then
    modprobe nvme_core admin_timeout="$tmo" io_timeout="$tmo" ||
        echo "DOMU-NOTE modprobe nvme_core failed"
    p=/sys/module/nvme_core/parameters
    echo "$tmo" >$p/admin_timeout
    echo "$tmo" >$p/io_timeout
    echo "DOMU-NOTE nvme_core admin_timeout=$(cat $p/admin_timeout)" \
        "io_timeout=$(cat $p/io_timeout)"
    modprobe nvme || echo "DOMU-NOTE modprobe nvme failed"
fi
modprobe xen-pcifront || echo "DOMU-NOTE modprobe xen-pcifront failed"

# pcifront publishes its bus asynchronously (xenbus): wait for a device.
i=0
while [ $i -lt "$wait_s" ]; do
    set -- /sys/bus/pci/devices/*
    [ -e "$1" ] && break
    sleep 1
    i=$((i + 1))
done

npci=0 nnvme=0
for d in /sys/bus/pci/devices/*; do
    [ -e "$d" ] || continue
    drv=none
    [ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
    echo "DOMU-PCI ${d##*/} $(cat "$d/vendor"):$(cat "$d/device")" \
        "class=$(cat "$d/class") driver=$drv"
    npci=$((npci + 1))
    case $(cat "$d/class") in 0x0108*) nnvme=$((nnvme + 1)) ;; esac
done

# Namespaces, found through sysfs rather than guessed device names. With
# NVMe multipath (Debian's default) and a subsystem, /dev/nvmeXnY is the
# head and the controller's own nvmeXcZnY path has no device node: the
# head names its paths in /sys/block/nvmeXnY/multipath/.
# ctrl_of BLOCKDIR: the controller (nvmeN) behind a namespace block device.
ctrl_of() {
    c=
    for p in "$1"/multipath/*; do
        [ -e "$p" ] && c=${p##*/}
    done
    if [ -n "$c" ]; then
        c=${c#nvme*c}
        echo "nvme${c%%n*}"
        return
    fi
    c=$(readlink -f "$1/device")
    c=${c##*/}
    case $c in
        nvme-subsys*)
            # The head of a subsystem: its controllers are listed there.
            for p in /sys/class/nvme-subsystem/"$c"/nvme[0-9]*; do
                [ -e "$p" ] && { echo "${p##*/}"; return; }
            done ;;
    esac
    echo "$c"
}

# Namespaces only behind an NVMe controller (a NIC VF has none to wait for).
nblk=0
if [ $nnvme -gt 0 ] && [ "$blk" = 1 ]; then
    i=0
    found=0
    while [ $i -lt "$wait_s" ] && [ $found = 0 ]; do
        # nvmeXcYnZ (a path, hidden) sorts before nvmeXnZ: check all.
        for b in /sys/block/nvme*n*; do
            [ -b "/dev/${b##*/}" ] && found=1
        done
        [ $found = 1 ] && break
        sleep 1
        i=$((i + 1))
    done
    for b in /sys/block/nvme*n*; do
        [ -e "$b" ] || continue
        dev=/dev/${b##*/}
        [ -b "$dev" ] || continue
        ctrl=$(ctrl_of "$b")
        pci=$(readlink -f "/sys/class/nvme/$ctrl/device")
        # O_DIRECT: one command, where a buffered read would read ahead,
        # and every command costs a timeout here.
        sig=$(dd if="$dev" bs=512 count=1 iflag=direct 2>/dev/null |
            head -n 1 | tr -d '\000\r')
        echo "DOMU-BLK ${b##*/} ctrl=$ctrl pci=${pci##*/}" \
            "sig=${sig:-<unreadable>}"
        nblk=$((nblk + 1))
    done
fi
# A guest must not be able to touch the driver domain's request area:
# try to release its own VF and to ask for another namespace. Both must be
# refused by xenstored's permissions.
if [ "$xs_attack" = 1 ]; then
    self=$(xenstore-read domid 2>/dev/null)
    echo "DOMU-XS domid=${self:-unknown} uptime=$(cut -d' ' -f1 /proc/uptime)"
    area=/local/domain/0/backend/pci-name/${self:-0}
    for kv in "$area/0/op=release" "$area/9/name=vf:nvme0/ns3" \
        "$area/9/op=prepare"; do
        out=$(xenstore-write "${kv%%=*}" "${kv#*=}" 2>&1)
        echo "DOMU-XS write ${kv%%=*} rc=$? ${out}" \
            "uptime=$(cut -d' ' -f1 /proc/uptime)"
    done
    out=$(xenstore-read "$area/0/name" 2>&1)
    echo "DOMU-XS read $area/0/name rc=$? ${out}"
fi

echo "DOMU-DONE pci=$npci blk=$nblk uptime=$(cut -d' ' -f1 /proc/uptime)"
# Dom0 says when to power off (it detaches and attaches the VF first):
# data/xvf-poweroff in this domain's own xenstore area; bounded.
if [ "$wait_poweroff" = 1 ]; then
    i=0
    while [ $i -lt 600 ]; do
        [ -n "$(xenstore-read data/xvf-poweroff 2>/dev/null)" ] && break
        sleep 1
        i=$((i + 1))
    done
    echo "DOMU-POWEROFF after ${i}s uptime=$(cut -d' ' -f1 /proc/uptime)"
fi
if [ "$hold" = 1 ]; then
    while :; do
        sleep 3600
    done
fi
exit 0
