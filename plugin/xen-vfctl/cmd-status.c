/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vfctl status [--json] - the PFs with SR-IOV (NVMe PFs with their
 * secondary controllers, NIC PFs with their VFs) and the journal
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if.h>

#include "engine/journal.h"
#include "net/netlink.h"
#include "nvme/nvme.h"
#include "pci/device.h"
#include "pci/sriov.h"
#include "util/sysfs.h"
#include "util/clock.h"
#include "vfctl.h"

struct pf_status {
    struct xvf_nvme_pf pf;
    unsigned int totalvfs, numvfs, autoprobe;
    bool have_caps;
    struct xvf_nvme_caps caps;
    struct xvf_nvme_secondary sec[XVF_NVME_MAX_SECONDARIES];
    unsigned int nsec;
    char error[XVF_ERR_MSG_MAX];
};

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* "" stands for "not known": null, not an empty string */
static void json_str_or_null(const char *s)
{
    if (s[0])
        json_str(s);
    else
        printf("null");
}

static void collect_pf(const char *ctrl, struct pf_status *st)
{
    char path[PATH_MAX], bdf[XVF_BDF_LEN];
    struct xvf_err err = { 0 };
    int fd = -1;

    memset(st, 0, sizeof(*st));
    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s/device", ctrl) ||
        xvf_sysfs_link_name(path, bdf, sizeof(bdf)) ||
        xvf_nvme_pf_from_bdf(bdf, &st->pf, &err) ||
        xvf_sriov_totalvfs(bdf, &st->totalvfs)) {
        st->pf.ctrl[0] = '\0';
        return;
    }
    xvf_sriov_numvfs(bdf, &st->numvfs);
    xvf_sriov_autoprobe(bdf, &st->autoprobe);
    if (!xvf_nvme_open(&st->pf, &fd, &err) &&
        !xvf_nvme_caps(fd, &st->caps, &err)) {
        st->have_caps = true;
        xvf_nvme_secondaries(fd, 0, st->sec, &st->nsec, &err);
    }
    if (err.code)
        snprintf(st->error, sizeof(st->error), "%s", err.msg);
    if (fd >= 0)
        close(fd);
}

static void free_res(const struct pf_status *st, uint32_t *vq, uint32_t *vi)
{
    uint32_t uq = st->caps.vq_primary, ui = st->caps.vi_primary;
    unsigned int i;

    for (i = 0; i < st->nsec; i++) {
        uq += st->sec[i].nvq;
        ui += st->sec[i].nvi;
    }
    *vq = st->caps.vq_total > uq ? st->caps.vq_total - uq : 0;
    *vi = st->caps.vi_total > ui ? st->caps.vi_total - ui : 0;
}

