/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvme/nvme.h"
#include "engine/class.h"
#include "util/clock.h"
#include "util/sysfs.h"

#define MIN_VQ 2    /* admin queue + one I/O queue */
#define MIN_VI 1

struct nvme_run {
    struct xvf_run *run;
    struct xvf_nvme_pf pf;
    int fd;
    struct xvf_nvme_caps caps;
    struct xvf_nvme_secondary sec[XVF_NVME_MAX_SECONDARIES];
    unsigned int nsec;
};

static const struct xvf_entry *held_scid(const struct nvme_run *nr,
                                         uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < nr->run->njournal; i++)
        if (nr->run->journal[i].cls == XVF_CLASS_NVME &&
            nr->run->journal[i].scid == scid)
            return &nr->run->journal[i];
    return NULL;
}

static struct xvf_nvme_secondary *find_secondary(struct nvme_run *nr,
                                                 uint16_t scid)
{
    unsigned int i;

    for (i = 0; i < nr->nsec; i++)
        if (nr->sec[i].scid == scid)
            return &nr->sec[i];
    return NULL;
}

static int nvme_resolve(const struct xvf_spec *spec, char pf[XVF_BDF_LEN],
                        struct xvf_err *err)
{
    struct xvf_nvme_pf p;
    int r;

    r = xvf_nvme_resolve(spec, &p, err);
    if (!r)
        memcpy(pf, p.bdf, XVF_BDF_LEN);
    return r;
}

static int check_namespace(struct nvme_run *nr, uint32_t nsid,
                           struct xvf_nvme_secondary **pre_attached,
                           struct xvf_err *err)
{
    uint16_t ids[NVME_ID_CTRL_LIST_MAX];
    struct xvf_nvme_secondary *sec;
    const struct xvf_entry *holder;
    unsigned int i, n;
    char who[64];
    bool exists;
    int r;

    *pre_attached = NULL;
    r = xvf_nvme_ns_exists(nr->fd, nsid, &exists, err);
    if (r)
        return r;
    if (!exists)
        return xvf_err_set(err, -ENODEV, "namespace %u does not exist on "
                           "%s", nsid, nr->pf.ctrl);
    r = xvf_nvme_ns_ctrls(nr->fd, nsid, ids, &n, err);
    if (r)
        return r;
    for (i = 0; i < n; i++) {
        if (ids[i] == nr->caps.cntlid)
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "the primary controller 0x%x of %s: the "
                               "driver domain uses it; detach it there "
                               "first", nsid, ids[i], nr->pf.ctrl);
        sec = find_secondary(nr, ids[i]);
        if (!sec)
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "controller 0x%x, which is not a secondary "
                               "of %s", nsid, ids[i], nr->pf.ctrl);
        holder = held_scid(nr, sec->scid);
        if (holder) {
            xvf_owner_describe(holder->owner, who, sizeof(who));
            return xvf_err_set(err, -EBUSY, "namespace %u of %s is held by "
                               "%s: VF %s, secondary 0x%x", nsid,
                               nr->pf.ctrl, who, holder->vf, sec->scid);
        }
        if (sec->online)
            return xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                               "secondary controller 0x%x, which is online "
                               "outside xen-vf", nsid, sec->scid);
        *pre_attached = sec;
    }
    return 0;
}

static bool secondary_free(struct nvme_run *nr,
                           const struct xvf_nvme_secondary *sec,
                           unsigned int totalvfs)
{
    char vf[XVF_BDF_LEN], drv[64];

    if (sec->online || !sec->vfn || sec->vfn > totalvfs ||
        held_scid(nr, sec->scid))
        return false;
    return xvf_sriov_vf_driver(nr->pf.bdf, sec->vfn, vf, drv, sizeof(drv))
           || !drv[0];
}

/* VI to assign: none on a controller without flexible VI (VIFRT = 0) */
static unsigned int want_vi(const struct nvme_run *nr,
                            const struct xvf_spec *spec)
{
    return nr->caps.vi_total ? spec->vi : 0;
}

static int check_resources(struct nvme_run *nr, const struct xvf_spec *spec,
                           const struct xvf_nvme_secondary *chosen,
                           struct xvf_err *err)
{
    uint32_t vq_used, vi_used, vq_free, vi_free;
    unsigned int i, vi = want_vi(nr, spec);

