/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * tree.c - the fake sysfs and /dev tree under the root, and what a write
 * to it does: the PCI core (driver binding, driver_override,
 * drivers_probe), SR-IOV (sriov_numvfs) and the netdev names.
 * One file: these are the one kernel object tree; each store reads and
 * changes the same devices, so splitting it would export its helpers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* What the PCI core knows about one device. */
#define DIR_LEN 64

struct devinfo {
    char bdf[16];
    char dir[DIR_LEN];          /* relative to the root */
    bool is_vf;
    struct xm_pf *pf;           /* its PF's model (itself for a PF) */
    unsigned int vfn;
    char driver[64];
    char override[256];
    unsigned int class_code;
};

static int vpathf(const struct xm_ctx *c, char *buf, size_t len,
                  const char *fmt, va_list ap)
{
    size_t rlen = strlen(c->root);
    int n;

    if (rlen + 1 >= len)
        return -ENAMETOOLONG;
    memcpy(buf, c->root, rlen);
    buf[rlen] = '/';
    n = vsnprintf(buf + rlen + 1, len - rlen - 1, fmt, ap);
    if (n < 0 || (size_t)n >= len - rlen - 1)
        return -ENAMETOOLONG;
    return 0;
}

int xm_pathf(const struct xm_ctx *c, char *buf, size_t len,
             const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, buf, len, fmt, ap);
    va_end(ap);
    return r;
}

int xm_write_file(const char *path, const char *content, mode_t mode)
{
    size_t len = strlen(content);
    int fd, r = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 && errno == EACCES && !unlink(path))
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    if (xm_real_write(fd, content, len) != (ssize_t)len)
        r = -EIO;
    if (close(fd) && !r)
        r = -errno;
    return r;
}

int xm_read_file(const char *path, char *buf, size_t len)
{
    ssize_t n;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    r = n < 0 ? -errno : 0;
    close(fd);
    if (r)
        return r;
    buf[n] = '\0';
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        return rmdir(path) ? -1 : 0;
    return unlink(path) ? -1 : 0;
}

int xm_rm_rf(const char *path)
{
    struct stat st;

    if (lstat(path, &st))
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) ? -errno : 0;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}

