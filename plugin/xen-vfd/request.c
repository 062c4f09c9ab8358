/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * request.c - xen-vfd's handling of one request: read it, prepare or
 * release, answer (DomD side of docs/protocol.md)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "xen/xs.h"
#include "vfd-priv.h"

#define DOMID_UNKNOWN 0x7ff4u  /* DOMID_INVALID */

struct step_ctx {
    const char *req;
};

static void log_step(void *opaque, const char *step, const char *detail)
{
    const struct step_ctx *ctx = opaque;

    vfd_log(LOG_INFO, "%s: step %s: %s", ctx->req, step, detail);
}

/* Owner (first permission entry) of @path, or -errno. */
static int node_owner(struct vfd *d, xs_transaction_t t, const char *path,
                      unsigned int *owner)
{
    struct xs_permissions *perms;
    unsigned int n;

    perms = xs_get_permissions(d->xsh, t, path, &n);
    if (!perms)
        return -errno;
    if (!n) {
        free(perms);
        return -EPROTO;
    }
    *owner = perms[0].id;
    free(perms);
    return 0;
}

struct answer_ctx {
    struct vfd *d;
    unsigned int domid, devid;
    const char *state, *bdf, *error;
};

/* The answer nodes, state last; the caller checked the request exists. */
static int write_answer(struct xs_handle *xsh, xs_transaction_t t,
                        const struct answer_ctx *a)
{
    char path[XVF_PROTO_PATH_MAX], clean[XVF_PROTO_ERROR_MAX + 1];
    unsigned int domd = a->d->domd;

    if (a->bdf) {
        xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                               XVF_PROTO_BDF);
        if (!xs_write(xsh, t, path, a->bdf, strlen(a->bdf)))
            return -errno;
    }
    if (a->error) {
        xvf_proto_clean_error(clean, a->error);
        xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                               XVF_PROTO_ERROR);
        if (!xs_write(xsh, t, path, clean, strlen(clean)))
            return -errno;
    }
    xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                           XVF_PROTO_STATE);
    if (!xs_write(xsh, t, path, a->state, strlen(a->state)))
        return -errno;
    return 0;
}

static int answer_txn(struct xs_handle *xsh, xs_transaction_t t, void *opaque)
{
    const struct answer_ctx *a = opaque;
    char path[XVF_PROTO_PATH_MAX], *cur;

    xvf_proto_request_path(path, sizeof(path), a->d->domd, a->domid,
                           a->devid, XVF_PROTO_STATE);
    cur = xvf_xs_read(xsh, t, path);
    if (!cur)
        return -errno;
    free(cur);
    return write_answer(xsh, t, a);
}

/*
 * Write the answer nodes of a request that still exists, in one
 * transaction: never re-create a request someone removed (the nodes
 * would be ours, and a stale answer could be mistaken for a new one).
 * Return: 0, -ENOENT when the request is gone, or -errno.
 */
static int answer(struct vfd *d, unsigned int domid, unsigned int devid,
                  enum xvf_proto_state state, const char *bdf,
                  const char *error)
{
    struct answer_ctx a = {
        .d = d, .domid = domid, .devid = devid,
        .state = xvf_proto_state_name(state), .bdf = bdf, .error = error,
    };

    return xvf_xs_txn(d->xsh, answer_txn, &a);
}

/* Remove the guest's directory if it is empty; 1 when it is not. */
static int remove_empty_txn(struct xs_handle *xsh, xs_transaction_t t,
                            void *opaque)
{
    const char *path = opaque;
    unsigned int n;
    char **ids;

    ids = xs_directory(xsh, t, path, &n);
    if (!ids)
        return -errno;
    free(ids);
    if (n)
        return 1;
    return xs_rm(xsh, t, path) ? 0 : -errno;
}

