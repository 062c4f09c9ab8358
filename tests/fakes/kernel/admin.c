/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The admin commands follow QEMU 10.0's hw/nvme/ctrl.c (nvme_identify_*,
 * nvme_ns_attachment, nvme_virt_mngmt), including its status codes and
 * the order of its checks, because the domd tier runs the same engine
 * against that QEMU.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nvme/types.h>

#include "internal.h"

#define DNR NVME_SC_DNR
#define SC(sct, sc) ((NVME_SCT_##sct << NVME_SCT_SHIFT) | NVME_SC_##sc | DNR)

#define S_INVALID_OPCODE SC(GENERIC, INVALID_OPCODE)            /* 0x4001 */
#define S_INVALID_FIELD SC(GENERIC, INVALID_FIELD)              /* 0x4002 */
#define S_INVALID_NSID SC(GENERIC, INVALID_NS)                  /* 0x400b */
#define S_NS_ALREADY_ATTACHED SC(CMD_SPECIFIC, NS_ALREADY_ATTACHED)
#define S_NS_PRIVATE SC(CMD_SPECIFIC, NS_IS_PRIVATE)            /* 0x4119 */
#define S_NS_NOT_ATTACHED SC(CMD_SPECIFIC, NS_NOT_ATTACHED)     /* 0x411a */
#define S_CTRL_LIST_INVALID SC(CMD_SPECIFIC, CTRL_LIST_INVALID) /* 0x411c */
#define S_INVALID_CTRL_ID SC(CMD_SPECIFIC, INVALID_CTRL_ID)     /* 0x411f */
#define S_INVALID_SEC_STATE SC(CMD_SPECIFIC, INVALID_SEC_CTRL_STATE)
#define S_INVALID_NUM_RES SC(CMD_SPECIFIC, INVALID_CTRL_RESOURCES)
#define S_INVALID_RES_ID SC(CMD_SPECIFIC, INVALID_RESOURCE_ID)  /* 0x4122 */
#define S_NS_ID_UNAVAILABLE SC(CMD_SPECIFIC, NS_ID_UNAVAILABLE) /* 0x4116 */

#define ID_SIZE NVME_IDENTIFY_DATA_SIZE

static void pad(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);

    memset(dst, ' ', len);
    memcpy(dst, src, n < len ? n : len);
}

static void to_host(struct xm_cmd *cmd, const void *data, size_t len)
{
    if (!cmd->addr)
        return;
    if (len > cmd->data_len)
        len = cmd->data_len;
    memcpy(cmd->addr, data, len);
}

static bool attached(const struct xm_ns *ns, uint16_t cntlid)
{
    unsigned int i;

    for (i = 0; i < ns->natt; i++)
        if (ns->att[i] == cntlid)
            return true;
    return false;
}

/* the controllers of the subsystem: the primary and its secondaries */
static bool ctrl_exists(struct xm_pf *pf, uint16_t cntlid)
{
    return cntlid == pf->cntlid || xm_sec_by_scid(pf, cntlid);
}

static bool nsid_valid(const struct xm_pf *pf, uint32_t nsid)
{
    return nsid && (nsid == NVME_NSID_ALL || nsid <= pf->nn);
}

static void sum_flexible(const struct xm_pf *pf, unsigned int *vq,
                         unsigned int *vi)
{
    unsigned int i;

    *vq = *vi = 0;
    for (i = 0; i < pf->nsec; i++) {
        *vq += pf->sec[i].nvq;
        *vi += pf->sec[i].nvi;
    }
}

static int id_ctrl(struct xm_pf *pf, uint16_t cntlid, bool is_vf,
                   struct xm_cmd *cmd)
{
    static struct nvme_id_ctrl id;
    unsigned int oacs = pf->oacs;

