/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-provider.c - the vf provider (plugin/libxl-provider) and the
 * protocol codec, against the in-memory xenstore of
 * tests/fakes/xenstore/fake-xs.c: what the provider writes, with which
 * permissions, how it reads each answer DomD can give, and how it finds
 * the request again to release it. Real xenstore is the xen tier's job.
 * Built with ASan and UBSan and run without libxvf-mock.so (unit.mk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "xenstore/fake-xs.h"
#include "libxl_pci_provider.h"
#include "xen/protocol.h"
#include "vf-provider.h"

#define RQ "/local/domain/1/backend/vf/5/0"
#define DOMD_CONF "domd = DomD\n"

libxl_pci_provider_init_fn libxl_pci_provider_init;

static const libxl_pci_provider_ops *ops;
static char conf_path[] = "/tmp/xvf-test-provider-XXXXXX";

static void set_conf(const char *text)
{
    FILE *f = fopen(conf_path, "w");

    fputs(text, f);
    fclose(f);
}

static void call_init(libxl_pci_provider_call *c, struct xs_handle *h,
                      unsigned int domid, const char *name)
{
    memset(c, 0, sizeof(*c));
    c->xsh = h;
    c->domid = domid;
    c->name = name;
}

/* Make @path's permissions "n@owner", or "n@owner" plus @other with @perm. */
static void set_perms(struct xs_handle *h, const char *path,
                      unsigned int owner, unsigned int other,
                      unsigned int perm)
{
    struct xs_permissions p[2] = {
        { .id = owner, .perms = XS_PERM_NONE },
        { .id = other, .perms = perm },
    };

    if (!xs_set_permissions(h, XBT_NULL, path, p, perm ? 2 : 1))
        FAIL("cannot set the permissions of %s", path);
}

static struct xs_handle *board(void)
{
    struct xs_handle *h = fake_xs_open();

    fake_xs_put(h, "/local/domain/0/name", "Domain-0");
    fake_xs_put(h, "/local/domain/1/name", "DomD");
    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/status", "ready");
    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/protocol", "1");
    fake_xs_put(h, "/local/domain/5/name", "guest");
    return h;
}

/* the cases after test_init need the operations it checks */
#define NEED_OPS() \
    do { if (!ops) { FAIL("no provider operations"); return; } } while (0)

static void test_init(void)
{
    CHECK(libxl_pci_provider_init(0) == NULL, "version 0 accepted");
    CHECK(ops && ops->version == 1, "version %u", ops ? ops->version : 0);
    CHECK(ops && ops->check && ops->request && ops->answer && ops->release,
          "missing operation");
}

static void test_check(void)
{
    static const char *const good[] = {
        "vf:nvme0/ns2", "vf:nvme0/ns2,vq=4,vi=2", "vf:0000:01:00.0/ns1",
        "vf:enp1s0f0,mac=02:00:00:00:00:01,vlan=10",
    };
    static const char *const bad[] = {
        "vf:nvme0", "vf:nvme0/ns2,colour=red", "vf:nvme0/ns2,vq=x",
        "vf:", "vf:nvme0/ns2,vq=4,vi=2,driver=pciback,xxxxxxxxxxxxxxxxxxxx",
        "vf:nvme0/ns2,driver=nvme",
    };
    libxl_pci_provider_call c;
    unsigned int i;

    NEED_OPS();
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        call_init(&c, NULL, 0, good[i]);
        CHECK(ops->check(&c) == 0, "%s rejected: %s", good[i], c.error);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        call_init(&c, NULL, 0, bad[i]);
        CHECK(ops->check(&c) == -EINVAL && c.error[0],
              "%s accepted or no message", bad[i]);
    }
}

