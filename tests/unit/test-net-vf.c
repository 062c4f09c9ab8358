/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A NIC VF's settings across holders, against the fake kernel's igb (and
 * an ixgbe-like PF): prepare saves them in the journal and release gives
 * them back, the administrative MAC is always reset (a placeholder where
 * the driver refuses all-zero), a MAC given to or set by one guest never
 * reaches the next, rate= is checked against the link speed, and every
 * setting is read back (a driver that accepts what it does not apply
 * fails the prepare, rolled back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define PF "0000:02:00.0"
#define VF1 "0000:02:10.0"
#define MAC1 "02:11:22:33:44:55"
#define MAC1_BYTES "\x02\x11\x22\x33\x44\x55"
#define GUEST_BYTES "\x02\x16\x3e\x99\x88\x77"
/* 02:58:56, bus 02, devfn 0x00, VF 0 */
#define PLACEHOLDER "\x02\x58\x56\x02\x00\x00"

/* the igb preset's NIC, for more keys on its line */
#define IGB "drivers nvme,pciback,pci-stub,igb,igbvf\n" \
    "nic bdf=" PF " name=eth0 "

static bool setup(struct fixture *fx, const char *preset, const char *extra)
{
    char *config = fx_config(preset, extra);
    bool ok = fx_setup(fx, config, PF);

    free(config);
    return ok;
}

static bool vf0(const struct fixture *fx, struct xvf_mock_nvf *v)
{
    return CHECK_INT(xvf_mock_nic_vf(fx->root, PF, 0, v), 0, "VF 0 state");
}

/*
 * VFs enabled before xen-vf with settings of their own: prepare saves
 * VF 0's in the journal, changes them, and release gives every one back
 * (the device is as before).
 */
static void test_restore_saved(void)
{
    const char *spec = "vf:eth0,vlan=100,qos=2,spoofchk=on,trust=off,"
                       "rate=50";
    struct xvf_mock_nvf v;
    struct xvf_entry *list;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int n;

    if (!setup(&fx, "qemu", IGB "numvfs=2 autoprobe=0\n"
               "nvf vf=0 vlan=5 qos=1 rate=300 spoofchk=0 trust=1 "
               "link_state=2"))
        return;
    REQUIRE_INT(fx_prepare(&fx, spec, "domain:1", &vf, &err), 0, err.msg);
    CHECK_STR(vf.vf, VF1, "VF 0");
    if (vf0(&fx, &v))
        CHECK(v.vlan == 100 && v.qos == 2 &&
              v.rate == 50 && v.spoofchk == 1 && v.trust == 0 &&
              v.link_state == 2, "prepared: vlan %u qos %u rate %u spoofchk "
              "%u trust %u", v.vlan, v.qos, v.rate, v.spoofchk, v.trust);
    REQUIRE_INT(xvf_journal_list(fx.state, NULL, &list, &n), 0, "journal");
    REQUIRE_INT(n, 1, "one entry");
    CHECK(list[0].net.saved && list[0].net.vlan == 5 &&
          list[0].net.qos == 1 && list[0].net.max_rate == 300 &&
          list[0].net.min_rate == 0 && list[0].net.spoofchk == 0 &&
          list[0].net.trust == 1 && list[0].net.link_state == 2 &&
          !memcmp(list[0].net.mac, "\0\0\0\0\0\0", 6),
          "the journal has VF 0's settings from before the prepare");
    free(list);
    CHECK_INT(xvf_release(&fx.cfg, spec, &err), 0, err.msg);
    fx_unchanged(&fx, "release gave VF 0 its settings back");
    fx_teardown(&fx);
}

/*
 * prepare with mac=A, release, prepare without mac: the VF has no MAC A.
 * Then a guest sets its own MAC on the VF (the PF's driver keeps it):
 * after release the next holder does not get it either.
 */
static void test_mac_does_not_leak(void)
{
    struct xvf_vf a, b, c, d;
    struct xvf_mock_nvf v;
    struct fixture fx;
    struct xvf_err err;

    if (!setup(&fx, "igb", NULL))
        return;
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0,mac=" MAC1, "domain:1", &a, &err),
                0, err.msg);
    /* a second holder keeps the VFs enabled between the two */
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0", "domain:2", &b, &err), 0,
                err.msg);
    CHECK_STR(a.vf, VF1, "A has VF 0");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:1", &err), 1, err.msg);
    if (vf0(&fx, &v))
        CHECK(!memcmp(v.mac, "\0\0\0\0\0\0", 6), "MAC reset on release");
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0", "domain:3", &c, &err), 0,
                err.msg);
    CHECK_STR(c.vf, VF1, "the next prepare gets VF 0 again");
    if (vf0(&fx, &v))
        CHECK(memcmp(v.mac, MAC1_BYTES, 6), "VF 0 does not have A's MAC");

    /* the guest of C sets its own MAC through its VF driver */
    memcpy(v.mac, GUEST_BYTES, 6);
    REQUIRE_INT(xvf_mock_nic_vf_set(fx.root, PF, 0, &v), 0, "guest MAC");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:3", &err), 1, err.msg);
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0", "domain:4", &d, &err), 0,
                err.msg);
    CHECK_STR(d.vf, VF1, "VF 0 once more");
    if (vf0(&fx, &v))
        CHECK(!memcmp(v.mac, "\0\0\0\0\0\0", 6),
              "the guest's MAC did not reach the next holder");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:4", &err), 1, err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:2", &err), 1, err.msg);
    fx_unchanged(&fx, "all released");
    fx_teardown(&fx);
}

