/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * reap.c - Dom0 withdraws the requests of domains that are gone (see
 * reaper.h and "Domains that are gone" in docs/protocol.md)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen/protocol.h"
#include "xen/xs.h"
#include "reaper.h"

struct release_ctx {
    const char *state_path, *op_path;
};

static int release_txn(struct xs_handle *xsh, xs_transaction_t t,
                       void *opaque)
{
    const struct release_ctx *ctx = opaque;
    const char *op = xvf_proto_op_name(XVF_OP_RELEASE);
    char *state, *cur;
    int rc = 1;

    state = xvf_xs_read(xsh, t, ctx->state_path);
    cur = state ? xvf_xs_read(xsh, t, ctx->op_path) : NULL;
    if (state && (!cur || strcmp(cur, op))) {
        rc = 0;
        if (!xs_write(xsh, t, ctx->op_path, op, strlen(op)))
            rc = -errno;
    }
    free(cur);
    free(state);
    return rc;
}

int vf_ask_release(struct xs_handle *xsh, const char *state_path,
                   const char *op_path)
{
    struct release_ctx ctx = { .state_path = state_path, .op_path = op_path };

    return xvf_xs_txn(xsh, release_txn, &ctx);
}

/* The requests of the gone domain @domid; the count asked, or -errno. */
static int reap_guest(struct xs_handle *xsh, unsigned int domd,
                      unsigned int domid, vf_reap_log_fn *log, void *opaque)
{
    char dir[XVF_PROTO_PATH_MAX], state[XVF_PROTO_PATH_MAX],
         op[XVF_PROTO_PATH_MAX], **ids;
    unsigned int i, n, devid;
    int rc, asked = 0;

    xvf_proto_guest_path(dir, sizeof(dir), domd, domid);
    ids = xs_directory(xsh, XBT_NULL, dir, &n);
    if (!ids)
        return errno == ENOENT ? 0 : -errno;
    for (i = 0; i < n; i++) {
        if (xvf_proto_parse_devid(ids[i], &devid))
            continue;
        xvf_proto_request_path(state, sizeof(state), domd, domid, devid,
                               XVF_PROTO_STATE);
        xvf_proto_request_path(op, sizeof(op), domd, domid, devid,
                               XVF_PROTO_OP);
        rc = vf_ask_release(xsh, state, op);
        if (rc > 0)
            continue;
        if (!rc)
            asked++;
        if (log)
            log(opaque, domid, devid, rc);
    }
    free(ids);
    return asked;
}

int vf_reap(struct xs_handle *xsh, unsigned int domd, vf_reap_log_fn *log,
            vf_reap_unborn_fn *unborn, void *opaque)
{
    char root[XVF_PROTO_PATH_MAX], **doms;
    unsigned int i, n, domid;
    int rc, asked = 0;

    xvf_proto_root_path(root, sizeof(root), domd);
    doms = xs_directory(xsh, XBT_NULL, root, &n);
    if (!doms)
        return errno ? -errno : -EIO;
    for (i = 0; i < n; i++) {
        if (xvf_proto_parse_domid(doms[i], &domid) ||
            xs_is_domain_introduced(xsh, domid))
            continue;
        if (xvf_xs_domain_alive(xsh, domid, false)) {
            if (unborn)
                unborn(opaque, domid);
            continue;
        }
        rc = reap_guest(xsh, domd, domid, log, opaque);
        if (rc > 0)
            asked += rc;
    }
    free(doms);
    return asked;
}
