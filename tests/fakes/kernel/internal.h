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
    unsigned int vlan, qos, rate, spoofchk, trust;
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
    /* namespace management and block devices (ns.c) */
    unsigned int capmib, gran_kib, thin, aen, rescan, effects;
    char lbafs[128];
    /* NIC PFs ("nic" lines): name is the netdev */
    unsigned int nic;
    char pf_driver[32], vf_driver[32];
    char mac[18];
    unsigned int ifindex, ifup, carrier, relink, vf_trust, vf_rate;
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
    unsigned int nup;
    struct xm_up up[XM_MAX_UP];
};

/** struct xm_ctx - one locked session on a fake root */
struct xm_ctx {
    char root[XM_PATH];         /* canonical, no trailing '/' */
    int lock_fd;
    struct xm_model *m;
};

/* model.c */
XM_HIDDEN int xm_parse(struct xm_model *m, const char *text, bool build);
XM_HIDDEN char *xm_format(const struct xm_model *m, bool with_runtime);
XM_HIDDEN int xm_open(struct xm_ctx *c, const char *root, bool must_exist);
XM_HIDDEN int xm_save(struct xm_ctx *c);
XM_HIDDEN void xm_close(struct xm_ctx *c);
XM_HIDDEN int xm_canon_root(const char *root, char *out, size_t len);
XM_HIDDEN int xm_pf_set(struct xm_pf *pf, const char *settings);
XM_HIDDEN struct xm_pf *xm_pf_by_bdf(struct xm_model *m, const char *bdf);
XM_HIDDEN struct xm_sec *xm_sec_by_scid(struct xm_pf *pf, uint16_t scid);
XM_HIDDEN struct xm_sec *xm_sec_by_vfn(struct xm_pf *pf, unsigned int vfn);
XM_HIDDEN struct xm_ns *xm_ns_by_id(struct xm_pf *pf, uint32_t nsid);
XM_HIDDEN const char *xm_preset_text(const char *name);
XM_HIDDEN void xm_log(struct xm_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
XM_HIDDEN ssize_t xm_real_write(int fd, const void *buf, size_t n);

/* tree.c */
XM_HIDDEN int xm_pathf(const struct xm_ctx *c, char *buf, size_t len,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
XM_HIDDEN int xm_write_file(const char *path, const char *content,
                            mode_t mode);
XM_HIDDEN int xm_read_file(const char *path, char *buf, size_t len);
XM_HIDDEN int xm_rm_rf(const char *path);
XM_HIDDEN int xm_build_tree(struct xm_ctx *c);
XM_HIDDEN int xm_vf_bdf(const struct xm_pf *pf, unsigned int vfn,
                        char out[16]);
XM_HIDDEN bool xm_vf_enabled(struct xm_ctx *c, const struct xm_pf *pf,
                             unsigned int vfn);
XM_HIDDEN int xm_sysfs_store(struct xm_ctx *c, const char *rel,
                             const char *buf, size_t n);
XM_HIDDEN int xm_set_numvfs(struct xm_ctx *c, struct xm_pf *pf,
                            unsigned int n);
XM_HIDDEN int xm_set_override(struct xm_ctx *c, const char *bdf,
                              const char *drv);
XM_HIDDEN int xm_drivers_probe(struct xm_ctx *c, const char *bdf);
XM_HIDDEN int xm_dev_driver(struct xm_ctx *c, const char *bdf, char *drv,
                            size_t len);
XM_HIDDEN int xm_ctrl_target(struct xm_ctx *c, const char *name,
                             struct xm_pf **pf, uint16_t *cntlid,
                             bool *is_vf);
XM_HIDDEN int xm_tree_dump(struct xm_ctx *c, char **out);

XM_HIDDEN int xm_netdev_index(struct xm_ctx *c, const char *name,
                              unsigned int *ifindex);
XM_HIDDEN int xm_netdev_name(struct xm_ctx *c, unsigned int ifindex,
                             char *name, size_t len);
XM_HIDDEN unsigned int xm_numvfs(struct xm_ctx *c, const struct xm_pf *pf);

/* rtnl.c */
typedef void (*xm_emit_fn)(void *opaque, const void *msg, size_t len);

XM_HIDDEN struct xm_pf *xm_nic_by_name(struct xm_model *m, const char *name);
XM_HIDDEN void xm_nvf_reset(struct xm_nvf *v);
XM_HIDDEN int xm_rtnl_exec(struct xm_ctx *c, const void *req, size_t len,
                           uint32_t portid, xm_emit_fn emit, void *opaque,
                           char *what, size_t wlen);
XM_HIDDEN void xm_rtnl_error(const void *req, int err, uint32_t portid,
                             const char *ext_msg, xm_emit_fn emit,
                             void *opaque);
XM_HIDDEN const char *xm_rtnl_op(const void *req, size_t len);
XM_HIDDEN void xm_rtnl_link_event(struct xm_ctx *c, const struct xm_pf *pf);

/* intercept.c */
XM_HIDDEN void xm_nl_broadcast(uint32_t group, const void *msg, size_t len);

/* ns.c: Namespace Management, its Identify data, block devices */
struct nvme_id_ctrl;
struct nvme_id_ns;
XM_HIDDEN void xm_ns_pf_defaults(struct xm_pf *pf);
XM_HIDDEN void xm_ns_ctrl_fields(const struct xm_pf *pf,
                                 struct nvme_id_ctrl *id);
XM_HIDDEN void xm_ns_id_fields(const struct xm_pf *pf,
                               const struct xm_ns *ns, struct nvme_id_ns *id);
XM_HIDDEN int xm_ns_id_common(struct xm_pf *pf, void *addr,
                              uint32_t data_len);
XM_HIDDEN int xm_ns_id_granularity(struct xm_pf *pf, void *addr,
                                   uint32_t data_len);
XM_HIDDEN int xm_ns_get_log(struct xm_pf *pf, uint32_t cdw10,
                            uint32_t cdw12, uint32_t cdw13, void *addr,
                            uint32_t data_len);
XM_HIDDEN int xm_ns_mgmt(struct xm_pf *pf, uint32_t cdw10, uint32_t nsid,
                         const void *addr, uint32_t data_len,
                         uint32_t *result);
XM_HIDDEN int xm_ns_build(struct xm_ctx *c);
XM_HIDDEN void xm_ns_sync(struct xm_ctx *c, const struct xm_pf *only,
                          bool event);
XM_HIDDEN int xm_ns_store(struct xm_ctx *c, const char *rel);

/* admin.c */
struct xm_cmd {
    uint8_t opcode;
    uint32_t nsid;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
    void *addr;
    uint32_t data_len;
    uint32_t result;
};

XM_HIDDEN int xm_admin(struct xm_ctx *c, struct xm_pf *pf, uint16_t cntlid,
                       bool is_vf, struct xm_cmd *cmd);
XM_HIDDEN int xm_cmd_sub(const struct xm_cmd *cmd);

#endif
