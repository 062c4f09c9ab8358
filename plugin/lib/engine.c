/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "journal.h"
#include "nvme.h"
#include "sriov.h"

#define MIN_VQ 2    /* admin queue + one I/O queue */
#define MIN_VI 1

struct nvme_run {
    const struct xvf_engine_config *cfg;
    struct xvf_nvme_pf pf;
    int fd;
    struct xvf_nvme_caps caps;
    struct xvf_nvme_secondary sec[XVF_NVME_MAX_SECONDARIES];
    unsigned int nsec;
    struct xvf_entry *journal;  /* entries of this PF */
    unsigned int njournal;
};

static void step(const struct nvme_run *run, const char *name,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void step(const struct nvme_run *run, const char *name,
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

static const char *state_dir(const struct xvf_engine_config *cfg)
{
    return cfg->state_dir ? cfg->state_dir : XVF_STATE_DIR;
}

static const struct xvf_entry *journal_find_scid(const struct nvme_run *run,
                                                 uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < run->njournal; i++)
        if (run->journal[i].scid == scid)
            return &run->journal[i];
    return NULL;
}

static struct xvf_nvme_secondary *find_secondary(struct nvme_run *run,
                                                 uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < run->nsec; i++)
        if (run->sec[i].scid == scid)
            return &run->sec[i];
    return NULL;
}

static int journal_reload(struct nvme_run *run)
{
    free(run->journal);
    run->journal = NULL;
    return xvf_journal_list(state_dir(run->cfg), run->pf.bdf, &run->journal,
                            &run->njournal);
}

static int run_open(struct nvme_run *run, struct xvf_err *err)
{
    int r;

    r = xvf_nvme_open(&run->pf, &run->fd, err);
    if (r)
        return r;
    r = xvf_nvme_caps(run->fd, &run->caps, err);
    if (r)
        return r;
    return xvf_nvme_secondaries(run->fd, run->caps.cntlid, run->sec,
                                &run->nsec, err);
}

static void run_close(struct nvme_run *run)
{
    if (run->fd >= 0)
        close(run->fd);
    run->fd = -1;
    free(run->journal);
    run->journal = NULL;
}

/*
 * Gives the PF back its sriov_numvfs and autoprobe once no VF of it is
 * journaled any more.
 */
static int finish_pf(struct nvme_run *run, struct xvf_err *err)
{
    const char *dir = state_dir(run->cfg);
    struct xvf_pf_entry pfe;
    unsigned int cur;
    int r;

    r = journal_reload(run);
    if (r)
        return xvf_err_set(err, r, "cannot read journal in %s: %s", dir,
                           strerror(-r));
    if (run->njournal)
        return 0;
    r = xvf_journal_pf_load(dir, run->pf.bdf, &pfe);
    if (r == -ENOENT)
        return 0;
    if (r)
        return xvf_err_set(err, r, "cannot read journal of PF %s: %s",
                           run->pf.bdf, strerror(-r));
    if (pfe.numvfs_raised && !xvf_sriov_numvfs(run->pf.bdf, &cur) &&
        cur != pfe.numvfs_orig) {
        step(run, "numvfs", "sriov_numvfs %u -> %u on %s", cur,
             pfe.numvfs_orig, run->pf.bdf);
        r = xvf_sriov_set_numvfs(run->pf.bdf, 0);
        if (!r && pfe.numvfs_orig)
            r = xvf_sriov_set_numvfs(run->pf.bdf, pfe.numvfs_orig);
        if (r)
            return xvf_err_set(err, r, "cannot set sriov_numvfs of %s "
                               "back to %u: %s", run->pf.bdf,
                               pfe.numvfs_orig, strerror(-r));
    }
    if (!xvf_sriov_autoprobe(run->pf.bdf, &cur) &&
        cur != pfe.autoprobe_orig) {
        step(run, "autoprobe", "sriov_drivers_autoprobe %u -> %u on %s",
             cur, pfe.autoprobe_orig, run->pf.bdf);
        r = xvf_sriov_set_autoprobe(run->pf.bdf, pfe.autoprobe_orig);
        if (r)
            return xvf_err_set(err, r, "cannot restore "
                               "sriov_drivers_autoprobe of %s: %s",
                               run->pf.bdf, strerror(-r));
    }
    return xvf_journal_pf_remove(dir, run->pf.bdf);
}

