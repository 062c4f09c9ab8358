/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/class.h"
#include "engine/internal.h"
#include "util/clock.h"

enum match_how {
    MATCH_SPEC_OR_VF,
    MATCH_OWNER,
    MATCH_INTERRUPTED,
};

struct match {
    enum match_how how;
    const char *what;
    const char *owner;      /* for MATCH_SPEC_OR_VF: only this owner's */
    char canonical[XVF_SPEC_MAX + 1];
    char bdf[XVF_BDF_LEN];
};

static bool entry_matches(const struct match *m, const struct xvf_entry *e)
{
    switch (m->how) {
    case MATCH_INTERRUPTED:
        return e->state != XVF_ENTRY_READY;
    case MATCH_OWNER:
        return !strcmp(e->owner, m->what);
    case MATCH_SPEC_OR_VF:
        break;
    }
    if (m->owner && strcmp(e->owner, m->owner))
        return false;
    return m->canonical[0] ? !strcmp(e->spec, m->canonical)
                           : !strcmp(e->vf, m->bdf);
}

/*
 * Rolls back the entries of @pf that match @m, deciding on what is read
 * under the PF's lock: an unlocked read may predate a run that was still
 * working on the entry (a "preparing" entry may be ready by now).
 */
static int rollback_matching(const struct xvf_engine_config *cfg,
                             const char *pf, const struct match *m,
                             unsigned int *done, struct xvf_err *err)
{
    struct xvf_run run = { 0 };
    struct xvf_entry e;
    unsigned int i;
    int lock = -1, r;

    r = xvf_engine_lock(&run, cfg, pf, &lock, err);
    /* Reconcile ends keeping VFs enabled: a fresh start is a clean one. */
    run.cool = m->how == MATCH_INTERRUPTED;
    while (!r) {
        for (i = 0; i < run.njournal; i++)
            if (entry_matches(m, &run.journal[i]))
                break;
        if (i == run.njournal) {
            /* A crash may have come between the last entry's removal
             * and the PF's restore. */
            if (m->how == MATCH_INTERRUPTED)
                r = xvf_engine_finish_pf(&run, err);
            break;
        }
        /* Rollback rereads run.journal: work on a copy. */
        e = run.journal[i];
        run.keep_warm = !run.cool && e.state == XVF_ENTRY_READY;
        r = xvf_run_rollback(&run, &e, err);
        if (!r) {
            (*done)++;
            r = xvf_run_reload(&run, err);
        }
    }
    xvf_engine_unlock(&run, lock);
    return r;
}

/* Adds @pf to the set @pfs of @n unless it is there. */
static int add_pf(char (**pfs)[XVF_BDF_LEN], unsigned int *n, const char *pf)
{
    char (*tmp)[XVF_BDF_LEN];
    unsigned int i;

    for (i = 0; i < *n; i++)
        if (!strcmp((*pfs)[i], pf))
            return 0;
    tmp = realloc(*pfs, (*n + 1) * sizeof(**pfs));
    if (!tmp)
        return -ENOMEM;
    *pfs = tmp;
    snprintf(tmp[*n], sizeof(tmp[*n]), "%s", pf);
    (*n)++;
    return 0;
}

/*
 * PFs that may hold an entry matching @m and, for reconcile, those with
 * a PF entry. Read without any lock: a candidate list only, every decision
 * is made again under the PF's lock.
 */
static int candidate_pfs(const char *dir, const struct match *m,
                         char (**pfs)[XVF_BDF_LEN], unsigned int *npfs,
                         struct xvf_err *err)
{
    char (*pflist)[XVF_BDF_LEN] = NULL, bdf[XVF_BDF_LEN];
    struct xvf_entry *list = NULL;
    unsigned int i, n, npf = 0;
    int r;

    r = xvf_journal_list(dir, NULL, &list, &n);
    if (r)
        return xvf_err_set(err, r, "cannot read the journal in %s: %s", dir,
                           strerror(-r));
    for (i = 0; !r && i < n; i++)
        if (entry_matches(m, &list[i]))
            r = add_pf(pfs, npfs, list[i].pf);
    free(list);
    if (!r && m->how == MATCH_INTERRUPTED)
        r = xvf_journal_pf_list(dir, &pflist, &npf);
    for (i = 0; !r && i < npf; i++)
        if (!xvf_parse_bdf(pflist[i], bdf))
            r = add_pf(pfs, npfs, bdf);
    free(pflist);
    if (r)
        return xvf_err_set(err, r, "cannot read the journal in %s: %s", dir,
                           strerror(-r));
    return 0;
}

