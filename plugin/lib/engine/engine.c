/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/class.h"
#include "util/str.h"

static const struct xvf_class_ops *class_of(enum xvf_class cls)
{
    switch (cls) {
    case XVF_CLASS_NVME:
        return &xvf_class_nvme;
    case XVF_CLASS_NET:
        return &xvf_class_net;
    }
    return NULL;
}

static const char *state_dir(const struct xvf_engine_config *cfg)
{
    return cfg->state_dir ? cfg->state_dir : XVF_STATE_DIR;
}

void xvf_engine_config_from_env(struct xvf_engine_config *cfg)
{
    const char *v;

    v = getenv("XEN_VF_STATE_DIR");
    if (v && *v)
        cfg->state_dir = v;
    v = getenv("XEN_VF_BRING_PF_UP");
    if (v && *v)
        cfg->bring_pf_up = !strcmp(v, "1") || !strcmp(v, "yes");
    v = getenv("XEN_VF_NET_NUMVFS");
    if (v && *v)
        cfg->net_numvfs = strtoul(v, NULL, 10);
    v = getenv("XEN_VF_LOCK_TIMEOUT_MS");
    if (v && *v)
        cfg->lock_timeout_ms = strtoul(v, NULL, 10);
    v = getenv("XEN_VF_HEALTH_TIMEOUT_MS");
    if (v && *v)
        cfg->health_timeout_ms = strtoul(v, NULL, 10);
}

#define OWNER_DOMAIN "domain:"
#define OWNER_DOMID_MAX 0x7fefu     /* below DOMID_FIRST_RESERVED */
#define OWNER_DEVID_MAX 0x7fffffffu

void xvf_owner_request(char *buf, size_t len, unsigned int domid,
                       unsigned int devid)
{
    snprintf(buf, len, OWNER_DOMAIN "%u/%u", domid, devid);
}

bool xvf_owner_parse(const char *owner, unsigned int *domid,
                     unsigned int *devid)
{
    char num[11];
    const char *p, *slash;
    unsigned long d, n = XVF_OWNER_ANY_DEVID;
    size_t len;

    if (strncmp(owner, OWNER_DOMAIN, strlen(OWNER_DOMAIN)))
        return false;
    p = owner + strlen(OWNER_DOMAIN);
    slash = strchr(p, '/');
    len = slash ? (size_t)(slash - p) : strlen(p);
    if (len >= sizeof(num))
        return false;
    memcpy(num, p, len);
    num[len] = '\0';
    if (xvf_parse_ulong(num, OWNER_DOMID_MAX, &d) ||
        (slash && xvf_parse_ulong(slash + 1, OWNER_DEVID_MAX, &n)))
        return false;
    *domid = d;
    *devid = n;
    return true;
}

void xvf_owner_describe(const char *owner, char *buf, size_t len)
{
    unsigned int domid, devid;

    if (!xvf_owner_parse(owner, &domid, &devid))
        snprintf(buf, len, "'%s'", owner);
    else if (devid == XVF_OWNER_ANY_DEVID)
        snprintf(buf, len, "domain %u", domid);
    else
        snprintf(buf, len, "domain %u (device %u)", domid, devid);
}

void xvf_run_step(const struct xvf_run *run, const char *name,
                  const char *fmt, ...)
{
    char detail[256];
    va_list ap;

    if (!run->cfg->step_cb)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    run->cfg->step_cb(run->cfg->opaque, name, detail);
}

int xvf_run_reload(struct xvf_run *run, struct xvf_err *err)
{
    int r;

    free(run->journal);
    run->journal = NULL;
    run->njournal = 0;
    r = xvf_journal_list(run->dir, run->pf, &run->journal, &run->njournal);
    if (r)
        return xvf_err_set(err, r, "cannot read the journal in %s: %s",
                           run->dir, strerror(-r));
    return 0;
}

int xvf_run_save(struct xvf_run *run, const struct xvf_entry *e,
                 struct xvf_err *err)
{
    int r = xvf_journal_save(run->dir, e);

    if (r)
        return xvf_err_set(err, r, "cannot write the journal in %s: %s",
                           run->dir, strerror(-r));
    return 0;
}

int xvf_run_begin(struct xvf_run *run, const struct xvf_entry *e,
                  unsigned int autoprobe, unsigned int numvfs,
                  struct xvf_err *err)
{
    struct xvf_pf_entry pfe;
    int r;