    if (is_vf)
        oacs &= ~XM_OACS_VIRT_MGMT;
    memset(&id, 0, sizeof(id));
    id.vid = htole16(pf->vendor);
    id.ssvid = htole16(0x1af4);
    pad(id.sn, sizeof(id.sn), pf->sn);
    pad(id.mn, sizeof(id.mn), pf->mn);
    pad(id.fr, sizeof(id.fr), pf->fr);
    id.cmic = 0x2;
    id.cntlid = htole16(cntlid);
    id.ver = htole32(0x00010400);
    id.oacs = htole16(oacs);
    id.nn = htole32(pf->nn);
    id.mnan = htole32(pf->nn);
    strncpy(id.subnqn, pf->subnqn, sizeof(id.subnqn) - 1);
    xm_ns_ctrl_fields(pf, &id);
    to_host(cmd, &id, sizeof(id));
    return 0;
}

static int id_ns(struct xm_pf *pf, uint16_t cntlid, struct xm_cmd *cmd,
                 bool allocated)
{
    static struct nvme_id_ns id;
    struct xm_ns *ns;

    if (cmd->nsid == NVME_NSID_ALL && !allocated)
        return xm_ns_id_common(pf, cmd->addr, cmd->data_len);
    if (!nsid_valid(pf, cmd->nsid) || cmd->nsid == NVME_NSID_ALL)
        return S_INVALID_NSID;
    memset(&id, 0, sizeof(id));
    ns = xm_ns_by_id(pf, cmd->nsid);
    if (ns && (allocated || attached(ns, cntlid)))
        xm_ns_id_fields(pf, ns, &id);
    to_host(cmd, &id, sizeof(id));
    return 0;
}

static int id_ns_list(struct xm_pf *pf, uint16_t cntlid, struct xm_cmd *cmd,
                      bool allocated)
{
    static struct nvme_ns_list list;
    unsigned int i, j = 0;
    uint32_t min = cmd->nsid, best, prev = min;

    if (min >= NVME_NSID_ALL - 1)
        return S_INVALID_NSID;
    memset(&list, 0, sizeof(list));
    /* ascending order; namespaces are few */
    for (;;) {
        best = 0;
        for (i = 0; i < pf->nns; i++) {
            struct xm_ns *ns = &pf->ns[i];

            if (ns->nsid <= prev || (!allocated && !attached(ns, cntlid)))
                continue;
            if (!best || ns->nsid < best)
                best = ns->nsid;
        }
        if (!best || j >= NVME_ID_NS_LIST_MAX)
            break;
        list.ns[j++] = htole32(best);
        prev = best;
    }
    to_host(cmd, &list, sizeof(list));
    return 0;
}

static int id_ctrl_list(struct xm_pf *pf, struct xm_cmd *cmd, bool by_ns)
{
    static struct nvme_ctrl_list list;
    uint16_t min = cmd->cdw10 >> 16, ids[XM_MAX_SEC + 1];
    struct xm_ns *ns = NULL;
    unsigned int i, j, n = 0;
    uint16_t t;

    if (by_ns) {
        if (cmd->nsid == NVME_NSID_ALL)
            return S_INVALID_FIELD;
        ns = xm_ns_by_id(pf, cmd->nsid);
        if (!ns)
            return S_INVALID_FIELD;
    }
    ids[n++] = pf->cntlid;
    for (i = 0; i < pf->nsec; i++)
        ids[n++] = pf->sec[i].scid;
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    memset(&list, 0, sizeof(list));
    for (i = 0, j = 0; i < n; i++) {
        if (ids[i] < min || (ns && !attached(ns, ids[i])))
            continue;
        list.identifier[j++] = htole16(ids[i]);
    }
    list.num = htole16(j);
    to_host(cmd, &list, sizeof(list));
    return 0;
}

static int id_primary_caps(struct xm_pf *pf, struct xm_cmd *cmd)
{
    static struct nvme_primary_ctrl_cap cap;
    unsigned int vq, vi;

    sum_flexible(pf, &vq, &vi);
    memset(&cap, 0, sizeof(cap));
    cap.cntlid = htole16(pf->cntlid);
    cap.crt = pf->vqfrt || pf->vifrt ? 0x3 : 0;
    cap.vqfrt = htole32(pf->vqfrt);
    cap.vqrfa = htole32(vq);
    cap.vqrfap = htole16(pf->vqrfap);
    cap.vqprt = htole16(pf->vqprt);
    cap.vqfrsm = htole16(pf->vqfrsm);
    cap.vqgran = htole16(1);
    cap.vifrt = htole32(pf->vifrt);
    cap.virfa = htole32(vi);
    cap.virfap = htole16(pf->virfap);
    cap.viprt = htole16(pf->viprt);
    cap.vifrsm = htole16(pf->vifrsm);
    cap.vigran = htole16(1);
    to_host(cmd, &cap, sizeof(cap));
    return 0;
}

