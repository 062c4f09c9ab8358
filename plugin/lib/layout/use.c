/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout/internal.h"
#include "util/sysfs.h"

#define DATA_PROBE_BYTES (1024 * 1024)

/*
 * The kernel's nodes of a namespace live under the controllers that see
 * it: /sys/class/nvme/nvmeC/nvmeCnN, or with native multipath the path
 * node nvmeSc<C>nN there and the disk nvmeSnN (nvme_mpath_set_disk_name).
 * Each has an "nsid" attribute.
 */
static bool ns_node_name(const char *name, char *disk, size_t len)
{
    unsigned int s, c, n;
    int end = 0;

    if (sscanf(name, "nvme%uc%un%u%n", &s, &c, &n, &end) == 3 &&
        !name[end]) {
        snprintf(disk, len, "nvme%un%u", s, n);
        return true;
    }
    end = 0;
    if (sscanf(name, "nvme%un%u%n", &s, &n, &end) == 2 && !name[end]) {
        snprintf(disk, len, "%.31s", name);
        return true;
    }
    return false;
}

void xvf_layout_ctrl_ns_nodes(const char *ctrl,
                              void (*fn)(void *, uint32_t, const char *),
                              void *opaque)
{
    char path[PATH_MAX], disk[64];
    unsigned long nsid;
    struct dirent *de;
    DIR *d;

    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s", ctrl))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (!ns_node_name(de->d_name, disk, sizeof(disk)) ||
            xvf_path(path, sizeof(path), "/sys/class/nvme/%s/%s/nsid", ctrl,
                     de->d_name) ||
            xvf_sysfs_read_ulong(path, &nsid))
            continue;
        fn(opaque, nsid, disk);
    }
    closedir(d);
}

static void note_blockdev(void *opaque, uint32_t nsid, const char *disk)
{
    struct xvf_layout_state *st = opaque;
    struct xvf_layout_ns *ns = xvf_layout_state_ns(st, nsid);

    if (ns && !ns->use.blockdev[0])
        snprintf(ns->use.blockdev, sizeof(ns->use.blockdev), "%.31s",
                 disk);
}

/* Controllers of the PF's subsystem: its own, and VFs bound in DomD. */
static void find_blockdevs(const struct xvf_nvme_pf *pf,
                           struct xvf_layout_state *st)
{
    char path[PATH_MAX], nqn[256], other[256];
    struct dirent *de;
    DIR *d;

    xvf_layout_ctrl_ns_nodes(pf->ctrl, note_blockdev, st);
    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s/subsysnqn",
                 pf->ctrl) ||
        xvf_sysfs_read(path, nqn, sizeof(nqn)) ||
        xvf_path(path, sizeof(path), "/sys/class/nvme"))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, pf->ctrl) ||
            xvf_path(path, sizeof(path), "/sys/class/nvme/%s/subsysnqn",
                     de->d_name) ||
            xvf_sysfs_read(path, other, sizeof(other)) ||
            strcmp(nqn, other))
            continue;
        xvf_layout_ctrl_ns_nodes(de->d_name, note_blockdev, st);
    }
    closedir(d);
}

#define MAX_PARTS 64

/* The disk and its partitions: names and "maj:min". */
struct disk_parts {
    unsigned int n;
    char name[MAX_PARTS][40];
    char dev[MAX_PARTS][24];
};

static void disk_parts(const char *disk, struct disk_parts *p)
{
    char path[PATH_MAX];
    struct dirent *de;
    size_t len = strlen(disk);
    DIR *d;

    p->n = 0;
    if (!xvf_path(path, sizeof(path), "/sys/class/block/%s/dev", disk) &&
        !xvf_sysfs_read(path, p->dev[0], sizeof(p->dev[0]))) {
        snprintf(p->name[0], sizeof(p->name[0]), "%s", disk);
        p->n = 1;
    }
    if (xvf_path(path, sizeof(path), "/sys/class/block/%s", disk))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d)) && p->n < MAX_PARTS) {
        if (strncmp(de->d_name, disk, len) || !de->d_name[len] ||
            strlen(de->d_name) >= sizeof(p->name[0]) ||
            xvf_path(path, sizeof(path), "/sys/class/block/%s/%s/dev", disk,
                     de->d_name) ||
            xvf_sysfs_read(path, p->dev[p->n], sizeof(p->dev[0])))
            continue;
        memcpy(p->name[p->n], de->d_name, strlen(de->d_name) + 1);
        p->n++;
    }
    closedir(d);
}

static bool in_parts(const struct disk_parts *p, const char *dev,
                     bool by_name)
{
    unsigned int i;

    for (i = 0; i < p->n; i++)
        if (!strcmp(by_name ? p->name[i] : p->dev[i], dev))
            return true;
    return false;
}

/* A file of /proc under the root (tests give a fake one). */
static FILE *open_proc(const char *name)
{
    char path[PATH_MAX];

    if (xvf_path(path, sizeof(path), "/proc/%s", name))
        return NULL;
    return fopen(path, "re");
}

