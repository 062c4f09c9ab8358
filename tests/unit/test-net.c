/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * NIC VFs: the net provider against the fake kernel (libxvf-mock's igb PF and fake
 * rtnetlink: prepare, release, exhaustion, refusals that change nothing,
 * a failure at every operation and a kill at every step undone), and
 * netlink.c against the real kernel in a private network namespace with
 * a veth pair, which has no SR-IOV (clean refusals, link waits). The
 * messages themselves: test-netlink.c.
 * One file: the provider cases share the igb fixture and its helpers;
 * the veth part is one case.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "fixture.h"
#include "net/netlink.h"

#define PF "0000:02:00.0"
#define VF1 "0000:02:10.0"
#define VF2 "0000:02:10.2"
#define MAC1 "02:11:22:33:44:55"
#define SKIP_EXIT 77

/* --- the provider against the fake kernel ----------------------------- */

static bool setup(struct fixture *fx, const char *extra)
{
    char *config = fx_config("igb", extra);
    bool ok = fx_setup(fx, config, PF);

    free(config);
    return ok;
}

static char *sys_read(const struct fixture *fx, const char *rel, char *buf,
                      size_t len)
{
    char path[4096];
    FILE *f;

    buf[0] = '\0';
    if (snprintf(path, sizeof(path), "%s/%s", fx->root, rel) >=
        (int)sizeof(path))
        return buf;
    f = fopen(path, "r");
    if (!f)
        return buf;
    if (fgets(buf, len, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
    return buf;
}

static char *driver_of(const struct fixture *fx, const char *bdf, char *buf,
                       size_t len)
{
    char path[4096], target[4096];
    ssize_t n;

    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver",
             fx->root, bdf);
    n = readlink(path, target, sizeof(target) - 1);
    buf[0] = '\0';
    if (n > 0) {
        target[n] = '\0';
        snprintf(buf, len, "%s", strrchr(target, '/') + 1);
    }
    return buf;
}

/* The MAC of the netdev the VF driver made for @bdf, "" when none. */
static char *vf_netdev_mac(const struct fixture *fx, const char *bdf,
                           char *buf, size_t len)
{
    char path[4096], rel[4096];
    struct dirent *de;
    DIR *d;

    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/net", fx->root,
             bdf);
    d = opendir(path);
    if (!d)
        return buf;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s/net/%s/"
                     "address", bdf, de->d_name);
            sys_read(fx, rel, buf, len);
        }
    closedir(d);
    return buf;
}

static void test_prepare_release(void)
{
    const char *spec = "vf:eth0,mac=" MAC1 ",vlan=10,qos=3,driver=igbvf";
    struct xvf_mock_nvf v;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_entry *list;
    struct xvf_vf vf;
    unsigned int n;
    char buf[64];

    if (!setup(&fx, NULL))
        return;
    REQUIRE_INT(fx_prepare(&fx, spec, "domain:3", &vf, &err), 0, err.msg);
    CHECK_STR(vf.pf, PF, "PF");
    CHECK_STR(vf.vf, VF1, "first VF, from virtfn0");
    CHECK_STR(driver_of(&fx, VF1, buf, sizeof(buf)), "igbvf", "bound");
    CHECK_STR(vf_netdev_mac(&fx, VF1, buf, sizeof(buf)), MAC1,
              "the VF's netdev got the MAC from the PF");
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 0, &v), 0, "VF 0 state");
    CHECK(!memcmp(v.mac, "\x02\x11\x22\x33\x44\x55", 6), "PF keeps MAC");
    CHECK(v.vlan == 10 && v.qos == 3, "vlan %u qos %u", v.vlan, v.qos);
    CHECK_STR(sys_read(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", buf,
                       sizeof(buf)), "7", "all 7 VFs (below the default 8)");
    CHECK_STR(sys_read(&fx, "sys/bus/pci/devices/" PF
                       "/sriov_drivers_autoprobe", buf, sizeof(buf)), "0",
              "autoprobe off while a VF is held");
    REQUIRE_INT(xvf_journal_list(fx.state, NULL, &list, &n), 0, "journal");
    CHECK(n == 1 && list[0].cls == XVF_CLASS_NET && list[0].vfn == 1 &&
          list[0].state == XVF_ENTRY_READY &&
          (list[0].steps & XVF_STEP_VFCONFIG) &&
          (list[0].steps & XVF_STEP_BIND), "journal entry");
    CHECK_STR(n ? list[0].spec : "", "vf:eth0,driver=igbvf,mac=" MAC1
              ",vlan=10,qos=3", "canonical spec");
    free(list);

    /* idempotent for its owner (another one: test_pool) */
    CHECK_INT(fx_prepare(&fx, spec, "domain:3", &vf, &err), 0, err.msg);
    CHECK_STR(vf.vf, VF1, "same VF again");

    xvf_err_clear(&err);
    CHECK_INT(xvf_release(&fx.cfg, spec, &err), 0, err.msg);
    fx_unchanged(&fx, "after release");
    fx_teardown(&fx);
}

