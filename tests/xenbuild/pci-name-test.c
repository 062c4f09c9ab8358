/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * pci-name-test.c - the checks libxl (xen-patches/, libxl_pci_name.c)
 * makes of a backend domain's answer, run on their own
 *
 * Usage: pci-name-test
 *
 * Linked against the patched libxenlight's static archive, where the
 * library-internal (hidden) libxl__pci_name_trusted() and
 * libxl__pci_name_parse_bdf() can be called: which permissions of an
 * answer node libxl takes as written by Dom0 or the backend domain only,
 * and which BDFs it takes. libxl has no tests of its own that run
 * without a hypervisor (tools/libs/light/test_*.c need one); the xen
 * tier runs the rest. Two cases (tests/lib/harness.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <xenstore.h>

#include "harness.h"

#ifndef LIBXL_HAVE_DEVICE_PCI_NAME_BACKEND
#error "libxl.h is not the patched one"
#endif

/* libxl_internal.h's, which is not installed */
bool libxl__pci_name_trusted(const struct xs_permissions *perms,
                             unsigned int num, libxl_domid backend);
int libxl__pci_name_parse_bdf(const char *str, libxl_device_pci *pci);

#define N XS_PERM_NONE
#define R XS_PERM_READ
#define W XS_PERM_WRITE
#define B (XS_PERM_READ | XS_PERM_WRITE)

static const struct {
    const char *what;
    unsigned int num;
    struct xs_permissions perms[3];
    bool trusted;
} pcases[] = {
    /* as libxl creates them, backend domain 3 */
    { "n0 b3 (state, bdf, error)", 2, { { 0, N }, { 3, B } }, true },
    { "n0 r3 (name, op)", 2, { { 0, N }, { 3, R } }, true },
    { "n0 (Dom0 serves)", 1, { { 0, N } }, true },
    { "n3: the backend created it", 1, { { 3, N } }, true },
    { "n3 r5: the backend shares it for reading", 2,
      { { 3, N }, { 5, R } }, true },
    { "n5: the guest created it", 1, { { 5, N } }, false },
    { "n5 b3", 2, { { 5, N }, { 3, B } }, false },
    { "n0 w5: the guest may write", 2, { { 0, N }, { 5, W } }, false },
    { "n0 b3 b5", 3, { { 0, N }, { 3, B }, { 5, B } }, false },
    { "w0: everyone may write", 1, { { 0, W } }, false },
    { "b3: everyone may write", 1, { { 3, B } }, false },
    { "r0: everyone may read", 1, { { 0, R } }, true },
    { "no permissions", 0, { { 0, N } }, false },
};

static void test_trusted(void)
{
    unsigned int i;

    for (i = 0; i < sizeof(pcases) / sizeof(pcases[0]); i++)
        CHECK(libxl__pci_name_trusted(pcases[i].perms, pcases[i].num, 3) ==
              pcases[i].trusted, "%s: %s", pcases[i].what,
              pcases[i].trusted ? "refused" : "taken");
    /* Dom0 serving: only Dom0 */
    CHECK(!libxl__pci_name_trusted(pcases[3].perms, 1, 0),
          "n3 taken from Dom0's own request");
    printf("# %zu permission sets\n", sizeof(pcases) / sizeof(pcases[0]));
}

static const struct {
    const char *bdf;
    const char *want;   /* "D:B:S.F" in hex, NULL when refused */
} bcases[] = {
    { "0000:01:00.2", "0:1:0.2" },
    { "0000:0a:00.1", "0:a:0.1" },
    { "ffff:ff:1f.7", "ffff:ff:1f.7" },
    { "01:00.2", "0:1:0.2" },
    { "0A:1F.7", "0:a:1f.7" },
    { "", NULL },
    { "0000:01:00", NULL },
    { "0000:01:20.0", NULL },
    { "0000:01:00.8", NULL },
    { "10000:01:00.0", NULL },
    { "0000:100:00.0", NULL },
    { "0000:01:00.2 ", NULL },
    { " 0000:01:00.2", NULL },
    { "0000:01:00.2\n", NULL },
    { "+000:01:00.2", NULL },
    { "0000:01:00.2,", NULL },
    { "0000:01:00.23", NULL },
    { "0x00:01:00.2", NULL },
    { "vf:nvme0/ns2", NULL },
};

static void test_bdf(void)
{
    libxl_device_pci pci;
    unsigned int i;
    char got[32];
    int rc;

    for (i = 0; i < sizeof(bcases) / sizeof(bcases[0]); i++) {
        libxl_device_pci_init(&pci);
        rc = libxl__pci_name_parse_bdf(bcases[i].bdf, &pci);
        snprintf(got, sizeof(got), "%x:%x:%x.%x", pci.domain, pci.bus,
                 pci.dev, pci.func);
        if (bcases[i].want)
            CHECK(rc == 0 && !strcmp(got, bcases[i].want),
                  "'%s': rc %d, %s", bcases[i].bdf, rc, got);
        else
            CHECK(rc == ERROR_INVAL, "'%s' taken: %s", bcases[i].bdf,
                  got);
        libxl_device_pci_dispose(&pci);
    }
    printf("# %zu BDFs\n", sizeof(bcases) / sizeof(bcases[0]));
}

int main(void)
{
    RUN(test_trusted);
    RUN(test_bdf);
    return harness_done();
}