/*
 * Undoes the steps of @e in reverse. Keeps going after a failure so as
 * much as possible is undone, and reports the first failure.
 */
static int rollback_entry(struct nvme_run *run, struct xvf_entry *e,
                          struct xvf_err *err)
{
    const char *dir = state_dir(run->cfg);
    int r, rc = 0;

    e->state = XVF_ENTRY_RELEASING;
    r = xvf_journal_save(dir, e);
    if (r)
        return xvf_err_set(err, r, "cannot write journal in %s: %s", dir,
                           strerror(-r));
    if ((e->steps & XVF_STEP_BIND) && e->vf[0]) {
        step(run, "unbind", "unbind %s and clear driver_override", e->vf);
        r = xvf_pci_unbind(e->vf);
        if (r && r != -ENODEV && !rc)
            rc = xvf_err_set(err, r, "cannot unbind %s: %s", e->vf,
                             strerror(-r));
    }
    if (e->steps & XVF_STEP_ATTACH) {
        step(run, "detach", "detach namespace %u from secondary 0x%x",
             e->nsid, e->scid);
        r = xvf_nvme_ns_attach(run->fd, e->nsid, e->scid, false, err);
        if (r == -ENOENT)
            xvf_err_clear(rc ? NULL : err);
        else if (r && !rc)
            rc = r;
    }
    if (e->steps & (XVF_STEP_ASSIGN | XVF_STEP_ONLINE)) {
        step(run, "offline", "secondary 0x%x offline (frees its VQ/VI)",
             e->scid);
        r = xvf_nvme_virt_mgmt(run->fd, NVME_VIRT_MGMT_ACT_OFFLINE_SEC_CTRL,
                               0, e->scid, 0, err);
        if (r && !rc)
            rc = r;
    }
    if (rc)
        return rc;
    r = xvf_journal_remove(dir, e);
    if (r)
        return xvf_err_set(err, r, "cannot remove journal entry %s: %s",
                           e->id, strerror(-r));
    return finish_pf(run, err);
}

static int check_namespace(struct nvme_run *run, uint32_t nsid,
                           struct xvf_nvme_secondary **pre_attached,
                           struct xvf_err *err)
{
    uint16_t ids[NVME_ID_CTRL_LIST_MAX];
    struct xvf_nvme_secondary *sec;
    const struct xvf_entry *holder;
    unsigned int i, n;
    bool exists;
    int r;

    *pre_attached = NULL;
    r = xvf_nvme_ns_exists(run->fd, nsid, &exists, err);
    if (r)
        return r;
    if (!exists)
        return xvf_err_set(err, -ENODEV, "namespace %u does not exist on "
                           "%s", nsid, run->pf.ctrl);
    r = xvf_nvme_ns_ctrls(run->fd, nsid, ids, &n, err);
    if (r)
        return r;
    for (i = 0; i < n; i++) {
        if (ids[i] == run->caps.cntlid)
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "the primary controller 0x%x of %s: the "
                               "driver domain uses it; detach it there "
                               "first", nsid, ids[i], run->pf.ctrl);
        sec = find_secondary(run, ids[i]);
        if (!sec)
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "controller 0x%x, which is not a secondary "
                               "of %s", nsid, ids[i], run->pf.ctrl);
        holder = journal_find_scid(run, sec->scid);
        if (holder)
            return xvf_err_set(err, -EBUSY, "namespace %u is already "
                               "given to %s (VF %s, secondary 0x%x)", nsid,
                               holder->owner, holder->vf, sec->scid);
        if (sec->online)
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "secondary controller 0x%x, which is online "
                               "outside xen-vf", nsid, sec->scid);
        *pre_attached = sec;
    }
    return 0;
}

