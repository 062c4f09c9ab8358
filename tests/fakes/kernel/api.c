/* SPDX-License-Identifier: LGPL-2.1-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/types.h>

#include "internal.h"

const char *xvf_mock_preset(const char *name)
{
    return name ? xm_preset_text(name) : NULL;
}

const char *xvf_mock_profile(void)
{
    const char *p = getenv("XVF_MOCK_PROFILE");

    return p && *p ? p : "qemu";
}

static int dir_empty(const char *path)
{
    struct dirent *de;
    DIR *d = opendir(path);
    int r = 0;

    if (!d)
        return -errno;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            r = -EEXIST;
    closedir(d);
    return r;
}

static int lock_root(struct xm_ctx *c)
{
    char path[XM_PATH];
    int r;

    r = xm_pathf(c, path, sizeof(path), ".mock/lock");
    if (r)
        return r;
    c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (c->lock_fd < 0)
        return -errno;
    while (flock(c->lock_fd, LOCK_EX))
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int vf_up(struct xm_ctx *c, const char *pfbdf, unsigned int vfn,
                 const char *driver, unsigned int nvq, unsigned int nvi)
{
    struct xm_pf *pf = xm_pf_by_bdf(c->m, pfbdf);
    struct xm_cmd cmd;
    struct xm_sec *sec;
    char vf[16], drv[64], path[XM_PATH], buf[32];
    unsigned int cur;
    int r;

    if (!pf)
        return -ENODEV;
    sec = xm_sec_by_vfn(pf, vfn);
    if (!sec || vfn > pf->totalvfs)
        return -ENOENT;
    r = xm_vf_bdf(pf, vfn, vf);
    if (r)
        return r;
    memset(&cmd, 0, sizeof(cmd));
    cmd.opcode = nvme_admin_virtual_mgmt;
    cmd.cdw10 = NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL |
                NVME_VIRT_MGMT_RT_VQ_RESOURCE << 8 | sec->scid << 16;
    cmd.cdw11 = nvq;
    r = xm_admin(c, pf, pf->cntlid, false, &cmd);
    if (r)
        return r;
    cmd.cdw10 = NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL |
                NVME_VIRT_MGMT_RT_VI_RESOURCE << 8 | sec->scid << 16;
    cmd.cdw11 = nvi;
    /* without flexible VI the secondaries' interrupts are their own */
    r = pf->vifrt ? xm_admin(c, pf, pf->cntlid, false, &cmd) : 0;
    if (r)
        return r;
    r = xm_pathf(c, path, sizeof(path), "sys/bus/pci/devices/%s/"
                 "sriov_numvfs", pf->bdf);
    if (r)
        return r;
    r = xm_read_file(path, buf, sizeof(buf));
    if (r)
        return r;
    cur = strtoul(buf, NULL, 10);
    if (cur < vfn) {
        if (cur)
            return -EBUSY;
        r = xm_set_numvfs(c, pf, vfn);
        if (r)
            return r;
    }
    cmd.cdw10 = NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL | sec->scid << 16;
    cmd.cdw11 = 0;
    r = xm_admin(c, pf, pf->cntlid, false, &cmd);
    if (r)
        return r;
    r = xm_dev_driver(c, vf, drv, sizeof(drv));
    if (r)
        return r;
    if (drv[0])
        return strcmp(drv, driver) ? -EBUSY : 0;
    r = xm_set_override(c, vf, driver);
    if (!r)
        r = xm_drivers_probe(c, vf);
    if (!r)
        r = xm_dev_driver(c, vf, drv, sizeof(drv));
    if (!r && strcmp(drv, driver))
        r = -ENODEV;
    return r;
}

int xvf_mock_build(const char *root, const char *config)
{
    const char *text = config ? xm_preset_text(config) : NULL;
    char path[XM_PATH];
    struct xm_ctx c;
    unsigned int i;
    int r;

    if (!text)
        text = config ? config : xm_preset_text("qemu");
    if (!root)
        root = getenv("XEN_VF_ROOT");
    if (!root)
        return -EINVAL;
    memset(&c, 0, sizeof(c));
    c.lock_fd = -1;
    if (mkdir(root, 0755) && errno != EEXIST)
        return -errno;
    r = dir_empty(root);
    if (!r)
        r = xm_canon_root(root, c.root, sizeof(c.root));
    if (!r)
        r = xm_pathf(&c, path, sizeof(path), ".mock");
    if (r)
        return r;
    if (mkdir(path, 0755))
        return -errno;
    c.m = calloc(1, sizeof(*c.m));
    if (!c.m)
        return -ENOMEM;
    r = xm_parse(c.m, text, true);
    if (!r)
        r = lock_root(&c);
    if (!r)
        r = xm_build_tree(&c);
    for (i = 0; !r && i < c.m->nup; i++)
        r = vf_up(&c, c.m->up[i].pf, c.m->up[i].vfn, c.m->up[i].driver,
                  c.m->up[i].nvq, c.m->up[i].nvi);
    if (r > 0)
        r = -EIO;
    if (!r)
        xm_ns_sync(&c, NULL, false);
    c.m->n_admin = c.m->n_write = c.m->n_fired = c.m->n_netlink = 0;
    if (!r)
        r = xm_save(&c);
    xm_close(&c);
    return r;
}

