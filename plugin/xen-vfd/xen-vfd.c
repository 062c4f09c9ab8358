/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vfd - the driver domain's daemon: prepares and releases SR-IOV VFs
 * when the toolstack asks through xenstore (docs/protocol.md)
 *
 * One thread, one poll() on the xenstore connection and a signalfd: the
 * daemon sleeps until xenstore or a signal wakes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "util/cli.h"
#include "util/clock.h"
#include "util/str.h"
#include "vfd.h"
#include "xen/xs.h"

static const char *prog = "xen-vfd";
static bool use_syslog;
static int log_max = LOG_NOTICE;

void vfd_log(int prio, const char *fmt, ...)
{
    static const char *const names[] = {
        "emerg", "alert", "crit", "error", "warning", "notice", "info",
        "debug",
    };
    va_list ap;

    if (prio > log_max)
        return;
    va_start(ap, fmt);
    if (use_syslog) {
        vsyslog(prio, fmt, ap);
    } else {
        fprintf(stderr, "%s: %s: ", prog, names[prio & 7]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: %s [-F] [-p PIDFILE] [-s STATE_DIR] [-d DOMID] [-S SCRIPT] "
        "[-k SECS] [-v]\n"
        "\n"
        "  -F, --foreground     stay in the foreground, log to stderr\n"
        "  -p, --pidfile FILE   write the pid to FILE (and lock it)\n"
        "  -s, --state-dir DIR  journal and locks (default %s)\n"
        "  -d, --domid N        this domain's id (default: xenstore's "
        "\"domid\")\n"
        "  -S, --script PATH    hotplug script run after prepare (add) and\n"
        "                       before release (remove), which must exist;\n"
        "                       \"\" for none (default %s/xen-vf, if\n"
        "                       installed)\n"
        "  -k, --keep-vfs SECS  keep a PF's VFs enabled SECS seconds after\n"
        "                       its last VF was released (default 0)\n"
        "  -v, --verbose        also log every engine step\n"
        "      --mark-dead      only write drivers/xen-vf/status = dead and\n"
        "                       exit (the unit's ExecStopPost=)\n"
        "\n"
        "Without -F, %s returns once it is ready (or has failed).\n",
        prog, XVF_STATE_DIR, XVF_SCRIPT_DIR, prog);
}

/* The pidfile stays locked while the daemon runs: a second one refuses. */
static int pidfile_open(const char *path)
{
    char buf[32];
    int fd, n;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        vfd_log(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        vfd_log(LOG_ERR, "already running (pid %s, %s)", buf[0] ? buf : "?",
                path);
        close(fd);
        return -1;
    }
    n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) || write(fd, buf, n) != n) {
        vfd_log(LOG_ERR, "pidfile %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Fork; the parent stays until the child says it is ready (one byte on
 * the pipe) or dies (EOF), so "xen-vfd && xl create" needs no sleep.
 */
static int daemonize(int *ready_fd)
{
    int p[2], fd;
    char c = 0;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC)) {
        fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
        return -1;
    }
    if (pid > 0) {
        close(p[1]);
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        /* Not ready: the child logged why to syslog. */
        _exit(c == 'R' ? 0 : 1);
    }
    close(p[0]);
    *ready_fd = p[1];
    if (setsid() < 0)
        return -1;
    if (chdir("/"))
        return -1;
    umask(022);
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return 0;
}

static int read_domid(struct xs_handle *xsh, unsigned int *domid)
{
    char *s;
    int rc;

    /* A relative path: this domain's own /local/domain/N/domid. */
    s = xvf_xs_read(xsh, XBT_NULL, "domid");
    if (!s)
        return -errno;
    rc = xvf_proto_parse_domid(s, domid);
    free(s);
    return rc;
}

/*
 * How often the held VFs are checked for a reset of their PF besides on
 * every request: one Identify per NVMe PF holding VFs, bounded by the
 * health timeout.
 */
#define VFD_CHECK_MS 5000