static bool secondary_free(struct nvme_run *run,
                           const struct xvf_nvme_secondary *sec,
                           unsigned int totalvfs)
{
    char vf[XVF_BDF_LEN], drv[64];

    if (sec->online || !sec->vfn || sec->vfn > totalvfs ||
        journal_find_scid(run, sec->scid))
        return false;
    if (!xvf_sriov_virtfn(run->pf.bdf, sec->vfn, vf) &&
        !xvf_pci_driver(vf, drv, sizeof(drv)) && drv[0])
        return false;
    return true;
}

static int check_resources(struct nvme_run *run, const struct xvf_spec *spec,
                           const struct xvf_nvme_secondary *chosen,
                           struct xvf_err *err)
{
    uint32_t vq_used = 0, vi_used = 0, vq_free, vi_free;
    unsigned int i;

    if (spec->vq < MIN_VQ || spec->vi < MIN_VI)
        return xvf_err_set(err, -EINVAL, "a secondary controller needs at "
                           "least %u VQ (admin + I/O) and %u VI resources, "
                           "asked for vq=%u vi=%u", MIN_VQ, MIN_VI,
                           spec->vq, spec->vi);
    if (spec->vq > run->caps.vq_max)
        return xvf_err_set(err, -ENOSPC, "vq=%u is more than the %u "
                           "flexible VQ resources %s gives one secondary "
                           "(VQFRSM)", spec->vq, run->caps.vq_max,
                           run->pf.ctrl);
    if (spec->vi > run->caps.vi_max)
        return xvf_err_set(err, -ENOSPC, "vi=%u is more than the %u "
                           "flexible VI resources %s gives one secondary "
                           "(VIFRSM)", spec->vi, run->caps.vi_max,
                           run->pf.ctrl);
    for (i = 0; i < run->nsec; i++) {
        if (&run->sec[i] == chosen)
            continue;
        vq_used += run->sec[i].nvq;
        vi_used += run->sec[i].nvi;
    }
    vq_used += run->caps.vq_primary;
    vi_used += run->caps.vi_primary;
    vq_free = run->caps.vq_total > vq_used ? run->caps.vq_total - vq_used : 0;
    vi_free = run->caps.vi_total > vi_used ? run->caps.vi_total - vi_used : 0;
    if (spec->vq > vq_free || spec->vi > vi_free)
        return xvf_err_set(err, -ENOSPC, "not enough free flexible "
                           "resources on %s: asked vq=%u vi=%u, free %u VQ "
                           "and %u VI", run->pf.ctrl, spec->vq, spec->vi,
                           vq_free, vi_free);
    return 0;
}

/* How many VFs to enable, or 0 to leave sriov_numvfs alone. */
static int plan_numvfs(struct nvme_run *run, unsigned int vfn,
                       unsigned int totalvfs, unsigned int cur,
                       unsigned int *target, struct xvf_err *err)
{
    char vf[XVF_BDF_LEN], drv[64];
    unsigned int i, want = 0;

    *target = 0;
    if (cur >= vfn)
        return 0;
    /*
     * Changing a non-zero count goes through 0, which removes every VF, so
     * enable in one go all the VFs this PF has secondaries for.
     */
    for (i = 0; i < run->nsec; i++)
        if (run->sec[i].vfn > want && run->sec[i].vfn <= totalvfs)
            want = run->sec[i].vfn;
    if (want < vfn)
        want = vfn;
    if (cur) {
        if (run->njournal)
            return xvf_err_set(err, -EBUSY, "VF %u of %s needs "
                               "sriov_numvfs >= %u, but %u VFs are enabled "
                               "and some are in use; changing the count "
                               "would remove them", vfn, run->pf.bdf, vfn,
                               cur);
        for (i = 1; i <= cur; i++)
            if (!xvf_sriov_virtfn(run->pf.bdf, i, vf) &&
                !xvf_pci_driver(vf, drv, sizeof(drv)) && drv[0])
                return xvf_err_set(err, -EBUSY, "VF %u of %s needs "
                                   "sriov_numvfs >= %u, but VF %s is bound "
                                   "to %s; changing the count would remove "
                                   "it", vfn, run->pf.bdf, vfn, vf, drv);
    }
    *target = want;
    return 0;
}

