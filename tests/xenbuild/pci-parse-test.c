/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * pci-parse-test.c - PCI_SPEC_STRINGs through the patched libxlutil
 *
 * Usage: pci-parse-test VF_PROVIDER_DIR STUB_PROVIDER_DIR EMPTY_DIR
 *
 * Runs a table of good and bad specs through xlu_pci_parse_spec_string()
 * as xl does (same defaults), with the vf provider installed
 * (LIBXL_PCI_PROVIDER_DIR=VF_PROVIDER_DIR, where run.sh also installs the
 * "ok" stub as provider "ab", whose names can look like BDFs) and without
 * any (EMPTY_DIR), checking every field of the result and, for bad specs,
 * the message.  A string is a provider's name only when a provider owns
 * its prefix; otherwise it parses as in stock libxlutil.
 * Then checks libxl_pci_provider_check_name()'s loader against stub
 * providers that are broken in each way libxl must survive.
 *
 * xl itself cannot run without a hypervisor (not even xl -N), hence a
 * program linked against the library. Three cases (tests/lib/harness.h):
 * the table with the provider, without it, and the loader; each table
 * also prints "# LABEL: N of M specs as expected".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxlutil.h>

#include "harness.h"

#ifndef LIBXL_HAVE_PCI_PROVIDER
#error "libxl.h is not the patched one"
#endif

enum prov { ANY, WITH, WITHOUT };

struct pcase {
    const char *spec;
    enum prov prov;
    int ok;
    const char *name;   /* expected name, NULL for none */
    const char *bdf;    /* "D:B:S.F" expected when no name */
    int vslot;          /* expected vdevfn >> 3, -1 unchecked */
    int seize, permissive, msitranslate, power_mgmt;  /* -1 unchecked */
    const char *rdm;    /* "strict" / "relaxed", NULL unchecked */
    const char *msg;    /* bad specs: text the report must contain */
};

#define GOOD_BDF(s, bdf, vs) { s, ANY, 1, NULL, bdf, vs, 0, 0, 1, 0, NULL, NULL }
#define GOOD_NAME(s, p, n, seize) { s, p, 1, n, NULL, 0, seize, 0, 1, 0, NULL, NULL }
#define BAD(s, p, m) { s, p, 0, NULL, NULL, -1, -1, -1, -1, -1, NULL, m }

