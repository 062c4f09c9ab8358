/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/sysfs.h"

const char *xvf_root(void)
{
    const char *root = secure_getenv("XEN_VF_ROOT");

    return root ? root : "";
}

int xvf_path(char *buf, size_t len, const char *fmt, ...)
{
    const char *root = xvf_root();
    size_t rlen = strlen(root);
    va_list ap;
    int r;

    if (rlen >= len)
        return -ENAMETOOLONG;
    memcpy(buf, root, rlen);
    va_start(ap, fmt);
    r = vsnprintf(buf + rlen, len - rlen, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= len - rlen)
        return -ENAMETOOLONG;
    return 0;
}

int xvf_pci_attr(char *buf, size_t len, const char *bdf, const char *attr)
{
    return xvf_path(buf, len, "/sys/bus/pci/devices/%s%s%s", bdf,
                    *attr ? "/" : "", attr);
}

int xvf_pci_attr_read_uint(const char *bdf, const char *attr,
                           unsigned int *ret)
{
    char path[PATH_MAX];
    unsigned long v;
    int r;

    r = xvf_pci_attr(path, sizeof(path), bdf, attr);
    if (r)
        return r;
    r = xvf_sysfs_read_ulong(path, &v);
    if (r)
        return r;
    *ret = v;
    return 0;
}

int xvf_pci_attr_write(const char *bdf, const char *attr, const char *val)
{
    char path[PATH_MAX];
    int r;

    r = xvf_pci_attr(path, sizeof(path), bdf, attr);
    if (r)
        return r;
    return xvf_sysfs_write(path, val);
}

int xvf_pci_attr_link(const char *bdf, const char *attr, char *buf,
                      size_t len)
{
    char path[PATH_MAX];
    int r;

    r = xvf_pci_attr(path, sizeof(path), bdf, attr);
    if (r)
        return r;
    return xvf_sysfs_link_name(path, buf, len);
}

int xvf_sysfs_read(const char *path, char *buf, size_t len)
{
    ssize_t n;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, len);
    r = -errno;
    close(fd);
    if (n < 0)
        return r;
    if ((size_t)n >= len)
        return -EOVERFLOW;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

int xvf_sysfs_read_ulong(const char *path, unsigned long *ret)
{
    char buf[64], *end;
    unsigned long v;
    int r;

    r = xvf_sysfs_read(path, buf, sizeof(buf));
    if (r)
        return r;
    errno = 0;
    v = strtoul(buf, &end, 0);
    if (errno || end == buf || *end)
        return -EINVAL;
    *ret = v;
    return 0;
}

int xvf_sysfs_write(const char *path, const char *value)
{
    size_t len = strlen(value);
    ssize_t n;
    int fd, r;

    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = write(fd, value, len);
    r = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
    if (close(fd) < 0 && !r)
        r = -errno;
    return r;
}

int xvf_sysfs_link_name(const char *path, char *buf, size_t len)
{
    char target[4096];
    const char *base;
    ssize_t n;

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
