/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfd-priv.h - what the parts of xen-vfd's core share, and nothing else
 * uses
 *
 *   vfd.c       the entry points of vfd.h: start, status, events, rescans
 *   request.c   one request: read, prepare or release, answer
 *   hooks.c     the hotplug script around prepare and release
 *   liveness.c  domains that are gone, and what they held
 *   held.c      held VFs a reset of their PF killed
 *
 * These log what goes wrong themselves (vfd_log()): they are the top of
 * the daemon's work, with nobody above them to tell.
 */
#ifndef XVF_VFD_PRIV_H
#define XVF_VFD_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/journal.h"
#include "vfd.h"

/**
 * vfd_handle_request() - act on request DOMID/DEVID as it now stands
 * @d:       the daemon
 * @domid:   the guest the request is for
 * @devid:   the request's number under the guest's directory
 * @startup: true during vfd_start(): requests an earlier xen-vfd left
 *           half done ("preparing", "releasing") are done again
 *
 * Does nothing for a request that is incomplete, not from Dom0, or
 * already answered.
 */
void vfd_handle_request(struct vfd *d, unsigned int domid,
                        unsigned int devid, bool startup);

/**
 * vfd_check_held() - look for held VFs that no longer work
 * @d: the daemon
 *
 * xvf_check_held(): a VF that vanished or whose secondary went offline (a
 * reset of its PF) is logged once, and its request, when it is a request's
 * and still "ready" with that VF, gets state "error" with "VF lost: ..."
 * (docs/protocol.md). Run at the start, on a rescan and by
 * vfd_check_held_due() (vfd.h).
 */
void vfd_check_held(struct vfd *d);

/**
 * vfd_note_held() - after a batch of requests: whether the journal holds
 * a VF (@d->held), with the device check a period away
 * @d: the daemon
 *
 * The check's Identify and sysfs reads would compete with the toolstack,
 * which goes on with the answers on the same CPUs.
 */
void vfd_note_held(struct vfd *d);


/**
 * struct vfd_hook_vf - what the hotplug script is told about a VF
 * @cls:   the VF's class
 * @spec:  the spec it was prepared for
 * @pf:    its PF's BDF
 * @vf:    its BDF
 * @domid: the guest it is for
 * @scid:  NVMe secondary controller id (0 for net)
 * @nsid:  NVMe namespace id (0 for net)
 */
struct vfd_hook_vf {
    enum xvf_class cls;
    const char *spec, *pf, *vf;
    unsigned int domid, scid, nsid;
};

/**
 * vfd_run_script() - run the hotplug script, at most d->script_timeout s
 * @d:      the daemon (d->script, "" or NULL for none)
 * @label:  what the log line is about
 * @cmd:    "add" or "remove"
 * @xbpath: the request directory, XENBUS_PATH for the script
 * @h:      the VF
 * @err:    why it failed
 *
 * Follows Xen's hotplug protocol: "add" succeeds only when the script
 * exits 0 and leaves hotplug-status = connected under @xbpath; its
 * hotplug-error is the message otherwise. Unless d->script_required
 * (-S), the script is not run at all when its hook directory for the
 * class and @cmd (xen-vf-CLASS-CMD.d next to it) has no *.hook: the
 * shipped script only runs hooks. A script that should run and is
 * missing or not an executable file is an error.
 *
 * Return: 0, -ETIMEDOUT (the script and its process group were killed),
 * -EIO, -ENOENT or -EACCES (the script), -E2BIG (a value too long for
 * its environment), or -errno.
 */
int vfd_run_script(struct vfd *d, const char *label, const char *cmd,
                   const char *xbpath, const struct vfd_hook_vf *h,
                   struct xvf_err *err);

/**
 * vfd_hook_remove() - run the script's "remove" for a journal entry
 * @d:      the daemon
 * @label:  what the log line is about
 * @e:      the entry; nothing runs unless it is ready ("add" ran)
 * @domid:  the guest it was for
 * @xbpath: XENBUS_PATH for the script
 *
 * The script cannot stop the release: a failure is only logged.
 */
void vfd_hook_remove(struct vfd *d, const char *label,
                     const struct xvf_entry *e, unsigned int domid,
                     const char *xbpath);

/**
 * vfd_domain_alive() - whether domain @domid may still exist
 * @d:     the daemon
 * @domid: the domain
 *
 * Return: false only when the domain is surely gone.
 */
bool vfd_domain_alive(struct vfd *d, unsigned int domid);

/**
 * vfd_release_gone() - release the VFs and remove the requests of every
 * domain that is gone (at start, on @releaseDomain, when the home of a
 * domain not introduced yet goes, and on SIGHUP)
 * @d: the daemon
 */
void vfd_release_gone(struct vfd *d);

#endif
