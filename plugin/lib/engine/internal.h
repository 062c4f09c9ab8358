/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * internal.h - what engine.c (prepare and the run steps) shares with
 * release.c (release, release by owner, reconcile); nothing else uses it
 */
#ifndef XVF_ENGINE_INTERNAL_H
#define XVF_ENGINE_INTERNAL_H

#include "engine/class.h"

/**
 * xvf_engine_state_dir() - the state directory a configuration names
 * @cfg: the engine's configuration
 *
 * Return: @cfg's state_dir, or the built-in default when it has none.
 */
const char *xvf_engine_state_dir(const struct xvf_engine_config *cfg);

/**
 * xvf_engine_lock() - start a run on @pf: take its lock, read its journal
 * @run:  the run, set up from scratch
 * @cfg:  the engine's configuration (state directory, lock deadline)
 * @pf:   the PF's address
 * @lock: receives the lock's descriptor, for xvf_engine_unlock()
 * @err:  why it failed
 *
 * Every decision about the PF's journal is made between this and
 * xvf_engine_unlock(), on what is read here or reread after.
 *
 * Return: 0, -ETIMEDOUT when the lock's deadline passed, or -errno.
 */
int xvf_engine_lock(struct xvf_run *run, const struct xvf_engine_config *cfg,
                    const char *pf, int *lock, struct xvf_err *err);

/**
 * xvf_engine_unlock() - end a run started by xvf_engine_lock()
 * @run:  the run; its journal copy is freed
 * @lock: the descriptor xvf_engine_lock() gave, or -1
 */
void xvf_engine_unlock(struct xvf_run *run, int lock);

/**
 * xvf_engine_finish_pf() - give the PF back what it had before xen-vf
 * @run: a run holding the PF's lock
 * @err: why it failed
 *
 * When no VF of the PF is journaled any more: restore sriov_numvfs (if
 * the engine raised it) and sriov_drivers_autoprobe, then remove the
 * PF's record. Does nothing while a VF is journaled or without a record,
 * and leaves the PF and its record as they are (a "numvfs-kept" step
 * says why) while a VF is bound to a driver outside the journal: lowering
 * the count would remove that VF too. Reconcile tries again.
 *
 * Return: 0 or -errno.
 */
int xvf_engine_finish_pf(struct xvf_run *run, struct xvf_err *err);

#endif
