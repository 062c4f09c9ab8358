/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * A driver's probe can end after drivers_probe has returned: nvme's
 * probe only sets the controller up and queues its reset work, which
 * enables the controller later and, when that fails (a VF without
 * interrupts, an offline secondary), releases the device again. Only a
 * live controller is a VF the guest can use.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "engine/class.h"
#include "nvme/nvme.h"
#include "pci/device.h"
#include "util/clock.h"

/* sysfs has no event for a controller's state: naps growing to this */
#define PROBE_NAP_MAX_MS 64

static bool state_failed(const char *state)
{
    return !strcmp(state, "dead") || !strncmp(state, "deleting", 8);
}

static void nap(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

int xvf_run_wait_probe(struct xvf_run *run, const struct xvf_entry *e,
                       struct xvf_err *err)
{
    unsigned int tmo = run->cfg->bind_timeout_ms;
    long long t0 = xvf_now_ms(), left, step = 1;
    char drv[64], ctrl[32] = "", state[32] = "";
    bool told = false;
    int r;

    for (;;) {
        r = xvf_pci_driver(e->vf, drv, sizeof(drv));
        if (r)
            return xvf_err_set(err, r, "cannot read the driver of %s: %s",
                               e->vf, strerror(-r));
        if (strcmp(drv, e->driver))
            return xvf_err_set(err, -EIO, "driver '%s' let go of %s %lld "
                               "ms after taking it: its probe failed%s%s%s "
                               "(the driver domain's kernel log says why)",
                               e->driver, e->vf, xvf_now_ms() - t0,
                               ctrl[0] ? " (controller " : "", ctrl,
                               ctrl[0] ? ")" : "");
        /* other drivers' probes are over when drivers_probe returns */
        if (strcmp(e->driver, "nvme"))
            return 0;
        r = xvf_nvme_ctrl_state(e->vf, ctrl, sizeof(ctrl), state,
                                sizeof(state));
        if (r && r != -ENOENT)
            return xvf_err_set(err, r, "cannot read the state of the nvme "
                               "controller of %s: %s", e->vf, strerror(-r));
        if (!r && !strcmp(state, "live"))
            return 0;
        if (!r && state_failed(state))
            return xvf_err_set(err, -EIO, "the nvme controller %s of %s is "
                               "'%s': the driver's probe failed (the "
                               "driver domain's kernel log says why)", ctrl,
                               e->vf, state);
        left = t0 + tmo - xvf_now_ms();
        if (left <= 0)
            return xvf_err_set(err, -ETIMEDOUT, "the nvme controller %s "
                               "of %s is still '%s' %u ms after the bind: "
                               "the driver's probe did not finish",
                               ctrl[0] ? ctrl : "(none yet)", e->vf,
                               r ? "missing" : state, tmo);
        if (!told) {
            xvf_run_step(run, "probe", "the nvme controller of %s is '%s': "
                         "waiting up to %u ms for it to be live", e->vf,
                         r ? "missing" : state, tmo);
            told = true;
        }
        nap(step < left ? step : left);
        if (step < PROBE_NAP_MAX_MS)
            step *= 2;
    }
}