    if (!nr->caps.vi_total && spec->vi_given)
        return xvf_err_set(err, -EOPNOTSUPP, "vi=%u cannot be met: %s has "
                           "no flexible VI resources (VIFRT = 0), its "
                           "secondaries' interrupts are their own; drop "
                           "vi= from the spec", spec->vi, nr->pf.ctrl);
    if (spec->vq < MIN_VQ || (nr->caps.vi_total && vi < MIN_VI))
        return xvf_err_set(err, -EINVAL, "a secondary controller needs at "
                           "least %u VQ (admin + I/O) and %u VI resources, "
                           "asked for vq=%u vi=%u", MIN_VQ, MIN_VI,
                           spec->vq, spec->vi);
    if (spec->vq > nr->caps.vq_max)
        return xvf_err_set(err, -ENOSPC, "vq=%u is more than the %u "
                           "flexible VQ resources %s gives one secondary "
                           "(VQFRSM)", spec->vq, nr->caps.vq_max,
                           nr->pf.ctrl);
    if (vi > nr->caps.vi_max)
        return xvf_err_set(err, -ENOSPC, "vi=%u is more than the %u "
                           "flexible VI resources %s gives one secondary "
                           "(VIFRSM)", vi, nr->caps.vi_max, nr->pf.ctrl);
    vq_used = vi_used = 0;
    for (i = 0; i < nr->nsec; i++) {
        /* an assign replaces what the chosen secondary holds */
        if (&nr->sec[i] == chosen)
            continue;
        vq_used += nr->sec[i].nvq;
        vi_used += nr->sec[i].nvi;
    }
    vq_free = nr->caps.vq_total > vq_used + nr->caps.vq_primary ?
              nr->caps.vq_total - vq_used - nr->caps.vq_primary : 0;
    vi_free = nr->caps.vi_total > vi_used + nr->caps.vi_primary ?
              nr->caps.vi_total - vi_used - nr->caps.vi_primary : 0;
    if (spec->vq <= vq_free && vi <= vi_free)
        return 0;
    /* the drive's power-on state on some SSDs: the primary holds them */
    if ((nr->caps.vq_primary || nr->caps.vi_primary) &&
        spec->vq + vq_used <= nr->caps.vq_total &&
        vi + vi_used <= nr->caps.vi_total)
        return xvf_err_set(err, -ENOSPC, "not enough free flexible "
                           "resources on %s: asked vq=%u vi=%u, free %u VQ "
                           "and %u VI, because the primary controller holds "
                           "%u VQ (VQRFAP) and %u VI (VIRFAP) of them; "
                           "release them once with 'xen-vfctl nvme-layout "
                           "%s --release-primary --apply' (Virtualization "
                           "Management action 1 and a controller reset)",
                           nr->pf.ctrl, spec->vq, vi, vq_free, vi_free,
                           nr->caps.vq_primary, nr->caps.vi_primary,
                           nr->pf.ctrl);
    return xvf_err_set(err, -ENOSPC, "not enough free flexible "
                       "resources on %s: asked vq=%u vi=%u, free %u VQ "
                       "and %u VI", nr->pf.ctrl, spec->vq, vi, vq_free,
                       vi_free);
}

/* How many VFs to enable, or 0 to leave sriov_numvfs alone. */
static int plan_numvfs(struct nvme_run *nr, unsigned int vfn,
                       unsigned int totalvfs, unsigned int cur,
                       unsigned int *target, struct xvf_err *err)
{
    unsigned int i, want = vfn;
    int r;

    *target = 0;
    if (cur >= vfn)
        return 0;
    /*
     * Changing a non-zero count goes through 0, which removes every VF, so
     * enable in one go all the VFs this PF has secondaries for.
     */
    for (i = 0; i < nr->nsec; i++)
        if (nr->sec[i].vfn > want && nr->sec[i].vfn <= totalvfs)
            want = nr->sec[i].vfn;
    if (cur) {
        r = xvf_run_vfs_busy(nr->run, cur, "changing sriov_numvfs", err);
        if (r)
            return r;
    }
    *target = want;
    return 0;
}

/*
 * The R-Car S4's known issue: once VFs are enabled the PF gets no more
 * interrupts. The nvme driver's timeout handler then finds the command
 * done ("completion polled") and completes it, so a plain Identify
 * succeeds, only a whole admin_timeout (60 s) late. A short timeout
 * bounds the wait, and the admin queue's interrupt count tells a polled
 * completion from a real one.
 */
static int pf_health(struct nvme_run *nr, const char *step, const char *when,
                     struct xvf_err *err)
{
    unsigned int ms = nr->run->cfg->health_timeout_ms ?
                      nr->run->cfg->health_timeout_ms :
                      XVF_HEALTH_TIMEOUT_DEFAULT_MS;
    unsigned long long before = 0, after = 0;
    long long t0, took;
    bool counted;
    int r;

