/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The vf: grammar: tables of good specs with their canonical form, bad
 * specs with the part their message must name, and a mutation fuzzer that
 * checks parse -> format -> parse is stable for everything accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "spec/spec.h"

static const struct good {
    const char *in;
    const char *canonical;
    enum xvf_class cls;
    enum xvf_target_kind kind;
} goods[] = {
    { "vf:nvme0/ns2", "vf:nvme0/ns2", XVF_CLASS_NVME, XVF_TARGET_NVME_NAME },
    { "vf:nvme12/ns4294967294", "vf:nvme12/ns4294967294", XVF_CLASS_NVME,
      XVF_TARGET_NVME_NAME },
    { "vf:nvme0/ns2,vq=2,vi=1", "vf:nvme0/ns2", XVF_CLASS_NVME,
      XVF_TARGET_NVME_NAME },
    { "vf:nvme0/ns2,vi=2,vq=4", "vf:nvme0/ns2,vq=4,vi=2", XVF_CLASS_NVME,
      XVF_TARGET_NVME_NAME },
    { "vf:nvme0/ns2,driver=nvme", "vf:nvme0/ns2,driver=nvme",
      XVF_CLASS_NVME, XVF_TARGET_NVME_NAME },
    { "vf:nvme0/ns2,driver=pciback", "vf:nvme0/ns2", XVF_CLASS_NVME,
      XVF_TARGET_NVME_NAME },
    { "vf:01:00.0/ns2", "vf:0000:01:00.0/ns2", XVF_CLASS_NVME,
      XVF_TARGET_PCI },
    { "vf:0000:01:00.0/ns2", "vf:0000:01:00.0/ns2", XVF_CLASS_NVME,
      XVF_TARGET_PCI },
    { "vf:0001:A1:1f.7/ns1", "vf:0001:a1:1f.7/ns1", XVF_CLASS_NVME,
      XVF_TARGET_PCI },
    { "vf:serial:S3EVNX0K123456/ns2", "vf:serial:S3EVNX0K123456/ns2",
      XVF_CLASS_NVME, XVF_TARGET_SERIAL },
    { "vf:serial:deadbeef/ns1,vq=3", "vf:serial:deadbeef/ns1,vq=3",
      XVF_CLASS_NVME, XVF_TARGET_SERIAL },
    { "vf:enp1s0f0", "vf:enp1s0f0", XVF_CLASS_NET, XVF_TARGET_NETDEV },
    { "vf:eth0,mac=02:16:3E:00:00:01,vlan=10,qos=3",
      "vf:eth0,mac=02:16:3e:00:00:01,vlan=10,qos=3", XVF_CLASS_NET,
      XVF_TARGET_NETDEV },
    { "vf:eth0,trust=on,spoofchk=off,rate=1000",
      "vf:eth0,trust=on,spoofchk=off,rate=1000", XVF_CLASS_NET,
      XVF_TARGET_NETDEV },
    { "vf:eth0,trust=yes", "vf:eth0,trust=on", XVF_CLASS_NET,
      XVF_TARGET_NETDEV },
    { "vf:0000:02:00.0", "vf:0000:02:00.0", XVF_CLASS_NET,
      XVF_TARGET_PCI },
    { "vf:eth0,vlan=0", "vf:eth0,vlan=0", XVF_CLASS_NET,
      XVF_TARGET_NETDEV },
    { "vf:eth0,vlan=4094", "vf:eth0,vlan=4094", XVF_CLASS_NET,
      XVF_TARGET_NETDEV },
};