/* Remove a request, and its guest's directory when that is empty. */
static void remove_request(struct vfd *d, unsigned int domid,
                           unsigned int devid)
{
    char path[XVF_PROTO_PATH_MAX];

    xvf_proto_request_path(path, sizeof(path), d->domd, domid, devid, NULL);
    if (!xs_rm(d->xsh, XBT_NULL, path) && errno != ENOENT)
        vfd_log(LOG_WARNING, "cannot remove %s: %s", path,
                strerror(errno));

    xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
    xvf_xs_txn(d->xsh, remove_empty_txn, path);
}

static void do_prepare(struct vfd *d, const char *label, unsigned int domid,
                       unsigned int devid, const struct xvf_proto_request *req)
{
    struct step_ctx ctx = { .req = label };
    struct xvf_engine_config cfg = d->cfg;
    char owner[32], xbpath[XVF_PROTO_PATH_MAX];
    struct xvf_err err, rerr;
    struct vfd_hook_vf hook;
    struct xvf_vf vf;
    int rc;

    xvf_err_clear(&err);
    vfd_log(LOG_INFO, "%s: prepare %s for domain %u", label, req->text,
            domid);
    xvf_owner_request(owner, sizeof(owner), domid, devid);
    cfg.step_cb = log_step;
    cfg.opaque = &ctx;
    rc = xvf_prepare(&cfg, &req->spec, owner, &vf, &err);
    if (rc) {
        vfd_log(LOG_ERR, "%s: prepare %s: %s", label, req->text,
                err.msg[0] ? err.msg : strerror(-rc));
        rc = answer(d, domid, devid, XVF_PS_ERROR, NULL,
                    err.msg[0] ? err.msg : strerror(-rc));
        if (rc && rc != -ENOENT)
            vfd_log(LOG_ERR, "%s: cannot answer: %s", label, strerror(-rc));
        return;
    }

    hook.cls = req->spec.cls;
    hook.spec = req->text;
    hook.pf = vf.pf;
    hook.vf = vf.vf;
    hook.domid = domid;
    hook.scid = vf.scid;
    hook.nsid = vf.nsid;
    xvf_proto_request_path(xbpath, sizeof(xbpath), d->domd, domid, devid,
                           NULL);
    rc = vfd_run_script(d, label, "add", xbpath, &hook, &err);
    if (rc) {
        /* Released before the answer, like any failed prepare. */
        vfd_log(LOG_ERR, "%s: %s; releasing %s", label, err.msg, vf.vf);
        xvf_err_clear(&rerr);
        if (xvf_release_held(&cfg, vf.vf, owner, &rerr) < 0)
            vfd_log(LOG_ERR, "%s: release %s: %s", label, vf.vf, rerr.msg);
        answer(d, domid, devid, XVF_PS_ERROR, NULL, err.msg);
        return;
    }

    vfd_log(LOG_NOTICE, "%s: %s ready for domain %u: VF %s (PF %s, "
            "secondary 0x%x, namespace %u)", label, req->text, domid, vf.vf,
            vf.pf, vf.scid, vf.nsid);
    rc = answer(d, domid, devid, XVF_PS_READY, vf.vf, NULL);
    if (!rc)
        return;
    /* Nobody is waiting for this VF any more: do not leak it. */
    vfd_log(LOG_WARNING, "%s: request gone before the answer (%s); "
            "releasing %s", label, strerror(-rc), vf.vf);
    xvf_err_clear(&err);
    rc = xvf_release_held(&cfg, vf.vf, owner, &err);
    if (rc && rc != -ENOENT)
        vfd_log(LOG_ERR, "%s: release %s: %s", label, vf.vf, err.msg);
}

/*
 * Release what the journal holds for the request DOMID/DEVID: the
 * entries it owns, and an entry of the old per-domain owner only if it is
 * the VF the request was answered (@bdf). Nothing another request holds
 * is touched, whatever the request says.
 */
