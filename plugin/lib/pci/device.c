/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "pci/device.h"
#include "util/sysfs.h"

bool xvf_pci_exists(const char *bdf)
{
    char path[PATH_MAX];
    struct stat st;

    return !xvf_pci_attr(path, sizeof(path), bdf, "") &&
           !stat(path, &st);
}

int xvf_pci_driver(const char *bdf, char *drv, size_t len)
{
    int r;

    r = xvf_pci_attr_link(bdf, "driver", drv, len);
    if (r == -ENOENT) {
        if (!xvf_pci_exists(bdf))
            return -ENODEV;
        drv[0] = '\0';
        return 0;
    }
    return r;
}

bool xvf_pci_driver_exists(const char *driver)
{
    char path[PATH_MAX];
    struct stat st;

    return !xvf_path(path, sizeof(path), "/sys/bus/pci/drivers/%s",
                     driver) && !stat(path, &st);
}

int xvf_pci_bind(const char *bdf, const char *driver)
{
    char path[PATH_MAX], cur[64];
    int r;

    r = xvf_pci_driver(bdf, cur, sizeof(cur));
    if (r)
        return r;
    if (!strcmp(cur, driver))
        return 0;
    if (cur[0])
        return -EBUSY;
    if (!xvf_pci_driver_exists(driver))
        return -ENODEV;
    r = xvf_pci_attr_write(bdf, "driver_override", driver);
    if (r)
        return r;
    r = xvf_path(path, sizeof(path), "/sys/bus/pci/drivers_probe");
    if (r)
        return r;
    r = xvf_sysfs_write(path, bdf);
    if (r)
        return r;
    /* drivers_probe succeeds even when the probe refused the device */
    r = xvf_pci_driver(bdf, cur, sizeof(cur));
    if (r)
        return r;
    return strcmp(cur, driver) ? -ENODEV : 0;
}

/* reset_method of @bdf in @buf; "" when it has none */
static int reset_methods(const char *bdf, char *buf, size_t len)
{
    char path[PATH_MAX];
    int r;

    r = xvf_pci_attr(path, sizeof(path), bdf, "reset_method");
    return r ? r : xvf_sysfs_read(path, buf, len);
}

int xvf_pci_reset_off(const char *bdf)
{
    char cur[128];
    int r;

    r = reset_methods(bdf, cur, sizeof(cur));
    if (r == -ENOENT)
        return 0;
    if (r)
        return r;
    if (!cur[0])
        return 0;
    r = xvf_pci_attr_write(bdf, "reset_method", "\n");
    return r ? r : 1;
}

int xvf_pci_reset_on(const char *bdf)
{
    char cur[128];
    int r;

    r = reset_methods(bdf, cur, sizeof(cur));
    if (r == -ENOENT || r == -ENODEV)
        return 0;
    if (r || cur[0])
        return r;
    return xvf_pci_attr_write(bdf, "reset_method", "default");
}

int xvf_pci_unbind(const char *bdf)
{
    char path[PATH_MAX], drv[64], override[64];
    int r;

    r = xvf_pci_driver(bdf, drv, sizeof(drv));
    if (r)
        return r;
    if (drv[0]) {
        r = xvf_path(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind",
                     drv);
        if (r)
            return r;
        r = xvf_sysfs_write(path, bdf);
        if (r)
            return r;
    }
    r = xvf_pci_attr(path, sizeof(path), bdf, "driver_override");
    if (r)
        return r;
    r = xvf_sysfs_read(path, override, sizeof(override));
    if (r == -ENOENT)
        return 0;
    if (r)
        return r;
    if (!override[0] || !strcmp(override, "(null)"))
        return 0;
    return xvf_sysfs_write(path, "\n");
}

/*
 * libpci's default error handler exits the process: ours jumps back out
 * of the lookup instead. Lookups are not reentrant anyway (the name list
 * lives in the access structure), so one jump buffer is enough.
 */
static jmp_buf pci_error_jump;

static void __attribute__((noreturn)) pci_error(char *msg, ...)
{
    (void)msg;
    longjmp(pci_error_jump, 1);
}

static void pci_quiet(char *msg, ...)
{
    (void)msg;
}

int xvf_pci_describe(const char *bdf, char *buf, size_t len)
{
    char vname[128] = "", dname[128] = "";
    unsigned int vendor, device;
    struct pci_access *volatile pacc = NULL;
    int r;

    r = xvf_pci_attr_read_uint(bdf, "vendor", &vendor);
    if (!r)
        r = xvf_pci_attr_read_uint(bdf, "device", &device);
    if (r)
        return r;
    if (!setjmp(pci_error_jump)) {
        pacc = pci_alloc();
        pacc->error = pci_error;
        pacc->warning = pci_quiet;
        pacc->debug = pci_quiet;
        if (!pci_lookup_name(pacc, vname, sizeof(vname),
                             PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
                             vendor))
            vname[0] = '\0';
        if (!pci_lookup_name(pacc, dname, sizeof(dname),
                             PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
                             vendor, device))
            dname[0] = '\0';
    } else {
        vname[0] = dname[0] = '\0';
    }
    if (pacc)
        pci_cleanup(pacc);
    snprintf(buf, len, "%s%s%s%s[%04x:%04x]", vname, vname[0] ? " " : "",
             dname, dname[0] ? " " : "", vendor, device);
    return 0;
}