static int tput(struct xm_ctx *c, mode_t mode, const char *content,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int tput(struct xm_ctx *c, mode_t mode, const char *content,
                const char *fmt, ...)
{
    char path[XM_PATH];
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    if (!r)
        r = xm_write_file(path, content, mode);
    if (!r && chmod(path, mode))
        r = -errno;
    return r;
}

static int tlink(struct xm_ctx *c, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int tlink(struct xm_ctx *c, const char *target, const char *fmt, ...)
{
    char path[XM_PATH];
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    if (r)
        return r;
    if (unlink(path) && errno != ENOENT)
        return -errno;
    return symlink(target, path) ? -errno : 0;
}

static int tmkdir(struct xm_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int tmkdir(struct xm_ctx *c, const char *fmt, ...)
{
    char path[XM_PATH], *p, save;
    size_t rlen = strlen(c->root);
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    if (r)
        return r;
    for (p = path + rlen + 1; ; p++) {
        if (*p != '/' && *p)
            continue;
        save = *p;
        *p = '\0';
        if (mkdir(path, 0755) && errno != EEXIST)
            return -errno;
        *p = save;
        if (!save)
            break;
    }
    return 0;
}

static int tget(struct xm_ctx *c, char *buf, size_t len, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int tget(struct xm_ctx *c, char *buf, size_t len, const char *fmt,
                ...)
{
    char path[XM_PATH];
    size_t n;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    if (!r)
        r = xm_read_file(path, buf, len);
    if (r)
        return r;
    n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int tlinkname(struct xm_ctx *c, char *buf, size_t len,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tlinkname(struct xm_ctx *c, char *buf, size_t len,
                     const char *fmt, ...)
{
    char path[XM_PATH], target[XM_PATH];
    const char *base;
    va_list ap;
    ssize_t n;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    if (r)
        return r;
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return -errno;
    target[n] = '\0';
    base = strrchr(target, '/');
    base = base ? base + 1 : target;
    if (strlen(base) >= len)
        return -ENAMETOOLONG;
    strcpy(buf, base);
    return 0;
}

static bool texists(struct xm_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool texists(struct xm_ctx *c, const char *fmt, ...)
{
    char path[XM_PATH];
    struct stat st;
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    return !r && !lstat(path, &st);
}

static int tremove(struct xm_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int tremove(struct xm_ctx *c, const char *fmt, ...)
{
    char path[XM_PATH];
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vpathf(c, path, sizeof(path), fmt, ap);
    va_end(ap);
    return r ? r : xm_rm_rf(path);
}

/* Devices of domain DDDD live flat under sys/devices/pciDDDD:00/. */
static void dev_dir(const char *bdf, char *buf, size_t len)
{
    snprintf(buf, len, "sys/devices/pci%.4s:00/%.15s", bdf, bdf);
}

int xm_vf_bdf(const struct xm_pf *pf, unsigned int vfn, char out[16])
{
    unsigned int dom, bus, dev, fn, rid;

    if (!vfn || sscanf(pf->bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
        return -EINVAL;
    rid = (bus << 8 | dev << 3 | fn) + pf->offset + (vfn - 1) * pf->stride;
    if (rid > 0xffff)
        return -ERANGE;
    snprintf(out, 16, "%04x:%02x:%02x.%x", dom, rid >> 8, (rid >> 3) & 0x1f,
             rid & 7);
    return 0;
}

static unsigned int read_uint(struct xm_ctx *c, const char *dir,
                              const char *attr)
{
    char buf[64];

    if (tget(c, buf, sizeof(buf), "%s/%s", dir, attr))
        return 0;
    return strtoul(buf, NULL, 0);
}

bool xm_vf_enabled(struct xm_ctx *c, const struct xm_pf *pf,
                   unsigned int vfn)
{
    char dir[DIR_LEN];

    dev_dir(pf->bdf, dir, sizeof(dir));
    return vfn && vfn <= read_uint(c, dir, "sriov_numvfs");
}

static int dev_info(struct xm_ctx *c, const char *bdf, struct devinfo *d)
{
    char pfbdf[64], buf[64];
    unsigned int i;

    memset(d, 0, sizeof(*d));
    if (strlen(bdf) >= sizeof(d->bdf) || strchr(bdf, '/'))
        return -ENODEV;
    strcpy(d->bdf, bdf);
    dev_dir(bdf, d->dir, sizeof(d->dir));
    if (!texists(c, "%s", d->dir))
        return -ENODEV;
    if (!tlinkname(c, pfbdf, sizeof(pfbdf), "%s/physfn", d->dir)) {
        d->is_vf = true;
        d->pf = xm_pf_by_bdf(c->m, pfbdf);
        for (i = 0; d->pf && i < d->pf->totalvfs; i++)
            if (!tlinkname(c, buf, sizeof(buf), "sys/devices/pci%.4s:00/"
                           "%s/virtfn%u", pfbdf, pfbdf, i) &&
                !strcmp(buf, bdf))
                d->vfn = i + 1;
    } else {
        d->pf = xm_pf_by_bdf(c->m, bdf);
    }
    if (tlinkname(c, d->driver, sizeof(d->driver), "%s/driver", d->dir))
        d->driver[0] = '\0';
    if (tget(c, d->override, sizeof(d->override), "%s/driver_override",
             d->dir) || !strcmp(d->override, "(null)"))
        d->override[0] = '\0';
    d->class_code = read_uint(c, d->dir, "class");
    return 0;
}

static int create_dev(struct xm_ctx *c, struct xm_pf *pf, unsigned int vfn)
{
    char bdf[16], dir[DIR_LEN], pfdir[DIR_LEN], val[64], target[XM_PATH];
    int r;

    if (vfn) {
        r = xm_vf_bdf(pf, vfn, bdf);
        if (r)
            return r;
    } else {
        strcpy(bdf, pf->bdf);
    }
    dev_dir(bdf, dir, sizeof(dir));
    dev_dir(pf->bdf, pfdir, sizeof(pfdir));
    r = tmkdir(c, "%s", dir);
    snprintf(val, sizeof(val), "0x%04x\n", pf->vendor);
    if (!r)
        r = tput(c, 0444, val, "%s/vendor", dir);
    snprintf(val, sizeof(val), "0x%04x\n", vfn ? pf->vf_device : pf->device);
    if (!r)
        r = tput(c, 0444, val, "%s/device", dir);
    snprintf(val, sizeof(val), "0x%06x\n", pf->class_code);
    if (!r)
        r = tput(c, 0444, val, "%s/class", dir);
    if (!r)
        r = tput(c, 0444, "0x1af4\n", "%s/subsystem_vendor", dir);
    if (!r)
        r = tput(c, 0444, "0x1100\n", "%s/subsystem_device", dir);
    if (!r)
        r = tput(c, 0644, "(null)\n", "%s/driver_override", dir);
    if (!r)
        r = tlink(c, "../../../bus/pci", "%s/subsystem", dir);
    snprintf(target, sizeof(target), "../../../devices/pci%.4s:00/%s", bdf,
             bdf);
    if (!r)
        r = tlink(c, target, "sys/bus/pci/devices/%s", bdf);
    /* function level reset (pci_reset_function()) and its methods */
    if (!r)
        r = tput(c, 0200, "", "%s/reset", dir);
    if (!r)
        r = tput(c, 0644, "flr\n", "%s/reset_method", dir);
    if (r || (!vfn && !pf->sriov))
        return r;
    if (!vfn) {
        snprintf(val, sizeof(val), "%u\n", pf->totalvfs);
        r = tput(c, 0444, val, "%s/sriov_totalvfs", dir);
        if (!r)
            r = tput(c, 0644, "0\n", "%s/sriov_numvfs", dir);
        snprintf(val, sizeof(val), "%u\n", pf->b_autoprobe ? 1 : 0);
        if (!r)
            r = tput(c, 0644, val, "%s/sriov_drivers_autoprobe", dir);
        snprintf(val, sizeof(val), "%u\n", pf->offset);
        if (!r)
            r = tput(c, 0444, val, "%s/sriov_offset", dir);
        snprintf(val, sizeof(val), "%u\n", pf->stride);
        if (!r)
            r = tput(c, 0444, val, "%s/sriov_stride", dir);
        snprintf(val, sizeof(val), "%x\n", pf->vf_device);
        if (!r)
            r = tput(c, 0444, val, "%s/sriov_vf_device", dir);
        return r;
    }
    snprintf(target, sizeof(target), "../%s", pf->bdf);
    r = tlink(c, target, "%s/physfn", dir);
    snprintf(target, sizeof(target), "../%s", bdf);
    if (!r)
        r = tlink(c, target, "%s/virtfn%u", pfdir, vfn - 1);
    return r;
}

static int create_ctrl(struct xm_ctx *c, const struct devinfo *d,
                       unsigned int cntlid, const char *want)
{
    char name[32], cd[DIR_LEN + 48], val[256], target[XM_PATH];
    const struct xm_pf *pf = d->pf;
    unsigned int k;
    int r;

    if (want && !texists(c, "sys/class/nvme/%s", want) &&
        !texists(c, "dev/%s", want)) {
        snprintf(name, sizeof(name), "%s", want);
    } else {
        for (k = 0; ; k++) {
            snprintf(name, sizeof(name), "nvme%u", k);
            if (!texists(c, "sys/class/nvme/%s", name) &&
                !texists(c, "dev/%s", name))
                break;
        }
    }
    snprintf(cd, sizeof(cd), "%s/nvme/%s", d->dir, name);
    r = tmkdir(c, "%s", cd);
    snprintf(val, sizeof(val), "%-20s\n", pf->sn);
    if (!r)
        r = tput(c, 0444, val, "%s/serial", cd);
    snprintf(val, sizeof(val), "%-40s\n", pf->mn);
    if (!r)
        r = tput(c, 0444, val, "%s/model", cd);
    snprintf(val, sizeof(val), "%-8s\n", pf->fr);
    if (!r)
        r = tput(c, 0444, val, "%s/firmware_rev", cd);
    snprintf(val, sizeof(val), "%u\n", cntlid);
    if (!r)
        r = tput(c, 0444, val, "%s/cntlid", cd);
    snprintf(val, sizeof(val), "%s\n", d->bdf);
    if (!r)
        r = tput(c, 0444, val, "%s/address", cd);
    if (!r)
        r = tput(c, 0444, "live\n", "%s/state", cd);
    if (!r)
        r = tput(c, 0444, "pcie\n", "%s/transport", cd);
    if (!r)
        r = tput(c, 0200, "", "%s/reset_controller", cd);
    snprintf(val, sizeof(val), "%s\n", pf->subnqn);
    if (!r)
        r = tput(c, 0444, val, "%s/subsysnqn", cd);
    snprintf(target, sizeof(target), "../../../%s", d->bdf);
    if (!r)
        r = tlink(c, target, "%s/device", cd);
    snprintf(target, sizeof(target), "../../devices/pci%.4s:00/%s/nvme/%s",
             d->bdf, d->bdf, name);
    if (!r)
        r = tmkdir(c, "sys/class/nvme");
    if (!r)
        r = tlink(c, target, "sys/class/nvme/%s", name);
    if (!r)
        r = tput(c, 0600, "", "dev/%s", name);
    if (!r && d->is_vf)
        r = xm_probe_late(c, pf, d->bdf, name);
    return r;
}

static void remove_ctrls(struct xm_ctx *c, const struct devinfo *d)
{
    char path[XM_PATH];
    struct dirent *de;
    DIR *dir;

    if (xm_pathf(c, path, sizeof(path), "%s/nvme", d->dir))
        return;
    dir = opendir(path);
    if (!dir)
        return;
    while ((de = readdir(dir))) {
        if (strncmp(de->d_name, "nvme", 4))
            continue;
        tremove(c, "sys/class/nvme/%s", de->d_name);
        tremove(c, "dev/%s", de->d_name);
    }
    closedir(dir);
    tremove(c, "%s/nvme", d->dir);
}

static bool driver_exists(struct xm_ctx *c, const char *drv)
{
    char path[XM_PATH];
    struct stat st;

    return *drv && !strchr(drv, '/') && strcmp(drv, ".") &&
           strcmp(drv, "..") &&
           !xm_pathf(c, path, sizeof(path), "sys/bus/pci/drivers/%s", drv) &&
           !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* pci_match_device(): driver_override wins over the ID tables. */
static bool matches(const struct devinfo *d, const char *drv)
{
    if (d->override[0])
        return !strcmp(d->override, drv);
    if (d->pf && d->pf->nic)
        return !strcmp(drv, d->is_vf ? d->pf->vf_driver
                                     : d->pf->pf_driver);
    return !strcmp(drv, "nvme") && d->class_code == XM_CLASS_NVME;
}

unsigned int xm_numvfs(struct xm_ctx *c, const struct xm_pf *pf)
{
    char dir[DIR_LEN];

    dev_dir(pf->bdf, dir, sizeof(dir));
    return read_uint(c, dir, "sriov_numvfs");
}

int xm_netdev_index(struct xm_ctx *c, const char *name,
                    unsigned int *ifindex)
{
    char buf[32];

    if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
        !strcmp(name, "..") ||
        tget(c, buf, sizeof(buf), "sys/class/net/%s/ifindex", name))
        return -ENODEV;
    *ifindex = strtoul(buf, NULL, 10);
    return 0;
}

int xm_netdev_name(struct xm_ctx *c, unsigned int ifindex, char *name,
                   size_t len)
{
    struct dirent *de;
    char path[XM_PATH];
    unsigned int i;
    DIR *d;
    int r = -ENODEV;

    if (xm_pathf(c, path, sizeof(path), "sys/class/net"))
        return -ENODEV;
    d = opendir(path);
    if (!d)
        return -ENODEV;
    while (r && (de = readdir(d))) {
        if (de->d_name[0] != '.' && !xm_netdev_index(c, de->d_name, &i) &&
            i == ifindex && strlen(de->d_name) < len) {
            strcpy(name, de->d_name);
            r = 0;
        }
    }
    closedir(d);
    return r;
}

/* A netdev for a NIC function its driver just took, as register_netdev. */
static int create_netdev(struct xm_ctx *c, const struct devinfo *d)
{
    char name[32], mac[18], val[64], target[XM_PATH];
    struct dirent *de;
    unsigned int k, idx, max = 1;
    const uint8_t *m;
    DIR *dir;
    int r;

    if (d->is_vf) {
        /* ifindex and name: the next free ones */
        r = xm_pathf(c, target, sizeof(target), "sys/class/net");
        dir = r ? NULL : opendir(target);
        while (dir && (de = readdir(dir)))
            if (de->d_name[0] != '.' && !xm_netdev_index(c, de->d_name, &idx)
                && idx > max)
                max = idx;
        if (dir)
            closedir(dir);
        for (k = 0; texists(c, "sys/class/net/eth%u", k); k++)
            ;
        snprintf(name, sizeof(name), "eth%u", k);
        idx = max + 1;
        /* the VF driver asks the PF for its MAC; random when none is set */
        m = d->vfn && d->vfn <= XM_MAX_NVF ? d->pf->nvf[d->vfn - 1].mac
                                           : NULL;
        if (m && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
            snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
                     m[0], m[1], m[2], m[3], m[4], m[5]);
        else
            snprintf(mac, sizeof(mac), "02:00:00:00:%02x:%02x",
                     (unsigned int)(d->pf - c->m->pf), d->vfn & 0xff);
    } else {
        snprintf(name, sizeof(name), "%s", d->pf->name);
        idx = d->pf->ifindex;
        snprintf(mac, sizeof(mac), "%s", d->pf->mac);
    }
    r = tmkdir(c, "%s/net/%s", d->dir, name);
    snprintf(val, sizeof(val), "%u\n", idx);
    if (!r)
        r = tput(c, 0444, val, "%s/net/%s/ifindex", d->dir, name);
    snprintf(val, sizeof(val), "%s\n", mac);
    if (!r)
        r = tput(c, 0444, val, "%s/net/%s/address", d->dir, name);
    /* what ethtool reports; read only while the link is up */
    snprintf(val, sizeof(val), "%u\n", d->is_vf ? 1000 : d->pf->speed);
    if (!r)
        r = tput(c, 0444, val, "%s/net/%s/speed", d->dir, name);
    snprintf(target, sizeof(target), "../../../%s", d->bdf);
    if (!r)
        r = tlink(c, target, "%s/net/%s/device", d->dir, name);
    snprintf(target, sizeof(target), "../../devices/pci%.4s:00/%s/net/%s",
             d->bdf, d->bdf, name);
    if (!r)
        r = tmkdir(c, "sys/class/net");
    if (!r)
        r = tlink(c, target, "sys/class/net/%s", name);
    return r;
}

static void remove_netdevs(struct xm_ctx *c, const struct devinfo *d)
{
    char path[XM_PATH];
    struct dirent *de;
    DIR *dir;

    if (xm_pathf(c, path, sizeof(path), "%s/net", d->dir))
        return;
    dir = opendir(path);
    if (!dir)
        return;
    while ((de = readdir(dir)))
        if (de->d_name[0] != '.')
            tremove(c, "sys/class/net/%s", de->d_name);
    closedir(dir);
    tremove(c, "%s/net", d->dir);
}

/* pci_device_can_probe() */
static bool can_probe(struct xm_ctx *c, const struct devinfo *d)
{
    char pfdir[DIR_LEN];

    if (!d->is_vf || d->override[0] || !d->pf)
        return true;
    dev_dir(d->pf->bdf, pfdir, sizeof(pfdir));
    return read_uint(c, pfdir, "sriov_drivers_autoprobe") != 0;
}

/*
 * The driver's probe: 0 when it keeps the device. nvme on a VF whose
 * secondary is offline starts, finds CSTS.RDY never set and lets go
 * ("Device not ready; aborting initialisation").
 */
/* pciback resets a device it takes or lets go, by any method left */
static void pciback_reset(struct xm_ctx *c, const struct devinfo *d)
{
    char m[64] = "";

    tget(c, m, sizeof(m), "%s/reset_method", d->dir);
    if (m[0] && m[0] != '\n')
        xm_log(c, "pciback reset of %s", d->bdf);
}

static int drv_probe(struct xm_ctx *c, struct devinfo *d, const char *drv)
{
    char target[XM_PATH];
    struct xm_sec *sec = NULL;
    unsigned int cntlid = 0;
    int r;

    if (!strcmp(drv, "nvme")) {
        if (!d->pf)
            return -ENODEV;
        if (d->is_vf) {
            sec = xm_sec_by_vfn(d->pf, d->vfn);
            if (!sec || !sec->scs)
                return -ENODEV;
            cntlid = sec->scid;
            /* the controller enable waits for CSTS.RDY (PM1733: seconds) */
            if (d->pf->rdy_ms) {
                struct timespec ts = { d->pf->rdy_ms / 1000,
                                       d->pf->rdy_ms % 1000 * 1000000L };

                while (nanosleep(&ts, &ts) && errno == EINTR)
                    ;
            }
        } else {
            cntlid = d->pf->cntlid;
        }
    }
    /* pcistub_init_device() resets what it takes */
    if (!strcmp(drv, "pciback"))
        pciback_reset(c, d);
    snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", drv);
    r = tlink(c, target, "%s/driver", d->dir);
    snprintf(target, sizeof(target), "../../../../devices/pci%.4s:00/%s",
             d->bdf, d->bdf);
    if (!r)
        r = tlink(c, target, "sys/bus/pci/drivers/%s/%s", drv, d->bdf);
    if (!r && !strcmp(drv, "nvme"))
        r = create_ctrl(c, d, cntlid, d->is_vf ? NULL : d->pf->name);
    if (!r && d->pf && d->pf->nic &&
        !strcmp(drv, d->is_vf ? d->pf->vf_driver : d->pf->pf_driver))
        r = create_netdev(c, d);
    if (!r)
        snprintf(d->driver, sizeof(d->driver), "%s", drv);
    return r;
}

static void detach(struct xm_ctx *c, struct devinfo *d)
{
    if (!d->driver[0])
        return;
    if (!strcmp(d->driver, "nvme"))
        remove_ctrls(c, d);
    remove_netdevs(c, d);
    tremove(c, "%s/driver", d->dir);
    tremove(c, "sys/bus/pci/drivers/%s/%s", d->driver, d->bdf);
    d->driver[0] = '\0';
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* device_attach(): the first matching driver whose probe keeps it */
static int attach_any(struct xm_ctx *c, struct devinfo *d)
{
    struct dirent **list = NULL;
    char path[XM_PATH];
    int i, n, r = 0;
    bool done = false;

    if (d->driver[0])
        return 0;
    r = xm_pathf(c, path, sizeof(path), "sys/bus/pci/drivers");
    if (r)
        return r;
    n = scandir(path, &list, NULL, name_cmp);
    if (n < 0)
        return -errno;
    for (i = 0; i < n; i++) {
        if (!done && list[i]->d_name[0] != '.' &&
            driver_exists(c, list[i]->d_name) &&
            matches(d, list[i]->d_name) && can_probe(c, d)) {
            r = drv_probe(c, d, list[i]->d_name);
            done = !r;
            if (r == -ENODEV)
                r = 0;
        }
        free(list[i]);
    }
    free(list);
    return r;
}

int xm_dev_release(struct xm_ctx *c, const char *bdf)
{
    struct devinfo d;
    int r = dev_info(c, bdf, &d);

    if (!r)
        detach(c, &d);
    return r;
}

int xm_drivers_probe(struct xm_ctx *c, const char *bdf)
{
    struct devinfo d;
    int r = dev_info(c, bdf, &d);

    return r ? r : attach_any(c, &d);
}

int xm_dev_driver(struct xm_ctx *c, const char *bdf, char *drv, size_t len)
{
    struct devinfo d;
    int r = dev_info(c, bdf, &d);

    if (!r)
        snprintf(drv, len, "%s", d.driver);
    return r;
}

/* sysfs_streq(): one trailing newline does not count */
static void strip_nl(char *s)
{
    size_t n = strlen(s);

    if (n && s[n - 1] == '\n')
        s[n - 1] = '\0';
}

static int store_bind(struct xm_ctx *c, const char *drv, char *val)
{
    struct devinfo d;
    int r;

    strip_nl(val);
    r = dev_info(c, val, &d);
    if (r)
        return -ENODEV;
    if (!matches(&d, drv))
        return -ENODEV;
    if (d.driver[0])
        return -EBUSY;
    if (!can_probe(c, &d))
        return -ENODEV;
    r = drv_probe(c, &d, drv);
    /* nvme's probe only fails later, from its reset work */
    return r == -ENODEV && !strcmp(drv, "nvme") ? 0 : r;
}

static int store_unbind(struct xm_ctx *c, const char *drv, char *val)
{
    struct devinfo d;

    strip_nl(val);
    if (dev_info(c, val, &d) || strcmp(d.driver, drv))
        return -ENODEV;
    /* pcistub_device_release() */
    if (!strcmp(drv, "pciback"))
        pciback_reset(c, &d);
    detach(c, &d);
    return 0;
}

int xm_set_override(struct xm_ctx *c, const char *bdf, const char *drv)
{
    char dir[DIR_LEN], val[4200];
    const char *nl = strchr(drv, '\n');
    size_t len = nl ? (size_t)(nl - drv) : strlen(drv);

    if (strlen(drv) >= 4096)
        return -EINVAL;
    dev_dir(bdf, dir, sizeof(dir));
    if (!texists(c, "%s", dir))
        return -ENODEV;
    if (!len)
        snprintf(val, sizeof(val), "(null)\n");
    else
        snprintf(val, sizeof(val), "%.*s\n", (int)len, drv);
    return tput(c, 0644, val, "%s/driver_override", dir);
}

/* kstrtou16(s, 0, ...) */
static int kstrtou16(const char *s, unsigned int *ret)
{
    unsigned long v;
    char *end;

    if (!*s || *s == '-' || *s == ' ' || *s == '\t')
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || end == s || (*end && strcmp(end, "\n")))
        return -EINVAL;
    if (v > 0xffff)
        return -ERANGE;
    *ret = v;
    return 0;
}

/* kstrtobool() */
static int kstrtobool(const char *s, unsigned int *ret)
{
    switch (s[0]) {
    case 'y': case 'Y': case 't': case 'T': case 'e': case 'E': case '1':
        *ret = 1;
        return 0;
    case 'n': case 'N': case 'f': case 'F': case 'd': case 'D': case '0':
        *ret = 0;
        return 0;
    case 'o': case 'O':
        if (s[1] == 'n' || s[1] == 'N') {
            *ret = 1;
            return 0;
        }
        if (s[1] == 'f' || s[1] == 'F') {
            *ret = 0;
            return 0;
        }
        break;
    }
    return -EINVAL;
}

/*
 * sriov_numvfs_store(): same count is a no-op, no PF driver is ENOENT,
 * N to M is EBUSY. QEMU offlines the secondaries of the VFs that go away
 * (nvme_sriov_post_write_config()), which zeroes their NVQ/NVI.
 */
int xm_set_numvfs(struct xm_ctx *c, struct xm_pf *pf, unsigned int n)
{
    char dir[DIR_LEN], vf[16], drv[64], val[32];
    struct xm_sec *sec;
    struct devinfo d;
    unsigned int cur, i;
    int r;

    if (!pf->sriov)
        return -EIO;
    dev_dir(pf->bdf, dir, sizeof(dir));
    cur = read_uint(c, dir, "sriov_numvfs");
    if (n > pf->totalvfs)
        return -ERANGE;
    if (n == cur)
        return 0;
    if (tlinkname(c, drv, sizeof(drv), "%s/driver", dir) ||
        strcmp(drv, pf->pf_driver))
        return -ENOENT;
    if (pf->nic && n && cur)
        return -EBUSY;
    /* igb and ixgbe reset the PF to change its pools: the link drops */
    if (pf->nic && pf->ifup && pf->carrier) {
        pf->carrier = 0;
        xm_rtnl_link_event(c, pf);
        pf->carrier = pf->relink;
        if (pf->carrier)
            xm_rtnl_link_event(c, pf);
    }
    if (!n) {
        for (i = cur; i >= 1; i--) {
            if (xm_vf_bdf(pf, i, vf))
                continue;
            if (!dev_info(c, vf, &d))
                detach(c, &d);
            tremove(c, "sys/bus/pci/devices/%s", vf);
            tremove(c, "sys/devices/pci%.4s:00/%s", vf, vf);
            tremove(c, "%s/virtfn%u", dir, i - 1);
            sec = xm_sec_by_vfn(pf, i);
            if (sec) {
                sec->scs = 0;
                sec->nvq = 0;
                sec->nvi = 0;
            }
            if (pf->nic && i <= XM_MAX_NVF)
                xm_nvf_reset(&pf->nvf[i - 1]);
        }
        return tput(c, 0644, "0\n", "%s/sriov_numvfs", dir);
    }
    if (cur)
        return -EBUSY;
    for (i = 1; i <= n; i++) {
        r = create_dev(c, pf, i);
        if (r)
            return r;
    }
    snprintf(val, sizeof(val), "%u\n", n);
    r = tput(c, 0644, val, "%s/sriov_numvfs", dir);
    for (i = 1; !r && i <= n; i++) {
        r = xm_vf_bdf(pf, i, vf);
        if (!r && !dev_info(c, vf, &d) && can_probe(c, &d))
            r = attach_any(c, &d);
    }
    return r;
}

static int store_dev_attr(struct xm_ctx *c, const char *bdf,
                          const char *attr, char *val)
{
    static const char *const ro[] = {
        "vendor", "device", "class", "subsystem_vendor", "subsystem_device",
        "sriov_totalvfs", "sriov_offset", "sriov_stride", "sriov_vf_device",
    };
    struct xm_pf *pf = xm_pf_by_bdf(c->m, bdf);
    char dir[DIR_LEN], buf[16];
    unsigned int i, v;

    for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
        if (!strcmp(attr, ro[i]))
            return -EACCES;
    if (!strcmp(attr, "driver_override"))
        return xm_set_override(c, bdf, val);
    /* a function level reset: of a VF changes nothing in the model */
    if (!strcmp(attr, "reset")) {
        if (strcmp(val, "1") && strcmp(val, "1\n"))
            return -EINVAL;
        return pf && !pf->nic ? xm_pf_flr(c, pf) : 0;
    }
    /* reset_method_store(): "" takes every method away */
    if (!strcmp(attr, "reset_method")) {
        strip_nl(val);
        if (strcmp(val, "") && strcmp(val, "default") && strcmp(val, "flr"))
            return -EINVAL;
        dev_dir(bdf, dir, sizeof(dir));
        return tput(c, 0644, val[0] ? "flr\n" : "", "%s/reset_method", dir);
    }
    if (!strcmp(attr, "sriov_numvfs") && pf) {
        if (kstrtou16(val, &v))
            return -EINVAL;
        return xm_set_numvfs(c, pf, v);
    }
    if (!strcmp(attr, "sriov_drivers_autoprobe") && pf) {
        if (kstrtobool(val, &v))
            return -EINVAL;
        dev_dir(bdf, dir, sizeof(dir));
        snprintf(buf, sizeof(buf), "%u\n", v);
        return tput(c, 0644, buf, "%s/sriov_drivers_autoprobe", dir);
    }
    return 1;
}

int xm_sysfs_store(struct xm_ctx *c, const char *rel, const char *buf,
                   size_t n)
{
    char val[4096], drv[256], attr[256], bdf[64], dom[64];
    int end = 0, r;

    r = xm_ns_store(c, rel);
    if (r == 1)
        r = xm_ctrl_reset(c, rel);
    if (r != 1)
        return r;
    if (n >= sizeof(val))
        n = sizeof(val) - 1;
    memcpy(val, buf, n);
    val[n] = '\0';
    if (!strcmp(rel, "sys/bus/pci/drivers_probe")) {
        strip_nl(val);
        return xm_drivers_probe(c, val) == -ENODEV ? -ENODEV : 0;
    }
    if (sscanf(rel, "sys/bus/pci/drivers/%255[^/]/%255[^/]%n", drv, attr,
               &end) == 2 && !rel[end]) {
        if (!strcmp(attr, "bind"))
            return store_bind(c, drv, val);
        if (!strcmp(attr, "unbind"))
            return store_unbind(c, drv, val);
        if (!strcmp(attr, "new_id") || !strcmp(attr, "remove_id"))
            return 0;
        return 1;
    }
    if (sscanf(rel, "sys/devices/%63[^/]/%63[^/]/%255[^/]%n", dom, bdf,
               attr, &end) == 3 && !rel[end] && !strncmp(dom, "pci", 3))
        return store_dev_attr(c, bdf, attr, val);
    return 1;
}

int xm_ctrl_target(struct xm_ctx *c, const char *name, struct xm_pf **pf,
                   uint16_t *cntlid, bool *is_vf)
{
    char bdf[64];
    struct devinfo d;
    struct xm_sec *sec;

    if (strchr(name, '/') ||
        tlinkname(c, bdf, sizeof(bdf), "sys/class/nvme/%s/device", name) ||
        dev_info(c, bdf, &d) || !d.pf)
        return -ENODEV;
    *pf = d.pf;
    *is_vf = d.is_vf;
    if (!d.is_vf) {
        *cntlid = d.pf->cntlid;
        return 0;
    }
    sec = xm_sec_by_vfn(d.pf, d.vfn);
    if (!sec)
        return -ENODEV;
    *cntlid = sec->scid;
    return 0;
}

int xm_ctrl_attr(struct xm_ctx *c, const char *rel, const char *attr,
                 char *name, size_t len, struct xm_pf **pf,
                 uint16_t *cntlid, bool *is_vf)
{
    const char *base = strrchr(rel, '/');
    size_t n;

    if (!base || strcmp(base + 1, attr))
        return 1;
    for (n = base - rel; n && rel[n - 1] != '/'; n--)
        ;
    snprintf(name, len, "%.*s", (int)(base - rel - n), rel + n);
    return xm_ctrl_target(c, name, pf, cntlid, is_vf);
}

int xm_build_tree(struct xm_ctx *c)
{
    char drivers[256], *tok, *save = NULL;
    struct devinfo d;
    unsigned int i;
    int r;

    r = tmkdir(c, "sys/bus/pci/devices");
    if (!r)
        r = tmkdir(c, "sys/bus/pci/drivers");
    if (!r)
        r = tmkdir(c, "sys/class/nvme");
    if (!r)
        r = tmkdir(c, "dev");
    if (!r)
        r = tput(c, 0200, "", "sys/bus/pci/drivers_probe");
    if (!r)
        r = tput(c, 0644, "1\n", "sys/bus/pci/drivers_autoprobe");
    if (!r)
        r = tput(c, 0200, "", "sys/bus/pci/rescan");
    /* xenfs: Dom0 is the control domain, a driver domain is not */
    if (!r)
        r = tmkdir(c, "proc/xen");
    if (!r)
        r = tput(c, 0444, c->m->domd ? "" : "control_d\n",
                 "proc/xen/capabilities");
    snprintf(drivers, sizeof(drivers), "%s", c->m->drivers);
    for (tok = strtok_r(drivers, ",", &save); tok && !r;
         tok = strtok_r(NULL, ",", &save)) {
        if (!*tok || strchr(tok, '/'))
            return -EINVAL;
        r = tmkdir(c, "sys/bus/pci/drivers/%s", tok);
        if (!r)
            r = tput(c, 0200, "", "sys/bus/pci/drivers/%s/bind", tok);
        if (!r)
            r = tput(c, 0200, "", "sys/bus/pci/drivers/%s/unbind", tok);
        if (!r)
            r = tput(c, 0200, "", "sys/bus/pci/drivers/%s/new_id", tok);
        if (!r)
            r = tput(c, 0200, "", "sys/bus/pci/drivers/%s/remove_id", tok);
    }
    for (i = 0; i < c->m->npf && !r; i++) {
        r = create_dev(c, &c->m->pf[i], 0);
        if (!r && c->m->pf[i].b_bound &&
            driver_exists(c, c->m->pf[i].pf_driver)) {
            r = dev_info(c, c->m->pf[i].bdf, &d);
            if (!r)
                r = drv_probe(c, &d, c->m->pf[i].pf_driver);
        }
    }
    for (i = 0; i < c->m->npf && !r; i++)
        if (c->m->pf[i].b_numvfs)
            r = xm_set_numvfs(c, &c->m->pf[i], c->m->pf[i].b_numvfs);
    if (!r)
        r = xm_ns_build(c);
    if (!r)
        r = xm_irq_build(c);
    return r;
}

struct dump {
    char *p;
    size_t len, cap;
    int err;
};

static void dump_add(struct dump *b, const char *s, size_t n)
{
    char *np;

    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        np = realloc(b->p, b->cap + n + 65536);
        if (!np) {
            b->err = -ENOMEM;
            return;
        }
        b->p = np;
        b->cap += n + 65536;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void dump_str(struct dump *b, const char *s)
{
    dump_add(b, s, strlen(s));
}

static void dump_escaped(struct dump *b, const char *s, size_t n)
{
    char esc[8];
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = s[i];

        if (ch == '\n')
            dump_str(b, "\\n");
        else if (ch == '\\')
            dump_str(b, "\\\\");
        else if (ch < 0x20 || ch >= 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", ch);
            dump_str(b, esc);
        } else {
            dump_add(b, (const char *)&ch, 1);
        }
    }
}

static void dump_walk(struct xm_ctx *c, struct dump *b, const char *rel)
{
    struct dirent **list = NULL;
    char path[XM_PATH], sub[XM_PATH], buf[8192];
    struct stat st;
    ssize_t n;
    int i, cnt, fd;

    if (xm_pathf(c, path, sizeof(path), "%s", rel) || lstat(path, &st)) {
        b->err = b->err ? b->err : -errno;
        return;
    }
    if (S_ISLNK(st.st_mode)) {
        n = readlink(path, buf, sizeof(buf) - 1);
        buf[n < 0 ? 0 : n] = '\0';
        dump_str(b, "l ");
        dump_str(b, rel);
        dump_str(b, " -> ");
        dump_str(b, buf);
        dump_str(b, "\n");
        return;
    }
    if (S_ISREG(st.st_mode)) {
        dump_str(b, "f ");
        dump_str(b, rel);
        snprintf(buf, sizeof(buf), " %03o = ", st.st_mode & 0777);
        dump_str(b, buf);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        n = fd < 0 ? 0 : read(fd, buf, sizeof(buf));
        if (fd >= 0)
            close(fd);
        dump_escaped(b, buf, n < 0 ? 0 : n);
        dump_str(b, "\n");
        return;
    }
    dump_str(b, "d ");
    dump_str(b, rel);
    dump_str(b, "\n");
    cnt = scandir(path, &list, NULL, name_cmp);
    if (cnt < 0) {
        b->err = -errno;
        return;
    }
    for (i = 0; i < cnt; i++) {
        if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, "..")) {
            snprintf(sub, sizeof(sub), "%s/%s", rel, list[i]->d_name);
            dump_walk(c, b, sub);
        }
        free(list[i]);
    }
    free(list);
}

int xm_tree_dump(struct xm_ctx *c, char **out)
{
    struct dump b = { 0 };

    dump_str(&b, "");
    dump_walk(c, &b, "sys");
    dump_walk(c, &b, "dev");
    if (b.err) {
        free(b.p);
        return b.err;
    }
    *out = b.p;
    return 0;
}