static const struct pcase cases[] = {
    /* Every existing form still parses as before. */
    GOOD_BDF("01:00.0", "0:1:0.0", 0),
    GOOD_BDF("0000:01:00.0", "0:1:0.0", 0),
    GOOD_BDF("0001:ff:1f.7", "1:ff:1f.7", 0),
    GOOD_BDF("01:00.0@4", "0:1:0.0", 4),
    GOOD_BDF("01:00.0@1f", "0:1:0.0", 0x1f),
    GOOD_BDF("ab:00.0", "0:ab:0.0", 0),
    GOOD_BDF("bdf=01:00.1,vslot=5", "0:1:0.1", 5),
    GOOD_BDF("01:00.0,", "0:1:0.0", 0),
    { "01:00.0,permissive=1,msitranslate=0,power_mgmt=1,seize=1,"
      "rdm_policy=relaxed", ANY, 1, NULL, "0:1:0.0", 0, 1, 1, 0, 1,
      "relaxed", NULL },
    { "01:00.0,rdm_policy=strict", ANY, 1, NULL, "0:1:0.0", 0, 0, 0, 1, 0,
      "strict", NULL },
    GOOD_NAME("name=mydev", ANY, "mydev", 0),
    { "name=mydev,seize=1,permissive=1,vslot=3", ANY, 1, "mydev", NULL, 3,
      1, 1, 1, 0, NULL, NULL },
    GOOD_NAME("name=my:dev", ANY, "my:dev", 0),
    /* name=vf:... keeps xl's defaults (seize off) */
    GOOD_NAME("name=vf:nvme0/ns2,seize=1", ANY, "vf:nvme0/ns2", 1),
    GOOD_NAME("name=vf:nvme0/ns2", ANY, "vf:nvme0/ns2", 0),
    GOOD_NAME("name=vf:nvme0/ns2,vq=4", WITH, "vf:nvme0/ns2,vq=4", 0),

    /* Positional provider names: seize on unless told otherwise. */
    GOOD_NAME("vf:nvme0/ns2", WITH, "vf:nvme0/ns2", 1),
    GOOD_NAME("vf:nvme0/ns2,seize=0", WITH, "vf:nvme0/ns2", 0),
    GOOD_NAME("vf:nvme0/ns2,vq=4,vi=2", WITH, "vf:nvme0/ns2,vq=4,vi=2", 1),
    GOOD_NAME("vf:0000:01:00.0/ns1", WITH, "vf:0000:01:00.0/ns1", 1),
    GOOD_NAME("vf:01:00.0/ns1,driver=pciback", WITH,
              "vf:01:00.0/ns1,driver=pciback", 1),
    GOOD_NAME("vf:serial:S3EVNX0K1234/ns1", WITH,
              "vf:serial:S3EVNX0K1234/ns1", 1),
    GOOD_NAME("vf:enp1s0f0,mac=02:00:00:00:00:01,vlan=10", WITH,
              "vf:enp1s0f0,mac=02:00:00:00:00:01,vlan=10", 1),
    GOOD_NAME("vf:enp1s0f0,trust=on,spoofchk=off,rate=100,qos=3,vlan=7",
              WITH, "vf:enp1s0f0,trust=on,spoofchk=off,rate=100,qos=3,vlan=7",
              1),
    { "vf:nvme0/ns2,permissive=1,vslot=3,vq=4,msitranslate=0,power_mgmt=1,"
      "rdm_policy=relaxed", WITH, 1, "vf:nvme0/ns2,vq=4", NULL, 3, 1, 1, 0,
      1, "relaxed", NULL },

    /* The provider's options may stand before name= too, in any order */
    GOOD_NAME("vq=4,name=vf:nvme0/ns2", WITH, "vf:nvme0/ns2,vq=4", 0),
    GOOD_NAME("vq=4,name=vf:nvme0/ns2,vi=2", WITH,
              "vf:nvme0/ns2,vq=4,vi=2", 0),
    { "permissive=1,vq=4,seize=1,name=vf:nvme0/ns2,vslot=3,vi=2", WITH, 1,
      "vf:nvme0/ns2,vq=4,vi=2", NULL, 3, 1, 1, 1, 0, NULL, NULL },
    BAD("vq=4,name=vf:nvme0/ns2", WITHOUT,
        "Unknown PCI_SPEC_STRING option: vq"),
    BAD("name=vf:nvme0/ns2,vq=4", WITHOUT,
        "Unknown PCI_SPEC_STRING option: vq"),
    BAD("vq=4,name=mydev", ANY, "Unknown PCI_SPEC_STRING option: vq"),
    BAD("vq=4,bdf=01:00.0", ANY, "Unknown PCI_SPEC_STRING option: vq"),
    BAD("vq=4,name=vf:nvme0/ns2,name=vf:nvme0/ns3", WITH,
        "more than one name"),

    /* A provider's name only when a provider owns the prefix */
    GOOD_NAME("ab:1f.8", WITH, "ab:1f.8", 1),
    GOOD_NAME("ab:1f.8,vq=4,seize=0", WITH, "ab:1f.8,vq=4", 0),
    BAD("ab:1f.bad", WITH, "ab:1f.bad: stub says no"),
    GOOD_BDF("ab:1f.7", "0:ab:1f.7", 0),    /* a BDF stays a BDF */
    BAD("ab:1f.8", WITHOUT, "ab:1f.8: not a BDF (function 8 > 7), and no "
        "PCI name provider owns prefix 'ab'"),
    BAD("ab:20.0", WITHOUT, "ab:20.0: not a BDF (device 20 > 1f), and no "
        "PCI name provider owns prefix 'ab'"),
    BAD("ab:1f", WITHOUT, "ab:1f: not a BDF, and no "
        "PCI name provider owns prefix 'ab'"),
    BAD("vf:nvme0", WITHOUT, "vf:nvme0: not a BDF, and no PCI name "
        "provider owns prefix 'vf'"),
    BAD("vf:nvme0/ns2,colour=red", WITHOUT, "no PCI name provider owns "
        "prefix 'vf'"),
    BAD("vf:", WITHOUT, "no PCI name provider owns prefix 'vf'"),
    BAD("other:thing,x=1", ANY, "other:thing: not a BDF, and no PCI name "
        "provider owns prefix 'other'"),

    /* Bad, as before */
    BAD("", ANY, NULL),
    BAD("01:00", ANY, NULL),           /* crashed xl before the series */
    BAD("0000:01:00", ANY, NULL),
    BAD("01:00,seize=1", ANY, NULL),
    BAD("01:00.8", ANY, NULL),
    BAD("01:20.0", ANY, NULL),
    BAD("01:00.0@20", ANY, NULL),
    BAD("01:00.0 ", ANY, NULL),
    BAD("01:00.0,bogus=1", ANY, "Unknown PCI_SPEC_STRING option: bogus"),
    BAD("01:00.0,name=x", ANY, NULL),
    BAD("name=x,bogus=1", ANY, "Unknown PCI_SPEC_STRING option: bogus"),
    BAD("name=a,name=b", ANY, "more than one name"),
    BAD("permissive=1", ANY, NULL),
    BAD("01:00.0,rdm_policy=sometimes", ANY, "Unknown RDM policy"),
    BAD("mydev", ANY, NULL),
    BAD("Vf:nvme0/ns2", ANY, NULL),
    BAD("0vf:nvme0/ns2", ANY, NULL),
    BAD("abcdefghijklmnopq:x", ANY, NULL),
    /* Bad provider names, caught by the parser itself */
    BAD("vf:", WITH, "nothing after the prefix"),
    BAD("vf:,vq=2", WITH, "nothing after the prefix"),
    BAD("vf:nvme0/ns2=3", WITH, "unexpected character"),
    BAD("vf:nvme0 /ns2", WITH, "unexpected character"),
    BAD("vf:nvme0/ns2,vq", ANY, NULL),
    BAD("vf:nvme0/ns2,bdf=01:00.0", ANY, NULL),
    BAD("vf:nvme0/ns2,name=vf:nvme0/ns3", WITH, "more than one name"),
    BAD("vf:nvme0/ns2,vq=4,vi=2,driver=pciback,mac=02:00:00:00:00:01,xx=yyyy",
        WITH, "longer than 64"),
    BAD("vf:nvme0/ns2,vq=4 ", WITH, "unexpected character"),
    /* ... and by the vf provider, at parse time */
    BAD("vf:nvme0", WITH, "vf:nvme0: "),
    BAD("vf:nvme0/ns2,colour=red", WITH, "colour"),
    BAD("vf:nvme0/ns2,vq=x", WITH, "vq"),
    /* seize would take it from DomD's driver */
    BAD("vf:nvme0/ns2,driver=nvme", WITH, "always bound to pciback"),
    BAD("vf:nvme0/nsx", WITH, "vf:nvme0/nsx: "),
    BAD("vf:enp1s0f0/ns1", WITH, "vf:enp1s0f0/ns1: "),
    BAD("name=vf:nvme0", WITH, "vf:nvme0: "),
    BAD("vf:enp1s0f0,vlan=5000", WITH, "vlan"),
};