/* QEMU copies the list from the first entry with SCID >= CNTID on. */
static int id_secondary_list(struct xm_pf *pf, struct xm_cmd *cmd)
{
    static struct nvme_secondary_ctrl_list list;
    uint16_t min = cmd->cdw10 >> 16;
    unsigned int i, j;

    memset(&list, 0, sizeof(list));
    for (i = 0; i < pf->nsec; i++)
        if (pf->sec[i].scid >= min)
            break;
    for (j = 0; i < pf->nsec && j < NVME_ID_SECONDARY_CTRL_MAX; i++, j++) {
        list.sc_entry[j].scid = htole16(pf->sec[i].scid);
        list.sc_entry[j].pcid = htole16(pf->cntlid);
        list.sc_entry[j].scs = pf->sec[i].scs;
        list.sc_entry[j].vfn = htole16(pf->sec[i].vfn);
        list.sc_entry[j].nvq = htole16(pf->sec[i].nvq);
        list.sc_entry[j].nvi = htole16(pf->sec[i].nvi);
    }
    list.num = j;
    to_host(cmd, &list, sizeof(list));
    return 0;
}

static int identify(struct xm_pf *pf, uint16_t cntlid, bool is_vf,
                    struct xm_cmd *cmd)
{
    uint8_t cns = cmd->cdw10 & 0xff;

    switch (cns) {
    case NVME_IDENTIFY_CNS_NS:
        return id_ns(pf, cntlid, cmd, false);
    case NVME_IDENTIFY_CNS_CTRL:
        return id_ctrl(pf, cntlid, is_vf, cmd);
    case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST:
        return id_ns_list(pf, cntlid, cmd, false);
    }
    if (is_vf)
        return S_INVALID_FIELD;
    switch (cns) {
    case NVME_IDENTIFY_CNS_ALLOCATED_NS_LIST:
        return id_ns_list(pf, cntlid, cmd, true);
    case NVME_IDENTIFY_CNS_ALLOCATED_NS:
        return id_ns(pf, cntlid, cmd, true);
    case NVME_IDENTIFY_CNS_NS_CTRL_LIST:
        return id_ctrl_list(pf, cmd, true);
    case NVME_IDENTIFY_CNS_CTRL_LIST:
        return id_ctrl_list(pf, cmd, false);
    case NVME_IDENTIFY_CNS_PRIMARY_CTRL_CAP:
        return id_primary_caps(pf, cmd);
    case NVME_IDENTIFY_CNS_SECONDARY_CTRL_LIST:
        return id_secondary_list(pf, cmd);
    case NVME_IDENTIFY_CNS_NS_GRANULARITY:
        return xm_ns_id_granularity(pf, cmd->addr, cmd->data_len);
    }
    return S_INVALID_FIELD;
}

static int assign_to_secondary(struct xm_pf *pf, uint16_t cntlid,
                               unsigned int rt, unsigned int nr,
                               struct xm_cmd *cmd)
{
    struct xm_sec *sec = xm_sec_by_scid(pf, cntlid);
    unsigned int vq, vi, total, prim, used, cur;

    if (!sec)
        return S_INVALID_CTRL_ID;
    if (sec->scs)
        return S_INVALID_SEC_STATE;
    if (nr > (rt ? pf->vifrsm : pf->vqfrsm))
        return S_INVALID_NUM_RES;
    sum_flexible(pf, &vq, &vi);
    total = rt ? pf->vifrt : pf->vqfrt;
    prim = rt ? pf->virfap : pf->vqrfap;
    used = rt ? vi : vq;
    cur = rt ? sec->nvi : sec->nvq;
    if ((int)nr - (int)cur > (int)total - (int)prim - (int)used)
        return S_INVALID_RES_ID;
    if (rt)
        sec->nvi = nr;
    else
        sec->nvq = nr;
    cmd->result = nr;
    return 0;
}

