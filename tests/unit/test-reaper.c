/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-reaper.c - Dom0's clean-up for a separate driver domain
 * (plugin/xen-vf-reaper/reap.c, what xen-vf-reaper runs on each
 * @releaseDomain) against the in-memory xenstore of
 * tests/fakes/xenstore/fake-xs.c: which requests it asks to release,
 * which it leaves, and that asking twice is asking once. The xen tier
 * runs it on real Xen with xen-vfd in a second domain. Built with ASan
 * and UBSan and run without libxvf-mock.so (unit.mk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "xenstore/fake-xs.h"
#include "xen/homes.h"
#include "xen/protocol.h"
#include "reaper.h"

#define AREA "/local/domain/1/backend/pci-name"

static char conf_path[] = "/tmp/xvf-test-reaper-XXXXXX";
static char seen[256];

static void set_conf(const char *text)
{
    FILE *f = fopen(conf_path, "w");

    fputs(text, f);
    fclose(f);
}

static void note(void *opaque, unsigned int domid, unsigned int devid,
                 int rc)
{
    size_t len = strlen(seen);

    (void)opaque;
    snprintf(seen + len, sizeof(seen) - len, "%u/%u=%d ", domid, devid, rc);
}

/* A request as libxl writes it: Dom0's, op and name r1. */
static void request(struct xs_handle *h, unsigned int domid,
                    unsigned int devid, const char *op, const char *state)
{
    struct xs_permissions p[2] = {
        { .id = 0, .perms = XS_PERM_NONE },
        { .id = 1, .perms = XS_PERM_READ },
    };
    char path[XVF_PROTO_PATH_MAX];

    xvf_proto_request_path(path, sizeof(path), 1, domid, devid,
                           XVF_PROTO_SPEC);
    fake_xs_put(h, path, "vf:nvme0/ns2");
    xvf_proto_request_path(path, sizeof(path), 1, domid, devid,
                           XVF_PROTO_OP);
    fake_xs_put(h, path, op);
    xs_set_permissions(h, XBT_NULL, path, p, 2);
    xvf_proto_request_path(path, sizeof(path), 1, domid, devid,
                           XVF_PROTO_STATE);
    fake_xs_put(h, path, state);
}

/*
 * Domain 1 is DomD; 5 is gone (no home, unknown to xenstored); 6 is
 * alive; 7 is being destroyed (home removed, xenstored still knows it).
 */
static struct xs_handle *board(void)
{
    struct xs_handle *h = fake_xs_open();

    fake_xs_put(h, "/local/domain/0/name", "Domain-0");
    fake_xs_put(h, "/local/domain/1/name", "DomD");
    fake_xs_put(h, "/local/domain/6/name", "alive");
    fake_xs_introduce(h, 0, true);
    fake_xs_introduce(h, 1, true);
    fake_xs_introduce(h, 6, true);
    fake_xs_introduce(h, 7, true);
    request(h, 5, 0, "prepare", "ready");
    request(h, 5, 1, "release", "releasing");
    request(h, 5, 2, "prepare", "requested");
    request(h, 6, 0, "prepare", "ready");
    request(h, 7, 0, "prepare", "ready");
    return h;
}

static void test_reap(void)
{
    struct xs_handle *h = board();
    int rc;

    seen[0] = '\0';
    rc = vf_reap(h, 1, note, NULL, NULL);
    CHECK_INT(rc, 2, "requests asked");
    CHECK_STR(seen, "5/0=0 5/2=0 ", "logged");
    CHECK_STR(fake_xs_get(h, AREA "/5/0/op"), "release", "gone, ready");
    CHECK_STR(fake_xs_get(h, AREA "/5/2/op"), "release", "gone, requested");
    CHECK_STR(fake_xs_perms(h, AREA "/5/0/op"), "n0 r1", "op perms kept");
    CHECK_STR(fake_xs_get(h, AREA "/5/0/state"), "ready",
              "the answer is DomD's to change");
    CHECK_STR(fake_xs_get(h, AREA "/6/0/op"), "prepare", "alive");
    CHECK_STR(fake_xs_get(h, AREA "/7/0/op"), "prepare",
              "known to xenstored");

    /* Every @releaseDomain scans again: asked once is enough. */
    seen[0] = '\0';
    CHECK_INT(vf_reap(h, 1, note, NULL, NULL), 0, "second scan");
    CHECK_STR(seen, "", "nothing logged the second time");

    /* Domain 7 is gone now, too; 6 still runs. */
    fake_xs_introduce(h, 7, false);
    CHECK_INT(vf_reap(h, 1, NULL, NULL, NULL), 1, "after 7 went");
    CHECK_STR(fake_xs_get(h, AREA "/7/0/op"), "release", "7 asked");
    CHECK_STR(fake_xs_get(h, AREA "/6/0/op"), "prepare", "6 still not");
    fake_xs_close(h);
}

/* What xen-vfd removed stays removed; odd names are passed over. */
static void test_removed(void)
{
    struct xs_handle *h = fake_xs_open();

    CHECK_INT(vf_reap(h, 1, NULL, NULL, NULL), -ENOENT, "no request area");
    fake_xs_put(h, AREA "/5", "");
    fake_xs_put(h, AREA "/junk/0/state", "ready");
    fake_xs_put(h, AREA "/8/x/state", "ready");
    CHECK_INT(vf_reap(h, 1, NULL, NULL, NULL), 0, "empty guest, junk");
    CHECK(!fake_xs_exists(h, AREA "/5/0"), "request recreated");
    CHECK(!fake_xs_exists(h, AREA "/junk/0/op"), "junk touched");
    CHECK(!fake_xs_exists(h, AREA "/8/x/op"), "junk devid touched");

    /* A request without state (being removed) is not brought back. */
    fake_xs_put(h, AREA "/9/0/spec", "vf:nvme0/ns2");
    CHECK_INT(vf_reap(h, 1, NULL, NULL, NULL), 0, "request without state");
    CHECK(!fake_xs_exists(h, AREA "/9/0/op"), "op written without state");
    fake_xs_close(h);
}

static void unborn(void *opaque, unsigned int domid)
{
    size_t len = strlen(seen);

    (void)opaque;
    snprintf(seen + len, sizeof(seen) - len, "unborn %u ", domid);
}

/*
 * libxl asks right after it makes a domain, before xenstored knows it;
 * xenstored never fires @releaseDomain for such a domain. While its home
 * exists it is alive and reported, so the caller can watch its home; once
 * libxl removed the home (xl destroy), it is gone.
 */
static void test_unborn(void)
{
    struct xs_handle *h = board();

    fake_xs_put(h, "/local/domain/8/name", "building");
    request(h, 8, 0, "prepare", "ready");
    seen[0] = '\0';
    CHECK_INT(vf_reap(h, 1, note, unborn, NULL), 2, "first scan");
    CHECK_STR(seen, "5/0=0 5/2=0 unborn 8 ", "5 reaped, 8 reported");
    CHECK_STR(fake_xs_get(h, AREA "/8/0/op"), "prepare", "8 not asked");

    CHECK_INT(xs_rm(h, XBT_NULL, "/local/domain/8"), true, "home removed");
    seen[0] = '\0';
    CHECK_INT(vf_reap(h, 1, note, unborn, NULL), 1, "after 8 went");
    CHECK_STR(seen, "8/0=0 ", "8 reaped, no longer reported");
    CHECK_STR(fake_xs_get(h, AREA "/8/0/op"), "release", "8 asked");

    /* Introduced, it is @releaseDomain's: neither reaped nor reported. */
    fake_xs_put(h, "/local/domain/9/name", "running");
    fake_xs_introduce(h, 9, true);
    request(h, 9, 0, "prepare", "ready");
    seen[0] = '\0';
    CHECK_INT(vf_reap(h, 1, note, unborn, NULL), 0, "9 introduced");
    CHECK_STR(seen, "", "nothing about 9");
    fake_xs_close(h);
}

struct watcher {
    struct xs_handle *h;
    struct xvf_homes homes;
};

static void watch_unborn(void *opaque, unsigned int domid)
{
    struct watcher *w = opaque;

    CHECK_INT(xvf_homes_watch(w->h, &w->homes, domid, "t"), 0, "watch");
}

/* The homes watched follow what vf_reap() reports, as xen-vf-reaper
 * keeps them: watched while unborn, dropped once introduced or gone. */
static void test_homes(void)
{
    struct watcher w = { .h = board() };

    fake_xs_put(w.h, "/local/domain/8/name", "building");
    fake_xs_put(w.h, "/local/domain/9/name", "building");
    request(w.h, 8, 0, "prepare", "ready");
    request(w.h, 9, 0, "prepare", "requested");
    vf_reap(w.h, 1, NULL, watch_unborn, &w);
    vf_reap(w.h, 1, NULL, watch_unborn, &w);
    xvf_homes_prune(w.h, &w.homes, "t");
    CHECK_STR(fake_xs_watches(w.h), "/local/domain/8 /local/domain/9",
              "each once");
    fake_xs_introduce(w.h, 9, true);
    xs_rm(w.h, XBT_NULL, "/local/domain/8");
    CHECK_INT(vf_reap(w.h, 1, NULL, watch_unborn, &w), 1, "8 went");
    xvf_homes_prune(w.h, &w.homes, "t");
    CHECK_STR(fake_xs_watches(w.h), "", "8 gone, 9 introduced");
    CHECK_INT(w.homes.n, 0, "set empty");
    xvf_homes_free(&w.homes);
    fake_xs_close(w.h);
}

/* The driver domain is the one xl.conf names for "vf:" names. */
static void test_domd(void)
{
    struct xs_handle *h = board();
    struct vf_config cfg;
    char err[256];
    unsigned int domd = 99;

    set_conf("pci.name_backends = [ \"xy=7\", \"vf=DomD\" ]\n");
    CHECK_INT(vf_config_read(&cfg, err, sizeof(err)), 0, "config");
    CHECK_INT(vf_domd_resolve(h, &cfg, &domd), 0, "resolve DomD");
    CHECK_INT(domd, 1, "DomD's id");
    set_conf("pci.name_backends = [ \"vf=nosuch\" ]\n");
    CHECK_INT(vf_config_read(&cfg, err, sizeof(err)), 0, "config");
    CHECK_INT(vf_domd_resolve(h, &cfg, &domd), -ENOENT, "unknown name");
    vf_domd_strerror(err, sizeof(err), &cfg, -ENOENT);
    CHECK_HAS(err, "driver domain 'nosuch' (pci.name_backends in",
              "message");
    set_conf("");
    CHECK_INT(vf_config_read(&cfg, err, sizeof(err)), 0, "config");
    CHECK_INT(vf_domd_resolve(h, &cfg, &domd), 0, "no domd");
    CHECK_INT(domd, 0, "Dom0 by default");
    fake_xs_close(h);
}

static const struct harness_case cases[] = {
    { "reap", test_reap },
    { "removed", test_removed },
    { "unborn", test_unborn },
    { "homes", test_homes },
    { "domd", test_domd },
};

int main(int argc, char **argv)
{
    int fd = mkstemp(conf_path), rc;

    if (fd < 0) {
        perror("mkstemp");
        return 2;
    }
    close(fd);
    setenv("XEN_VF_XL_CONF", conf_path, 1);
    rc = harness_main(argc, argv, cases, HARNESS_N(cases));
    unlink(conf_path);
    return rc;
}
