/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * What real SR-IOV NVMe devices do that QEMU's controller does not
 * (reference/real-devices.md), against libxvf-mock's device profiles:
 * an online that is not confirmed by the secondary list, the status
 * codes' advice, a PM173x whose primary holds the flexible resources and
 * nvme-layout's release of them, a controller without flexible VI, VFs
 * bound outside the journal, a PF reset while a VF is held, the VF reset
 * before a DomD driver gets it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "layout/layout.h"
#include "nvme/nvme.h"
#include "pci/sriov.h"
#include "util/sysfs.h"

#define PF "0000:01:00.0"

static bool setup(struct fixture *fx, const char *config)
{
    return fx_setup(fx, config, PF);
}

/* An online that answers success but leaves the secondary offline. */
static void test_online_unconfirmed(void)
{
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(xvf_mock_pf_set(fx.root, PF, "online_ignored=1"), 0, "set");
    fx_rebase(&fx);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), -EIO,
              err.msg);
    CHECK(strstr(err.msg, "online of secondary 0x1 succeeded, but the "
                 "secondary controller list shows it offline"), "%s",
          err.msg);
    fx_unchanged(&fx, "online not confirmed");
    fx_teardown(&fx);
}

/* Online before the VF exists: what PM173x and QEMU answer, explained. */
static void online_before_vf(const char *preset, int status,
                             const char *advice)
{
    struct xvf_nvme_pf pf;
    struct fixture fx;
    struct xvf_err err = { 0 };
    int fd = -1;

    if (!setup(&fx, preset))
        return;
    if (!CHECK_INT(xvf_nvme_pf_from_bdf(PF, &pf, &err), 0, err.msg) ||
        !CHECK_INT(xvf_nvme_open(&pf, &fd, &err), 0, err.msg))
        goto out;
    CHECK(xvf_nvme_virt_mgmt(fd, NVME_VIRT_MGMT_ACT_ONLINE_SEC_CTRL, 0, 1,
                             0, 0, &err) < 0, "%s: online succeeded", preset);
    CHECK_HEX(err.nvme_status, status, preset);
    CHECK(strstr(err.msg, advice), "%s: '%s' lacks '%s'", preset, err.msg,
          advice);
    close(fd);
out:
    fx_teardown(&fx);
}

static void test_status_advice(void)
{
    online_before_vf("pm173x", 0x411f, "a Samsung PM173x answers this to "
                     "an online before the secondary's VF is enabled");
    online_before_vf("noflexvi", 0x4120, "online needs its VF enabled (QEMU "
                     "answers this to an online before sriov_numvfs)");
}

/* PM173x at power-on: the primary holds the flexible resources. */
static void test_primary_held(void)
{
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "pm173x"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), -ENOSPC,
              err.msg);
    CHECK(strstr(err.msg, "the primary controller holds 8 VQ (VQRFAP) and 4 "
                 "VI (VIRFAP)"), "%s", err.msg);
    CHECK(strstr(err.msg, "xen-vfctl nvme-layout nvme0 --release-primary "
                 "--apply"), "%s", err.msg);
    fx_unchanged(&fx, "primary holds the resources");
    fx_teardown(&fx);
}

/* Without flexible VI: vi= is refused, the default assigns none. */
static void test_no_flexible_vi(void)
{
    struct xvf_mock_sec sec;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "noflexvi"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,vi=1", "domain:1", &vf, &err),
              -EOPNOTSUPP, err.msg);
    CHECK(strstr(err.msg, "vi=1 cannot be met: nvme0 has no flexible VI "
                 "resources (VIFRT = 0)"), "%s", err.msg);
    fx_unchanged(&fx, "vi=1 without flexible VI");
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 1, &sec), 0, "secondary");
    CHECK(sec.online && sec.nvq == 2 && sec.nvi == 0, "online, 2 VQ, no VI");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    fx_unchanged(&fx, "released");
    fx_teardown(&fx);
}

static void collect(void *opaque, const char *line)
{
    char *buf = opaque;

    strncat(buf, line, 2047 - strlen(buf));
    strncat(buf, "\n", 2047 - strlen(buf));
}

/*
 * nvme-layout --release-primary on a PM173x at power-on: a dry run
 * changes nothing, a VF held refuses it, --apply sends action 1 (0 VQ, 0
 * VI) and resets the controller, then a prepare finds the resources.
 */
