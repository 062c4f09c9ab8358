/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout/internal.h"

void xvf_plan_note(struct planner *pl, enum xvf_layout_note_kind kind,
                   const char *fmt, ...)
{
    struct xvf_layout_plan *p = pl->p;
    va_list ap;

    if (kind == XVF_LNOTE_REFUSE)
        p->refused++;
    else if (kind == XVF_LNOTE_SKIP)
        p->skipped++;
    if (p->nnotes >= XVF_LAYOUT_MAX_NOTES)
        return;
    p->notes[p->nnotes].kind = kind;
    va_start(ap, fmt);
    vsnprintf(p->notes[p->nnotes].text, XVF_LAYOUT_NOTE_LEN, fmt, ap);
    va_end(ap);
    p->nnotes++;
}

static struct xvf_layout_op *add_op(struct planner *pl,
                                    enum xvf_layout_op_kind kind,
                                    uint32_t nsid, uint16_t cntlid)
{
    struct xvf_layout_plan *p = pl->p;
    struct xvf_layout_op *op;

    if (p->nops >= XVF_LAYOUT_MAX_OPS) {
        xvf_plan_note(pl, XVF_LNOTE_REFUSE, "the plan has more than %u "
                      "commands", XVF_LAYOUT_MAX_OPS);
        return NULL;
    }
    op = &p->ops[p->nops++];
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->nsid = nsid;
    op->cntlid = cntlid;
    return op;
}

bool xvf_plan_target_of(const struct want *w, uint16_t id)
{
    return xvf_layout_has_id(w->target, w->ntarget, id);
}

/* A free secondary for attach=secondary:auto, or 0xffff. */
static uint16_t auto_secondary(struct planner *pl, const struct want *self)
{
    const struct xvf_layout_state *st = pl->st;
    unsigned int i, j;
    char why[300];

    for (i = 0; i < st->nsec; i++) {
        const struct xvf_layout_sec *s = &st->sec[i];
        bool taken = false;

        if (xvf_plan_sec_busy(st, s->scid, why, sizeof(why)))
            continue;
        for (j = 0; j < pl->l->n && !taken; j++)
            taken = &pl->w[j] != self &&
                    xvf_plan_target_of(&pl->w[j], s->scid);
        /* namespaces outside the layout that stay attached to it */
        for (j = 0; j < st->nns && !taken; j++)
            taken = !pl->in_layout[j] && !pl->deleted[j] &&
                    xvf_layout_has_id(st->ns[j].att, st->ns[j].natt, s->scid);
        if (!taken)
            return s->scid;
    }
    return 0xffff;
}

static void plan_targets(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    const struct xvf_layout_sec *s;
    unsigned int i, pass;
    uint16_t id;

    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < pl->l->n; i++) {
            struct want *w = &pl->w[i];
            const struct xvf_layout_entry *e = w->e;

            if ((e->attach == XVF_LATT_AUTO) != (pass == 1))
                continue;
            w->ntarget = 0;
            switch (e->keep ? XVF_LATT_KEEP : e->attach) {
            case XVF_LATT_KEEP:
                if (w->cur) {
                    memcpy(w->target, w->cur->att, sizeof(w->target));
                    w->ntarget = w->cur->natt;
                }
                break;
            case XVF_LATT_NONE:
                break;
            case XVF_LATT_PRIMARY:
                w->target[w->ntarget++] = st->cntlid;
                break;
            case XVF_LATT_SECONDARY:
                w->target[w->ntarget++] = e->scid;
                break;
            case XVF_LATT_AUTO:
                /* kept once chosen: one secondary, that nobody else wants */
                if (w->cur && w->cur->natt == 1 &&
                    (s = xvf_layout_state_sec(st, w->cur->att[0])) &&
                    s->scid != st->cntlid) {
                    w->target[w->ntarget++] = s->scid;
                    break;
                }
                id = auto_secondary(pl, w);
                if (id == 0xffff) {
                    xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u: attach="
                                  "secondary:auto, but every secondary "
                                  "controller of %s is in use or taken by "
                                  "another namespace", e->nsid, st->ctrl);
                    break;
                }
                w->target[w->ntarget++] = id;
                s = xvf_layout_state_sec(st, id);
                xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u: secondary:auto "
                              "chose secondary controller 0x%x (VF %u); "
                              "xen-vf gives it to the guest that asks for "
                              "ns%u", e->nsid, id, s ? s->vfn : 0, e->nsid);
                break;
            }
        }
    }
}