static const struct bad {
    const char *in;
    const char *names;      /* the message must contain this */
} bads[] = {
    { "nvme0/ns2", "does not start with 'vf:'" },
    { "VF:nvme0/ns2", "does not start with 'vf:'" },
    { "vf:", "missing target" },
    { "vf:/ns2", "missing target" },
    { "vf:nvme0", "needs a namespace" },
    { "vf:nvme0/", "'/' is not a namespace" },
    { "vf:nvme0/ns", "'/ns' is not a namespace" },
    { "vf:nvme0/ns0", "'/ns0' is not a namespace" },
    { "vf:nvme0/ns-1", "'/ns-1' is not a namespace" },
    { "vf:nvme0/ns2x", "'/ns2x'" },
    { "vf:nvme0/nsa", "'/nsa'" },
    { "vf:nvme0/ns4294967295", "'/ns4294967295'" },
    { "vf:nvme0/2", "'/2' is not a namespace" },
    { "vf:eth0/ns2", "has no namespaces" },
    { "vf:01:00/ns2", "'01:00' is not a PCI address" },
    { "vf:01:20.0/ns2", "'01:20.0' is not a PCI address" },
    { "vf:01:00.8/ns2", "'01:00.8'" },
    { "vf:1:2:00.0/ns2", "'1:2:00.0'" },
    { "vf:0000:01:00.0x/ns2", "'0000:01:00.0x'" },
    { "vf:serial:/ns2", "serial '' is not" },
    { "vf:serial:a:b/ns2", "serial 'a:b'" },
    { "vf:serial:123456789012345678901/ns2", "serial '1234" },
    { "vf:eth0 x", "space or control character" },
    { "vf:nvme0/ns2\t", "space or control character" },
    { "vf:this-name-is-way-too-long", "is neither" },
    { "vf:nvme0/ns2,", "stray ','" },
    { "vf:nvme0/ns2,,vq=2", "stray ','" },
    { "vf:nvme0/ns2,vq", "'vq' is not KEY=VALUE" },
    { "vf:nvme0/ns2,vq=", "vq='' is not a number" },
    { "vf:nvme0/ns2,vq=0", "vq='0'" },
    { "vf:nvme0/ns2,vq=65536", "vq='65536'" },
    { "vf:nvme0/ns2,vq=-1", "vq='-1'" },
    { "vf:nvme0/ns2,vq=2,vq=3", "'vq' given twice" },
    { "vf:nvme0/ns2,colour=red", "unknown option 'colour'" },
    { "vf:nvme0/ns2,mac=02:00:00:00:00:01", "'mac' applies to network" },
    { "vf:eth0,vq=2", "'vq' applies to NVMe" },
    { "vf:nvme0/ns2,driver=", "driver='' is not" },
    { "vf:nvme0/ns2,driver=a/b", "driver='a/b'" },
    { "vf:eth0,mac=01:00:00:00:00:01", "multicast" },
    { "vf:eth0,mac=00:00:00:00:00:00", "multicast or zero" },
    { "vf:eth0,mac=02:00:00:00:00", "is not XX:XX" },
    { "vf:eth0,mac=02-00-00-00-00-01", "is not XX:XX" },
    { "vf:eth0,mac=02:00:00:00:00:0g", "is not XX:XX" },
    { "vf:eth0,vlan=4095", "vlan='4095'" },
    { "vf:eth0,vlan=x", "vlan='x'" },
    { "vf:eth0,qos=8,vlan=1", "qos='8'" },
    { "vf:eth0,qos=1", "qos= needs vlan=" },
    { "vf:eth0,trust=maybe", "trust='maybe' is not on or off" },
    { "vf:eth0,rate=fast", "rate='fast'" },
    { "vf:nvme0/ns2,driver=nvme,vq=4,vi=2,xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      "at most 64" },
    /* 62 as written, 66 in canonical form ("0" -> "off") */
    { "vf:enp1s0f0,mac=02:16:3e:00:00:01,vlan=1000,trust=0,spoofchk=0",
      "canonical form" },
};

static void test_good(void)
{
    char out[XVF_SPEC_MAX + 1];
    struct xvf_err err = { 0 };
    struct xvf_spec s;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(goods); i++) {
        xvf_err_clear(&err);
        CHECK_INT(xvf_spec_parse(goods[i].in, &s, &err), 0, goods[i].in);
        if (err.code)
            continue;
        CHECK_INT(s.cls, goods[i].cls, goods[i].in);
        CHECK_INT(s.kind, goods[i].kind, goods[i].in);
        CHECK_INT(xvf_spec_format(&s, out, sizeof(out)), 0, goods[i].in);
        CHECK_STR(out, goods[i].canonical, goods[i].in);
    }
}

