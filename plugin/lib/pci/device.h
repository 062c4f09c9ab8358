/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * device.h - one PCI device through sysfs: whether it exists, what it is,
 * and which driver has it (binding and unbinding)
 *
 * Device-class neutral. All paths come from util/sysfs.h. Addresses are
 * canonical "DDDD:BB:DD.F" strings.
 */
#ifndef XVF_PCI_DEVICE_H
#define XVF_PCI_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

/* Size of a canonical PCI address "DDDD:BB:DD.F" with its NUL, rounded. */
#define XVF_BDF_LEN 16

/**
 * xvf_pci_exists() - whether a PCI device with address @bdf exists
 * @bdf: PCI address
 *
 * Return: true when sysfs has the device.
 */
bool xvf_pci_exists(const char *bdf);

/**
 * xvf_pci_describe() - "vendor device [vvvv:dddd]" of @bdf, for people
 * @bdf: PCI address
 * @buf: output, always NUL-terminated on success
 * @len: size of @buf
 *
 * Names come from libpci's ID database; without one, or for IDs it does
 * not know, the numbers alone.
 *
 * Return: 0, or -errno reading the vendor and device IDs (-ENOENT when
 * @bdf does not exist).
 */
int xvf_pci_describe(const char *bdf, char *buf, size_t len);

/**
 * xvf_pci_driver() - name of the driver bound to @bdf
 * @bdf: PCI address
 * @drv: output: the driver's name, "" when none is bound
 * @len: size of @drv
 *
 * Return: 0, -ENODEV when @bdf does not exist, or another -errno.
 */
int xvf_pci_driver(const char *bdf, char *drv, size_t len);

/**
 * xvf_pci_driver_exists() - whether PCI driver @driver is registered
 * @driver: its name, e.g. "pciback"
 *
 * Return: true when /sys/bus/pci/drivers/@driver exists.
 */
bool xvf_pci_driver_exists(const char *driver);

/**
 * xvf_pci_bind() - bind @bdf to @driver through driver_override
 * @bdf:    PCI address
 * @driver: driver name
 *
 * Writes driver_override and then drivers_probe, because a plain bind
 * fails with ENODEV while the PF's autoprobe is off. Checks the result.
 *
 * Return: 0 once bound to @driver; -ENODEV when the driver does not exist
 * or its probe refused the device; -EBUSY when bound to another driver;
 * another -errno of sysfs.
 */
int xvf_pci_bind(const char *bdf, const char *driver);

/**
 * xvf_pci_reset_off() - take the reset methods of @bdf away
 * @bdf: PCI address
 *
 * Writes "" to its reset_method attribute (Linux 5.15 and later), so that
 * a driver taking the device (pciback resets every device it takes) does
 * not reset it. xvf_pci_reset_on() gives them back.
 *
 * Return: 1 when taken away, 0 when there was nothing to take (no
 * reset_method attribute, or no method), or -errno.
 */
int xvf_pci_reset_off(const char *bdf);

/**
 * xvf_pci_reset_on() - give @bdf the kernel's reset methods back
 * @bdf: PCI address
 *
 * Writes "default" to its reset_method attribute when it has no method,
 * which is what xvf_pci_reset_off() leaves; a device with methods is left
 * alone. Idempotent.
 *
 * Return: 0 (also when @bdf or the attribute does not exist), or -errno.
 */
int xvf_pci_reset_on(const char *bdf);

/**
 * xvf_pci_unbind() - unbind @bdf from its driver and clear driver_override
 * @bdf: PCI address
 *
 * Idempotent: an unbound device with no override is a success.
 *
 * Return: 0, -ENODEV when @bdf does not exist, or another -errno.
 */
int xvf_pci_unbind(const char *bdf);

#endif