static void op_what(struct planner *pl, struct xvf_layout_op *op,
                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void op_what(struct planner *pl, struct xvf_layout_op *op,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(op->what, sizeof(op->what), fmt, ap);
    va_end(ap);
}

static void emit_attach(struct planner *pl, uint32_t nsid, uint16_t id,
                        bool attach, bool *primary)
{
    struct xvf_layout_op *op;
    char c[96];

    op = add_op(pl, attach ? XVF_LOP_ATTACH : XVF_LOP_DETACH, nsid, id);
    if (!op)
        return;
    xvf_plan_ctrl_name(pl->st, id, c, sizeof(c));
    op_what(pl, op, "%s namespace %u %s %s", attach ? "attach" : "detach",
            nsid, attach ? "to" : "from", c);
    if (id == pl->st->cntlid)
        *primary = true;
}

static int cmp_op(const void *a, const void *b)
{
    const struct xvf_layout_op *x = a, *y = b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->nsid < y->nsid ? -1 : x->nsid > y->nsid;
}

static void emit_ops(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    struct xvf_layout_op *op;
    char s[48];
    bool primary = false;
    unsigned int i, j;

    for (i = 0; i < st->nns; i++) {
        const struct xvf_layout_ns *ns = &st->ns[i];

        if (!pl->deleted[i])
            continue;
        for (j = 0; j < ns->natt; j++)
            emit_attach(pl, ns->nsid, ns->att[j], false, &primary);
        op = add_op(pl, XVF_LOP_DELETE, ns->nsid, 0);
        if (!op)
            return;
        xvf_layout_size_str(xvf_layout_ns_bytes(ns), s, sizeof(s));
        op_what(pl, op, "delete namespace %u (%s)", ns->nsid, s);
    }
    for (i = 0; i < pl->l->n; i++) {
        const struct want *w = &pl->w[i];

        if (w->create) {
            op = add_op(pl, XVF_LOP_CREATE, w->e->nsid, 0);
            if (!op)
                return;
            op->nsze = w->nsze;
            op->flbas = w->fmt;
            xvf_layout_size_str(w->nsze << w->lbads, s, sizeof(s));
            op_what(pl, op, "create namespace %u: %" PRIu64 " blocks of "
                    "%u B (%s), LBA format %u", w->e->nsid, w->nsze,
                    1u << w->lbads, s, w->fmt);
            for (j = 0; j < w->ntarget; j++) {
                xvf_plan_check_ctrl(pl, w->e->nsid, w->target[j],
                                    "attached");
                emit_attach(pl, w->e->nsid, w->target[j], true, &primary);
            }
            continue;
        }
        if (!w->cur || w->e->keep)
            continue;
        xvf_plan_check_attach(pl, w);
        if (!pl->attach_ok)
            continue;
        for (j = 0; j < w->cur->natt; j++)
            if (!xvf_plan_target_of(w, w->cur->att[j]))
                emit_attach(pl, w->e->nsid, w->cur->att[j], false,
                            &primary);
        for (j = 0; j < w->ntarget; j++)
            if (!xvf_layout_has_id(w->cur->att, w->cur->natt, w->target[j]))
                emit_attach(pl, w->e->nsid, w->target[j], true, &primary);
    }
    /* detach, delete, create, attach: each prefix is a state to plan from */
    qsort(pl->p->ops, pl->p->nops, sizeof(pl->p->ops[0]), cmp_op);
    if (!primary)
        return;
    op = add_op(pl, XVF_LOP_RESCAN, 0, st->cntlid);
    if (!op)
        return;
    op_what(pl, op, "ask the kernel to rescan the namespaces of %s "
            "(rescan_controller)", st->ctrl);
    xvf_plan_note(pl, XVF_LNOTE_INFO, "no reboot: the kernel learns of "
                  "attach and detach from the Namespace Attribute Changed "
                  "event, and the rescan covers a lost one; the run says if "
                  "a controller reset or a reboot is still needed");
}

int xvf_layout_plan(const struct xvf_layout_state *st,
                    const struct xvf_layout *l,
                    const struct xvf_layout_opts *o,
                    struct xvf_layout_plan *p, struct xvf_err *err)
{
    struct planner *pl;
    unsigned int i;
    int r;

    memset(p, 0, sizeof(*p));
    pl = calloc(1, sizeof(*pl));
    if (!pl)
        return xvf_err_set(err, -ENOMEM, "out of memory");
    pl->st = st;
    pl->l = l;
    pl->o = o;
    pl->p = p;
    pl->attach_ok = st->oacs & NVME_CTRL_OACS_NS_MGMT;
    pl->mgmt_ok = (st->nsmgmt == XVF_NSMGMT_YES ||
                   st->nsmgmt == XVF_NSMGMT_UNVERIFIED ||
                   (st->nsmgmt == XVF_NSMGMT_FAKE && o && o->trust_oacs)) &&
                  !(o && o->no_nsmgmt);
    if (st->nns > XVF_LAYOUT_MAX_NS || l->n > XVF_LAYOUT_MAX_NS) {
        r = xvf_err_set(err, -E2BIG, "too many namespaces");
        goto out;
    }
    r = xvf_plan_check_entries(pl, err);
    if (r)
        goto out;
    xvf_plan_set_capacity(pl);
    r = xvf_plan_sizes(pl, err);
    if (r)
        goto out;
    xvf_plan_matches(pl);
    if (pl->mgmt_ok) {
        xvf_plan_check_deletes(pl);
        xvf_plan_check_creates(pl);
    }
    plan_targets(pl);
    emit_ops(pl);
    if (!p->nops && !p->refused && !p->skipped)
        xvf_plan_note(pl, XVF_LNOTE_INFO, "nothing to do: %s already has "
                      "this layout", st->ctrl);
    for (i = 0; i < p->nops; i++)
        if (p->ops[i].kind == XVF_LOP_CREATE || p->ops[i].kind ==
            XVF_LOP_DELETE)
            break;
    if (i < p->nops && st->nsmgmt != XVF_NSMGMT_YES)
        xvf_plan_note(pl, XVF_LNOTE_INFO, "%s advertises Namespace "
                      "Management but %s; if it answers Invalid Command "
                      "Opcode the run does the attach part only", st->ctrl,
                      st->nsmgmt == XVF_NSMGMT_FAKE ?
                      "its effects log denies it (--trust-oacs)" :
                      "has no effects log to confirm it");
out:
    free(pl);
    return r;
}