static void test_request(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c, c2;
    int rc;

    NEED_OPS();
    h = board();
    set_conf(DOMD_CONF);
    call_init(&c, h, 5, "vf:nvme0/ns2,vq=4");
    rc = ops->request(&c);
    CHECK(rc == 0, "request: %d %s", rc, c.error);
    CHECK_STR(c.path, RQ "/state", "watched path");
    CHECK(c.timeout_ms == 0, "timeout %u", c.timeout_ms);
    CHECK_STR(fake_xs_get(h, RQ "/spec"), "vf:nvme0/ns2,vq=4", "spec");
    CHECK_STR(fake_xs_get(h, RQ "/op"), "prepare", "op");
    CHECK_STR(fake_xs_get(h, RQ "/state"), "requested", "state");
    CHECK_STR(fake_xs_get(h, RQ "/bdf"), "", "bdf");
    CHECK_STR(fake_xs_get(h, RQ "/error"), "", "error");

    /* Dom0 owns everything; DomD reads, and writes only its answer. */
    CHECK_STR(fake_xs_perms(h, "/local/domain/1/backend/vf"), "n0 r1",
              "root perms");
    CHECK_STR(fake_xs_perms(h, "/local/domain/1/backend/vf/5"), "n0 b1",
              "guest perms");
    CHECK_STR(fake_xs_perms(h, RQ), "n0 b1", "request perms");
    CHECK_STR(fake_xs_perms(h, RQ "/spec"), "n0 r1", "spec perms");
    CHECK_STR(fake_xs_perms(h, RQ "/op"), "n0 r1", "op perms");
    CHECK_STR(fake_xs_perms(h, RQ "/state"), "n0 b1", "state perms");
    CHECK_STR(fake_xs_perms(h, RQ "/bdf"), "n0 b1", "bdf perms");
    CHECK_STR(fake_xs_perms(h, RQ "/error"), "n0 b1", "error perms");

    /* A second device of the same guest gets the next devid. */
    call_init(&c2, h, 5, "vf:nvme0/ns3");
    CHECK(ops->request(&c2) == 0, "second request: %s", c2.error);
    CHECK_STR(c2.path, "/local/domain/1/backend/vf/5/1/state",
              "second path");

    /* A freed devid is used again. */
    fake_xs_put(h, "/local/domain/1/backend/vf/5/7/state", "ready");
    xs_rm(h, XBT_NULL, RQ);
    call_init(&c2, h, 5, "vf:nvme0/ns4");
    CHECK(ops->request(&c2) == 0, "third request: %s", c2.error);
    CHECK_STR(c2.path, RQ "/state", "reused devid");

    /* Directories with other permissions are mended, and still read. */
    set_perms(h, "/local/domain/1/backend/vf", 0, 1, XS_PERM_WRITE);
    set_perms(h, "/local/domain/1/backend/vf/5", 0, 1, XS_PERM_READ);
    call_init(&c2, h, 5, "vf:nvme0/ns4");
    CHECK(ops->request(&c2) == 0, "request, bad perms: %s", c2.error);
    CHECK_STR(c2.path, "/local/domain/1/backend/vf/5/2/state",
              "next devid after a mended directory");
    CHECK_STR(fake_xs_perms(h, "/local/domain/1/backend/vf"), "n0 r1",
              "root perms mended");
    CHECK_STR(fake_xs_perms(h, "/local/domain/1/backend/vf/5"), "n0 b1",
              "guest perms mended");

    fake_xs_close(h);
}

/* The round trips of a request and of an answer still pending. */
static void test_round_trips(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;
    unsigned int calls;

    NEED_OPS();
    h = board();
    set_conf(DOMD_CONF);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "first request: %s", c.error);
    /* The usual case: the area exists, the guest's directory does not. */
    call_init(&c, h, 6, "vf:nvme0/ns3");
    calls = fake_xs_calls(h);
    CHECK(ops->request(&c) == 0, "request: %s", c.error);
    CHECK(fake_xs_calls(h) - calls <= 24,
          "at most 24 requests to xenstored for a request, the driver "
          "domain found by name (%u)",
          fake_xs_calls(h) - calls);
    calls = fake_xs_calls(h);
    CHECK(ops->answer(&c) == LIBXL_PCI_PROVIDER_PENDING, "pending");
    CHECK_INT(fake_xs_calls(h) - calls, 4,
              "a pending answer: state and its writers, one transaction");
    fake_xs_close(h);
}

