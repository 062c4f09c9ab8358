/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * vf-provider.c - libxl's PCI name provider for "vf:" names (Dom0 side of
 * docs/protocol.md). See libxl_pci_provider.h for when libxl calls what.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "libxl_pci_provider.h"
#include "xen/protocol.h"
#include "xen/xs.h"
#include "spec/spec.h"
#include "vf-provider.h"

#define EXPORT __attribute__((visibility("default")))

static void seterr(libxl_pci_provider_call *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void seterr(libxl_pci_provider_call *call, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(call->error, sizeof(call->error), fmt, ap);
    va_end(ap);
}

/*
 * The readiness signal of the one driver domain: 0, -EHOSTDOWN, or
 * -EPROTO with the version it speaks in @ver.
 */
static int domd_ready(struct xs_handle *xsh, unsigned int domd, char *ver,
                      size_t len)
{
    char path[XVF_PROTO_PATH_MAX], *v;
    int rc = 0;

    xvf_proto_status_path(path, sizeof(path), domd);
    v = xvf_xs_read(xsh, XBT_NULL, path);
    if (!v || strcmp(v, XVF_PROTO_STATUS_READY))
        rc = -EHOSTDOWN;
    free(v);
    if (rc)
        return rc;

    xvf_proto_version_path(path, sizeof(path), domd);
    v = xvf_xs_read(xsh, XBT_NULL, path);
    if (v && strcmp(v, "1")) {
        snprintf(ver, len, "%s", v);
        rc = -EPROTO;
    }
    free(v);
    return rc;
}

static void domd_error(libxl_pci_provider_call *call,
                       const struct vf_config *cfg, int rc)
{
    vf_domd_strerror(call->error, sizeof(call->error), cfg, rc);
}

static bool xs_put_perms(struct xs_handle *xsh, xs_transaction_t t,
                         const char *path, enum xvf_proto_node node,
                         unsigned int domd)
{
    struct xs_permissions perms[2];
    unsigned int nperms;

    xvf_proto_perms(node, domd, perms, &nperms);
    return xs_set_permissions(xsh, t, path, perms, nperms);
}

static bool xs_put(struct xs_handle *xsh, xs_transaction_t t,
                   const char *path, const char *val,
                   enum xvf_proto_node node, unsigned int domd)
{
    if (val ? !xs_write(xsh, t, path, val, strlen(val))
            : !xs_mkdir(xsh, t, path))
        return false;
    return xs_put_perms(xsh, t, path, node, domd);
}

/* Smallest DEVID not in use under the guest's directory. */
static unsigned int free_devid(char **ids, unsigned int num)
{
    unsigned int devid, i, id;
    bool used;

    for (devid = 0;; devid++) {
        used = false;
        for (i = 0; i < num && !used; i++)
            used = !xvf_proto_parse_devid(ids[i], &id) && id == devid;
        if (!used)
            return devid;
    }
}

struct request_ctx {
    unsigned int domd;
    libxl_pci_provider_call *call;
};

/*
 * Whether @path has the permissions Dom0 gives @node: 1, 0 when it has
 * others, -ENOENT when it is missing, or -errno.
 */
static int has_perms(struct xs_handle *xsh, xs_transaction_t t,
                     const char *path, enum xvf_proto_node node,
                     unsigned int domd)
{
    struct xs_permissions want[2], *got;
    unsigned int i, nwant, ngot;
    int ok;

    got = xs_get_permissions(xsh, t, path, &ngot);
    if (!got)
        return errno ? -errno : -EIO;
    xvf_proto_perms(node, domd, want, &nwant);
    ok = ngot == nwant;
    for (i = 0; ok && i < nwant; i++)
        ok = got[i].id == want[i].id && got[i].perms == want[i].perms;
    free(got);
    return ok;
}

/*
 * The area's and the guest's directories, made or mended if need be: 1
 * when it existed, 0 when it was made, or -errno.
 */
static int put_dir(struct xs_handle *xsh, xs_transaction_t t,
                   const char *path, enum xvf_proto_node node,
                   unsigned int domd)
{
    int rc;

    rc = has_perms(xsh, t, path, node, domd);
    if (rc == -ENOENT)
        return xs_put(xsh, t, path, NULL, node, domd) ? 0 : -errno;
    if (rc < 0)
        return rc;
    if (!rc && !xs_put_perms(xsh, t, path, node, domd))
        return -errno;
    return 1;
}

/*
 * One request, in one transaction. Read before written where they
 * usually exist already (the area, the guest's directory of a second
 * request), so that concurrent requests do not conflict on them; the
 * request directory is made by its first node, and every node gets its
 * permissions explicitly.
 */
static int write_request(struct xs_handle *xsh, xs_transaction_t t,
                         void *opaque)
{
    const struct request_ctx *ctx = opaque;
    libxl_pci_provider_call *call = ctx->call;
    unsigned int domd = ctx->domd;
    static const char *const answer_nodes[] = {
        XVF_PROTO_BDF, XVF_PROTO_ERROR, XVF_PROTO_STATE,
    };
    char path[XVF_PROTO_PATH_MAX], **ids = NULL;
    unsigned int i, num = 0, devid;
    int rc;

    xvf_proto_root_path(path, sizeof(path), domd);
    rc = put_dir(xsh, t, path, XVF_NODE_ROOT, domd);
    if (rc < 0)
        return rc;
    xvf_proto_guest_path(path, sizeof(path), domd, call->domid);
    rc = put_dir(xsh, t, path, XVF_NODE_GUEST, domd);
    if (rc < 0)
        return rc;
    /* A directory made just now is empty. */
    if (rc) {
        ids = xs_directory(xsh, t, path, &num);
        if (!ids && errno != ENOENT)
            return -errno;
    }
    devid = free_devid(ids, ids ? num : 0);
    free(ids);

    xvf_proto_request_path(path, sizeof(path), domd, call->domid, devid,
                           XVF_PROTO_SPEC);
    if (!xs_put(xsh, t, path, call->name, XVF_NODE_DOM0, domd))
        return -errno;
    xvf_proto_request_path(path, sizeof(path), domd, call->domid, devid,
                           NULL);
    if (!xs_put_perms(xsh, t, path, XVF_NODE_REQUEST, domd))
        return -errno;
    xvf_proto_request_path(path, sizeof(path), domd, call->domid, devid,
                           XVF_PROTO_OP);
    if (!xs_put(xsh, t, path, xvf_proto_op_name(XVF_OP_PREPARE),
                XVF_NODE_DOM0, domd))
        return -errno;
    for (i = 0; i < sizeof(answer_nodes) / sizeof(answer_nodes[0]); i++) {
        xvf_proto_request_path(path, sizeof(path), domd, call->domid,
                               devid, answer_nodes[i]);
        if (!xs_put(xsh, t, path,
                    strcmp(answer_nodes[i], XVF_PROTO_STATE) ? "" :
                    xvf_proto_state_name(XVF_PS_REQUESTED),
                    XVF_NODE_ANSWER, domd))
            return -errno;
    }

    xvf_proto_request_path(call->path, sizeof(call->path), domd,
                           call->domid, devid, XVF_PROTO_STATE);
    return 0;
}

static int vf_check(libxl_pci_provider_call *call)
{
    struct xvf_spec spec;
    struct xvf_err err;
    int rc;

    xvf_err_clear(&err);
    if (strlen(call->name) > XVF_SPEC_MAX) {
        seterr(call, "longer than %d characters", XVF_SPEC_MAX);
        return -EINVAL;
    }
    rc = xvf_spec_parse(call->name, &spec, &err);
    if (!rc)
        rc = xvf_spec_check_guest(&spec, &err);
    if (rc)
        seterr(call, "%s", err.msg);
    return rc;
}

static int vf_request(libxl_pci_provider_call *call)
{
    struct vf_config cfg;
    struct request_ctx ctx = { .call = call };
    char ver[17];
    int rc;

    rc = vf_check(call);
    if (rc)
        return rc;
    rc = vf_config_read(&cfg, call->error, sizeof(call->error));
    if (rc)
        return rc;
    rc = vf_domd_resolve(call->xsh, &cfg, &ctx.domd);
    if (rc) {
        domd_error(call, &cfg, rc);
        return rc;
    }
    rc = domd_ready(call->xsh, ctx.domd, ver, sizeof(ver));
    if (rc == -EHOSTDOWN && !cfg.domd[0]) {
        seterr(call, "xen-vfd is not running in Dom0 and no driver domain "
               "is configured: set domd= in %s", cfg.file);
        return rc;
    }
    if (rc == -EHOSTDOWN) {
        seterr(call, "xen-vfd is not running in driver domain %u (domd = "
               "%s in %s): its drivers/xen-vf/status is not ready",
               ctx.domd, cfg.domd, cfg.file);
        return rc;
    }
    if (rc) {
        seterr(call, "driver domain %u speaks xen-vf protocol %.16s, "
               "this provider protocol %d", ctx.domd, ver,
               XVF_PROTO_VERSION);
        return rc;
    }

    rc = xvf_xs_txn(call->xsh, write_request, &ctx);
    if (rc) {
        seterr(call, "cannot write the request for driver domain %u: %s",
               ctx.domd, strerror(-rc));
        call->path[0] = '\0';
        return rc;
    }

    call->timeout_ms = cfg.timeout_s * 1000;
    return 0;
}

/* ".../DEVID/state" -> ".../DEVID/NODE" */
static int sibling(char *buf, size_t len, const char *path, const char *node)
{
    const char *slash = strrchr(path, '/');
    int r;

    if (!slash)
        return -EINVAL;
    r = snprintf(buf, len, "%.*s/%s", (int)(slash - path), path, node);
    return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

struct answer_ctx {
    const char *path;           /* the state node */
    unsigned int domd;
    char *val[3];               /* state, bdf, error; NULL when absent */
    char bad[XVF_PROTO_PATH_MAX + 8];
    int who;
};

static void answer_free(struct answer_ctx *a)
{
    unsigned int i;

    for (i = 0; i < 3; i++) {
        free(a->val[i]);
        a->val[i] = NULL;
    }
}

/* A state Dom0 keeps waiting on, which it takes without bdf and error. */
static bool pending(const char *state)
{
    enum xvf_proto_state st;

    return !xvf_proto_state_parse(state, &st) &&
           (st == XVF_PS_REQUESTED || st == XVF_PS_PREPARING);
}

/*
 * The answer nodes and who can have written them, at one instant.
 * Committed, not aborted, so that a conflict makes xvf_xs_txn() read
 * again. -EPERM with a->bad and a->who for a node another domain may
 * have written.
 */
static int read_answer_txn(struct xs_handle *xsh, xs_transaction_t t,
                           void *opaque)
{
    static const char *const nodes[] = {
        XVF_PROTO_STATE, XVF_PROTO_BDF, XVF_PROTO_ERROR,
    };
    struct answer_ctx *a = opaque;
    unsigned int i;
    int rc;

    answer_free(a);
    for (i = 0; i < 3; i++) {
        rc = sibling(a->bad, sizeof(a->bad), a->path, nodes[i]);
        if (rc)
            return rc;
        a->val[i] = xvf_xs_read(xsh, t, a->bad);
        if (!a->val[i] && errno != ENOENT)
            return -errno;
        if (!a->val[i] && !i)
            return 0;
        if (!a->val[i])
            continue;
        rc = vf_check_writers(xsh, t, a->bad, a->domd, &a->who);
        if (rc)
            return rc;
        /* Nothing but a final state is taken: bdf and error can wait. */
        if (!i && pending(a->val[0]))
            return 0;
    }
    return 0;
}

static int vf_answer(libxl_pci_provider_call *call)
{
    struct answer_ctx a = { .path = call->path };
    struct xvf_proto_answer ans;
    struct xvf_err err;
    unsigned int dom, bus, dev, fn, domid, devid;
    char *state, *bdf, *error;
    int rc;

    xvf_err_clear(&err);
    if (xvf_proto_parse_path(call->path, &a.domd, &domid, &devid, NULL)) {
        seterr(call, "bad request path '%s'", call->path);
        return -EINVAL;
    }
    rc = xvf_xs_txn(call->xsh, read_answer_txn, &a);
    if (rc == -EPERM && a.who < 0) {
        seterr(call, "refused the answer: every domain may write %s",
               a.bad);
    } else if (rc == -EPERM) {
        seterr(call, "refused the answer: %s was written by domain %d, "
               "not by driver domain %u", a.bad, a.who, a.domd);
    } else if (rc) {
        seterr(call, "cannot read the answer in %s: %s", call->path,
               strerror(-rc));
    }
    if (rc) {
        answer_free(&a);
        return rc;
    }
    state = a.val[0];
    bdf = a.val[1];
    error = a.val[2];
    rc = xvf_proto_decode_answer(state, bdf, error, &ans, &err);
    free(state);
    free(bdf);
    free(error);
    if (rc) {
        seterr(call, "%s", err.msg);
        return rc;
    }

    switch (ans.state) {
    case XVF_PS_REQUESTED:
    case XVF_PS_PREPARING:
        return LIBXL_PCI_PROVIDER_PENDING;
    case XVF_PS_ERROR:
        seterr(call, "%s", ans.error);
        return -EIO;
    case XVF_PS_RELEASING:
        seterr(call, "the request is being released");
        return -ECANCELED;
    case XVF_PS_READY:
        break;
    }

    if (sscanf(ans.bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4) {
        seterr(call, "bad BDF '%s'", ans.bdf);
        return -EPROTO;
    }
    call->domain = dom;
    call->bus = bus;
    call->dev = dev;
    call->func = fn;
    call->bdf_valid = 1;
    return 0;
}

static bool released(struct xs_handle *xsh, unsigned int domd,
                     unsigned int domid, unsigned int devid)
{
    char path[XVF_PROTO_PATH_MAX], *op;
    bool rel;

    xvf_proto_request_path(path, sizeof(path), domd, domid, devid,
                           XVF_PROTO_OP);
    op = xvf_xs_read(xsh, XBT_NULL, path);
    rel = op && !strcmp(op, xvf_proto_op_name(XVF_OP_RELEASE));
    free(op);
    return rel;
}

/*
 * Request directory, on driver domain @domd, of domain call->domid whose
 * bdf is call's BDF and was written by @domd or Dom0.
 */
static int find_request(struct xs_handle *xsh, unsigned int domd,
                        libxl_pci_provider_call *call, char *buf, size_t len)
{
    char want[16], path[XVF_PROTO_PATH_MAX], **ids, *bdf;
    unsigned int j, nids, devid;
    int rc = -ENOENT, who;

    snprintf(want, sizeof(want), "%04x:%02x:%02x.%x", call->domain & 0xffff,
             call->bus & 0xff, call->dev & 0x1f, call->func & 7);

    xvf_proto_guest_path(path, sizeof(path), domd, call->domid);
    ids = xs_directory(xsh, XBT_NULL, path, &nids);
    for (j = 0; ids && j < nids && rc; j++) {
        if (xvf_proto_parse_devid(ids[j], &devid))
            continue;
        xvf_proto_request_path(path, sizeof(path), domd, call->domid,
                               devid, XVF_PROTO_BDF);
        bdf = xvf_xs_read(xsh, XBT_NULL, path);
        /* An older request for the same VF may still be going. */
        if (bdf && !strcmp(bdf, want) &&
            !vf_check_writers(xsh, XBT_NULL, path, domd, &who) &&
            !released(xsh, domd, call->domid, devid)) {
            xvf_proto_request_path(buf, len, domd, call->domid, devid,
                                   XVF_PROTO_STATE);
            rc = 0;
        }
        free(bdf);
    }
    free(ids);
    return rc;
}

static int vf_release(libxl_pci_provider_call *call)
{
    char state_path[sizeof(call->path)], op_path[sizeof(call->path) + 8];
    struct vf_config cfg;
    unsigned int domd;
    int rc = 0;

    if (call->path[0]) {
        snprintf(state_path, sizeof(state_path), "%s", call->path);
    } else {
        /* Not whether it is ready: a stopped xen-vfd releases on start. */
        rc = vf_config_read(&cfg, call->error, sizeof(call->error));
        if (rc)
            return rc;
        rc = vf_domd_resolve(call->xsh, &cfg, &domd);
        if (rc) {
            domd_error(call, &cfg, rc);
            return rc;
        }
        rc = find_request(call->xsh, domd, call, state_path,
                          sizeof(state_path));
        if (rc) {
            seterr(call, "no xen-vf request of domain %u has BDF "
                   "%04x:%02x:%02x.%x on driver domain %u", call->domid,
                   call->domain, call->bus, call->dev, call->func, domd);
            return rc;
        }
    }
    rc = sibling(op_path, sizeof(op_path), state_path, XVF_PROTO_OP);
    if (rc) {
        seterr(call, "bad request path '%s'", state_path);
        return rc;
    }

    rc = vf_ask_release(call->xsh, state_path, op_path);
    if (rc > 0)
        rc = 0;     /* asked before */
    if (rc)
        seterr(call, "cannot write %s: %s", op_path, strerror(-rc));
    return rc;
}

static const libxl_pci_provider_ops vf_ops = {
    .version = 1,
    .check = vf_check,
    .request = vf_request,
    .answer = vf_answer,
    .release = vf_release,
};

/* Declared with the ABI's type, so that the compiler checks it. */
EXPORT libxl_pci_provider_init_fn libxl_pci_provider_init;

const libxl_pci_provider_ops *libxl_pci_provider_init(unsigned int v)
{
    return v >= 1 ? &vf_ops : NULL;
}
