/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/class.h"
#include "engine/internal.h"
#include "util/clock.h"
#include "util/str.h"
#include "util/sysfs.h"

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

const char *xvf_engine_state_dir(const struct xvf_engine_config *cfg)
{
    return cfg->state_dir ? cfg->state_dir : XVF_STATE_DIR;
}

/* A number from the environment: absent or empty leaves *ret alone. */
static int env_ulong(const char *name, unsigned long max, unsigned int *ret,
                     struct xvf_err *err)
{
    const char *v = getenv(name);
    unsigned long n;

    if (!v || !*v)
        return 0;
    if (xvf_parse_ulong(v, max, &n))
        return xvf_err_set(err, -EINVAL, "%s='%s' is not a number from 0 "
                           "to %lu", name, v, max);
    *ret = n;
    return 0;
}

int xvf_engine_config_from_env(struct xvf_engine_config *cfg,
                               struct xvf_err *err)
{
    struct xvf_engine_config c = *cfg;
    const char *v;
    int r;

    v = getenv("XEN_VF_STATE_DIR");
    if (v && *v)
        c.state_dir = v;
    v = getenv("XEN_VF_BRING_PF_UP");
    if (v && *v) {
        if (!strcmp(v, "1") || !strcmp(v, "yes"))
            c.bring_pf_up = true;
        else if (!strcmp(v, "0") || !strcmp(v, "no"))
            c.bring_pf_up = false;
        else
            return xvf_err_set(err, -EINVAL, "XEN_VF_BRING_PF_UP='%s' is "
                               "not one of 1, yes, 0, no", v);
    }
    r = env_ulong("XEN_VF_NET_NUMVFS", XVF_NET_NUMVFS_MAX, &c.net_numvfs,
                  err);
    if (!r)
        r = env_ulong("XEN_VF_LOCK_TIMEOUT_MS", XVF_TIMEOUT_MAX_MS,
                      &c.lock_timeout_ms, err);
    if (!r)
        r = env_ulong("XEN_VF_HEALTH_TIMEOUT_MS", XVF_TIMEOUT_MAX_MS,
                      &c.health_timeout_ms, err);
    if (r)
        return r;
    *cfg = c;
    return 0;
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

/*
 * pciback resets every device it takes (an FLR: 100 ms and more), and
 * libxl resets the device again when it assigns it to the guest, before
 * the guest can see it (libxl__device_pci_reset(), in the domain whose
 * pciback holds it). Ours is fresh from the PF or was reset when its last
 * guest let it go, and no driver here had it: the first of the two
 * resets is the one that goes.
 */
static bool bind_without_reset(const struct xvf_entry *e)
{
    char path[PATH_MAX], caps[64];

    /*
     * Only where libxl adds the device: the control domain. A separate
     * driver domain keeps pciback's reset, whatever its toolstack does.
     */
    return !strcmp(e->driver, "pciback") &&
           !xvf_path(path, sizeof(path), "/proc/xen/capabilities") &&
           !xvf_sysfs_read(path, caps, sizeof(caps)) &&
           strstr(caps, "control_d");
}

int xvf_run_bind(struct xvf_run *run, struct xvf_entry *e,
                 struct xvf_err *err)
{
    int r, off = 0, on;

    e->steps |= XVF_STEP_BIND;
    if (bind_without_reset(e))
        e->steps |= XVF_STEP_NORESET;
    r = xvf_run_save(run, e, err);
    if (r)
        return r;
    if (e->steps & XVF_STEP_NORESET) {
        off = xvf_pci_reset_off(e->vf);
        if (off < 0)
            return xvf_err_set(err, off, "cannot take the reset methods "
                               "of %s away for pciback's bind: %s", e->vf,
                               strerror(-off));
    }
    xvf_run_step(run, "bind", "bind %s to %s (driver_override + "
                 "drivers_probe)%s", e->vf, e->driver,
                 off > 0 ? " without pciback's reset: libxl resets it "
                 "when it assigns it" : "");
    r = xvf_pci_bind(e->vf, e->driver);
    on = off > 0 ? xvf_pci_reset_on(e->vf) : 0;
    if (on && !r)
        return xvf_err_set(err, on, "cannot give %s its reset methods "
                           "back (reset_method): %s", e->vf,
                           strerror(-on));
    if (r == -ENODEV)
        return xvf_err_set(err, r, "driver '%s' did not take %s (is it "
                           "loaded? for pciback: modprobe xen-pciback)",
                           e->driver, e->vf);
    if (r)
        return xvf_err_set(err, r, "cannot bind %s to %s: %s", e->vf,
                           e->driver, strerror(-r));
    return xvf_run_wait_probe(run, e, err);
}

int xvf_run_unbind(struct xvf_run *run, const struct xvf_entry *e,
                   struct xvf_err *err)
{
    int r, on = 0;

