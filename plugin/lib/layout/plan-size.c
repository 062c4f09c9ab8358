/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "layout/internal.h"

static const struct xvf_layout_lbaf *fmt_of(const struct xvf_layout_state *st,
                                            unsigned int i)
{
    return i < st->nlbaf ? &st->lbaf[i] : NULL;
}

static int choose_format(struct planner *pl, struct want *w,
                         struct xvf_err *err)
{
    const struct xvf_layout_state *st = pl->st;
    const struct xvf_layout_entry *e = w->e;
    unsigned int i;

    if (e->lbaf >= 0) {
        if (st->nlbaf && (unsigned int)e->lbaf >= st->nlbaf)
            return xvf_err_set(err, -EINVAL, "ns%u: lbaf=%d: %s has LBA "
                               "formats 0-%u", e->nsid, e->lbaf, st->ctrl,
                               st->nlbaf - 1);
        w->fmt = e->lbaf;
    } else if (e->lbads) {
        for (i = 0; i < st->nlbaf; i++)
            if (st->lbaf[i].lbads == e->lbads && !st->lbaf[i].ms)
                break;
        if (i == st->nlbaf)
            return xvf_err_set(err, -EINVAL, "ns%u: lba=%u: %s has no LBA "
                               "format of %u bytes without metadata",
                               e->nsid, 1u << e->lbads, st->ctrl,
                               1u << e->lbads);
        w->fmt = i;
    } else if (w->cur) {
        w->fmt = w->cur->flbas;
    } else {
        w->fmt = 0;     /* the guide's create-ns -f0 */
    }
    if (w->cur && w->fmt == w->cur->flbas)
        w->lbads = w->cur->lbads;
    else if (fmt_of(st, w->fmt))
        w->lbads = fmt_of(st, w->fmt)->lbads;
    else
        w->lbads = 9;
    return 0;
}

static uint64_t pct_of(uint64_t total, uint64_t hundredths)
{
    return total / 10000 * hundredths + total % 10000 * hundredths / 10000;
}

/* Blocks for @bytes in the format of @w, on the size granularity. */
static uint64_t round_blocks(struct planner *pl, struct want *w,
                             uint64_t blocks, const char *asked)
{
    const struct xvf_layout_state *st = pl->st;
    uint64_t bs = 1ULL << w->lbads, g = 1, out;
    char a[48], b[48], gs[48];

    if (st->nszeg > bs)
        g = (st->nszeg + bs - 1) / bs;
    out = blocks / g * g;
    if (!out)
        out = g;
    xvf_layout_size_str(out * bs, b, sizeof(b));
    if (out == blocks) {
        xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u: %s = %" PRIu64 " blocks of %"
                      PRIu64 " B (%s), no rounding", w->e->nsid, asked, out,
                      bs, b);
        return out;
    }
    xvf_layout_size_str(blocks * bs, a, sizeof(a));
    xvf_layout_size_str(g * bs, gs, sizeof(gs));
    xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u: %s = %s, rounded %s to %" PRIu64
                  " blocks of %" PRIu64 " B (%s), a multiple of the %s size "
                  "granularity%s", w->e->nsid, asked, a,
                  out > blocks ? "up" : "down", out, bs, b, gs,
                  st->nszeg ? " (NSZEG)" : " (the block size)");
    return out;
}

static void target_size(struct planner *pl, struct want *w, uint64_t rest)
{
    const struct xvf_layout_entry *e = w->e;
    uint64_t bs = 1ULL << w->lbads, bytes;
    char asked[96], c[48], r[48], pct[16];

    switch (e->size) {
    case XVF_LSIZE_ANY:
        w->nsze = w->cur ? w->cur->nsze : 0;
        return;
    case XVF_LSIZE_BLOCKS:
        snprintf(asked, sizeof(asked), "%" PRIu64 " blocks", e->amount);
        w->nsze = round_blocks(pl, w, e->amount, asked);
        return;
    case XVF_LSIZE_BYTES:
        bytes = e->amount;
        xvf_layout_size_exact(bytes, asked, sizeof(asked));
        if (bytes % bs)
            xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u: %s is not a multiple of "
                          "the %" PRIu64 " B block", e->nsid, asked, bs);
        break;
    case XVF_LSIZE_PERCENT:
        bytes = pct_of(pl->cap, e->amount);
        xvf_layout_size_str(pl->cap, c, sizeof(c));
        xvf_layout_pct_str(e->amount, pct, sizeof(pct));
        snprintf(asked, sizeof(asked), "%s of %s", pct, c);
        break;
    case XVF_LSIZE_REST:
    default:
        bytes = rest;
        xvf_layout_size_str(rest, r, sizeof(r));
        snprintf(asked, sizeof(asked), "the rest (%s)", r);
        break;
    }
    w->nsze = round_blocks(pl, w, bytes / bs, asked);
}

uint64_t xvf_plan_cap_bytes(const struct xvf_layout_state *st, uint64_t bytes)
{
    if (st->ncapg > 1)
        return (bytes + st->ncapg - 1) / st->ncapg * st->ncapg;
    return bytes;
}