static int allocate_to_primary(struct xm_pf *pf, uint16_t cntlid,
                               unsigned int rt, unsigned int nr,
                               struct xm_cmd *cmd)
{
    unsigned int vq, vi, total;

    if (cntlid != pf->cntlid)
        return S_INVALID_CTRL_ID;
    sum_flexible(pf, &vq, &vi);
    total = rt ? pf->vifrt : pf->vqfrt;
    if (nr > total)
        return S_INVALID_NUM_RES;
    if (nr > total - (rt ? vi : vq))
        return S_INVALID_RES_ID;
    /* takes effect at the next reset of the primary, as in QEMU */
    if (rt)
        pf->virfap_next = nr;
    else
        pf->vqrfap_next = nr;
    cmd->result = nr;
    return 0;
}

static int virt_mgmt(struct xm_ctx *c, struct xm_pf *pf, struct xm_cmd *cmd)
{
    unsigned int act = cmd->cdw10 & 0xf, rt = (cmd->cdw10 >> 8) & 0x7;
    uint16_t cntlid = cmd->cdw10 >> 16;
    unsigned int nr = cmd->cdw11 & 0xffff;
    struct xm_sec *sec;

    if (!(pf->oacs & XM_OACS_VIRT_MGMT))
        return S_INVALID_OPCODE;
    if (rt != NVME_VIRT_MGMT_RT_VQ_RESOURCE &&
        rt != NVME_VIRT_MGMT_RT_VI_RESOURCE)
        return S_INVALID_RES_ID;
    switch (act) {
    case NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL:
        return assign_to_secondary(pf, cntlid, rt, nr, cmd);
    case NVME_VIRT_MGMT_ACT_PRIM_CTRL_FLEX_ALLOC:
        return allocate_to_primary(pf, cntlid, rt, nr, cmd);
    case NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL:
        sec = xm_sec_by_scid(pf, cntlid);
        if (!sec)
            return S_INVALID_CTRL_ID;
        /* a PM173x does not know the secondary before its VF exists */
        if (pf->online_needs_vf && !xm_vf_enabled(c, pf, sec->vfn))
            return (NVME_SCT_CMD_SPECIFIC << NVME_SCT_SHIFT) | DNR |
                   (pf->online_novf_sc & 0xff);
        /* without flexible VI (VIFRT = 0) the interrupts are private */
        if ((pf->vifrt && !sec->nvi) || sec->nvq < 2)
            return S_INVALID_SEC_STATE;
        if (!pf->online_ignored)
            sec->scs = 1;
        return 0;
    case NVME_VIRT_MGMT_ACT_OFFLINE_SEC_CTRL:
        sec = xm_sec_by_scid(pf, cntlid);
        if (!sec)
            return S_INVALID_CTRL_ID;
        sec->nvq = 0;
        sec->nvi = 0;
        sec->scs = 0;
        return 0;
    }
    return S_INVALID_FIELD;
}

static int ns_attach(struct xm_pf *pf, struct xm_cmd *cmd)
{
    static struct nvme_ctrl_list list;
    unsigned int sel = cmd->cdw10 & 0xf, i, j, num;
    struct xm_ns *ns;
    uint16_t id;

    if (!nsid_valid(pf, cmd->nsid))
        return S_INVALID_NSID;
    ns = xm_ns_by_id(pf, cmd->nsid);
    if (!ns)
        return S_INVALID_FIELD;
    memset(&list, 0, sizeof(list));
    if (cmd->addr)
        memcpy(&list, cmd->addr, cmd->data_len < sizeof(list) ?
               cmd->data_len : sizeof(list));
    num = le16toh(list.num);
    if (!num)
        return S_CTRL_LIST_INVALID;
    if (num > NVME_ID_CTRL_LIST_MAX)
        num = NVME_ID_CTRL_LIST_MAX;
    for (i = 0; i < num; i++) {
        id = le16toh(list.identifier[i]);
        if (!ctrl_exists(pf, id))
            return S_CTRL_LIST_INVALID;
        switch (sel) {
        case NVME_NS_ATTACH_SEL_CTRL_ATTACH:
            if (attached(ns, id))
                return S_NS_ALREADY_ATTACHED;
            if (ns->natt && !ns->shared)
                return S_NS_PRIVATE;
            if (ns->natt >= XM_MAX_ATT)
                return S_INVALID_FIELD;
            ns->att[ns->natt++] = id;
            break;
        case NVME_NS_ATTACH_SEL_CTRL_DEATTACH:
            if (!attached(ns, id))
                return S_NS_NOT_ATTACHED;
            for (j = 0; j < ns->natt; j++)
                if (ns->att[j] == id)
                    ns->att[j] = ns->att[--ns->natt];
            break;
        default:
            return S_INVALID_FIELD;
        }
    }
    return 0;
}