    counted = !xvf_nvme_admin_irqs(nr->pf.ctrl, &before);
    if (counted)
        xvf_run_step(nr->run, step, "Identify on the PF %s %s, within %u "
                     "ms, by its interrupt (%sq0: %llu so far)", nr->pf.ctrl,
                     when, ms, nr->pf.ctrl, before);
    else
        xvf_run_step(nr->run, step, "Identify on the PF %s %s, within %u "
                     "ms (no %sq0 in /proc/interrupts: time bound only)",
                     nr->pf.ctrl, when, ms, nr->pf.ctrl);
    t0 = xvf_now_ms();
    r = xvf_nvme_id_ctrl_timed(nr->fd, ms, err);
    took = xvf_now_ms() - t0;
    /* the rollback that follows must not wait admin_timeout a command */
    nr->run->cmd_timeout_ms = ms;
    if (r) {
        xvf_err_append(err, "the PF %s (%s) did not answer %s",
                       nr->pf.ctrl, nr->pf.bdf, when);
        return r;
    }
    if (counted && !xvf_nvme_admin_irqs(nr->pf.ctrl, &after) &&
        after == before)
        return xvf_err_set(err, -EIO, "%s (%s): the PF's admin queue "
                           "interrupt (%sq0) did not fire %s: Identify "
                           "completed only by polling, after %lld ms; its "
                           "interrupts are lost (a known issue of some "
                           "platforms after VFs are enabled)", nr->pf.ctrl,
                           nr->pf.bdf, nr->pf.ctrl, when, took);
    /* a poll at the timeout is the only way to take (about) all of it */
    if (took >= (long long)ms * 9 / 10)
        return xvf_err_set(err, -EIO, "%s (%s): Identify %s took %lld of "
                           "its %u ms: completed only by polling; the PF's "
                           "interrupts are lost (a known issue of some "
                           "platforms after VFs are enabled)", nr->pf.ctrl,
                           nr->pf.bdf, when, took, ms);
    nr->run->cmd_timeout_ms = 0;
    /* closes the check's step, so its time is the check's alone */
    xvf_run_step(nr->run, "healthy", "the PF %s answered in %lld ms%s",
                 nr->pf.ctrl, took, counted ? ", by its interrupt" : "");
    return 0;
}

/*
 * A success answer to online is not proof: the Secondary Controller List
 * must show the secondary online with what was assigned to it.
 */
static int check_online(struct nvme_run *nr, const struct xvf_entry *e,
                        struct xvf_err *err)
{
    const struct xvf_nvme_secondary *sec;
    int r;

    xvf_run_step(nr->run, "online-check", "secondary 0x%x in the secondary "
                 "list (CNS 0x15): online with %u VQ, %u VI?", e->scid,
                 e->vq, e->vi);
    r = xvf_nvme_secondaries(nr->fd, 0, nr->sec, &nr->nsec,
                             err);
    if (r)
        return r;
    sec = find_secondary(nr, e->scid);
    if (!sec)
        return xvf_err_set(err, -EIO, "%s: secondary 0x%x is missing from "
                           "the secondary controller list after online",
                           nr->pf.ctrl, e->scid);
    if (!sec->online || sec->nvq != e->vq || sec->nvi != e->vi)
        return xvf_err_set(err, -EIO, "%s: Virtualization Management "
                           "online of secondary 0x%x succeeded, but the "
                           "secondary controller list shows it %s with %u "
                           "VQ and %u VI (assigned %u and %u)", nr->pf.ctrl,
                           e->scid, sec->online ? "online" : "offline",
                           sec->nvq, sec->nvi, e->vq, e->vi);
    return 0;
}

static int nvme_undo(struct xvf_run *run, const struct xvf_entry *e,
                     struct xvf_err *err)
{
    struct nvme_run nr = { .run = run, .fd = -1 };
    int r, rc;

