/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The engine against the fake kernel (libxvf-mock): prepare and release
 * restore the device exactly, refusals change nothing, a failure injected
 * at any operation rolls back to the initial state, and a run killed at
 * any step is undone by reconcile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "lock-holder.h"
#include "util/clock.h"

#define PF "0000:01:00.0"

static bool setup(struct fixture *fx, const char *config)
{
    return fx_setup(fx, config, PF);
}

static void test_prepare_release(void)
{
    struct xvf_mock_sec sec;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    uint16_t ids[32];
    unsigned int n;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "local", &vf, &err),
              0, err.msg);
    CHECK_STR(vf.vf, "0000:01:00.1", "VF address from virtfn0");
    CHECK_INT(vf.scid, 1, "first free secondary");
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 1, &sec), 0, "secondary");
    CHECK_INT(sec.online, 1, "online");
    CHECK_INT(sec.nvq, 2, "default vq");
    CHECK_INT(sec.nvi, fx_flex_vi() ? 1 : 0, "default vi");
    CHECK_INT(xvf_mock_ns_attached(fx.root, PF, 2, ids, &n), 0, "ns2");
    CHECK(n == 1 && ids[0] == 1, "ns2 attached to secondary 1 only");
    CHECK_INT(fx_journal_count(&fx), 1, "one journal entry");

    /* Same spec, same owner: the same VF, no device command. */
    xvf_mock_reset_counts(fx.root);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "local", &vf, &err),
              0, err.msg);
    CHECK_STR(vf.vf, "0000:01:00.1", "idempotent");
    /* ... for another owner it is refused */
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:7", &vf,
                      &err), -EBUSY, "other owner");
    CHECK_STR(err.msg, "namespace 2 of nvme0 is held by 'local': VF "
              "0000:01:00.1", "holder named");
    /* ... and so is another spelling of a request for that namespace */
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:7", &vf, &err), -EBUSY,
              "namespace held");
    CHECK(strstr(err.msg, "namespace 2 of nvme0 is held by 'local'"), "%s",
          err.msg);

    xvf_err_clear(&err);
    CHECK_INT(xvf_release(&fx.cfg, "vf:nvme0/ns2,driver=nvme", &err), 0,
              err.msg);
    fx_unchanged(&fx, "after release");
    CHECK_INT(xvf_release(&fx.cfg, "0000:01:00.1", &err), -ENOENT,
              "release twice");
    CHECK(strstr(err.msg, "no VF prepared for 0000:01:00.1"), "%s",
          err.msg);
    fx_teardown(&fx);
}

static void test_two_vfs_and_exhaustion(void)
{
    char *config = fx_config("qemu", "ns nsid=3\nns nsid=4");
    struct xvf_vf vf1, vf2, vf3;
    struct xvf_mock_sec sec;
    struct fixture fx;
    struct xvf_err err;

    if (!setup(&fx, config))
        goto out;
    /*
     * 8 VQ / 4 VI flexible, at most 4 / 2 per secondary: two use it all
     * (without flexible VI: only VQ). With 2 secondaries (QEMU) the third
     * finds none free, with 32 (PM173x) no resources.
     */
    CHECK_INT(fx_prepare(&fx, fx_flex_vi() ? "vf:nvme0/ns2,vq=4,vi=2" :
                         "vf:nvme0/ns2,vq=4", "domain:1", &vf1, &err), 0,
              err.msg);
    CHECK_INT(fx_prepare(&fx, fx_flex_vi() ? "vf:nvme0/ns3,vq=4,vi=2" :
                         "vf:nvme0/ns3,vq=4", "domain:2", &vf2, &err), 0,
              err.msg);
    CHECK_STR(vf2.vf, "0000:01:00.2", "second VF");
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 2, &sec), 0, "sec 2");
    CHECK(sec.online && sec.nvq == 4 && sec.nvi == (fx_flex_vi() ? 2 : 0),
          "sec 2 resources");
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns4", "domain:3", &vf3, &err), -ENOSPC,
              "no third secondary");
    CHECK(strstr(err.msg, "no free secondary controller") ||
          strstr(err.msg, "not enough free flexible resources"), "%s",
          err.msg);

    /* Releasing the first keeps the second and the enabled VFs */
    CHECK_INT(xvf_release(&fx.cfg, vf1.vf, &err), 0, err.msg);
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 2, &sec), 0, "sec 2");
    CHECK(sec.online, "second VF still online");
    /* Prepare after release: offline zeroed VQ/VI, so they are reassigned */
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns4", "domain:3", &vf3, &err), 0,
              err.msg);
    CHECK_STR(vf3.vf, vf1.vf, "freed secondary reused");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:2", &err), 1, err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:3", &err), 1, err.msg);
    fx_unchanged(&fx, "after releasing all");
    fx_teardown(&fx);