/* Not in QEMU (0x4001 there); ns.c has it for nsmgmt=1. */
static int ns_mgmt(struct xm_pf *pf, struct xm_cmd *cmd)
{
    return xm_ns_mgmt(pf, cmd->cdw10, cmd->nsid, cmd->addr, cmd->data_len,
                      &cmd->result);
}

int xm_cmd_sub(const struct xm_cmd *cmd)
{
    switch (cmd->opcode) {
    case nvme_admin_virtual_mgmt:
    case nvme_admin_ns_attach:
    case nvme_admin_ns_mgmt:
        return cmd->cdw10 & 0xf;
    }
    return cmd->cdw10 & 0xff;
}

int xm_admin(struct xm_ctx *c, struct xm_pf *pf, uint16_t cntlid,
             bool is_vf, struct xm_cmd *cmd)
{
    cmd->result = 0;
    if (cmd->opcode == nvme_admin_identify)
        return identify(pf, cntlid, is_vf, cmd);
    if (is_vf)
        return S_INVALID_OPCODE;
    switch (cmd->opcode) {
    case nvme_admin_virtual_mgmt:
        return virt_mgmt(c, pf, cmd);
    case nvme_admin_ns_attach:
        return ns_attach(pf, cmd);
    case nvme_admin_ns_mgmt:
        return ns_mgmt(pf, cmd);
    case nvme_admin_get_log_page:
        return xm_ns_get_log(pf, cmd->cdw10, cmd->cdw12, cmd->cdw13,
                             cmd->addr, cmd->data_len);
    }
    return S_INVALID_OPCODE;
}

/* QEMU's nvme_virt_set_state(false) of every secondary: zeroes them */
static void all_offline(struct xm_pf *pf)
{
    unsigned int i;

    for (i = 0; i < pf->nsec; i++) {
        pf->sec[i].scs = 0;
        pf->sec[i].nvq = 0;
        pf->sec[i].nvi = 0;
    }
    pf->resets++;
}

/*
 * nvme_ctrl_reset(NVME_RESET_CONTROLLER) of the primary in QEMU: every
 * secondary goes offline and loses its resources. A primary flexible
 * allocation does not take effect (QEMU applies it at a function level
 * reset only, xm_pf_flr()).
 */
int xm_ctrl_reset(struct xm_ctx *c, const char *rel)
{
    char name[64];
    struct xm_pf *pf;
    uint16_t cntlid;
    bool is_vf;
    int r;

    r = xm_ctrl_attr(c, rel, "reset_controller", name, sizeof(name), &pf,
                     &cntlid, &is_vf);
    if (r)
        return r;
    if (!is_vf)
        all_offline(pf);
    return 0;
}

/*
 * nvme_ctrl_reset(NVME_RESET_FUNCTION) of the primary: as a controller
 * reset, and nvme_activate_virt_res() makes a primary flexible allocation
 * (action 1) take effect. The kernel restores VF Enable afterwards.
 */
int xm_pf_flr(struct xm_ctx *c, struct xm_pf *pf)
{
    (void)c;
    all_offline(pf);
    pf->vqrfap = pf->vqrfap_next;
    pf->virfap = pf->virfap_next;
    return 0;
}
