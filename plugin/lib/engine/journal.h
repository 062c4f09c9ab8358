/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * journal.h - what the engine has done to which device, on disk
 *
 * One file per prepared VF, one per physical function the engine changed,
 * in the state directory. Each is rewritten (write, fsync, rename, fsync
 * of the directory) before the step it announces runs, so after a crash the journal lists every
 * step that may have happened. Files are "key=value" lines.
 *
 * A lock file per PF serialises the engine's work on it (flock, released
 * by the kernel when a process dies).
 */
#ifndef XVF_JOURNAL_H
#define XVF_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "pci/sriov.h"

/**
 * enum xvf_step - steps of a VF, in the order they run; the bit is set
 * in the journal before the step runs
 */
enum xvf_step {
    XVF_STEP_ASSIGN = 1u << 0,  /* virt-mgmt assign VQ and VI */
    XVF_STEP_ONLINE = 1u << 1,
    XVF_STEP_ATTACH = 1u << 2,  /* namespace attached by us */
    XVF_STEP_BIND   = 1u << 3,
    XVF_STEP_VFCONFIG = 1u << 4, /* NIC: VF settings through rtnetlink */
    XVF_STEP_NUMVFS = 1u << 5,  /* sriov_numvfs changing (for status;
                                   the PF entry restores it) */
    XVF_STEP_NORESET = 1u << 6, /* the VF's reset methods taken away for
                                   pciback's bind (xvf_pci_reset_off()) */
};

/**
 * enum xvf_entry_state - where a journal entry is in its life
 * @XVF_ENTRY_PREPARING: steps are running; a crash leaves it to roll back
 * @XVF_ENTRY_READY:     prepared and handed to its owner
 * @XVF_ENTRY_RELEASING: being undone
 */
enum xvf_entry_state {
    XVF_ENTRY_PREPARING,
    XVF_ENTRY_READY,
    XVF_ENTRY_RELEASING,
};

/**
 * struct xvf_entry_net - a NIC VF's settings in its PF's driver as they
 * were before prepare changed any (what release restores)
 * @saved:      the fields below are set (entries written before xen-vf
 *              saved them have none)
 * @mac:        administrative MAC (kept for the record: release always
 *              resets it)
 * @vlan:       port VLAN ...
 * @qos:        ... and its priority
 * @min_rate:   min tx rate, Mbit/s
 * @max_rate:   max tx rate, Mbit/s, 0 unlimited
 * @spoofchk:   1, 0, or -1 when the driver does not report it
 * @trust:      1, 0, or -1
 * @link_state: IFLA_VF_LINK_STATE_*, or -1
 */
struct xvf_entry_net {
    bool saved;
    uint8_t mac[6];
    unsigned int vlan, qos, min_rate, max_rate;
    int spoofchk, trust, link_state;
};

/**
 * struct xvf_entry - one VF the engine prepared or is preparing
 * @id:     file name: "vf-<pf>-<scid>" for NVMe, "vf-<pf>-vf<vfn>"
 *          for NICs
 * @spec:   canonical spec
 * @owner:  who holds it ("local", "domain:5/0": domain, request)
 * @state:  where the entry is in its life
 * @cls:    NVMe or NIC: which device class undoes the steps
 * @pf:     PF address
 * @vf:     VF address, once known
 * @scid:   NVMe secondary controller id
 * @vfn:    VF number (1-based)
 * @nsid:   NVMe namespace attached to the secondary
 * @vq:     NVMe flexible queue resources assigned
 * @vi:     NVMe flexible interrupt resources assigned
 * @driver: driver the VF is bound to
 * @steps:  enum xvf_step bits of steps that may have run
 * @net:    NIC: the VF's settings before XVF_STEP_VFCONFIG
 */
struct xvf_entry {
    char id[48];
    enum xvf_class cls;
    char spec[XVF_SPEC_MAX + 1];
    char owner[48];
    enum xvf_entry_state state;
    char pf[XVF_BDF_LEN];
    char vf[XVF_BDF_LEN];
    uint16_t scid;
    uint16_t vfn;
    uint32_t nsid;
    uint16_t vq, vi;
    char driver[32];
    unsigned int steps;
    struct xvf_entry_net net;
};

/**
 * struct xvf_pf_entry - what the engine changed on a PF, to restore it
 * @pf:             PF address
 * @autoprobe_orig: sriov_drivers_autoprobe before the engine set it to 0
 * @numvfs_orig:    sriov_numvfs before the engine raised it
 * @numvfs_raised:  whether the engine changed sriov_numvfs
 * @warm_until:     while no VF is held: the VFs stay enabled until this
 *                  xvf_now_ms() time (0: not kept)
 */
struct xvf_pf_entry {
    char pf[XVF_BDF_LEN];
    unsigned int autoprobe_orig;
    unsigned int numvfs_orig;
    bool numvfs_raised;
    long long warm_until;
};

/**
 * xvf_entry_state_name() - name of an entry state, for people
 * @state: the state
 *
 * Return: "preparing", "ready", "releasing", or "?" for another value.
 */