static int release_matching(struct vfd *d, const char *label,
                            unsigned int domid, unsigned int devid,
                            const char *bdf, struct xvf_err *err)
{
    char xbpath[XVF_PROTO_PATH_MAX];
    struct step_ctx ctx = { .req = label };
    struct xvf_engine_config cfg = d->cfg;
    struct xvf_entry *list = NULL;
    unsigned int i, n = 0, id, slot;
    const char *what;
    int rc, released = 0;

    cfg.step_cb = log_step;
    cfg.opaque = &ctx;
    rc = xvf_journal_list(cfg.state_dir, NULL, &list, &n);
    if (rc)
        return xvf_err_set(err, rc, "cannot read the journal in %s: %s",
                           cfg.state_dir, strerror(-rc));
    for (i = 0; i < n; i++) {
        if (!xvf_owner_parse(list[i].owner, &id, &slot) || id != domid)
            continue;
        if (slot == XVF_OWNER_ANY_DEVID ?
            !bdf || !bdf[0] || strcmp(list[i].vf, bdf) : slot != devid)
            continue;
        what = list[i].vf[0] ? list[i].vf : list[i].spec;
        vfd_log(LOG_INFO, "%s: release %s (%s) of domain %u", label, what,
                list[i].spec, domid);
        xvf_proto_request_path(xbpath, sizeof(xbpath), d->domd, domid, devid,
                               NULL);
        vfd_hook_remove(d, label, &list[i], domid, xbpath);
        /* Checks the owner again under the PF's lock. */
        rc = xvf_release_held(&cfg, what, list[i].owner, err);
        /* -ENOENT: another run released it or gave it to someone else */
        if (rc == -ENOENT) {
            xvf_err_clear(err);
            rc = 0;
            continue;
        }
        if (rc)
            break;
        released++;
    }
    free(list);
    return rc ? rc : released;
}

static void do_release(struct vfd *d, const char *label, unsigned int domid,
                       unsigned int devid, const struct xvf_proto_request *req,
                       const char *bdf)
{
    char msg[XVF_ERR_MSG_MAX + 32];
    struct xvf_err err;
    int rc;

    xvf_err_clear(&err);
    rc = release_matching(d, label, domid, devid, bdf, &err);
    if (rc < 0) {
        vfd_log(LOG_ERR, "%s: release %s of domain %u: %s", label,
                req->text, domid, err.msg);
        snprintf(msg, sizeof(msg), "release failed: %s", err.msg);
        answer(d, domid, devid, XVF_PS_ERROR, NULL, msg);
        return;
    }
    if (rc)
        vfd_log(LOG_NOTICE, "%s: released %s of domain %u", label,
                req->text, domid);
    else
        vfd_log(LOG_INFO, "%s: nothing held for %s of domain %u", label,
                req->text, domid);
    remove_request(d, domid, devid);
}

/*
 * Same as for the request directory: the owner must be Dom0. A missing
 * node passes (the decoder refuses the request for it); one that cannot
 * be read gives an owner that is no domain.
 */
static bool dom0_node(struct vfd *d, xs_transaction_t t, const char *dir,
                      const char *node, unsigned int *owner)
{
    char path[XVF_PROTO_PATH_MAX + 8];
    int rc;

    *owner = DOMID_UNKNOWN;
    snprintf(path, sizeof(path), "%s/%s", dir, node);
    rc = node_owner(d, t, path, owner);
    if (rc == -ENOENT)
        return true;
    if (rc)
        *owner = DOMID_UNKNOWN;
    return !rc && *owner == 0;
}

/* What a request asks of xen-vfd now, decided in one transaction. */
enum action {
    ACT_NONE,           /* incomplete, answered, or being worked on */
    ACT_IGNORE,         /* not from Dom0: msg says why */
    ACT_ANSWERED,       /* refused, or its domain is gone: answered */
    ACT_REMOVE,         /* a malformed release: remove the request */
    ACT_PREPARE,        /* "preparing" written: prepare */
    ACT_RELEASE,        /* "releasing" written: release */
};

struct decision {
    struct vfd *d;
    unsigned int domid, devid;
    bool startup;
    const char *dir;
    enum action act;
    struct xvf_proto_request req;
    struct xvf_err err;
    char *bdf;
};

