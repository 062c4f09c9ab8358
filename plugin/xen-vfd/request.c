/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfd.c - xen-vfd's request handling (DomD side of docs/protocol.md)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "engine/journal.h"
#include "xen/xs.h"
#include "vfd.h"

#define DOMID_UNKNOWN 0x7ff4u  /* DOMID_INVALID */

struct step_ctx {
    const char *req;
};

static void log_step(void *opaque, const char *step, const char *detail)
{
    const struct step_ctx *ctx = opaque;

    vfd_log(LOG_INFO, "%s: step %s: %s", ctx->req, step, detail);
}

static bool owner_domid(const char *owner, unsigned int *domid)
{
    static const char pfx[] = "domain:";

    return !strncmp(owner, pfx, sizeof(pfx) - 1) &&
        !xvf_proto_parse_domid(owner + sizeof(pfx) - 1, domid);
}

/*
 * A domain is gone when xenstored no longer knows it and the toolstack
 * has removed its /local/domain/N. Either alone is not enough: only a
 * privileged domain may ask xenstored, and libxl removes the path before
 * it destroys the domain. Any doubt keeps the VF: releasing one under a
 * running guest is worse than holding it a little longer.
 */
static bool domain_alive(struct vfd *d, unsigned int domid)
{
    char path[64], *v;

    if (d->domd == 0 && xs_is_domain_introduced(d->xsh, domid))
        return true;
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    v = xvf_xs_read(d->xsh, XBT_NULL, path);
    if (v) {
        free(v);
        return true;
    }
    return errno != ENOENT;
}

/* Owner (first permission entry) of @path, or -errno. */
static int node_owner(struct vfd *d, xs_transaction_t t, const char *path,
                      unsigned int *owner)
{
    struct xs_permissions *perms;
    unsigned int n;

    perms = xs_get_permissions(d->xsh, t, path, &n);
    if (!perms)
        return -errno;
    if (!n) {
        free(perms);
        return -EPROTO;
    }
    *owner = perms[0].id;
    free(perms);
    return 0;
}

struct answer_ctx {
    struct vfd *d;
    unsigned int domid, devid;
    const char *state, *bdf, *error;
};

static int answer_txn(struct xs_handle *xsh, xs_transaction_t t, void *opaque)
{
    const struct answer_ctx *a = opaque;
    char path[XVF_PROTO_PATH_MAX], clean[XVF_PROTO_ERROR_MAX + 1];
    unsigned int domd = a->d->domd;
    char *cur;

    xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                           XVF_PROTO_STATE);
    cur = xvf_xs_read(xsh, t, path);
    if (!cur)
        return -errno;
    free(cur);
    if (a->bdf) {
        xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                               XVF_PROTO_BDF);
        if (!xs_write(xsh, t, path, a->bdf, strlen(a->bdf)))
            return -errno;
    }
    if (a->error) {
        xvf_proto_clean_error(clean, a->error);
        xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                               XVF_PROTO_ERROR);
        if (!xs_write(xsh, t, path, clean, strlen(clean)))
            return -errno;
    }
    xvf_proto_request_path(path, sizeof(path), domd, a->domid, a->devid,
                           XVF_PROTO_STATE);
    if (!xs_write(xsh, t, path, a->state, strlen(a->state)))
        return -errno;
    return 0;
}

/*
 * Write the answer nodes of a request that still exists, in one
 * transaction: never re-create a request someone removed (the nodes
 * would be ours, and a stale answer could be mistaken for a new one).
 * Return: 0, -ENOENT when the request is gone, or -errno.
 */
static int answer(struct vfd *d, unsigned int domid, unsigned int devid,
                  enum xvf_proto_state state, const char *bdf,
                  const char *error)
{
    struct answer_ctx a = {
        .d = d, .domid = domid, .devid = devid,
        .state = xvf_proto_state_name(state), .bdf = bdf, .error = error,
    };

    return xvf_xs_txn(d->xsh, answer_txn, &a);
}

/* Remove the guest's directory if it is empty; 1 when it is not. */
static int remove_empty_txn(struct xs_handle *xsh, xs_transaction_t t,
                            void *opaque)
{
    const char *path = opaque;
    unsigned int n;
    char **ids;

    ids = xs_directory(xsh, t, path, &n);
    if (!ids)
        return -errno;
    free(ids);
    if (n)
        return 1;
    return xs_rm(xsh, t, path) ? 0 : -errno;
}

