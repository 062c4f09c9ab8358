/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdio.h>

#include "pci/sriov.h"
#include "util/sysfs.h"

int xvf_sriov_totalvfs(const char *pf, unsigned int *ret)
{
    int r;

    if (!xvf_pci_exists(pf))
        return -ENODEV;
    r = xvf_pci_attr_read_uint(pf, "sriov_totalvfs", ret);
    if (r == -ENOENT || (!r && !*ret))
        return -EOPNOTSUPP;
    return r;
}

int xvf_sriov_numvfs(const char *pf, unsigned int *ret)
{
    return xvf_pci_attr_read_uint(pf, "sriov_numvfs", ret);
}

int xvf_sriov_set_numvfs(const char *pf, unsigned int n)
{
    char val[16];

    snprintf(val, sizeof(val), "%u", n);
    return xvf_pci_attr_write(pf, "sriov_numvfs", val);
}

int xvf_sriov_autoprobe(const char *pf, unsigned int *ret)
{
    return xvf_pci_attr_read_uint(pf, "sriov_drivers_autoprobe", ret);
}

int xvf_sriov_set_autoprobe(const char *pf, unsigned int on)
{
    return xvf_pci_attr_write(pf, "sriov_drivers_autoprobe", on ? "1" : "0");
}

int xvf_sriov_virtfn(const char *pf, unsigned int vfn, char vf[XVF_BDF_LEN])
{
    char attr[32];

    if (!vfn)
        return -EINVAL;
    snprintf(attr, sizeof(attr), "virtfn%u", vfn - 1);
    return xvf_pci_attr_link(pf, attr, vf, XVF_BDF_LEN);
}

int xvf_sriov_vf_driver(const char *pf, unsigned int vfn,
                        char vf[XVF_BDF_LEN], char *drv, size_t len)
{
    int r;

    drv[0] = '\0';
    r = xvf_sriov_virtfn(pf, vfn, vf);
    if (r) {
        vf[0] = '\0';
        return r;
    }
    r = xvf_pci_driver(vf, drv, len);
    if (r)
        drv[0] = '\0';
    return r;
}

int xvf_pci_physfn(const char *vf, char pf[XVF_BDF_LEN])
{
    return xvf_pci_attr_link(vf, "physfn", pf, XVF_BDF_LEN);
}
