/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/journal.h"
#include "layout/internal.h"
#include "pci/sriov.h"
#include "util/str.h"

static uint64_t le128_to_u64(const uint8_t b[16])
{
    uint64_t v = 0;
    int i;

    for (i = 15; i >= 8; i--)
        if (b[i])
            return UINT64_MAX;
    for (i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static unsigned int flbas_index(uint8_t flbas)
{
    return (flbas & 0xf) | ((flbas >> 1) & 0x30);
}

static void lbafs_from_id(struct xvf_layout_state *st,
                          const struct nvme_id_ns *id, const char *from)
{
    unsigned int i, n = id->nlbaf + 1u;

    if (n > XVF_LAYOUT_MAX_LBAF)
        n = XVF_LAYOUT_MAX_LBAF;
    for (i = 0; i < n; i++) {
        st->lbaf[i].ms = le16toh(id->lbaf[i].ms);
        st->lbaf[i].lbads = id->lbaf[i].ds;
        st->lbaf[i].rp = id->lbaf[i].rp & 3;
    }
    st->nlbaf = n;
    snprintf(st->lbaf_from, sizeof(st->lbaf_from), "%s", from);
}

static int read_namespaces(int fd, struct xvf_layout_state *st,
                           struct xvf_err *err)
{
    uint32_t ids[XVF_LAYOUT_MAX_NS];
    uint16_t ctrls[NVME_ID_CTRL_LIST_MAX];
    bool mgmt = st->oacs & NVME_CTRL_OACS_NS_MGMT;
    struct nvme_id_ns id;
    unsigned int i, j, n, nc;
    int r;

    r = xvf_nvme_ns_list(fd, mgmt, ids, XVF_LAYOUT_MAX_NS, &n, err);
    if (r)
        return r;
    for (i = 0; i < n; i++) {
        struct xvf_layout_ns *ns = &st->ns[st->nns];

        r = xvf_nvme_identify_ns(fd, ids[i], mgmt, &id, err);
        if (r)
            return r;
        if (!le64toh(id.nsze))
            continue;
        memset(ns, 0, sizeof(*ns));
        ns->nsid = ids[i];
        ns->nsze = le64toh(id.nsze);
        ns->ncap = le64toh(id.ncap);
        ns->nuse = le64toh(id.nuse);
        ns->flbas = flbas_index(id.flbas);
        if (ns->flbas > id.nlbaf || ns->flbas >= 64)
            return xvf_err_set(err, -EIO, "namespace %u: LBA format %u "
                               "in use but only %u reported", ns->nsid,
                               ns->flbas, id.nlbaf + 1u);
        ns->lbads = id.lbaf[ns->flbas].ds;
        ns->ms = le16toh(id.lbaf[ns->flbas].ms);
        ns->nmic = id.nmic;
        if (ns->lbads < 9 || ns->lbads > 16)
            return xvf_err_set(err, -EIO, "namespace %u: LBA data size "
                               "2^%u bytes", ns->nsid, ns->lbads);
        if (!st->nlbaf) {
            char from[8];

            snprintf(from, sizeof(from), "ns%u", ns->nsid);
            lbafs_from_id(st, &id, from);
        }
        if (mgmt) {
            r = xvf_nvme_ns_ctrls(fd, ns->nsid, ctrls, &nc, err);
            if (r)
                return r;
            for (j = 0; j < nc && j < XVF_LAYOUT_MAX_ATT; j++)
                ns->att[j] = ctrls[j];
            ns->natt = j;
        } else {
            ns->att[0] = st->cntlid;
            ns->natt = 1;
        }
        st->nns++;
    }
    return 0;
}

static void read_effects(int fd, struct xvf_layout_state *st)
{
    struct nvme_cmd_effects_log *log;
    struct xvf_err ignored = { 0 };

    if (!(st->oacs & NVME_CTRL_OACS_NS_MGMT)) {
        st->nsmgmt = XVF_NSMGMT_NO;
        return;
    }
    st->nsmgmt = XVF_NSMGMT_UNVERIFIED;
    if (!(st->lpa & NVME_CTRL_LPA_CMD_EFFECTS))
        return;
    log = malloc(sizeof(*log));
    if (!log)
        return;
    if (!xvf_nvme_cmd_effects(fd, log, &ignored))
        st->nsmgmt = le32toh(log->acs[nvme_admin_ns_mgmt]) &
                     NVME_CMD_EFFECTS_CSUPP ? XVF_NSMGMT_YES :
                     XVF_NSMGMT_FAKE;
    free(log);
}

static void read_granularity(int fd, struct xvf_layout_state *st)
{
    struct nvme_id_ns_granularity_list *g;
    struct xvf_err ignored = { 0 };
    unsigned int i, n;
    uint64_t v;

    if (!(st->ctratt & NVME_CTRL_CTRATT_NAMESPACE_GRANULARITY))
        return;
    g = malloc(sizeof(*g));
    if (!g)
        return;
    if (!xvf_nvme_ns_granularity(fd, g, &ignored)) {
        /* one descriptor per LBA format when bit 0 is set: the coarsest
           applies to every format, which is always safe */
        n = g->num_descriptors + 1u;
        if (n > NVME_ID_ND_DESCRIPTOR_MAX)
            n = NVME_ID_ND_DESCRIPTOR_MAX;
        for (i = 0; i < n; i++) {
            v = le64toh(g->entry[i].nszegran);
            if (v > st->nszeg)
                st->nszeg = v;
            v = le64toh(g->entry[i].ncapgran);
            if (v > st->ncapg)
                st->ncapg = v;
        }
    }
    free(g);
}

static int read_secondaries(int fd, const struct xvf_nvme_pf *pf,
                            struct xvf_layout_state *st, struct xvf_err *err)
{
    struct xvf_nvme_secondary *sec;
    unsigned int i, n = 0;
    int r;

    if (!(st->oacs & NVME_CTRL_OACS_VIRT_MGMT))
        return 0;
    sec = calloc(XVF_NVME_MAX_SECONDARIES, sizeof(*sec));
    if (!sec)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    r = xvf_nvme_secondaries(fd, 0, sec, &n, err);
    if (!r) {
        for (i = 0; i < n; i++) {
            struct xvf_layout_sec *s = &st->sec[i];

            memset(s, 0, sizeof(*s));
            s->scid = sec[i].scid;
            s->vfn = sec[i].vfn;
            s->online = sec[i].online;
            xvf_sriov_vf_driver(pf->bdf, s->vfn, s->vf, s->driver,
                                sizeof(s->driver));
        }
        st->nsec = n;
    }
    free(sec);
    return r;
}

struct xvf_layout_ns *xvf_layout_state_ns(struct xvf_layout_state *st,
                                          uint32_t nsid)
{
    unsigned int i;

    for (i = 0; i < st->nns; i++)
        if (st->ns[i].nsid == nsid)
            return &st->ns[i];
    return NULL;
}

const struct xvf_layout_sec *xvf_layout_state_sec(
    const struct xvf_layout_state *st, uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < st->nsec; i++)
        if (st->sec[i].scid == scid)
            return &st->sec[i];
    return NULL;
}

static void read_journal(const char *dir, const char *bdf,
                         struct xvf_layout_state *st)
{
    struct xvf_entry *list = NULL;
    struct xvf_layout_ns *ns;
    unsigned int i, j, n;
    char who[64];

    if (!dir || xvf_journal_list(dir, bdf, &list, &n))
        return;
    for (i = 0; i < n; i++) {
        if (list[i].cls != XVF_CLASS_NVME)
            continue;
        snprintf(who, sizeof(who), "%.30s: VF %.16s", list[i].owner,
                 list[i].vf[0] ? list[i].vf : "-");
        ns = xvf_layout_state_ns(st, list[i].nsid);
        if (ns)
            snprintf(ns->held, sizeof(ns->held), "%s", who);
        for (j = 0; j < st->nsec; j++)
            if (st->sec[j].scid == list[i].scid)
                snprintf(st->sec[j].held, sizeof(st->sec[j].held), "%s",
                         who);
    }
    free(list);
}

int xvf_layout_read(const struct xvf_nvme_pf *pf, const char *state_dir,
                    struct xvf_layout_state *st, struct xvf_err *err)
{
    struct nvme_id_ctrl *id;
    struct nvme_id_ns *ns;
    int fd = -1, r;

    memset(st, 0, sizeof(*st));
    id = malloc(sizeof(*id));
    ns = malloc(sizeof(*ns));
    if (!id || !ns) {
        r = xvf_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    snprintf(st->ctrl, sizeof(st->ctrl), "%s", pf->ctrl);
    snprintf(st->bdf, sizeof(st->bdf), "%s", pf->bdf);
    r = xvf_nvme_open(pf, &fd, err);
    if (r)
        goto out;
    r = xvf_nvme_identify_ctrl(fd, id, err);
    if (r)
        goto out;
    xvf_trim_copy(st->serial, sizeof(st->serial), id->sn, sizeof(id->sn));
    xvf_trim_copy(st->model, sizeof(st->model), id->mn, sizeof(id->mn));
    st->cntlid = le16toh(id->cntlid);
    st->oacs = le16toh(id->oacs);
    st->ctratt = le32toh(id->ctratt);
    st->lpa = id->lpa;
    st->nn = le32toh(id->nn);
    st->tnvmcap = le128_to_u64(id->tnvmcap);
    st->unvmcap = le128_to_u64(id->unvmcap);
    read_effects(fd, st);
    read_granularity(fd, st);
    if (st->nsmgmt == XVF_NSMGMT_YES || st->nsmgmt == XVF_NSMGMT_UNVERIFIED) {
        struct xvf_err ignored = { 0 };

        if (!xvf_nvme_identify_ns(fd, NVME_NSID_ALL, false, ns, &ignored))
            lbafs_from_id(st, ns, "common");
    }
    r = read_namespaces(fd, st, err);
    if (r)
        goto out;
    r = read_secondaries(fd, pf, st, err);
    if (r)
        goto out;
    read_journal(state_dir, pf->bdf, st);
    xvf_layout_read_use(pf, st);
out:
    if (fd >= 0)
        close(fd);
    free(id);
    free(ns);
    return r;
}
