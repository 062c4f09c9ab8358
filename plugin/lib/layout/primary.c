/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/journal.h"
#include "layout/layout.h"
#include "nvme/nvme.h"
#include "pci/sriov.h"
#include "util/clock.h"
#include "util/sysfs.h"

/* the kernel's reset is synchronous; this bounds a controller gone slow */
#define LIVE_TIMEOUT_MS 30000

static void say(void (*step)(void *, const char *), void *opaque,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(void (*step)(void *, const char *), void *opaque,
                const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (!step)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    step(opaque, line);
}

static int read_held(int fd, struct xvf_nvme_caps *caps,
                     struct xvf_primary_held *held, struct xvf_err *err)
{
    int r = xvf_nvme_caps(fd, caps, err);

    if (r)
        return r;
    held->vq = caps->vq_primary;
    held->vi = caps->vi_primary;
    held->vq_total = caps->vq_total;
    held->vi_total = caps->vi_total;
    return 0;
}

/* A reset takes every secondary offline: nothing may be using one. */
static int check_unused(const struct xvf_nvme_pf *pf, const char *state_dir,
                        int fd, const struct xvf_nvme_caps *caps,
                        struct xvf_err *err)
{
    struct xvf_nvme_secondary sec[XVF_NVME_MAX_SECONDARIES];
    char vf[XVF_BDF_LEN], drv[64];
    struct xvf_entry *list = NULL;
    unsigned int i, n = 0, numvfs = 0;
    int r;

    r = xvf_journal_list(state_dir, pf->bdf, &list, &n);
    if (!r && n)
        r = xvf_err_set(err, -EBUSY, "%s: VF %s is given to %s; a "
                        "controller reset would take it offline", pf->ctrl,
                        list[0].vf, list[0].owner);
    else if (r)
        r = xvf_err_set(err, r, "cannot read the journal in %s: %s",
                        state_dir, strerror(-r));
    free(list);
    if (r)
        return r;
    r = xvf_nvme_secondaries(fd, 0, sec, &n, err);
    if (r)
        return r;
    for (i = 0; i < n; i++)
        if (sec[i].online)
            return xvf_err_set(err, -EBUSY, "%s: secondary 0x%x is online; "
                               "a controller reset would take it offline",
                               pf->ctrl, sec[i].scid);
    if (xvf_sriov_numvfs(pf->bdf, &numvfs))
        numvfs = 0;
    for (i = 1; i <= numvfs; i++)
        if (!xvf_sriov_vf_driver(pf->bdf, i, vf, drv, sizeof(drv)) &&
            drv[0])
            return xvf_err_set(err, -EBUSY, "%s: VF %s is bound to %s; a "
                               "controller reset would take it away",
                               pf->ctrl, vf, drv);
    /* a function level reset of the PF disables its VFs */
    if (numvfs)
        return xvf_err_set(err, -EBUSY, "%s: %u VFs are enabled "
                           "(sriov_numvfs); a reset of the PF may disable "
                           "them: set sriov_numvfs of %s to 0 first",
                           pf->ctrl, numvfs, pf->bdf);
    return 0;
}

/* until the controller is live again, after a reset */
static int wait_live(const struct xvf_nvme_pf *pf, struct xvf_err *err)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    char path[PATH_MAX], state[32];
    long long t0;

    if (xvf_path(path, sizeof(path), "/sys/class/nvme/%s/state", pf->ctrl))
        return xvf_err_set(err, -ENAMETOOLONG, "path too long");
    t0 = xvf_now_ms();
    for (;;) {
        if (!xvf_sysfs_read(path, state, sizeof(state)) &&
            !strncmp(state, "live", 4))
            return 0;
        if (xvf_now_ms() - t0 >= LIVE_TIMEOUT_MS)
            return xvf_err_set(err, -ETIMEDOUT, "%s is not live %d ms after "
                               "its reset", pf->ctrl, LIVE_TIMEOUT_MS);
        nanosleep(&ts, NULL);
    }
}

/*
 * The specification applies the allocation at any controller level
 * reset; QEMU only at a function level reset, not at a controller reset
 * (CC.EN). So a controller reset first, and a function level reset of
 * the PF if the primary still holds them.
 */
