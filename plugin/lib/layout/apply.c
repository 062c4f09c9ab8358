/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/journal.h"
#include "layout/internal.h"
#include "util/sysfs.h"

static int run_op(int fd, const struct xvf_layout_op *op, struct xvf_err *err)
{
    struct xvf_err e = { 0 };
    uint32_t got = 0;
    int r;

    switch (op->kind) {
    case XVF_LOP_DETACH:
        r = xvf_nvme_ns_attach(fd, op->nsid, op->cntlid, false, 0, &e);
        if (r == -ENOENT)   /* Namespace Not Attached: done already */
            r = 0;
        break;
    case XVF_LOP_ATTACH:
        r = xvf_nvme_ns_attach(fd, op->nsid, op->cntlid, true, 0, &e);
        if (r == -EBUSY && nvme_status_code(e.nvme_status) ==
            NVME_SC_NS_ALREADY_ATTACHED)
            r = 0;
        break;
    case XVF_LOP_DELETE:
        r = xvf_nvme_ns_delete(fd, op->nsid, &e);
        break;
    case XVF_LOP_CREATE:
        r = xvf_nvme_ns_create(fd, op->nsze, op->flbas, &got, &e);
        if (r || got == op->nsid)
            break;
        /* just created, so empty: taking it back destroys nothing */
        xvf_nvme_ns_delete(fd, got, &e);
        r = xvf_err_set(&e, -EIO, "the controller numbered the new "
                        "namespace %u, not %u as planned; it was deleted "
                        "again", got, op->nsid);
        break;
    default:
        r = 0;
        break;
    }
    if (r)
        *err = e;
    return r;
}

struct nsset {
    unsigned int n;
    uint32_t id[XVF_LAYOUT_MAX_NS];
};

static bool nsset_has(const struct nsset *s, uint32_t nsid)
{
    unsigned int i;

    for (i = 0; i < s->n; i++)
        if (s->id[i] == nsid)
            return true;
    return false;
}

static void nsset_add(void *opaque, uint32_t nsid, const char *disk)
{
    struct nsset *s = opaque;

    if (!nsset_has(s, nsid) && s->n < XVF_LAYOUT_MAX_NS)
        s->id[s->n++] = nsid;
}

/* Does the kernel show on the PF's controller what the device attached? */
static bool kernel_agrees(const struct xvf_nvme_pf *pf,
                          const struct xvf_layout_state *st, char *why,
                          size_t len)
{
    struct nsset k = { 0 };
    unsigned int i;
    bool att;

    xvf_layout_ctrl_ns_nodes(pf->ctrl, nsset_add, &k);
    for (i = 0; i < st->nns; i++) {
        att = xvf_layout_has_id(st->ns[i].att, st->ns[i].natt, st->cntlid);
        if (att == nsset_has(&k, st->ns[i].nsid))
            continue;
        snprintf(why, len, "the kernel %s namespace %u on %s although the "
                 "controller has it %s", att ? "does not show" : "still "
                 "shows", st->ns[i].nsid, pf->ctrl, att ? "attached" :
                 "detached");
        return false;
    }
    for (i = 0; i < k.n; i++) {
        if (xvf_layout_state_ns((struct xvf_layout_state *)st, k.id[i]))
            continue;
        snprintf(why, len, "the kernel still shows namespace %u on %s, "
                 "which no longer exists", k.id[i], pf->ctrl);
        return false;
    }
    return true;
}

static int rescan(const struct xvf_nvme_pf *pf,
                  const struct xvf_layout_state *st, unsigned int ms,
                  struct xvf_layout_result *res)
{
    struct timespec t = { 0, 50 * 1000 * 1000 };
    char path[PATH_MAX], why[160];
    unsigned int waited = 0;
    int r;

    r = xvf_path(path, sizeof(path), "/sys/class/nvme/%s/rescan_controller",
                 pf->ctrl);
    if (!r)
        r = xvf_sysfs_write(path, "1");
    res->rescanned = !r;
    while (!kernel_agrees(pf, st, why, sizeof(why))) {
        if (waited >= ms) {
            res->reset_needed = true;
            snprintf(res->reset_why, sizeof(res->reset_why), "%.100s after "
                     "%s; reset the controller (echo 1 > /sys/class/nvme/"
                     "%.8s/reset_controller) or reboot", why,
                     res->rescanned ? "a rescan" : "waiting", pf->ctrl);
            return -ETIMEDOUT;
        }
        nanosleep(&t, NULL);
        waited += 50;
    }
    return 0;
}

