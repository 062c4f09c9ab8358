/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfd.h - xen-vfd's request handling (DomD side of docs/protocol.md)
 *
 * The daemon's main loop (xen-vfd.c) owns the process: options, pidfile,
 * signals, logging, readiness. This part owns what a request means: it
 * reads requests from xenstore, checks them, runs the engine and answers.
 * Everything runs in the one thread of the event loop, one request at a
 * time, so the engine's per-PF lock is never contended from inside.
 */
#ifndef XVF_VFD_H
#define XVF_VFD_H

#include <stdbool.h>

#include <xenstore.h>

#include "engine/engine.h"
#include "xen/homes.h"
#include "xen/protocol.h"

#define VFD_TOKEN_REQUEST "xen-vfd:request"
#define VFD_TOKEN_RELEASE "xen-vfd:releaseDomain"
/* the homes of domains not introduced yet (xen/homes.h), and
 * @introduceDomain, after which @releaseDomain covers them */
#define VFD_TOKEN_HOME "xen-vfd:home"

/**
 * struct vfd - the daemon's state
 * @xsh:   xenstore connection for everything but watches: it holds none,
 *         so libxenstore answers its requests in the calling thread
 *         instead of handing each reply over from its reader thread
 * @xsw:   xenstore connection that holds the watches (may be @xsh)
 * @domd:  this domain's id
 * @root:  /local/domain/DOMD/backend/pci-name, the request area watched
 * @cfg:   engine settings
 * @script:         hotplug script run around prepare and release (see
 *                  hotplug-scripts/xen-vf), NULL or "" for none
 * @script_timeout: seconds the script may take before it is killed
 * @script_required: @script was configured (-S), so its absence fails
 *                  the request instead of meaning "no script installed"
 * @held:           the journal held a VF at the last vfd_check_held() or
 *                  vfd_note_held():
 *                  only then does the main loop wake up to check them
 * @cool_at:        when vfd_cool() has work next (xvf_now_ms() time),
 *                  0 for never
 * @homes:          in Dom0, the homes of requesting domains not yet
 *                  introduced to xenstored, watched (VFD_TOKEN_HOME) for
 *                  their removal (xen/homes.h); freed by vfd_fini()
 * @npending:       requests noted by vfd_event() since the last
 *                  vfd_flush()
 * @pending:        those requests (domain, device slot), each once
 * @nrecent:        how many requests were ever added to @recent
 * @recent:         the last requests handled after an event (a ring):
 *                  for those, two reads tell whether an event calls for
 *                  a decision at all (see request.c)
 */
/* Requests vfd_event() notes before vfd_flush() handles them. */
#define VFD_PENDING_MAX 16
#define VFD_RECENT_MAX 16

/* A request: ~/backend/pci-name/DOMID/DEVID. */
struct vfd_req {
    unsigned int domid, devid;
};

struct vfd {
    struct xs_handle *xsh, *xsw;
    unsigned int domd;
    char root[XVF_PROTO_PATH_MAX];
    struct xvf_engine_config cfg;
    const char *script;
    unsigned int script_timeout;
    bool script_required;
    bool held;
    long long cool_at;
    struct xvf_homes homes;
    unsigned int npending;
    struct vfd_req pending[VFD_PENDING_MAX];
    unsigned int nrecent;
    struct vfd_req recent[VFD_RECENT_MAX];
};

/**
 * vfd_log() - log a line (syslog when daemonized, stderr otherwise)
 * @prio: syslog priority
 * @fmt:  printf format of the line, without a newline
 *
 * Defined by the program (xen-vfd.c, or the test that links the core).
 */
void vfd_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * vfd_init() - connect the request handling to xenstore
 * @d:    filled; @d->cfg must be set by the caller
 * @xsh:  an open xenstore connection, for requests
 * @xsw:  an open xenstore connection for the watches, or NULL to use @xsh;
 *        a second connection keeps @xsh's round trips in one thread
 * @domd: this domain's id
 *
 * Return: 0 or -errno.
 */
int vfd_init(struct vfd *d, struct xs_handle *xsh, struct xs_handle *xsw,
             unsigned int domd);

/**
 * vfd_fini() - free what vfd_init() and the events set up (not the
 * connections)
 * @d: the daemon
 */
void vfd_fini(struct vfd *d);

/**
 * vfd_start() - what xen-vfd does before it says it is ready
 * @d: set up by vfd_init()
 *
 * Rolls back interrupted engine runs (xvf_reconcile()), releases the VFs
 * of domains that no longer exist, sets the two watches, and handles
 * every request already in xenstore, including one interrupted by the
 * death of an earlier xen-vfd.
 *
 * Return: 0 or -errno (the daemon cannot run).
 */
int vfd_start(struct vfd *d);

/**
 * vfd_set_status() - write drivers/xen-vf/{protocol,status}
 * @d:      the daemon
 * @status: XVF_PROTO_STATUS_READY or XVF_PROTO_STATUS_DEAD
 *
 * Return: 0 or -errno.
 */
int vfd_set_status(struct vfd *d, const char *status);

/**
 * vfd_stop() - say that this domain's xen-vfd is not serving
 * @d: set up by vfd_init()
 *
 * Writes drivers/xen-vf/status = "dead", so Dom0 stops sending requests:
 * when xen-vfd stops, before it starts serving (a "ready" left by one
 * that was killed must not stand while this one reconciles), and from the
 * unit's ExecStopPost= (xen-vfd --mark-dead) after any exit, a crash too.
 *
 * Return: 0 or -errno.
 */
int vfd_stop(struct vfd *d);

/**
 * vfd_check_held_due() - the periodic check of the held VFs, when the last
 * one (periodic or on a request) is at least @interval_ms old
 * @d:           the daemon
 * @interval_ms: the period
 *
 * A held VF that vanished or whose secondary went offline (a reset of its
 * PF) is logged once and its request answered "error" ("VF lost: ...").
 */
void vfd_check_held_due(struct vfd *d, unsigned int interval_ms);

/**
 * vfd_event() - take one watch event
 * @d:     the daemon
 * @path:  the path that fired
 * @token: the watch's token
 *
 * A request that changed is only noted, once however many of its nodes
 * fired (Dom0 writes a request's nodes in one transaction: one event
 * each); vfd_flush() handles it. @releaseDomain, and the removal of a
 * watched home, are handled at once; @introduceDomain ends the watches of
 * homes whose domain is introduced; the writes into a home while libxl
 * builds its domain are not looked at.
 */
void vfd_event(struct vfd *d, const char *path, const char *token);

/**
 * vfd_flush() - handle the requests vfd_event() noted, each once, then
 * look at the held VFs once
 * @d: the daemon
 *
 * The main loop calls it once it has taken every event xenstore had
 * sent.
 */
void vfd_flush(struct vfd *d);

/**
 * vfd_rescan() - handle every request and every domain that is gone, as
 * after a start (SIGHUP)
 * @d: the daemon
 */
void vfd_rescan(struct vfd *d);

/**
 * vfd_cool() - disable the VFs kept enabled after a release once they are due
 * @d: the daemon; a no-op unless @d->cfg.keep_vfs_ms
 *
 * Sets @d->cool_at to the next deadline, which the main loop waits for.
 */
void vfd_cool(struct vfd *d);

#endif
