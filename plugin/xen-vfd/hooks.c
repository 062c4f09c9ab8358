/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hooks.c - xen-vfd runs the hotplug script (hotplug-scripts/xen-vf) after
 * a prepare and before a release, with a time limit
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

#include "xen/xs.h"
#include "vfd-priv.h"

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
int vfd_run_script(struct vfd *d, const char *label, const char *cmd,
                   const char *xbpath, const struct vfd_hook_vf *h,
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

/* Tell the hotplug script a VF is about to go; it cannot stop that. */
void vfd_hook_remove(struct vfd *d, const char *label,
                     const struct xvf_entry *e, unsigned int domid,
                     const char *xbpath)
{
    struct vfd_hook_vf hook = {
        .cls = e->cls, .spec = e->spec, .pf = e->pf, .vf = e->vf,
        .domid = domid, .scid = e->scid, .nsid = e->nsid,
    };
    struct xvf_err err;

    if (e->state != XVF_ENTRY_READY)
        return;     /* "add" never ran for it */
    xvf_err_clear(&err);
    if (vfd_run_script(d, label, "remove", xbpath, &hook, &err))
        vfd_log(LOG_WARNING, "%s: %s", label, err.msg);
}