int xvf_mock_mkroot(const char *config, char **ret)
{
    const char *tmp = getenv("TMPDIR");
    char path[XM_PATH];
    int r;

    snprintf(path, sizeof(path), "%s/xvf-mock.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(path))
        return -errno;
    r = xvf_mock_build(path, config);
    if (!r && setenv("XEN_VF_ROOT", path, 1))
        r = -errno;
    if (!r) {
        *ret = strdup(path);
        if (!*ret)
            r = -ENOMEM;
    }
    if (r)
        xm_rm_rf(path);
    return r;
}

int xvf_mock_destroy(const char *root)
{
    char canon[XM_PATH], path[XM_PATH + 8];
    struct stat st;
    int r;

    r = xm_canon_root(root, canon, sizeof(canon));
    if (r)
        return r;
    /* only what looks like a fake root */
    snprintf(path, sizeof(path), "%s/.mock", canon);
    if (stat(path, &st) || !S_ISDIR(st.st_mode) || !strcmp(canon, "/"))
        return -EINVAL;
    return xm_rm_rf(canon);
}

char *xvf_mock_snapshot(const char *root)
{
    char *model = NULL, *tree = NULL, *out = NULL;
    struct xm_ctx c;
    int r;

    r = xm_open(&c, root, true);
    if (r) {
        errno = -r;
        return NULL;
    }
    model = xm_format(c.m, false);
    r = model ? xm_tree_dump(&c, &tree) : -ENOMEM;
    xm_close(&c);
    if (!r && asprintf(&out, "%s%s", model, tree) < 0) {
        out = NULL;
        r = -ENOMEM;
    }
    free(model);
    free(tree);
    if (r)
        errno = -r;
    return out;
}

static bool has_line(const char *text, const char *line, size_t len)
{
    const char *p = text, *nl;

    while (*p) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        if ((size_t)(nl - p) == len && !memcmp(p, line, len))
            return true;
        p = *nl ? nl + 1 : nl;
    }
    return false;
}

static int diff_side(FILE *f, const char *from, const char *other, char sign)
{
    const char *p = from, *nl;

    while (*p) {
        nl = strchr(p, '\n');
        if (!nl)
            nl = p + strlen(p);
        if (!has_line(other, p, nl - p) &&
            fprintf(f, "%c%.*s\n", sign, (int)(nl - p), p) < 0)
            return -EIO;
        p = *nl ? nl + 1 : nl;
    }
    return 0;
}

char *xvf_mock_diff(const char *a, const char *b)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    if (!f)
        return NULL;
    if (diff_side(f, a, b, '-') || diff_side(f, b, a, '+')) {
        fclose(f);
        free(out);
        return NULL;
    }
    if (fclose(f))
        return NULL;
    return out;
}

int xvf_mock_secondary(const char *root, const char *pf, uint16_t scid,
                       struct xvf_mock_sec *ret)
{
    struct xm_ctx c;
    struct xm_pf *p;
    struct xm_sec *s;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    p = xm_pf_by_bdf(c.m, pf);
    s = p ? xm_sec_by_scid(p, scid) : NULL;
    if (s) {
        ret->scid = s->scid;
        ret->vfn = s->vfn;
        ret->online = s->scs;
        ret->nvq = s->nvq;
        ret->nvi = s->nvi;
    }
    xm_close(&c);
    return s ? 0 : -ENOENT;
}

int xvf_mock_ns_attached(const char *root, const char *pf, uint32_t nsid,
                         uint16_t *ids, unsigned int *n)
{
    struct xm_ctx c;
    struct xm_pf *p;
    struct xm_ns *ns;
    unsigned int i;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    p = xm_pf_by_bdf(c.m, pf);
    ns = p ? xm_ns_by_id(p, nsid) : NULL;
    if (ns) {
        for (i = 0; i < ns->natt; i++)
            ids[i] = ns->att[i];
        *n = ns->natt;
    }
    xm_close(&c);
    return ns ? 0 : -ENOENT;
}

int xvf_mock_pf_set(const char *root, const char *pf, const char *settings)
{
    struct xm_ctx c;
    struct xm_pf *p;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    p = xm_pf_by_bdf(c.m, pf);
    r = p ? xm_pf_set(p, settings) : -ENODEV;
    /* irq= adds or removes the PF's line */
    if (!r)
        r = xm_irq_build(&c);
    if (!r)
        r = xm_save(&c);
    xm_close(&c);
    return r;
}