static void test_release_primary(void)
{
    struct xvf_primary_held held;
    struct xvf_mock_sec sec;
    struct xvf_entry e;
    struct xvf_nvme_pf pf;
    struct fixture fx;
    struct xvf_err err = { 0 };
    struct xvf_vf vf;
    char steps[2048] = "", path[512], *log;

    if (!setup(&fx, "pm173x"))
        return;
    if (!CHECK_INT(xvf_nvme_pf_from_bdf(PF, &pf, &err), 0, err.msg))
        goto out;
    CHECK_INT(xvf_layout_release_primary(&pf, fx.state, false, collect,
                                         steps, &held, &err), 0, err.msg);
    CHECK(held.vq == 8 && held.vi == 4 && !held.released,
          "dry run: holds %u VQ %u VI", held.vq, held.vi);
    CHECK_STR(steps, "", "dry run sends nothing");
    fx_unchanged(&fx, "dry run");

    /* a VF xen-vf holds: a reset would take it offline */
    memset(&e, 0, sizeof(e));
    snprintf(e.id, sizeof(e.id), "vf-%s-1", PF);
    snprintf(e.pf, sizeof(e.pf), PF);
    snprintf(e.vf, sizeof(e.vf), "0000:01:00.1");
    snprintf(e.owner, sizeof(e.owner), "domain:3/0");
    e.cls = XVF_CLASS_NVME;
    e.state = XVF_ENTRY_READY;
    CHECK_INT(xvf_journal_save(fx.state, &e), 0, "journal");
    CHECK_INT(xvf_layout_release_primary(&pf, fx.state, true, collect,
                                         steps, &held, &err), -EBUSY,
              "held VF");
    CHECK(strstr(err.msg, "VF 0000:01:00.1 is given to domain:3/0"), "%s",
          err.msg);
    CHECK_INT(xvf_journal_remove(fx.state, &e), 0, "journal");
    fx_unchanged(&fx, "refused while a VF is held");

    /* VFs enabled: a function level reset of the PF would disable them */
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/sriov_numvfs",
             fx.root, PF);
    CHECK_INT(xvf_sysfs_write(path, "2"), 0, "enable 2 VFs");
    xvf_err_clear(&err);
    CHECK_INT(xvf_layout_release_primary(&pf, fx.state, true, collect,
                                         steps, &held, &err), -EBUSY,
              "VFs enabled");
    CHECK(strstr(err.msg, "2 VFs are enabled (sriov_numvfs)"), "%s",
          err.msg);
    CHECK_INT(xvf_sysfs_write(path, "0"), 0, "disable them");
    fx_unchanged(&fx, "refused while VFs are enabled");

    xvf_err_clear(&err);
    xvf_mock_reset_counts(fx.root);
    CHECK_INT(xvf_layout_release_primary(&pf, fx.state, true, collect,
                                         steps, &held, &err), 0, err.msg);
    CHECK(held.released && !held.vq && !held.vi, "released: %u VQ %u VI",
          held.vq, held.vi);
    CHECK(strstr(steps, "primary flexible allocation: 0 VQ to the primary "
                 "0x41") && strstr(steps, "0 VI to the primary 0x41") &&
          strstr(steps, "reset nvme0 (reset_controller)") &&
          strstr(steps, "function level reset of 0000:01:00.0"), "%s",
          steps);
    log = xvf_mock_log(fx.root);
    /* act 1, rt 0 then rt 1, cntlid 0x41; then the reset */
    CHECK(log && strstr(log, "opc=0x1c cdw10=0x00410001") &&
          strstr(log, "opc=0x1c cdw10=0x00410101") &&
          strstr(log, "reset_controller '1'") &&
          strstr(log, PF "/reset '1'"), "%s", log ? log : "");
    free(log);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), 0, err.msg);
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 1, &sec), 0, "secondary");
    CHECK(sec.online && sec.nvq == 2 && sec.nvi == 1, "prepared after");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    /* a second run has nothing to do */
    steps[0] = '\0';
    CHECK_INT(xvf_layout_release_primary(&pf, fx.state, true, collect,
                                         steps, &held, &err), 0, err.msg);
    CHECK(!held.released && !held.vq, "nothing to release");
    CHECK_STR(steps, "", "nothing sent");
out:
    fx_teardown(&fx);
}

static void log_step(void *opaque, const char *step, const char *detail)
{
    char *buf = opaque;

    snprintf(buf + strlen(buf), 2048 - strlen(buf), "%s: %s\n", step,
             detail);
}

