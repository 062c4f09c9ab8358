/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * internal.h - shared between the parts of libxvf-mock; not installed
 *
 * model.c      the device model, its text format, load/save under a lock
 * tree.c       the fake sysfs/dev tree and the Linux PCI core's reactions
 * admin.c      the NVMe admin commands (QEMU 10 hw/nvme behaviour)
 * intercept.c  the ioctl() and write() overrides, counters and faults
 * api.c        the public API of mock.h
 * rtnl.c       the NIC side: rtnetlink requests on fake netlink sockets
 * irq.c        the PFs' admin queue interrupts in /proc/interrupts
 * probe.c      nvme's probe of a VF finished later (vf_probe=)
 */
#ifndef XM_INTERNAL_H
#define XM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mock.h"

#define XM_HIDDEN __attribute__((visibility("hidden")))

#define XM_MAX_PF 8
#define XM_MAX_SEC 127          /* NVME_ID_SECONDARY_CTRL_MAX */
#define XM_MAX_NS 64
#define XM_MAX_ATT 32           /* controllers one namespace is attached to */
#define XM_MAX_UP 16
#define XM_MAX_NVF 64           /* VFs of a NIC PF */
#define XM_PATH 4096

#define XM_OACS_NS_MGMT 0x0008
#define XM_OACS_VIRT_MGMT 0x0080
#define XM_CLASS_NVME 0x010802

struct xm_ns {
    uint32_t nsid;
    uint64_t nsze;
    uint64_t nuse;              /* ns.c: blocks written, 0 = none */
    unsigned int flbas;         /* ns.c: index into the PF's lbafs */
    bool shared;
    unsigned int natt;
    uint16_t att[XM_MAX_ATT];
};

struct xm_sec {
    uint16_t scid;
    uint16_t vfn;
    uint8_t scs;
    uint16_t nvq;
    uint16_t nvi;
};

/* What a NIC PF's driver keeps per VF (igb's vf_data). */
struct xm_nvf {
    uint8_t mac[6];
    unsigned int vlan, qos, rate, min_rate, spoofchk, trust, link_state;
};

struct xm_pf {
    char bdf[16];
    char name[32];              /* controller name it gets when built */
    char sn[21], mn[41], fr[9], subnqn[224];
    unsigned int cntlid;
    unsigned int vendor, device, vf_device, class_code;
    unsigned int oacs, nn;
    unsigned int sriov;
    unsigned int totalvfs, offset, stride;
    unsigned int vqfrt, vifrt, vqprt, viprt, vqfrsm, vifrsm;
    unsigned int vqrfap, virfap, vqrfap_next, virfap_next;
    unsigned int nsmgmt, online_needs_vf;
    /* device profiles: online before the VF (status SC), online that
     * answers success and does nothing, a VF's nvme probe waiting for
     * CSTS.RDY (ms), resets of the primary so far */
    unsigned int online_novf_sc, online_ignored, rdy_ms, resets;
    /* admin queue interrupt (irq.c) */
    unsigned int irq, irq_lost, irq_lost_vfs;
    /* how nvme's probe of a VF ends (probe.c) */
    char vf_probe[8];
    unsigned int vf_probe_ms;
    /* namespace management and block devices (ns.c) */
    unsigned int capmib, gran_kib, thin, aen, rescan, effects;
    char lbafs[128];
    /* NIC PFs ("nic" lines): name is the netdev */
    unsigned int nic;
    char pf_driver[32], vf_driver[32];
    char mac[18];
    unsigned int ifindex, ifup, carrier, relink, vf_trust, vf_rate;
    /* link speed (Mb/s); the PF driver's quirks: all-zero MAC refused,
     * rate= only at one link speed, a setting accepted but not applied */
    unsigned int speed, vf_zero_mac, vf_rate_speed;
    char vf_ignore[16];
    struct xm_nvf nvf[XM_MAX_NVF];
    /* build-time only, not part of the saved model */
    unsigned int b_secondaries, b_scid, b_autoprobe, b_numvfs, b_bound;
    unsigned int nsec;
    struct xm_sec sec[XM_MAX_SEC];
    unsigned int nns;
    struct xm_ns ns[XM_MAX_NS];
};

struct xm_up {
    char pf[16];
    unsigned int vfn, nvq, nvi;
    char driver[32];
};

struct xm_fault_state {
    struct xvf_mock_fault f;
    bool armed;
    unsigned int seen;          /* matching operations since armed */
};