    r = xvf_journal_pf_load(run->dir, run->pf, &pfe);
    if (r == -ENOENT) {
        memset(&pfe, 0, sizeof(pfe));
        snprintf(pfe.pf, sizeof(pfe.pf), "%s", run->pf);
        pfe.autoprobe_orig = autoprobe;
        pfe.numvfs_orig = numvfs;
        r = xvf_journal_pf_save(run->dir, &pfe);
    }
    if (r)
        return xvf_err_set(err, r, "cannot write the journal in %s: %s",
                           run->dir, strerror(-r));
    return xvf_run_save(run, e, err);
}

int xvf_run_sriov_state(struct xvf_run *run, const char *name,
                        unsigned int *totalvfs, unsigned int *numvfs,
                        unsigned int *autoprobe, struct xvf_err *err)
{
    int r;

    r = xvf_sriov_totalvfs(run->pf, totalvfs);
    if (r == -EOPNOTSUPP)
        return xvf_err_set(err, r, "%s has no SR-IOV capability", name);
    if (!r)
        r = xvf_sriov_numvfs(run->pf, numvfs);
    if (!r)
        r = xvf_sriov_autoprobe(run->pf, autoprobe);
    if (r)
        return xvf_err_set(err, r, "cannot read SR-IOV state of %s: %s",
                           run->pf, strerror(-r));
    return 0;
}

void xvf_run_entry_init(const struct xvf_run *run, struct xvf_entry *e,
                        const struct xvf_spec *spec, const char *canonical,
                        const char *owner)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->spec, sizeof(e->spec), "%s", canonical);
    snprintf(e->owner, sizeof(e->owner), "%s", owner);
    snprintf(e->pf, sizeof(e->pf), "%s", run->pf);
    snprintf(e->driver, sizeof(e->driver), "%s", spec->driver);
    e->cls = spec->cls;
    e->state = XVF_ENTRY_PREPARING;
}

int xvf_run_autoprobe_off(struct xvf_run *run, struct xvf_err *err)
{
    unsigned int cur;
    int r;

    r = xvf_sriov_autoprobe(run->pf, &cur);
    if (!r && !cur)
        return 0;
    xvf_run_step(run, "autoprobe", "sriov_drivers_autoprobe = 0 on %s, so "
                 "no driver probes a VF before it is ready", run->pf);
    if (!r)
        r = xvf_sriov_set_autoprobe(run->pf, 0);
    if (r)
        return xvf_err_set(err, r, "cannot turn off "
                           "sriov_drivers_autoprobe of %s: %s", run->pf,
                           strerror(-r));
    return 0;
}

int xvf_run_set_numvfs(struct xvf_run *run, unsigned int cur,
                       unsigned int target, struct xvf_err *err)
{
    struct xvf_pf_entry pfe;
    int r;

    r = xvf_journal_pf_load(run->dir, run->pf, &pfe);
    if (!r && !pfe.numvfs_raised) {
        pfe.numvfs_raised = true;
        r = xvf_journal_pf_save(run->dir, &pfe);
    }
    if (r)
        return xvf_err_set(err, r, "cannot write the journal of %s: %s",
                           run->pf, strerror(-r));
    xvf_run_step(run, "numvfs", "sriov_numvfs %u -> %u on %s", cur, target,
                 run->pf);
    r = cur && target ? xvf_sriov_set_numvfs(run->pf, 0) : 0;
    if (!r)
        r = xvf_sriov_set_numvfs(run->pf, target);
    if (r)
        return xvf_err_set(err, r, "cannot set sriov_numvfs of %s to %u: "
                           "%s", run->pf, target, strerror(-r));
    return 0;
}

int xvf_run_vfs_busy(struct xvf_run *run, unsigned int upto,
                     const char *why, struct xvf_err *err)
{
    char vf[XVF_BDF_LEN], drv[64];
    unsigned int i;

    if (run->njournal)
        return xvf_err_set(err, -EBUSY, "%s of %s would remove VF %s, "
                           "which is given to %s", why, run->pf,
                           run->journal[0].vf, run->journal[0].owner);
    for (i = 1; i <= upto; i++)
        if (!xvf_sriov_vf_driver(run->pf, i, vf, drv, sizeof(drv)) &&
            drv[0])
            return xvf_err_set(err, -EBUSY, "%s of %s would remove VF %s, "
                               "which is bound to %s", why, run->pf, vf,
                               drv);
    return 0;
}

int xvf_run_bind(struct xvf_run *run, struct xvf_entry *e,
                 struct xvf_err *err)
{
    int r;