/* Reads a node of the request, NULL when it is missing. */
static char *req_read(struct xs_handle *xsh, xs_transaction_t t,
                      const struct decision *r, const char *node)
{
    char path[XVF_PROTO_PATH_MAX];

    xvf_proto_request_path(path, sizeof(path), r->d->domd, r->domid,
                           r->devid, node);
    return xvf_xs_read(xsh, t, path);
}

/*
 * Decide on the request as it stands and write what the decision says
 * ("preparing", "releasing", or a refusal) in the same transaction, so
 * that nothing changes between the reading and the writing. Commits (0)
 * when it wrote, aborts (1) otherwise; -errno when the request cannot be
 * read.
 */
static int decide_txn(struct xs_handle *xsh, xs_transaction_t t,
                      void *opaque)
{
    struct decision *r = opaque;
    struct answer_ctx a = { .d = r->d, .domid = r->domid,
                            .devid = r->devid };
    enum xvf_proto_state st;
    unsigned int owner, o;
    char *spec = NULL, *op = NULL, *state = NULL;
    int rc;

    r->act = ACT_NONE;
    free(r->bdf);
    r->bdf = NULL;
    xvf_err_clear(&r->err);
    rc = node_owner(r->d, t, r->dir, &owner);
    if (rc)
        return rc;
    if (owner == 0 && (!dom0_node(r->d, t, r->dir, XVF_PROTO_SPEC, &o) ||
                       !dom0_node(r->d, t, r->dir, XVF_PROTO_OP, &o)))
        owner = o;
    op = req_read(xsh, t, r, XVF_PROTO_OP);
    spec = req_read(xsh, t, r, XVF_PROTO_SPEC);
    state = req_read(xsh, t, r, XVF_PROTO_STATE);
    rc = xvf_proto_decode_request(owner, spec, op, &r->req, &r->err);
    if (rc == -EPERM) {
        r->act = ACT_IGNORE;
        rc = 1;
        goto out;
    }
    if (!state || xvf_proto_state_parse(state, &st)) {
        rc = 1;     /* not (yet) a whole request */
        goto out;
    }
    if (rc) {
        rc = 1;
        /* A malformed prepare is answered; anything else waits. */
        if (op && !strcmp(op, xvf_proto_op_name(XVF_OP_PREPARE)) &&
            st == XVF_PS_REQUESTED) {
            a.state = xvf_proto_state_name(XVF_PS_ERROR);
            a.error = r->err.msg;
            rc = write_answer(xsh, t, &a);
            r->act = ACT_ANSWERED;
        } else if (op && !strcmp(op, xvf_proto_op_name(XVF_OP_RELEASE))) {
            r->act = ACT_REMOVE;
        }
        goto out;
    }

    rc = 1;
    switch (r->req.op) {
    case XVF_OP_PREPARE:
        /* "preparing" at start: an earlier xen-vfd died on it. */
        if (st != XVF_PS_REQUESTED && !(r->startup && st == XVF_PS_PREPARING))
            break;
        if (!vfd_domain_alive(r->d, r->domid)) {
            xvf_err_set(&r->err, -ESRCH,
                        "the domain the VF is for does not exist");
            a.state = xvf_proto_state_name(XVF_PS_ERROR);
            a.error = r->err.msg;
            r->act = ACT_ANSWERED;
        } else {
            a.state = xvf_proto_state_name(XVF_PS_PREPARING);
            r->act = ACT_PREPARE;
        }
        rc = write_answer(xsh, t, &a);
        break;
    case XVF_OP_RELEASE:
        if (st == XVF_PS_RELEASING && !r->startup)
            break;
        r->bdf = req_read(xsh, t, r, XVF_PROTO_BDF);
        a.state = xvf_proto_state_name(XVF_PS_RELEASING);
        r->act = ACT_RELEASE;
        rc = write_answer(xsh, t, &a);
        break;
    }
out:
    free(spec);
    free(op);
    free(state);
    return rc;
}

