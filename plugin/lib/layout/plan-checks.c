/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "layout/internal.h"

void xvf_plan_ctrl_name(const struct xvf_layout_state *st, uint16_t id,
                        char *buf, size_t len)
{
    const struct xvf_layout_sec *s = xvf_layout_state_sec(st, id);

    if (id == st->cntlid)
        snprintf(buf, len, "the primary controller 0x%x (%s)", id,
                 st->ctrl);
    else if (s)
        snprintf(buf, len, "secondary controller 0x%x (VF %u)", id, s->vfn);
    else
        snprintf(buf, len, "controller 0x%x", id);
}

static bool ns_in_use(const struct xvf_layout_ns *ns, char *buf, size_t len)
{
    const struct xvf_layout_use *u = &ns->use;
    char part[300];

    buf[0] = '\0';
    if (u->mounts[0]) {
        snprintf(part, sizeof(part), "mounted on %s", u->mounts);
        xvf_layout_append(buf, len, ", ", part);
    }
    if (u->swap)
        xvf_layout_append(buf, len, ", ", "used as swap");
    if (u->holders[0]) {
        snprintf(part, sizeof(part), "held by %s", u->holders);
        xvf_layout_append(buf, len, ", ", part);
    }
    if (u->openers[0]) {
        snprintf(part, sizeof(part), "open in %s", u->openers);
        xvf_layout_append(buf, len, ", ", part);
    }
    if (u->claimed && !u->mounts[0] && !u->swap && !u->holders[0])
        xvf_layout_append(buf, len, ", ", "claimed exclusively");
    return buf[0];
}

const char *xvf_plan_sec_busy(const struct xvf_layout_state *st, uint16_t id,
                              char *buf, size_t len)
{
    const struct xvf_layout_sec *s = xvf_layout_state_sec(st, id);

    if (!s || id == st->cntlid)
        return NULL;
    if (s->held[0])
        snprintf(buf, len, "secondary controller 0x%x is held by xen-vf "
                 "(%s): release it first", id, s->held);
    else if (s->online)
        snprintf(buf, len, "secondary controller 0x%x is online (VF %s%s%s)"
                 ": a guest or this domain may be using it", id,
                 s->vf[0] ? s->vf : "not enabled",
                 s->driver[0] ? ", driver " : "", s->driver);
    else if (s->driver[0])
        snprintf(buf, len, "the VF %s of secondary controller 0x%x is bound "
                 "to %s", s->vf, id, s->driver);
    else
        return NULL;
    return buf;
}

void xvf_plan_check_ctrl(struct planner *pl, uint32_t nsid, uint16_t id,
                         const char *verb)
{
    const struct xvf_layout_state *st = pl->st;
    char why[300], c[96];

    if (id != st->cntlid && !xvf_layout_state_sec(st, id)) {
        xvf_plan_ctrl_name(st, id, c, sizeof(c));
        xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u is attached to %s, which "
                      "is not a controller of this PF: left alone", nsid, c);
    } else if (xvf_plan_sec_busy(st, id, why, sizeof(why))) {
        xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u cannot be %s: %s", nsid,
                      verb, why);
    }
}

int xvf_plan_check_entries(struct planner *pl, struct xvf_err *err)
{
    const struct xvf_layout_state *st = pl->st;
    unsigned int i;

    for (i = 0; i < pl->l->n; i++) {
        const struct xvf_layout_entry *e = &pl->l->e[i];

        if (st->nn && e->nsid > st->nn)
            return xvf_err_set(err, -EINVAL, "ns%u: %s has namespace IDs "
                               "1-%u (NN)", e->nsid, st->ctrl, st->nn);
        if (e->attach == XVF_LATT_SECONDARY &&
            (e->scid == st->cntlid || !xvf_layout_state_sec(st, e->scid)))
            return xvf_err_set(err, -EINVAL, "ns%u: 0x%x is not a "
                               "secondary controller of %s%s", e->nsid,
                               e->scid, st->ctrl, st->nsec ? "" :
                               " (it has none)");
        if (e->attach == XVF_LATT_AUTO && !st->nsec)
            return xvf_err_set(err, -EINVAL, "ns%u: %s has no secondary "
                               "controllers (no SR-IOV, or no "
                               "Virtualization Management)", e->nsid,
                               st->ctrl);
    }
    return 0;
}

static bool destroy_allowed(const struct xvf_layout_opts *o, uint32_t nsid)
{
    unsigned int i;

    for (i = 0; o && i < o->ndestroy; i++)
        if (o->destroy[i] == nsid)
            return true;
    return false;
}

