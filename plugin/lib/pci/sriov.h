/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * sriov.h - the SR-IOV attributes of a PCI physical function, through
 * sysfs: how many VFs it can have and has, whether drivers probe them,
 * where each VF is
 *
 * Device-class neutral: the NVMe and NIC device classes both use it. All
 * paths come from util/sysfs.h. Addresses are canonical "DDDD:BB:DD.F"
 * strings; binding a VF to a driver is pci/device.h.
 */
#ifndef XVF_SRIOV_H
#define XVF_SRIOV_H

#include <stddef.h>

#include "pci/device.h"

/**
 * xvf_sriov_totalvfs() - how many VFs the PF can have
 * @pf:  PF address
 * @ret: sriov_totalvfs
 *
 * Return: 0, -EOPNOTSUPP when @pf has no SR-IOV capability, -ENODEV when
 * @pf does not exist, or another -errno.
 */
int xvf_sriov_totalvfs(const char *pf, unsigned int *ret);

/**
 * xvf_sriov_numvfs() - how many VFs are enabled now
 * @pf:  PF address
 * @ret: sriov_numvfs
 *
 * Return: 0, -ENOENT when @pf or the attribute does not exist, or -errno.
 */
int xvf_sriov_numvfs(const char *pf, unsigned int *ret);

/**
 * xvf_sriov_set_numvfs() - enable @n VFs (0 disables them all)
 * @pf: PF address
 * @n:  the new sriov_numvfs
 *
 * The kernel refuses to go from one non-zero count to another; callers
 * go through 0 themselves, knowing which VFs are in use.
 *
 * Return: 0, or the kernel's -errno (-EBUSY from a non-zero count, -ERANGE
 * above sriov_totalvfs, ...).
 */
int xvf_sriov_set_numvfs(const char *pf, unsigned int n);

/**
 * xvf_sriov_autoprobe() - read sriov_drivers_autoprobe
 * @pf:  PF address
 * @ret: 0 or 1
 *
 * Return: 0, -ENOENT when @pf or the attribute does not exist, or -errno.
 */
int xvf_sriov_autoprobe(const char *pf, unsigned int *ret);

/**
 * xvf_sriov_set_autoprobe() - write sriov_drivers_autoprobe
 * @pf: PF address
 * @on: non-zero to let drivers probe new VFs
 *
 * Return: 0 or -errno.
 */
int xvf_sriov_set_autoprobe(const char *pf, unsigned int on);

/**
 * xvf_sriov_virtfn() - address of VF number @vfn (1-based, as NVMe VFN)
 * @pf:  PF address
 * @vfn: VF number, from 1
 * @vf:  output: the VF's address
 *
 * Read from the PF's virtfn<vfn-1> link, never computed from offset and
 * stride.
 *
 * Return: 0, -ENOENT when that VF is not enabled, -EINVAL for @vfn 0, or
 * another -errno.
 */
int xvf_sriov_virtfn(const char *pf, unsigned int vfn, char vf[XVF_BDF_LEN]);

/**
 * xvf_sriov_vf_driver() - the driver bound to VF number @vfn of @pf
 * @pf:  PF address
 * @vfn: VF number, from 1
 * @vf:  output: the VF's address
 * @drv: output: the driver's name, "" when none is bound
 * @len: size of @drv
 *
 * Both outputs are always set: "" for what could not be read, so a
 * listing may ignore the return value.
 *
 * Return: 0, -ENOENT when that VF is not enabled, or another -errno (see
 * xvf_sriov_virtfn() and xvf_pci_driver()).
 */
int xvf_sriov_vf_driver(const char *pf, unsigned int vfn,
                        char vf[XVF_BDF_LEN], char *drv, size_t len);

/**
 * xvf_pci_physfn() - the PF of @vf
 * @vf: a PCI address
 * @pf: output: the address of its physical function
 *
 * Return: 0, or -ENOENT when @vf is not a virtual function.
 */
int xvf_pci_physfn(const char *vf, char pf[XVF_BDF_LEN]);

#endif