static void test_two_vfs(void)
{
    struct xvf_mock_nvf v;
    struct xvf_vf vf1, vf2;
    struct fixture fx;
    struct xvf_err err;
    char buf[64];

    if (!setup(&fx, NULL))
        return;
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0,mac=" MAC1 ",vlan=5", "domain:1",
                        &vf1, &err), 0, err.msg);
    REQUIRE_INT(fx_prepare(&fx, "vf:0000:02:00.0,spoofchk=off,trust=on,"
                        "rate=100", "domain:2", &vf2, &err), 0, err.msg);
    CHECK_STR(vf1.vf, VF1, "first");
    CHECK_STR(vf2.vf, VF2, "second, by the PF's address, stride 2");
    CHECK_STR(driver_of(&fx, VF2, buf, sizeof(buf)), "pciback", "pciback");
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 1, &v), 0, "VF 1");
    CHECK(v.spoofchk == 0 && v.trust == 1 && v.rate == 100,
          "spoofchk %u trust %u rate %u", v.spoofchk, v.trust, v.rate);

    /* releasing the first resets its settings, the second keeps its own */
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:1", &err), 1, err.msg);
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 0, &v), 0, "VF 0");
    CHECK(!memcmp(v.mac, "\0\0\0\0\0\0", 6) && v.vlan == 0,
          "VF 0 MAC and VLAN reset while VFs stay enabled");
    CHECK_STR(driver_of(&fx, VF1, buf, sizeof(buf)), "", "VF 0 unbound");
    CHECK_STR(sys_read(&fx, "sys/bus/pci/devices/" PF "/sriov_numvfs", buf,
                       sizeof(buf)), "7", "VFs stay while one is held");
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 1, &v), 0, "VF 1");
    CHECK(v.trust == 1 && v.rate == 100, "VF 1 untouched");

    /* the freed VF is the next one given out */
    CHECK_INT(fx_prepare(&fx, "vf:eth0", "domain:3", &vf1, &err), 0, err.msg);
    CHECK_STR(vf1.vf, VF1, "freed VF reused without touching numvfs");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:3", &err), 1, err.msg);
    CHECK_INT(xvf_release(&fx.cfg, VF2, &err), 0, err.msg);
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 1, &v), 0, "VF 1");
    fx_unchanged(&fx, "after releasing both");
    fx_teardown(&fx);
}

/*
 * A NIC spec is a pool: each request for "vf:eth0" gets a VF of its own,
 * a release frees only the requester's, and a domain's owners free all.
 */
static void test_pool(void)
{
    struct xvf_vf a, b, c, again;
    char buf[64], *before, *now, *diff;
    struct fixture fx;
    struct xvf_err err;

    if (!setup(&fx, NULL))
        return;
    REQUIRE_INT(fx_prepare(&fx, "vf:eth0", "domain:5/0", &a, &err), 0,
                err.msg);
    CHECK_INT(fx_prepare(&fx, "vf:eth0", "domain:6/0", &b, &err), 0,
              err.msg);
    CHECK_INT(fx_prepare(&fx, "vf:eth0", "domain:5/1", &c, &err), 0,
              err.msg);
    CHECK(strcmp(a.vf, b.vf) && strcmp(a.vf, c.vf) && strcmp(b.vf, c.vf),
          "three VFs: %s %s %s", a.vf, b.vf, c.vf);
    CHECK_INT(fx_prepare(&fx, "vf:eth0", "domain:6/0", &again, &err), 0,
              err.msg);
    CHECK_STR(again.vf, b.vf, "same request: same VF");
    CHECK_INT(fx_journal_count(&fx), 3, "three entries");

    /* a MAC names one interface: the pool does not hand it out twice */
    CHECK_INT(fx_prepare(&fx, "vf:eth0,mac=02:16:3e:00:00:07", "domain:7/0",
                         &again, &err), 0, err.msg);
    before = xvf_mock_snapshot(fx.root);
    CHECK_INT(fx_prepare(&fx, "vf:eth0,mac=02:16:3e:00:00:07,vlan=5",
                         "domain:8/0", &again, &err), -EBUSY, "same MAC");
    CHECK_HAS(err.msg, "MAC 02:16:3e:00:00:07 is already given to domain 7 "
              "(device 0)", "names the MAC and its holder");
    now = xvf_mock_snapshot(fx.root);
    diff = xvf_mock_diff(before, now);
    CHECK(diff && !*diff, "same MAC refused without a change: %s",
          diff ? diff : "(no diff)");
    free(diff);
    free(now);
    free(before);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:7/0", &err), 1, err.msg);

    CHECK_INT(xvf_release_held(&fx.cfg, "vf:eth0", "domain:6/1", &err),
              -ENOENT, "another request releases nothing");
    CHECK_INT(xvf_release_held(&fx.cfg, "vf:eth0", "domain:6/0", &err), 0,
              err.msg);
    CHECK_STR(driver_of(&fx, b.vf, buf, sizeof(buf)), "", "b unbound");
    CHECK_STR(driver_of(&fx, a.vf, buf, sizeof(buf)), "pciback",
              "a still bound");
    CHECK_STR(driver_of(&fx, c.vf, buf, sizeof(buf)), "pciback",
              "c still bound");
    CHECK_INT(xvf_reconcile(&fx.cfg, &err), 0, "reconcile keeps ready ones");
    CHECK_INT(fx_journal_count(&fx), 2, "two entries");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:5/0", &err), 1, err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:5/1", &err), 1, err.msg);
    fx_unchanged(&fx, "after releasing the pool");
    fx_teardown(&fx);
}

