/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The engine answers "ready" only once the VF's driver finished probing:
 * nvme's probe ends in its reset work, after drivers_probe returned (the
 * fake kernel's vf_probe=late/fail/hang). A probe that fails later, or
 * never finishes, is an error and the prepare is rolled back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nvme/nvme.h"
#include "util/clock.h"

#define PF "0000:01:00.0"
#define VF "0000:01:00.1"

/* A fixture whose VFs' nvme probe ends as @how says, @ms after the bind. */
static bool setup(struct fixture *fx, const char *how, unsigned int ms,
                  struct fx_steps *steps)
{
    char set[64];

    if (!fx_setup(fx, "qemu", PF))
        return false;
    snprintf(set, sizeof(set), "vf_probe=%s vf_probe_ms=%u", how, ms);
    CHECK_INT(xvf_mock_pf_set(fx->root, PF, set), 0, set);
    fx_rebase(fx);
    fx_log_steps(fx, steps);
    return true;
}

/* The probe ends well, 300 ms later: "ready" only with a live controller. */
static void test_late_live(void)
{
    struct fx_steps steps = { "" };
    char ctrl[32], state[32];
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    long long t0, took;
    char *log;

    if (!setup(&fx, "late", 300, &steps))
        return;
    t0 = xvf_now_ms();
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), 0, err.msg);
    took = xvf_now_ms() - t0;
    CHECK_STR(vf.vf, VF, "the VF");
    CHECK_INT(xvf_nvme_ctrl_state(VF, ctrl, sizeof(ctrl), state,
                                  sizeof(state)), 0, "VF controller");
    CHECK_STR(state, "live", "state when prepare answered");
    CHECK(took >= 250, "prepare waited for the probe: %lld ms", took);
    CHECK_HAS(steps.text, "probe: the nvme controller of " VF " is "
              "'connecting': waiting up to 2000 ms for it to be live",
              "the wait is a step");
    log = xvf_mock_log(fx.root);
    CHECK(log && strstr(log, "probe " VF " nvme") &&
          strstr(log, "live (late)"), "the worker finished the probe:\n%s",
          log ? log : "(no log)");
    free(log);
    CHECK_INT(xvf_release(&fx.cfg, VF, &err), 0, err.msg);
    fx_unchanged(&fx, "after release");
    fx_teardown(&fx);
}

/*
 * The probe fails after drivers_probe returned (Xen 4.17 on GICv3: the VF
 * gets no interrupt): an error naming the VF, everything rolled back.
 */
static void test_late_fail(void)
{
    struct fx_steps steps = { "" };
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "fail", 200, &steps))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), -EIO, err.msg);
    CHECK(strstr(err.msg, "driver 'nvme' let go of " VF) ||
          strstr(err.msg, "is 'deleting': the driver's probe failed"),
          "%s", err.msg);
    CHECK_HAS(err.msg, "kernel log says why", "where to look");
    CHECK_HAS(steps.text, "unbind: unbind " VF, "rolled back");
    CHECK_HAS(steps.text, "offline: secondary 0x1 offline", "rolled back");
    fx_unchanged(&fx, "probe failed late");
    fx_teardown(&fx);
}

/* The probe never finishes: bounded by bind_timeout_ms, then rolled back. */
static void test_hang(void)
{
    struct fx_steps steps = { "" };
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    long long t0, took;

    if (!setup(&fx, "hang", 0, &steps))
        return;
    fx.cfg.bind_timeout_ms = 300;
    t0 = xvf_now_ms();
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), -ETIMEDOUT, err.msg);
    took = xvf_now_ms() - t0;
    CHECK(took >= 300 && took < 3000, "bounded: %lld ms", took);
    CHECK_STR(err.msg, "the nvme controller nvme1 of " VF " is still "
              "'connecting' 300 ms after the bind: the driver's probe did "
              "not finish", "names the controller and the bound");
    fx_unchanged(&fx, "probe never finished");
    fx_teardown(&fx);
}

/* pciback's probe is over when drivers_probe returns: no wait. */
static void test_pciback_no_wait(void)
{
    struct fx_steps steps = { "" };
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "hang", 0, &steps))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=pciback", "domain:1", &vf,
                         &err), 0, err.msg);
    CHECK(!strstr(steps.text, "\nprobe: "), "no wait step:\n%s", steps.text);
    CHECK_INT(xvf_release(&fx.cfg, VF, &err), 0, err.msg);
    fx_unchanged(&fx, "after release");
    fx_teardown(&fx);
}

int main(void)
{
    RUN(test_late_live);
    RUN(test_late_fail);
    RUN(test_hang);
    RUN(test_pciback_no_wait);
    return harness_done();
}