    e->steps |= XVF_STEP_BIND;
    r = xvf_run_save(run, e, err);
    if (r)
        return r;
    xvf_run_step(run, "bind", "bind %s to %s (driver_override + "
                 "drivers_probe)", e->vf, e->driver);
    r = xvf_pci_bind(e->vf, e->driver);
    if (r == -ENODEV)
        return xvf_err_set(err, r, "driver '%s' did not take %s (is it "
                           "loaded? for pciback: modprobe xen-pciback)",
                           e->driver, e->vf);
    if (r)
        return xvf_err_set(err, r, "cannot bind %s to %s: %s", e->vf,
                           e->driver, strerror(-r));
    return 0;
}

int xvf_run_unbind(struct xvf_run *run, const struct xvf_entry *e,
                   struct xvf_err *err)
{
    int r;

    if (!(e->steps & XVF_STEP_BIND) || !e->vf[0])
        return 0;
    xvf_run_step(run, "unbind", "unbind %s and clear driver_override",
                 e->vf);
    r = xvf_pci_unbind(e->vf);
    /* a VF that is gone is not bound either */
    if (r && r != -ENODEV)
        return xvf_err_set(err, r, "cannot unbind %s: %s", e->vf,
                           strerror(-r));
    return 0;
}

/* Gives the PF back what it had once no VF of it is journaled. */
static int finish_pf(struct xvf_run *run, struct xvf_err *err)
{
    struct xvf_pf_entry pfe;
    unsigned int cur;
    int r;

    r = xvf_run_reload(run, err);
    if (r || run->njournal)
        return r;
    r = xvf_journal_pf_load(run->dir, run->pf, &pfe);
    if (r == -ENOENT)
        return 0;
    if (r)
        return xvf_err_set(err, r, "cannot read the journal of %s: %s",
                           run->pf, strerror(-r));
    if (pfe.numvfs_raised && !xvf_sriov_numvfs(run->pf, &cur) &&
        cur != pfe.numvfs_orig) {
        r = xvf_run_set_numvfs(run, cur, pfe.numvfs_orig, err);
        if (r)
            return r;
    }
    if (!xvf_sriov_autoprobe(run->pf, &cur) && cur != pfe.autoprobe_orig) {
        xvf_run_step(run, "autoprobe", "sriov_drivers_autoprobe %u -> %u "
                     "on %s", cur, pfe.autoprobe_orig, run->pf);
        r = xvf_sriov_set_autoprobe(run->pf, pfe.autoprobe_orig);
        if (r)
            return xvf_err_set(err, r, "cannot restore "
                               "sriov_drivers_autoprobe of %s: %s",
                               run->pf, strerror(-r));
    }
    r = xvf_journal_pf_remove(run->dir, run->pf);
    if (r)
        return xvf_err_set(err, r, "cannot update the journal of %s: %s",
                           run->pf, strerror(-r));
    return 0;
}

int xvf_run_rollback(struct xvf_run *run, struct xvf_entry *e,
                     struct xvf_err *err)
{
    const struct xvf_class_ops *ops = class_of(e->cls);
    int r;

    e->state = XVF_ENTRY_RELEASING;
    r = xvf_run_save(run, e, err);
    if (r)
        return r;
    if (!ops)
        return xvf_err_set(err, -EOPNOTSUPP, "journal entry %s is of a "
                           "device class this version cannot release",
                           e->id);
    r = ops->undo(run, e, err);
    if (r)
        return r;
    r = xvf_journal_remove(run->dir, e);
    if (r)
        return xvf_err_set(err, r, "cannot remove journal entry %s: %s",
                           e->id, strerror(-r));
    return finish_pf(run, err);
}

static void fill_vf(struct xvf_vf *ret, const struct xvf_entry *e)
{
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->pf, sizeof(ret->pf), "%s", e->pf);
    snprintf(ret->vf, sizeof(ret->vf), "%s", e->vf);
    ret->scid = e->scid;
    ret->nsid = e->nsid;
}

int xvf_run_finish(struct xvf_run *run, struct xvf_entry *e, int r,
                   struct xvf_vf *ret, struct xvf_err *err)
{
    struct xvf_err rb = { 0 };

    if (!r) {
        e->state = XVF_ENTRY_READY;
        r = xvf_run_save(run, e, err);
    }
    if (!r) {
        fill_vf(ret, e);
        return 0;
    }
    if (xvf_run_rollback(run, e, &rb))
        xvf_err_append(err, "rollback failed too: %s", rb.msg);
    return r;
}

