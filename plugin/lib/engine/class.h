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
 * @cmd_timeout_ms: timeout of the device commands of this run's undo; 0
 *            for the driver's default. Set to the health check's when it
 *            found the PF's interrupts lost, where each command of a
 *            rollback would otherwise complete only after admin_timeout.
 * @keep_warm: this run releases a VF that was handed out: the PF's VFs
 *            may stay enabled (cfg->keep_vfs_ms)
 * @cool:     give the PF back what it had even if it is kept warm
 */
struct xvf_run {
    const struct xvf_engine_config *cfg;
    const char *dir;
    char pf[XVF_BDF_LEN];
    struct xvf_entry *journal;
    unsigned int njournal;
    unsigned int cmd_timeout_ms;
    bool keep_warm;
    bool cool;
};

/**
 * struct xvf_class_ops - a device class: what the engine calls
 * @resolve: find the PF a spec names; fills @pf. Returns 0 or -errno
 *           (-ENODEV, -EINVAL, -EOPNOTSUPP) with @err set.
 * @prepare: check everything, then run the steps, journaling each with
 *           xvf_run_save() before it runs; ends with xvf_run_finish(),
 *           which rolls back on failure. Returns 0 or the first -errno.
 * @undo:    undo the device steps recorded in @e->steps, in reverse,
 *           tolerating steps that never ran or were already undone.
 *           Returns 0 or the first -errno; later steps are still tried.
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

/*
 * The xvf_run helpers. Those taking @err describe a failure in it and
 * return its -errno; the journal's own failures are the -errno of
 * journal.h (-EIO, -ENOSPC, ...).
 */

/**
 * xvf_run_step() - report the start of a step to the progress callback
 * @run:  the run
 * @name: short step name ("assign-vq", "bind", ...)
 * @fmt:  printf-style detail, with the concrete numbers
 */