static void test_answer(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;
    char junk[300];
    int rc;

    NEED_OPS();
    h = board();
    set_conf(DOMD_CONF);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "request: %s", c.error);

    CHECK(ops->answer(&c) == LIBXL_PCI_PROVIDER_PENDING, "requested");
    fake_xs_put(h, RQ "/state", "preparing");
    CHECK(ops->answer(&c) == LIBXL_PCI_PROVIDER_PENDING, "preparing");

    fake_xs_put(h, RQ "/bdf", "0000:01:00.2");
    fake_xs_put(h, RQ "/state", "ready");
    rc = ops->answer(&c);
    CHECK(rc == 0, "ready: %d %s", rc, c.error);
    CHECK(c.bdf_valid && c.domain == 0 && c.bus == 1 && c.dev == 0 &&
          c.func == 2, "bdf %x:%x:%x.%x", c.domain, c.bus, c.dev, c.func);

    /* Short form is canonicalised; garbage is refused. */
    fake_xs_put(h, RQ "/bdf", "03:00.1");
    CHECK(ops->answer(&c) == 0 && c.bus == 3 && c.func == 1, "short bdf");
    fake_xs_put(h, RQ "/bdf", "0000:01:00.9");
    memset(c.error, 0, sizeof(c.error));
    CHECK(ops->answer(&c) == -EPROTO, "bad bdf accepted");
    CHECK_HAS(c.error, "bad BDF '0000:01:00.9'", "bad bdf message");

    fake_xs_put(h, RQ "/state", "error");
    fake_xs_put(h, RQ "/error",
                "namespace 2 of nvme0 is attached to the primary");
    CHECK(ops->answer(&c) == -EIO, "error state");
    CHECK_STR(c.error, "namespace 2 of nvme0 is attached to the primary",
              "error text");

    /* DomD's text reaches a terminal: one printable line, bounded. */
    fake_xs_put(h, RQ "/error", "bad\x1b[2Jthing\nsecond line");
    ops->answer(&c);
    CHECK_STR(c.error, "bad?[2Jthing", "cleaned error");
    memset(junk, 'x', sizeof(junk) - 1);
    junk[sizeof(junk) - 1] = '\0';
    fake_xs_put(h, RQ "/error", junk);
    ops->answer(&c);
    CHECK(strlen(c.error) == XVF_PROTO_ERROR_MAX, "length %zu",
          strlen(c.error));
    fake_xs_put(h, RQ "/error", "");
    ops->answer(&c);
    CHECK_STR(c.error, "the driver domain gave no reason", "empty error");

    fake_xs_put(h, RQ "/state", "exploded");
    CHECK(ops->answer(&c) == -EPROTO, "unknown state");
    CHECK_HAS(c.error, "unknown state 'exploded'", "unknown state msg");

    fake_xs_put(h, RQ "/state", "releasing");
    CHECK(ops->answer(&c) < 0 && ops->answer(&c) !=
          LIBXL_PCI_PROVIDER_PENDING, "releasing is final");

    xs_rm(h, XBT_NULL, RQ);
    CHECK(ops->answer(&c) == -ENOENT, "removed request");
    CHECK_HAS(c.error, "removed", "removed message");

    fake_xs_close(h);
}