out:
    free(config);
}

static void test_guide_board(void)
{
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    uint16_t ids[32];
    unsigned int n;

    /* Primary 0x41, ns2 attached to SCID 1 by the one-time setup */
    if (!setup(&fx, "board"))
        return;
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    CHECK_INT(vf.scid, 1, "the secondary the namespace is attached to");
    CHECK_STR(vf.vf, "0000:01:00.2", "VF address read from virtfn0");
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns1", "domain:2", &vf, &err), -EBUSY,
              "ns1 on primary 0x41");
    CHECK(strstr(err.msg, "primary controller 0x41"), "%s", err.msg);
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:1", &err), 1, err.msg);
    CHECK_INT(xvf_mock_ns_attached(fx.root, PF, 2, ids, &n), 0, "ns2");
    CHECK(n == 1 && ids[0] == 1, "ns2 left attached as the setup had it");
    fx_unchanged(&fx, "board after release");
    fx_teardown(&fx);
}

static const struct refusal {
    const char *name;
    const char *config;     /* preset, or preset + extra lines */
    const char *extra;
    const char *pf_set;
    const char *spec;
    int code;
    const char *message;
} refusals[] = {
    { "primary namespace", "qemu", NULL, NULL, "vf:nvme0/ns1", -EBUSY,
      "attached to the primary controller 0x" },
    { "unknown controller", "qemu", NULL, NULL, "vf:nvme9/ns2", -ENODEV,
      "no NVMe controller 'nvme9'" },
    { "unknown address", "qemu", NULL, NULL, "vf:0000:07:00.0/ns2", -ENODEV,
      "no PCI device 0000:07:00.0" },
    { "unknown serial", "qemu", NULL, NULL, "vf:serial:nosuch/ns2", -ENODEV,
      "serial 'nosuch'" },
    { "unknown namespace", "qemu", NULL, NULL, "vf:nvme0/ns7", -ENODEV,
      "namespace 7 does not exist" },
    { "vq above VQFRSM", "qemu", NULL, NULL, "vf:nvme0/ns2,vq=5", -ENOSPC,
      "VQFRSM" },
    { "vi above VIFRSM", "qemu", NULL, NULL, "vf:nvme0/ns2,vi=3", -ENOSPC,
      "VIFRSM" },
    { "too few queues", "qemu", NULL, NULL, "vf:nvme0/ns2,vq=1", -EINVAL,
      "at least 2 VQ" },
    { "no SR-IOV", "mixed", NULL, NULL, "vf:nvme1/ns1", -EOPNOTSUPP,
      "no SR-IOV capability" },
    { "VF controller", "mixed", NULL, NULL, "vf:0000:01:00.2/ns2", -EINVAL,
      "is a virtual function of 0000:01:00.0" },
    { "no virtualization management", "qemu", NULL, "oacs=0x0a",
      "vf:nvme0/ns2", -EOPNOTSUPP, "Virtualization Management" },
    { "pciback not loaded", "qemu", "drivers nvme,pci-stub", NULL,
      "vf:nvme0/ns2", -ENODEV, "xen-pciback" },
    { "no such netdev", "qemu", NULL, NULL, "vf:eth0", -ENODEV,
      "no network interface 'eth0'" },
    { "NVMe PF as a NIC", "qemu", NULL, NULL, "vf:0000:01:00.0", -EOPNOTSUPP,
      "not a network controller" },
};

static void test_refusals(void)
{
    const struct refusal *t;
    const char *message;
    int code;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i;
    char *config;

    for (i = 0; i < ARRAY_SIZE(refusals); i++) {
        t = &refusals[i];
        config = t->extra ? fx_config(t->config, t->extra)
                          : strdup(t->config);
        if (!setup(&fx, config)) {
            free(config);
            continue;
        }
        if (t->pf_set)
            xvf_mock_pf_set(fx.root, PF, t->pf_set);
        free(fx.before);
        fx.before = xvf_mock_snapshot(fx.root);
        code = t->code;
        message = t->message;
        /* without flexible VI, any vi= is refused first */
        if (!fx_flex_vi() && strstr(t->spec, ",vi=")) {
            code = -EOPNOTSUPP;
            message = "no flexible VI resources (VIFRT = 0)";
        }
        CHECK_INT(fx_prepare(&fx, t->spec, "domain:1", &vf, &err), code,
                  t->name);
        CHECK(strstr(err.msg, message), "%s: message '%s' lacks '%s'",
              t->name, err.msg, message);
        fx_unchanged(&fx, t->name);
        fx_teardown(&fx);
        free(config);
    }
}