static void test_exhaustion(void)
{
    struct xvf_vf vf;
    struct fixture fx;
    struct xvf_err err;
    char *before;

    /* net_numvfs bounds the pool: two, then no growth while held */
    if (!setup(&fx, NULL))
        return;
    fx.cfg.net_numvfs = 2;
    CHECK_INT(fx_prepare(&fx, "vf:eth0", "domain:1", &vf, &err), 0, err.msg);
    CHECK_INT(fx_prepare(&fx, "vf:eth0,vlan=2", "domain:2", &vf, &err), 0,
              err.msg);
    before = xvf_mock_snapshot(fx.root);
    CHECK_INT(fx_prepare(&fx, "vf:eth0,vlan=3", "domain:3", &vf, &err),
              -ENOSPC, "third");
    CHECK(strstr(err.msg, "the 2 enabled VFs of eth0 (" PF ") are all in "
                 "use") && strstr(err.msg, "cannot grow"), "%s", err.msg);
    {
        char *now = xvf_mock_snapshot(fx.root);
        char *diff = xvf_mock_diff(before, now);

        CHECK(diff && !*diff, "refusal changed the device:\n%s", diff);
        free(now);
        free(diff);
    }
    free(before);
    CHECK_INT(fx_journal_count(&fx), 2, "two held");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:1", &err), 1, err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:2", &err), 1, err.msg);
    fx_unchanged(&fx, "after release");
    fx_teardown(&fx);

    /* a PF with only two VFs: the hardware's limit */
    if (!setup(&fx, "nic bdf=0000:03:00.0 name=eth9 totalvfs=2"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:eth9", "domain:1", &vf, &err), 0, err.msg);
    CHECK_INT(fx_prepare(&fx, "vf:eth9,vlan=2", "domain:2", &vf, &err), 0,
              err.msg);
    CHECK_INT(fx_prepare(&fx, "vf:eth9,vlan=3", "domain:3", &vf, &err),
              -ENOSPC, "third");
    CHECK(strstr(err.msg, "all 2 VFs of eth9 (0000:03:00.0) are in use"),
          "%s", err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:1", &err), 1, err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:2", &err), 1, err.msg);
    fx_teardown(&fx);
}

static void test_vfs_in_use_outside(void)
{
    struct xvf_vf vf;
    struct fixture fx;
    struct xvf_err err;
    char buf[64];

    /* Two VFs enabled with autoprobe on: DomD's igbvf took both. */
    if (!setup(&fx, "nic bdf=0000:03:00.0 name=eth9 numvfs=2"))
        return;
    CHECK_STR(driver_of(&fx, "0000:03:10.0", buf, sizeof(buf)), "igbvf",
              "autoprobed");
    CHECK_INT(fx_prepare(&fx, "vf:eth9", "domain:1", &vf, &err), -ENOSPC,
              "all taken by igbvf");
    CHECK(strstr(err.msg, "cannot grow"), "%s", err.msg);
    fx_unchanged(&fx, "VFs in use outside xen-vf");

    /* One given back to the PF: that one is used, numvfs left alone. */
    xvf_mock_reset_counts(fx.root);
    {
        int fd;
        char path[4096];

        snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/igbvf/unbind",
                 fx.root);
        fd = open(path, O_WRONLY);
        REQUIRE(fd >= 0, "open unbind");
        CHECK(write(fd, "0000:03:10.2", 12) == 12, "unbind VF 2");
        close(fd);
    }
    fx_rebase(&fx);
    CHECK_INT(fx_prepare(&fx, "vf:eth9", "domain:1", &vf, &err), 0, err.msg);
    CHECK_STR(vf.vf, "0000:03:10.2", "the free one");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    {
        char *now = xvf_mock_snapshot(fx.root);
        char *diff = xvf_mock_diff(fx.before, now);

        CHECK(diff && !*diff, "numvfs and autoprobe restored:\n%s", diff);
        free(now);
        free(diff);
    }
    fx_teardown(&fx);
}

