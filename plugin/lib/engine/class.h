/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * class.h - what a device class (NVMe, NIC) plugs into the engine
 *
 * Internal to libxenvf. The engine (engine.c) owns what is common to all
 * classes: the per-PF lock, the journal, matching a request with what is
 * already prepared, rolling back, and giving the PF back its
 * sriov_drivers_autoprobe and sriov_numvfs once no VF of it is held. A
 * device class checks and performs its own steps, journaling each one
 * through the xvf_run helpers before it runs.
 */
#ifndef XVF_ENGINE_CLASS_H
#define XVF_ENGINE_CLASS_H

#include "engine/engine.h"
#include "engine/journal.h"
#include "pci/sriov.h"

/**
 * struct xvf_run - one prepare or release, under the lock of one PF
 * @cfg:      engine settings
 * @dir:      state directory
 * @pf:       the PF's address
 * @journal:  journal entries of this PF, as of the last xvf_run_reload()
 * @njournal: their number
 */
struct xvf_run {
    const struct xvf_engine_config *cfg;
    const char *dir;
    char pf[XVF_BDF_LEN];
    struct xvf_entry *journal;
    unsigned int njournal;
};

/**
 * struct xvf_class_ops - a device class: what the engine calls
 * @resolve: find the PF a spec names; fills @pf
 * @prepare: check everything, then run the steps, journaling each with
 *           xvf_run_save() before it runs; on failure call
 *           xvf_run_rollback() and return the first error
 * @undo:    undo the device steps recorded in @e->steps, in reverse,
 *           tolerating steps that never ran or were already undone
 */
struct xvf_class_ops {
    int (*resolve)(const struct xvf_spec *spec, char pf[XVF_BDF_LEN],
                   struct xvf_err *err);
    int (*prepare)(struct xvf_run *run, const struct xvf_spec *spec,
                   const char *canonical, const char *owner,
                   struct xvf_vf *ret, struct xvf_err *err);
    int (*undo)(struct xvf_run *run, const struct xvf_entry *e,
                struct xvf_err *err);
};

extern const struct xvf_class_ops xvf_class_nvme;
extern const struct xvf_class_ops xvf_class_net;

/** xvf_run_step() - report the start of a step to the progress callback */
void xvf_run_step(const struct xvf_run *run, const char *name,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** xvf_run_reload() - re-read the journal entries of the run's PF */
int xvf_run_reload(struct xvf_run *run, struct xvf_err *err);

/** xvf_run_save() - journal @e durably */
int xvf_run_save(struct xvf_run *run, const struct xvf_entry *e,
                 struct xvf_err *err);

/**
 * xvf_run_begin() - journal a new entry, and the PF's original
 * @autoprobe and @numvfs when this is the first entry touching it
 */
int xvf_run_begin(struct xvf_run *run, const struct xvf_entry *e,
                  unsigned int autoprobe, unsigned int numvfs,
                  struct xvf_err *err);

/**
 * xvf_run_autoprobe_off() - sriov_drivers_autoprobe = 0 on the PF, so no
 * driver in the driver domain probes a VF before the device class binds it
 */
int xvf_run_autoprobe_off(struct xvf_run *run, struct xvf_err *err);

/**
 * xvf_run_set_numvfs() - change sriov_numvfs from @cur to @target,
 * through 0 when both are non-zero; journaled as raised on the PF so the
 * last release restores it
 */
int xvf_run_set_numvfs(struct xvf_run *run, unsigned int cur,
                       unsigned int target, struct xvf_err *err);

/**
 * xvf_run_vfs_busy() - whether a VF of the PF up to number @upto is held
 * in the journal or bound to a driver; names it in @err if so
 * Return: 0 when none is, -EBUSY otherwise.
 */
int xvf_run_vfs_busy(struct xvf_run *run, unsigned int upto,
                     const char *why, struct xvf_err *err);

/**
 * xvf_run_bind() - the bind step: journal it, then bind @e->vf to
 * @e->driver (driver_override + drivers_probe, see xvf_pci_bind())
 */
int xvf_run_bind(struct xvf_run *run, struct xvf_entry *e,
                 struct xvf_err *err);

/**
 * xvf_run_finish() - end a device class's prepare of @e
 * @r: the result of its steps
 *
 * On success marks @e ready and fills @ret; on failure (of the steps or of
 * that last journal write) rolls @e back, keeping the first failure in
 * @err and appending the rollback's own.
 *
 * Return: 0 or the first failure.
 */
int xvf_run_finish(struct xvf_run *run, struct xvf_entry *e, int r,
                   struct xvf_vf *ret, struct xvf_err *err);

/**
 * xvf_run_rollback() - undo @e: mark it releasing, let its device class undo
 * the device steps, drop the entry, and restore the PF when it was the
 * last. The first failure is reported; later steps are still tried.
 */
int xvf_run_rollback(struct xvf_run *run, struct xvf_entry *e,
                     struct xvf_err *err);

#endif