static const char *first_refusal(const struct xvf_layout_plan *p)
{
    unsigned int i;

    for (i = 0; i < p->nnotes; i++)
        if (p->notes[i].kind == XVF_LNOTE_REFUSE)
            return p->notes[i].text;
    return "refused";
}

static int apply_locked(const struct xvf_nvme_pf *pf, const char *state_dir,
                        const struct xvf_layout *l,
                        const struct xvf_layout_opts *o,
                        unsigned int rescan_ms, xvf_layout_step_fn step,
                        void *opaque, struct xvf_layout_result *res,
                        struct xvf_layout_state *st, struct xvf_err *err)
{
    struct xvf_layout_opts opts = { 0 };
    struct xvf_layout_plan *p = &res->plan;
    bool primary_changed = false;
    unsigned int i, round;
    int fd = -1, r;

    if (o)
        opts = *o;
    for (round = 0; round < 2; round++) {
        r = xvf_layout_read(pf, state_dir, st, err);
        if (r)
            return r;
        if (opts.no_nsmgmt && st->nsmgmt != XVF_NSMGMT_NO)
            st->nsmgmt = XVF_NSMGMT_FAKE;
        r = xvf_layout_plan(st, l, &opts, p, err);
        if (r)
            return r;
        if (p->refused)
            return xvf_err_set(err, -EPERM, "%s", first_refusal(p));
        r = xvf_nvme_open(pf, &fd, err);
        if (r)
            return r;
        for (i = 0; i < p->nops; i++) {
            const struct xvf_layout_op *op = &p->ops[i];

            if (step)
                step(opaque, i + 1, op);
            if (op->kind == XVF_LOP_RESCAN) {
                primary_changed = true;
                continue;
            }
            r = run_op(fd, op, err);
            if (r == -EOPNOTSUPP && (op->kind == XVF_LOP_CREATE ||
                                     op->kind == XVF_LOP_DELETE)) {
                xvf_err_clear(err);
                res->nsmgmt_fake = true;
                opts.no_nsmgmt = true;
                opts.trust_oacs = false;
                break;
            }
            if (r)
                goto out;
            res->done++;
        }
        close(fd);
        fd = -1;
        if (i == p->nops)
            break;
    }
    r = xvf_layout_read(pf, state_dir, st, err);
    if (r)
        return r;
    if (primary_changed)
        rescan(pf, st, rescan_ms, res);
    if (opts.no_nsmgmt && st->nsmgmt != XVF_NSMGMT_NO)
        st->nsmgmt = XVF_NSMGMT_FAKE;
    {
        struct xvf_layout_plan *again = malloc(sizeof(*again));

        if (!again)
            return xvf_err_set(err, -ENOMEM, "out of memory");
        r = xvf_layout_plan(st, l, &opts, again, err);
        if (!r && again->nops)
            r = xvf_err_set(err, -EAGAIN, "after the run %s still differs "
                            "from the layout (next: %s); run again to see "
                            "why", pf->ctrl, again->ops[0].what);
        free(again);
    }
    if (!r && p->skipped)
        r = 1;
out:
    if (fd >= 0)
        close(fd);
    return r;
}

int xvf_layout_apply(const struct xvf_nvme_pf *pf, const char *state_dir,
                     const struct xvf_layout *l,
                     const struct xvf_layout_opts *o,
                     unsigned int rescan_ms, xvf_layout_step_fn step,
                     void *opaque, struct xvf_layout_result *res,
                     struct xvf_err *err)
{
    struct xvf_layout_state *st;
    int lock = -1, r;

    memset(res, 0, sizeof(*res));
    st = malloc(sizeof(*st));
    if (!st)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    r = xvf_state_dir_init(state_dir);
    if (r) {
        xvf_err_set(err, r, "cannot create %s: %s", state_dir, strerror(-r));
        goto out;
    }
    /* a stuck run must not hang every prepare, nor this one forever */
    r = xvf_engine_lock_pf(state_dir, pf->bdf, o ? o->lock_timeout_ms : 0,
                           &lock, err);
    if (r)
        goto out;
    r = apply_locked(pf, state_dir, l, o, rescan_ms, step, opaque, res, st,
                     err);
out:
    if (lock >= 0)
        xvf_unlock_pf(lock);
    free(st);
    return r;
}