static void print_pf(const struct pf_status *st, bool json, bool first)
{
    char vf[XVF_BDF_LEN], drv[64];
    uint32_t vq_free, vi_free;
    unsigned int i;

    free_res(st, &vq_free, &vi_free);
    if (json) {
        printf("%s{\"bdf\":", first ? "" : ",");
        json_str(st->pf.bdf);
        printf(",\"name\":");
        json_str(st->pf.ctrl);
        printf(",\"class\":\"nvme\",\"serial\":");
        json_str(st->pf.serial);
        printf(",\"totalvfs\":%u,\"numvfs\":%u,\"autoprobe\":%u",
               st->totalvfs, st->numvfs, st->autoprobe);
        if (st->have_caps)
            printf(",\"cntlid\":%u,\"vq\":{\"total\":%u,\"free\":%u},"
                   "\"vi\":{\"total\":%u,\"free\":%u}", st->caps.cntlid,
                   st->caps.vq_total, vq_free, st->caps.vi_total, vi_free);
        if (st->error[0]) {
            printf(",\"error\":");
            json_str(st->error);
        }
        printf(",\"secondaries\":[");
    } else {
        char desc[256];

        if (xvf_pci_describe(st->pf.bdf, desc, sizeof(desc)))
            desc[0] = '\0';
        printf("PF %s %s (%s) serial %s: VFs %u/%u, autoprobe %u\n",
               st->pf.bdf, st->pf.ctrl, desc,
               st->pf.serial[0] ? st->pf.serial : "-", st->numvfs,
               st->totalvfs, st->autoprobe);
        if (st->have_caps)
            printf("  primary 0x%x, flexible VQ %u (%u free), VI %u "
                   "(%u free)\n", st->caps.cntlid, st->caps.vq_total,
                   vq_free, st->caps.vi_total, vi_free);
        if (st->error[0])
            printf("  error: %s\n", st->error);
    }
    for (i = 0; i < st->nsec; i++) {
        const struct xvf_nvme_secondary *s = &st->sec[i];

        xvf_sriov_vf_driver(st->pf.bdf, s->vfn, vf, drv, sizeof(drv));
        if (json) {
            printf("%s{\"scid\":%u,\"vfn\":%u,\"state\":\"%s\","
                   "\"nvq\":%u,\"nvi\":%u,\"vf\":", i ? "," : "", s->scid,
                   s->vfn, s->online ? "online" : "offline", s->nvq,
                   s->nvi);
            json_str_or_null(vf);
            printf(",\"driver\":");
            json_str_or_null(drv);
            printf("}");
        } else {
            printf("  secondary 0x%x VF %u %-7s VQ %u VI %u  %s%s%s\n",
                   s->scid, s->vfn, s->online ? "online" : "offline",
                   s->nvq, s->nvi, vf[0] ? vf : "(VF not enabled)",
                   drv[0] ? " driver " : "", drv);
        }
    }
    if (json)
        printf("]}");
}

/* The NVMe PFs: controllers on a PCI function with SR-IOV; @st is scratch */
static unsigned int print_nvme_pfs(struct pf_status *st, bool json)
{
    char path[PATH_MAX];
    struct dirent *de;
    unsigned int npf = 0;
    DIR *d;

    if (xvf_path(path, sizeof(path), "/sys/class/nvme") ||
        !(d = opendir(path)))
        return 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        collect_pf(de->d_name, st);
        if (!st->pf.ctrl[0])
            continue;
        print_pf(st, json, !npf++);
    }
    closedir(d);
    return npf;
}

static void print_nic_vf(const char *pf, const struct xvf_nl_vf *v,
                         bool json, bool first)
{
    char vf[XVF_BDF_LEN], drv[64], mac[18];

    xvf_sriov_vf_driver(pf, v->vf + 1, vf, drv, sizeof(drv));
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0],
             v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
    if (json) {
        printf("%s{\"vf\":%u,\"bdf\":", first ? "" : ",", v->vf);
        json_str_or_null(vf);
        printf(",\"driver\":");
        json_str_or_null(drv);
        printf(",\"mac\":\"%s\",\"vlan\":%u,\"qos\":%u,\"rate\":%u,"
               "\"spoofchk\":%d,\"trust\":%d}", mac, v->vlan, v->qos,
               v->max_rate, v->spoofchk, v->trust);
        return;
    }
    printf("  VF %u %s %s%s mac %s vlan %u qos %u rate %u spoofchk %s "
           "trust %s\n", v->vf, vf[0] ? vf : "-", drv[0] ? "driver " : "",
           drv[0] ? drv : "unbound", mac, v->vlan, v->qos, v->max_rate,
           v->spoofchk < 0 ? "-" : v->spoofchk ? "on" : "off",
           v->trust < 0 ? "-" : v->trust ? "on" : "off");
}

