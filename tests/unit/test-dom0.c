/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * test-dom0.c - what Dom0's side of xen-vf (plugin/xen-vf-reaper, and
 * the protocol codec it shares with xen-vfd) decides, against the
 * in-memory xenstore of tests/fakes/xenstore/fake-xs.c: the paths and
 * values of a request, which domain serves "vf:" names according to
 * xl.conf, which domain name counts, and who may have written a node.
 * libxl itself makes the requests (xen-patches/); the xen tier runs it.
 * Built with ASan and UBSan and run without libxvf-mock.so (unit.mk).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "xenstore/fake-xs.h"
#include "xen/protocol.h"
#include "reaper.h"

#define RQ "/local/domain/1/backend/pci-name/5/0"

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

static int resolve(struct xs_handle *h, const char *domd, unsigned int *id)
{
    struct vf_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.domd, sizeof(cfg.domd), "%s", domd);
    cfg.file = "xl.conf";
    return vf_domd_resolve(h, &cfg, id);
}

/* A domain name counts only in a node no one but Dom0 can write. */
static void test_domd_name(void)
{
    struct xs_handle *h = fake_xs_open();
    unsigned int id = 99;

    fake_xs_put(h, "/local/domain/0/name", "Domain-0");
    fake_xs_put(h, "/local/domain/4/name", "DomD");
    set_perms(h, "/local/domain/4/name", 4, 0, 0);
    fake_xs_put(h, "/local/domain/6/name", "DomD");
    set_perms(h, "/local/domain/6/name", 0, 6, XS_PERM_WRITE);
    CHECK_INT(resolve(h, "DomD", &id), -ENOENT, "guest-written names");

    fake_xs_put(h, "/local/domain/9/name", "DomD");
    set_perms(h, "/local/domain/9/name", 0, 9, XS_PERM_READ);
    CHECK_INT(resolve(h, "DomD", &id), 0, "the toolstack's name");
    CHECK_INT(id, 9, "DomD's id");
    CHECK_INT(resolve(h, "Domain-0", &id), 0, "Dom0 by name");
    CHECK_INT(id, 0, "Dom0's id");
    CHECK_INT(resolve(h, "3", &id), 0, "by id");
    CHECK_INT(id, 3, "id 3");
    CHECK_INT(resolve(h, "", &id), 0, "none");
    CHECK_INT(id, 0, "Dom0 without an entry");

    /* Two domains of that name: refuse to guess. */
    fake_xs_put(h, "/local/domain/2/name", "DomD");
    CHECK_INT(resolve(h, "DomD", &id), -ENOTUNIQ, "ambiguous name");
    fake_xs_close(h);
}