static void test_unimplemented_command(void)
{
    struct xvf_mock_fault f;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    /* QEMU answers Invalid Opcode to NS Management although OACS says
     * yes; a device may do the same to any command. */
    if (!setup(&fx, "qemu"))
        return;
    xvf_mock_fault_init(&f);
    f.nth = 1;
    f.opcode = 0x15;        /* Namespace Attachment */
    f.status = 0x4001;
    xvf_mock_set_fault(fx.root, &f);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err),
              -EOPNOTSUPP, "attach not implemented");
    CHECK(strstr(err.msg, "does not implement"), "%s", err.msg);
    CHECK_HEX(err.nvme_status, 0x4001, "raw status kept");
    fx_unchanged(&fx, "after 0x4001");
    fx_teardown(&fx);
}

/* Fail each operation of a good prepare in turn, by errno and by status. */
static void fault_loop(const char *config, const char *spec_text)
{
    struct xvf_mock_counts counts;
    struct xvf_mock_fault f;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i, ops, mode;
    char what[128];

    if (!setup(&fx, config))
        return;
    REQUIRE_INT(fx_prepare(&fx, spec_text, "domain:1", &vf, &err), 0, err.msg);
    xvf_mock_counts(fx.root, &counts);
    ops = counts.ops;
    fx_teardown(&fx);
    REQUIRE(ops >= 8, "a prepare is at least 8 operations, saw %u", ops);

    for (mode = 0; mode < 2; mode++) {
        for (i = 1; i <= ops; i++) {
            snprintf(what, sizeof(what), "%s %s: operation %u/%u fails "
                     "with %s", config, spec_text, i, ops,
                     mode ? "NVMe status 0x4006" : "EIO");
            if (!setup(&fx, config))
                return;
            xvf_mock_fault_init(&f);
            f.nth = i;
            if (mode)
                f.status = 0x4006;
            else
                f.err = EIO;
            xvf_mock_set_fault(fx.root, &f);
            CHECK(fx_prepare(&fx, spec_text, "domain:1", &vf, &err) < 0,
                  "%s: prepare succeeded", what);
            CHECK(err.msg[0], "%s: no message", what);
            xvf_mock_clear_fault(fx.root);
            fx_unchanged(&fx, what);
            fx_teardown(&fx);
        }
    }
}

static void test_fault_every_step_qemu(void)
{
    fault_loop("qemu", "vf:nvme0/ns2,driver=nvme");
}

static void test_fault_every_step_board(void)
{
    fault_loop("board", "vf:serial:S5XXNE0R700123/ns2");
}

static const char *kill_at;

static void die_at_step(void *opaque, const char *step, const char *detail)
{
    if (!strcmp(step, kill_at))
        _exit(9);
}

/*
 * A prepare killed at the start of each step (as SIGKILL would) leaves a
 * journal that reconcile undoes completely.
 */
static void test_killed_then_reconciled(void)
{
    static const char *const steps[] = {
        "autoprobe", "assign-vq", "assign-vi", "numvfs", "health-vfs",
        "online", "online-check",
        "attach", "bind", "health",
    };
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    unsigned int i;
    int status;
    pid_t pid;

    for (i = 0; i < ARRAY_SIZE(steps); i++) {
        /* no VI is assigned without flexible VI */
        if (!fx_flex_vi() && !strcmp(steps[i], "assign-vi"))
            continue;
        if (!setup(&fx, "qemu"))
            return;
        kill_at = steps[i];
        pid = fork();
        if (pid == 0) {
            fx.cfg.step_cb = die_at_step;
            fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err);
            _exit(0);
        }
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 9,
              "child did not die at step %s", steps[i]);
        CHECK(fx_journal_count(&fx) == 1, "killed at %s: journal has the run",
              steps[i]);
        xvf_err_clear(&err);
        CHECK_INT(xvf_reconcile(&fx.cfg, &err), 1, steps[i]);
        fx_unchanged(&fx, steps[i]);
        fx_teardown(&fx);
    }
}

/* A prepare that finds its own interrupted run undoes it and starts over */
static void test_killed_then_prepared(void)
{
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    int status;
    pid_t pid;

    if (!setup(&fx, "qemu"))
        return;
    kill_at = "attach";
    pid = fork();
    if (pid == 0) {
        fx.cfg.step_cb = die_at_step;
        fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
              err.msg);
    CHECK_INT(fx_journal_count(&fx), 1, "one entry");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    fx_unchanged(&fx, "after release");
    fx_teardown(&fx);
}

/*
 * Whether @pid waits for a lock: /proc/locks shows a blocked flock() as
 * "N: -> ...", and the engine's bounded wait (xvf_lock_pf_timed) sleeps
 * between attempts, which /proc/PID/syscall (or wchan) shows.
 */