/* The NIC PFs: netdevs of PCI functions with SR-IOV, their link and VFs */
static unsigned int print_nic_pfs(bool json, bool first)
{
    char path[PATH_MAX], bdf[XVF_BDF_LEN], phys[XVF_BDF_LEN];
    unsigned int totalvfs, numvfs = 0, autoprobe = 0, i, npf = 0;
    struct xvf_nl_link *link = NULL;
    struct xvf_nl *nl = NULL;
    struct dirent *de;
    DIR *d;
    int r;

    if (xvf_path(path, sizeof(path), "/sys/class/net") ||
        !(d = opendir(path)))
        return 0;
    link = malloc(sizeof(*link));
    while (link && (de = readdir(d))) {
        if (de->d_name[0] == '.' ||
            xvf_path(path, sizeof(path), "/sys/class/net/%s/device",
                     de->d_name) ||
            xvf_sysfs_link_name(path, bdf, sizeof(bdf)) ||
            !xvf_pci_physfn(bdf, phys) ||
            xvf_sriov_totalvfs(bdf, &totalvfs))
            continue;
        xvf_sriov_numvfs(bdf, &numvfs);
        xvf_sriov_autoprobe(bdf, &autoprobe);
        if (!nl && xvf_nl_open(&nl))
            nl = NULL;
        r = nl ? xvf_nl_get_link(nl, de->d_name, 0, link) : -ENOTCONN;
        if (json) {
            printf("%s{\"bdf\":", first && !npf ? "" : ",");
            json_str(bdf);
            printf(",\"name\":");
            json_str(de->d_name);
            printf(",\"class\":\"net\",\"totalvfs\":%u,\"numvfs\":%u,"
                   "\"autoprobe\":%u", totalvfs, numvfs, autoprobe);
            if (!r)
                printf(",\"up\":%s,\"running\":%s",
                       link->flags & IFF_UP ? "true" : "false",
                       link->flags & IFF_RUNNING ? "true" : "false");
            else
                printf(",\"error\":\"rtnetlink: %s\"", strerror(-r));
            printf(",\"vfs\":[");
        } else {
            printf("NIC PF %s %s: %s, VFs %u/%u, autoprobe %u\n", bdf,
                   de->d_name, r ? strerror(-r) :
                   !(link->flags & IFF_UP) ? "down" :
                   link->flags & IFF_RUNNING ? "up" : "up, no carrier",
                   numvfs, totalvfs, autoprobe);
        }
        for (i = 0; !r && i < link->nvfs; i++)
            print_nic_vf(bdf, &link->vfs[i], json, !i);
        if (json)
            printf("]}");
        npf++;
    }
    closedir(d);
    free(link);
    xvf_nl_close(nl);
    return npf;
}

/* The last step a NIC entry began: how far a slow prepare has got. */
static const char *nic_step(const struct xvf_entry *e)
{
    if (e->state == XVF_ENTRY_READY)
        return NULL;
    return e->steps & XVF_STEP_BIND ? "bind" :
           e->steps & XVF_STEP_VFCONFIG ? "VF settings" :
           e->steps & XVF_STEP_NUMVFS ? "sriov_numvfs" : NULL;
}

/* why the entry's VF is lost (xvf_check_held()), or NULL */
static const char *lost_why(const struct xvf_entry *e,
                            const struct xvf_lost *lost, unsigned int nlost)
{
    unsigned int i;

    for (i = 0; i < nlost; i++)
        if (!strcmp(lost[i].vf, e->vf) && !strcmp(lost[i].owner, e->owner))
            return lost[i].why;
    return NULL;
}

static void print_journal_json(const struct xvf_entry *list, unsigned int n,
                               const struct xvf_lost *lost,
                               unsigned int nlost)
{
    const char *why;
    unsigned int i;

    for (i = 0; i < n; i++) {
        printf("%s{\"spec\":", i ? "," : "");
        json_str(list[i].spec);
        printf(",\"owner\":");
        json_str(list[i].owner);
        printf(",\"pf\":\"%s\",\"vf\":\"%s\",\"scid\":%u,\"nsid\":%u,"
               "\"state\":\"%s\",\"class\":\"%s\",\"vfn\":%u,"
               "\"steps\":%u,\"lost\":", list[i].pf, list[i].vf,
               list[i].scid, list[i].nsid,
               xvf_entry_state_name(list[i].state),
               list[i].cls == XVF_CLASS_NET ? "net" : "nvme",
               list[i].vfn, list[i].steps);
        why = lost_why(&list[i], lost, nlost);
        json_str_or_null(why ? why : "");
        printf("}");
    }
}