static int nvme_prepare(struct nvme_run *run, const struct xvf_spec *spec,
                        const char *canonical, const char *owner,
                        struct xvf_vf *ret, struct xvf_err *err)
{
    const char *dir = state_dir(run->cfg);
    struct xvf_nvme_secondary *sec = NULL, *pre_attached;
    unsigned int totalvfs, numvfs, autoprobe, target, i;
    struct xvf_pf_entry pfe;
    struct xvf_entry e;
    uint16_t cntlid, oacs;
    int r;

    r = xvf_sriov_totalvfs(run->pf.bdf, &totalvfs);
    if (r == -EOPNOTSUPP)
        return xvf_err_set(err, r, "%s (%s) has no SR-IOV capability",
                           run->pf.ctrl, run->pf.bdf);
    if (!r)
        r = xvf_sriov_numvfs(run->pf.bdf, &numvfs);
    if (!r)
        r = xvf_sriov_autoprobe(run->pf.bdf, &autoprobe);
    if (r)
        return xvf_err_set(err, r, "cannot read SR-IOV state of %s: %s",
                           run->pf.bdf, strerror(-r));

    r = xvf_nvme_open(&run->pf, &run->fd, err);
    if (r)
        return r;
    r = xvf_nvme_id_ctrl(run->fd, &cntlid, &oacs, err);
    if (r)
        return r;
    if (!(oacs & NVME_CTRL_OACS_VIRT_MGMT))
        return xvf_err_set(err, -EOPNOTSUPP, "%s does not support "
                           "Virtualization Management (OACS 0x%x)",
                           run->pf.ctrl, oacs);
    r = xvf_nvme_caps(run->fd, &run->caps, err);
    if (r)
        return r;
    r = xvf_nvme_secondaries(run->fd, run->caps.cntlid, run->sec,
                             &run->nsec, err);
    if (r)
        return r;
    if (!run->nsec)
        return xvf_err_set(err, -EOPNOTSUPP, "%s has no secondary "
                           "controllers", run->pf.ctrl);
    step(run, "identify", "%s at %s: primary 0x%x, %u secondaries, "
         "flexible VQ %u VI %u", run->pf.ctrl, run->pf.bdf,
         run->caps.cntlid, run->nsec, run->caps.vq_total,
         run->caps.vi_total);