void xvf_plan_set_capacity(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    char a[48], b[48];
    unsigned int i;
    uint64_t sum = 0;

    for (i = 0; i < st->nns; i++)
        sum += xvf_plan_cap_bytes(st, xvf_layout_ns_bytes(&st->ns[i]));
    if (st->tnvmcap) {
        pl->cap = st->tnvmcap;
        return;
    }
    pl->cap = sum;
    xvf_layout_size_str(sum, a, sizeof(a));
    snprintf(b, sizeof(b), "%u namespace%s", st->nns, st->nns == 1 ? "" :
             "s");
    xvf_plan_note(pl, XVF_LNOTE_INFO, "%s does not report its capacity "
                  "(TNVMCAP 0): taken as the %s its %s hold", st->ctrl, a, b);
}

int xvf_plan_sizes(struct planner *pl, struct xvf_err *err)
{
    const struct xvf_layout_state *st = pl->st;
    struct want *rest = NULL;
    uint64_t used = 0, left;
    unsigned int i;
    int r;

    for (i = 0; i < pl->l->n; i++) {
        struct want *w = &pl->w[i];

        w->e = &pl->l->e[i];
        w->cur = xvf_layout_state_ns((struct xvf_layout_state *)st,
                                     w->e->nsid);
        if (w->cur)
            pl->in_layout[w->cur - st->ns] = true;
        if (w->e->keep) {
            if (!w->cur)
                xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u: 'keep', but "
                              "namespace %u does not exist", w->e->nsid,
                              w->e->nsid);
            continue;
        }
        r = choose_format(pl, w, err);
        if (r)
            return r;
        if (w->e->size == XVF_LSIZE_ANY && !w->cur) {
            xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u: size 'any', but "
                          "namespace %u does not exist: give a size",
                          w->e->nsid, w->e->nsid);
            continue;
        }
        if (w->e->size == XVF_LSIZE_REST) {
            rest = w;
            continue;
        }
        target_size(pl, w, 0);
    }
    for (i = 0; i < pl->l->n; i++) {
        const struct want *w = &pl->w[i];

        if (w == rest)
            continue;
        if (w->e->keep || w->e->size == XVF_LSIZE_ANY)
            used += w->cur ?
                    xvf_plan_cap_bytes(st, xvf_layout_ns_bytes(w->cur)) : 0;
        else
            used += xvf_plan_cap_bytes(st, w->nsze << w->lbads);
    }
    if (rest) {
        left = pl->cap > used ? pl->cap - used : 0;
        if (left < (1ULL << rest->lbads))
            xvf_plan_note(pl, XVF_LNOTE_REFUSE, "ns%u: 'rest', but the other "
                          "namespaces leave nothing of the controller's "
                          "capacity", rest->e->nsid);
        else
            target_size(pl, rest, left);
    }
    return 0;
}

/* Why namespaces cannot be created or deleted here. */
static const char *mgmt_lack(const struct xvf_layout_state *st)
{
    return st->nsmgmt == XVF_NSMGMT_NO ? "not supported" : "not implemented";
}

static void describe_ns(const struct xvf_layout_ns *ns, char *buf,
                        size_t len)
{
    char s[48];

    xvf_layout_size_str(xvf_layout_ns_bytes(ns), s, sizeof(s));
    snprintf(buf, len, "%s, %u B blocks%s", s, 1u << ns->lbads,
             ns->ms ? " with metadata" : "");
}

void xvf_plan_matches(struct planner *pl)
{
    const struct xvf_layout_state *st = pl->st;
    char have[96], want[48];
    unsigned int i;

    for (i = 0; i < pl->l->n; i++) {
        struct want *w = &pl->w[i];

        if (w->e->keep || (w->e->size == XVF_LSIZE_ANY && !w->cur) ||
            (!w->nsze && w->e->size != XVF_LSIZE_ANY))
            continue;
        if (!w->cur) {
            if (pl->mgmt_ok)
                w->create = true;
            else {
                w->skipped = true;
                xvf_plan_note(pl, XVF_LNOTE_SKIP, "ns%u does not exist and "
                              "cannot be created: Namespace Management is %s",
                              w->e->nsid, mgmt_lack(st));
            }
            continue;
        }
        if (w->e->size == XVF_LSIZE_ANY ||
            (w->cur->nsze == w->nsze && w->cur->flbas == w->fmt))
            continue;
        describe_ns(w->cur, have, sizeof(have));
        xvf_layout_size_str(w->nsze << w->lbads, want, sizeof(want));
        if (!pl->mgmt_ok) {
            w->skipped = true;
            xvf_plan_note(pl, XVF_LNOTE_SKIP, "ns%u is %s; the layout wants "
                          "%s in %u B blocks, which takes deleting and "
                          "creating it, but Namespace Management is %s: left "
                          "as it is", w->e->nsid, have, want, 1u << w->lbads,
                          mgmt_lack(st));
            continue;
        }
        w->recreate = w->create = true;
        pl->deleted[w->cur - st->ns] = true;
        xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u is %s; the layout wants %s "
                      "in %u B blocks: it is deleted and created again",
                      w->e->nsid, have, want, 1u << w->lbads);
    }
    for (i = 0; i < st->nns; i++) {
        if (pl->in_layout[i])
            continue;
        if (pl->mgmt_ok) {
            pl->deleted[i] = true;
            xvf_plan_note(pl, XVF_LNOTE_INFO, "ns%u is not in the layout: it "
                          "is deleted", st->ns[i].nsid);
        } else {
            xvf_plan_note(pl, XVF_LNOTE_SKIP, "ns%u is not in the layout, "
                          "but cannot be deleted (Namespace Management %s): "
                          "left as it is", st->ns[i].nsid, mgmt_lack(st));
        }
    }
}
