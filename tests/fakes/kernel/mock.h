/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * mock.h - libxvf-mock: a fake kernel and NVMe SR-IOV controller for the
 * xen-vf unit tests
 *
 * libxvf-mock.so is loaded with LD_PRELOAD (and test binaries also link
 * it, for this API). It overrides two libc functions for file descriptors
 * that point into the fake root $XEN_VF_ROOT:
 *
 *  - ioctl(NVME_IOCTL_ADMIN_CMD / NVME_IOCTL_ADMIN64_CMD) on
 *    $XEN_VF_ROOT/dev/nvmeN runs the admin command against a stateful model
 *    of QEMU 10's SR-IOV NVMe controller (hw/nvme/ctrl.c): Identify CNS
 *    0x00 0x01 0x02 0x10 0x11 0x12 0x13 0x14 0x15 0x16, Virtualization
 *    Management (0x1c), Namespace Attachment (0x15), Get Log Page 05h
 *    (Commands Supported and Effects, as QEMU's), and Namespace
 *    Management (0x0d), which answers Invalid Opcode (0x4001) as QEMU does
 *    unless the PF is configured with nsmgmt=1 (ns.c). Like the kernel, the
 *    ioctl returns the NVMe status (> 0) or -1 with errno, and libnvme
 *    passes that through unchanged.
 *
 *  - write() on a file under $XEN_VF_ROOT/sys behaves like a sysfs store:
 *    the value replaces the attribute (no trailing old bytes) and the
 *    Linux PCI core reacts: sriov_numvfs creates or removes VFs
 *    (EBUSY from one non-zero count to another, ERANGE above
 *    sriov_totalvfs, ENOENT without a PF driver, and going to 0 offlines
 *    the VFs' secondary controllers as QEMU does), new VFs are probed when
 *    sriov_drivers_autoprobe is 1, drivers/<d>/bind fails with ENODEV for
 *    a VF while autoprobe is 0 and no driver_override names <d>
 *    (pci_device_can_probe()), drivers_probe binds per driver_override,
 *    and the nvme driver only keeps a VF whose secondary controller is
 *    online (otherwise the device stays unbound, like "Device not ready").
 *    Binding creates the "driver" link; nvme binding also creates the
 *    controller (sys/class/nvme/nvmeK, .../<bdf>/nvme/nvmeK, dev/nvmeK).
 *
 *  - socket(AF_NETLINK, ..., NETLINK_ROUTE) returns a fake rtnetlink
 *    socket (one end of a socketpair; bind, getsockname, setsockopt,
 *    sendto, recvmsg, recvfrom and close know it) whose requests run
 *    against the model like the kernel's rtnetlink with igb's answers:
 *    RTM_GETLINK by index or IFLA_IFNAME (IFLA_NUM_VF and IFLA_VFINFO_LIST
 *    with RTEXT_FILTER_VF), RTM_SETLINK/NEWLINK changing IFF_UP or VF
 *    settings (mac, vlan/qos, rate/tx_rate, spoofchk, trust; EINVAL for a
 *    VF not enabled, a multicast MAC, VLAN > 4095, QoS > 7, a min rate, a
 *    max rate without carrier or above 1000; EOPNOTSUPP for a PF without
 *    SR-IOV or without the feature), ENODEV for an unknown netdev.
 *    Changing sriov_numvfs of a NIC PF that is up drops its carrier and,
 *    unless relink=0, brings it back; link notifications go to the fake
 *    sockets of the same process that joined RTNLGRP_LINK.
 *
 * Everything else passes through to libc. When $XEN_VF_ROOT is unset, or
 * has no model (.mock/state), the library does nothing. Only calls to
 * write() and ioctl() through the dynamic linker are seen: stdio (fprintf
 * to a sysfs file) and a shell's "echo > file" bypass them; shell tests
 * use "xvf-mock write ROOT FILE VALUE" instead.
 *
 * Attached namespaces get the kernel's nodes (ns.c), named as with
 * Debian's native multipath: a path node nvme<S>c<K>n<NSID>/nsid under
 * controller nvmeK, the disk sys/devices/virtual/nvme-subsystem/
 * nvme-subsys<S>/nvme<S>n<NSID> (nsid, dev "259:<S*1024+NSID>", size,
 * holders/) linked from sys/block and sys/class/block, and
 * dev/nvme<S>n<NSID> as a regular file (S: the PF's index). They follow
 * every change at once (the Namespace Attribute Changed event), except on
 * a PF with aen=0, where only a write to the controller's
 * rescan_controller (with rescan=1) or a new probe updates them. The
 * build also creates proc/self/mountinfo (empty) and proc/swaps; tests
 * write "mounts" into them.
 *
 * proc/interrupts has one MSI-X line per NVMe PF (irq=1), named
 * "<name>q0" like the nvme driver's admin queue vector, whose count goes
 * up for every admin command the PF's controller completes (irq.c; the
 * count is in that file only, outside snapshots). With irq_lost=1, or
 * irq_lost_vfs=1 while sriov_numvfs > 0 (the R-Car S4's known issue),
 * interrupts are lost the way Linux shows it: the count stays and the
 * command completes when its timeout handler polls ("completion
 * polled"), i.e. it succeeds after the passthru's timeout_ms; a command
 * without one completes at once (admin_timeout's 60 s are not waited).
 * The op log marks such commands "[polled after ...]". irq=0 leaves the
 * PF out of
 * the file (a shared or legacy vector named otherwise).
 *
 * A write to a controller's reset_controller resets it: for a primary,
 * as QEMU's nvme_ctrl_reset(), every secondary goes offline and loses its
 * resources. A write of "1" to a PF's "reset" attribute (function level
 * reset) does the same and makes a Primary Controller Flexible
 * Allocation (action 1, recorded in vqrfap_next/virfap_next) take effect,
 * as QEMU does at a function reset only; "resets" counts both. A VF's
 * "reset" changes nothing in the model. Every device has reset_method
 * ("flr"; "" takes it away, "default" gives it back); pciback's probe
 * and its unbind log "pciback reset of BDF" unless it is empty, as
 * pciback resets what it takes and what it lets go.
 *
 * Device quirks, pf keys: online_novf_sc=0x120 (the command specific
 * status of an online before the VF is enabled; a PM173x answers 0x11f),
 * online_ignored=0 (1: online answers success and leaves the secondary
 * offline), rdy_ms=0 (a VF's nvme probe waits that long for CSTS.RDY).
 * With vifrt=0 a secondary needs no VI to go online (its interrupts are
 * its own).
 *
 * Not modelled: a VF controller failing when
 * its secondary goes offline while nvme is bound to it, QEMU 7.2's
 * differences (attach to a secondary before its VF exists is allowed, as
 * in QEMU 10).
 *
 * The model lives in $XEN_VF_ROOT/.mock/state and is loaded and saved
 * under an flock around every command, so several processes (a test and
 * the xen-vfctl it runs, or xen-vfctl prepare and a later release) see one
 * device. The sysfs side is the file tree itself.
 *
 * Fake root layout (what the engine reads through sysfs.h):
 *
 *   sys/devices/pci0000:00/<bdf>/         device directories, PFs and VFs
 *       vendor device class driver_override sriov_* physfn virtfnN
 *       driver -> ../../../bus/pci/drivers/<d>
 *       nvme/nvmeK/{serial,model,firmware_rev,cntlid,address,state,device}
 *   sys/bus/pci/devices/<bdf> -> ../../../devices/pci0000:00/<bdf>
 *   sys/bus/pci/drivers/{nvme,pciback,pci-stub}/{bind,unbind,new_id,...}
 *   sys/bus/pci/drivers_probe
 *   sys/class/nvme/nvmeK -> ../../devices/pci0000:00/<bdf>/nvme/nvmeK
 *   sys/class/net/<if> -> ../../devices/pci0000:00/<bdf>/net/<if>
 *       {ifindex,address} device -> ../../../<bdf>   NIC PF and VF netdevs
 *   dev/nvmeK                             regular file, opened O_RDWR
 *   proc/interrupts                       "<name>q0" line of each NVMe PF
 *   .mock/state .mock/log .mock/lock      the model, the op log, the lock
 *
 * Configuration text (for xvf_mock_build(), one directive a line, "#"
 * comments; values with spaces in double quotes):
 *
 *   pf bdf=0000:01:00.0 [key=value ...]    a PF with an NVMe controller
 *       name=nvme0 cntlid=0 sn= mn= fr= subnqn= vendor=0x1b36
 *       device=0x0010 vf_device=0x0010 class=0x010802 oacs=0x1aa nn=256
 *       sriov=1 totalvfs=2 offset=1 stride=1 secondaries=<totalvfs>
 *       scid=<cntlid+1> vqfrt=8 vifrt=4 vqprt=9 viprt=13 vqfrsm=4 vifrsm=2
 *       vqrfap=0 virfap=0 nsmgmt=0 online_needs_vf=1
 *       irq=1 irq_lost=0 irq_lost_vfs=0 (admin queue interrupt, above)
 *       vf_probe=sync vf_probe_ms=200 (how nvme's probe of a VF ends,
 *       below)
 *       capmib=0 (TNVMCAP in MiB, 0 = not reported and no limit)
 *       gran_kib=0 (namespace size granularity, CNS 0x16; 0 = none)
 *       thin=0 (new namespaces have NUSE 0) aen=1 rescan=1 effects=1
 *       lbafs=9:0,9:8,9:16,9:64,12:0,12:8,12:16,12:64 (LBADS:MS, QEMU's)
 *       autoprobe=1 numvfs=0 bound=1
 *   sec scid=N [vfn=N scs=0 nvq=0 nvi=0]   explicit secondary of the last
 *                                          pf (else "secondaries" of them,
 *                                          SCIDs from "scid", VFN 1..)
 *   ns nsid=N [nsze=1048576 nuse=<nsze> flbas=0 shared=0
 *       att=CNTLID,CNTLID]                 namespace of the last pf, att:
 *                                          attached to
 *   drivers nvme,pciback,pci-stub          driver directories to create
 *   xen dom0|domd                          proc/xen/capabilities says
 *                                          control_d (dom0, the default)
 *                                          or nothing (a driver domain)
 *   up pf=BDF vfn=N [driver=nvme nvq=2 nvi=1]   after building: assign,
 *                                          enable the VF, online, bind
 *   nic bdf=0000:02:00.0 [key=value ...]   a NIC PF (QEMU's igb), netdev
 *       name=eth<index> vendor=0x8086 device=0x10c9 vf_device=0x10ca
 *       class=0x020000 totalvfs=7 (at most 64) offset=0x80 stride=2
 *       pf_driver=igb vf_driver=igbvf mac=52:54:00:12:34:56 ifindex=
 *       <2+index> ifup=1 carrier=1 relink=1 vf_trust=1 vf_rate=1
 *       sriov=1 autoprobe=1 numvfs=0 bound=1
 *       speed=1000 (Mb/s, the netdev's "speed") vf_zero_mac=1 (0: an
 *       all-zero VF MAC is refused, EINVAL, as igb before Linux 5.9)
 *       vf_rate_speed=0 (N: rate= only at link speed N, else EINVAL, as
 *       ixgbe at 10000) vf_ignore= (mac, vlan, rate, spoofchk, trust or
 *       link_state: acknowledged but not applied)
 *   nvf vf=N [mac= vlan= qos= rate= min_rate= spoofchk=1 trust=0
 *       link_state=0]                      VF state of the last nic
 *                                          (model files)
 *
 * A NIC PF bound to its pf_driver has its netdev; a VF bound to its
 * vf_driver gets one too (eth<first free>), whose address is the MAC the
 * PF set for it, or 02:00:00:00:<pf>:<vfn>. The drivers must be listed on
 * the "drivers" line (preset "igb" does).
 *
 * sriov=0 gives a PF without SR-IOV: no sriov_* files, no secondaries,
 * OACS without Virtualization Management unless oacs= says otherwise.
 * online_needs_vf=0 lets act 9 succeed before the VF is enabled (QEMU
 * refuses that; real devices may not).
 *
 * nvme's probe of a VF: with vf_probe=sync it is over when the bind or
 * drivers_probe write returns (the controller is "live"). Otherwise, as
 * Linux's nvme whose reset work finishes the probe later, the controller
 * is "connecting" when the write returns and a worker process (forked,
 * detached, no descriptor of the caller's) vf_probe_ms later makes it
 * "live" (vf_probe=late) or releases the VF: state "deleting", then the
 * controller and the driver link go, driver_override stays
 * (vf_probe=fail, "Removing after probe failure", e.g. a VF without
 * interrupts). vf_probe=hang leaves it "connecting". The op log has a
 * "probe <vf> <ctrl> ..." line for each.
 *
 * All functions taking @root accept NULL for $XEN_VF_ROOT. Functions
 * returning int return 0 or -errno, and never print.
 *
 * Fault-injection loop (what a test of the engine does):
 *
 *   xvf_mock_mkroot("qemu", &root);          // also sets $XEN_VF_ROOT
 *   before = xvf_mock_snapshot(root);
 *   xvf_mock_reset_counts(root);
 *   xvf_prepare(...) == 0;                   // a good run
 *   xvf_mock_counts(root, &n);               // n.ops operations in it
 *   xvf_mock_destroy(root);
 *   for (i = 1; i <= n.ops; i++) {
 *       xvf_mock_mkroot("qemu", &root);      // and a fresh state dir
 *       xvf_mock_fault_init(&f);
 *       f.nth = i;                           // kind ANY: admin + writes
 *       f.err = EIO;                         // or f.status = 0x4006
 *       xvf_mock_set_fault(root, &f);
 *       xvf_prepare(...) < 0;
 *       after = xvf_mock_snapshot(root);
 *       diff = xvf_mock_diff(before, after); // "" when rolled back
 *       xvf_mock_destroy(root);
 *   }
 */
#ifndef XVF_MOCK_H
#define XVF_MOCK_H

#include <stdbool.h>
#include <stdint.h>

#define XVF_MOCK_API __attribute__((visibility("default")))

/**
 * xvf_mock_preset() - text of a built-in configuration
 * @name: "qemu"  the QEMU 10 board of tests/domd (qemu-nvme-sriov.md):
 *                nvme0 at 0000:01:00.0 [1b36:0010], primary cntlid 0,
 *                2 secondaries (SCID 1, 2), 8 VQ / 4 VI flexible,
 *                VQFRSM 4, VIFRSM 2, ns1 attached to the primary, ns2
 *                detached, no Namespace Management;
 *        "board" the guide's Samsung SSD [144d:a824] as far as known:
 *                primary 0x41, 32 secondaries (SCID 1..32), VF 1 at
 *                01:00.2, ns1 on the primary, ns2 attached to SCID 1,
 *                Namespace Management implemented (resource numbers are
 *                invented);
 *        "igb"   "qemu" plus QEMU's igb NIC: eth0 at 0000:02:00.0
 *                [8086:10c9], up with carrier, 7 VFs (02:10.0, 02:10.2,
 *                ...), drivers igb and igbvf besides the usual ones;
 *        "mixed" "qemu" plus a PF without SR-IOV (nvme1 at 0000:02:00.0)
 *                and VF 2 of nvme0 up and bound to nvme (nvme2 at
 *                0000:01:00.2), for refusal tests;
 *        "pm173x" a Samsung PM173x at power-on: nvme0 at 0000:01:00.0
 *                [144d:a824], primary cntlid 0x41, 32 secondaries (SCID
 *                1.., VF 01:00.1..), 8 VQ / 4 VI flexible all held by the
 *                primary (VQRFAP 8, VIRFAP 4), 0x11f to an online before
 *                the VF is enabled, a VF's nvme probe waiting 150 ms for
 *                CSTS.RDY, Namespace Management;
 *        "noflexvi" a controller without flexible VI (VIFRT = 0), else as
 *                "qemu".
 *
 * "qemu", "mixed" and "igb" start from the device profile
 * xvf_mock_profile() names instead of QEMU's controller when it is not
 * "qemu": "pm173x" (the power-on "pm173x" after the one-time release of
 * the primary's resources) or "noflexvi".
 *
 * Return: static text, or NULL for an unknown name or profile.
 */
XVF_MOCK_API const char *xvf_mock_preset(const char *name);

/**
 * xvf_mock_profile() - the device profile the "qemu" presets are built on
 *
 * $XVF_MOCK_PROFILE: "qemu" (default, also when empty), "pm173x" or
 * "noflexvi", so one test suite runs against each (tests/unit/run.sh).
 *
 * Return: the name (the environment's string, or "qemu").
 */
XVF_MOCK_API const char *xvf_mock_profile(void);

/**
 * xvf_mock_build() - create a fake root
 * @root:   directory to fill; created if missing, must be empty
 * @config: configuration text (see above) or a preset name; NULL = "qemu"
 *
 * Counters and the log start at zero after the build, so "up" directives
 * are not counted.
 *
 * Return: 0, -EINVAL for a bad configuration, -EEXIST for a non-empty
 * @root, or another -errno.
 */
XVF_MOCK_API int xvf_mock_build(const char *root, const char *config);

/**
 * xvf_mock_mkroot() - build a fake root in a new temporary directory and
 * point $XEN_VF_ROOT at it
 * @config: as for xvf_mock_build()
 * @ret:    malloc'd path of the root (free it after xvf_mock_destroy())
 *
 * Return: 0 or -errno, as xvf_mock_build().
 */
XVF_MOCK_API int xvf_mock_mkroot(const char *config, char **ret);

/** xvf_mock_destroy() - remove a fake root and all in it; 0 or -errno */
XVF_MOCK_API int xvf_mock_destroy(const char *root);

/**
 * xvf_mock_snapshot() - the whole fake state as comparable text
 *
 * The model (PFs, secondaries with SCS/NVQ/NVI, namespaces and their
 * attachments, derived VQRFA/VIRFA) followed by a sorted listing of
 * sys/ and dev/: directories, files with their contents, symlinks with
 * their targets. Counters, faults and the log are left out, so two
 * snapshots are equal exactly when the device and the tree are.
 *
 * Return: malloc'd text, or NULL with errno set.
 */
XVF_MOCK_API char *xvf_mock_snapshot(const char *root);

/**
 * xvf_mock_diff() - the lines that differ between two snapshots
 *
 * Return: malloc'd text, "-line" for lines only in @a and "+line" for
 * lines only in @b, "" when equal; NULL on allocation failure.
 */
XVF_MOCK_API char *xvf_mock_diff(const char *a, const char *b);

/**
 * struct xvf_mock_sec - a secondary controller as the model has it
 */
struct xvf_mock_sec {
    uint16_t scid;
    uint16_t vfn;
    bool online;
    uint16_t nvq;
    uint16_t nvi;
};

/**
 * xvf_mock_secondary() - read secondary @scid of the PF at @pf
 * Return: 0, -ENOENT for no such PF or secondary, or -errno.
 */
XVF_MOCK_API int xvf_mock_secondary(const char *root, const char *pf,
                                    uint16_t scid, struct xvf_mock_sec *ret);

/**
 * xvf_mock_ns_attached() - controllers namespace @nsid of @pf is attached
 * to
 * @ids: at least 32 entries
 * Return: 0, -ENOENT when the namespace does not exist.
 */
XVF_MOCK_API int xvf_mock_ns_attached(const char *root, const char *pf,
                                      uint32_t nsid, uint16_t *ids,
                                      unsigned int *n);

/**
 * xvf_mock_pf_set() - change keys of a PF's configuration on the fly
 * @settings: "key=value ..." as on a "pf" line, e.g. "oacs=0x0a" or
 *            "nsmgmt=1 online_needs_vf=0" or "irq_lost=1"; the sysfs
 *            tree is not changed; proc/interrupts is written again (its
 *            lines follow irq=, every count starts at 0)
 *
 * Return: 0, -EINVAL for a bad setting, -ENOENT for no such PF.
 */
XVF_MOCK_API int xvf_mock_pf_set(const char *root, const char *pf,
                                 const char *settings);

/**
 * xvf_mock_vf_up() - bring VF @vfn of @pf up the way the guide does,
 * without counting: assign @nvq VQ and @nvi VI to its secondary, enable
 * VFs up to @vfn when fewer are enabled (-EBUSY if some are and it would
 * need changing), online, bind to @driver through driver_override.
 * Return: 0, -errno, or a positive NVMe status from the model.
 */
XVF_MOCK_API int xvf_mock_vf_up(const char *root, const char *pf,
                                unsigned int vfn, const char *driver,
                                unsigned int nvq, unsigned int nvi);

/**
 * enum xvf_mock_kind - what a fault matches and what is counted
 * @XVF_MOCK_ANY:   admin commands and sysfs writes, one sequence
 * @XVF_MOCK_ADMIN: admin commands (ioctl) on a fake controller
 * @XVF_MOCK_WRITE: write()s to files under $XEN_VF_ROOT/sys
 * @XVF_MOCK_NETLINK: requests on fake rtnetlink sockets (@attr matches
 *                  "getlink", "setlink" or "newlink"); a fault answers
 *                  NLMSG_ERROR with -@err (EIO when 0) and, to a socket
 *                  with NETLINK_EXT_ACK on, the extended-ack text
 *                  "xvf-mock: injected fault"
 */
enum xvf_mock_kind {
    XVF_MOCK_ANY,
    XVF_MOCK_ADMIN,
    XVF_MOCK_WRITE,
    XVF_MOCK_NETLINK,
};

/**
 * struct xvf_mock_counts - operations since the build or the last reset
 * @admin:   admin commands
 * @write:   sysfs writes
 * @netlink: rtnetlink requests
 * @ops:     all three (what XVF_MOCK_ANY's @nth counts)
 * @fired:   faults injected
 */
struct xvf_mock_counts {
    unsigned int admin, write, ops, fired, netlink;
};

XVF_MOCK_API int xvf_mock_counts(const char *root,
                                 struct xvf_mock_counts *ret);

/** xvf_mock_reset_counts() - zero the counters, empty the log; 0/-errno */
XVF_MOCK_API int xvf_mock_reset_counts(const char *root);

/**
 * struct xvf_mock_fault - make one operation (or all from one on) fail
 * @kind:   what is counted and matched
 * @nth:    fail the @nth matching operation after the fault is set (1 = the
 *          next one); 0 disarms
 * @opcode: admin opcode to match, -1 any (e.g. 0x1c Virtualization Mgmt)
 * @sub:    -1 any, else: Identify CNS, Virtualization Management action,
 *          Namespace Attachment/Management SEL, other opcodes CDW10 & 0xff
 * @attr:   sysfs writes: basename of the file to match ("sriov_numvfs",
 *          "drivers_probe", "bind", ...), "" any
 *
 * With @opcode or @sub set only admin commands match, with @attr set only
 * writes do, whatever @kind says.
 * @status: admin: the NVMe status to answer (e.g. 0x4120); 0 = use @err
 * @err:    errno: an admin command returns -1 with it, a write fails with
 *          it; 0 = EIO for writes and status 0x4006 (Internal Error) for
 *          admin commands when @status is 0 too
 * @sticky: keep failing every matching operation from the @nth on
 *
 * A failed operation has no effect on the model or the tree. It is still
 * counted and logged (with "[injected]").
 */
struct xvf_mock_fault {
    enum xvf_mock_kind kind;
    unsigned int nth;
    int opcode;
    int sub;
    char attr[64];
    uint16_t status;
    int err;
    bool sticky;
};

/** xvf_mock_fault_init() - a fault matching anything, nth 0 (disarmed) */
XVF_MOCK_API void xvf_mock_fault_init(struct xvf_mock_fault *f);

/** xvf_mock_set_fault() - arm @f (replaces the previous one); 0/-errno */
XVF_MOCK_API int xvf_mock_set_fault(const char *root,
                                    const struct xvf_mock_fault *f);

/** xvf_mock_clear_fault() - disarm the fault; 0 or -errno */
XVF_MOCK_API int xvf_mock_clear_fault(const char *root);

/**
 * struct xvf_mock_nvf - a NIC VF as its PF's driver keeps it, and the PF
 * @ifup:    the PF is administratively up
 * @carrier: the PF has carrier
 */
struct xvf_mock_nvf {
    uint8_t mac[6];
    unsigned int vlan, qos, rate, spoofchk, trust;
    unsigned int ifup, carrier;
    unsigned int min_rate, link_state;
};

/**
 * xvf_mock_nic_vf() - VF @vf (0-based) of NIC PF @pf
 * Return: 0, -ENOENT when @pf is no NIC PF or has no VF @vf.
 */
XVF_MOCK_API int xvf_mock_nic_vf(const char *root, const char *pf,
                                 unsigned int vf, struct xvf_mock_nvf *ret);

/**
 * xvf_mock_nic_vf_set() - change VF @vf (0-based) of NIC PF @pf behind
 * the engine's back, as a guest does when its VF driver sets its own MAC
 * (the PF's driver then keeps that MAC for the VF)
 * @v: the VF's new state (@v->ifup and @v->carrier are ignored)
 * Return: 0, -ENOENT as xvf_mock_nic_vf(), or -errno.
 */
XVF_MOCK_API int xvf_mock_nic_vf_set(const char *root, const char *pf,
                                     unsigned int vf,
                                     const struct xvf_mock_nvf *v);

/**
 * xvf_mock_log() - the operation log since the last reset
 *
 * One line an operation:
 *   "admin #3 nvme0 opc=0x1c cdw10=0x00010008 cdw11=0x2 nsid=0
 *    -> 0x0000 result=0x2"
 *   "write #4 sys/devices/pci0000:00/0000:01:00.0/sriov_numvfs '1' -> 0"
 *   "netlink #5 setlink eth0 vf 0 mac 02:00:00:00:00:01 -> 0"
 * with " [injected]" appended to failures a fault made and " [polled
 * after N ms]" (the command's timeout) or " [polled after admin_timeout]"
 * (a command without one) to admin commands whose interrupt was lost.
 *
 * Return: malloc'd text or NULL with errno set.
 */
XVF_MOCK_API char *xvf_mock_log(const char *root);

#endif