static void test_bring_pf_up(void)
{
    struct xvf_mock_nvf v;
    struct xvf_vf vf;
    struct fixture fx;
    struct xvf_err err;

    if (!setup(&fx, NULL))
        return;
    xvf_mock_pf_set(fx.root, PF, "ifup=0");
    fx_rebase(&fx);
    CHECK_INT(fx_prepare(&fx, "vf:eth0,mac=" MAC1, "domain:1", &vf, &err),
              -ENETDOWN, "PF down");
    CHECK(strstr(err.msg, "eth0 (" PF ") is down") &&
          strstr(err.msg, "bring_pf_up"), "%s", err.msg);
    fx_unchanged(&fx, "PF down");

    fx.cfg.bring_pf_up = true;
    CHECK_INT(fx_prepare(&fx, "vf:eth0,mac=" MAC1, "domain:1", &vf, &err), 0,
              err.msg);
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 0, &v), 0, "state");
    CHECK_INT(v.ifup, 1, "brought up");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    CHECK_INT(xvf_mock_nic_vf(fx.root, PF, 0, &v), 0, "state");
    CHECK_INT(v.ifup, 1, "left up after release");
    CHECK(!memcmp(v.mac, "\0\0\0\0\0\0", 6), "VF state gone with the VFs");
    fx_teardown(&fx);
}

static const struct refusal {
    const char *name;
    const char *extra;      /* config lines after the igb preset */
    const char *pf_set;     /* on 0000:02:00.0 */
    const char *spec;
    int code;
    const char *message;
} refusals[] = {
    { "unknown netdev", NULL, NULL, "vf:eth7", -ENODEV,
      "no network interface 'eth7'" },
    { "NVMe PF by address", NULL, NULL, "vf:0000:01:00.0", -EOPNOTSUPP,
      "0000:01:00.0 is not a network controller (PCI class 0x010802)" },
    { "unknown address", NULL, NULL, "vf:0000:09:00.0", -ENODEV,
      "no PCI device 0000:09:00.0" },
    { "NIC without SR-IOV", "nic bdf=0000:03:00.0 name=eth9 sriov=0", NULL,
      "vf:eth9", -EOPNOTSUPP, "eth9 (0000:03:00.0) has no SR-IOV" },
    { "PF without driver", "nic bdf=0000:03:00.0 name=eth9 bound=0", NULL,
      "vf:0000:03:00.0", -ENODEV, "has no network interface" },
    { "VF by address", "nic bdf=0000:03:00.0 name=eth9 numvfs=1", NULL,
      "vf:0000:03:10.0", -EINVAL,
      "0000:03:10.0 is a virtual function of 0000:03:00.0" },
    { "VF netdev", "nic bdf=0000:03:00.0 name=eth9 numvfs=1", NULL,
      "vf:eth1", -EINVAL, "eth1 is the netdev of VF 0000:03:10.0" },
    { "pciback not loaded", "drivers nvme,igb,igbvf", NULL, "vf:eth0",
      -ENODEV, "driver 'pciback' is not loaded (modprobe xen-pciback)" },
    { "no such VF driver", NULL, NULL, "vf:eth0,driver=vfio-pci", -ENODEV,
      "driver 'vfio-pci' is not loaded" },
    { "trust unsupported", NULL, "vf_trust=0", "vf:eth0,trust=on",
      -EOPNOTSUPP, "the driver of eth0 cannot set trust on its VFs" },
    { "rate unsupported", NULL, "vf_rate=0", "vf:eth0,rate=10",
      -EOPNOTSUPP, "cannot set rate" },
    { "rate above link speed", NULL, NULL, "vf:eth0,mac=" MAC1 ",rate=2000",
      -EINVAL, "rate=2000 Mbit/s is above the link speed of eth0 (1000 "
      "Mb/s)" },
    { "rate without carrier", NULL, "carrier=0", "vf:eth0,rate=10",
      -ENETDOWN, "rate= needs the link of eth0" },
    { "link lost with the VFs", NULL, "relink=0", "vf:eth0,vlan=4,rate=10",
      -ENETDOWN, "not up after 300 ms" },
};

