/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * nvme.h - the NVMe side of the engine, over libnvme 1.x
 *
 * Every libnvme call goes through one wrapper that tells its three
 * outcomes apart: 0, an NVMe status (> 0, the device answered "no") and
 * -1 with errno (the command never completed). A status is never taken
 * for success; it becomes a -errno plus a message naming the command and
 * the status, with the raw status kept in struct xvf_err.nvme_status.
 */
#ifndef XVF_NVME_H
#define XVF_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include <libnvme.h>

#include "spec/spec.h"
#include "pci/sriov.h"
#include "util/err.h"

#define XVF_NVME_MAX_SECONDARIES NVME_ID_SECONDARY_CTRL_MAX

/**
 * struct xvf_nvme_pf - an NVMe physical function
 * @ctrl:   kernel name of its controller ("nvme0"); changes across boots
 * @bdf:    PCI address
 * @serial: serial number, trimmed
 */
struct xvf_nvme_pf {
    char ctrl[32];
    char bdf[XVF_BDF_LEN];
    char serial[24];
};

/**
 * struct xvf_nvme_secondary - one entry of the Secondary Controller List
 * @scid:   secondary controller id
 * @vfn:    the VF it belongs to (1-based), 0 for none
 * @online: whether it is online (SCS bit 0)
 * @nvq:    flexible VQ resources assigned to it
 * @nvi:    flexible VI resources assigned to it
 */
struct xvf_nvme_secondary {
    uint16_t scid;
    uint16_t vfn;
    bool online;
    uint16_t nvq;
    uint16_t nvi;
};

/**
 * struct xvf_nvme_caps - what the primary controller can give away
 * @cntlid:     primary controller id (0 in QEMU, 0x41 on the guide's SSD)
 * @vq_total:   flexible VQ resources of the controller (VQFRT)
 * @vq_primary: of which allocated to the primary (VQRFAP); what the
 *              secondaries hold (VQRFA) is summed from their entries
 * @vq_max:     most a secondary may get (VQFRSM)
 * @vi_total:   flexible VI resources of the controller (VIFRT)
 * @vi_primary: of which allocated to the primary (VIRFAP)
 * @vi_max:     most a secondary may get (VIFRSM)
 */
struct xvf_nvme_caps {
    uint16_t cntlid;
    uint32_t vq_total, vq_primary;
    uint16_t vq_max;
    uint32_t vi_total, vi_primary;
    uint16_t vi_max;
};

/*
 * Functions taking @err describe a failure in it; an NVMe status is
 * mapped to -EOPNOTSUPP (invalid opcode), -ENODEV (invalid namespace or
 * controller ID), -EBUSY, -ENOSPC, -ENOENT (namespace not attached) or
 * -EIO, by the one table of nvme/status.c whose advice ends the message,
 * and kept in @err->nvme_status. A command that never completed returns the ioctl's
 * -errno.
 */

/**
 * xvf_nvme_resolve() - find the PF a spec's target names
 * @spec: the spec; its target is an NVMe name, PCI address or serial
 * @pf:   the PF
 * @err:  why not
 *
 * Return: 0; -ENODEV for an unknown controller, address or serial;
 * -EINVAL when the target is a VF or not an NVMe controller.
 */
int xvf_nvme_resolve(const struct xvf_spec *spec, struct xvf_nvme_pf *pf,
                     struct xvf_err *err);

/**
 * xvf_nvme_pf_from_bdf() - fill @pf for the NVMe PF at @bdf
 * @bdf: PCI address
 * @pf:  the PF
 * @err: why not
 *
 * Return: 0; -ENODEV when there is no such device or no NVMe controller
 * on it; -EINVAL when @bdf is a VF.
 */
int xvf_nvme_pf_from_bdf(const char *bdf, struct xvf_nvme_pf *pf,
                         struct xvf_err *err);

/**
 * xvf_nvme_ctrl_state() - the controller the nvme driver made for PCI
 * device @bdf (a PF or a VF), and its state
 * @bdf:   PCI address
 * @ctrl:  its kernel name ("nvme2")
 * @clen:  size of @ctrl
 * @state: the controller's sysfs "state": "new", "resetting",
 *         "connecting" while the driver's probe runs, "live" once it is
 *         over, "deleting", "deleting (no IO)" or "dead" when it failed
 * @slen:  size of @state
 *
 * Return: 0; -ENOENT when @bdf has no controller; another -errno of sysfs.
 */