static void test_release(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c, r;
    int rc;

    NEED_OPS();
    h = board();
    set_conf(DOMD_CONF);
    /* Cancel: libxl still has the path from the request. */
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "request: %s", c.error);
    CHECK(ops->release(&c) == 0, "cancel: %s", c.error);
    CHECK_STR(fake_xs_get(h, RQ "/op"), "release", "op after cancel");
    CHECK_STR(fake_xs_perms(h, RQ "/op"), "n0 r1", "op perms kept");

    /* After destroy: libxl knows only the BDF. */
    xs_rm(h, XBT_NULL, RQ);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "request: %s", c.error);
    fake_xs_put(h, RQ "/bdf", "0000:01:00.1");
    fake_xs_put(h, RQ "/state", "ready");
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/bdf", "0000:01:00.3");
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/op", "prepare");
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/state", "ready");
    call_init(&r, h, 5, "vf:nvme0/ns2");
    r.domain = 0;
    r.bus = 1;
    r.dev = 0;
    r.func = 1;
    r.bdf_valid = 1;
    rc = ops->release(&r);
    CHECK(rc == 0, "release by bdf: %d %s", rc, r.error);
    CHECK_STR(fake_xs_get(h, RQ "/op"), "release", "op after release");
    CHECK_STR(fake_xs_get(h, "/local/domain/1/backend/vf/5/3/op"),
              "prepare", "other request untouched");

    /* A request for the same VF that is being released is passed over
     * (devid 0, listed first, is the old one now). */
    fake_xs_put(h, RQ "/state", "releasing");
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/bdf", "0000:01:00.1");
    call_init(&r, h, 5, "vf:nvme0/ns2");
    r.bus = 1;
    r.func = 1;
    r.bdf_valid = 1;
    CHECK(ops->release(&r) == 0, "release past an old one: %s", r.error);
    CHECK_STR(fake_xs_get(h, "/local/domain/1/backend/vf/5/3/op"),
              "release", "the live request");

    /* Another guest's request with the same BDF is not ours. */
    call_init(&r, h, 6, "vf:nvme0/ns2");
    r.bus = 1;
    r.func = 3;
    r.bdf_valid = 1;
    CHECK(ops->release(&r) == -ENOENT, "foreign release");
    CHECK_HAS(r.error, "no xen-vf request of domain 6", "foreign message");

    /* A request DomD already removed is not brought back. */
    call_init(&c, h, 5, "vf:nvme0/ns2");
    snprintf(c.path, sizeof(c.path), "%s",
             "/local/domain/1/backend/vf/5/9/state");
    CHECK(ops->release(&c) == 0, "release of a removed request");
    CHECK(!fake_xs_exists(h, "/local/domain/1/backend/vf/5/9"),
          "removed request recreated");

    fake_xs_close(h);
}

