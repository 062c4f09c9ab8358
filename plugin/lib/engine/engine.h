/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * engine.h - prepare and release SR-IOV virtual functions in the driver
 * domain
 *
 * The engine is what xen-vfd runs for a request and what
 * "xen-vfctl prepare --local" runs directly: it needs no xenstore. Every
 * step is journaled before it runs (journal.h) and is idempotent, so a run
 * interrupted at any point can be finished or undone by a later one. Steps
 * on one physical function are serialised by a lock per PF.
 *
 * NVMe prepare order (class-nvme.c; each step undone in reverse on
 * failure):
 *   resolve the PF, check SR-IOV and Virtualization Management,
 *   Identify primary capabilities and secondary list, pick a secondary,
 *   check the namespace, sriov_drivers_autoprobe = 0,
 *   assign VQ and VI (virt-mgmt act 8), sriov_numvfs, online (act 9),
 *   attach the namespace, bind the VF (driver_override + drivers_probe)
 *   and wait for nvme's probe to bring its controller live.
 *   The PF's interrupt health check (an Identify Controller with a short
 *   timeout whose admin queue interrupt must fire) runs before the first
 *   command, right after sriov_numvfs and at the end.
 *
 * NIC prepare order (class-net.c):
 *   resolve the PF from its netdev or address, check SR-IOV, that the PF
 *   is up (or bring it up when @bring_pf_up) and the VF driver exists,
 *   pick a free VF (enabled, not journaled, unbound) or plan to enable
 *   VFs when none is enabled, sriov_drivers_autoprobe = 0, sriov_numvfs,
 *   set mac/vlan/qos/spoofchk/trust/rate through rtnetlink on the PF and
 *   read them back, bind the VF.
 */
#ifndef XVF_ENGINE_H
#define XVF_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/spec.h"
#include "util/err.h"

/**
 * typedef xvf_step_fn - progress callback, one call per step that starts
 * @opaque: xvf_engine_config.opaque
 * @step:   short step name ("assign-vq", "online", ...)
 * @detail: what it does, with the concrete numbers
 */
typedef void (*xvf_step_fn)(void *opaque, const char *step,
                            const char *detail);

/**
 * struct xvf_engine_config - engine settings
 * @state_dir:       journal and lock directory (created if missing)
 * @step_cb:         optional progress callback
 * @opaque:          passed to @step_cb
 * @bind_timeout_ms: bound on waiting for a VF to appear, bind and finish
 *                   its driver's probe (nvme: a live controller), and
 *                   for a NIC PF's link to come back after VFs are
 *                   enabled (when a rate= needs it)
 * @bring_pf_up:     bring a NIC PF that is down up instead of refusing
 *                   (it is left up after release)
 * @net_numvfs:      VFs to enable on a NIC PF that has none enabled;
 *                   0 = XVF_NET_NUMVFS_DEFAULT, capped at sriov_totalvfs.
 *                   sriov_numvfs cannot grow while a VF is in use, so this
 *                   is how many NIC VFs of one PF can be held at once.
 * @lock_timeout_ms: how long a prepare or release waits for the PF's lock
 *                   while another process (a second prepare, xen-vfctl
 *                   nvme-layout --apply) holds it; 0 =
 *                   XVF_LOCK_TIMEOUT_DEFAULT_MS. It then fails with
 *                   -ETIMEDOUT, naming the holder.
 * @health_timeout_ms: timeout of the Identify Controller that checks an
 *                   NVMe PF's interrupts before any change, after VFs are
 *                   enabled and at the end; 0 =
 *                   XVF_HEALTH_TIMEOUT_DEFAULT_MS. A command that takes
 *                   about all of it completed by polling, not by its
 *                   interrupt.
 * @keep_vfs_ms:     keep a PF's VFs enabled this long after its last VF
 *                   was released (0, the default: disable them at once).
 *                   A released VF is offline, detached and unbound while
 *                   it waits, so nothing usable is left on it; a prepare
 *                   in that time skips enabling VFs (and the release
 *                   before it skipped disabling them). Only a release of
 *                   a VF that was handed out keeps them; a failed
 *                   prepare, reconcile and xvf_engine_cool() end it.
 */
struct xvf_engine_config {
    const char *state_dir;
    xvf_step_fn step_cb;
    void *opaque;
    unsigned int bind_timeout_ms;
    bool bring_pf_up;
    unsigned int net_numvfs;
    unsigned int lock_timeout_ms;
    unsigned int health_timeout_ms;
    unsigned int keep_vfs_ms;
};

#define XVF_NET_NUMVFS_DEFAULT 8

/*
 * Well inside libxl's wait for a prepare (60 s by default, the provider's
 * "timeout"), which also has to cover the prepare and the hotplug script.
 */
#define XVF_LOCK_TIMEOUT_DEFAULT_MS 20000

/*
 * An Identify Controller answers in micro- to milliseconds; lost
 * interrupts show as the whole timeout (the nvme driver's default,
 * admin_timeout, is 60 s: as long as libxl's whole wait).
 */
#define XVF_HEALTH_TIMEOUT_DEFAULT_MS 2000

