/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hooks.c - xen-vfd runs the hotplug script (hotplug-scripts/xen-vf) after
 * a prepare and before a release, with a time limit
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "xen/xs.h"
#include "vfd-priv.h"

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Returns 1 once @pid has exited (reaped into @status), 0 if not yet. */
static int reap(pid_t pid, int flags, int *status)
{
    pid_t r;

    while ((r = waitpid(pid, status, flags)) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return r == pid;
}

static int wait_child(pid_t pid, unsigned int timeout_s, int *status)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_s * 1000, now;
    unsigned int nap_ms = 5;
    struct pollfd pfd;
    struct timespec ts;
    int fd, r;

    /* A pidfd gives the wait a bound without a SIGCHLD handler. */
    fd = syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        r = reap(pid, WNOHANG, status);
        if (r)
            break;
        now = now_ms();
        if (now >= deadline) {
            /* The whole process group: what the script started too. */
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            reap(pid, 0, status);
            r = -ETIMEDOUT;
            break;
        }
        if (fd >= 0) {
            pfd.fd = fd;
            pfd.events = POLLIN;
            poll(&pfd, 1, (int)(deadline - now));
            continue;
        }
        /*
         * No pidfd (kernels before 5.3): look again after a sleep that
         * grows to 100 ms, so a quick script costs little and a slow one
         * a few wake-ups a second.
         */
        if (nap_ms > deadline - now)
            nap_ms = deadline - now;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)nap_ms * 1000000;
        nanosleep(&ts, NULL);
        nap_ms = nap_ms * 2 > 100 ? 100 : nap_ms * 2;
    }
    if (fd >= 0)
        close(fd);
    return r < 0 ? r : 0;
}

/* One "NAME=value" of the script's environment; a value is never cut. */
static int env_set(char *buf, size_t len, struct xvf_err *err,
                   const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        return xvf_err_set(err, -E2BIG, "hotplug script environment: "
                           "%.40s... is over %zu bytes", buf, len - 1);
    return 0;
}

/*
 * Whether the shipped script would do anything for CLS/CMD: it only runs
 * the site's hooks, and bash under a slow CPU costs more than the rest of
 * a prepare. Anything that looks like a hook, even a broken one, counts:
 * the script is what reports a hook that cannot run.
 */
static bool has_hooks(const char *script, enum xvf_class cls,
                      const char *cmd)
{
    const char *slash = strrchr(script, '/');
    char dir[PATH_MAX];
    struct dirent *de;
    bool found = false;
    size_t len;
    DIR *dp;
    int n;

    n = snprintf(dir, sizeof(dir), "%.*s/xen-vf-%s-%s.d",
                 slash ? (int)(slash - script) : 1, slash ? script : ".",
                 cls == XVF_CLASS_NET ? "net" : "nvme", cmd);
    if (n < 0 || (size_t)n >= sizeof(dir))
        return true;
    dp = opendir(dir);
    if (!dp)
        return errno != ENOENT;
    while (!found && (de = readdir(dp))) {
        len = strlen(de->d_name);
        found = len > 5 && !strcmp(de->d_name + len - 5, ".hook");
    }
    closedir(dp);
    return found;
}

/*
 * Run the hotplug script (Xen's protocol: "add" must end with
 * hotplug-status = connected under XENBUS_PATH, or leave hotplug-error).
 * The default script runs only when the site has hooks for CLASS/CMD; one
 * given with -S always runs. A script that should run and is missing is
 * an error: a site's policy is never skipped silently. A failing
 * "remove" is only logged by the caller.
 */
int vfd_run_script(struct vfd *d, const char *label, const char *cmd,
                   const char *xbpath, const struct vfd_hook_vf *h,
                   struct xvf_err *err)
{
    char env[9][XVF_PROTO_PATH_MAX + 32], *envp[10], *argv[3];
    char path[XVF_PROTO_PATH_MAX + 32], *st, *msg;
    sigset_t all;
    struct stat sb;
    int status = 0, rc = 0, i = 0;
    pid_t pid;

    if (!d->script || !d->script[0])
        return 0;
    if (!d->script_required && !has_hooks(d->script, h->cls, cmd))
        return 0;
    /* Here the script is required, or there are hooks for it to run. */
    if (stat(d->script, &sb)) {
        rc = -errno;
        return xvf_err_set(err, rc, "hotplug script %s: %s", d->script,
                           rc == -ENOENT && !lstat(d->script, &sb) ?
                           "a broken symlink" : strerror(-rc));
    }
    if (!S_ISREG(sb.st_mode) || access(d->script, X_OK))
        return xvf_err_set(err, -EACCES, "hotplug script %s is not an "
                           "executable file", d->script);

    rc = env_set(env[i++], sizeof(env[0]), err,
                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XENBUS_PATH=%s",
                           xbpath);
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_CLASS=%s",
                           h->cls == XVF_CLASS_NET ? "net" : "nvme");
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_SPEC=%s",
                           h->spec);
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_PF=%s",
                           h->pf);
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_VF=%s",
                           h->vf);
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_DOMID=%u",
                           h->domid);
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_SCID=%u",
                           h->scid);
    rc = rc ? rc : env_set(env[i++], sizeof(env[0]), err, "XVF_NSID=%u",
                           h->nsid);
    if (rc)
        return rc;
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