static void test_domd(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;

    NEED_OPS();
    h = fake_xs_open();
    set_conf("");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    fake_xs_put(h, "/local/domain/0/name", "Domain-0");
    CHECK(ops->request(&c) == -EHOSTDOWN, "no DomD");
    CHECK_HAS(c.error, "xen-vfd is not running in Dom0 and no driver "
              "domain is configured: set domd= in ", "no DomD msg");
    CHECK_HAS(c.error, conf_path, "no DomD msg names the file");

    /* Without domd, domains that say ready are not driver domains. */
    fake_xs_put(h, "/local/domain/1/name", "DomD");
    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/status", "ready");
    fake_xs_put(h, "/local/domain/3/drivers/xen-vf/status", "ready");
    fake_xs_put(h, "/local/domain/3/name", "nic-domd");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -EHOSTDOWN, "ready domains discovered");
    CHECK_HAS(c.error, "set domd= in", "ready domains msg");
    CHECK(!fake_xs_exists(h, "/local/domain/1/backend") &&
          !fake_xs_exists(h, "/local/domain/3/backend"),
          "a request went to a domain that says ready");

    set_conf("domd = 1\n");
    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/status", "dead");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -EHOSTDOWN, "dead DomD");
    CHECK_HAS(c.error, "not running in driver domain 1", "dead DomD msg");
    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/status", "ready");

    set_conf("# pick one\ndomd = nic-domd\ntimeout = 120\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "domd by name: %s", c.error);
    CHECK_STR(c.path, "/local/domain/3/backend/vf/5/0/state",
              "path on DomD 3");
    CHECK(c.timeout_ms == 120000, "timeout %u", c.timeout_ms);

    set_conf("domd = 1\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "domd by id: %s", c.error);
    CHECK_STR(c.path, RQ "/state", "path on DomD 1");

    set_conf("domd = nosuch\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -ENOENT, "unknown domd");
    CHECK_HAS(c.error, "'nosuch'", "unknown domd msg");
    CHECK_HAS(c.error, conf_path, "config file named");

    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/protocol", "2");
    set_conf("domd = 1\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -EPROTO, "protocol 2");
    CHECK_HAS(c.error, "protocol 2", "protocol msg");

    set_conf("timeout = 0\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -EINVAL, "timeout 0");
    CHECK_HAS(c.error, ":1: timeout must be", "timeout msg");
    set_conf("\n\ncolour = red\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -EINVAL, "unknown key");
    CHECK_HAS(c.error, ":3: unknown key 'colour'", "unknown key msg");

    /* A bad spec is refused before anything is written. */
    set_conf("domd = 3\n");
    call_init(&c, h, 5, "vf:nvme0");
    CHECK(ops->request(&c) == -EINVAL, "bad spec");
    CHECK(!fake_xs_exists(h, "/local/domain/3/backend/vf/5/1"),
          "bad spec wrote a request");

    fake_xs_close(h);
}

static void test_dom0_is_domd(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;

    NEED_OPS();
    h = fake_xs_open();
    set_conf("");
    fake_xs_put(h, "/local/domain/0/drivers/xen-vf/status", "ready");
    call_init(&c, h, 2, "vf:nvme0/ns1");
    CHECK(ops->request(&c) == 0, "request: %s", c.error);
    CHECK_STR(c.path, "/local/domain/0/backend/vf/2/0/state", "path");
    CHECK_STR(fake_xs_perms(h, "/local/domain/0/backend/vf/2/0/state"),
              "n0", "perms when DomD is Dom0");
    fake_xs_close(h);
}

/*
 * libxl makes every guest's /local/domain/ID/drivers writable by that
 * guest: its "ready" must neither stop requests nor receive them.
 */
static void test_guest_says_ready(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;
    const char *gst = "/local/domain/5/drivers/xen-vf/status";

    NEED_OPS();
    h = fake_xs_open();
    fake_xs_put(h, "/local/domain/0/name", "Domain-0");
    fake_xs_put(h, "/local/domain/0/drivers/xen-vf/status", "ready");
    fake_xs_put(h, "/local/domain/5/name", "guest");
    fake_xs_put(h, gst, "ready");
    set_perms(h, gst, 5, 0, 0);

    /* Dom0 is DomD: the request goes to Dom0. */
    set_conf("");
    call_init(&c, h, 7, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "guest's ready broke Dom0: %s", c.error);
    CHECK_STR(c.path, "/local/domain/0/backend/vf/7/0/state", "to Dom0");

    /* xen-vfd is down: fail closed, nothing reaches the guest. */
    fake_xs_put(h, "/local/domain/0/drivers/xen-vf/status", "dead");
    call_init(&c, h, 7, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -EHOSTDOWN, "xen-vfd down: %s", c.error);
    CHECK_HAS(c.error, "set domd= in", "xen-vfd down msg");
    CHECK(!fake_xs_exists(h, "/local/domain/5/backend"),
          "the request went to the guest");

    /* A configured DomD is asked, whatever the guest says. */
    fake_xs_put(h, "/local/domain/1/name", "DomD");
    fake_xs_put(h, "/local/domain/1/drivers/xen-vf/status", "ready");
    set_conf("domd = DomD\n");
    call_init(&c, h, 7, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "configured DomD: %s", c.error);
    CHECK_STR(c.path, "/local/domain/1/backend/vf/7/0/state", "to DomD");
    CHECK(!fake_xs_exists(h, "/local/domain/5/backend"),
          "the request went to the guest");
    fake_xs_close(h);
}

/* A domain name counts only in a node no one but Dom0 can write. */
static void test_domd_name(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;

    NEED_OPS();
    h = fake_xs_open();
    fake_xs_put(h, "/local/domain/0/name", "Domain-0");
    fake_xs_put(h, "/local/domain/4/name", "DomD");
    set_perms(h, "/local/domain/4/name", 4, 0, 0);
    fake_xs_put(h, "/local/domain/4/drivers/xen-vf/status", "ready");
    fake_xs_put(h, "/local/domain/6/name", "DomD");
    set_perms(h, "/local/domain/6/name", 0, 6, XS_PERM_WRITE);
    fake_xs_put(h, "/local/domain/6/drivers/xen-vf/status", "ready");

    set_conf("domd = DomD\n");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == -ENOENT, "guest-written name: %s", c.error);
    CHECK_HAS(c.error, "'DomD'", "guest-written name msg");
    CHECK(!fake_xs_exists(h, "/local/domain/4/backend") &&
          !fake_xs_exists(h, "/local/domain/6/backend"),
          "a request went to a guest");

    fake_xs_put(h, "/local/domain/9/name", "DomD");
    set_perms(h, "/local/domain/9/name", 0, 9, XS_PERM_READ);
    fake_xs_put(h, "/local/domain/9/drivers/xen-vf/status", "ready");
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "toolstack's name: %s", c.error);
    CHECK_STR(c.path, "/local/domain/9/backend/vf/5/0/state", "to DomD 9");

    /* Two domains of that name: refuse to guess. */
    fake_xs_put(h, "/local/domain/2/name", "DomD");
    call_init(&c, h, 5, "vf:nvme0/ns3");
    CHECK(ops->request(&c) == -ENOTUNIQ, "ambiguous name: %s", c.error);
    CHECK_HAS(c.error, "several domains are named 'DomD'", "ambiguous msg");
    CHECK(!fake_xs_exists(h, "/local/domain/2/backend"),
          "an ambiguous name got a request");
    fake_xs_close(h);
}

/* Only Dom0 and DomD can have written an answer that is taken. */
static void test_answer_owner(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c, r;
    int rc;

    NEED_OPS();
    h = board();
    set_conf(DOMD_CONF);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "request: %s", c.error);
    fake_xs_put(h, RQ "/bdf", "0000:01:00.2");
    fake_xs_put(h, RQ "/state", "ready");

    /* Written by DomD into a node it created itself. */
    set_perms(h, RQ "/state", 1, 0, 0);
    rc = ops->answer(&c);
    CHECK(rc == 0 && c.bdf_valid, "DomD's answer: %d %s", rc, c.error);

    set_perms(h, RQ "/bdf", 5, 0, 0);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    snprintf(c.path, sizeof(c.path), "%s", RQ "/state");
    rc = ops->answer(&c);
    CHECK(rc == -EPERM && !c.bdf_valid, "guest's bdf taken: %d", rc);
    CHECK_HAS(c.error, RQ "/bdf was written by domain 5", "guest bdf msg");

    set_perms(h, RQ "/bdf", 0, 1, XS_PERM_READ | XS_PERM_WRITE);
    set_perms(h, RQ "/state", 0, 3, XS_PERM_WRITE);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    snprintf(c.path, sizeof(c.path), "%s", RQ "/state");
    CHECK(ops->answer(&c) == -EPERM, "state writable by domain 3");
    CHECK_HAS(c.error, "domain 3", "writable state msg");

    set_perms(h, RQ "/state", 0, 1, XS_PERM_READ | XS_PERM_WRITE);
    fake_xs_put(h, RQ "/state", "error");
    fake_xs_put(h, RQ "/error", "nothing");
    {
        struct xs_permissions any = { .id = 0, .perms = XS_PERM_WRITE };

        xs_set_permissions(h, XBT_NULL, RQ "/error", &any, 1);
    }
    CHECK(ops->answer(&c) == -EPERM, "error writable by everyone");
    CHECK_HAS(c.error, "every domain may write " RQ "/error",
              "writable error msg");

    /* Release by BDF passes over a bdf a guest wrote. */
    set_perms(h, RQ "/error", 0, 1, XS_PERM_READ | XS_PERM_WRITE);
    fake_xs_put(h, RQ "/state", "ready");
    fake_xs_put(h, RQ "/bdf", "0000:01:00.1");
    set_perms(h, RQ "/bdf", 5, 0, 0);
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/bdf", "0000:01:00.1");
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/op", "prepare");
    fake_xs_put(h, "/local/domain/1/backend/vf/5/3/state", "ready");
    call_init(&r, h, 5, "vf:nvme0/ns2");
    r.bus = 1;
    r.func = 1;
    r.bdf_valid = 1;
    CHECK(ops->release(&r) == 0, "release: %s", r.error);
    CHECK_STR(fake_xs_get(h, "/local/domain/1/backend/vf/5/3/op"),
              "release", "DomD's request released");
    CHECK_STR(fake_xs_get(h, RQ "/op"), "prepare", "guest's bdf followed");

    /* Dom0 is DomD: Dom0 owns the answer. */
    fake_xs_close(h);
    h = fake_xs_open();
    set_conf("");
    fake_xs_put(h, "/local/domain/0/drivers/xen-vf/status", "ready");
    call_init(&c, h, 2, "vf:nvme0/ns1");
    CHECK(ops->request(&c) == 0, "request: %s", c.error);
    fake_xs_put(h, "/local/domain/0/backend/vf/2/0/bdf", "0000:01:00.4");
    fake_xs_put(h, "/local/domain/0/backend/vf/2/0/state", "ready");
    CHECK(ops->answer(&c) == 0 && c.func == 4, "Dom0's answer: %s", c.error);
    set_perms(h, "/local/domain/0/backend/vf/2/0/state", 2, 0, 0);
    CHECK(ops->answer(&c) == -EPERM, "guest's answer to Dom0 taken");
    CHECK_HAS(c.error, "not by driver domain 0", "Dom0 answer msg");
    fake_xs_close(h);
}

static void test_transactions(void)
{
    struct xs_handle *h;
    libxl_pci_provider_call c;

    NEED_OPS();
    h = board();
    set_conf(DOMD_CONF);
    fake_xs_fail_commits(h, 3);
    call_init(&c, h, 5, "vf:nvme0/ns2");
    CHECK(ops->request(&c) == 0, "request after conflicts: %s", c.error);
    CHECK(fake_xs_commits(h) == 4, "commits %u", fake_xs_commits(h));
    CHECK_STR(fake_xs_get(h, RQ "/state"), "requested", "state");
    CHECK(!fake_xs_exists(h, "/local/domain/1/backend/vf/5/1"),
          "a failed commit left a request behind");

    fake_xs_fail_commits(h, 100);
    call_init(&c, h, 5, "vf:nvme0/ns3");
    CHECK(ops->request(&c) == -EAGAIN, "endless conflicts");
    CHECK_HAS(c.error, "cannot write the request", "conflict msg");
    fake_xs_close(h);
}

static void test_codec(void)
{
    struct xvf_proto_request req;
    struct xvf_proto_answer ans;
    enum xvf_proto_state st;
    enum xvf_proto_op op;
    struct xvf_err err;
    unsigned int d, u, n;
    const char *node;
    char buf[XVF_PROTO_PATH_MAX], small[10];

    CHECK(xvf_proto_request_path(buf, sizeof(buf), 1, 5, 0, "state") == 0 &&
          !strcmp(buf, RQ "/state"), "request path %s", buf);
    CHECK(xvf_proto_request_path(small, sizeof(small), 1, 5, 0, NULL) ==
          -ENAMETOOLONG, "short buffer");
    CHECK(xvf_proto_status_path(buf, sizeof(buf), 7) == 0 &&
          !strcmp(buf, "/local/domain/7/drivers/xen-vf/status"), "%s", buf);

    CHECK(xvf_proto_parse_path(RQ "/state", &d, &u, &n, &node) == 0 &&
          d == 1 && u == 5 && n == 0 && !strcmp(node, "state"),
          "parse state path");
    CHECK(xvf_proto_parse_path(RQ, &d, &u, &n, &node) == 0 && !*node,
          "parse request path");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/vf/5", &d, &u, &n,
                               NULL) == -EINVAL, "guest dir is no request");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/vbd/5/0", &d, &u,
                               &n, NULL) == -EINVAL, "other kind");
    CHECK(xvf_proto_parse_path("/local/domain/01/backend/vf/5/0", &d, &u,
                               &n, NULL) == -EINVAL, "leading zero");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/vf/5/0x", &d, &u,
                               &n, NULL) == -EINVAL, "trailing junk");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/vf/5/0/", &d, &u,
                               &n, NULL) == -EINVAL, "trailing slash");
    CHECK(xvf_proto_parse_path("/local/domain/99999999999/backend/vf/5/0",
                               &d, &u, &n, NULL) == -EINVAL, "overflow");

    CHECK(xvf_proto_state_parse("ready", &st) == 0 && st == XVF_PS_READY,
          "state ready");
    CHECK(xvf_proto_state_parse("Ready", &st) == -EINVAL, "state case");
    CHECK(xvf_proto_op_parse("release", &op) == 0 && op == XVF_OP_RELEASE,
          "op release");
    CHECK(xvf_proto_op_parse("", &op) == -EINVAL, "empty op");
    CHECK_STR(xvf_proto_state_name(XVF_PS_RELEASING), "releasing", "name");
    CHECK_STR(xvf_proto_op_name(XVF_OP_PREPARE), "prepare", "op name");

    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_answer("ready", "1:0.1", NULL, &ans, &err) == 0 &&
          !strcmp(ans.bdf, "0000:01:00.1"), "canonical bdf %s", ans.bdf);
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_answer("ready", NULL, NULL, &ans, &err) ==
          -EPROTO, "ready without bdf");
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_answer(NULL, NULL, NULL, &ans, &err) == -ENOENT,
          "no state");
    CHECK(xvf_proto_decode_answer("preparing", "", "", &ans, &err) == 0 &&
          !xvf_proto_answer_final(&ans), "preparing is not final");

    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(0, "vf:nvme0/ns2,vq=3", "prepare", &req,
                                   &err) == 0 && req.op == XVF_OP_PREPARE &&
          req.spec.nsid == 2 && req.spec.vq == 3, "good request: %s",
          err.msg);
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(5, "vf:nvme0/ns2", "prepare", &req,
                                   &err) == -EPERM, "guest's request");
    CHECK_HAS(err.msg, "domain 5", "owner message");
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(0, "vf:nvme0", "prepare", &req, &err) ==
          -EINVAL && err.msg[0], "bad spec");
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(0, "vf:nvme0/ns1", "start", &req, &err)
          == -EINVAL, "bad op");
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(0, NULL, "prepare", &req, &err) ==
          -EINVAL, "no spec");
    /* Never a VF on a DomD driver for a guest; its release still works. */
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(0, "vf:nvme0/ns2,driver=nvme", "prepare",
                                   &req, &err) == -EINVAL, "driver=nvme");
    CHECK_HAS(err.msg, "always bound to pciback", "driver message");
    xvf_err_clear(&err);
    CHECK(xvf_proto_decode_request(0, "vf:nvme0/ns2,driver=nvme", "release",
                                   &req, &err) == 0, "release of driver=nvme");
}