static void test_refusals(void)
{
    const struct refusal *t;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    struct timespec t0, t1;
    unsigned int i;
    long ms;

    for (i = 0; i < ARRAY_SIZE(refusals); i++) {
        t = &refusals[i];
        if (!setup(&fx, t->extra))
            continue;
        if (t->pf_set)
            xvf_mock_pf_set(fx.root, PF, t->pf_set);
        fx_rebase(&fx);
        fx.cfg.bind_timeout_ms = 300;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK_INT(fx_prepare(&fx, t->spec, "domain:1", &vf, &err), t->code,
                  t->name);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000 +
             (t1.tv_nsec - t0.tv_nsec) / 1000000;
        CHECK(strstr(err.msg, t->message), "%s: message '%s' lacks '%s'",
              t->name, err.msg, t->message);
        CHECK(ms < 2000, "%s: took %ld ms (bound 300 ms)", t->name, ms);
        if (!strcmp(t->name, "link lost with the VFs")) {
            /* the link did drop: only that is left changed */
            xvf_mock_pf_set(fx.root, PF, "carrier=1");
        }
        fx_unchanged(&fx, t->name);
        fx_teardown(&fx);
    }
}

/* The kernel's extended-ack text reaches the message. */
static void test_ext_ack(void)
{
    struct xvf_mock_fault f;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, NULL))
        return;
    xvf_mock_fault_init(&f);
    f.kind = XVF_MOCK_NETLINK;
    f.nth = 2;              /* the second setlink: the VLAN */
    snprintf(f.attr, sizeof(f.attr), "setlink");
    f.err = ERANGE;
    REQUIRE_INT(xvf_mock_set_fault(fx.root, &f), 0, "arm");
    CHECK_INT(fx_prepare(&fx, "vf:eth0,mac=" MAC1 ",vlan=3", "domain:1", &vf,
                      &err), -ERANGE, "refused VLAN");
    CHECK(strstr(err.msg, "cannot set vlan 3 qos 0 on VF 0 of eth0: "
                 "Numerical result out of range: xvf-mock: injected fault"),
          "%s", err.msg);
    xvf_mock_clear_fault(fx.root);
    fx_unchanged(&fx, "after the refused VLAN");
    fx_teardown(&fx);
}

static void test_virtual_netdev(void)
{
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    char path[4096];
    FILE *f;

    /* a netdev with no device link, as veth, bridges, lo */
    if (!setup(&fx, NULL))
        return;
    snprintf(path, sizeof(path), "mkdir -p %s/sys/devices/virtual/net/br0 "
             "&& ln -s ../../devices/virtual/net/br0 %s/sys/class/net/br0",
             fx.root, fx.root);
    REQUIRE(!system(path), "make br0");
    snprintf(path, sizeof(path), "%s/sys/class/net/br0/ifindex", fx.root);
    f = fopen(path, "w");
    REQUIRE(f, "ifindex");
    fputs("9\n", f);
    fclose(f);
    fx_rebase(&fx);
    CHECK_INT(fx_prepare(&fx, "vf:br0", "domain:1", &vf, &err), -EOPNOTSUPP,
              "virtual netdev");
    CHECK(strstr(err.msg, "br0 is not a PCI function"), "%s", err.msg);
    fx_unchanged(&fx, "virtual netdev");
    fx_teardown(&fx);
}

/* The 64 characters of a libxl name hold half the keys at a time. */
#define SPEC_A "vf:eth0,driver=igbvf,mac=" MAC1 ",vlan=9,qos=1"
#define SPEC_B "vf:eth0,spoofchk=off,trust=on,rate=50"

