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

/**
 * xvf_root() - the path prefix of sys/, dev/ and proc/
 *
 * Return: XEN_VF_ROOT when set, "" normally; never NULL.
 */
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
 * @buf:  output
 * @len:  size of @buf
 * @bdf:  PCI address, "DDDD:BB:DD.F"
 * @attr: "" for the device directory itself
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int xvf_pci_attr(char *buf, size_t len, const char *bdf, const char *attr);

/**
 * xvf_pci_attr_read_uint() - read attribute @attr of @bdf as one number
 * @bdf:  PCI address
 * @attr: attribute name, e.g. "sriov_numvfs"
 * @ret:  the value (decimal, or hex with "0x" as in "vendor")
 *
 * Return: 0; -ENOENT when @bdf or @attr does not exist; -EINVAL when the
 * attribute is not a number; another -errno of the read.
 */
int xvf_pci_attr_read_uint(const char *bdf, const char *attr,
                           unsigned int *ret);

/**
 * xvf_pci_attr_write() - write @val to attribute @attr of @bdf
 * @bdf:  PCI address
 * @attr: attribute name
 * @val:  the value, written in one write()
 *
 * Return: 0 or -errno, as xvf_sysfs_write().
 */
int xvf_pci_attr_write(const char *bdf, const char *attr, const char *val);

/**
 * xvf_pci_attr_link() - last component of the target of link @attr of
 * @bdf ("driver", "physfn", "virtfn0")
 * @bdf:  PCI address
 * @attr: the link's name
 * @buf:  output
 * @len:  size of @buf
 *
 * Return: 0, -ENOENT when there is no such link, or another -errno.
 */
int xvf_pci_attr_link(const char *bdf, const char *attr, char *buf,
                      size_t len);

/**
 * xvf_sysfs_read() - read a one-line attribute, without its newline
 * @path: the attribute, from xvf_path() or xvf_pci_attr()
 * @buf:  output, NUL-terminated; trailing newlines and blanks dropped
 * @len:  size of @buf
 *
 * Return: 0, or -errno of open()/read(); -EOVERFLOW when it does not fit.
 */
int xvf_sysfs_read(const char *path, char *buf, size_t len);

/**
 * xvf_sysfs_read_ulong() - read an attribute holding one number
 * @path: the attribute
 * @ret:  the value; "0x" prefixed hex (PCI IDs and class) is accepted
 *
 * Return: 0, -EINVAL when the attribute is not one number, or -errno as
 * xvf_sysfs_read().
 */
int xvf_sysfs_read_ulong(const char *path, unsigned long *ret);

/**
 * xvf_sysfs_write() - write @value to an attribute in one write()
 * @path:  the attribute
 * @value: what to write, without a NUL
 *
 * sysfs takes the whole value from the first write (sysfs-rules.rst), so a
 * short write is an error, not something to retry.
 *
 * Return: 0 or -errno (the kernel's verdict, e.g. -ENODEV from a probe).
 */
int xvf_sysfs_write(const char *path, const char *value);

/**
 * xvf_sysfs_link_name() - last component of the target of symlink @path
 * @path: the link
 * @buf:  output
 * @len:  size of @buf
 *
 * Return: 0, -ENOENT when @path does not exist, -ENAMETOOLONG when the
 * name does not fit, or another -errno.
 */
int xvf_sysfs_link_name(const char *path, char *buf, size_t len);

#endif