    rc = xvf_run_unbind(run, e, err);
    if (!(e->steps & (XVF_STEP_ATTACH | XVF_STEP_ASSIGN | XVF_STEP_ONLINE)))
        return rc;
    r = xvf_nvme_pf_from_bdf(run->pf, &nr.pf, err);
    if (!r)
        r = xvf_nvme_open(&nr.pf, &nr.fd, err);
    if (r)
        return rc ? rc : r;
    if (e->steps & XVF_STEP_ATTACH) {
        struct xvf_err detach = { 0 };

        xvf_run_step(run, "detach", "detach namespace %u from secondary "
                     "0x%x", e->nsid, e->scid);
        r = xvf_nvme_ns_attach(nr.fd, e->nsid, e->scid, false,
                               run->cmd_timeout_ms, &detach);
        /* not attached (any more) is what we want */
        if (r && r != -ENOENT && !rc) {
            xvf_err_set(err, r, "%s", detach.msg);
            rc = r;
        }
    }
    if (e->steps & (XVF_STEP_ASSIGN | XVF_STEP_ONLINE)) {
        xvf_run_step(run, "offline", "secondary 0x%x offline (frees its "
                     "VQ/VI)", e->scid);
        r = xvf_nvme_virt_mgmt(nr.fd, NVME_VIRT_MGMT_ACT_OFFLINE_SEC_CTRL,
                               0, e->scid, 0, run->cmd_timeout_ms, err);
        if (r && !rc)
            rc = r;
    }
    close(nr.fd);
    return rc;
}

static int nvme_steps(struct nvme_run *nr, const struct xvf_spec *spec,
                      struct xvf_entry *e, bool pre_attached,
                      unsigned int numvfs, unsigned int target,
                      struct xvf_err *err)
{
    struct xvf_run *run = nr->run;
    int r;

    r = xvf_run_autoprobe_off(run, err);
    if (r)
        return r;

    e->steps |= XVF_STEP_ASSIGN;
    r = xvf_run_save(run, e, err);
    if (r)
        return r;
    xvf_run_step(run, "assign-vq", "assign %u VQ to secondary 0x%x",
                 spec->vq, e->scid);
    r = xvf_nvme_virt_mgmt(nr->fd, NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL,
                           NVME_VIRT_MGMT_RT_VQ_RESOURCE, e->scid, spec->vq,
                           0, err);
    if (r)
        return r;
    if (e->vi) {
        xvf_run_step(run, "assign-vi", "assign %u VI to secondary 0x%x",
                     e->vi, e->scid);
        r = xvf_nvme_virt_mgmt(nr->fd, NVME_VIRT_MGMT_ACT_ASSIGN_SEC_CTRL,
                               NVME_VIRT_MGMT_RT_VI_RESOURCE, e->scid, e->vi,
                               0, err);
        if (r)
            return r;
    }

    if (target) {
        r = xvf_run_set_numvfs(run, numvfs, target, err);
        if (r)
            return r;
        r = pf_health(nr, "health-vfs", "after enabling its VFs", err);
        if (r) {
            xvf_err_append(err, "rolled back");
            return r;
        }
    }
    r = xvf_sriov_virtfn(run->pf, e->vfn, e->vf);
    if (r)
        return xvf_err_set(err, r, "VF %u of %s did not appear: %s", e->vfn,
                           run->pf, strerror(-r));

    e->steps |= XVF_STEP_ONLINE;
    r = xvf_run_save(run, e, err);
    if (r)
        return r;
    xvf_run_step(run, "online", "secondary 0x%x online (VF %s)", e->scid,
                 e->vf);
    r = xvf_nvme_virt_mgmt(nr->fd, NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL, 0,
                           e->scid, 0, 0, err);
    if (!r)
        r = check_online(nr, e, err);
    if (r)
        return r;

    if (!pre_attached) {
        e->steps |= XVF_STEP_ATTACH;
        r = xvf_run_save(run, e, err);
        if (r)
            return r;
        xvf_run_step(run, "attach", "attach namespace %u to secondary 0x%x",
                     e->nsid, e->scid);
        r = xvf_nvme_ns_attach(nr->fd, e->nsid, e->scid, true, 0, err);
        if (r)
            return r;
    }

    /*
     * As the vendor's flow (Samsung unvme-cli, enable-vf): the VF is reset
     * after its secondary went online, before a driver in this domain
     * takes it. pciback resets a device itself when it takes it.
     */
    if (!strcmp(e->driver, "nvme")) {
        xvf_run_step(run, "vf-reset", "function level reset of %s (its "
                     "reset attribute) before nvme takes it", e->vf);
        r = xvf_pci_attr_write(e->vf, "reset", "1");
        if (r)
            return xvf_err_set(err, r, "cannot reset VF %s: %s", e->vf,
                               strerror(-r));
    }
    r = xvf_run_bind(run, e, err);
    if (r)
        return r;

    r = pf_health(nr, "health", "with the VF bound", err);
    if (r)
        xvf_err_append(err, "rolled back");
    return r;
}