/* Only Dom0 and the driver domain can have written a node that counts. */
static void test_writers(void)
{
    struct xs_handle *h = fake_xs_open();
    int who = 0;

    fake_xs_put(h, RQ "/state", "ready");
    set_perms(h, RQ "/state", 0, 1, XS_PERM_READ | XS_PERM_WRITE);
    CHECK_INT(vf_check_writers(h, XBT_NULL, RQ "/state", 1, &who), 0,
              "Dom0's node, DomD writes");
    set_perms(h, RQ "/state", 1, 0, 0);
    CHECK_INT(vf_check_writers(h, XBT_NULL, RQ "/state", 1, &who), 0,
              "DomD's own node");
    set_perms(h, RQ "/state", 5, 0, 0);
    CHECK_INT(vf_check_writers(h, XBT_NULL, RQ "/state", 1, &who), -EPERM,
              "the guest's node");
    CHECK_INT(who, 5, "the guest wrote it");
    set_perms(h, RQ "/state", 0, 5, XS_PERM_WRITE);
    CHECK_INT(vf_check_writers(h, XBT_NULL, RQ "/state", 1, &who), -EPERM,
              "the guest may write");
    {
        struct xs_permissions p[1] = {
            { .id = 0, .perms = XS_PERM_WRITE },
        };
        xs_set_permissions(h, XBT_NULL, RQ "/state", p, 1);
    }
    CHECK_INT(vf_check_writers(h, XBT_NULL, RQ "/state", 1, &who), -EPERM,
              "everyone may write");
    CHECK_INT(who, -1, "everyone");
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
    CHECK(xvf_proto_name_status_path(buf, sizeof(buf), 7) == 0 &&
          !strcmp(buf, "/local/domain/7/drivers/pci-name/status"), "%s",
          buf);
    CHECK_STR(XVF_PROTO_SPEC, "name", "the request's name node");

    CHECK(xvf_proto_parse_path(RQ "/state", &d, &u, &n, &node) == 0 &&
          d == 1 && u == 5 && n == 0 && !strcmp(node, "state"),
          "parse state path");
    CHECK(xvf_proto_parse_path(RQ, &d, &u, &n, &node) == 0 && !*node,
          "parse request path");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/pci-name/5", &d, &u, &n,
                               NULL) == -EINVAL, "guest dir is no request");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/vbd/5/0", &d, &u,
                               &n, NULL) == -EINVAL, "other kind");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/vf/5/0", &d, &u,
                               &n, NULL) == -EINVAL, "the old path");
    CHECK(xvf_proto_parse_path("/local/domain/01/backend/pci-name/5/0", &d, &u,
                               &n, NULL) == -EINVAL, "leading zero");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/pci-name/5/0x", &d, &u,
                               &n, NULL) == -EINVAL, "trailing junk");
    CHECK(xvf_proto_parse_path("/local/domain/1/backend/pci-name/5/0/", &d, &u,
                               &n, NULL) == -EINVAL, "trailing slash");
    CHECK(xvf_proto_parse_path("/local/domain/99999999999/backend/pci-name/5/0",
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

static int parse(const char *text, struct vf_config *cfg, char *err)
{
    err[0] = '\0';
    return vf_config_parse(text, "xl.conf", cfg, err, 128);
}

/* xl.conf, as xl reads it: only pci.name_backends' "vf=" matters */
static void test_config(void)
{
    struct vf_config cfg;
    char err[128];

    CHECK_INT(parse("pci.name_backends = [ \"vf=DomD\" ]\n", &cfg, err),
              0, "one entry");
    CHECK(cfg.served && !strcmp(cfg.domd, "DomD"), "DomD: '%s'", cfg.domd);

    CHECK_INT(parse("# xl.conf\nautoballoon=\"off\"\n"
                    "vif.default.script='vif-bridge' # bridge\n"
                    "pci.name_backends=[ 'ab=1', \"vf=7\",\n"
                    "    \"cd=2\", ]; claim_mode=0\n", &cfg, err), 0,
              "other keys, list over lines");
    CHECK(cfg.served && !strcmp(cfg.domd, "7"), "vf=7: '%s'", cfg.domd);

    CHECK_INT(parse("pci.name_backends = [ \"vf=1\" ]\n"
                    "pci.name_backends = [ \"ab=2\" ]\n", &cfg, err), 0,
              "reassigned");
    CHECK(!cfg.served && !cfg.domd[0], "the last assignment wins");

    CHECK_INT(parse("pci.name_backends = [ \"ab=2\" ]\n"
                    "pci.name_backends += [ \"vf=3\" ]\n", &cfg, err), 0,
              "appended");
    CHECK(cfg.served && !strcmp(cfg.domd, "3"), "+= appends: '%s'",
          cfg.domd);

    CHECK_INT(parse("", &cfg, err), 0, "empty");
    CHECK(!cfg.served && !cfg.domd[0], "Dom0 without an entry");
    CHECK_INT(parse("pci.name_backends = [ \"vf2=1\", \"v=2\" ]", &cfg,
                    err), 0, "other prefixes");
    CHECK(!cfg.served, "vf2= and v= are not vf=");

    CHECK_INT(parse("\n\npci.name_backends = [ \"vf=1\"\n", &cfg, err),
              -EINVAL, "unclosed list");
    CHECK_HAS(err, "xl.conf:4: syntax error", "line of the error");
    CHECK_INT(parse("domd = DomD\n", &cfg, err), -EINVAL,
              "the old file's syntax");
    CHECK_INT(parse("Pci = 1\n", &cfg, err), -EINVAL, "upper case");
    CHECK_INT(parse("x = \"open\n", &cfg, err), -EINVAL, "open string");
    CHECK_INT(parse("pci.name_backends = [ \"vf=0123456789012345678901234"
                    "567890123456789012345678901234567890123\" ]", &cfg, err),
              -EINVAL, "64-character name");
    CHECK_HAS(err, "too long", "long name message");
}

static const struct harness_case cases[] = {
    { "domd_name", test_domd_name },
    { "writers", test_writers },
    { "codec", test_codec },
    { "config", test_config },
};

int main(int argc, char **argv)
{
    return harness_main(argc, argv, cases, HARNESS_N(cases));
}