    r = check_namespace(run, spec->nsid, &pre_attached, err);
    if (r)
        return r;
    if (pre_attached) {
        sec = pre_attached;
        if (!secondary_free(run, sec, totalvfs))
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "secondary 0x%x, whose VF is in use",
                               spec->nsid, sec->scid);
    } else {
        for (i = 0; i < run->nsec && !sec; i++)
            if (secondary_free(run, &run->sec[i], totalvfs))
                sec = &run->sec[i];
    }
    if (!sec)
        return xvf_err_set(err, -ENOSPC, "no free secondary controller on "
                           "%s (%u secondaries, %u VFs possible, all in "
                           "use)", run->pf.ctrl, run->nsec, totalvfs);
    r = check_resources(run, spec, sec, err);
    if (r)
        return r;
    r = plan_numvfs(run, sec->vfn, totalvfs, numvfs, &target, err);
    if (r)
        return r;
    step(run, "plan", "secondary 0x%x (VF %u)%s, vq=%u vi=%u%s", sec->scid,
         sec->vfn, pre_attached ? ", namespace already attached" : "",
         spec->vq, spec->vi, target ? ", enable VFs" : "");

    /* Checks are over: from here on every change is journaled first. */
    memset(&e, 0, sizeof(e));
    snprintf(e.id, sizeof(e.id), "vf-%s-%x", run->pf.bdf, sec->scid);
    snprintf(e.spec, sizeof(e.spec), "%s", canonical);
    snprintf(e.owner, sizeof(e.owner), "%s", owner);
    snprintf(e.pf, sizeof(e.pf), "%s", run->pf.bdf);
    snprintf(e.driver, sizeof(e.driver), "%s", spec->driver);
    e.state = XVF_ENTRY_PREPARING;
    e.scid = sec->scid;
    e.vfn = sec->vfn;
    e.nsid = spec->nsid;
    e.vq = spec->vq;
    e.vi = spec->vi;

    r = xvf_journal_pf_load(dir, run->pf.bdf, &pfe);
    if (r == -ENOENT) {
        memset(&pfe, 0, sizeof(pfe));
        snprintf(pfe.pf, sizeof(pfe.pf), "%s", run->pf.bdf);
        pfe.autoprobe_orig = autoprobe;
        pfe.numvfs_orig = numvfs;
        r = xvf_journal_pf_save(dir, &pfe);
    }
    if (!r)
        r = xvf_journal_save(dir, &e);
    if (r) {
        xvf_err_set(err, r, "cannot write journal in %s: %s", dir,
                    strerror(-r));
        goto fail;
    }

    if (autoprobe) {
        step(run, "autoprobe", "sriov_drivers_autoprobe = 0 on %s, so "
             "no driver probes the VF before it is online", run->pf.bdf);
        r = xvf_sriov_set_autoprobe(run->pf.bdf, 0);
        if (r) {
            xvf_err_set(err, r, "cannot turn off sriov_drivers_autoprobe "
                        "of %s: %s", run->pf.bdf, strerror(-r));
            goto fail;
        }
    }

    e.steps |= XVF_STEP_ASSIGN;
    r = xvf_journal_save(dir, &e);
    if (r)
        goto fail_journal;
    step(run, "assign-vq", "assign %u VQ to secondary 0x%x", spec->vq,
         sec->scid);
    r = xvf_nvme_virt_mgmt(run->fd, NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL,
                           NVME_VIRT_MGMT_RT_VQ_RESOURCE, sec->scid,
                           spec->vq, err);
    if (r)
        goto fail;
    step(run, "assign-vi", "assign %u VI to secondary 0x%x", spec->vi,
         sec->scid);
    r = xvf_nvme_virt_mgmt(run->fd, NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL,
                           NVME_VIRT_MGMT_RT_VI_RESOURCE, sec->scid,
                           spec->vi, err);
    if (r)
        goto fail;

    if (target) {
        pfe.numvfs_raised = true;
        r = xvf_journal_pf_save(dir, &pfe);
        if (r)
            goto fail_journal;
        step(run, "numvfs", "sriov_numvfs %u -> %u on %s", numvfs, target,
             run->pf.bdf);
        r = numvfs ? xvf_sriov_set_numvfs(run->pf.bdf, 0) : 0;
        if (!r)
            r = xvf_sriov_set_numvfs(run->pf.bdf, target);
        if (r) {
            xvf_err_set(err, r, "cannot enable %u VFs on %s: %s", target,
                        run->pf.bdf, strerror(-r));
            goto fail;
        }
    }
    r = xvf_sriov_virtfn(run->pf.bdf, sec->vfn, e.vf);
    if (r) {
        xvf_err_set(err, r, "VF %u of %s did not appear: %s", sec->vfn,
                    run->pf.bdf, strerror(-r));
        goto fail;
    }

    e.steps |= XVF_STEP_ONLINE;
    r = xvf_journal_save(dir, &e);
    if (r)
        goto fail_journal;
    step(run, "online", "secondary 0x%x online (VF %s)", sec->scid, e.vf);
    r = xvf_nvme_virt_mgmt(run->fd, NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL, 0,
                           sec->scid, 0, err);
    if (r)
        goto fail;

    if (!pre_attached) {
        e.steps |= XVF_STEP_ATTACH;
        r = xvf_journal_save(dir, &e);
        if (r)
            goto fail_journal;
        step(run, "attach", "attach namespace %u to secondary 0x%x",
             spec->nsid, sec->scid);
        r = xvf_nvme_ns_attach(run->fd, spec->nsid, sec->scid, true, err);
        if (r)
            goto fail;
    }

    e.steps |= XVF_STEP_BIND;
    r = xvf_journal_save(dir, &e);
    if (r)
        goto fail_journal;
    step(run, "bind", "bind %s to %s (driver_override + drivers_probe)",
         e.vf, spec->driver);
    r = xvf_pci_bind(e.vf, spec->driver);
    if (r) {
        if (r == -ENODEV)
            xvf_err_set(err, r, "driver '%s' did not take %s (is it "
                        "loaded? for pciback: modprobe xen-pciback)",
                        spec->driver, e.vf);
        else
            xvf_err_set(err, r, "cannot bind %s to %s: %s", e.vf,
                        spec->driver, strerror(-r));
        goto fail;
    }

    step(run, "health", "Identify on the PF %s must still complete",
         run->pf.ctrl);
    r = xvf_nvme_id_ctrl(run->fd, &cntlid, &oacs, err);
    if (r) {
        xvf_err_append(err, "the PF stopped answering after its VF was "
                       "enabled; rolled back");
        goto fail;
    }

    e.state = XVF_ENTRY_READY;
    r = xvf_journal_save(dir, &e);
    if (r)
        goto fail_journal;
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->pf, sizeof(ret->pf), "%s", e.pf);
    snprintf(ret->vf, sizeof(ret->vf), "%s", e.vf);
    ret->scid = e.scid;
    ret->nsid = e.nsid;
    return 0;