/*
 * sriov_numvfs is never lowered while a VF is bound outside the journal:
 * the release keeps it (and the PF's record), reconcile restores it once
 * that VF is unbound.
 */
static void test_numvfs_kept_for_bound_vf(void)
{
    char steps[2048] = "", path[512], want[160];
    struct xvf_pf_entry pfe;
    unsigned int numvfs, enabled = 0;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    CHECK_INT(xvf_sriov_numvfs(PF, &enabled), 0, "numvfs");
    snprintf(want, sizeof(want), "numvfs-kept: sriov_numvfs of 0000:01:00.0 "
             "stays %u (not back to 0): VF 0000:01:00.2 is bound to nvme",
             enabled);
    /* DomD takes VF 2 for itself, outside xen-vf */
    CHECK_INT(xvf_mock_vf_up(fx.root, PF, 2, "nvme", 2, fx_flex_vi()), 0,
              "vf 2 up");
    fx.cfg.step_cb = log_step;
    fx.cfg.opaque = steps;
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    CHECK_INT(xvf_sriov_numvfs(PF, &numvfs), 0, "numvfs");
    CHECK_INT(numvfs, enabled, "sriov_numvfs kept while VF 2 is bound");
    CHECK(strstr(steps, want), "%s", steps);
    CHECK_INT(xvf_journal_pf_load(fx.state, PF, &pfe), 0, "record kept");
    CHECK_INT(fx_journal_count(&fx), 0, "VF entry gone");

    /* DomD lets it go: reconcile gives the PF back what it had */
    snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/nvme/unbind",
             fx.root);
    CHECK_INT(xvf_sysfs_write(path, "0000:01:00.2"), 0, "unbind VF 2");
    CHECK_INT(xvf_reconcile(&fx.cfg, &err), 0, err.msg);
    CHECK_INT(xvf_sriov_numvfs(PF, &numvfs), 0, "numvfs");
    CHECK_INT(numvfs, 0, "sriov_numvfs restored");
    CHECK_INT(xvf_journal_pf_load(fx.state, PF, &pfe), -ENOENT,
              "record removed");
    fx_teardown(&fx);
}

/* reset_method of VF 1 ("?" when it cannot be read) */
static const char *vf1_reset_methods(void)
{
    static char buf[64];
    char path[PATH_MAX];

    if (xvf_pci_attr(path, sizeof(path), "0000:01:00.1", "reset_method") ||
        xvf_sysfs_read(path, buf, sizeof(buf)))
        return "?";
    return buf;
}

/* driver=nvme: the VF is reset (FLR) after online, before nvme binds */
static void test_vf_reset_before_nvme(void)
{
    const char *reset, *probe, *online;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    char *log;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), 0, err.msg);
    log = xvf_mock_log(fx.root);
    online = log ? strstr(log, "opc=0x1c cdw10=0x00010009") : NULL;
    reset = log ? strstr(log, "0000:01:00.1/reset '1' -> 0") : NULL;
    probe = log ? strstr(log, "drivers_probe") : NULL;
    CHECK(online && reset && probe && online < reset && reset < probe,
          "online, then FLR, then the probe:\n%s", log ? log : "");
    free(log);
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);

    /* pciback: no FLR from xen-vf, and none from pciback's bind either */
    xvf_mock_reset_counts(fx.root);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    log = xvf_mock_log(fx.root);
    CHECK(log && !strstr(log, "/reset '"), "pciback: %s", log ? log : "");
    CHECK(log && strstr(log, "drivers_probe") &&
          !strstr(log, "pciback reset of"), "pciback's bind resets: %s",
          log ? log : "");
    free(log);
    CHECK_STR(vf1_reset_methods(), "flr", "reset methods given back");
    xvf_mock_reset_counts(fx.root);
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    log = xvf_mock_log(fx.root);
    CHECK(log && strstr(log, "pciback/unbind") &&
          !strstr(log, "pciback reset of"), "pciback's unbind resets: %s",
          log ? log : "");
    free(log);
    fx_unchanged(&fx, "released");
    fx_teardown(&fx);
}

/*
 * The reset methods come back whatever happens to the bind: when it
 * fails, and on release after a run that died with them taken away.
 */