static void note_step(void *opaque, const char *step, const char *detail)
{
    char *seen = opaque;

    if (!strcmp(step, "vf-mac-placeholder"))
        snprintf(seen, 256, "%s", detail);
}

/* A driver that refuses an all-zero MAC (igb before Linux 5.9). */
static void test_zero_mac_refused(void)
{
    struct xvf_vf a, b, c;
    struct xvf_mock_nvf v;
    struct fixture fx;
    struct xvf_err err;
    char seen[256] = "";

    if (!setup(&fx, "igb", NULL))
        return;
    xvf_mock_pf_set(fx.root, PF, "vf_zero_mac=0");
    fx.cfg.step_cb = note_step;
    fx.cfg.opaque = seen;
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0,mac=" MAC1, "domain:1", &a, &err),
                0, err.msg);
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0", "domain:2", &b, &err), 0,
                err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:1", &err), 1, err.msg);
    CHECK_HAS(seen, "eth0 refuses an all-zero MAC on VF 0: placeholder "
              "02:58:56:02:00:00", "release says it used the placeholder");
    if (vf0(&fx, &v))
        CHECK(!memcmp(v.mac, PLACEHOLDER, 6), "VF 0 has the placeholder, "
              "not A's MAC");
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0", "domain:3", &c, &err), 0,
                err.msg);
    CHECK_STR(c.vf, VF1, "VF 0 again");
    if (vf0(&fx, &v))
        CHECK(memcmp(v.mac, MAC1_BYTES, 6), "the next holder has no A MAC");
    /* the placeholder is left alone: nothing to reset */
    seen[0] = '\0';
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:3", &err), 1, err.msg);
    CHECK_STR(seen, "", "no second placeholder step");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:2", &err), 1, err.msg);
    fx_teardown(&fx);
}

#define IXGBE "drivers nvme,pciback,pci-stub,ixgbe,ixgbevf\n" \
    "nic bdf=" PF " name=eth0 device=0x1563 vf_device=0x1565 " \
    "pf_driver=ixgbe vf_driver=ixgbevf vf_rate_speed=10000 "