static int run_case(const struct pcase *c, const char *provider)
{
    libxl_device_pci pci;
    XLU_Config *cfg;
    char *report = NULL, bdf[32];
    size_t report_len = 0;
    unsigned int fails = harness_case_failures();
    FILE *f;
    int rc;

    f = open_memstream(&report, &report_len);
    cfg = xlu_cfg_init(f, "test.cfg");
    libxl_device_pci_init(&pci);
    /* as xl_parse.c parse_config_data() */
    pci.msitranslate = 1;   /* as pci_msitranslate=1 in the config */
    pci.power_mgmt = 0;
    pci.permissive = 0;
    pci.seize = 0;
    pci.rdm_policy = LIBXL_RDM_RESERVE_POLICY_STRICT;

    rc = xlu_pci_parse_spec_string(cfg, &pci, c->spec);
    fflush(f);

    if (c->ok) {
        CHECK(rc == 0, "[%s] %s: rc %d, report '%s'", provider, c->spec, rc,
              report);
        if (rc)
            goto out;
        if (c->name) {
            CHECK_STR(pci.name, c->name, c->spec);
        } else {
            snprintf(bdf, sizeof(bdf), "%x:%x:%x.%x", pci.domain, pci.bus,
                     pci.dev, pci.func);
            CHECK(!pci.name, "%s: unexpected name %s", c->spec, pci.name);
            CHECK_STR(bdf, c->bdf, c->spec);
        }
        if (c->vslot >= 0)
            CHECK(pci.vdevfn == (uint32_t)c->vslot << 3, "%s: vdevfn %#x",
                  c->spec, pci.vdevfn);
        if (c->seize >= 0)
            CHECK(pci.seize == c->seize, "%s: seize %d", c->spec,
                  pci.seize);
        if (c->permissive >= 0)
            CHECK(pci.permissive == c->permissive, "%s: permissive %d",
                  c->spec, pci.permissive);
        if (c->msitranslate >= 0)
            CHECK(pci.msitranslate == c->msitranslate,
                  "%s: msitranslate %d", c->spec, pci.msitranslate);
        if (c->power_mgmt >= 0)
            CHECK(pci.power_mgmt == c->power_mgmt, "%s: power_mgmt %d",
                  c->spec, pci.power_mgmt);
        if (c->rdm)
            CHECK_STR(libxl_rdm_reserve_policy_to_string(pci.rdm_policy),
                      c->rdm, c->spec);
        CHECK(!report_len, "%s: report '%s'", c->spec, report);
    } else {
        CHECK(rc != 0, "[%s] %s: accepted (name %s)", provider, c->spec,
              pci.name ? pci.name : "-");
        if (c->msg)
            CHECK_HAS(report, c->msg, c->spec);
    }

out:
    libxl_device_pci_dispose(&pci);
    xlu_cfg_destroy(cfg);
    fclose(f);
    free(report);
    return harness_case_failures() == fails;
}