/* Deleting destroys data: only what is provably empty or named. */
void xvf_plan_check_deletes(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    char use[512];
    unsigned int i, j;
    bool found;

    for (i = 0; i < st->nns; i++) {
        const struct xvf_layout_ns *ns = &st->ns[i];

        if (!pl->deleted[i])
            continue;
        if (ns->held[0]) {
            xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u is held by xen-vf "
                          "(%s): release that VF first", ns->nsid, ns->held);
            continue;
        }
        if (ns_in_use(ns, use, sizeof(use))) {
            xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u is in use in this "
                          "domain as %s (%s): stop using it first; "
                          "--destroy-ns does not override this", ns->nsid,
                          ns->use.blockdev, use);
            continue;
        }
        for (j = 0; j < ns->natt; j++)
            xvf_plan_check_ctrl(pl, ns->nsid, ns->att[j], "deleted");
        if (ns->use.data == XVF_DATA_NONE) {
            xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u holds no data (NUSE 0): "
                          "deleting it needs no --destroy-ns", ns->nsid);
            continue;
        }
        if (destroy_allowed(pl->o, ns->nsid)) {
            xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u: --destroy-ns %u given: "
                          "its data (%s) is destroyed", ns->nsid, ns->nsid,
                          xvf_layout_data_str(ns->use.data));
            continue;
        }
        xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u%s%s%s may hold data (NUSE %"
                      PRIu64 ", data %s): deleting it destroys that; add "
                      "--destroy-ns %u to allow it", ns->nsid,
                      ns->use.blockdev[0] ? " (" : "", ns->use.blockdev,
                      ns->use.blockdev[0] ? " here)" : "", ns->nuse,
                      xvf_layout_data_str(ns->use.data), ns->nsid);
    }
    for (i = 0; pl->o && i < pl->o->ndestroy; i++) {
        uint32_t nsid = pl->o->destroy[i];

        found = false;
        for (j = 0; j < st->nns; j++)
            if (st->ns[j].nsid == nsid && pl->deleted[j])
                found = true;
        if (!found)
            xvf_plan_note(pl, XVF_LNOTE_INFO, "--destroy-ns %u: the plan "
                          "does not delete namespace %u; nothing to allow",
                          nsid, nsid);
    }
}

static bool nsid_taken(const struct planner *pl, uint32_t nsid)
{
    const struct xvf_layout_state *st = pl->st;
    unsigned int i;

    for (i = 0; i < st->nns; i++)
        if (st->ns[i].nsid == nsid && !pl->deleted[i])
            return true;
    for (i = 0; i < pl->l->n; i++)
        if (pl->w[i].create && pl->w[i].new_nsid == nsid)
            return true;
    return false;
}

/*
 * The controller picks the NSID of a new namespace; every controller seen
 * gives the lowest free one, so the creations run in ascending order and
 * each must get the NSID the layout names.
 */
void xvf_plan_check_creates(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    uint64_t need = 0, created = 0;
    char a[48], b[48];
    unsigned int i;
    uint32_t id;

    for (i = 0; i < pl->l->n; i++) {
        struct want *w = &pl->w[i];

        if (!w->create)
            continue;
        for (id = 1; nsid_taken(pl, id); id++)
            ;
        w->new_nsid = id;
        created += xvf_plan_cap_bytes(st, w->nsze << w->lbads);
        if (id != w->e->nsid)
            xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u: the controller gives "
                          "a new namespace the lowest free NSID, which is %u "
                          "here: name the new namespaces from NSID %u on, "
                          "without gaps", w->e->nsid, id, id);
    }
    if (!created)
        return;
    for (i = 0; i < st->nns; i++)
        if (!pl->deleted[i])
            need += xvf_plan_cap_bytes(st, xvf_layout_ns_bytes(&st->ns[i]));
    need += created;
    if (!st->tnvmcap) {
        xvf_plan_note(pl, XVF_LNOTE_INFO, "%s does not report its capacity: "
                      "whether the new namespaces fit is for it to say",
                      st->ctrl);
        return;
    }
    if (need > pl->cap) {
        xvf_layout_size_str(need, a, sizeof(a));
        xvf_layout_size_str(pl->cap, b, sizeof(b));
        xvf_plan_note(pl, XVF_LNOTE_REFUSE, "not enough capacity: the layout "
                      "needs %s, %s has %s (TNVMCAP)", a, st->ctrl, b);
    }
}

void xvf_plan_check_attach(struct planner *pl, const struct want *w)
{
    const struct xvf_layout_state *st = pl->st;
    const struct xvf_layout_ns *ns = w->cur;
    char use[512];
    unsigned int i;
    bool change = false;

    for (i = 0; i < ns->natt; i++)
        change |= !xvf_plan_target_of(w, ns->att[i]);
    for (i = 0; i < w->ntarget; i++)
        change |= !xvf_layout_has_id(ns->att, ns->natt, w->target[i]);
    if (!change)
        return;
    if (!pl->attach_ok) {
        xvf_plan_note(pl, XVF_LNOTE_SKIP, "ns%u: its attachments cannot "
                      "change: %s does not support Namespace Management",
                      ns->nsid, st->ctrl);
        return;
    }
    if (ns->held[0]) {
        xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u is held by xen-vf (%s): "
                      "release that VF before changing its attachments",
                      ns->nsid, ns->held);
        return;
    }
    for (i = 0; i < ns->natt; i++) {
        if (xvf_plan_target_of(w, ns->att[i]))
            continue;
        if (ns->att[i] == st->cntlid && ns_in_use(ns, use, sizeof(use)))
            xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u is in use in this "
                          "domain as %s (%s): it cannot be detached from the "
                          "primary controller; stop using it first", ns->nsid,
                          ns->use.blockdev, use);
        else
            xvf_plan_check_ctrl(pl, ns->nsid, ns->att[i], "detached");
    }
    for (i = 0; i < w->ntarget; i++)
        if (!xvf_layout_has_id(ns->att, ns->natt, w->target[i]))
            xvf_plan_check_ctrl(pl, ns->nsid, w->target[i], "attached");
}