static void test_bad(void)
{
    struct xvf_err err;
    struct xvf_spec s;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(bads); i++) {
        xvf_err_clear(&err);
        memset(&s, 0x5a, sizeof(s));
        CHECK_INT(xvf_spec_parse(bads[i].in, &s, &err), -EINVAL,
                  bads[i].in);
        CHECK(strstr(err.msg, bads[i].names) != NULL,
              "%s: message '%s' does not name '%s'", bads[i].in, err.msg,
              bads[i].names);
        CHECK(((unsigned char *)&s)[0] == 0x5a,
              "%s: output touched on failure", bads[i].in);
    }
}

static void test_defaults(void)
{
    struct xvf_spec s;

    CHECK_INT(xvf_spec_parse("vf:nvme0/ns2", &s, NULL), 0, "parse");
    CHECK_INT(s.nsid, 2, "nsid");
    CHECK_INT(s.vq, 2, "default vq");
    CHECK_INT(s.vi, 1, "default vi");
    CHECK_STR(s.driver, "pciback", "default driver");
    CHECK_STR(s.target, "nvme0", "target");
    CHECK_INT(xvf_spec_parse("vf:eth0", &s, NULL), 0, "parse net");
    CHECK_INT(s.vlan, -1, "no vlan");
    CHECK_INT(s.has_mac, 0, "no mac");
}

/*
 * Mutation fuzzer: random edits of good specs. Whatever the parser
 * accepts must format to a canonical form that parses to the same spec
 * and formats the same again; whatever it refuses must say why.
 */
static void test_fuzz(void)
{
    static const char alphabet[] = "vf:nvme0123456789abcdefx/,=.-_ "
                                   "sn:ABCDEFqosvlanmactrust\t";
    char buf[128], out1[XVF_SPEC_MAX + 1], out2[XVF_SPEC_MAX + 1];
    unsigned int seed = 12345, iter, accepted = 0, refused = 0;
    struct xvf_spec s1, s2;
    struct xvf_err err;
    size_t len;
    int k, r;

    for (iter = 0; iter < 200000; iter++) {
        snprintf(buf, sizeof(buf), "%s",
                 goods[rand_r(&seed) % ARRAY_SIZE(goods)].in);
        for (k = rand_r(&seed) % 4; k >= 0; k--) {
            len = strlen(buf);
            switch (rand_r(&seed) % 3) {
            case 0:
                if (len)
                    buf[rand_r(&seed) % len] =
                        alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
                break;
            case 1:
                if (len) {
                    size_t p = rand_r(&seed) % len;

                    memmove(buf + p, buf + p + 1, len - p);
                }
                break;
            case 2:
                if (len + 1 < sizeof(buf)) {
                    buf[len] = alphabet[rand_r(&seed) %
                                        (sizeof(alphabet) - 1)];
                    buf[len + 1] = '\0';
                }
                break;
            }
        }
        xvf_err_clear(&err);
        r = xvf_spec_parse(buf, &s1, &err);
        if (r) {
            refused++;
            if (r != -EINVAL || !err.msg[0]) {
                CHECK(0, "'%s': refused without a message (%d)", buf, r);
                return;
            }
            continue;
        }
        accepted++;
        if (xvf_spec_format(&s1, out1, sizeof(out1)) ||
            xvf_spec_parse(out1, &s2, &err) ||
            xvf_spec_format(&s2, out2, sizeof(out2)) ||
            strcmp(out1, out2) || strlen(out1) > XVF_SPEC_MAX) {
            CHECK(0, "'%s': canonical form '%s' is not stable", buf, out1);
            return;
        }
    }
    CHECK(accepted > 1000 && refused > 1000,
          "fuzzer explored too little: %u accepted, %u refused", accepted,
          refused);
}

static void test_bdf(void)
{
    char out[16];

    CHECK_INT(xvf_parse_bdf("01:00.1", out), 0, "short");
    CHECK_STR(out, "0000:01:00.1", "short canonical");
    CHECK_INT(xvf_parse_bdf("0000:01:00.1", out), 0, "long");
    CHECK_INT(xvf_parse_bdf("000:01:00.1", out), -EINVAL, "3-digit domain");
    CHECK_INT(xvf_parse_bdf("01:00.1 ", out), -EINVAL, "trailing space");
    CHECK_INT(xvf_parse_bdf("+1:00.1", out), -EINVAL, "sign");
}

int main(void)
{
    RUN(test_good);
    RUN(test_bad);
    RUN(test_defaults);
    RUN(test_bdf);
    RUN(test_fuzz);
    return harness_done();
}