static int reset_ctrl(const struct xvf_nvme_pf *pf, bool flr,
                      struct xvf_err *err)
{
    char path[PATH_MAX];
    int r;

    if (flr) {
        r = xvf_pci_attr_write(pf->bdf, "reset", "1");
        if (r)
            return xvf_err_set(err, r, "cannot reset %s (function level "
                               "reset): %s", pf->bdf, strerror(-r));
    } else {
        r = xvf_path(path, sizeof(path),
                     "/sys/class/nvme/%s/reset_controller", pf->ctrl);
        if (!r)
            r = xvf_sysfs_write(path, "1");
        if (r)
            return xvf_err_set(err, r, "cannot reset %s (reset_controller): "
                               "%s", pf->ctrl, strerror(-r));
    }
    return wait_live(pf, err);
}

static int release_locked(const struct xvf_nvme_pf *pf, const char *state_dir,
                          bool apply, void (*step)(void *, const char *),
                          void *opaque, struct xvf_primary_held *held,
                          struct xvf_err *err)
{
    struct xvf_nvme_caps caps;
    int fd = -1, r;

    r = xvf_nvme_open(pf, &fd, err);
    if (!r)
        r = read_held(fd, &caps, held, err);
    if (r || (!held->vq && !held->vi) || !apply)
        goto out;
    r = check_unused(pf, state_dir, fd, &caps, err);
    if (r)
        goto out;
    say(step, opaque, "Virtualization Management primary flexible "
        "allocation: 0 VQ to the primary 0x%x (holds %u)", caps.cntlid,
        held->vq);
    r = xvf_nvme_virt_mgmt(fd, NVME_VIRT_MGMT_ACT_PRIM_CTRL_FLEX_ALLOC,
                           NVME_VIRT_MGMT_RT_VQ_RESOURCE, caps.cntlid, 0, 0,
                           err);
    if (!r && caps.vi_total) {
        say(step, opaque, "Virtualization Management primary flexible "
            "allocation: 0 VI to the primary 0x%x (holds %u)", caps.cntlid,
            held->vi);
        r = xvf_nvme_virt_mgmt(fd, NVME_VIRT_MGMT_ACT_PRIM_CTRL_FLEX_ALLOC,
                               NVME_VIRT_MGMT_RT_VI_RESOURCE, caps.cntlid, 0,
                               0, err);
    }
    if (r)
        goto out;
    say(step, opaque, "reset %s (reset_controller): the allocation takes "
        "effect at a reset", pf->ctrl);
    r = reset_ctrl(pf, false, err);
    if (!r)
        r = read_held(fd, &caps, held, err);
    if (!r && (held->vq || held->vi)) {
        say(step, opaque, "still held (%u VQ, %u VI): function level reset "
            "of %s (its reset attribute)", held->vq, held->vi, pf->bdf);
        r = reset_ctrl(pf, true, err);
        if (!r)
            r = read_held(fd, &caps, held, err);
    }
    if (r)
        goto out;
    held->released = true;
    if (held->vq || held->vi)
        r = xvf_err_set(err, -EIO, "%s: the primary still holds %u VQ and "
                        "%u VI after action 1, a controller reset and a "
                        "function level reset; this controller may apply "
                        "it only at a power cycle", pf->ctrl, held->vq,
                        held->vi);
out:
    if (fd >= 0)
        close(fd);
    return r;
}

int xvf_layout_release_primary(const struct xvf_nvme_pf *pf,
                               const char *state_dir, bool apply,
                               void (*step)(void *, const char *),
                               void *opaque, struct xvf_primary_held *held,
                               struct xvf_err *err)
{
    int lock = -1, r;

    memset(held, 0, sizeof(*held));
    r = xvf_state_dir_init(state_dir);
    if (!r)
        r = xvf_lock_pf(state_dir, pf->bdf, &lock);
    if (r)
        return xvf_err_set(err, r, "cannot lock %s in %s: %s", pf->bdf,
                           state_dir, strerror(-r));
    r = release_locked(pf, state_dir, apply, step, opaque, held, err);
    xvf_unlock_pf(lock);
    return r;
}