fail_journal:
    xvf_err_set(err, r, "cannot write journal in %s: %s", dir,
                strerror(-r));
fail:
    /* The first failure is the one to report; the rollback's are extra. */
    {
        struct xvf_err rb = { 0 };

        if (rollback_entry(run, &e, &rb))
            xvf_err_append(err, "rollback failed too: %s", rb.msg);
    }
    return r;
}

static int canonical_of(const struct xvf_spec *spec, char *buf, size_t len,
                        struct xvf_err *err)
{
    int r = xvf_spec_format(spec, buf, len);

    if (r)
        return xvf_err_set(err, r, "spec too long");
    return 0;
}

int xvf_prepare(const struct xvf_engine_config *cfg,
                const struct xvf_spec *spec, const char *owner,
                struct xvf_vf *ret, struct xvf_err *err)
{
    struct nvme_run run = { .cfg = cfg, .fd = -1 };
    char canonical[XVF_SPEC_MAX + 1];
    struct xvf_err rb = { 0 };
    struct xvf_entry *e;
    unsigned int i;
    int lock = -1, r;

    if (spec->cls != XVF_CLASS_NVME)
        return xvf_err_set(err, -EOPNOTSUPP, "network VFs are not "
                           "supported by this version of xen-vf");
    r = canonical_of(spec, canonical, sizeof(canonical), err);
    if (r)
        return r;
    r = xvf_nvme_resolve(spec, &run.pf, err);
    if (r)
        return r;
    r = xvf_lock_pf(state_dir(cfg), run.pf.bdf, &lock);
    if (r)
        return xvf_err_set(err, r, "cannot lock %s in %s: %s", run.pf.bdf,
                           state_dir(cfg), strerror(-r));
    r = journal_reload(&run);
    if (r) {
        xvf_err_set(err, r, "cannot read journal in %s: %s",
                    state_dir(cfg), strerror(-r));
        goto out;
    }
    for (i = 0; i < run.njournal; i++) {
        e = &run.journal[i];
        if (strcmp(e->spec, canonical))
            continue;
        if (e->state == XVF_ENTRY_READY) {
            if (strcmp(e->owner, owner)) {
                r = xvf_err_set(err, -EBUSY, "%s is already prepared for "
                                "%s (VF %s)", canonical, e->owner, e->vf);
                goto out;
            }
            memset(ret, 0, sizeof(*ret));
            snprintf(ret->pf, sizeof(ret->pf), "%s", e->pf);
            snprintf(ret->vf, sizeof(ret->vf), "%s", e->vf);
            ret->scid = e->scid;
            ret->nsid = e->nsid;
            r = 0;
            goto out;
        }
        /* Left behind by an interrupted run: undo it, then start over. */
        r = xvf_nvme_open(&run.pf, &run.fd, err);
        if (!r)
            r = rollback_entry(&run, e, &rb);
        if (r) {
            xvf_err_set(err, r, "cannot undo an interrupted run for %s: "
                        "%s", canonical, rb.msg);
            goto out;
        }
        close(run.fd);
        run.fd = -1;
        break;
    }
    r = journal_reload(&run);
    if (!r)
        r = nvme_prepare(&run, spec, canonical, owner, ret, err);
out:
    run_close(&run);
    xvf_unlock_pf(lock);
    return r;
}