static bool blocked_on_lock(pid_t pid)
{
    char line[256], arrow[8], type[16], adv[16], mode[16];
    bool found = false;
    long who, nr;
    FILE *f;

    f = fopen("/proc/locks", "re");
    if (!f)
        return false;
    while (!found && fgets(line, sizeof(line), f))
        found = sscanf(line, "%*s %7s %15s %15s %15s %ld", arrow, type, adv,
                       mode, &who) == 5 &&
                !strcmp(arrow, "->") && who == pid;
    fclose(f);
    if (found)
        return true;
    snprintf(line, sizeof(line), "/proc/%ld/syscall", (long)pid);
    f = fopen(line, "re");
    if (!f)
        return false;
    found = fscanf(f, "%ld", &nr) == 1 && nr == SYS_clock_nanosleep;
#ifdef SYS_nanosleep
    found = found || nr == SYS_nanosleep;
#endif
    fclose(f);
    if (found)
        return true;
    /* /proc/PID/syscall numbers the kernel's ABI: under QEMU user mode
     * (the cross tier) that is the host's, not this build's SYS_*. The
     * kernel function the task sleeps in does not depend on it. */
    snprintf(line, sizeof(line), "/proc/%ld/wchan", (long)pid);
    f = fopen(line, "re");
    if (!f)
        return false;
    found = fgets(line, sizeof(line), f) && strstr(line, "nanosleep");
    fclose(f);
    return found;
}

static bool wait_blocked(pid_t pid)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    unsigned int i;

    for (i = 0; i < 1000; i++) {
        if (blocked_on_lock(pid))
            return true;
        nanosleep(&ts, NULL);
    }
    return false;
}

enum race_with { RACE_RECONCILE, RACE_RELEASE_OWNER, RACE_RELEASE_HELD };

/*
 * A reconcile or release by owner that read the journal while a run held
 * the PF's lock decides again on what it reads under the lock: the run
 * (played by the test) makes the entry ready, or hands it to another
 * owner, and the waiter must leave it alone.
 */
static void lock_race(enum race_with with)
{
    const char *what = with == RACE_RECONCILE ? "reconcile" :
                       with == RACE_RELEASE_OWNER ? "release owner" :
                       "release held";
    struct xvf_entry *list = NULL;
    struct xvf_mock_sec sec;
    char vf[XVF_BDF_LEN], drv[32];
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf got;
    unsigned int n = 0;
    int lock = -1, status, r;
    pid_t pid;

    if (!setup(&fx, "qemu"))
        return;
    REQUIRE_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1",
                           &got, &err), 0, err.msg);
    REQUIRE_INT(xvf_journal_list(fx.state, PF, &list, &n), 0, what);
    REQUIRE_INT(n, 1, what);
    /* What the waiter reads before it blocks: a run still under way */
    if (with == RACE_RECONCILE) {
        list[0].state = XVF_ENTRY_PREPARING;
        REQUIRE_INT(xvf_journal_save(fx.state, &list[0]), 0, what);
    }
    REQUIRE_INT(xvf_lock_pf(fx.state, PF, &lock), 0, what);
    pid = fork();
    if (pid == 0) {
        /* Our copy of the lock's file must not keep it held. */
        close(lock);
        xvf_err_clear(&err);
        if (with == RACE_RECONCILE)
            r = xvf_reconcile(&fx.cfg, &err);
        else if (with == RACE_RELEASE_OWNER)
            r = xvf_release_owner(&fx.cfg, "domain:1", &err);
        else
            r = xvf_release_held(&fx.cfg, got.vf, "domain:1", &err);
        if (with == RACE_RELEASE_HELD)
            r = r == -ENOENT ? 0 : r ? r : 1;
        _exit(r < 0 ? 100 : r);
    }
    CHECK(wait_blocked(pid), "%s: child never blocked on the PF lock", what);
    /* The run ends: the entry is ready, or released and prepared again
     * for domain:2 on the same secondary (same entry id). */
    list[0].state = XVF_ENTRY_READY;
    if (with != RACE_RECONCILE)
        snprintf(list[0].owner, sizeof(list[0].owner), "domain:2");
    CHECK_INT(xvf_journal_save(fx.state, &list[0]), 0, what);
    xvf_unlock_pf(lock);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%s: child rolled back %d entries (status 0x%x)", what,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
    free(list);
    list = NULL;
    CHECK_INT(xvf_journal_list(fx.state, PF, &list, &n), 0, what);
    CHECK(n == 1 && list[0].state == XVF_ENTRY_READY,
          "%s: the run's entry is gone or not ready", what);
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 1, &sec), 0, what);
    CHECK(sec.online, "%s: secondary taken offline", what);
    CHECK_INT(xvf_sriov_vf_driver(PF, 1, vf, drv, sizeof(drv)), 0, what);
    CHECK_STR(drv, "nvme", what);
    free(list);

    xvf_err_clear(&err);
    CHECK_INT(xvf_release(&fx.cfg, got.vf, &err), 0, err.msg);
    fx_unchanged(&fx, what);
    fx_teardown(&fx);
}