/* Until vfd_cool() has work, at most until the held VFs' next check. */
static int poll_timeout(const struct vfd *d)
{
    long long left;

    if (!d->cool_at)
        return d->held ? VFD_CHECK_MS : -1;
    left = d->cool_at - xvf_now_ms();
    if (left <= 0)
        return 0;
    if (d->held && left > VFD_CHECK_MS)
        return VFD_CHECK_MS;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* Returns when asked to stop (0) or when xenstore fails (-errno). */
static int loop(struct vfd *d, int sfd)
{
    struct signalfd_siginfo si;
    struct pollfd fds[2];
    char **ev;
    int rc;

    fds[0].fd = xs_fileno(d->xsw);
    fds[0].events = POLLIN;
    fds[1].fd = sfd;
    fds[1].events = POLLIN;
    if (fds[0].fd < 0)
        return -errno;

    for (;;) {
        vfd_cool(d);
        /* the cheap periodic look at the held VFs (PF resets) */
        if (d->held)
            vfd_check_held_due(d, VFD_CHECK_MS);
        if (poll(fds, 2, poll_timeout(d)) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (fds[1].revents & POLLIN) {
            if (read(sfd, &si, sizeof(si)) != sizeof(si))
                continue;
            if (si.ssi_signo == SIGHUP) {
                vfd_log(LOG_NOTICE, "SIGHUP: rescanning requests");
                vfd_rescan(d);
                continue;
            }
            vfd_log(LOG_NOTICE, "signal %u: stopping", si.ssi_signo);
            return 0;
        }
        if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            vfd_log(LOG_ERR, "xenstore connection lost");
            return -EPIPE;
        }
        if (!(fds[0].revents & POLLIN))
            continue;
        while ((ev = xs_check_watch(d->xsw))) {
            vfd_event(d, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
            free(ev);
        }
        rc = errno;
        vfd_flush(d);
        if (rc != EAGAIN) {
            vfd_log(LOG_ERR, "xenstore: %s", strerror(rc));
            return -rc;
        }
    }
}

/* What main() learns from the command line besides the daemon's own
 * settings. */
struct args {
    struct vfd *d;
    const char *pidfile, *domid_arg;
    bool foreground, mark_dead;
};

static int option(void *opaque, int c, const char *arg)
{
    struct args *a = opaque;
    unsigned long keep_s;

    switch (c) {
    case 'F':
        a->foreground = true;
        break;
    case 's':
        a->d->cfg.state_dir = arg;
        break;
    case 'p':
        a->pidfile = arg;
        break;
    case 'S':
        a->d->script = arg;
        a->d->script_required = arg[0] != '\0';
        break;
    case 'd':
        a->domid_arg = arg;
        break;
    case 'k':
        if (xvf_parse_ulong(arg, 86400, &keep_s)) {
            fprintf(stderr, "%s: --keep-vfs: '%s' is not a number of "
                    "seconds from 0 to 86400\n", prog, arg);
            return 2;
        }
        a->d->cfg.keep_vfs_ms = (unsigned int)keep_s * 1000;
        break;
    case 'v':
        log_max = LOG_INFO;
        break;
    case 'D':
        a->mark_dead = true;
        a->foreground = true;
        break;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "foreground", no_argument, NULL, 'F' },
        { "pidfile", required_argument, NULL, 'p' },
        { "state-dir", required_argument, NULL, 's' },
        { "domid", required_argument, NULL, 'd' },
        { "script", required_argument, NULL, 'S' },
        { "keep-vfs", required_argument, NULL, 'k' },
        { "verbose", no_argument, NULL, 'v' },
        { "mark-dead", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xs_handle *xsh = NULL, *xsw = NULL;
    struct xvf_err env_err = { 0 };
    struct vfd d;
    struct args a = { .d = &d };
    int c, rc = 1, pid_fd = -1, ready_fd = -1, sfd = -1, r;
    unsigned int domid = 0;
    sigset_t set;

    memset(&d, 0, sizeof(d));
    d.cfg.bind_timeout_ms = 10000;
    d.script = XVF_SCRIPT_DIR "/xen-vf";
    d.script_timeout = 40;     /* Xen's hotplug budget */
    d.cfg.state_dir = XVF_STATE_DIR;
    if (xvf_engine_config_from_env(&d.cfg, &env_err)) {
        fprintf(stderr, "%s: %s\n", prog, env_err.msg);
        return 2;
    }

    c = xvf_cli_parse(argc, argv, "Fp:s:d:S:k:vh", longopts, option, usage,
                      &a);
    if (c != XVF_CLI_GO_ON)
        return c;
    if (a.domid_arg) {
        if (xvf_proto_parse_domid(a.domid_arg, &domid)) {
            fprintf(stderr, "%s: bad domid '%s'\n", prog, a.domid_arg);
            return 2;
        }
    }

    if (!a.foreground) {
        if (daemonize(&ready_fd))
            return 1;
        openlog(prog, LOG_PID, LOG_DAEMON);
        use_syslog = true;
    }
    if (a.pidfile) {
        pid_fd = pidfile_open(a.pidfile);
        if (pid_fd < 0)
            goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        vfd_log(LOG_ERR, "signalfd: %s", strerror(errno));
        goto out;
    }

    xsh = xs_open(0);
    xsw = xsh ? xs_open(0) : NULL;
    if (!xsw) {
        vfd_log(LOG_ERR, "cannot connect to xenstore: %s", strerror(errno));
        goto out;
    }
    if (!a.domid_arg) {
        r = read_domid(xsh, &domid);
        if (r) {
            vfd_log(LOG_ERR, "cannot read this domain's id from xenstore "
                    "(\"domid\"): %s; give -d", strerror(-r));
            goto out;
        }
    }
    if (vfd_init(&d, xsh, xsw, domid))
        goto out;
    /* Whatever an earlier xen-vfd (killed, crashed) left: not yet ready. */
    r = vfd_stop(&d);
    if (a.mark_dead) {
        if (r)
            vfd_log(LOG_ERR, "cannot write drivers/xen-vf/status: %s",
                    strerror(-r));
        rc = r ? 1 : 0;
        goto out;
    }
    if (vfd_start(&d))
        goto out;
    r = vfd_set_status(&d, XVF_PROTO_STATUS_READY);
    if (r) {
        vfd_log(LOG_ERR, "cannot write drivers/xen-vf/status: %s",
                strerror(-r));
        goto out;
    }
    vfd_log(LOG_NOTICE, "ready: domain %u, requests under %s, state in %s",
            domid, d.root, d.cfg.state_dir);
    sd_notifyf(0, "READY=1\nSTATUS=serving requests under %s\nMAINPID=%ld",
               d.root, (long)getpid());
    if (ready_fd >= 0) {
        if (write(ready_fd, "R", 1) != 1)
            vfd_log(LOG_WARNING, "cannot tell the parent: %s",
                    strerror(errno));
        close(ready_fd);
        ready_fd = -1;
    }

    r = loop(&d, sfd);
    sd_notify(0, "STOPPING=1");
    if (vfd_stop(&d))
        vfd_log(LOG_WARNING, "cannot write drivers/xen-vf/status");
    rc = r ? 1 : 0;

out:
    vfd_fini(&d);
    if (xsw)
        xs_close(xsw);
    if (xsh)
        xs_close(xsh);
    if (sfd >= 0)
        close(sfd);
    if (pid_fd >= 0) {
        unlink(a.pidfile);
        close(pid_fd);
    }
    if (ready_fd >= 0)
        close(ready_fd);
    return rc;
}