static void fault_loop(const char *spec)
{
    struct xvf_mock_counts counts;
    struct xvf_mock_fault f;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i, ops, mode, netlink;
    char what[160];

    if (!setup(&fx, NULL))
        return;
    REQUIRE_INT(fx_prepare(&fx, spec, "domain:1", &vf, &err), 0, err.msg);
    xvf_mock_counts(fx.root, &counts);
    ops = counts.ops;
    netlink = counts.netlink;
    fx_teardown(&fx);
    REQUIRE(ops >= 8 && netlink >= 4, "%s: a prepare is >= 8 operations, "
            "4 of them rtnetlink; saw %u, %u", spec, ops, netlink);

    for (mode = 0; mode < 2; mode++) {
        for (i = 1; i <= (mode ? netlink : ops); i++) {
            snprintf(what, sizeof(what), "%s: %s %u/%u fails with %s",
                     spec, mode ? "rtnetlink request" : "operation", i,
                     mode ? netlink : ops, mode ? "EOPNOTSUPP" : "EIO");
            if (!setup(&fx, NULL))
                return;
            xvf_mock_fault_init(&f);
            f.nth = i;
            if (mode) {
                f.kind = XVF_MOCK_NETLINK;
                f.err = EOPNOTSUPP;
            } else {
                f.err = EIO;
            }
            xvf_mock_set_fault(fx.root, &f);
            CHECK(fx_prepare(&fx, spec, "domain:1", &vf, &err) < 0,
                  "%s: prepare succeeded", what);
            CHECK(err.msg[0], "%s: no message", what);
            xvf_mock_clear_fault(fx.root);
            fx_unchanged(&fx, what);
            fx_teardown(&fx);
        }
    }
}

static void test_fault_every_op(void)
{
    fault_loop(SPEC_A);
    fault_loop(SPEC_B);
}

static const char *kill_at;

static void die_at_step(void *opaque, const char *step, const char *detail)
{
    if (!strcmp(step, kill_at))
        _exit(9);
}

static void test_killed_then_reconciled(void)
{
    static const char *const steps[][2] = {
        { SPEC_A, "pf-up" }, { SPEC_A, "autoprobe" }, { SPEC_A, "numvfs" },
        { SPEC_A, "vf-mac" }, { SPEC_A, "vf-vlan" },
        { SPEC_A, "bind" }, { SPEC_B, "vf-spoofchk" },
        { SPEC_B, "vf-trust" }, { SPEC_B, "vf-rate" },
    };
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i;
    int status;
    pid_t pid;

    for (i = 0; i < ARRAY_SIZE(steps); i++) {
        if (!setup(&fx, NULL))
            return;
        /* pf-up only runs for a PF that is down */
        xvf_mock_pf_set(fx.root, PF, "ifup=0");
        fx_rebase(&fx);
        fx.cfg.bring_pf_up = true;
        kill_at = steps[i][1];
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            fx.cfg.step_cb = die_at_step;
            fx_prepare(&fx, steps[i][0], "domain:1", &vf, &err);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 9,
              "child did not die at step %s", kill_at);
        CHECK(fx_journal_count(&fx) == 1, "killed at %s: journal has the run",
              kill_at);
        xvf_err_clear(&err);
        CHECK_INT(xvf_reconcile(&fx.cfg, &err), 1, kill_at);
        /* the PF stays up once brought up: that is the documented rule */
        if (i)
            xvf_mock_pf_set(fx.root, PF, "ifup=0");
        fx_unchanged(&fx, kill_at);
        fx_teardown(&fx);
    }
}

static void test_vfctl_status(void)
{
    const char *spec = "vf:eth0,mac=" MAC1 ",vlan=7";
    char cmd[8192], out[8192];
    struct fixture fx;
    FILE *p;
    size_t n;

    /* across processes: xen-vfctl with this process's fake kernel */
    if (!setup(&fx, NULL))
        return;
    snprintf(cmd, sizeof(cmd), "%s/../../xen-vfctl --state-dir %s prepare "
             "--local %s && %s/../../xen-vfctl --state-dir %s status && "
             "%s/../../xen-vfctl --state-dir %s status --json", getenv("UT"),
             fx.state, spec, getenv("UT"), fx.state, getenv("UT"),
             fx.state);
    p = popen(cmd, "r");
    REQUIRE(p, "popen");
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    CHECK_INT(pclose(p), 0, "xen-vfctl prepare + status");
    printf("%s", out);
    CHECK(strstr(out, VF1 "\n"), "prepare printed the VF");
    CHECK(strstr(out, "NIC PF " PF " eth0"), "status names the NIC PF");
    CHECK(strstr(out, "VF 0 " VF1) && strstr(out, "mac " MAC1) &&
          strstr(out, "vlan 7"), "status shows the VF's MAC and VLAN");
    CHECK(strstr(out, "\"class\":\"net\""), "json has the NIC PF");
    CHECK(strstr(out, "\"mac\":\"" MAC1 "\""), "json has the VF's MAC");
    snprintf(cmd, sizeof(cmd), "%s/../../xen-vfctl --state-dir %s release "
             "--local %s", getenv("UT"), fx.state, spec);
    CHECK_INT(system(cmd), 0, "release");
    fx_unchanged(&fx, "xen-vfctl release");
    fx_teardown(&fx);
}

/* --- the real kernel, in a network namespace -------------------------- */