/* Remove a request, and its guest's directory when that is empty. */
static void remove_request(struct vfd *d, unsigned int domid,
                           unsigned int devid)
{
    char path[XVF_PROTO_PATH_MAX];

    xvf_proto_request_path(path, sizeof(path), d->domd, domid, devid, NULL);
    if (!xs_rm(d->xsh, XBT_NULL, path) && errno != ENOENT)
        vfd_log(LOG_WARNING, "cannot remove %s: %s", path,
                strerror(errno));

    xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
    xvf_xs_txn(d->xsh, remove_empty_txn, path);
}

/* What the hotplug script is told about a VF. */
struct hook_vf {
    enum xvf_class cls;
    const char *spec, *pf, *vf;
    unsigned int domid, scid, nsid;
};

static int wait_child(pid_t pid, unsigned int timeout_s, int *status)
{
    struct pollfd pfd;
    int fd, r;

    /* A pidfd gives the wait a bound without a SIGCHLD handler. */
    fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        pfd.fd = fd;
        pfd.events = POLLIN;
        do {
            r = poll(&pfd, 1, timeout_s * 1000);
        } while (r < 0 && errno == EINTR);
        close(fd);
        if (r == 0) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            return -ETIMEDOUT;
        }
    }
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

/*
 * Run the hotplug script (Xen's protocol: "add" must end with
 * hotplug-status = connected under XENBUS_PATH, or leave hotplug-error).
 * No script installed is fine; a failing "remove" is only logged by the
 * caller.
 */
static int run_script(struct vfd *d, const char *label, const char *cmd,
                      const char *xbpath, const struct hook_vf *h,
                      struct xvf_err *err)
{
    char env[9][XVF_PROTO_PATH_MAX + 32], *envp[10], *argv[3];
    char path[XVF_PROTO_PATH_MAX + 32], *st, *msg;
    sigset_t all;
    struct stat sb;
    int status = 0, rc, i = 0;
    pid_t pid;

    if (!d->script || !d->script[0])
        return 0;
    if (stat(d->script, &sb) && errno == ENOENT)
        return 0;