static void test_reconcile_waits_for_run(void)
{
    lock_race(RACE_RECONCILE);
}

static void test_release_owner_waits_for_run(void)
{
    lock_race(RACE_RELEASE_OWNER);
}

static void test_release_held_waits_for_run(void)
{
    lock_race(RACE_RELEASE_HELD);
}

/*
 * A write the file system cuts short (here by RLIMIT_FSIZE) fails with
 * its errno and leaves neither the entry nor a temporary file behind.
 */
static void test_journal_short_write(void)
{
    struct rlimit lim = { 16, 16 };
    struct xvf_entry e = { .id = "vf-" PF "-1", .pf = PF,
                           .spec = "vf:nvme0/ns2", .owner = "domain:1" };
    struct fixture fx;
    struct dirent *de;
    unsigned int files = 0;
    int status;
    pid_t pid;
    DIR *d;

    if (!setup(&fx, "qemu"))
        return;
    REQUIRE_INT(xvf_state_dir_init(fx.state), 0, "state dir");
    pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &lim))
            _exit(99);
        _exit(-xvf_journal_save(fx.state, &e));
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == EFBIG,
          "short write: exit status 0x%x, expected errno %d", status, EFBIG);
    d = opendir(fx.state);
    REQUIRE(d, "cannot open %s", fx.state);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            files++;
    closedir(d);
    CHECK_INT(files, 0, "nothing left in the state directory");
    /* ... and without the limit the same entry is written */
    CHECK_INT(xvf_journal_save(fx.state, &e), 0, "save");
    CHECK_INT(fx_journal_count(&fx), 1, "entry written");
    fx_teardown(&fx);
}

/*
 * A crash after the last VF entry of a PF went but before the PF was
 * restored leaves only the PF entry: reconcile restores sriov_numvfs and
 * autoprobe and removes it. A PF entry with a ready VF is left alone.
 */
static void test_reconcile_finishes_pf(void)
{
    struct xvf_pf_entry pfe = { .pf = PF, .numvfs_raised = true };
    unsigned int numvfs, autoprobe;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu"))
        return;
    /* With a ready VF the PF entry stays */
    REQUIRE_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
                err.msg);
    xvf_err_clear(&err);
    CHECK_INT(xvf_reconcile(&fx.cfg, &err), 0, err.msg);
    CHECK_INT(xvf_journal_pf_load(fx.state, PF, &pfe), 0, "PF entry kept");
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    fx_unchanged(&fx, "after release");

    /* The PF as a crash would leave it */
    REQUIRE_INT(xvf_sriov_numvfs(PF, &numvfs), 0, "numvfs");
    REQUIRE_INT(xvf_sriov_autoprobe(PF, &autoprobe), 0, "autoprobe");
    pfe.numvfs_orig = numvfs;
    pfe.autoprobe_orig = autoprobe;
    pfe.numvfs_raised = true;
    REQUIRE_INT(xvf_journal_pf_save(fx.state, &pfe), 0, "PF entry");
    REQUIRE_INT(xvf_sriov_set_autoprobe(PF, !autoprobe), 0, "autoprobe");
    REQUIRE_INT(xvf_sriov_set_numvfs(PF, numvfs + 2), 0, "numvfs");
    xvf_err_clear(&err);
    CHECK_INT(xvf_reconcile(&fx.cfg, &err), 0, err.msg);
    CHECK_INT(xvf_sriov_numvfs(PF, &numvfs), 0, "numvfs");
    CHECK_INT(numvfs, pfe.numvfs_orig, "numvfs restored");
    fx_unchanged(&fx, "after reconcile");
    fx_teardown(&fx);
}

/*
 * A PF whose lock another process keeps (a long nvme-layout --apply, a
 * stuck run) fails a prepare or release after lock_timeout_ms, naming the
 * holder, and changes nothing; once the holder is gone both work.
 */
