/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * nvme's probe of a VF, finished later. Linux's nvme_probe() only sets
 * the controller up and queues its reset work; the work enables the
 * controller after drivers_probe has returned and, when that fails
 * ("Removing after probe failure status: -19"), releases the device. A
 * forked worker plays that work, so the tested process sees it happen
 * while it waits, as on a real kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

enum late { LATE_SYNC, LATE_LIVE, LATE_FAIL, LATE_HANG };

static enum late late_mode(const struct xm_pf *pf)
{
    if (!strcmp(pf->vf_probe, "late"))
        return LATE_LIVE;
    if (!strcmp(pf->vf_probe, "fail"))
        return LATE_FAIL;
    if (!strcmp(pf->vf_probe, "hang"))
        return LATE_HANG;
    return LATE_SYNC;
}

static int state_path(struct xm_ctx *c, const char *bdf, const char *ctrl,
                      char *path, size_t len)
{
    return xm_pathf(c, path, len, "sys/bus/pci/devices/%s/nvme/%s/state",
                    bdf, ctrl);
}

/* The reset work, in the worker: only on the controller it was queued for. */
static void reset_work(const char *root, const char *bdf, const char *ctrl,
                       enum late mode)
{
    char path[XM_PATH], state[32], drv[64];
    struct xm_ctx c;

    if (xm_open(&c, root, true))
        return;
    if (state_path(&c, bdf, ctrl, path, sizeof(path)) ||
        xm_read_file(path, state, sizeof(state)) ||
        strcmp(state, "connecting\n") ||
        xm_dev_driver(&c, bdf, drv, sizeof(drv)) || strcmp(drv, "nvme")) {
        xm_close(&c);
        return;
    }
    if (mode == LATE_LIVE) {
        xm_write_file(path, "live\n", 0444);
        xm_log(&c, "probe %s %s live (late)", bdf, ctrl);
    } else {
        xm_write_file(path, "deleting\n", 0444);
        xm_dev_release(&c, bdf);
        xm_log(&c, "probe %s %s failed: Removing after probe failure "
               "(late)", bdf, ctrl);
    }
    xm_save(&c);
    xm_close(&c);
}

/* A grandchild, so nobody has to reap it, with no descriptor of ours. */
static void spawn(struct xm_ctx *c, const char *bdf, const char *ctrl,
                  enum late mode, unsigned int ms)
{
    struct timespec nap = { ms / 1000, (ms % 1000) * 1000000L };
    struct rlimit rl;
    pid_t pid;
    int fd;

    pid = fork();
    if (pid < 0)
        return;
    if (pid) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return;
    }
    if (fork())
        _exit(0);
    setsid();
    /* the caller's flock stays its own; pipes it reads see EOF */
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > 65536)
        rl.rlim_cur = 65536;
    for (fd = 0; fd < (int)rl.rlim_cur; fd++)
        close(fd);
    fd = open("/dev/null", O_RDWR);
    if (fd == 0) {
        dup2(0, 1);
        dup2(0, 2);
    }
    while (nanosleep(&nap, &nap) && errno == EINTR)
        ;
    reset_work(c->root, bdf, ctrl, mode);
    _exit(0);
}

int xm_probe_late(struct xm_ctx *c, const struct xm_pf *pf, const char *bdf,
                  const char *ctrl)
{
    enum late mode = late_mode(pf);
    char path[XM_PATH];
    int r;

    if (mode == LATE_SYNC)
        return 0;
    r = state_path(c, bdf, ctrl, path, sizeof(path));
    if (!r)
        r = xm_write_file(path, "connecting\n", 0444);
    if (r)
        return r;
    xm_log(c, "probe %s %s connecting (%s)", bdf, ctrl, pf->vf_probe);
    if (mode != LATE_HANG)
        spawn(c, bdf, ctrl, mode, pf->vf_probe_ms);
    return 0;
}