    snprintf(env[i++], sizeof(env[0]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    snprintf(env[i++], sizeof(env[0]), "XENBUS_PATH=%s", xbpath);
    snprintf(env[i++], sizeof(env[0]), "XVF_CLASS=%s",
             h->cls == XVF_CLASS_NET ? "net" : "nvme");
    snprintf(env[i++], sizeof(env[0]), "XVF_SPEC=%s", h->spec);
    snprintf(env[i++], sizeof(env[0]), "XVF_PF=%s", h->pf);
    snprintf(env[i++], sizeof(env[0]), "XVF_VF=%s", h->vf);
    snprintf(env[i++], sizeof(env[0]), "XVF_DOMID=%u", h->domid);
    snprintf(env[i++], sizeof(env[0]), "XVF_SCID=%u", h->scid);
    snprintf(env[i++], sizeof(env[0]), "XVF_NSID=%u", h->nsid);
    for (rc = 0; rc < i; rc++)
        envp[rc] = env[rc];
    envp[i] = NULL;
    argv[0] = (char *)d->script;
    argv[1] = (char *)cmd;
    argv[2] = NULL;

    vfd_log(LOG_INFO, "%s: %s %s %s", label, d->script, cmd, h->vf);
    pid = fork();
    if (pid < 0)
        return xvf_err_set(err, -errno, "cannot run %s: %s", d->script,
                           strerror(errno));
    if (pid == 0) {
        /* Only async-signal-safe calls: libxenstore runs a thread. */
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        setpgid(0, 0);
        execve(d->script, argv, envp);
        _exit(127);
    }
    setpgid(pid, pid);
    rc = wait_child(pid, d->script_timeout, &status);
    if (rc == -ETIMEDOUT)
        return xvf_err_set(err, rc, "%s %s did not finish within %u s",
                           d->script, cmd, d->script_timeout);
    if (rc)
        return xvf_err_set(err, rc, "waiting for %s: %s", d->script,
                           strerror(-rc));

    if (strcmp(cmd, "add")) {
        if (WIFEXITED(status) && !WEXITSTATUS(status))
            return 0;
        return xvf_err_set(err, -EIO, "%s %s failed (status 0x%x)",
                           d->script, cmd, status);
    }
    snprintf(path, sizeof(path), "%s/hotplug-status", xbpath);
    st = xvf_xs_read(d->xsh, XBT_NULL, path);
    if (st && !strcmp(st, "connected") && WIFEXITED(status) &&
        !WEXITSTATUS(status)) {
        free(st);
        return 0;
    }
    free(st);
    snprintf(path, sizeof(path), "%s/hotplug-error", xbpath);
    msg = xvf_xs_read(d->xsh, XBT_NULL, path);
    rc = xvf_err_set(err, -EIO, "site hook: %s",
                     msg && msg[0] ? msg : "xen-vf add did not connect");
    free(msg);
    return rc;
}

static void do_prepare(struct vfd *d, const char *label, unsigned int domid,
                       unsigned int devid, const struct xvf_proto_request *req)
{
    struct step_ctx ctx = { .req = label };
    struct xvf_engine_config cfg = d->cfg;
    char owner[32], xbpath[XVF_PROTO_PATH_MAX];
    struct xvf_err err, rerr;
    struct hook_vf hook;
    struct xvf_vf vf;
    int rc;

    xvf_err_clear(&err);
    if (!domain_alive(d, domid)) {
        vfd_log(LOG_WARNING, "%s: prepare %s: domain %u does not exist",
                label, req->text, domid);
        answer(d, domid, devid, XVF_PS_ERROR, NULL,
               "the domain the VF is for does not exist");
        return;
    }
    rc = answer(d, domid, devid, XVF_PS_PREPARING, NULL, NULL);
    if (rc) {
        if (rc != -ENOENT)
            vfd_log(LOG_ERR, "%s: cannot answer: %s", label, strerror(-rc));
        return;
    }

    vfd_log(LOG_INFO, "%s: prepare %s for domain %u", label, req->text,
            domid);
    snprintf(owner, sizeof(owner), "domain:%u", domid);
    cfg.step_cb = log_step;
    cfg.opaque = &ctx;
    rc = xvf_prepare(&cfg, &req->spec, owner, &vf, &err);
    if (rc) {
        vfd_log(LOG_ERR, "%s: prepare %s: %s", label, req->text,
                err.msg[0] ? err.msg : strerror(-rc));
        rc = answer(d, domid, devid, XVF_PS_ERROR, NULL,
                    err.msg[0] ? err.msg : strerror(-rc));
        if (rc && rc != -ENOENT)
            vfd_log(LOG_ERR, "%s: cannot answer: %s", label, strerror(-rc));
        return;
    }

    hook.cls = req->spec.cls;
    hook.spec = req->text;
    hook.pf = vf.pf;
    hook.vf = vf.vf;
    hook.domid = domid;
    hook.scid = vf.scid;
    hook.nsid = vf.nsid;
    xvf_proto_request_path(xbpath, sizeof(xbpath), d->domd, domid, devid,
                           NULL);
    rc = run_script(d, label, "add", xbpath, &hook, &err);
    if (rc) {
        /* Released before the answer, like any failed prepare. */
        vfd_log(LOG_ERR, "%s: %s; releasing %s", label, err.msg, vf.vf);
        xvf_err_clear(&rerr);
        if (xvf_release(&cfg, vf.vf, &rerr) < 0)
            vfd_log(LOG_ERR, "%s: release %s: %s", label, vf.vf, rerr.msg);
        answer(d, domid, devid, XVF_PS_ERROR, NULL, err.msg);
        return;
    }

    vfd_log(LOG_NOTICE, "%s: %s ready for domain %u: VF %s (PF %s, "
            "secondary 0x%x, namespace %u)", label, req->text, domid, vf.vf,
            vf.pf, vf.scid, vf.nsid);
    rc = answer(d, domid, devid, XVF_PS_READY, vf.vf, NULL);
    if (!rc)
        return;
    /* Nobody is waiting for this VF any more: do not leak it. */
    vfd_log(LOG_WARNING, "%s: request gone before the answer (%s); "
            "releasing %s", label, strerror(-rc), vf.vf);
    xvf_err_clear(&err);
    rc = xvf_release(&cfg, vf.vf, &err);
    if (rc && rc != -ENOENT)
        vfd_log(LOG_ERR, "%s: release %s: %s", label, vf.vf, err.msg);
}

/* Tell the hotplug script a VF is about to go; it cannot stop that. */
static void hook_remove(struct vfd *d, const char *label,
                        const struct xvf_entry *e, unsigned int domid,
                        const char *xbpath)
{
    struct hook_vf hook = {
        .cls = e->cls, .spec = e->spec, .pf = e->pf, .vf = e->vf,
        .domid = domid, .scid = e->scid, .nsid = e->nsid,
    };
    struct xvf_err err;

    if (e->state != XVF_ENTRY_READY)
        return;     /* "add" never ran for it */
    xvf_err_clear(&err);
    if (run_script(d, label, "remove", xbpath, &hook, &err))
        vfd_log(LOG_WARNING, "%s: %s", label, err.msg);
}

/*
 * Release what the journal holds for @domid that matches the request:
 * its VF when the request was answered, else its spec. Only entries of
 * that domain are touched, whatever the request says.
 */
static int release_matching(struct vfd *d, const char *label,
                            unsigned int domid, unsigned int devid,
                            const char *canonical, const char *bdf,
                            struct xvf_err *err)
{
    char xbpath[XVF_PROTO_PATH_MAX];
    struct step_ctx ctx = { .req = label };
    struct xvf_engine_config cfg = d->cfg;
    struct xvf_entry *list = NULL;
    unsigned int i, n = 0, id;
    const char *what;
    int rc, released = 0;

    cfg.step_cb = log_step;
    cfg.opaque = &ctx;
    rc = xvf_journal_list(cfg.state_dir, NULL, &list, &n);
    if (rc)
        return xvf_err_set(err, rc, "cannot read the journal in %s: %s",
                           cfg.state_dir, strerror(-rc));
    for (i = 0; i < n; i++) {
        if (!owner_domid(list[i].owner, &id) || id != domid)
            continue;
        if (bdf && bdf[0] ? strcmp(list[i].vf, bdf)
                          : strcmp(list[i].spec, canonical))
            continue;
        what = list[i].vf[0] ? list[i].vf : list[i].spec;
        vfd_log(LOG_INFO, "%s: release %s (%s) of domain %u", label, what,
                list[i].spec, domid);
        xvf_proto_request_path(xbpath, sizeof(xbpath), d->domd, domid, devid,
                               NULL);
        hook_remove(d, label, &list[i], domid, xbpath);
        rc = xvf_release(&cfg, what, err);
        if (rc && rc != -ENOENT)
            break;
        rc = 0;
        released++;
    }
    free(list);
    return rc ? rc : released;
}

static void do_release(struct vfd *d, const char *label, unsigned int domid,
                       unsigned int devid, const struct xvf_proto_request *req,
                       const char *bdf)
{
    char canonical[XVF_SPEC_MAX + 1], msg[XVF_ERR_MSG_MAX + 32];
    struct xvf_err err;
    int rc;

    xvf_err_clear(&err);
    if (answer(d, domid, devid, XVF_PS_RELEASING, NULL, NULL))
        return;
    xvf_spec_format(&req->spec, canonical, sizeof(canonical));
    rc = release_matching(d, label, domid, devid, canonical, bdf, &err);
    if (rc < 0) {
        vfd_log(LOG_ERR, "%s: release %s of domain %u: %s", label,
                req->text, domid, err.msg);
        snprintf(msg, sizeof(msg), "release failed: %s", err.msg);
        answer(d, domid, devid, XVF_PS_ERROR, NULL, msg);
        return;
    }
    if (rc)
        vfd_log(LOG_NOTICE, "%s: released %s of domain %u", label,
                req->text, domid);
    else
        vfd_log(LOG_INFO, "%s: nothing held for %s of domain %u", label,
                req->text, domid);
    remove_request(d, domid, devid);
}

/*
 * Same as for the request directory: the owner must be Dom0. A missing
 * node passes (the decoder refuses the request for it); one that cannot
 * be read gives an owner that is no domain.
 */
static bool dom0_node(struct vfd *d, xs_transaction_t t, const char *dir,
                      const char *node, unsigned int *owner)
{
    char path[XVF_PROTO_PATH_MAX + 8];
    int rc;

    *owner = DOMID_UNKNOWN;
    snprintf(path, sizeof(path), "%s/%s", dir, node);
    rc = node_owner(d, t, path, owner);
    if (rc == -ENOENT)
        return true;
    if (rc)
        *owner = DOMID_UNKNOWN;
    return !rc && *owner == 0;
}

/* A request as read in one transaction. */
struct snapshot {
    struct vfd *d;
    unsigned int domid, devid;
    const char *dir;
    unsigned int owner;
    char *spec, *op, *state, *bdf;
};

/* Reads only: always aborts, 1 once read or the error reading the owner. */
static int snapshot_txn(struct xs_handle *xsh, xs_transaction_t t,
                        void *opaque)
{
    struct snapshot *r = opaque;
    static const char *const nodes[] = {
        XVF_PROTO_SPEC, XVF_PROTO_OP, XVF_PROTO_STATE, XVF_PROTO_BDF,
    };
    char **vals[] = { &r->spec, &r->op, &r->state, &r->bdf };
    char path[XVF_PROTO_PATH_MAX];
    unsigned int i, o;
    int rc;

    rc = node_owner(r->d, t, r->dir, &r->owner);
    if (rc)
        return rc;
    if (r->owner == 0 && (!dom0_node(r->d, t, r->dir, XVF_PROTO_SPEC, &o) ||
                          !dom0_node(r->d, t, r->dir, XVF_PROTO_OP, &o)))
        r->owner = o;
    for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        xvf_proto_request_path(path, sizeof(path), r->d->domd, r->domid,
                               r->devid, nodes[i]);
        *vals[i] = xvf_xs_read(xsh, t, path);
    }
    return 1;
}

static void handle_request(struct vfd *d, unsigned int domid,
                           unsigned int devid, bool startup)
{
    char dir[XVF_PROTO_PATH_MAX], label[32];
    struct snapshot r = {
        .d = d, .domid = domid, .devid = devid, .dir = dir,
    };
    struct xvf_proto_request req;
    enum xvf_proto_state st;
    struct xvf_err err;
    int rc;

    xvf_err_clear(&err);
    snprintf(label, sizeof(label), "request %u/%u", domid, devid);
    xvf_proto_request_path(dir, sizeof(dir), d->domd, domid, devid, NULL);

    rc = xvf_xs_txn(d->xsh, snapshot_txn, &r);
    if (rc < 0) {
        if (rc != -ENOENT)
            vfd_log(LOG_ERR, "%s: reading %s: %s", label, dir,
                    strerror(-rc));
        return;
    }

    rc = xvf_proto_decode_request(r.owner, r.spec, r.op, &req, &err);
    if (rc == -EPERM) {
        vfd_log(LOG_WARNING, "%s: ignored: %s", label, err.msg);
        goto out;
    }
    if (!r.state || xvf_proto_state_parse(r.state, &st))
        goto out;   /* not (yet) a whole request */
    if (rc) {
        /* A malformed prepare is answered; anything else waits. */
        if (r.op && !strcmp(r.op, xvf_proto_op_name(XVF_OP_PREPARE)) &&
            st == XVF_PS_REQUESTED) {
            vfd_log(LOG_WARNING, "%s: refused: %s", label, err.msg);
            answer(d, domid, devid, XVF_PS_ERROR, NULL, err.msg);
        } else if (r.op && !strcmp(r.op, xvf_proto_op_name(XVF_OP_RELEASE))) {
            remove_request(d, domid, devid);
        }
        goto out;
    }

    switch (req.op) {
    case XVF_OP_PREPARE:
        /* "preparing" at start: an earlier xen-vfd died on it. */
        if (st == XVF_PS_REQUESTED || (startup && st == XVF_PS_PREPARING))
            do_prepare(d, label, domid, devid, &req);
        break;
    case XVF_OP_RELEASE:
        if (st != XVF_PS_RELEASING || startup)
            do_release(d, label, domid, devid, &req, r.bdf);
        break;
    }

out:
    free(r.spec);
    free(r.op);
    free(r.state);
    free(r.bdf);
}

/* Release the VFs and requests of every domain that is gone. */
static void release_gone(struct vfd *d)
{
    struct xvf_entry *list = NULL;
    char owner[32], label[32], path[XVF_PROTO_PATH_MAX], **ids;
    unsigned int i, j, n = 0, nids, domid;
    struct xvf_err err;
    int rc;

    rc = xvf_journal_list(d->cfg.state_dir, NULL, &list, &n);
    if (rc)
        vfd_log(LOG_ERR, "cannot read the journal in %s: %s",
                d->cfg.state_dir, strerror(-rc));
    for (i = 0; i < n; i++) {
        if (!owner_domid(list[i].owner, &domid) || domain_alive(d, domid))
            continue;
        for (j = 0; j < i; j++)
            if (!strcmp(list[j].owner, list[i].owner))
                break;
        if (j < i)
            continue;   /* this owner was done already */
        snprintf(owner, sizeof(owner), "domain:%u", domid);
        snprintf(label, sizeof(label), "domain %u", domid);
        xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
        for (j = i; j < n; j++)
            if (!strcmp(list[j].owner, owner))
                hook_remove(d, label, &list[j], domid, path);
        xvf_err_clear(&err);
        rc = xvf_release_owner(&d->cfg, owner, &err);
        if (rc < 0)
            vfd_log(LOG_ERR, "domain %u is gone; releasing its VFs: %s",
                    domid, err.msg);
        else
            vfd_log(LOG_NOTICE, "domain %u is gone; released %d VF(s)",
                    domid, rc);
    }
    free(list);

    ids = xs_directory(d->xsh, XBT_NULL, d->root, &nids);
    for (i = 0; ids && i < nids; i++) {
        if (xvf_proto_parse_domid(ids[i], &domid) || domain_alive(d, domid))
            continue;
        xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
        if (xs_rm(d->xsh, XBT_NULL, path))
            vfd_log(LOG_INFO, "domain %u is gone; removed its requests",
                    domid);
        else if (errno != ENOENT)
            vfd_log(LOG_WARNING, "cannot remove %s: %s", path,
                    strerror(errno));
    }
    free(ids);
}

static void scan(struct vfd *d, bool startup)
{
    char path[XVF_PROTO_PATH_MAX], **doms, **devs;
    unsigned int i, j, ndoms, ndevs, domid, devid;

    release_gone(d);
    doms = xs_directory(d->xsh, XBT_NULL, d->root, &ndoms);
    for (i = 0; doms && i < ndoms; i++) {
        if (xvf_proto_parse_domid(doms[i], &domid))
            continue;
        xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
        devs = xs_directory(d->xsh, XBT_NULL, path, &ndevs);
        for (j = 0; devs && j < ndevs; j++)
            if (!xvf_proto_parse_devid(devs[j], &devid))
                handle_request(d, domid, devid, startup);
        free(devs);
    }
    free(doms);
}

int vfd_init(struct vfd *d, struct xs_handle *xsh, unsigned int domd)
{
    d->xsh = xsh;
    d->domd = domd;
    return xvf_proto_root_path(d->root, sizeof(d->root), domd);
}

int vfd_start(struct vfd *d)
{
    struct xvf_err err;
    int rc;

    xvf_err_clear(&err);
    rc = xvf_state_dir_init(d->cfg.state_dir);
    if (rc) {
        vfd_log(LOG_ERR, "state directory %s: %s", d->cfg.state_dir,
                strerror(-rc));
        return rc;
    }
    rc = xvf_reconcile(&d->cfg, &err);
    if (rc < 0) {
        vfd_log(LOG_ERR, "reconcile: %s", err.msg);
        return rc;
    }
    if (rc)
        vfd_log(LOG_NOTICE, "reconcile: rolled back %d interrupted "
                "run(s)", rc);

    /* Watches first, then the scan: nothing falls between the two. */
    if (!xs_watch(d->xsh, d->root, VFD_TOKEN_REQUEST) ||
        !xs_watch(d->xsh, "@releaseDomain", VFD_TOKEN_RELEASE)) {
        rc = -errno;
        vfd_log(LOG_ERR, "cannot watch %s: %s", d->root, strerror(errno));
        return rc;
    }
    scan(d, true);
    return 0;
}

int vfd_set_status(struct vfd *d, const char *status)
{
    char path[XVF_PROTO_PATH_MAX], ver[8];

    snprintf(ver, sizeof(ver), "%d", XVF_PROTO_VERSION);
    xvf_proto_version_path(path, sizeof(path), d->domd);
    if (!xs_write(d->xsh, XBT_NULL, path, ver, strlen(ver)))
        return -errno;
    xvf_proto_status_path(path, sizeof(path), d->domd);
    if (!xs_write(d->xsh, XBT_NULL, path, status, strlen(status)))
        return -errno;
    return 0;
}

void vfd_event(struct vfd *d, const char *path, const char *token)
{
    static const char *const ours[] = {
        XVF_PROTO_STATE, XVF_PROTO_BDF, XVF_PROTO_ERROR, "hotplug-status",
        "hotplug-error",
    };
    unsigned int domd, domid, devid, i;
    const char *node;
    size_t len;

    if (!strcmp(token, VFD_TOKEN_RELEASE)) {
        release_gone(d);
        return;
    }
    if (strcmp(token, VFD_TOKEN_REQUEST))
        return;
    if (xvf_proto_parse_path(path, &domd, &domid, &devid, &node) ||
        domd != d->domd)
        return;
    /* Our own answers fire the watch too: only Dom0's nodes matter. */
    len = strcspn(node, "/");
    for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (len == strlen(ours[i]) && !strncmp(node, ours[i], len))
            return;
    handle_request(d, domid, devid, false);
}

void vfd_rescan(struct vfd *d)
{
    scan(d, false);
}