int xvf_nvme_ctrl_state(const char *bdf, char *ctrl, size_t clen,
                        char *state, size_t slen);

/**
 * xvf_nvme_open() - open the controller's character device
 * @pf:  the PF
 * @fd:  the open descriptor, for the caller to close()
 * @err: why not
 *
 * Return: 0 or -errno of open().
 */
int xvf_nvme_open(const struct xvf_nvme_pf *pf, int *fd,
                  struct xvf_err *err);

/**
 * xvf_nvme_id_ctrl() - Identify Controller: cntlid and OACS
 * @fd:     controller
 * @cntlid: its controller id
 * @oacs:   Optional Admin Command Support bits
 * @err:    why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_id_ctrl(int fd, uint16_t *cntlid, uint16_t *oacs,
                     struct xvf_err *err);

/**
 * xvf_nvme_id_ctrl_timed() - Identify Controller with an explicit timeout
 * @fd:         controller
 * @timeout_ms: the command's timeout (the passthru's, not admin_timeout);
 *              when it expires the nvme driver polls the queue and, if the
 *              command is done ("completion polled"), completes it
 * @err:        why not
 *
 * Return: 0 or -errno (the kernel's for a command that was aborted).
 */
int xvf_nvme_id_ctrl_timed(int fd, unsigned int timeout_ms,
                           struct xvf_err *err);

/**
 * xvf_nvme_admin_irqs() - interrupts of a controller's admin queue so far
 * @ctrl:  controller name ("nvme0"); its admin queue's vector is the
 *         /proc/interrupts line whose actions name "<ctrl>q0"
 * @count: the sum of that line's per-CPU columns
 *
 * Reads xvf_path("/proc/interrupts").
 *
 * Return: 0; -ENOENT when no line names it (a legacy or shared vector
 * named otherwise); -errno of reading the file.
 */
int xvf_nvme_admin_irqs(const char *ctrl, unsigned long long *count);

/**
 * xvf_nvme_caps() - Identify CNS 0x14, Primary Controller Capabilities
 * @fd:   controller
 * @caps: what it can give away
 * @err:  why not
 *
 * Return: 0, -EOPNOTSUPP when it has no such Identify, or -errno.
 */
int xvf_nvme_caps(int fd, struct xvf_nvme_caps *caps, struct xvf_err *err);

/**
 * xvf_nvme_secondaries() - Identify CNS 0x15, Secondary Controller List
 * @fd:         controller
 * @timeout_ms: the command's timeout; 0 for the driver's admin_timeout
 *              (xen-vfd's periodic check passes the health timeout)
 * @list:       at least XVF_NVME_MAX_SECONDARIES entries (the list starts
 *              at controller ID 0, whatever the primary's is)
 * @n:          number of entries filled
 * @err:        why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_secondaries(int fd, unsigned int timeout_ms,
                         struct xvf_nvme_secondary *list, unsigned int *n,
                         struct xvf_err *err);

/**
 * xvf_nvme_ns_exists() - whether namespace @nsid is allocated (CNS 0x11)
 * @fd:     controller
 * @nsid:   namespace id
 * @exists: the answer; an invalid NSID is "no", not an error
 * @err:    why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_ns_exists(int fd, uint32_t nsid, bool *exists,
                       struct xvf_err *err);

/**
 * xvf_nvme_ns_ctrls() - controllers namespace @nsid is attached to
 * (CNS 0x12)
 * @fd:   controller
 * @nsid: namespace id
 * @ids:  at least NVME_ID_CTRL_LIST_MAX entries
 * @n:    number filled
 * @err:  why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_ns_ctrls(int fd, uint32_t nsid, uint16_t *ids, unsigned int *n,
                      struct xvf_err *err);

/**
 * xvf_nvme_virt_mgmt() - Virtualization Management
 * @fd:     controller (the primary)
 * @act:    NVME_VIRT_MGMT_ACT_*
 * @rt:     NVME_VIRT_MGMT_RT_* (ignored by online/offline)
 * @cntlid: the secondary controller
 * @nr:     number of resources to assign
 * @timeout_ms: the command's timeout; 0 for the driver's admin_timeout.
 *          A rollback on a PF whose interrupts are lost passes the health
 *          check's, so it is not waited on for a minute a command.
 * @err:    why not
 *
 * Return: 0; -EBUSY (invalid secondary controller state), -ENOSPC (invalid
 * resources), -EOPNOTSUPP, or another -errno.
 */