/* The largest values xvf_engine_config_from_env() accepts */
#define XVF_NET_NUMVFS_MAX 65535        /* sriov_totalvfs is 16 bits */
#define XVF_TIMEOUT_MAX_MS 600000       /* ten minutes */

/**
 * xvf_engine_lock_pf() - take the lock of @pf, waiting at most
 * @timeout_ms while another process holds it
 * @dir:        state directory (created when missing)
 * @pf:         PF address
 * @timeout_ms: the deadline; 0 = XVF_LOCK_TIMEOUT_DEFAULT_MS
 * @lock:       receives the lock's descriptor, for xvf_unlock_pf()
 * @err:        why not; after the deadline it names the holder (pid and
 *              command) when /proc/locks shows it
 *
 * What everything that changes a PF takes first: prepare, release,
 * reconcile and xen-vfctl nvme-layout --apply.
 *
 * Return: 0, -ETIMEDOUT when the deadline passed, or -errno.
 */
int xvf_engine_lock_pf(const char *dir, const char *pf,
                       unsigned int timeout_ms, int *lock,
                       struct xvf_err *err);

/**
 * xvf_engine_config_from_env() - settings from the environment
 * @cfg: settings to update
 * @err: which setting is wrong
 *
 * For the daemon's systemd unit (EnvironmentFile=) and the CLI alike:
 * XEN_VF_STATE_DIR (journal and locks), XEN_VF_BRING_PF_UP=1|yes|0|no
 * (bring a NIC PF that is down up), XEN_VF_NET_NUMVFS=N (VFs to enable on
 * a NIC PF, at most XVF_NET_NUMVFS_MAX), XEN_VF_LOCK_TIMEOUT_MS=N (wait
 * for a PF's lock) and XEN_VF_HEALTH_TIMEOUT_MS=N (the NVMe PF health
 * check's timeout, also the bound on a rollback's commands on a PF that
 * lost its interrupts), both at most XVF_TIMEOUT_MAX_MS. Numbers are
 * decimal, the whole value (xvf_parse_ulong()). Settings not in the
 * environment, or empty, are left as they are.
 *
 * Return: 0, or -EINVAL naming the variable and its value; then @cfg is
 * unchanged.
 */
int xvf_engine_config_from_env(struct xvf_engine_config *cfg,
                               struct xvf_err *err);

/**
 * struct xvf_vf - a prepared VF, as answered to the requester
 * @pf:    PF address, "DDDD:BB:DD.F"
 * @vf:    VF address
 * @scid:  NVMe secondary controller id (NVMe only)
 * @nsid:  namespace attached to it (NVMe only)
 */
struct xvf_vf {
    char pf[16];
    char vf[16];
    uint16_t scid;
    uint32_t nsid;
};

/*
 * Owners. An owner names one request: the VF prepared for it is its own,
 * and nobody else's. xen-vfd's owners are "domain:DOMID/DEVID", the
 * request's place in xenstore; versions before that wrote "domain:DOMID"
 * (one owner per domain), which is still read as "that domain, any
 * request". Any other text (xen-vfctl's --owner, "local") is one request
 * too, of no domain.
 */

/* xvf_owner_parse()'s @devid for an owner of the old "domain:N" form */
#define XVF_OWNER_ANY_DEVID 0xffffffffu

/**
 * xvf_owner_request() - the owner of a toolstack request
 * @buf:   receives "domain:DOMID/DEVID"
 * @len:   size of @buf
 * @domid: the guest
 * @devid: the request's number under the guest (its device slot)
 */
void xvf_owner_request(char *buf, size_t len, unsigned int domid,
                       unsigned int devid);

/**
 * xvf_owner_parse() - the domain and request an owner names
 * @owner: a journal owner
 * @domid: set to the domain when it names one
 * @devid: set to the request, or XVF_OWNER_ANY_DEVID for "domain:DOMID"
 *
 * Return: true when @owner is "domain:DOMID/DEVID" or "domain:DOMID"
 * with a domain id below 0x7ff0.
 */
bool xvf_owner_parse(const char *owner, unsigned int *domid,
                     unsigned int *devid);

/**
 * xvf_owner_describe() - an owner as messages name it
 * @owner: a journal owner
 * @buf:   receives "domain 5 (device 0)", "domain 5", or @owner in quotes
 * @len:   size of @buf
 */
void xvf_owner_describe(const char *owner, char *buf, size_t len);

/**
 * xvf_prepare() - prepare a VF for @spec on behalf of @owner
 * @cfg:   engine settings
 * @spec:  what is asked for
 * @owner: the request it is for, e.g. "local" or "domain:5/0" (see
 *         xvf_owner_request()); recorded in the journal
 * @ret:   the VF on success
 * @err:   why not, on failure
 *
 * Preparing the same canonical spec for the same owner again returns the
 * VF already prepared (idempotent). A namespace is held by one owner:
 * another owner asking for it is refused with -EBUSY, naming the holder.
 * A NIC spec is a pool: every owner asking for it gets a VF of its own.
 * On failure every step already done is undone and the device is as it
 * was.
 *
 * Return: 0, or -errno: -ENODEV (no such controller, namespace, PF or
 * network interface), -EBUSY (namespace or resources in use), -ENOSPC (no
 * free secondary or VF, not enough flexible resources), -EOPNOTSUPP (no
 * SR-IOV, no Virtualization Management, command or VF setting not
 * implemented, not a NIC), -ENETDOWN (NIC PF down), -EIO (device error),
 * -ETIMEDOUT.
 */