static void test_config(void)
{
    struct vf_config cfg;
    char err[128];
    FILE *f;
    int rc;

    f = fmemopen((char *)"  domd=DomD  \n# c\n\ntimeout= 3600\n", 33, "r");
    rc = vf_config_parse(f, "x.conf", &cfg, err, sizeof(err));
    fclose(f);
    CHECK(rc == 0 && !strcmp(cfg.domd, "DomD") && cfg.timeout_s == 3600,
          "good config: %d %s '%s' %u", rc, err, cfg.domd, cfg.timeout_s);

    f = fmemopen((char *)"timeout = 3601\n", 15, "r");
    rc = vf_config_parse(f, "x.conf", &cfg, err, sizeof(err));
    fclose(f);
    CHECK(rc == -EINVAL, "timeout 3601 accepted");

    f = fmemopen((char *)"domd\n", 5, "r");
    rc = vf_config_parse(f, "x.conf", &cfg, err, sizeof(err));
    fclose(f);
    CHECK(rc == -EINVAL && strstr(err, "x.conf:1: expected KEY = VALUE"),
          "no '=': %s", err);
}

static const struct harness_case cases[] = {
    { "init", test_init },
    { "check", test_check },
    { "request", test_request },
    { "answer", test_answer },
    { "round_trips", test_round_trips },
    { "release", test_release },
    { "domd", test_domd },
    { "dom0_is_domd", test_dom0_is_domd },
    { "guest_says_ready", test_guest_says_ready },
    { "domd_name", test_domd_name },
    { "answer_owner", test_answer_owner },
    { "transactions", test_transactions },
    { "codec", test_codec },
    { "config", test_config },
};

int main(int argc, char **argv)
{
    int fd = mkstemp(conf_path), rc;

    if (fd < 0) {
        perror("mkstemp");
        return 2;
    }
    close(fd);
    setenv("XEN_VF_PROVIDER_CONF", conf_path, 1);
    ops = libxl_pci_provider_init(LIBXL_PCI_PROVIDER_VERSION);

    rc = harness_main(argc, argv, cases, HARNESS_N(cases));
    unlink(conf_path);
    return rc;
}
