/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * sriov.h - the PCI SR-IOV and driver-binding layer, through sysfs
 *
 * Device-class neutral: the NVMe and NIC device classes both use it. All paths come
 * from sysfs.h. Addresses are canonical "DDDD:BB:DD.F" strings.
 */
#ifndef XVF_SRIOV_H
#define XVF_SRIOV_H

#include <stdbool.h>
#include <stddef.h>

#define XVF_BDF_LEN 16

/**
 * xvf_sriov_totalvfs() - how many VFs the PF can have
 * Return: 0, -EOPNOTSUPP when @pf has no SR-IOV capability, -ENODEV when
 * @pf does not exist.
 */
int xvf_sriov_totalvfs(const char *pf, unsigned int *ret);

/** xvf_sriov_numvfs() - how many VFs are enabled now */
int xvf_sriov_numvfs(const char *pf, unsigned int *ret);

/**
 * xvf_sriov_set_numvfs() - enable @n VFs (0 disables them all)
 *
 * The kernel refuses to go from one non-zero count to another; callers
 * go through 0 themselves, knowing which VFs are in use.
 */
int xvf_sriov_set_numvfs(const char *pf, unsigned int n);

/** xvf_sriov_autoprobe() - read sriov_drivers_autoprobe (0 or 1) */
int xvf_sriov_autoprobe(const char *pf, unsigned int *ret);

/** xvf_sriov_set_autoprobe() - write sriov_drivers_autoprobe */
int xvf_sriov_set_autoprobe(const char *pf, unsigned int on);

/**
 * xvf_sriov_virtfn() - address of VF number @vfn (1-based, as NVMe VFN)
 *
 * Read from the PF's virtfn<vfn-1> link, never computed from offset and
 * stride. Return: 0, or -ENOENT when that VF is not enabled.
 */
int xvf_sriov_virtfn(const char *pf, unsigned int vfn, char vf[XVF_BDF_LEN]);

/**
 * xvf_pci_physfn() - the PF of @vf
 * Return: 0, or -ENOENT when @vf is not a virtual function.
 */
int xvf_pci_physfn(const char *vf, char pf[XVF_BDF_LEN]);

/** xvf_pci_exists() - whether a PCI device with address @bdf exists */
bool xvf_pci_exists(const char *bdf);

/**
 * xvf_pci_describe() - "vendor device [vvvv:dddd]" of @bdf, for people
 *
 * Names come from libpci's ID database; without one, or for IDs it does
 * not know, the numbers alone.
 */
int xvf_pci_describe(const char *bdf, char *buf, size_t len);

/**
 * xvf_pci_driver() - name of the driver bound to @bdf; "" when none
 */
int xvf_pci_driver(const char *bdf, char *drv, size_t len);

/**
 * xvf_pci_bind() - bind @bdf to @driver through driver_override
 *
 * Writes driver_override and then drivers_probe, because a plain bind
 * fails with ENODEV while the PF's autoprobe is off. Checks the result.
 *
 * Return: 0 once bound to @driver; -ENODEV when the driver does not exist
 * or its probe refused the device; -EBUSY when bound to another driver.
 */
int xvf_pci_bind(const char *bdf, const char *driver);

/**
 * xvf_pci_unbind() - unbind @bdf from its driver and clear driver_override
 * Idempotent: an unbound device with no override is a success.
 */
int xvf_pci_unbind(const char *bdf);

#endif