static void test_pciback_reset_methods_back(void)
{
    const char *probe, *back;
    struct xvf_mock_fault f;
    char *log;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu"))
        return;
    xvf_mock_fault_init(&f);
    f.kind = XVF_MOCK_WRITE;
    f.nth = 1;
    snprintf(f.attr, sizeof(f.attr), "drivers_probe");
    CHECK_INT(xvf_mock_set_fault(fx.root, &f), 0, "fault");
    xvf_mock_reset_counts(fx.root);
    CHECK(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err) < 0,
          "the bind fails");
    xvf_mock_clear_fault(fx.root);
    /* the roll-back then disables the VF: the log tells */
    log = xvf_mock_log(fx.root);
    probe = log ? strstr(log, "drivers_probe") : NULL;
    back = probe ? strstr(probe, "0000:01:00.1/reset_method 'default' -> 0")
                 : NULL;
    CHECK(back, "given back after the failed bind:\n%s", log ? log : "");
    free(log);
    fx_unchanged(&fx, "rolled back");

    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    CHECK_INT(xvf_pci_attr_write("0000:01:00.1", "reset_method", "\n"), 0,
              "a run died with them taken away");
    CHECK_STR(vf1_reset_methods(), "", "taken away");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    fx_unchanged(&fx, "given back by the release");
    fx_teardown(&fx);
}

/* In a driver domain, which is not where libxl resets: pciback resets */
static void test_pciback_reset_in_domd(void)
{
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    char *cfg, *log;

    cfg = fx_config("qemu", "xen domd\n");
    if (!cfg || !setup(&fx, cfg)) {
        free(cfg);
        return;
    }
    free(cfg);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    log = xvf_mock_log(fx.root);
    CHECK(log && strstr(log, "pciback reset of 0000:01:00.1") &&
          !strstr(log, "reset_method"), "pciback resets: %s",
          log ? log : "");
    free(log);
    xvf_mock_reset_counts(fx.root);
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    log = xvf_mock_log(fx.root);
    CHECK(log && strstr(log, "pciback reset of 0000:01:00.1") &&
          !strstr(log, "reset_method"), "pciback resets at the unbind: %s",
          log ? log : "");
    free(log);
    fx_unchanged(&fx, "released");
    fx_teardown(&fx);
}

/*
 * A reset of the PF's controller while a VF is held: the secondary is
 * offline, the check says so; a lowered sriov_numvfs: the VF vanished.
 */
static void test_pf_reset_detected(void)
{
    struct xvf_lost lost[XVF_LOST_MAX];
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    char path[512];
    unsigned int n = 99;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:4/0", &vf, &err), 0,
              err.msg);
    CHECK_INT(xvf_check_held(&fx.cfg, lost, &n, &err), 0, err.msg);
    CHECK_INT(n, 0, "a healthy VF is not lost");
    snprintf(path, sizeof(path), "%s/sys/class/nvme/nvme0/reset_controller",
             fx.root);
    CHECK_INT(xvf_sysfs_write(path, "1"), 0, "reset the PF's controller");
    CHECK_INT(xvf_check_held(&fx.cfg, lost, &n, &err), 0, err.msg);
    if (CHECK_INT(n, 1, "the held VF is lost")) {
        CHECK_STR(lost[0].owner, "domain:4/0", "its owner");
        CHECK_STR(lost[0].vf, "0000:01:00.1", "its VF");
        CHECK(strstr(lost[0].why, "secondary controller 0x1 of VF "
                     "0000:01:00.1 went offline"), "%s", lost[0].why);
    }
    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/sriov_numvfs",
             fx.root, PF);
    CHECK_INT(xvf_sysfs_write(path, "0"), 0, "VFs off");
    CHECK_INT(xvf_check_held(&fx.cfg, lost, &n, &err), 0, err.msg);
    CHECK(n == 1 && strstr(lost[0].why, "VF 0000:01:00.1 of 0000:01:00.0 "
                           "vanished"), "%s", n ? lost[0].why : "none");
    /* releasing what is left of it still works */
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    CHECK_INT(xvf_check_held(&fx.cfg, lost, &n, &err), 0, err.msg);
    CHECK_INT(n, 0, "nothing held");
    fx_teardown(&fx);
}

int main(void)
{
    RUN(test_online_unconfirmed);
    RUN(test_status_advice);
    RUN(test_primary_held);
    RUN(test_no_flexible_vi);
    RUN(test_release_primary);
    RUN(test_numvfs_kept_for_bound_vf);
    RUN(test_vf_reset_before_nvme);
    RUN(test_pciback_reset_methods_back);
    RUN(test_pciback_reset_in_domd);
    RUN(test_pf_reset_detected);
    return harness_done();
}
