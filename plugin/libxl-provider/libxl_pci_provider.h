/*
 * libxl_pci_provider.h - interface between libxl and PCI name providers
 *
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU Lesser General Public License as published
 * by the Free Software Foundation; version 2.1 only. with the special
 * exception on linking described in file LICENSE.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU Lesser General Public License for more details.
 *
 * A PCI name provider makes a PCI device exist, or become free, when a
 * guest asks for it by name, and takes it back when the guest no longer
 * uses it.  The example it was written for is an SR-IOV virtual function
 * that a driver domain creates on demand: the guest configuration says
 *
 *     pci = [ "vf:nvme0/ns2" ]
 *
 * and the "vf" provider asks the driver domain to create a virtual
 * function with namespace 2 of nvme0 attached, then tells libxl its BDF.
 *
 * A name "PREFIX:REST" belongs to the provider installed as
 *
 *     LIBXL_PCI_PROVIDER_DIR/PREFIX.so
 *
 * where PREFIX is a lower-case letter followed by up to 15 lower-case
 * letters, digits, '_' or '-'.  LIBXL_PCI_PROVIDER_DIR is
 * $(LIBEXEC_LIB)/pci-providers; the environment variable of the same name
 * overrides it.  A name with no installed provider is an ordinary PCI
 * device name (see xl pci-assignable-add -n).
 *
 * libxl dlopen()s the provider and calls its LIBXL_PCI_PROVIDER_INIT
 * function with the highest interface version it speaks; the provider
 * returns its operations, or NULL if it cannot work with that version.
 *
 * Life of a device (all calls come from libxl's event thread and must not
 * block for long: anything slow happens elsewhere, and libxl waits for it
 * asynchronously by watching a xenstore path the provider chooses):
 *
 *  1. check(): may libxl use this name at all?  Called when xl parses a
 *     domain configuration, before anything is created.
 *  2. request(): start preparing the device for call->domid.  The
 *     provider sets call->path, the xenstore path libxl watches, and
 *     optionally call->timeout_ms.
 *  3. answer(): called whenever call->path changes, and once after the
 *     watch is set.  Returns LIBXL_PCI_PROVIDER_PENDING to keep waiting,
 *     0 with the BDF filled in when the device is ready, or an error.
 *     If no final answer comes within the timeout, libxl gives up and
 *     calls release().
 *  4. libxl then assigns the device like any other (see seize= in
 *     xl-pci-configuration(5)).
 *  5. release(): the guest no longer uses the device, or adding it
 *     failed.  Called after libxl has de-assigned the device, on detach,
 *     on domain destruction, and on a failed request or add.  libxl does
 *     not wait for the device to be taken back.  When release() follows a
 *     request in the same libxl operation, call->path is still set; after
 *     a detach or a destroy it is empty and call->bdf_valid is set.
 *
 * Every operation returns 0 or a negative errno value; on failure the
 * provider writes a one-line message, fit for the user, to call->error.
 */
#ifndef LIBXL_PCI_PROVIDER_H
#define LIBXL_PCI_PROVIDER_H

#include <stdint.h>

struct xs_handle;

#define LIBXL_PCI_PROVIDER_VERSION 1
#define LIBXL_PCI_PROVIDER_INIT "libxl_pci_provider_init"
#define LIBXL_PCI_PROVIDER_PREFIX_MAX 16
#define LIBXL_PCI_PROVIDER_PENDING 1

/**
 * struct libxl_pci_provider_call - arguments and results of one operation
 * @xsh:        libxl's xenstore connection (NULL for check())
 * @domid:      the guest the device is for (0 for check())
 * @name:       the device name, with its prefix, e.g. "vf:nvme0/ns2"
 * @path:       set by request(): the node libxl watches; kept for
 *              answer() and release()
 * @timeout_ms: set by request(): how long libxl waits for a final
 *              answer; 0 means libxl's default (60 s)
 * @domain:     PCI segment; set by answer() when ready, or by libxl for
 *              release() when @bdf_valid is set
 * @bus:        as @domain
 * @dev:        as @domain
 * @func:       as @domain
 * @bdf_valid:  whether @domain, @bus, @dev and @func are set
 * @error:      set by the provider when an operation fails
 */
typedef struct libxl_pci_provider_call {
    struct xs_handle *xsh;
    uint32_t domid;
    const char *name;
    char path[256];
    unsigned int timeout_ms;
    unsigned int domain, bus, dev, func;
    int bdf_valid;
    char error[256];
} libxl_pci_provider_call;

/**
 * struct libxl_pci_provider_ops - what a provider implements
 * @version: the interface version these operations follow
 *           (1 <= @version <= the version libxl asked for)
 * @check:   is @call->name acceptable?  Must not touch xenstore.  May be
 *           NULL.  Returns 0, or -EINVAL with @call->error set.
 * @request: start preparing the device; see above.  Returns 0 or -errno.
 * @answer:  look at the answer; see above.  Returns 0,
 *           LIBXL_PCI_PROVIDER_PENDING, or -errno.
 * @release: give the device back; see above.  Returns 0 or -errno (libxl
 *           logs a failure and carries on).
 */
typedef struct libxl_pci_provider_ops {
    unsigned int version;
    int (*check)(libxl_pci_provider_call *call);
    int (*request)(libxl_pci_provider_call *call);
    int (*answer)(libxl_pci_provider_call *call);
    int (*release)(libxl_pci_provider_call *call);
} libxl_pci_provider_ops;

/**
 * typedef libxl_pci_provider_init_fn - type of LIBXL_PCI_PROVIDER_INIT
 * @version: the highest interface version libxl speaks
 *
 * Return: the provider's operations, which must stay valid while the
 * provider is loaded, or NULL.
 */
typedef const libxl_pci_provider_ops *
libxl_pci_provider_init_fn(unsigned int version);

#endif /* LIBXL_PCI_PROVIDER_H */

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