int xvf_nvme_virt_mgmt(int fd, enum nvme_virt_mgmt_act act,
                       enum nvme_virt_mgmt_rt rt, uint16_t cntlid,
                       uint16_t nr, unsigned int timeout_ms,
                       struct xvf_err *err);

/**
 * xvf_nvme_ns_attach() - attach or detach @nsid to/from @cntlid
 * @fd:     controller
 * @nsid:   namespace id
 * @cntlid: controller to attach to or detach from
 * @attach: true to attach, false to detach
 * @timeout_ms: the command's timeout; 0 for the driver's admin_timeout
 * @err:    why not
 *
 * Return: 0; -EBUSY (already attached, private), -ENOENT (detach of a
 * namespace not attached), -ENODEV (no such namespace), or -errno.
 */
int xvf_nvme_ns_attach(int fd, uint32_t nsid, uint16_t cntlid, bool attach,
                       unsigned int timeout_ms, struct xvf_err *err);

/**
 * xvf_nvme_identify_ctrl() - Identify Controller, the whole structure
 * @fd:  controller
 * @id:  the structure, as the controller sent it (little endian)
 * @err: why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_identify_ctrl(int fd, struct nvme_id_ctrl *id,
                           struct xvf_err *err);

/**
 * xvf_nvme_identify_ns() - Identify Namespace
 * @fd:        controller
 * @nsid:      a namespace, or NVME_NSID_ALL for the capabilities common to
 *             all namespaces (only controllers with Namespace Management
 *             answer that)
 * @allocated: CNS 0x11 (any allocated namespace, attached or not) rather
 *             than CNS 0x00 (namespaces attached to this controller)
 * @ns:        the structure, as the controller sent it
 * @err:       why not
 *
 * Return: 0, -ENODEV for an invalid namespace, or -errno.
 */
int xvf_nvme_identify_ns(int fd, uint32_t nsid, bool allocated,
                         struct nvme_id_ns *ns, struct xvf_err *err);

/**
 * xvf_nvme_ns_list() - namespace IDs in ascending order
 * @fd:        controller
 * @allocated: CNS 0x10 (allocated) rather than CNS 0x02 (active)
 * @ids:       at least @max entries
 * @max:       size of @ids
 * @n:         number filled
 * @err:       why not
 *
 * Return: 0, -E2BIG for more than @max namespaces, or -errno.
 */
int xvf_nvme_ns_list(int fd, bool allocated, uint32_t *ids,
                     unsigned int max, unsigned int *n,
                     struct xvf_err *err);

/**
 * xvf_nvme_ns_granularity() - Identify CNS 0x16, Namespace Granularity
 * List; only valid when CTRATT bit 7 is set
 * @fd:   controller
 * @list: the list, as the controller sent it
 * @err:  why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_ns_granularity(int fd,
                            struct nvme_id_ns_granularity_list *list,
                            struct xvf_err *err);

/**
 * xvf_nvme_cmd_effects() - Get Log Page 05h, Commands Supported and
 * Effects; only valid when LPA bit 1 is set
 * @fd:  controller
 * @log: the log page, as the controller sent it
 * @err: why not
 *
 * Return: 0 or -errno.
 */
int xvf_nvme_cmd_effects(int fd, struct nvme_cmd_effects_log *log,
                         struct xvf_err *err);

/**
 * xvf_nvme_ns_create() - Namespace Management create
 * @fd:    controller
 * @nsze:  size in logical blocks (NCAP is the same: no thin provisioning)
 * @flbas: LBA format index
 * @nsid:  the NSID the controller chose
 * @err:   why not
 *
 * Return: 0; -EOPNOTSUPP when the controller answers Invalid Command
 * Opcode (QEMU, although OACS advertises Namespace Management); -ENOSPC
 * (insufficient capacity, no NSID free); or -errno.
 */
int xvf_nvme_ns_create(int fd, uint64_t nsze, uint8_t flbas, uint32_t *nsid,
                       struct xvf_err *err);

/**
 * xvf_nvme_ns_delete() - Namespace Management delete
 * @fd:   controller
 * @nsid: namespace id
 * @err:  why not
 *
 * Return: 0, -ENODEV for an invalid namespace, or -errno.
 */
int xvf_nvme_ns_delete(int fd, uint32_t nsid, struct xvf_err *err);

#endif