static void test_lock_timeout(void)
{
    char pidtext[32];
    struct timespec t0;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    int release = -1;
    long ms;
    pid_t pid;

    if (!setup(&fx, "qemu"))
        return;
    fx.cfg.lock_timeout_ms = 300;
    pid = hold_pf_lock(fx.state, PF, &release);
    REQUIRE(pid > 0, "child taking the lock");
    snprintf(pidtext, sizeof(pidtext), "pid %ld (", (long)pid);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err),
              -ETIMEDOUT, err.msg);
    ms = elapsed_ms(&t0);
    CHECK(ms >= 300 && ms < 3000, "prepare gave up after %ld ms", ms);
    CHECK_HAS(err.msg, PF, "message names the PF");
    CHECK_HAS(err.msg, pidtext, "message names the holder");
    CHECK_HAS(err.msg, "(test-engine)", "message names its command");
    fx_unchanged(&fx, "after a prepare that timed out");
    let_go_lock(pid, release);

    REQUIRE_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:1", &vf, &err), 0,
                err.msg);
    pid = hold_pf_lock(fx.state, PF, &release);
    REQUIRE(pid > 0, "child taking the lock");
    xvf_err_clear(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), -ETIMEDOUT, err.msg);
    ms = elapsed_ms(&t0);
    CHECK(ms >= 300 && ms < 3000, "release gave up after %ld ms", ms);
    CHECK_HAS(err.msg, "busy", "release says why");
    CHECK_INT(fx_journal_count(&fx), 1, "the VF is still held");
    let_go_lock(pid, release);
    xvf_err_clear(&err);
    CHECK_INT(xvf_release(&fx.cfg, vf.vf, &err), 0, err.msg);
    fx_unchanged(&fx, "after release");
    fx_teardown(&fx);
}

/*
 * A request owns exactly its VF: the same request again gets it back; a
 * second request for the namespace (a second attach to the same guest)
 * is refused with the holder named, and neither that nor its release
 * touches the VF.
 */
static void test_request_identity(void)
{
    struct xvf_mock_sec sec;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf, again;
    char buf[64];

    if (!setup(&fx, "qemu"))
        return;
    REQUIRE_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:5/0", &vf, &err), 0,
                err.msg);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:5/0", &again, &err), 0,
              err.msg);
    CHECK_STR(again.vf, vf.vf, "same request: same VF");
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:5/1", &again, &err),
              -EBUSY, "second request of the same domain");
    CHECK_STR(err.msg, "namespace 2 of nvme0 is held by domain 5 (device "
              "0): VF 0000:01:00.1", "holder named");
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2", "domain:6/0", &again, &err),
              -EBUSY, "request of another domain");
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,vq=4", "domain:5/1", &again,
                         &err), -EBUSY, "another spelling");
    CHECK(strstr(err.msg, "namespace 2 of nvme0 is held by domain 5 (device "
                 "0): VF 0000:01:00.1, secondary 0x1"), "%s", err.msg);
    CHECK_INT(xvf_release_held(&fx.cfg, "vf:nvme0/ns2", "domain:5/1", &err),
              -ENOENT, "the refused request holds nothing");
    CHECK_INT(xvf_release_held(&fx.cfg, vf.vf, "domain:5/1", &err), -ENOENT,
              "not even by the VF's address");
    CHECK_INT(xvf_release_owner(&fx.cfg, "domain:5", &err), 0,
              "\"domain:5\" is not the request's owner");
    CHECK_INT(fx_journal_count(&fx), 1, "still journaled");
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 1, &sec), 0, "secondary");
    CHECK(sec.online, "the VF's secondary is still online");
    snprintf(buf, sizeof(buf), "%s/sys/bus/pci/devices/%s/driver", fx.root,
             vf.vf);
    CHECK(access(buf, F_OK) == 0, "the VF is still bound");
    CHECK_INT(xvf_release_held(&fx.cfg, vf.vf, "domain:5/0", &err), 0,
              err.msg);
    fx_unchanged(&fx, "after the request's release");
    fx_teardown(&fx);
}

static void test_owner_names(void)
{
    unsigned int domid = 1, devid = 1;
    char buf[64];

    xvf_owner_request(buf, sizeof(buf), 32751, 7);
    CHECK_STR(buf, "domain:32751/7", "request owner");
    CHECK(xvf_owner_parse(buf, &domid, &devid) && domid == 32751 &&
          devid == 7, "parsed back: %u/%u", domid, devid);
    CHECK(xvf_owner_parse("domain:5", &domid, &devid) && domid == 5 &&
          devid == XVF_OWNER_ANY_DEVID, "old owner: any request");
    CHECK(!xvf_owner_parse("domain:32752/0", &domid, &devid),
          "reserved domid");
    CHECK(!xvf_owner_parse("domain:5/", &domid, &devid), "empty devid");
    CHECK(!xvf_owner_parse("domain:5/0/1", &domid, &devid), "two slashes");
    CHECK(!xvf_owner_parse("domain:/0", &domid, &devid), "no domid");
    CHECK(!xvf_owner_parse("local", &domid, &devid), "local");
    xvf_owner_describe("domain:5/0", buf, sizeof(buf));
    CHECK_STR(buf, "domain 5 (device 0)", "described");
    xvf_owner_describe("domain:5", buf, sizeof(buf));
    CHECK_STR(buf, "domain 5", "old owner described");
    xvf_owner_describe("local", buf, sizeof(buf));
    CHECK_STR(buf, "'local'", "other owner described");
}