int xvf_mock_vf_up(const char *root, const char *pf, unsigned int vfn,
                   const char *driver, unsigned int nvq, unsigned int nvi)
{
    struct xm_ctx c;
    int r, r2;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    r = vf_up(&c, pf, vfn, driver, nvq, nvi);
    if (!r)
        xm_ns_sync(&c, NULL, true);
    r2 = xm_save(&c);
    xm_close(&c);
    return r ? r : r2;
}

int xvf_mock_counts(const char *root, struct xvf_mock_counts *ret)
{
    struct xm_ctx c;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    ret->admin = c.m->n_admin;
    ret->write = c.m->n_write;
    ret->netlink = c.m->n_netlink;
    ret->ops = c.m->n_admin + c.m->n_write + c.m->n_netlink;
    ret->fired = c.m->n_fired;
    xm_close(&c);
    return 0;
}

int xvf_mock_reset_counts(const char *root)
{
    char path[XM_PATH];
    struct xm_ctx c;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    c.m->n_admin = c.m->n_write = c.m->n_fired = c.m->n_netlink = 0;
    r = xm_save(&c);
    if (!r)
        r = xm_pathf(&c, path, sizeof(path), ".mock/log");
    if (!r && unlink(path) && errno != ENOENT)
        r = -errno;
    xm_close(&c);
    return r;
}

void xvf_mock_fault_init(struct xvf_mock_fault *f)
{
    memset(f, 0, sizeof(*f));
    f->kind = XVF_MOCK_ANY;
    f->opcode = -1;
    f->sub = -1;
}

int xvf_mock_set_fault(const char *root, const struct xvf_mock_fault *f)
{
    struct xm_ctx c;
    int r;

    if (f->kind > XVF_MOCK_NETLINK || f->opcode > 0xff || f->sub > 0xff ||
        f->err < 0 || memchr(f->attr, '\0', sizeof(f->attr)) == NULL ||
        strpbrk(f->attr, " \t\n\""))
        return -EINVAL;
    r = xm_open(&c, root, true);
    if (r)
        return r;
    c.m->fault.f = *f;
    c.m->fault.armed = f->nth > 0;
    c.m->fault.seen = 0;
    r = xm_save(&c);
    xm_close(&c);
    return r;
}

int xvf_mock_clear_fault(const char *root)
{
    struct xvf_mock_fault f;

    xvf_mock_fault_init(&f);
    return xvf_mock_set_fault(root, &f);
}

char *xvf_mock_log(const char *root)
{
    char canon[XM_PATH], path[XM_PATH + 16], *out;
    struct stat st;
    ssize_t n;
    int fd, r;

    r = xm_canon_root(root, canon, sizeof(canon));
    if (r) {
        errno = -r;
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/.mock/log", canon);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? strdup("") : NULL;
    if (fstat(fd, &st)) {
        close(fd);
        return NULL;
    }
    out = malloc(st.st_size + 1);
    n = out ? read(fd, out, st.st_size) : -1;
    close(fd);
    if (n < 0) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

int xvf_mock_nic_vf(const char *root, const char *pf, unsigned int vf,
                    struct xvf_mock_nvf *ret)
{
    struct xm_ctx c;
    struct xm_pf *p;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    p = xm_pf_by_bdf(c.m, pf);
    if (!p || !p->nic || vf >= p->totalvfs) {
        xm_close(&c);
        return -ENOENT;
    }
    memcpy(ret->mac, p->nvf[vf].mac, 6);
    ret->vlan = p->nvf[vf].vlan;
    ret->qos = p->nvf[vf].qos;
    ret->rate = p->nvf[vf].rate;
    ret->spoofchk = p->nvf[vf].spoofchk;
    ret->trust = p->nvf[vf].trust;
    ret->ifup = p->ifup;
    ret->carrier = p->carrier;
    ret->min_rate = p->nvf[vf].min_rate;
    ret->link_state = p->nvf[vf].link_state;
    xm_close(&c);
    return 0;
}

int xvf_mock_nic_vf_set(const char *root, const char *pf, unsigned int vf,
                        const struct xvf_mock_nvf *v)
{
    struct xm_nvf *n;
    struct xm_ctx c;
    struct xm_pf *p;
    int r;

    r = xm_open(&c, root, true);
    if (r)
        return r;
    p = xm_pf_by_bdf(c.m, pf);
    if (!p || !p->nic || vf >= p->totalvfs || vf >= XM_MAX_NVF) {
        xm_close(&c);
        return -ENOENT;
    }
    n = &p->nvf[vf];
    memcpy(n->mac, v->mac, 6);
    n->vlan = v->vlan;
    n->qos = v->qos;
    n->rate = v->rate;
    n->min_rate = v->min_rate;
    n->spoofchk = v->spoofchk;
    n->trust = v->trust;
    n->link_state = v->link_state;
    r = xm_save(&c);
    xm_close(&c);
    return r;
}