static int nvme_prepare(struct xvf_run *run, const struct xvf_spec *spec,
                        const char *canonical, const char *owner,
                        struct xvf_vf *ret, struct xvf_err *err)
{
    struct nvme_run nr = { .run = run, .fd = -1 };
    struct xvf_nvme_secondary *sec = NULL, *pre_attached;
    unsigned int totalvfs, numvfs, autoprobe, target, i;
    uint16_t cntlid, oacs;
    struct xvf_entry e;
    int r;

    r = xvf_run_sriov_state(run, run->pf, &totalvfs, &numvfs, &autoprobe,
                            err);
    if (r)
        return r;

    r = xvf_nvme_pf_from_bdf(run->pf, &nr.pf, err);
    if (!r)
        r = xvf_nvme_open(&nr.pf, &nr.fd, err);
    /* first, so a PF without interrupts is not waited on 60 s a command */
    if (!r) {
        r = pf_health(&nr, "health-before", "before any change", err);
        if (r)
            xvf_err_append(err, "nothing was changed");
    }
    if (!r)
        r = xvf_nvme_id_ctrl(nr.fd, &cntlid, &oacs, err);
    if (r)
        goto out;
    if (!(oacs & NVME_CTRL_OACS_VIRT_MGMT)) {
        r = xvf_err_set(err, -EOPNOTSUPP, "%s does not support "
                        "Virtualization Management (OACS 0x%x)", nr.pf.ctrl,
                        oacs);
        goto out;
    }
    r = xvf_nvme_caps(nr.fd, &nr.caps, err);
    if (!r)
        r = xvf_nvme_secondaries(nr.fd, 0, nr.sec, &nr.nsec,
                                 err);
    if (r)
        goto out;
    if (!nr.nsec) {
        r = xvf_err_set(err, -EOPNOTSUPP, "%s has no secondary "
                        "controllers", nr.pf.ctrl);
        goto out;
    }
    xvf_run_step(run, "identify", "%s at %s: primary 0x%x, %u secondaries, "
                 "flexible VQ %u VI %u", nr.pf.ctrl, run->pf,
                 nr.caps.cntlid, nr.nsec, nr.caps.vq_total,
                 nr.caps.vi_total);

    r = check_namespace(&nr, spec->nsid, &pre_attached, err);
    if (r)
        goto out;
    if (pre_attached) {
        sec = pre_attached;
        if (!secondary_free(&nr, sec, totalvfs)) {
            r = xvf_err_set(err, -EBUSY, "namespace %u is attached to "
                            "secondary 0x%x, whose VF is in use",
                            spec->nsid, sec->scid);
            goto out;
        }
    } else {
        for (i = 0; i < nr.nsec && !sec; i++)
            if (secondary_free(&nr, &nr.sec[i], totalvfs))
                sec = &nr.sec[i];
    }
    if (!sec) {
        r = xvf_err_set(err, -ENOSPC, "no free secondary controller on %s "
                        "(%u secondaries, %u VFs possible, all in use)",
                        nr.pf.ctrl, nr.nsec, totalvfs);
        goto out;
    }
    r = check_resources(&nr, spec, sec, err);
    if (!r)
        r = plan_numvfs(&nr, sec->vfn, totalvfs, numvfs, &target, err);
    if (r)
        goto out;
    xvf_run_step(run, "plan", "secondary 0x%x (VF %u)%s, vq=%u vi=%u%s",
                 sec->scid, sec->vfn,
                 pre_attached ? ", namespace already attached" : "",
                 spec->vq, want_vi(&nr, spec), target ? ", enable VFs" : "");

    /* Checks are over: from here on every change is journaled first. */
    xvf_run_entry_init(run, &e, spec, canonical, owner);
    snprintf(e.id, sizeof(e.id), "vf-%s-%x", run->pf, sec->scid);
    e.scid = sec->scid;
    e.vfn = sec->vfn;
    e.nsid = spec->nsid;
    e.vq = spec->vq;
    e.vi = want_vi(&nr, spec);

    r = xvf_run_begin(run, &e, autoprobe, numvfs, err);
    if (r)
        goto out;
    r = nvme_steps(&nr, spec, &e, pre_attached, numvfs, target, err);
    r = xvf_run_finish(run, &e, r, ret, err);
out:
    if (nr.fd >= 0)
        close(nr.fd);
    return r;
}

const struct xvf_class_ops xvf_class_nvme = {
    .resolve = nvme_resolve,
    .prepare = nvme_prepare,
    .undo = nvme_undo,
};