    if (!(e->steps & XVF_STEP_BIND) || !e->vf[0])
        return 0;
    /*
     * pciback resets what it lets go, too: libxl reset the VF when the
     * guest let it go and resets it again before the next guest has it.
     * Failing to skip that reset only costs its time.
     */
    if (e->steps & XVF_STEP_NORESET)
        xvf_pci_reset_off(e->vf);
    xvf_run_step(run, "unbind", "unbind %s and clear driver_override",
                 e->vf);
    r = xvf_pci_unbind(e->vf);
    /* also what a run that died in its bind left */
    if (e->steps & XVF_STEP_NORESET)
        on = xvf_pci_reset_on(e->vf);
    /* a VF that is gone is not bound either */
    if (r && r != -ENODEV)
        return xvf_err_set(err, r, "cannot unbind %s: %s", e->vf,
                           strerror(-r));
    if (on)
        return xvf_err_set(err, on, "cannot give %s its reset methods "
                           "back (reset_method): %s", e->vf, strerror(-on));
    return 0;
}

/* The first of VFs 1..@upto that has a driver, in @vf and @drv. */
static bool vf_bound(const struct xvf_run *run, unsigned int upto,
                     char vf[XVF_BDF_LEN], char *drv, size_t len)
{
    unsigned int i;

    for (i = 1; i <= upto; i++)
        if (!xvf_sriov_vf_driver(run->pf, i, vf, drv, len) && drv[0])
            return true;
    return false;
}

/* Gives the PF back what it had once no VF of it is journaled. */
int xvf_engine_finish_pf(struct xvf_run *run, struct xvf_err *err)
{
    char vf[XVF_BDF_LEN], drv[64];
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
    if (pfe.numvfs_raised && run->cfg->keep_vfs_ms && !run->cool &&
        (run->keep_warm || pfe.warm_until > xvf_now_ms())) {
        if (!run->keep_warm)
            return 0;
        pfe.warm_until = xvf_now_ms() + run->cfg->keep_vfs_ms;
        xvf_run_step(run, "keep-vfs", "VFs of %s stay enabled for %u ms",
                     run->pf, run->cfg->keep_vfs_ms);
        r = xvf_journal_pf_save(run->dir, &pfe);
        if (r)
            return xvf_err_set(err, r, "cannot update the journal of %s: "
                               "%s", run->pf, strerror(-r));
        return 0;
    }
    if (pfe.numvfs_raised && !xvf_sriov_numvfs(run->pf, &cur) &&
        cur != pfe.numvfs_orig) {
        /*
         * Lowering the count removes every VF, also one DomD bound
         * outside xen-vf (pciback: the kernel's "Cannot modify SR-IOV
         * while VFs are assigned"); keep the record for a later release
         * or reconcile to finish.
         */
        if (vf_bound(run, cur, vf, drv, sizeof(drv))) {
            xvf_run_step(run, "numvfs-kept", "sriov_numvfs of %s stays %u "
                         "(not back to %u): VF %s is bound to %s outside "
                         "xen-vf; reconcile restores it once no VF is "
                         "bound", run->pf, cur, pfe.numvfs_orig, vf, drv);
            return 0;
        }
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
    return xvf_engine_finish_pf(run, err);
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
    /* A PF that just failed is not one to keep VFs enabled on. */
    run->cool = true;
    if (xvf_run_rollback(run, e, &rb))
        xvf_err_append(err, "rollback failed too: %s", rb.msg);
    return r;
}

int xvf_engine_lock_pf(const char *dir, const char *pf,
                       unsigned int timeout_ms, int *lock,
                       struct xvf_err *err)
{
    unsigned int ms = timeout_ms ? timeout_ms : XVF_LOCK_TIMEOUT_DEFAULT_MS;
    char comm[32];
    long pid;
    int r;

    r = xvf_lock_pf_timed(dir, pf, ms, lock);
    if (r == -ETIMEDOUT) {
        if (xvf_lock_pf_holder(dir, pf, &pid, comm, sizeof(comm)))
            return xvf_err_set(err, r, "PF %s is busy: another process "
                               "held its lock (%s/lock-%s) for %u ms", pf,
                               dir, pf, ms);
        return xvf_err_set(err, r, "PF %s is busy: pid %ld (%s) held its "
                           "lock (%s/lock-%s) for %u ms", pf, pid,
                           comm[0] ? comm : "?", dir, pf, ms);
    }
    if (r)
        return xvf_err_set(err, r, "cannot lock %s in %s: %s", pf, dir,
                           strerror(-r));
    return 0;
}

int xvf_engine_lock(struct xvf_run *run, const struct xvf_engine_config *cfg,
                    const char *pf, int *lock, struct xvf_err *err)
{
    int r;

    memset(run, 0, sizeof(*run));
    run->cfg = cfg;
    run->dir = xvf_engine_state_dir(cfg);
    snprintf(run->pf, sizeof(run->pf), "%s", pf);
    r = xvf_engine_lock_pf(run->dir, pf, cfg->lock_timeout_ms, lock, err);
    if (r)
        return r;
    return xvf_run_reload(run, err);
}

void xvf_engine_unlock(struct xvf_run *run, int lock)
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
    r = xvf_engine_lock(&run, cfg, pf, &lock, err);
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
    xvf_engine_unlock(&run, lock);
    return r;
}
