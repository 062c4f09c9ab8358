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
 * @vi_total, @vi_primary, @vi_max: the same for interrupts
 */
struct xvf_nvme_caps {
    uint16_t cntlid;
    uint32_t vq_total, vq_primary;
    uint16_t vq_max;
    uint32_t vi_total, vi_primary;
    uint16_t vi_max;
};

/**
 * xvf_nvme_resolve() - find the PF a spec's target names
 *
 * Return: 0; -ENODEV for an unknown controller, address or serial;
 * -EINVAL when the target is a VF or not an NVMe controller.
 */
int xvf_nvme_resolve(const struct xvf_spec *spec, struct xvf_nvme_pf *pf,
                     struct xvf_err *err);

/** xvf_nvme_pf_from_bdf() - fill @pf for the NVMe PF at @bdf */
int xvf_nvme_pf_from_bdf(const char *bdf, struct xvf_nvme_pf *pf,
                         struct xvf_err *err);

/** xvf_nvme_open() - open the controller's character device */
int xvf_nvme_open(const struct xvf_nvme_pf *pf, int *fd,
                  struct xvf_err *err);

/**
 * xvf_nvme_id_ctrl() - Identify Controller: cntlid and OACS
 */
int xvf_nvme_id_ctrl(int fd, uint16_t *cntlid, uint16_t *oacs,
                     struct xvf_err *err);

/** xvf_nvme_caps() - Identify CNS 0x14, Primary Controller Capabilities */
int xvf_nvme_caps(int fd, struct xvf_nvme_caps *caps, struct xvf_err *err);

/**
 * xvf_nvme_secondaries() - Identify CNS 0x15, Secondary Controller List
 * @list: at least XVF_NVME_MAX_SECONDARIES entries
 * @n:    number of entries filled
 */
int xvf_nvme_secondaries(int fd, uint16_t cntlid,
                         struct xvf_nvme_secondary *list, unsigned int *n,
                         struct xvf_err *err);

/**
 * xvf_nvme_ns_exists() - whether namespace @nsid is allocated (CNS 0x11)
 */
int xvf_nvme_ns_exists(int fd, uint32_t nsid, bool *exists,
                       struct xvf_err *err);

/**
 * xvf_nvme_ns_ctrls() - controllers namespace @nsid is attached to
 * (CNS 0x12)
 * @ids: at least NVME_ID_CTRL_LIST_MAX entries
 */
int xvf_nvme_ns_ctrls(int fd, uint32_t nsid, uint16_t *ids, unsigned int *n,
                      struct xvf_err *err);

/**
 * xvf_nvme_virt_mgmt() - Virtualization Management
 * @act: NVME_VIRT_MGMT_ACT_*
 * @rt:  NVME_VIRT_MGMT_RT_* (ignored by online/offline)
 */
int xvf_nvme_virt_mgmt(int fd, enum nvme_virt_mgmt_act act,
                       enum nvme_virt_mgmt_rt rt, uint16_t cntlid,
                       uint16_t nr, struct xvf_err *err);

/** xvf_nvme_ns_attach() - attach or detach @nsid to/from @cntlid */
int xvf_nvme_ns_attach(int fd, uint32_t nsid, uint16_t cntlid, bool attach,
                       struct xvf_err *err);

/**
 * xvf_nvme_identify_ctrl() - Identify Controller, the whole structure
 */
int xvf_nvme_identify_ctrl(int fd, struct nvme_id_ctrl *id,
                           struct xvf_err *err);

/**
 * xvf_nvme_identify_ns() - Identify Namespace
 * @nsid:      a namespace, or NVME_NSID_ALL for the capabilities common to
 *             all namespaces (only controllers with Namespace Management
 *             answer that)
 * @allocated: CNS 0x11 (any allocated namespace, attached or not) rather
 *             than CNS 0x00 (namespaces attached to this controller)
 */
int xvf_nvme_identify_ns(int fd, uint32_t nsid, bool allocated,
                         struct nvme_id_ns *ns, struct xvf_err *err);

/**
 * xvf_nvme_ns_list() - namespace IDs in ascending order
 * @allocated: CNS 0x10 (allocated) rather than CNS 0x02 (active)
 * @ids:       at least @max entries
 * @n:         number filled; more than @max namespaces is -E2BIG
 */
int xvf_nvme_ns_list(int fd, bool allocated, uint32_t *ids,
                     unsigned int max, unsigned int *n,
                     struct xvf_err *err);

/**
 * xvf_nvme_ns_granularity() - Identify CNS 0x16, Namespace Granularity
 * List; only valid when CTRATT bit 7 is set
 */
int xvf_nvme_ns_granularity(int fd,
                            struct nvme_id_ns_granularity_list *list,
                            struct xvf_err *err);

/**
 * xvf_nvme_cmd_effects() - Get Log Page 05h, Commands Supported and
 * Effects; only valid when LPA bit 1 is set
 */
int xvf_nvme_cmd_effects(int fd, struct nvme_cmd_effects_log *log,
                         struct xvf_err *err);

/**
 * xvf_nvme_ns_create() - Namespace Management create
 * @nsze:  size in logical blocks (NCAP is the same: no thin provisioning)
 * @flbas: LBA format index
 * @nsid:  the NSID the controller chose
 *
 * Return: 0; -EOPNOTSUPP when the controller answers Invalid Command
 * Opcode (QEMU, although OACS advertises Namespace Management).
 */
int xvf_nvme_ns_create(int fd, uint64_t nsze, uint8_t flbas, uint32_t *nsid,
                       struct xvf_err *err);

/** xvf_nvme_ns_delete() - Namespace Management delete */
int xvf_nvme_ns_delete(int fd, uint32_t nsid, struct xvf_err *err);

#endif