static bool recent(const struct vfd *d, unsigned int domid,
                   unsigned int devid)
{
    unsigned int i, n = d->nrecent < VFD_RECENT_MAX ? d->nrecent :
                                                      VFD_RECENT_MAX;

    for (i = 0; i < n; i++)
        if (d->recent[i].domid == domid && d->recent[i].devid == devid)
            return true;
    return false;
}

static void note_recent(struct vfd *d, unsigned int domid,
                        unsigned int devid)
{
    if (recent(d, domid, devid))
        return;
    d->recent[d->nrecent % VFD_RECENT_MAX].domid = domid;
    d->recent[d->nrecent % VFD_RECENT_MAX].devid = devid;
    d->nrecent++;
}

/*
 * The events that follow an answer are mostly stale: the rest of the
 * transaction in which Dom0 wrote the request, and xen-vfd's own writes.
 * For a request handled before, two reads tell whether there is anything
 * to decide, where a decision is a transaction of about ten requests to
 * xenstored. Deciding to do nothing needs no transaction: any later
 * change fires the watch again. Anything unexpected is decided in full.
 */
static bool settled(struct vfd *d, unsigned int domid, unsigned int devid)
{
    char path[XVF_PROTO_PATH_MAX], *op, *state = NULL;
    enum xvf_proto_state st;
    bool done = false;

    xvf_proto_request_path(path, sizeof(path), d->domd, domid, devid,
                           XVF_PROTO_OP);
    op = xvf_xs_read(d->xsh, XBT_NULL, path);
    if (!op)
        return errno == ENOENT;     /* gone: nothing to do for it */
    xvf_proto_request_path(path, sizeof(path), d->domd, domid, devid,
                           XVF_PROTO_STATE);
    state = xvf_xs_read(d->xsh, XBT_NULL, path);
    if (state && !xvf_proto_state_parse(state, &st)) {
        if (!strcmp(op, xvf_proto_op_name(XVF_OP_PREPARE)))
            done = st == XVF_PS_PREPARING || st == XVF_PS_READY ||
                   st == XVF_PS_ERROR;
        else if (!strcmp(op, xvf_proto_op_name(XVF_OP_RELEASE)))
            done = st == XVF_PS_RELEASING;
    }
    free(op);
    free(state);
    return done;
}

static void handle_request(struct vfd *d, unsigned int domid,
                           unsigned int devid, bool startup)
{
    char dir[XVF_PROTO_PATH_MAX], label[32];
    struct decision r = {
        .d = d, .domid = domid, .devid = devid, .startup = startup,
        .dir = dir,
    };
    int rc;

    if (!startup) {
        if (recent(d, domid, devid) && settled(d, domid, devid))
            return;
        note_recent(d, domid, devid);
    }
    snprintf(label, sizeof(label), "request %u/%u", domid, devid);
    xvf_proto_request_path(dir, sizeof(dir), d->domd, domid, devid, NULL);
    rc = xvf_xs_txn(d->xsh, decide_txn, &r);
    if (rc < 0) {
        if (rc != -ENOENT)
            vfd_log(LOG_ERR, "%s: reading %s: %s", label, dir,
                    strerror(-rc));
        goto out;
    }
    switch (r.act) {
    case ACT_NONE:
        break;
    case ACT_IGNORE:
        vfd_log(LOG_WARNING, "%s: ignored: %s", label, r.err.msg);
        break;
    case ACT_ANSWERED:
        vfd_log(LOG_WARNING, "%s: refused: %s", label, r.err.msg);
        break;
    case ACT_REMOVE:
        remove_request(d, domid, devid);
        break;
    case ACT_PREPARE:
        do_prepare(d, label, domid, devid, &r.req);
        break;
    case ACT_RELEASE:
        do_release(d, label, domid, devid, &r.req, r.bdf);
        break;
    }
out:
    free(r.bdf);
}

void vfd_handle_request(struct vfd *d, unsigned int domid,
                        unsigned int devid, bool startup)
{
    handle_request(d, domid, devid, startup);
}