static void find_mounts(const struct disk_parts *p, struct xvf_layout_use *u)
{
    char line[4096], majmin[32], mnt[PATH_MAX];
    FILE *f = open_proc("self/mountinfo");

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%*s %*s %31s %*s %4095s", majmin, mnt) != 2 ||
            !in_parts(p, majmin, false))
            continue;
        xvf_layout_append(u->mounts, sizeof(u->mounts), ", ", mnt);
    }
    fclose(f);
}

static void find_swap(const struct disk_parts *p, struct xvf_layout_use *u)
{
    char line[1024], dev[PATH_MAX];
    FILE *f = open_proc("swaps");
    const char *base;

    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%4095s", dev) != 1 || strncmp(dev, "/dev/", 5))
            continue;
        base = strrchr(dev, '/') + 1;
        if (in_parts(p, base, true))
            u->swap = true;
    }
    fclose(f);
}

static void find_holders(const struct disk_parts *p,
                         struct xvf_layout_use *u)
{
    char path[PATH_MAX];
    struct dirent *de;
    unsigned int i;
    DIR *d;

    for (i = 0; i < p->n; i++) {
        if (i ? xvf_path(path, sizeof(path), "/sys/class/block/%s/%s/"
                         "holders", p->name[0], p->name[i]) :
                xvf_path(path, sizeof(path), "/sys/class/block/%s/holders",
                         p->name[0]))
            continue;
        d = opendir(path);
        if (!d)
            continue;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.')
                xvf_layout_append(u->holders, sizeof(u->holders), ", ",
                                  de->d_name);
        closedir(d);
    }
}

static void find_openers(const struct disk_parts *p,
                         struct xvf_layout_use *u)
{
    char path[PATH_MAX], link[PATH_MAX], comm[64], who[96];
    struct dirent *de, *fe;
    DIR *d, *fd;
    ssize_t n;

    if (xvf_path(path, sizeof(path), "/proc"))
        return;
    d = opendir(path);
    if (!d)
        return;
    while ((de = readdir(d))) {
        bool found = false;

        if (!isdigit((unsigned char)de->d_name[0]) ||
            (pid_t)strtol(de->d_name, NULL, 10) == getpid() ||
            xvf_path(path, sizeof(path), "/proc/%s/fd", de->d_name))
            continue;
        fd = opendir(path);
        if (!fd)
            continue;
        while (!found && (fe = readdir(fd))) {
            if (fe->d_name[0] == '.' ||
                xvf_path(path, sizeof(path), "/proc/%s/fd/%s", de->d_name,
                         fe->d_name))
                continue;
            n = readlink(path, link, sizeof(link) - 1);
            if (n <= 5)
                continue;
            link[n] = '\0';
            found = !strncmp(link, "/dev/", 5) &&
                    in_parts(p, link + 5, true);
        }
        closedir(fd);
        if (!found)
            continue;
        if (xvf_path(path, sizeof(path), "/proc/%s/comm", de->d_name) ||
            xvf_sysfs_read(path, comm, sizeof(comm)))
            strcpy(comm, "?");
        snprintf(who, sizeof(who), "%.16s (%.60s)", de->d_name, comm);
        xvf_layout_append(u->openers, sizeof(u->openers), ", ", who);
    }
    closedir(d);
}

/*
 * O_EXCL on a block device fails with EBUSY while anyone claims it:
 * a mounted file system, swap, device mapper, md, another O_EXCL opener.
 */
static void probe_device(const char *disk, const struct xvf_layout_ns *ns,
                         struct xvf_layout_use *u)
{
    char path[PATH_MAX];
    unsigned char *buf;
    struct stat st;
    ssize_t n, got = 0;
    int fd;

    if (xvf_path(path, sizeof(path), "/dev/%s", disk) || stat(path, &st))
        return;
    if (S_ISBLK(st.st_mode)) {
        fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 && errno == EBUSY)
            u->claimed = true;
        if (fd >= 0)
            close(fd);
    }
    if (!ns->nuse)
        return;
    buf = malloc(DATA_PROBE_BYTES);
    fd = buf ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    while (fd >= 0 && got < DATA_PROBE_BYTES) {
        n = read(fd, buf + got, DATA_PROBE_BYTES - got);
        if (n <= 0)
            break;
        got += n;
    }
    if (fd >= 0)
        close(fd);
    if (got > 0) {
        u->data = XVF_DATA_ZEROS;
        for (n = 0; n < got; n++)
            if (buf[n]) {
                u->data = XVF_DATA_PRESENT;
                break;
            }
    }
    free(buf);
}

void xvf_layout_read_use(const struct xvf_nvme_pf *pf,
                         struct xvf_layout_state *st)
{
    struct disk_parts *p = malloc(sizeof(*p));
    unsigned int i;

    find_blockdevs(pf, st);
    for (i = 0; i < st->nns; i++) {
        struct xvf_layout_ns *ns = &st->ns[i];
        struct xvf_layout_use *u = &ns->use;

        u->data = ns->nuse ? XVF_DATA_UNKNOWN : XVF_DATA_NONE;
        if (!u->blockdev[0] || !p)
            continue;
        disk_parts(u->blockdev, p);
        find_mounts(p, u);
        find_swap(p, u);
        find_holders(p, u);
        find_openers(p, u);
        probe_device(u->blockdev, ns, u);
    }
    free(p);
}
