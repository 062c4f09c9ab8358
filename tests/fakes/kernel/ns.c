/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Namespace Management as a controller that implements it would answer
 * (QEMU does not: with nsmgmt=0 it is Invalid Command Opcode, and the
 * Commands Supported and Effects log does not list it, as in QEMU 10),
 * the Identify fields a namespace layout needs (capacity, granularity, LBA
 * formats, NUSE), and the kernel's block devices for attached namespaces:
 * with native multipath, as Debian's kernels have it, a path node
 * nvme<S>c<K>n<N> under controller nvmeK and the disk nvme<S>nN under
 * sys/devices/virtual/nvme-subsystem/nvme-subsys<S> (S = the PF's index,
 * the disk's minor = S * 1024 + NSID), each with an "nsid" attribute,
 * and dev/nvme<S>nN as a regular file.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/types.h>

#include "internal.h"

#define UNSET UINT_MAX
#define DNR NVME_SC_DNR
#define SC(sct, sc) ((NVME_SCT_##sct << NVME_SCT_SHIFT) | NVME_SC_##sc | DNR)

/* QEMU 10's formats: 512 and 4096 bytes, with 0/8/16/64 metadata bytes */
#define QEMU_LBAFS "9:0,9:8,9:16,9:64,12:0,12:8,12:16,12:64"
#define MAX_LBAF 16

struct lbaf {
    unsigned int ds, ms;
};

void xm_ns_pf_defaults(struct xm_pf *pf)
{
    if (pf->capmib == UNSET)
        pf->capmib = 0;
    if (pf->gran_kib == UNSET)
        pf->gran_kib = 0;
    if (pf->thin == UNSET)
        pf->thin = 0;
    if (pf->aen == UNSET)
        pf->aen = 1;
    if (pf->rescan == UNSET)
        pf->rescan = 1;
    if (pf->effects == UNSET)
        pf->effects = 1;
    if (!pf->lbafs[0])
        strcpy(pf->lbafs, QEMU_LBAFS);
}

static unsigned int lbafs(const struct xm_pf *pf, struct lbaf *out)
{
    const char *p = pf->lbafs;
    unsigned int n = 0, ds, ms;
    int used;

    while (n < MAX_LBAF && sscanf(p, "%u:%u%n", &ds, &ms, &used) == 2) {
        out[n].ds = ds;
        out[n].ms = ms;
        n++;
        p += used;
        if (*p != ',')
            break;
        p++;
    }
    if (!n) {
        out[0].ds = 9;
        out[0].ms = 0;
        n = 1;
    }
    return n;
}

static unsigned int ns_lbads(const struct xm_pf *pf, const struct xm_ns *ns)
{
    struct lbaf f[MAX_LBAF];
    unsigned int n = lbafs(pf, f);

    return ns->flbas < n ? f[ns->flbas].ds : 9;
}

static uint64_t allocated(const struct xm_pf *pf)
{
    uint64_t sum = 0;
    unsigned int i;

    for (i = 0; i < pf->nns; i++)
        sum += pf->ns[i].nsze << ns_lbads(pf, &pf->ns[i]);
    return sum;
}

static void put_le128(uint8_t out[16], uint64_t v)
{
    unsigned int i;

    memset(out, 0, 16);
    for (i = 0; i < 8; i++)
        out[i] = v >> (8 * i);
}

static void to_host(void *addr, uint32_t data_len, const void *data,
                    size_t len)
{
    if (!addr)
        return;
    memcpy(addr, data, len < data_len ? len : data_len);
}

void xm_ns_ctrl_fields(const struct xm_pf *pf, struct nvme_id_ctrl *id)
{
    uint64_t cap = (uint64_t)pf->capmib << 20, used = allocated(pf);

    put_le128(id->tnvmcap, cap);
    put_le128(id->unvmcap, cap > used ? cap - used : 0);
    id->ctratt = htole32(pf->gran_kib ?
                         NVME_CTRL_CTRATT_NAMESPACE_GRANULARITY : 0);
    /* QEMU: SMART per namespace, effects log, extended data */
    id->lpa = pf->effects ? 0x7 : 0x5;
}

static void fill_lbafs(const struct xm_pf *pf, struct nvme_id_ns *id)
{
    struct lbaf f[MAX_LBAF];
    unsigned int i, n = lbafs(pf, f);

    id->nlbaf = n - 1;
    for (i = 0; i < n; i++) {
        id->lbaf[i].ds = f[i].ds;
        id->lbaf[i].ms = htole16(f[i].ms);
    }
    id->nsfeat = pf->thin ? NVME_NS_FEAT_THIN : 0;
}

void xm_ns_id_fields(const struct xm_pf *pf, const struct xm_ns *ns,
                     struct nvme_id_ns *id)
{
    fill_lbafs(pf, id);
    id->nsze = htole64(ns->nsze);
    id->ncap = htole64(ns->nsze);
    id->nuse = htole64(ns->nuse);
    id->flbas = ns->flbas & 0xf;
    id->nmic = ns->shared ? 1 : 0;
}

/* Identify Namespace FFFFFFFFh: only with Namespace Management */
int xm_ns_id_common(struct xm_pf *pf, void *addr, uint32_t data_len)
{
    static struct nvme_id_ns id;

    if (!pf->nsmgmt)
        return SC(GENERIC, INVALID_NS);
    memset(&id, 0, sizeof(id));
    fill_lbafs(pf, &id);
    to_host(addr, data_len, &id, sizeof(id));
    return 0;
}

int xm_ns_id_granularity(struct xm_pf *pf, void *addr, uint32_t data_len)
{
    static struct nvme_id_ns_granularity_list g;

    if (!pf->gran_kib)
        return SC(GENERIC, INVALID_FIELD);
    memset(&g, 0, sizeof(g));
    g.num_descriptors = 0;      /* 0's based: one for every format */
    g.entry[0].nszegran = htole64((uint64_t)pf->gran_kib << 10);
    g.entry[0].ncapgran = htole64((uint64_t)pf->gran_kib << 10);
    to_host(addr, data_len, &g, sizeof(g));
    return 0;
}

int xm_ns_get_log(struct xm_pf *pf, uint32_t cdw10, uint32_t cdw12,
                  uint32_t cdw13, void *addr, uint32_t data_len)
{
    static struct nvme_cmd_effects_log log;
    uint64_t off = (uint64_t)cdw13 << 32 | cdw12;
    const uint32_t csupp = htole32(NVME_CMD_EFFECTS_CSUPP);

    if ((cdw10 & 0xff) != NVME_LOG_LID_CMD_EFFECTS || !pf->effects ||
        off >= sizeof(log))
        return SC(CMD_SPECIFIC, INVALID_LOG_PAGE);
    memset(&log, 0, sizeof(log));
    log.acs[nvme_admin_get_log_page] = csupp;
    log.acs[nvme_admin_identify] = csupp;
    if (pf->oacs & XM_OACS_NS_MGMT)
        log.acs[nvme_admin_ns_attach] = csupp;
    if (pf->oacs & XM_OACS_VIRT_MGMT)
        log.acs[nvme_admin_virtual_mgmt] = csupp;
    if (pf->nsmgmt)
        log.acs[nvme_admin_ns_mgmt] = csupp;
    to_host(addr, data_len, (char *)&log + off, sizeof(log) - off);
    return 0;
}

/*
 * Not in QEMU (Invalid Command Opcode there); with nsmgmt=1: the lowest
 * free NSID, the capacity (capmib=, 0 = unlimited) and the size
 * granularity (gran_kib=) enforced, NUSE 0 on a thin-provisioned
 * controller (thin=1) and NSZE otherwise.
 */
int xm_ns_mgmt(struct xm_pf *pf, uint32_t cdw10, uint32_t nsid,
               const void *addr, uint32_t data_len, uint32_t *result)
{
    static struct nvme_id_ns id;
    struct lbaf f[MAX_LBAF];
    unsigned int sel = cdw10 & 0xf, fmt, n;
    uint64_t bytes;
    struct xm_ns *ns;
    uint32_t free_id;

    if (!pf->nsmgmt)
        return SC(GENERIC, INVALID_OPCODE);
    switch (sel) {
    case NVME_NS_MGMT_SEL_CREATE:
        memset(&id, 0, sizeof(id));
        if (addr)
            memcpy(&id, addr, data_len < sizeof(id) ? data_len :
                   sizeof(id));
        n = lbafs(pf, f);
        fmt = id.flbas & 0xf;
        if (fmt >= n)
            return SC(CMD_SPECIFIC, INVALID_FORMAT);
        if (!le64toh(id.nsze) || le64toh(id.ncap) > le64toh(id.nsze))
            return SC(GENERIC, INVALID_FIELD);
        bytes = le64toh(id.nsze) << f[fmt].ds;
        if (pf->gran_kib && bytes % ((uint64_t)pf->gran_kib << 10))
            return SC(GENERIC, INVALID_FIELD);
        if (pf->capmib && allocated(pf) + bytes > (uint64_t)pf->capmib << 20)
            return SC(CMD_SPECIFIC, NS_INSUFFICIENT_CAP);
        for (free_id = 1; free_id <= pf->nn && xm_ns_by_id(pf, free_id);
             free_id++)
            ;
        if (free_id > pf->nn || pf->nns >= XM_MAX_NS)
            return SC(CMD_SPECIFIC, NS_ID_UNAVAILABLE);
        ns = &pf->ns[pf->nns++];
        memset(ns, 0, sizeof(*ns));
        ns->nsid = free_id;
        ns->nsze = le64toh(id.nsze);
        ns->nuse = pf->thin ? 0 : ns->nsze;
        ns->flbas = fmt;
        ns->shared = id.nmic & 1;
        *result = free_id;
        return 0;
    case NVME_NS_MGMT_SEL_DELETE:
        if (nsid == NVME_NSID_ALL) {
            pf->nns = 0;
            return 0;
        }
        ns = nsid && nsid <= pf->nn ? xm_ns_by_id(pf, nsid) : NULL;
        if (!ns)
            return SC(GENERIC, INVALID_NS);
        *ns = pf->ns[--pf->nns];
        return 0;
    }
    return SC(GENERIC, INVALID_FIELD);
}

/* ---- block devices ---------------------------------------------------- */

static int put(struct xm_ctx *c, const char *content, mode_t mode,
               const char *rel)
{
    char path[XM_PATH];
    int r = xm_pathf(c, path, sizeof(path), "%s", rel);

    if (!r)
        r = xm_write_file(path, content, mode);
    if (!r && chmod(path, mode))
        r = -errno;
    return r;
}

static int mkdirs(struct xm_ctx *c, const char *rel)
{
    char path[XM_PATH], *p;
    size_t rlen = strlen(c->root);
    int r = xm_pathf(c, path, sizeof(path), "%s", rel);

    if (r)
        return r;
    for (p = path + rlen + 1; ; p++) {
        if (*p && *p != '/')
            continue;
        if (!*p) {
            if (mkdir(path, 0755) && errno != EEXIST)
                return -errno;
            break;
        }
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    return 0;
}

static void rm(struct xm_ctx *c, const char *rel)
{
    char path[XM_PATH];

    if (!xm_pathf(c, path, sizeof(path), "%s", rel))
        xm_rm_rf(path);
}

static bool exists(struct xm_ctx *c, const char *rel)
{
    char path[XM_PATH];
    struct stat st;

    return !xm_pathf(c, path, sizeof(path), "%s", rel) &&
           !lstat(path, &st);
}

int xm_ns_build(struct xm_ctx *c)
{
    int r;

    r = mkdirs(c, "sys/block");
    if (!r)
        r = mkdirs(c, "sys/class/block");
    if (!r)
        r = mkdirs(c, "sys/devices/virtual/nvme-subsystem");
    if (!r)
        r = mkdirs(c, "proc/self");
    if (!r)
        r = put(c, "", 0444, "proc/self/mountinfo");
    if (!r)
        r = put(c, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
                0444, "proc/swaps");
    return r;
}

static bool attached(const struct xm_ns *ns, uint16_t cntlid)
{
    unsigned int i;

    for (i = 0; i < ns->natt; i++)
        if (ns->att[i] == cntlid)
            return true;
    return false;
}

/* The path nodes of controller @name match what it is attached to. */
static void sync_ctrl(struct xm_ctx *c, const char *name, struct xm_pf *pf,
                      uint16_t cntlid)
{
    unsigned int s = pf - c->m->pf, k, i, ps, pk, pn;
    char rel[XM_PATH], val[32];
    struct dirent *de;
    char path[XM_PATH];
    int end;
    DIR *d;

    if (sscanf(name, "nvme%u", &k) != 1)
        return;
    snprintf(rel, sizeof(rel), "sys/class/nvme/%s/rescan_controller", name);
    if (!exists(c, rel))
        put(c, "", 0200, rel);
    for (i = 0; i < pf->nns; i++) {
        if (!attached(&pf->ns[i], cntlid))
            continue;
        snprintf(rel, sizeof(rel), "sys/class/nvme/%s/nvme%uc%un%u", name,
                 s, k, pf->ns[i].nsid);
        if (exists(c, rel))
            continue;
        mkdirs(c, rel);
        snprintf(val, sizeof(val), "%u\n", pf->ns[i].nsid);
        snprintf(rel + strlen(rel), sizeof(rel) - strlen(rel), "/nsid");
        put(c, val, 0444, rel);
    }
    if (xm_pathf(c, path, sizeof(path), "sys/class/nvme/%s", name))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        struct xm_ns *ns;

        end = 0;
        if (sscanf(de->d_name, "nvme%uc%un%u%n", &ps, &pk, &pn, &end) != 3
            || de->d_name[end])
            continue;
        ns = xm_ns_by_id(pf, pn);
        if (ns && attached(ns, cntlid) && ps == s && pk == k)
            continue;
        snprintf(rel, sizeof(rel), "sys/class/nvme/%s/%s", name,
                 de->d_name);
        rm(c, rel);
    }
    closedir(d);
}

/* Namespace @nsid of PF @s has a path node on some controller. */
static bool has_path(struct xm_ctx *c, unsigned int s, uint32_t nsid)
{
    char path[XM_PATH], rel[128];
    struct dirent *de;
    unsigned int k;
    bool found = false;
    DIR *d;

    if (xm_pathf(c, path, sizeof(path), "sys/class/nvme"))
        return false;
    d = opendir(path);
    if (!d)
        return false;
    while (!found && (de = readdir(d))) {
        if (sscanf(de->d_name, "nvme%u", &k) != 1)
            continue;
        snprintf(rel, sizeof(rel), "sys/class/nvme/%.40s/nvme%uc%un%u",
                 de->d_name, s, k, nsid);
        found = exists(c, rel);
    }
    closedir(d);
    return found;
}

static void add_head(struct xm_ctx *c, unsigned int s,
                     const struct xm_ns *ns)
{
    const struct xm_pf *pf = &c->m->pf[s];
    char rel[256], sub[320], val[64], name[48], target[200];
    char path[XM_PATH];

    snprintf(name, sizeof(name), "nvme%un%u", s, ns->nsid);
    snprintf(rel, sizeof(rel), "sys/devices/virtual/nvme-subsystem/"
             "nvme-subsys%u/%s", s, name);
    if (exists(c, rel))
        return;
    snprintf(sub, sizeof(sub), "%s/holders", rel);
    mkdirs(c, sub);
    snprintf(sub, sizeof(sub), "%s/nsid", rel);
    snprintf(val, sizeof(val), "%u\n", ns->nsid);
    put(c, val, 0444, sub);
    snprintf(sub, sizeof(sub), "%s/dev", rel);
    snprintf(val, sizeof(val), "259:%u\n", s * 1024 + ns->nsid);
    put(c, val, 0444, sub);
    snprintf(sub, sizeof(sub), "%s/size", rel);
    snprintf(val, sizeof(val), "%llu\n", (unsigned long long)
             (ns->nsze << ns_lbads(pf, ns) >> 9));
    put(c, val, 0444, sub);
    snprintf(target, sizeof(target), "../../devices/virtual/nvme-subsystem/"
             "nvme-subsys%u/%s", s, name);
    if (!xm_pathf(c, path, sizeof(path), "sys/block/%s", name) &&
        symlink(target + 3, path))
        return;
    if (!xm_pathf(c, path, sizeof(path), "sys/class/block/%s", name) &&
        symlink(target, path))
        return;
    snprintf(sub, sizeof(sub), "dev/%s", name);
    if (!exists(c, sub))
        put(c, "", 0600, sub);
}

static void sync_heads(struct xm_ctx *c, unsigned int s)
{
    struct xm_pf *pf = &c->m->pf[s];
    char dir[128], rel[320], path[XM_PATH];
    struct dirent *de;
    unsigned int i, ps, pn;
    int end;
    DIR *d;

    for (i = 0; i < pf->nns; i++)
        if (has_path(c, s, pf->ns[i].nsid))
            add_head(c, s, &pf->ns[i]);
    snprintf(dir, sizeof(dir), "sys/devices/virtual/nvme-subsystem/"
             "nvme-subsys%u", s);
    if (xm_pathf(c, path, sizeof(path), "%s", dir))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        end = 0;
        if (sscanf(de->d_name, "nvme%un%u%n", &ps, &pn, &end) != 2 ||
            de->d_name[end] || strlen(de->d_name) > 40 ||
            (ps == s && has_path(c, s, pn)))
            continue;
        if (snprintf(rel, sizeof(rel), "%s/%s", dir, de->d_name) <
            (int)sizeof(rel))
            rm(c, rel);
        if (snprintf(rel, sizeof(rel), "sys/block/%s", de->d_name) <
            (int)sizeof(rel))
            rm(c, rel);
        snprintf(rel, sizeof(rel), "sys/class/block/%s", de->d_name);
        rm(c, rel);
        snprintf(rel, sizeof(rel), "dev/%s", de->d_name);
        rm(c, rel);
    }
    closedir(d);
}