struct xm_model {
    unsigned int npf;
    struct xm_pf pf[XM_MAX_PF];
    unsigned int n_admin, n_write, n_fired, n_netlink;
    struct xm_fault_state fault;
    /* build-time only */
    char drivers[256];
    bool domd;          /* "xen domd": not the control domain */
    unsigned int nup;
    struct xm_up up[XM_MAX_UP];
};

/** struct xm_ctx - one locked session on a fake root */
struct xm_ctx {
    char root[XM_PATH];         /* canonical, no trailing '/' */
    int lock_fd;
    struct xm_model *m;
};

/*
 * model.c: the controller model, its text form and the locked session.
 */

/**
 * xm_parse() - read a model from its text form (the configuration
 * language of mock.h, or the saved state)
 * @m:     filled (zeroed first)
 * @text:  the text
 * @build: accept the build-time lines too ("drivers", "up")
 *
 * Return: 0 or -errno (-EINVAL for a bad line).
 */
XM_HIDDEN int xm_parse(struct xm_model *m, const char *text, bool build);

/**
 * xm_format() - the text form of @m, which xm_parse() reads back
 * @with_runtime: include counters and the armed fault (the saved state);
 *                without them, the model part of a snapshot
 *
 * Return: malloc'd text, or NULL.
 */
XM_HIDDEN char *xm_format(const struct xm_model *m, bool with_runtime);

/**
 * xm_open() - lock the fake root @root and load its model into @c
 * @root:       NULL for $XEN_VF_ROOT
 * @must_exist: a root without a model is an error (else -ENOENT, quietly)
 *
 * Return: 0 (then xm_close() @c), or -errno.
 */
XM_HIDDEN int xm_open(struct xm_ctx *c, const char *root, bool must_exist);

/** xm_save() - write @c's model back (atomically). Return: 0 or -errno. */
XM_HIDDEN int xm_save(struct xm_ctx *c);

/** xm_close() - free @c's model and drop the lock, without saving */
XM_HIDDEN void xm_close(struct xm_ctx *c);

/**
 * xm_canon_root() - the real path of @root (NULL: $XEN_VF_ROOT) in @out
 * Return: 0, -ENOENT without a root, -ENAMETOOLONG, or -errno.
 */
XM_HIDDEN int xm_canon_root(const char *root, char *out, size_t len);

/**
 * xm_pf_set() - apply "key=value ..." settings (as on a "pf" line, but
 * no bdf) to @pf
 * Return: 0 or -EINVAL.
 */
XM_HIDDEN int xm_pf_set(struct xm_pf *pf, const char *settings);

/** xm_pf_by_bdf() - the PF at @bdf, or NULL */
XM_HIDDEN struct xm_pf *xm_pf_by_bdf(struct xm_model *m, const char *bdf);

/** xm_sec_by_scid() - secondary controller @scid of @pf, or NULL */
XM_HIDDEN struct xm_sec *xm_sec_by_scid(struct xm_pf *pf, uint16_t scid);

/** xm_sec_by_vfn() - the secondary controller of VF @vfn, or NULL */
XM_HIDDEN struct xm_sec *xm_sec_by_vfn(struct xm_pf *pf, unsigned int vfn);

/** xm_ns_by_id() - namespace @nsid of @pf, or NULL */
XM_HIDDEN struct xm_ns *xm_ns_by_id(struct xm_pf *pf, uint32_t nsid);

/**
 * xm_preset_text() - preset configuration @name (NULL: "qemu") or NULL;
 * "qemu", "mixed" and "igb" are built on the device profile named by
 * $XVF_MOCK_PROFILE (xvf_mock_profile())
 */
XM_HIDDEN const char *xm_preset_text(const char *name);

