/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * sysfs.h - the one place every sysfs, /dev and /proc path comes from
 *
 * All paths are built under a root that is "" on a real system. Tests set
 * XEN_VF_ROOT (read with secure_getenv(), so a set-uid caller cannot move
 * it) to a directory holding a fake sys/, dev/ and proc/ tree.
 */
#ifndef XVF_SYSFS_H
#define XVF_SYSFS_H

#include <stddef.h>

/** xvf_root() - the path prefix of sys/, dev/ and proc/; "" normally */
const char *xvf_root(void);

/**
 * xvf_path() - build "<root>/<formatted path>"
 * @buf: output
 * @len: size of @buf
 * @fmt: absolute path format, e.g. "/sys/bus/pci/devices/%s/sriov_numvfs"
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * xvf_pci_attr() - path of attribute @attr of PCI device @bdf
 * @attr: "" for the device directory itself
 */
int xvf_pci_attr(char *buf, size_t len, const char *bdf, const char *attr);

/**
 * xvf_sysfs_read() - read a one-line attribute, without its newline
 * Return: 0, or -errno of open()/read(); -EOVERFLOW when it does not fit.
 */
int xvf_sysfs_read(const char *path, char *buf, size_t len);

/** xvf_sysfs_read_ulong() - read an attribute holding one decimal number */
int xvf_sysfs_read_ulong(const char *path, unsigned long *ret);

/**
 * xvf_sysfs_write() - write @value to an attribute in one write()
 *
 * sysfs takes the whole value from the first write (sysfs-rules.rst), so a
 * short write is an error, not something to retry.
 *
 * Return: 0 or -errno (the kernel's verdict, e.g. -ENODEV from a probe).
 */
int xvf_sysfs_write(const char *path, const char *value);

/**
 * xvf_sysfs_link_name() - last component of the target of symlink @path
 * Return: 0, -ENOENT when @path does not exist, or another -errno.
 */
int xvf_sysfs_link_name(const char *path, char *buf, size_t len);

#endif