const char *xvf_entry_state_name(enum xvf_entry_state state);

/**
 * xvf_journal_save() - write @e durably under @dir
 * @dir: state directory
 * @e:   the entry; its file is named after @e->id
 *
 * Writes a temporary file, fsyncs it, renames it over the old one and
 * fsyncs @dir; on failure the temporary file is removed.
 *
 * Return: 0, -ENAMETOOLONG, or -errno of the write (-ENOSPC, -EIO, ...).
 */
int xvf_journal_save(const char *dir, const struct xvf_entry *e);

/**
 * xvf_journal_remove() - forget @e
 * @dir: state directory
 * @e:   the entry
 *
 * Fsyncs @dir after the unlink so that the removal is durable.
 *
 * Return: 0 (also when it was gone already), or -errno of unlink() or of
 * the fsync of @dir.
 */
int xvf_journal_remove(const char *dir, const struct xvf_entry *e);

/**
 * xvf_journal_list() - all VF entries, optionally only those of @pf
 * @dir: state directory; one that does not exist holds no entries
 * @pf:  NULL for all
 * @ret: malloc()ed array the caller frees
 * @n:   its length
 *
 * Return: 0, -ENOMEM, or -errno of reading @dir.
 */
int xvf_journal_list(const char *dir, const char *pf, struct xvf_entry **ret,
                     unsigned int *n);

/**
 * xvf_journal_pf_load() - what the engine changed on @pf
 * @dir: state directory
 * @pf:  PF address
 * @ret: the PF entry
 *
 * Return: 0, -ENOENT when the engine has not touched @pf, or -errno.
 */
int xvf_journal_pf_load(const char *dir, const char *pf,
                        struct xvf_pf_entry *ret);

/**
 * xvf_journal_pf_save() - write PF entry @e durably under @dir
 * @dir: state directory
 * @e:   the entry; its file is named after @e->pf
 *
 * Return: 0 or -errno, as xvf_journal_save().
 */
int xvf_journal_pf_save(const char *dir, const struct xvf_pf_entry *e);

/**
 * xvf_journal_pf_remove() - forget what the engine changed on @pf
 * @dir: state directory
 * @pf:  PF address
 *
 * Fsyncs @dir after the unlink, as xvf_journal_remove().
 *
 * Return: 0 (also when there was no entry), or -errno of unlink() or of
 * the fsync of @dir.
 */
int xvf_journal_pf_remove(const char *dir, const char *pf);

/**
 * xvf_journal_pf_list() - the PFs that have a PF entry
 * @dir: state directory; one that does not exist holds no entries
 * @ret: malloc()ed array of PF addresses the caller frees
 * @n:   its length
 *
 * Return: 0, -ENOMEM, or -errno of reading @dir.
 */
int xvf_journal_pf_list(const char *dir, char (**ret)[XVF_BDF_LEN],
                        unsigned int *n);

/**
 * xvf_lock_pf() - take the exclusive lock of @pf, waiting for it
 * @dir: state directory, created when missing
 * @pf:  PF address
 * @fd:  the lock; give it to xvf_unlock_pf()
 *
 * Return: 0, -ENAMETOOLONG, or -errno of creating or locking the file.
 */
int xvf_lock_pf(const char *dir, const char *pf, int *fd);

/**
 * xvf_lock_pf_timed() - take the exclusive lock of @pf, waiting at most
 * @timeout_ms for it
 * @dir:        state directory, created when missing
 * @pf:         PF address
 * @timeout_ms: how long another holder may keep it
 * @fd:         the lock; give it to xvf_unlock_pf()
 *
 * Return: 0, -ETIMEDOUT (another process held it all that time; see
 * xvf_lock_pf_holder()), -ENAMETOOLONG, or -errno of creating or locking
 * the file.
 */
int xvf_lock_pf_timed(const char *dir, const char *pf,
                      unsigned int timeout_ms, int *fd);

/**
 * xvf_lock_pf_holder() - who holds the lock of @pf, as /proc/locks says
 * @dir:  state directory
 * @pf:   PF address
 * @pid:  set to the holder's process id
 * @comm: receives its command name (/proc/PID/comm), "" when unknown
 * @len:  size of @comm
 *
 * Return: 0, -ENOENT when no holder is listed (it may have just let go,
 * or live in another pid namespace), or -errno of reading /proc/locks.
 */
int xvf_lock_pf_holder(const char *dir, const char *pf, long *pid,
                       char *comm, size_t len);

/**
 * xvf_unlock_pf() - release a lock from xvf_lock_pf()
 * @fd: the lock; a negative value is ignored
 */
void xvf_unlock_pf(int fd);

/**
 * xvf_state_dir_init() - create the state directory (mode 0700)
 * @dir: its path; its parent must exist
 *
 * Return: 0 (also when it exists), or -errno of mkdir().
 */
int xvf_state_dir_init(const char *dir);

#endif
