/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * stub-provider.c - PCI name providers that are wrong in one way each,
 * for the loader checks of pci-parse-test.c. Built once per STUB_KIND:
 *   STUB_OK       check() refuses names ending in "bad", and "ok:version"
 *                 unless libxl asked for interface version 1
 *   STUB_NOCHECK  no check()
 *   STUB_NOINIT   no libxl_pci_provider_init
 *   STUB_OLD      init returns NULL (cannot speak libxl's version)
 *   STUB_FUTURE   claims interface version 2
 *   STUB_HALF     no request()
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "libxl_pci_provider.h"

static unsigned int asked;

static __attribute__((unused)) int stub_check(libxl_pci_provider_call *call)
{
    size_t n = strlen(call->name);

    if (n >= 3 && !strcmp(call->name + n - 3, "bad")) {
        snprintf(call->error, sizeof(call->error), "stub says no");
        return -EINVAL;
    }
    if (!strcmp(call->name, "ok:version") &&
        asked != LIBXL_PCI_PROVIDER_VERSION) {
        snprintf(call->error, sizeof(call->error), "asked for %u", asked);
        return -EINVAL;
    }
    return 0;
}

static int stub_op(libxl_pci_provider_call *call)
{
    return -ENOSYS;
}

static __attribute__((unused)) const libxl_pci_provider_ops stub_ops = {
#if defined(STUB_FUTURE)
    .version = 2,
#else
    .version = 1,
#endif
#if !defined(STUB_NOCHECK)
    .check = stub_check,
#endif
#if !defined(STUB_HALF)
    .request = stub_op,
#endif
    .answer = stub_op,
    .release = stub_op,
};

#if !defined(STUB_NOINIT)
libxl_pci_provider_init_fn libxl_pci_provider_init;

const libxl_pci_provider_ops *libxl_pci_provider_init(unsigned int v)
{
    asked = v;
#if defined(STUB_OLD)
    return NULL;
#else
    return &stub_ops;
#endif
}
#endif