/*
 * The kernel's view after an event: @event is a Namespace Attribute
 * Changed notice (lost on a PF with aen=0), otherwise a probe or a rescan
 * of every controller of @only (NULL: all PFs).
 */
void xm_ns_sync(struct xm_ctx *c, const struct xm_pf *only, bool event)
{
    char path[XM_PATH];
    struct dirent *de;
    struct xm_pf *pf;
    uint16_t cntlid;
    unsigned int i;
    bool is_vf;
    DIR *d;

    if (xm_pathf(c, path, sizeof(path), "sys/class/nvme"))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            xm_ctrl_target(c, de->d_name, &pf, &cntlid, &is_vf) ||
            (only && pf != only) || (event && !pf->aen))
            continue;
        sync_ctrl(c, de->d_name, pf, cntlid);
    }
    closedir(d);
    for (i = 0; i < c->m->npf; i++)
        if (!c->m->pf[i].nic && (!only || &c->m->pf[i] == only) &&
            (!event || c->m->pf[i].aen))
            sync_heads(c, i);
}

/* rescan_controller: 0 when it was that attribute, 1 otherwise */
int xm_ns_store(struct xm_ctx *c, const char *rel)
{
    char name[64];
    struct xm_pf *pf;
    uint16_t cntlid;
    bool is_vf;
    int r;

    r = xm_ctrl_attr(c, rel, "rescan_controller", name, sizeof(name), &pf,
                     &cntlid, &is_vf);
    if (r)
        return r;
    if (pf->rescan) {
        sync_ctrl(c, name, pf, cntlid);
        sync_heads(c, pf - c->m->pf);
    }
    return 0;
}