/** xm_log() - append one line to the root's operation log (xvf_mock_log()) */
XM_HIDDEN void xm_log(struct xm_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * tree.c: the sysfs and /dev tree under the root, and what writes to it
 * do (the PCI core, SR-IOV, driver binding).
 */

/**
 * xm_pathf() - the path under @c's root of the formatted relative path
 * Return: 0 or -ENAMETOOLONG.
 */
XM_HIDDEN int xm_pathf(const struct xm_ctx *c, char *buf, size_t len,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** xm_write_file() - create or replace @path. Return: 0 or -errno. */
XM_HIDDEN int xm_write_file(const char *path, const char *content,
                            mode_t mode);

/** xm_read_file() - @path into @buf (NUL-terminated). Return: 0 or -errno. */
XM_HIDDEN int xm_read_file(const char *path, char *buf, size_t len);

/** xm_rm_rf() - remove @path and what is below it; 0 if absent, or -errno */
XM_HIDDEN int xm_rm_rf(const char *path);

/** xm_build_tree() - create the tree of @c's model. Return: 0 or -errno. */
XM_HIDDEN int xm_build_tree(struct xm_ctx *c);

/**
 * xm_vf_bdf() - the BDF of VF @vfn (1-based) of @pf, from its offset and
 * stride
 * Return: 0, -EINVAL, or -ERANGE past bus ff.
 */
XM_HIDDEN int xm_vf_bdf(const struct xm_pf *pf, unsigned int vfn,
                        char out[16]);

/** xm_vf_enabled() - whether VF @vfn of @pf exists (within sriov_numvfs) */
XM_HIDDEN bool xm_vf_enabled(struct xm_ctx *c, const struct xm_pf *pf,
                             unsigned int vfn);

/**
 * xm_sysfs_store() - what the kernel does for a write of @buf to @rel
 * (relative to the root): bind, unbind, drivers_probe, sriov_numvfs,
 * driver_override, rescan_controller, ...
 * Return: 0, -errno for the write to fail with, or 1 for a plain file
 * (the write goes through as it is).
 */
XM_HIDDEN int xm_sysfs_store(struct xm_ctx *c, const char *rel,
                             const char *buf, size_t n);

/**
 * xm_set_numvfs() - sriov_numvfs_store(): same count is a no-op, no PF
 * driver -ENOENT, N to M -EBUSY; the VFs that go away are offlined
 * Return: 0 or -errno.
 */
XM_HIDDEN int xm_set_numvfs(struct xm_ctx *c, struct xm_pf *pf,
                            unsigned int n);

/** xm_set_override() - write driver_override of @bdf ("" clears it) */
XM_HIDDEN int xm_set_override(struct xm_ctx *c, const char *bdf,
                              const char *drv);

/** xm_drivers_probe() - attach @bdf to the first driver that takes it */
XM_HIDDEN int xm_drivers_probe(struct xm_ctx *c, const char *bdf);

/**
 * xm_dev_release() - device_release_driver() of @bdf: its driver lets go
 * (controllers and netdevs go with it); driver_override stays
 * Return: 0 or -ENODEV.
 */
XM_HIDDEN int xm_dev_release(struct xm_ctx *c, const char *bdf);

/** xm_dev_driver() - the driver bound to @bdf ("" for none) in @drv */
XM_HIDDEN int xm_dev_driver(struct xm_ctx *c, const char *bdf, char *drv,
                            size_t len);

/**
 * xm_ctrl_target() - the controller behind /dev/@name (nvmeN): its PF,
 * its controller id and whether it is a VF's
 * Return: 0 or -ENODEV.
 */
XM_HIDDEN int xm_ctrl_target(struct xm_ctx *c, const char *name,
                             struct xm_pf **pf, uint16_t *cntlid,
                             bool *is_vf);

/**
 * xm_ctrl_attr() - the controller a write to its attribute @attr is for
 * @c:      the context
 * @rel:    the path written, under the root: ".../nvmeN/@attr"
 * @attr:   the attribute ("reset_controller")
 * @name:   where nvmeN goes
 * @len:    size of @name
 * @pf:     as for xm_ctrl_target()
 * @cntlid: as for xm_ctrl_target()
 * @is_vf:  as for xm_ctrl_target()
 * Return: 0, 1 when @rel is not an @attr, or -ENODEV.
 */
XM_HIDDEN int xm_ctrl_attr(struct xm_ctx *c, const char *rel,
                           const char *attr, char *name, size_t len,
                           struct xm_pf **pf, uint16_t *cntlid, bool *is_vf);

/** xm_tree_dump() - sorted listing of sys/ and dev/ (for snapshots) */
XM_HIDDEN int xm_tree_dump(struct xm_ctx *c, char **out);

/** xm_netdev_index() - ifindex of network interface @name, or -ENODEV */
XM_HIDDEN int xm_netdev_index(struct xm_ctx *c, const char *name,
                              unsigned int *ifindex);

/** xm_netdev_name() - name of the interface with @ifindex, or -ENODEV */
XM_HIDDEN int xm_netdev_name(struct xm_ctx *c, unsigned int ifindex,
                             char *name, size_t len);

/** xm_numvfs() - @pf's sriov_numvfs, as the tree has it */
XM_HIDDEN unsigned int xm_numvfs(struct xm_ctx *c, const struct xm_pf *pf);

/*
 * rtnl.c: the NIC PFs' rtnetlink (RTM_GETLINK/SETLINK, IFLA_VFINFO_LIST).
 */

/**
 * typedef xm_emit_fn - hand one reply message to the fake socket
 * @opaque: the caller's
 */
typedef void (*xm_emit_fn)(void *opaque, const void *msg, size_t len);

/** xm_nic_by_name() - the NIC PF named @name (eth0), or NULL */
XM_HIDDEN struct xm_pf *xm_nic_by_name(struct xm_model *m, const char *name);

/** xm_nvf_reset() - a NIC VF as the PF driver starts it (spoofchk on) */
XM_HIDDEN void xm_nvf_reset(struct xm_nvf *v);

/**
 * xm_rtnl_exec() - carry out one rtnetlink request, emitting its replies
 * @portid:    the requester's port id, for the replies
 * @what:      filled with a description for the log
 *
 * Return: 0 (acknowledged) or -errno (for xm_rtnl_error()).
 */
XM_HIDDEN int xm_rtnl_exec(struct xm_ctx *c, const void *req, size_t len,
                           uint32_t portid, xm_emit_fn emit, void *opaque,
                           char *what, size_t wlen);

/**
 * xm_rtnl_error() - emit NLMSG_ERROR for @req: @err (0 = an ACK), with
 * @ext_msg as NLMSGERR_ATTR_MSG when not NULL
 */
XM_HIDDEN void xm_rtnl_error(const void *req, int err, uint32_t portid,
                             const char *ext_msg, xm_emit_fn emit,
                             void *opaque);

/** xm_rtnl_op() - the request's name for the log ("setlink", ...) */
XM_HIDDEN const char *xm_rtnl_op(const void *req, size_t len);

/** xm_rtnl_link_event() - broadcast RTM_NEWLINK for @pf to RTMGRP_LINK */
XM_HIDDEN void xm_rtnl_link_event(struct xm_ctx *c, const struct xm_pf *pf);

/*
 * intercept.c: the LD_PRELOAD wrappers (open, write, ioctl, socket, ...).
 */

/** xm_nl_broadcast() - send @msg to every fake netlink socket in @group */
XM_HIDDEN void xm_nl_broadcast(uint32_t group, const void *msg, size_t len);

/** xm_real_write() - libc's write(), past the wrapper */
XM_HIDDEN ssize_t xm_real_write(int fd, const void *buf, size_t n);

/*
 * ns.c: Namespace Management, its Identify data, block devices. The
 * admin handlers answer an NVMe status (0 = success).
 */
struct nvme_id_ctrl;
struct nvme_id_ns;

/** xm_ns_pf_defaults() - the namespace keys of @pf left unset, defaulted */
XM_HIDDEN void xm_ns_pf_defaults(struct xm_pf *pf);

/** xm_ns_ctrl_fields() - Identify Controller's capacity, CTRATT and LPA */
XM_HIDDEN void xm_ns_ctrl_fields(const struct xm_pf *pf,
                                 struct nvme_id_ctrl *id);

/** xm_ns_id_fields() - Identify Namespace's size, formats and sharing */
XM_HIDDEN void xm_ns_id_fields(const struct xm_pf *pf,
                               const struct xm_ns *ns, struct nvme_id_ns *id);

/** xm_ns_id_common() - Identify Namespace FFFFFFFFh (with nsmgmt only) */
XM_HIDDEN int xm_ns_id_common(struct xm_pf *pf, void *addr,
                              uint32_t data_len);

/** xm_ns_id_granularity() - the Namespace Granularity List (gran_kib=) */
XM_HIDDEN int xm_ns_id_granularity(struct xm_pf *pf, void *addr,
                                   uint32_t data_len);

/** xm_ns_get_log() - Get Log Page: the Commands Supported and Effects log */
XM_HIDDEN int xm_ns_get_log(struct xm_pf *pf, uint32_t cdw10,
                            uint32_t cdw12, uint32_t cdw13, void *addr,
                            uint32_t data_len);

/**
 * xm_ns_mgmt() - Namespace Management create / delete (not in QEMU):
 * lowest free NSID, capacity (capmib=) and granularity (gran_kib=)
 * enforced; @result the new NSID
 */
XM_HIDDEN int xm_ns_mgmt(struct xm_pf *pf, uint32_t cdw10, uint32_t nsid,
                         const void *addr, uint32_t data_len,
                         uint32_t *result);

/** xm_ns_build() - the block-device part of the tree. Return: 0 or -errno. */
XM_HIDDEN int xm_ns_build(struct xm_ctx *c);

/**
 * xm_ns_sync() - the kernel's block devices after an event: @event is a
 * Namespace Attribute Changed notice (lost with aen=0), otherwise a
 * probe or rescan of every controller of @only (NULL: all PFs)
 */
XM_HIDDEN void xm_ns_sync(struct xm_ctx *c, const struct xm_pf *only,
                          bool event);

/**
 * xm_ctrl_reset() - a write to @rel if it is a controller's
 * reset_controller: a reset of a primary takes every secondary offline
 * (zeroing its resources), as QEMU's controller reset
 * Return: 0 when it was, 1 when @rel is another file, or -errno.
 */
XM_HIDDEN int xm_ctrl_reset(struct xm_ctx *c, const char *rel);

/**
 * xm_pf_flr() - a function level reset of NVMe PF @pf (its "reset"
 * attribute): as xm_ctrl_reset(), and a pending primary flexible
 * allocation takes effect (QEMU's nvme_activate_virt_res())
 * Return: 0.
 */
XM_HIDDEN int xm_pf_flr(struct xm_ctx *c, struct xm_pf *pf);

/**
 * xm_ns_store() - a write to @rel if it is a rescan_controller
 * Return: 0 when it was, 1 when @rel is another file, or -errno.
 */
XM_HIDDEN int xm_ns_store(struct xm_ctx *c, const char *rel);

/* admin.c: the admin commands of the NVMe controller model */

/**
 * struct xm_cmd - one admin command (the fields of
 * struct nvme_passthru_cmd the model reads), and its result dword
 */
struct xm_cmd {
    uint8_t opcode;
    uint32_t nsid;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
    void *addr;
    uint32_t data_len;
    uint32_t result;
};

/**
 * xm_admin() - run @cmd on controller @cntlid of @pf (a VF's when
 * @is_vf: Identify only)
 * Return: the NVMe status (0 = success).
 */
XM_HIDDEN int xm_admin(struct xm_ctx *c, struct xm_pf *pf, uint16_t cntlid,
                       bool is_vf, struct xm_cmd *cmd);

/**
 * xm_cmd_sub() - the command's sub-operation, as faults match it: the
 * select field (SEL/ACT) or the CNS / log page id
 */
XM_HIDDEN int xm_cmd_sub(const struct xm_cmd *cmd);

/*
 * irq.c: the admin queue interrupts of the NVMe PFs (proc/interrupts).
 */

/** xm_irq_build() - proc/interrupts, every count 0. Return: 0 or -errno. */
XM_HIDDEN int xm_irq_build(struct xm_ctx *c);

/** xm_irq_lost() - whether @pf's interrupts are lost now */
XM_HIDDEN bool xm_irq_lost(struct xm_ctx *c, const struct xm_pf *pf);

/**
 * xm_irq_complete() - @pf's controller completes an admin command: count
 * its interrupt, or, when they are lost, wait @timeout_ms (the command's
 * own; 0 = at once) as the driver's polling at the timeout does
 * @polled: set when the completion was found by polling
 * Return: 0 or -errno of the file.
 */
XM_HIDDEN int xm_irq_complete(struct xm_ctx *c, const struct xm_pf *pf,
                              unsigned int timeout_ms, bool *polled);

/*
 * probe.c: nvme's probe of a VF, finished by its reset work later.
 */

/**
 * xm_probe_late() - after nvme bound VF @bdf of @pf and made its
 * controller @ctrl: with @pf's vf_probe= "late", "fail" or "hang" the
 * controller is "connecting" and a worker process, @pf->vf_probe_ms
 * later, makes it "live" or releases the VF (no worker for "hang")
 * Return: 0 or -errno of the tree.
 */
XM_HIDDEN int xm_probe_late(struct xm_ctx *c, const struct xm_pf *pf,
                            const char *bdf, const char *ctrl);

#endif