static int run_lock(struct xvf_run *run, const struct xvf_engine_config *cfg,
                    const char *pf, int *lock, struct xvf_err *err)
{
    unsigned int ms = cfg->lock_timeout_ms ? cfg->lock_timeout_ms :
                      XVF_LOCK_TIMEOUT_DEFAULT_MS;
    char comm[32];
    long pid;
    int r;

    memset(run, 0, sizeof(*run));
    run->cfg = cfg;
    run->dir = state_dir(cfg);
    snprintf(run->pf, sizeof(run->pf), "%s", pf);
    r = xvf_lock_pf_timed(run->dir, pf, ms, lock);
    if (r == -ETIMEDOUT) {
        if (xvf_lock_pf_holder(run->dir, pf, &pid, comm, sizeof(comm)))
            return xvf_err_set(err, r, "PF %s is busy: another process "
                               "held its lock (%s/lock-%s) for %u ms", pf,
                               run->dir, pf, ms);
        return xvf_err_set(err, r, "PF %s is busy: pid %ld (%s) held its "
                           "lock (%s/lock-%s) for %u ms", pf, pid,
                           comm[0] ? comm : "?", run->dir, pf, ms);
    }
    if (r)
        return xvf_err_set(err, r, "cannot lock %s in %s: %s", pf, run->dir,
                           strerror(-r));
    return xvf_run_reload(run, err);
}

static void run_unlock(struct xvf_run *run, int lock)
{
    free(run->journal);
    run->journal = NULL;
    xvf_unlock_pf(lock);
}

int xvf_prepare(const struct xvf_engine_config *cfg,
                const struct xvf_spec *spec, const char *owner,
                struct xvf_vf *ret, struct xvf_err *err)
{
    const struct xvf_class_ops *ops = class_of(spec->cls);
    char canonical[XVF_SPEC_MAX + 1], pf[XVF_BDF_LEN], holder[64];
    struct xvf_run run = { 0 };
    struct xvf_entry *e;
    unsigned int i;
    int lock = -1, r;

    if (!ops)
        return xvf_err_set(err, -EOPNOTSUPP, "device class %d is not "
                           "supported by this version of xen-vf",
                           spec->cls);
    r = xvf_spec_format(spec, canonical, sizeof(canonical));
    if (r)
        return xvf_err_set(err, r, "spec too long");
    r = ops->resolve(spec, pf, err);
    if (r)
        return r;
    r = run_lock(&run, cfg, pf, &lock, err);
    if (r)
        goto out;
    /* The same request again: its own VF. */
    for (i = 0; i < run.njournal; i++) {
        e = &run.journal[i];
        if (e->state == XVF_ENTRY_READY && !strcmp(e->spec, canonical) &&
            !strcmp(e->owner, owner)) {
            fill_vf(ret, e);
            goto out;
        }
    }
    for (i = 0; i < run.njournal; i++) {
        e = &run.journal[i];
        if (strcmp(e->spec, canonical))
            continue;
        if (e->state == XVF_ENTRY_READY) {
            /* A NIC spec is a pool: the class picks another VF. */
            if (spec->cls == XVF_CLASS_NET)
                continue;
            xvf_owner_describe(e->owner, holder, sizeof(holder));
            r = xvf_err_set(err, -EBUSY, "namespace %u of %s is held by "
                            "%s: VF %s", e->nsid, spec->target, holder,
                            e->vf);
            goto out;
        }
        /* Left behind by an interrupted run: undo it, then start over. */
        r = xvf_run_rollback(&run, e, err);
        if (r) {
            xvf_err_append(err, "while undoing an interrupted run for %s",
                           canonical);
            goto out;
        }
        break;
    }
    r = xvf_run_reload(&run, err);
    if (!r)
        r = ops->prepare(&run, spec, canonical, owner, ret, err);
out:
    run_unlock(&run, lock);
    return r;
}

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

    r = run_lock(&run, cfg, pf, &lock, err);
    while (!r) {
        for (i = 0; i < run.njournal; i++)
            if (entry_matches(m, &run.journal[i]))
                break;
        if (i == run.njournal) {
            /* A crash may have come between the last entry's removal
             * and the PF's restore. */
            if (m->how == MATCH_INTERRUPTED)
                r = finish_pf(&run, err);
            break;
        }
        /* Rollback rereads run.journal: work on a copy. */
        e = run.journal[i];
        r = xvf_run_rollback(&run, &e, err);
        if (!r) {
            (*done)++;
            r = xvf_run_reload(&run, err);
        }
    }
    run_unlock(&run, lock);
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
    r = candidate_pfs(state_dir(cfg), &m, &pfs, &npfs, err);
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