static int release_matching(const struct xvf_engine_config *cfg,
                            enum match_how how, const char *what,
                            const char *owner, struct xvf_err *err)
{
    struct match m = { .how = how, .what = what, .owner = owner };
    char (*pfs)[XVF_BDF_LEN] = NULL;
    unsigned int i, npfs = 0, done = 0;
    struct xvf_spec spec;
    int r;

    if (how == MATCH_SPEC_OR_VF) {
        if (!strncmp(what, XVF_SPEC_PREFIX, strlen(XVF_SPEC_PREFIX))) {
            r = xvf_spec_parse(what, &spec, err);
            if (r)
                return r;
            r = xvf_spec_format(&spec, m.canonical, sizeof(m.canonical));
            if (r)
                return xvf_err_set(err, r, "spec too long");
        } else if (xvf_parse_bdf(what, m.bdf)) {
            return xvf_err_set(err, -EINVAL, "'%s' is neither a vf: spec "
                               "nor a PCI address", what);
        }
    }
    r = candidate_pfs(xvf_engine_state_dir(cfg), &m, &pfs, &npfs, err);
    for (i = 0; !r && i < npfs; i++)
        r = rollback_matching(cfg, pfs[i], &m, &done, err);
    free(pfs);
    if (r)
        return r;
    if (!done && how == MATCH_SPEC_OR_VF)
        return xvf_err_set(err, -ENOENT, "no VF prepared for %s", what);
    return done;
}

int xvf_release(const struct xvf_engine_config *cfg, const char *what,
                struct xvf_err *err)
{
    int r = release_matching(cfg, MATCH_SPEC_OR_VF, what, NULL, err);

    return r < 0 ? r : 0;
}

int xvf_release_held(const struct xvf_engine_config *cfg, const char *what,
                     const char *owner, struct xvf_err *err)
{
    int r = release_matching(cfg, MATCH_SPEC_OR_VF, what, owner, err);

    return r < 0 ? r : 0;
}

int xvf_release_owner(const struct xvf_engine_config *cfg,
                      const char *owner, struct xvf_err *err)
{
    return release_matching(cfg, MATCH_OWNER, owner, NULL, err);
}

int xvf_reconcile(const struct xvf_engine_config *cfg, struct xvf_err *err)
{
    return release_matching(cfg, MATCH_INTERRUPTED, NULL, NULL, err);
}

/* Cools @pf if it is only kept warm and due (or @all); 1 when it did. */
static int cool_pf(const struct xvf_engine_config *cfg, const char *pf,
                   bool all, long long *next_ms, struct xvf_err *err)
{
    struct xvf_engine_config quick = *cfg;
    struct xvf_run run = { 0 };
    struct xvf_pf_entry pfe;
    int lock = -1, r;

    /*
     * Only a candidate test, decided again under the lock: a PF that is
     * not kept warm (most of them, and every PF at work) is not locked.
     */
    r = xvf_journal_pf_load(xvf_engine_state_dir(cfg), pf, &pfe);
    if (r || !pfe.warm_until)
        return 0;
    /* A PF someone holds is in use: look again soon, never block here. */
    quick.lock_timeout_ms = 100;
    r = xvf_engine_lock(&run, &quick, pf, &lock, err);
    if (r == -ETIMEDOUT) {
        if (!*next_ms || xvf_now_ms() + 1000 < *next_ms)
            *next_ms = xvf_now_ms() + 1000;
        r = 0;
        goto out;
    }
    if (r || run.njournal)
        goto out;
    r = xvf_journal_pf_load(run.dir, pf, &pfe);
    if (r == -ENOENT || (!r && !pfe.warm_until)) {
        r = 0;
        goto out;
    }
    if (r) {
        r = xvf_err_set(err, r, "cannot read the journal of %s: %s", pf,
                        strerror(-r));
        goto out;
    }
    if (!all && pfe.warm_until > xvf_now_ms()) {
        if (!*next_ms || pfe.warm_until < *next_ms)
            *next_ms = pfe.warm_until;
        goto out;
    }
    run.cool = true;
    xvf_run_step(&run, "cool", "VFs of %s kept enabled since the last "
                 "release: disabling them", pf);
    r = xvf_engine_finish_pf(&run, err);
    if (!r)
        r = 1;
out:
    xvf_engine_unlock(&run, lock);
    return r;
}

int xvf_engine_cool(const struct xvf_engine_config *cfg, bool all,
                    long long *next_ms, struct xvf_err *err)
{
    char (*pflist)[XVF_BDF_LEN] = NULL, bdf[XVF_BDF_LEN];
    const char *dir = xvf_engine_state_dir(cfg);
    unsigned int i, npf = 0;
    long long next = 0;
    int r, done = 0;

    r = xvf_journal_pf_list(dir, &pflist, &npf);
    if (r)
        r = xvf_err_set(err, r, "cannot read the journal in %s: %s", dir,
                        strerror(-r));
    for (i = 0; !r && i < npf; i++) {
        if (xvf_parse_bdf(pflist[i], bdf))
            continue;
        r = cool_pf(cfg, bdf, all, &next, err);
        if (r > 0) {
            done++;
            r = 0;
        }
    }
    free(pflist);
    if (next_ms)
        *next_ms = next;
    return r ? r : done;
}