static void run_table(enum prov which, const char *dir, const char *label)
{
    unsigned int i, n = 0, good = 0;

    setenv("LIBXL_PCI_PROVIDER_DIR", dir, 1);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].prov != ANY && cases[i].prov != which)
            continue;
        n++;
        good += run_case(&cases[i], label);
    }
    printf("# %s: %u of %u specs as expected\n", label, good, n);
}

static void check_loader(const char *stubs)
{
    static const struct {
        const char *name;
        int rc;
        const char *msg;
    } lc[] = {
        { "plain-name", 0, NULL },
        { "nosuch:thing", 0, NULL },           /* no provider: a name */
        { "ok:good", 0, NULL },
        { "ok:bad", ERROR_INVAL, "ok:bad: stub says no" },
        { "nocheck:anything", 0, NULL },       /* check is optional */
        { "noinit:x", ERROR_FAIL, "has no libxl_pci_provider_init()" },
        { "old:x", ERROR_FAIL, "does not support interface version 1" },
        { "future:x", ERROR_FAIL, "does not support interface version 1" },
        { "half:x", ERROR_FAIL, "does not support interface version 1" },
        { "notelf:x", ERROR_FAIL, "cannot load PCI provider" },
        { "Ok:good", 0, NULL },                /* not a provider prefix */
    };
    static const struct {
        const char *name;
        int rc;
        const char *msg;
    } fc[] = {
        { "ok:bad", 0, NULL },                 /* check() not asked */
        { "ok:", 0, NULL },
        { "nocheck:x", 0, NULL },
        { "nosuch:thing", ERROR_NOTFOUND, NULL },
        { "plain-name", ERROR_NOTFOUND, NULL },
        { "Ok:good", ERROR_NOTFOUND, NULL },
        { "01:00.0", ERROR_NOTFOUND, NULL },
        { "noinit:x", ERROR_FAIL, "has no libxl_pci_provider_init()" },
        { "notelf:x", ERROR_FAIL, "cannot load PCI provider" },
    };
    unsigned int i;
    char *msg;
    int rc;

    setenv("LIBXL_PCI_PROVIDER_DIR", stubs, 1);
    for (i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
        msg = NULL;
        rc = libxl_pci_provider_check_name(lc[i].name, &msg);
        CHECK(rc == lc[i].rc, "%s: rc %d (%s)", lc[i].name, rc,
              msg ? msg : "-");
        if (lc[i].msg)
            CHECK_HAS(msg, lc[i].msg, lc[i].name);
        else
            CHECK(!msg, "%s: message '%s'", lc[i].name, msg);
        free(msg);
    }
    CHECK(libxl_pci_provider_check_name("ok:bad", NULL) == ERROR_INVAL,
          "NULL msg_r");

    /* Whether a provider owns a name, without asking it. */
    for (i = 0; i < sizeof(fc) / sizeof(fc[0]); i++) {
        msg = NULL;
        rc = libxl_pci_provider_find(fc[i].name, &msg);
        CHECK(rc == fc[i].rc, "find %s: rc %d (%s)", fc[i].name, rc,
              msg ? msg : "-");
        if (fc[i].msg)
            CHECK_HAS(msg, fc[i].msg, fc[i].name);
        else
            CHECK(!msg, "find %s: message '%s'", fc[i].name, msg);
        free(msg);
    }

    /* The provider is asked with the version libxl speaks. */
    rc = libxl_pci_provider_check_name("ok:version", &msg);
    CHECK(rc == 0, "ok:version: %s", msg ? msg : "-");
    free(msg);
}

static const char *vf_dir, *stub_dir, *empty_dir;

static void test_with_provider(void)
{
    run_table(WITH, vf_dir, "with vf provider");
}

static void test_without_provider(void)
{
    run_table(WITHOUT, empty_dir, "without provider");
}

static void test_loader(void)
{
    check_loader(stub_dir);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s VF_DIR STUB_DIR EMPTY_DIR\n", argv[0]);
        return 2;
    }
    vf_dir = argv[1];
    stub_dir = argv[2];
    empty_dir = argv[3];

    RUN(test_with_provider);
    RUN(test_without_provider);
    RUN(test_loader);
    return harness_done();
}