void xvf_run_step(const struct xvf_run *run, const char *name,
                  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/**
 * xvf_run_reload() - re-read the journal entries of the run's PF
 * @run: the run; @run->journal and @run->njournal are replaced
 * @err: why not
 *
 * Return: 0 or -errno of the journal.
 */
int xvf_run_reload(struct xvf_run *run, struct xvf_err *err);

/**
 * xvf_run_save() - journal @e durably
 * @run: the run
 * @e:   the entry, as it is before the step it announces
 * @err: why not
 *
 * Return: 0 or -errno of the journal.
 */
int xvf_run_save(struct xvf_run *run, const struct xvf_entry *e,
                 struct xvf_err *err);

/**
 * xvf_run_entry_init() - a new entry for @spec on the run's PF
 * @run:       the run
 * @e:         filled: spec, owner, PF, driver, class; state preparing, no
 *             steps. The device class sets @e->id and its own fields.
 * @spec:      what is asked for
 * @canonical: its canonical text
 * @owner:     who will hold the VF
 */
void xvf_run_entry_init(const struct xvf_run *run, struct xvf_entry *e,
                        const struct xvf_spec *spec, const char *canonical,
                        const char *owner);

/**
 * xvf_run_begin() - journal a new entry, and the PF's original
 * @autoprobe and @numvfs when this is the first entry touching it
 * @run:       the run
 * @e:         the new entry
 * @autoprobe: sriov_drivers_autoprobe as the PF has it now
 * @numvfs:    sriov_numvfs as the PF has it now
 * @err:       why not
 *
 * Return: 0 or -errno of the journal.
 */
int xvf_run_begin(struct xvf_run *run, const struct xvf_entry *e,
                  unsigned int autoprobe, unsigned int numvfs,
                  struct xvf_err *err);

/**
 * xvf_run_sriov_state() - read the SR-IOV state of the run's PF
 * @run:       the run
 * @name:      how messages name the PF ("0000:01:00.0", "eth0 (...)")
 * @totalvfs:  sriov_totalvfs
 * @numvfs:    sriov_numvfs
 * @autoprobe: sriov_drivers_autoprobe
 * @err:       why not
 *
 * Return: 0, -EOPNOTSUPP when the PF has no SR-IOV capability, -ENODEV
 * when it is gone, or another -errno.
 */
int xvf_run_sriov_state(struct xvf_run *run, const char *name,
                        unsigned int *totalvfs, unsigned int *numvfs,
                        unsigned int *autoprobe, struct xvf_err *err);

/**
 * xvf_run_autoprobe_off() - sriov_drivers_autoprobe = 0 on the PF, so no
 * driver in the driver domain probes a VF before the device class binds it
 * @run: the run
 * @err: why not
 *
 * Return: 0 or -errno of sysfs.
 */
int xvf_run_autoprobe_off(struct xvf_run *run, struct xvf_err *err);

/**
 * xvf_run_set_numvfs() - change sriov_numvfs from @cur to @target
 * @run:    the run
 * @cur:    sriov_numvfs now
 * @target: what it becomes
 * @err:    why not
 *
 * Goes through 0 when both are non-zero; journaled as raised on the PF
 * first, so the last release restores it.
 *
 * Return: 0, -errno of the journal, or the kernel's -errno.
 */
int xvf_run_set_numvfs(struct xvf_run *run, unsigned int cur,
                       unsigned int target, struct xvf_err *err);

/**
 * xvf_run_vfs_busy() - whether a VF of the PF up to number @upto is held
 * in the journal or bound to a driver
 * @run:  the run
 * @upto: highest VF number to look at
 * @why:  the change that would remove the VFs, for the message
 * @err:  names the VF in use
 *
 * Return: 0 when none is, -EBUSY otherwise.
 */
int xvf_run_vfs_busy(struct xvf_run *run, unsigned int upto,
                     const char *why, struct xvf_err *err);

/**
 * xvf_run_bind() - the bind step: journal it, then bind @e->vf to
 * @e->driver (driver_override + drivers_probe, see xvf_pci_bind()) and
 * wait for the driver's probe to finish (xvf_run_wait_probe())
 * @run: the run
 * @e:   the entry; XVF_STEP_BIND is set in @e->steps
 * @err: why not
 *
 * Return: 0; -ENODEV when the driver did not take the VF (not loaded, or
 * its probe refused it); -EBUSY when another driver has it; the -EIO or
 * -ETIMEDOUT of xvf_run_wait_probe(); another -errno of the journal or
 * sysfs.
 */
int xvf_run_bind(struct xvf_run *run, struct xvf_entry *e,
                 struct xvf_err *err);

/**
 * xvf_run_wait_probe() - wait, within @run->cfg->bind_timeout_ms, until
 * the probe of the driver that took @e->vf is over
 * @run: the run
 * @e:   the entry, bound to @e->driver
 * @err: why not
 *
 * The driver must still have the VF. For nvme, whose probe finishes in
 * its reset work after drivers_probe returned, the VF's controller must
 * also be "live" (its sysfs state; polled, with naps growing to 64 ms);
 * other drivers (pciback, igbvf) probe within drivers_probe.
 *
 * Return: 0; -EIO when the driver let go of the VF or its controller is
 * dead or being deleted (the probe failed); -ETIMEDOUT when the
 * controller is not live in time; another -errno of sysfs.
 */
int xvf_run_wait_probe(struct xvf_run *run, const struct xvf_entry *e,
                       struct xvf_err *err);

/**
 * xvf_run_unbind() - undo the bind step of @e, if it may have run
 * @run: the run
 * @e:   the entry being undone
 * @err: why not
 *
 * A VF that is gone already counts as unbound.
 *
 * Return: 0 or -errno of sysfs.
 */
int xvf_run_unbind(struct xvf_run *run, const struct xvf_entry *e,
                   struct xvf_err *err);

/**
 * xvf_run_finish() - end a device class's prepare of @e
 * @run: the run
 * @e:   the entry prepared
 * @r:   the result of its steps
 * @ret: on success, the VF
 * @err: on failure, the first failure, and the rollback's own appended
 *
 * On success marks @e ready and fills @ret; on failure (of the steps or of
 * that last journal write) rolls @e back.
 *
 * Return: 0 or the first failure.
 */
int xvf_run_finish(struct xvf_run *run, struct xvf_entry *e, int r,
                   struct xvf_vf *ret, struct xvf_err *err);

/**
 * xvf_run_rollback() - undo @e: mark it releasing, let its device class
 * undo the device steps, drop the entry, and restore the PF when it was
 * the last
 * @run: the run
 * @e:   the entry; its state becomes releasing
 * @err: the first failure
 *
 * Later steps are still tried after a failure.
 *
 * Return: 0; -EOPNOTSUPP for an entry of a class this build does not
 * know; the first -errno otherwise.
 */
int xvf_run_rollback(struct xvf_run *run, struct xvf_entry *e,
                     struct xvf_err *err);

#endif