static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
    char buf[8192];
    ssize_t n;
    int r;

    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
    if (n < 0)
        return -errno;
    r = mnl_cb_run(buf, n, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL,
                   NULL);
    return r < 0 ? -errno : 0;
}

/* ip link add A type veth peer name B, through rtnetlink */
static int make_veth(const char *a, const char *b)
{
    char buf[1024];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct nlattr *linkinfo, *data, *peer;
    struct mnl_socket *nl;
    struct ifinfomsg *ifm;
    int r;

    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE |
                       NLM_F_EXCL;
    nlh->nlmsg_seq = 1;
    mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, a);
    linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    mnl_attr_put_strz(nlh, IFLA_IFNAME, b);
    mnl_attr_nest_end(nlh, peer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linkinfo);
    nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl)
        return -errno;
    r = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
    if (!r)
        r = nl_talk(nl, nlh);
    mnl_socket_close(nl);
    return r;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY), r = 0;

    if (fd < 0)
        return -errno;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        r = -errno;
    close(fd);
    return r;
}

/* A private network and mount namespace, as root or in a user namespace. */
static int enter_netns(char *why, size_t len)
{
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();

    if (!unshare(CLONE_NEWNET | CLONE_NEWNS))
        return 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS)) {
        snprintf(why, len, "no network namespace: unshare: %s",
                 strerror(errno));
        return -1;
    }
    snprintf(map, sizeof(map), "0 %u 1", uid);
    write_file("/proc/self/setgroups", "deny");
    if (write_file("/proc/self/uid_map", map))
        return snprintf(why, len, "uid_map: %s", strerror(errno)), -1;
    snprintf(map, sizeof(map), "0 %u 1", gid);
    if (write_file("/proc/self/gid_map", map))
        return snprintf(why, len, "gid_map: %s", strerror(errno)), -1;
    return 0;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 +
           (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void real_kernel_checks(void)
{
    static struct xvf_nl_link link, peer;
    struct xvf_nl *nl = NULL, *watch = NULL;
    struct xvf_nl_vf_set set = { .vf = 0 };
    char root[] = "/tmp/xvf-netns.XXXXXX", sys[64], state[64];
    struct xvf_engine_config cfg = { .bind_timeout_ms = 500 };
    static const enum xvf_nl_vf_what whats[] = {
        XVF_NL_VF_MAC, XVF_NL_VF_VLAN, XVF_NL_VF_RATE, XVF_NL_VF_SPOOFCHK,
        XVF_NL_VF_TRUST,
    };
    struct timespec t0;
    struct xvf_spec spec;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i;
    pid_t pid;
    int status, r;

    r = make_veth("xvfa", "xvfb");
    REQUIRE_INT(r, 0, "create a veth pair in the namespace");
    REQUIRE_INT(xvf_nl_open(&nl), 0, "open");
    REQUIRE_INT(xvf_nl_get_link(nl, "xvfa", 0, &link), 0, "get xvfa");
    CHECK(link.ifindex > 0 && !strcmp(link.ifname, "xvfa"), "index/name");
    CHECK(!(link.flags & IFF_UP), "down after creation");
    CHECK(link.has_addr, "address");
    CHECK(!link.has_num_vf && link.nvfs == 0, "veth: no VF information");
    CHECK_INT(xvf_nl_get_link(nl, NULL, link.ifindex, &peer), 0, "by idx");
    CHECK_STR(peer.ifname, "xvfa", "same link by index");
    CHECK_INT(xvf_nl_get_link(nl, "nosuch0", 0, &peer), -ENODEV,
              "unknown name");
    CHECK_INT(xvf_nl_set_up(nl, 999999), -ENODEV, "unknown index");

    /* up, but no carrier while the peer is down: a bounded wait */
    CHECK_INT(xvf_nl_set_up(nl, link.ifindex), 0, "set up");
    CHECK_INT(xvf_nl_get_link(nl, "xvfa", 0, &link), 0, "get");
    CHECK(link.flags & IFF_UP, "IFF_UP");
    CHECK(!(link.flags & IFF_RUNNING), "not running without the peer");
    REQUIRE_INT(xvf_nl_open_watch(&watch), 0, "watch");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(xvf_nl_wait_running(watch, nl, link.ifindex, 200, &link),
              -ETIMEDOUT, "no carrier");
    CHECK(ms_since(&t0) >= 190 && ms_since(&t0) < 1500,
          "timed out after %ld ms, bound 200", ms_since(&t0));

    /* the peer comes up 150 ms later: woken by the notification */
    REQUIRE_INT(xvf_nl_get_link(nl, "xvfb", 0, &peer), 0, "get xvfb");
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct xvf_nl *n2;

        usleep(150000);
        _exit(xvf_nl_open(&n2) || xvf_nl_set_up(n2, peer.ifindex));
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(xvf_nl_wait_running(watch, nl, link.ifindex, 5000, &link), 0,
              "carrier comes");
    CHECK(ms_since(&t0) >= 100 && ms_since(&t0) < 3000,
          "woke after %ld ms", ms_since(&t0));
    CHECK(link.flags & IFF_RUNNING, "IFF_RUNNING");
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && !WEXITSTATUS(status), "peer up");

    /* veth has no VFs: every VF setting is refused cleanly */
    for (i = 0; i < ARRAY_SIZE(whats); i++) {
        set.what = whats[i];
        set.vlan = 5;
        set.rate = 10;
        set.on = true;
        memcpy(set.mac, "\x02\0\0\0\0\x01", 6);
        CHECK_INT(xvf_nl_set_vf(nl, link.ifindex, &set), -EOPNOTSUPP,
                  "VF setting on veth");
    }
    CHECK_INT(xvf_nl_get_link(nl, "xvfa", 0, &peer), 0, "get");
    CHECK_HEX(peer.flags, link.flags, "link unchanged by the refusals");

    /* the provider on this namespace's sysfs */
    REQUIRE(mkdtemp(root), "mkdtemp");
    snprintf(sys, sizeof(sys), "%s/sys", root);
    snprintf(state, sizeof(state), "%s/state", root);
    REQUIRE(!mkdir(sys, 0755), "mkdir");
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount("sysfs", sys, "sysfs", 0, NULL)) {
        FAIL("cannot mount this namespace's sysfs: %s", strerror(errno));
        goto out;
    }
    setenv("XEN_VF_ROOT", root, 1);
    cfg.state_dir = state;
    for (i = 0; i < 3; i++) {
        const char *text = i == 0 ? "vf:xvfa,mac=02:00:00:00:00:01" :
                           i == 1 ? "vf:lo" : "vf:nosuch0";

        xvf_err_clear(&err);
        REQUIRE_INT(xvf_spec_parse(text, &spec, &err), 0, text);
        r = xvf_prepare(&cfg, &spec, "domain:1", &vf, &err);
        CHECK_INT(r, i == 2 ? -ENODEV : -EOPNOTSUPP, text);
        CHECK(strstr(err.msg, i == 2 ? "no network interface 'nosuch0'" :
                     "is not a PCI function"), "%s: %s", text, err.msg);
    }
    CHECK_INT(xvf_nl_get_link(nl, "xvfa", 0, &peer), 0, "get");
    CHECK_HEX(peer.flags, link.flags, "link unchanged by the provider");
    {
        struct xvf_entry *list;
        unsigned int n;

        CHECK_INT(xvf_journal_list(state, NULL, &list, &n), 0, "journal");
        CHECK_INT(n, 0, "nothing journaled");
        free(list);
    }
    umount(sys);