int xvf_prepare(const struct xvf_engine_config *cfg,
                const struct xvf_spec *spec, const char *owner,
                struct xvf_vf *ret, struct xvf_err *err);

/**
 * xvf_release() - undo everything xvf_prepare() did for one VF
 * @cfg:  engine settings
 * @what: a spec ("vf:...", compared in canonical form) or a VF address
 * @err:  why not, on failure
 *
 * Idempotent: releasing a VF whose release was interrupted finishes it.
 *
 * Return: 0; -EINVAL when @what is neither a spec nor a PCI address;
 * -ENOENT when nothing is prepared for @what; -errno of the first step
 * that failed.
 */
int xvf_release(const struct xvf_engine_config *cfg, const char *what,
                struct xvf_err *err);

/**
 * xvf_release_held() - xvf_release(), only if @owner holds the VF
 * @cfg:   engine settings
 * @what:  as for xvf_release()
 * @owner: as given to xvf_prepare()
 * @err:   why not, on failure
 *
 * The owner is checked under the PF's lock, so a VF released and
 * prepared for another owner since the caller looked is left alone.
 *
 * Return: as xvf_release(); -ENOENT also when the VF is held by another
 * owner.
 */
int xvf_release_held(const struct xvf_engine_config *cfg, const char *what,
                     const char *owner, struct xvf_err *err);

/**
 * xvf_release_owner() - release every VF held by @owner
 * @cfg:   engine settings
 * @owner: as given to xvf_prepare(), compared as text: "domain:5" does
 *         not release what "domain:5/0" holds
 * @err:   why not, on failure
 *
 * Return: number of VFs released, or -errno of the first failure.
 */
int xvf_release_owner(const struct xvf_engine_config *cfg,
                      const char *owner, struct xvf_err *err);

/**
 * xvf_reconcile() - finish or undo what an interrupted run left behind
 * @cfg: engine settings
 * @err: why not, on failure
 *
 * Every journal entry that is not "ready" is rolled back. Entries that are
 * ready are left alone: their owners are checked by the caller (xen-vfd
 * knows which domains exist).
 *
 * Return: number of entries rolled back, or -errno.
 */
int xvf_reconcile(const struct xvf_engine_config *cfg, struct xvf_err *err);

/**
 * struct xvf_lost - a VF the journal holds that no longer works
 * @owner: the owner it is held for (xen-vfd: "domain:DOMID/DEVID")
 * @spec:  its spec, canonical
 * @pf:    its PF
 * @vf:    the VF's address
 * @why:   one line: the VF vanished, or its secondary went offline
 */
struct xvf_lost {
    char owner[48];
    char spec[XVF_SPEC_MAX + 1];
    char pf[16];
    char vf[16];
    char why[200];
};

#define XVF_LOST_MAX 64

/**
 * xvf_check_held() - find held VFs that a reset of their PF killed
 * @cfg:  engine settings (state directory; health_timeout_ms bounds the
 *        one Identify per PF, so a PF without interrupts costs seconds,
 *        not a minute)
 * @lost: at least XVF_LOST_MAX entries
 * @n:    how many were filled
 * @err:  why the check could not run
 *
 * For each PF with a ready VF in the journal: the VF must still exist
 * (sriov_numvfs lowered, or an FLR of the PF, removes it) and, for NVMe,
 * its secondary must still be online in the Secondary Controller List
 * (any reset of the PF's controller takes every secondary offline). Cheap:
 * sysfs plus one Identify per NVMe PF. A PF whose lock is taken (a
 * prepare or release at work) is skipped this time.
 *
 * Return: 0, or -errno when the journal cannot be read.
 */
int xvf_check_held(const struct xvf_engine_config *cfg,
                   struct xvf_lost *lost, unsigned int *n,
                   struct xvf_err *err);

/**
 * xvf_engine_cool() - disable the VFs kept enabled (@keep_vfs_ms) that are due
 * @cfg:     engine settings
 * @all:     every PF whose VFs are only kept, due or not
 * @next_ms: set to the earliest deadline still to come (xvf_now_ms()
 *           time), or 0 when no PF is kept warm; may be NULL
 * @err:     why not, on failure
 *
 * Under each PF's lock: a PF that holds a VF again is left alone, one that
 * holds none is given back what it had (sriov_numvfs, autoprobe) as a
 * release with @keep_vfs_ms 0 would have.
 *
 * Return: number of PFs whose VFs were disabled, or -errno.
 */
int xvf_engine_cool(const struct xvf_engine_config *cfg, bool all,
                    long long *next_ms, struct xvf_err *err);

#endif
