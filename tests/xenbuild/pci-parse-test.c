/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * pci-parse-test.c - PCI_SPEC_STRINGs through the patched libxlutil
 *
 * Usage: pci-parse-test
 *
 * Runs a table of good and bad specs through libxlutil as xl does (same
 * defaults): with xl.conf's pci.name_backends
 * (xlu_pci_parse_spec_string_backends() with "vf=domd" and "ab=7", whose
 * names can look like BDFs) and without it (xlu_pci_parse_spec_string()),
 * checking every field of the result, the backend domain and, for bad
 * specs, the message.  A string is a served name only when
 * pci.name_backends maps its prefix, or with backend=; otherwise it
 * parses as in stock libxlutil.
 *
 * xl itself cannot run without a hypervisor (not even xl -N), hence a
 * program linked against the library. Two cases (tests/lib/harness.h),
 * each also printing "# LABEL: N of M specs as expected".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxlutil.h>

#include "harness.h"

#ifndef LIBXL_HAVE_DEVICE_PCI_NAME_BACKEND
#error "libxl.h is not the patched one"
#endif

enum prov { ANY, WITH, WITHOUT };

struct pcase {
    const char *spec;
    enum prov prov;
    int ok;
    const char *name;   /* expected name, NULL for none */
    const char *bdf;    /* "D:B:S.F" expected when no name */
    const char *backend; /* expected backend_domname, NULL for none */
    int vslot;          /* expected vdevfn >> 3, -1 unchecked */
    int seize, permissive, msitranslate, power_mgmt;  /* -1 unchecked */
    const char *rdm;    /* "strict" / "relaxed", NULL unchecked */
    const char *msg;    /* bad specs: text the report must contain */
};

#define GOOD_BDF(s, bdf, vs) \
    { s, ANY, 1, NULL, bdf, NULL, vs, 0, 0, 1, 0, NULL, NULL }
#define GOOD_NAME(s, p, n, seize) \
    { s, p, 1, n, NULL, NULL, 0, seize, 0, 1, 0, NULL, NULL }
#define SERVED(s, n, b) \
    { s, WITH, 1, n, NULL, b, 0, 0, 0, 1, 0, NULL, NULL }
#define BAD(s, p, m) \
    { s, p, 0, NULL, NULL, NULL, -1, -1, -1, -1, -1, NULL, m }