out:
    xvf_nl_close(watch);
    xvf_nl_close(nl);
}

static void test_real_kernel_veth(void)
{
    char why[256] = "";
    int status;
    pid_t pid;

    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        unsetenv("XEN_VF_ROOT");
        if (enter_netns(why, sizeof(why))) {
            printf("#   %s\n", why);
            fflush(stdout);
            _exit(SKIP_EXIT);
        }
        real_kernel_checks();
        fflush(stdout);
        _exit(harness_state.case_failures ? 1 : 0);
    }
    REQUIRE(pid > 0, "fork");
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == SKIP_EXIT)
        SKIP("this host gives no network namespace (see above)");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "checks in the network namespace failed (above), status 0x%x",
          status);
}

int main(int argc, char **argv)
{
    static const struct harness_case cases[] = {
        { "prepare_release", test_prepare_release },
        { "two_vfs", test_two_vfs },
        { "pool", test_pool },
        { "exhaustion", test_exhaustion },
        { "vfs_in_use_outside", test_vfs_in_use_outside },
        { "bring_pf_up", test_bring_pf_up },
        { "refusals", test_refusals },
        { "virtual_netdev", test_virtual_netdev },
        { "ext_ack", test_ext_ack },
        { "fault_every_op", test_fault_every_op },
        { "killed_then_reconciled", test_killed_then_reconciled },
        { "vfctl_status", test_vfctl_status },
        { "real_kernel_veth", test_real_kernel_veth },
    };
    char self[4096];
    ssize_t n;

    /* where the test binaries are, for xen-vfctl at ../../xen-vfctl */
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        setenv("UT", self, 1);
    }
    return harness_main(argc, argv, cases, HARNESS_N(cases));
}