/*
 * The R-Car S4's PF loses its interrupts: the Identify completes only by
 * polling, so the PF is refused before anything is changed (and before a
 * command without a short timeout waits 60 s on it).
 */
static void test_health_lost_before(void)
{
    struct xvf_mock_counts counts;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;
    long long t0;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(xvf_mock_pf_set(fx.root, PF, "irq_lost=1"), 0, "lose irqs");
    fx_rebase(&fx);
    fx.cfg.health_timeout_ms = 300;
    t0 = xvf_now_ms();
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), -EIO, err.msg);
    CHECK(xvf_now_ms() - t0 < 2000, "refused after %lld ms",
          xvf_now_ms() - t0);
    CHECK(strstr(err.msg, "nvme0 (0000:01:00.0): the PF's admin queue "
                 "interrupt (nvme0q0) did not fire before any change"),
          "%s", err.msg);
    CHECK(strstr(err.msg, "interrupts are lost (a known issue of some "
                 "platforms after VFs are enabled)"), "%s", err.msg);
    CHECK(strstr(err.msg, "nothing was changed"), "%s", err.msg);
    CHECK_INT(xvf_mock_counts(fx.root, &counts), 0, "counts");
    CHECK_INT(counts.admin, 1, "only the health check's Identify ran");
    CHECK_INT(counts.write, 0, "no sysfs write");
    fx_unchanged(&fx, "PF without interrupts");
    fx_teardown(&fx);
}

/* The guide's issue: interrupts stop once VFs are enabled. */
static void test_health_lost_with_vfs(void)
{
    char *log;
    struct fixture fx;
    struct fx_steps steps = { "" };
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(xvf_mock_pf_set(fx.root, PF, "irq_lost_vfs=1"), 0, "set");
    fx_rebase(&fx);
    fx.cfg.health_timeout_ms = 300;
    fx_log_steps(&fx, &steps);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), -EIO, err.msg);
    CHECK(strstr(err.msg, "(nvme0q0) did not fire after enabling its VFs"),
          "%s", err.msg);
    CHECK(strstr(err.msg, "a known issue of some platforms"), "%s",
          err.msg);
    CHECK(strstr(err.msg, "rolled back"), "%s", err.msg);
    CHECK(strstr(steps.text, "health-before: ") &&
          strstr(steps.text, "numvfs: ") &&
          strstr(steps.text, "health-vfs: ") &&
          !strstr(steps.text, "online: "), "stopped at health-vfs:\n%s",
          steps.text);
    /* the rollback's offline (act 7) is bounded by the short timeout too */
    log = xvf_mock_log(fx.root);
    CHECK(log && strstr(log, "opc=0x1c cdw10=0x00010007") &&
          strstr(strstr(log, "opc=0x1c cdw10=0x00010007"),
                 "[polled after 300 ms]"), "offline not bounded:\n%s",
          log ? log : "");
    CHECK(log && !strstr(log, "admin_timeout"), "a rollback command "
          "waits admin_timeout:\n%s", log ? log : "");
    free(log);
    fx_unchanged(&fx, "interrupts lost with VFs enabled");
    fx_teardown(&fx);
}

/*
 * vf:nvme0/ns2 prepared for domain 1, with each of @want (NULL-ended) in
 * its step log, and released: the PF as it was.
 */
static void prepare_logs(struct fixture *fx, const char *const *want)
{
    struct fx_steps steps = { "" };
    struct xvf_err err;
    struct xvf_vf vf;

    fx_log_steps(fx, &steps);
    CHECK_INT(fx_prepare(fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), 0, err.msg);
    for (; *want; want++)
        CHECK(strstr(steps.text, *want), "no \"%s\" in:\n%s", *want,
              steps.text);
    CHECK_INT(xvf_release(&fx->cfg, vf.vf, &err), 0, err.msg);
    fx->cfg.step_cb = NULL;
    fx->cfg.opaque = NULL;
    fx_unchanged(fx, "after release");
}

/* A healthy PF passes all three checks; the step log shows them. */
static void test_health_ok(void)
{
    static const char *const want[] = {
        "health-before: Identify on the PF nvme0 before any change, within "
        "2000 ms, by its interrupt (nvme0q0: 0 so far)",
        "health-vfs: Identify on the PF nvme0 after enabling its VFs",
        "health: Identify on the PF nvme0 with the VF bound",
        NULL,
    };
    struct fixture fx;

    if (!setup(&fx, "qemu"))
        return;
    prepare_logs(&fx, want);
    fx_teardown(&fx);
}