/* xl.conf's pci.name_backends in the WITH table */
static char *const backends[] = { "vf=domd", "ab=7", "x=", NULL };

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
      "rdm_policy=relaxed", ANY, 1, NULL, "0:1:0.0", NULL, 0, 1, 1, 0, 1,
      "relaxed", NULL },
    { "01:00.0,rdm_policy=strict", ANY, 1, NULL, "0:1:0.0", NULL, 0, 0, 0,
      1, 0, "strict", NULL },
    GOOD_NAME("name=mydev", ANY, "mydev", 0),
    { "name=mydev,seize=1,permissive=1,vslot=3", ANY, 1, "mydev", NULL,
      NULL, 3, 1, 1, 1, 0, NULL, NULL },
    GOOD_NAME("name=my:dev", ANY, "my:dev", 0),
    /* without pci.name_backends, name=vf:... is an ordinary name */
    GOOD_NAME("name=vf:nvme0/ns2,seize=1", WITHOUT, "vf:nvme0/ns2", 1),
    GOOD_NAME("name=vf:nvme0/ns2", WITHOUT, "vf:nvme0/ns2", 0),

    /* Names that a backend domain serves: never seized */
    SERVED("vf:nvme0/ns2", "vf:nvme0/ns2", "domd"),
    SERVED("name=vf:nvme0/ns2", "vf:nvme0/ns2", "domd"),
    SERVED("name=vf:nvme0/ns2,vq=4", "vf:nvme0/ns2,vq=4", "domd"),
    SERVED("vf:nvme0/ns2,vq=4,vi=2", "vf:nvme0/ns2,vq=4,vi=2", "domd"),
    SERVED("vf:0000:01:00.0/ns1", "vf:0000:01:00.0/ns1", "domd"),
    SERVED("vf:01:00.0/ns1,driver=pciback", "vf:01:00.0/ns1,driver=pciback",
           "domd"),
    SERVED("vf:serial:S3EVNX0K1234/ns1", "vf:serial:S3EVNX0K1234/ns1",
           "domd"),
    SERVED("vf:enp1s0f0,mac=02:00:00:00:00:01,vlan=10",
           "vf:enp1s0f0,mac=02:00:00:00:00:01,vlan=10", "domd"),
    SERVED("vf:enp1s0f0,trust=on,spoofchk=off,rate=100,qos=3,vlan=7",
           "vf:enp1s0f0,trust=on,spoofchk=off,rate=100,qos=3,vlan=7",
           "domd"),
    { "vf:nvme0/ns2,permissive=1,vslot=3,vq=4,msitranslate=0,power_mgmt=1,"
      "rdm_policy=relaxed", WITH, 1, "vf:nvme0/ns2,vq=4", NULL, "domd", 3,
      0, 1, 0, 1, "relaxed", NULL },
    /* backend= names the domain, whatever the prefix */
    SERVED("vf:nvme0/ns2,backend=other", "vf:nvme0/ns2", "other"),
    SERVED("backend=5,name=vf:nvme0/ns2,vq=4", "vf:nvme0/ns2,vq=4", "5"),
    SERVED("name=mydev,backend=domd,opt=1", "mydev,opt=1", "domd"),
    { "name=mydev,backend=3", WITHOUT, 1, "mydev", NULL, "3", 0, 0, 0, 1,
      0, NULL, NULL },

    /* The name's options may stand before name= too, in any order */
    SERVED("vq=4,name=vf:nvme0/ns2", "vf:nvme0/ns2,vq=4", "domd"),
    SERVED("vq=4,name=vf:nvme0/ns2,vi=2", "vf:nvme0/ns2,vq=4,vi=2", "domd"),
    { "permissive=1,vq=4,name=vf:nvme0/ns2,vslot=3,vi=2", WITH, 1,
      "vf:nvme0/ns2,vq=4,vi=2", NULL, "domd", 3, 0, 1, 1, 0, NULL, NULL },
    BAD("vq=4,name=vf:nvme0/ns2", WITHOUT,
        "Unknown PCI_SPEC_STRING option: vq"),
    BAD("name=vf:nvme0/ns2,vq=4", WITHOUT,
        "Unknown PCI_SPEC_STRING option: vq"),
    BAD("vq=4,name=mydev", ANY, "Unknown PCI_SPEC_STRING option: vq"),
    BAD("vq=4,bdf=01:00.0", ANY, "Unknown PCI_SPEC_STRING option: vq"),
    BAD("01:00.0,backend=domd", ANY,
        "Unknown PCI_SPEC_STRING option: backend"),
    BAD("backend=domd,bdf=01:00.0", ANY, NULL),
    BAD("vq=4,name=vf:nvme0/ns2,name=vf:nvme0/ns3", WITH,
        "more than one name"),

    /* ... and are never seized */
    BAD("vf:nvme0/ns2,seize=1", WITH, "never seized"),
    BAD("vf:nvme0/ns2,seize=0", WITH, "never seized"),
    BAD("seize=1,name=vf:nvme0/ns2", WITH, "never seized"),
    BAD("name=mydev,seize=1,backend=domd", ANY, "never seized"),

    /* A served name only when pci.name_backends maps the prefix */
    SERVED("ab:1f.8", "ab:1f.8", "7"),
    SERVED("ab:1f.8,vq=4", "ab:1f.8,vq=4", "7"),
    GOOD_BDF("ab:1f.7", "0:ab:1f.7", 0),    /* a BDF stays a BDF */
    BAD("ab:1f.8", WITHOUT, "ab:1f.8: not a BDF (function 8 > 7), and no "
        "backend domain serves PCI names with prefix 'ab'"),
    BAD("ab:20.0", WITHOUT, "ab:20.0: not a BDF (device 20 > 1f), and no "
        "backend domain serves PCI names with prefix 'ab'"),
    BAD("ab:1f", WITHOUT, "ab:1f: not a BDF, and no backend domain serves "
        "PCI names with prefix 'ab'"),
    BAD("vf:nvme0", WITHOUT, "vf:nvme0: not a BDF, and no backend domain "
        "serves PCI names with prefix 'vf' (pci.name_backends in xl.conf)"),
    BAD("vf:nvme0/ns2,colour=red", WITHOUT, "with prefix 'vf'"),
    BAD("vf:", WITHOUT, "with prefix 'vf'"),
    BAD("other:thing,x=1", ANY, "other:thing: not a BDF, and no backend "
        "domain serves PCI names with prefix 'other'"),
    BAD("x:thing", ANY, "with prefix 'x'"),  /* "x=": no domain */
    BAD("v:thing", ANY, "with prefix 'v'"),  /* not "vf" */

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
    /* Bad served names, caught by the parser itself */
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
};

static int run_case(const struct pcase *c, enum prov which,
                    const char *provider)
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

    rc = which == WITH ?
        xlu_pci_parse_spec_string_backends(cfg, &pci, c->spec, backends) :
        xlu_pci_parse_spec_string(cfg, &pci, c->spec);
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
        if (c->backend)
            CHECK_STR(pci.backend_domname, c->backend, c->spec);
        else
            CHECK(!pci.backend_domname, "%s: unexpected backend %s",
                  c->spec, pci.backend_domname);
        CHECK(pci.backend_domid == 0, "%s: backend_domid %u", c->spec,
              pci.backend_domid);
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

static void run_table(enum prov which, const char *label)
{
    unsigned int i, n = 0, good = 0;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].prov != ANY && cases[i].prov != which)
            continue;
        n++;
        good += run_case(&cases[i], which, label);
    }
    printf("# %s: %u of %u specs as expected\n", label, good, n);
}

static void test_with_backends(void)
{
    run_table(WITH, "with pci.name_backends");
}

static void test_without_backends(void)
{
    run_table(WITHOUT, "without pci.name_backends");
}

int main(int argc, char **argv)
{
    RUN(test_with_backends);
    RUN(test_without_backends);
    return harness_done();
}