/*
 * rate= against the link speed: an ixgbe PF at 1 Gb/s is refused with
 * the speeds named and nothing changed, before the driver is asked; at
 * 10 Gb/s the same request works. Above the speed, or with no speed
 * reported: refused too.
 */
static void test_link_speed(void)
{
    struct xvf_mock_counts n;
    struct xvf_mock_nvf v;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu", IXGBE "speed=1000"))
        return;
    xvf_err_clear(&err);
    CHECK_INT(fx_prepare(&fx, "vf:eth0,rate=100", "domain:1", &vf, &err),
              -EINVAL, err.msg);
    CHECK_HAS(err.msg, "rate=100: eth0 links at 1000 Mb/s, and its driver "
              "ixgbe limits VF rates only at 10000 Mb/s", "names the speeds");
    CHECK_INT(xvf_mock_counts(fx.root, &n), 0, "counts");
    CHECK_INT(n.write, 0, "refused before any change");
    fx_unchanged(&fx, "ixgbe at 1 Gb/s");
    fx_teardown(&fx);

    if (!setup(&fx, "qemu", IXGBE "speed=10000"))
        return;
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0,rate=100", "domain:1", &vf, &err),
                0, err.msg);
    if (vf0(&fx, &v))
        CHECK_INT(v.rate, 100, "the rate at 10 Gb/s");
    CHECK_INT(xvf_release(&fx.cfg, "vf:eth0,rate=100", &err), 0, err.msg);
    fx_unchanged(&fx, "ixgbe at 10 Gb/s, released");
    fx_teardown(&fx);

    if (!setup(&fx, "qemu", IGB "speed=0"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:eth0,rate=100", "domain:1", &vf, &err),
              -ENETDOWN, err.msg);
    CHECK_HAS(err.msg, "rate= needs the link speed of eth0, which it does "
              "not report", "no speed");
    fx_unchanged(&fx, "no speed");
    fx_teardown(&fx);
}

/*
 * A driver that acknowledges a setting but keeps the old value: the
 * read-back catches it, the prepare fails naming both values, and what
 * ran is rolled back.
 */
static void test_readback_mismatch(void)
{
    static const struct {
        const char *setting, *spec, *message;
    } cases[] = {
        { "mac", "vf:eth0,mac=" MAC1, "accepted mac " MAC1 " on VF 0 but "
          "reports 00:00:00:00:00:00" },
        { "vlan", "vf:eth0,vlan=7,qos=1", "accepted vlan 7 qos 1 on VF 0 but "
          "reports 0 qos 0" },
        { "spoofchk", "vf:eth0,vlan=7,spoofchk=off", "accepted spoofchk off "
          "on VF 0 but reports on" },
        { "trust", "vf:eth0,trust=on", "accepted trust on on VF 0 but "
          "reports off" },
        { "rate", "vf:eth0,rate=100", "accepted rate 100 Mbit/s on VF 0 but "
          "reports 0 Mbit/s" },
    };
    char set[64];
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        if (!setup(&fx, "igb", NULL))
            return;
        snprintf(set, sizeof(set), "vf_ignore=%s", cases[i].setting);
        xvf_mock_pf_set(fx.root, PF, set);
        fx_rebase(&fx);
        xvf_err_clear(&err);
        CHECK_INT(fx_prepare(&fx, cases[i].spec, "domain:1", &vf, &err),
                  -EIO, cases[i].setting);
        CHECK_HAS(err.msg, cases[i].message, cases[i].setting);
        fx_unchanged(&fx, cases[i].setting);
        fx_teardown(&fx);
    }
}

static const struct harness_case cases[] = {
    { "restore_saved", test_restore_saved },
    { "mac_does_not_leak", test_mac_does_not_leak },
    { "zero_mac_refused", test_zero_mac_refused },
    { "link_speed", test_link_speed },
    { "readback_mismatch", test_readback_mismatch },
};

int main(int argc, char **argv)
{
    return harness_main(argc, argv, cases, HARNESS_N(cases));
}