/* No "nvme0q0" line (a shared or legacy vector): the time bound alone. */
static void test_health_time_bound(void)
{
    static const char *const want[] = {
        "(no nvme0q0 in /proc/interrupts: time bound only)", NULL,
    };
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!setup(&fx, "qemu"))
        return;
    CHECK_INT(xvf_mock_pf_set(fx.root, PF, "irq=0"), 0, "no q0 line");
    fx_rebase(&fx);
    fx.cfg.health_timeout_ms = 300;
    prepare_logs(&fx, want);

    CHECK_INT(xvf_mock_pf_set(fx.root, PF, "irq_lost=1"), 0, "lose irqs");
    fx_rebase(&fx);
    CHECK_INT(fx_prepare(&fx, "vf:nvme0/ns2,driver=nvme", "domain:1", &vf,
                         &err), -EIO, err.msg);
    CHECK(strstr(err.msg, "nvme0 (0000:01:00.0): Identify before any change "
                 "took ") && strstr(err.msg, "of its 300 ms: completed only "
                 "by polling"), "%s", err.msg);
    fx_unchanged(&fx, "lost, time bound only");
    fx_teardown(&fx);
}

/* Settings from the environment: the whole value, or refused by name. */
static void test_config_from_env(void)
{
    static const struct {
        const char *var, *value, *message;
    } bad[] = {
        { "XEN_VF_HEALTH_TIMEOUT_MS", "2s", "XEN_VF_HEALTH_TIMEOUT_MS='2s'" },
        { "XEN_VF_HEALTH_TIMEOUT_MS", "-1", "not a number from 0 to" },
        { "XEN_VF_LOCK_TIMEOUT_MS", "99999999999999999999", "LOCK_TIMEOUT" },
        { "XEN_VF_LOCK_TIMEOUT_MS", " 20", "XEN_VF_LOCK_TIMEOUT_MS" },
        { "XEN_VF_NET_NUMVFS", "8x", "XEN_VF_NET_NUMVFS='8x'" },
        { "XEN_VF_NET_NUMVFS", "65536", "to 65535" },
        { "XEN_VF_BRING_PF_UP", "true", "XEN_VF_BRING_PF_UP='true'" },
    };
    struct xvf_engine_config cfg = { .health_timeout_ms = 7 }, before;
    struct xvf_err err;
    unsigned int i;

    setenv("XEN_VF_HEALTH_TIMEOUT_MS", "1500", 1);
    setenv("XEN_VF_NET_NUMVFS", "4", 1);
    setenv("XEN_VF_BRING_PF_UP", "no", 1);
    xvf_err_clear(&err);
    CHECK_INT(xvf_engine_config_from_env(&cfg, &err), 0, err.msg);
    CHECK_INT(cfg.health_timeout_ms, 1500, "health timeout read");
    CHECK_INT(cfg.net_numvfs, 4, "net_numvfs read");
    CHECK(!cfg.bring_pf_up, "bring_pf_up=no");
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        before = cfg;
        setenv(bad[i].var, bad[i].value, 1);
        xvf_err_clear(&err);
        CHECK_INT(xvf_engine_config_from_env(&cfg, &err), -EINVAL,
                  bad[i].value);
        CHECK(strstr(err.msg, bad[i].message), "%s=%s: '%s' lacks '%s'",
              bad[i].var, bad[i].value, err.msg, bad[i].message);
        CHECK(cfg.health_timeout_ms == before.health_timeout_ms &&
              cfg.lock_timeout_ms == before.lock_timeout_ms &&
              cfg.net_numvfs == before.net_numvfs &&
              cfg.bring_pf_up == before.bring_pf_up, "%s=%s changed the "
              "settings", bad[i].var, bad[i].value);
        unsetenv(bad[i].var);
    }
    unsetenv("XEN_VF_HEALTH_TIMEOUT_MS");
    unsetenv("XEN_VF_NET_NUMVFS");
    unsetenv("XEN_VF_BRING_PF_UP");
}

int main(void)
{
    RUN(test_prepare_release);
    RUN(test_two_vfs_and_exhaustion);
    RUN(test_guide_board);
    RUN(test_refusals);
    RUN(test_unimplemented_command);
    RUN(test_fault_every_step_qemu);
    RUN(test_fault_every_step_board);
    RUN(test_killed_then_reconciled);
    RUN(test_killed_then_prepared);
    RUN(test_reconcile_waits_for_run);
    RUN(test_release_owner_waits_for_run);
    RUN(test_release_held_waits_for_run);
    RUN(test_journal_short_write);
    RUN(test_reconcile_finishes_pf);
    RUN(test_lock_timeout);
    RUN(test_request_identity);
    RUN(test_owner_names);
    RUN(test_health_lost_before);
    RUN(test_health_lost_with_vfs);
    RUN(test_health_ok);
    RUN(test_health_time_bound);
    RUN(test_config_from_env);

    return harness_done();
}
