/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/class.h"
#include "engine/internal.h"
#include "nvme/nvme.h"
#include "pci/device.h"

static void add_lost(const struct xvf_entry *e, struct xvf_lost *lost,
                     unsigned int *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_lost(const struct xvf_entry *e, struct xvf_lost *lost,
                     unsigned int *n, const char *fmt, ...)
{
    struct xvf_lost *l;
    va_list ap;

    if (*n >= XVF_LOST_MAX)
        return;
    l = &lost[(*n)++];
    memset(l, 0, sizeof(*l));
    snprintf(l->owner, sizeof(l->owner), "%s", e->owner);
    snprintf(l->spec, sizeof(l->spec), "%s", e->spec);
    snprintf(l->pf, sizeof(l->pf), "%s", e->pf);
    snprintf(l->vf, sizeof(l->vf), "%s", e->vf);
    va_start(ap, fmt);
    vsnprintf(l->why, sizeof(l->why), fmt, ap);
    va_end(ap);
}

/* The secondary list of @pf, read once; false when it cannot be read. */
static bool read_secondaries(const struct xvf_engine_config *cfg,
                             const char *pf, struct xvf_nvme_secondary *sec,
                             unsigned int *nsec)
{
    unsigned int ms = cfg->health_timeout_ms ? cfg->health_timeout_ms :
                      XVF_HEALTH_TIMEOUT_DEFAULT_MS;
    struct xvf_err err = { 0 };
    struct xvf_nvme_pf p;
    int fd = -1, r;

    r = xvf_nvme_pf_from_bdf(pf, &p, &err);
    if (!r)
        r = xvf_nvme_open(&p, &fd, &err);
    if (!r)
        r = xvf_nvme_secondaries(fd, ms, sec, nsec, &err);
    if (fd >= 0)
        close(fd);
    return !r;
}

static void check_pf(struct xvf_run *run, struct xvf_lost *lost,
                     unsigned int *n)
{
    struct xvf_nvme_secondary sec[XVF_NVME_MAX_SECONDARIES];
    unsigned int i, j, nsec = 0;
    const struct xvf_entry *e;
    bool have_list = false, tried = false;

    for (i = 0; i < run->njournal; i++) {
        e = &run->journal[i];
        if (e->state != XVF_ENTRY_READY || !e->vf[0])
            continue;
        if (!xvf_pci_exists(e->vf)) {
            add_lost(e, lost, n, "VF %s of %s vanished (its PF was reset "
                     "or sriov_numvfs changed)", e->vf, e->pf);
            continue;
        }
        if (e->cls != XVF_CLASS_NVME)
            continue;
        if (!tried) {
            have_list = read_secondaries(run->cfg, run->pf, sec, &nsec);
            tried = true;
        }
        if (!have_list)
            continue;
        for (j = 0; j < nsec && sec[j].scid != e->scid; j++)
            ;
        if (j == nsec || !sec[j].online)
            add_lost(e, lost, n, "secondary controller 0x%x of VF %s went "
                     "offline (a reset of the PF %s's controller takes "
                     "every secondary offline)", e->scid, e->vf, e->pf);
    }
}

int xvf_check_held(const struct xvf_engine_config *cfg,
                   struct xvf_lost *lost, unsigned int *n,
                   struct xvf_err *err)
{
    const char *dir = xvf_engine_state_dir(cfg);
    struct xvf_entry *all = NULL;
    struct xvf_run run;
    unsigned int i, j, nall = 0;
    int lock, r;

    *n = 0;
    r = xvf_journal_list(dir, NULL, &all, &nall);
    if (r == -ENOENT)
        return 0;
    if (r)
        return xvf_err_set(err, r, "cannot read the journal in %s: %s", dir,
                           strerror(-r));
    for (i = 0; i < nall; i++) {
        /* each PF once, at its first entry */
        for (j = 0; j < i && strcmp(all[j].pf, all[i].pf); j++)
            ;
        if (j < i || all[i].state != XVF_ENTRY_READY)
            continue;
        memset(&run, 0, sizeof(run));
        run.cfg = cfg;
        run.dir = dir;
        snprintf(run.pf, sizeof(run.pf), "%s", all[i].pf);
        /* busy: a prepare or release is changing it, look next time */
        if (xvf_lock_pf_timed(dir, run.pf, 0, &lock))
            continue;
        if (!xvf_journal_list(dir, run.pf, &run.journal, &run.njournal))
            check_pf(&run, lost, n);
        free(run.journal);
        xvf_unlock_pf(lock);
    }
    free(all);
    return 0;
}