static void print_journal_text(const struct xvf_entry *list, unsigned int n,
                               const struct xvf_lost *lost,
                               unsigned int nlost)
{
    const char *why;
    unsigned int i;

    for (i = 0; i < n; i++) {
        const struct xvf_entry *e = &list[i];

        if (e->cls == XVF_CLASS_NET)
            printf("  %s for %s: VF %s (VF %u of %s), %s%s%s\n",
                   e->spec, e->owner, e->vf[0] ? e->vf : "-", e->vfn - 1,
                   e->pf, xvf_entry_state_name(e->state),
                   nic_step(e) ? ", at step " : "",
                   nic_step(e) ? nic_step(e) : "");
        else
            printf("  %s for %s: VF %s secondary 0x%x ns %u, %s\n",
                   e->spec, e->owner, e->vf, e->scid, e->nsid,
                   xvf_entry_state_name(e->state));
        why = lost_why(e, lost, nlost);
        if (why)
            printf("    LOST: %s\n", why);
    }
}

/* PFs whose VFs xen-vfd keeps enabled after the last release (-k). */
static void print_kept(const char *dir, const struct xvf_entry *list,
                       unsigned int n, bool json)
{
    char (*pfs)[XVF_BDF_LEN] = NULL;
    struct xvf_pf_entry pfe;
    unsigned int i, j, npf = 0, shown = 0;
    long long left;

    if (xvf_journal_pf_list(dir, &pfs, &npf))
        npf = 0;
    for (i = 0; i < npf; i++) {
        for (j = 0; j < n && strcmp(list[j].pf, pfs[i]); j++)
            ;
        if (j < n || xvf_journal_pf_load(dir, pfs[i], &pfe) ||
            !pfe.warm_until)
            continue;
        left = pfe.warm_until - xvf_now_ms();
        if (left < 0)
            left = 0;
        if (json)
            printf("%s{\"pf\":\"%s\",\"ms_left\":%lld}", shown ? "," : "",
                   pfs[i], left);
        else
            printf("  VFs of %s kept enabled, no VF held: disabled in "
                   "%lld s\n", pfs[i], (left + 999) / 1000);
        shown++;
    }
    free(pfs);
}

int cmd_status(const struct xvf_engine_config *cfg, int argc, char **argv)
{
    static struct xvf_lost lost[XVF_LOST_MAX];
    struct vfctl_opts o = { 0 };
    struct xvf_entry *list = NULL;
    struct xvf_err err = { 0 };
    struct pf_status *st;
    unsigned int n = 0, npf, nlost = 0;
    int i, r;

    i = vfctl_parse_opts(argc, argv, &o);
    if (i < 0 || argc != i)
        return vfctl_bad_usage();
    st = malloc(sizeof(*st));
    if (!st)
        return VFCTL_EXIT_REFUSED;
    if (o.json)
        printf("{\"pfs\":[");
    npf = print_nvme_pfs(st, o.json);
    free(st);
    npf += print_nic_pfs(o.json, !npf);
    if (!npf && !o.json)
        printf("no physical function with SR-IOV\n");

    r = xvf_journal_list(cfg->state_dir, NULL, &list, &n);
    if (r)
        n = 0;
    /* a reset of a PF kills its held VFs silently: say so here */
    if (xvf_check_held(cfg, lost, &nlost, &err))
        nlost = 0;
    if (o.json) {
        printf("],\"journal\":[");
        print_journal_json(list, n, lost, nlost);
        printf("],\"kept\":[");
        print_kept(cfg->state_dir, list, n, true);
        printf("]}\n");
    } else {
        printf("journal (%s): %u entr%s\n", cfg->state_dir, n,
               n == 1 ? "y" : "ies");
        print_journal_text(list, n, lost, nlost);
        print_kept(cfg->state_dir, list, n, false);
    }
    free(list);
    if (r) {
        vfctl_msg("cannot read journal in %s: %s", cfg->state_dir,
                  strerror(-r));
        return VFCTL_EXIT_REFUSED;
    }
    return 0;
}