/* Runs @fn on the entry with id @id under its PF's lock. */
static int with_entry(const struct xvf_engine_config *cfg, const char *pf,
                      const char *id, struct xvf_err *err)
{
    struct nvme_run run = { .cfg = cfg, .fd = -1 };
    struct xvf_entry *e = NULL;
    unsigned int i;
    int lock = -1, r;

    snprintf(run.pf.bdf, sizeof(run.pf.bdf), "%s", pf);
    r = xvf_lock_pf(state_dir(cfg), pf, &lock);
    if (r)
        return xvf_err_set(err, r, "cannot lock %s: %s", pf, strerror(-r));
    r = journal_reload(&run);
    if (r) {
        xvf_err_set(err, r, "cannot read journal: %s", strerror(-r));
        goto out;
    }
    for (i = 0; i < run.njournal; i++)
        if (!strcmp(run.journal[i].id, id))
            e = &run.journal[i];
    if (!e) {
        r = 0;      /* released meanwhile by someone else */
        goto out;
    }
    r = xvf_nvme_pf_from_bdf(pf, &run.pf, err);
    if (!r)
        r = run_open(&run, err);
    if (!r) {
        struct xvf_entry copy = *e;

        r = rollback_entry(&run, &copy, err);
    }
out:
    run_close(&run);
    xvf_unlock_pf(lock);
    return r;
}

static int release_matching(const struct xvf_engine_config *cfg,
                            const char *what, bool by_owner,
                            bool not_ready_only, struct xvf_err *err)
{
    char canonical[XVF_SPEC_MAX + 1] = "", bdf[XVF_BDF_LEN] = "";
    struct xvf_entry *list = NULL;
    struct xvf_spec spec;
    unsigned int i, n, done = 0;
    bool match;
    int r;

    if (what && !by_owner) {
        if (!strncmp(what, XVF_SPEC_PREFIX, strlen(XVF_SPEC_PREFIX))) {
            r = xvf_spec_parse(what, &spec, err);
            if (!r)
                r = canonical_of(&spec, canonical, sizeof(canonical), err);
            if (r)
                return r;
        } else if (xvf_parse_bdf(what, bdf)) {
            return xvf_err_set(err, -EINVAL, "'%s' is neither a vf: spec "
                               "nor a PCI address", what);
        }
    }
    r = xvf_journal_list(state_dir(cfg), NULL, &list, &n);
    if (r)
        return xvf_err_set(err, r, "cannot read journal in %s: %s",
                           state_dir(cfg), strerror(-r));
    for (i = 0; i < n; i++) {
        if (not_ready_only)
            match = list[i].state != XVF_ENTRY_READY;
        else if (by_owner)
            match = !strcmp(list[i].owner, what);
        else
            match = canonical[0] ? !strcmp(list[i].spec, canonical)
                                 : !strcmp(list[i].vf, bdf);
        if (!match)
            continue;
        r = with_entry(cfg, list[i].pf, list[i].id, err);
        if (r)
            break;
        done++;
    }
    free(list);
    if (r)
        return r;
    if (!done && what && !by_owner)
        return xvf_err_set(err, -ENOENT, "no VF prepared for %s", what);
    return done;
}

int xvf_release(const struct xvf_engine_config *cfg, const char *what,
                struct xvf_err *err)
{
    int r = release_matching(cfg, what, false, false, err);

    return r < 0 ? r : 0;
}

int xvf_release_owner(const struct xvf_engine_config *cfg,
                      const char *owner, struct xvf_err *err)
{
    return release_matching(cfg, owner, true, false, err);
}

int xvf_reconcile(const struct xvf_engine_config *cfg, struct xvf_err *err)
{
    return release_matching(cfg, NULL, false, true, err);
}
