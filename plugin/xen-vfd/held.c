/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "engine/engine.h"
#include "engine/journal.h"
#include "util/clock.h"
#include "vfd-priv.h"
#include "xen/protocol.h"
#include "xen/xs.h"

/* what the last check found, so each loss is logged once */
static char reported[XVF_LOST_MAX][48 + 16 + 2];
static unsigned int nreported;
static long long last_check_ms;

struct lost_ctx {
    struct vfd *d;
    unsigned int domid, devid;
    const struct xvf_lost *l;
};

/* ready with this VF -> error saying why; anything else is left alone */
static int mark_lost_txn(struct xs_handle *xsh, xs_transaction_t t,
                         void *opaque)
{
    const struct lost_ctx *c = opaque;
    char path[XVF_PROTO_PATH_MAX], msg[XVF_PROTO_ERROR_MAX + 1];
    char line[sizeof(c->l->why) + 64];
    char *state, *bdf;
    int r = 1;

    xvf_proto_request_path(path, sizeof(path), c->d->domd, c->domid,
                           c->devid, XVF_PROTO_STATE);
    state = xvf_xs_read(xsh, t, path);
    xvf_proto_request_path(path, sizeof(path), c->d->domd, c->domid,
                           c->devid, XVF_PROTO_BDF);
    bdf = xvf_xs_read(xsh, t, path);
    if (state && bdf &&
        !strcmp(state, xvf_proto_state_name(XVF_PS_READY)) &&
        !strcmp(bdf, c->l->vf)) {
        snprintf(line, sizeof(line), "VF lost: %s", c->l->why);
        xvf_proto_clean_error(msg, line);
        xvf_proto_request_path(path, sizeof(path), c->d->domd, c->domid,
                               c->devid, XVF_PROTO_ERROR);
        r = xs_write(xsh, t, path, msg, strlen(msg)) ? 0 : -errno;
        xvf_proto_request_path(path, sizeof(path), c->d->domd, c->domid,
                               c->devid, XVF_PROTO_STATE);
        if (!r)
            r = xs_write(xsh, t, path, xvf_proto_state_name(XVF_PS_ERROR),
                         strlen(xvf_proto_state_name(XVF_PS_ERROR))) ?
                0 : -errno;
    }
    free(state);
    free(bdf);
    return r;
}

static bool was_reported(const char *key)
{
    unsigned int i;

    for (i = 0; i < nreported; i++)
        if (!strcmp(reported[i], key))
            return true;
    return false;
}

void vfd_note_held(struct vfd *d)
{
    struct xvf_entry *list = NULL;
    unsigned int n = 0;

    last_check_ms = xvf_now_ms();
    if (xvf_journal_list(d->cfg.state_dir, NULL, &list, &n)) {
        d->held = true;
        return;
    }
    d->held = n > 0;
    free(list);
}

void vfd_check_held(struct vfd *d)
{
    static struct xvf_lost lost[XVF_LOST_MAX];
    char now[XVF_LOST_MAX][sizeof(reported[0])];
    struct lost_ctx c = { .d = d };
    struct xvf_err err = { 0 };
    unsigned int i, n = 0;
    int r;

    /* Nothing held: the loop need not wake up until a request comes. */
    vfd_note_held(d);
    if (!d->held)
        return;
    if (xvf_check_held(&d->cfg, lost, &n, &err)) {
        vfd_log(LOG_WARNING, "checking the held VFs: %s", err.msg);
        return;
    }
    for (i = 0; i < n; i++) {
        snprintf(now[i], sizeof(now[i]), "%s %s", lost[i].owner,
                 lost[i].vf);
        if (was_reported(now[i]))
            continue;
        vfd_log(LOG_ERR, "%s, held for %s (%s): %s", lost[i].vf,
                lost[i].owner, lost[i].spec, lost[i].why);
        c.l = &lost[i];
        if (!xvf_owner_parse(lost[i].owner, &c.domid, &c.devid) ||
            c.devid == XVF_OWNER_ANY_DEVID)
            continue;
        r = xvf_xs_txn(d->xsh, mark_lost_txn, &c);
        if (!r)
            vfd_log(LOG_NOTICE, "request %u/%u: state error (VF lost)",
                    c.domid, c.devid);
        else if (r < 0)
            vfd_log(LOG_WARNING, "request %u/%u: cannot mark it: %s",
                    c.domid, c.devid, strerror(-r));
    }
    memcpy(reported, now, sizeof(now[0]) * n);
    nreported = n;
}

void vfd_check_held_due(struct vfd *d, unsigned int interval_ms)
{
    if (xvf_now_ms() - last_check_ms >= (long long)interval_ms)
        vfd_check_held(d);
}
