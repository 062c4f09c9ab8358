/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-vfd.c - xen-vfd's request handling (plugin/xen-vfd, all but main)
 * against the in-memory xenstore of tests/fakes/xenstore/fake-xs.c and
 * the real engine on an empty sysfs root (XEN_VF_ROOT), so every prepare
 * fails the way it does on a machine without the controller. What it
 * shows: who may ask, which events are acted on, what is answered, what
 * is removed. The xen tier runs the same code on real Xen with a real
 * controller. Built with ASan and UBSan and run without libxvf-mock.so
 * (tests/unit/unit.mk).
 *
 * Each case starts a fresh xenstore and xen-vfd (up()) on the one empty
 * root, with domains 5 and 6 alive.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/journal.h"
#include "harness.h"
#include "xenstore/fake-xs.h"
#include "vfd-priv.h"

#define AREA "/local/domain/0/backend/pci-name"

static char logbuf[8192];
static char root[] = "/tmp/xvf-test-vfd.XXXXXX", state[160];
static struct xs_handle *h;
static struct vfd d;

void vfd_log(int prio, const char *fmt, ...)
{
    size_t len = strlen(logbuf);
    va_list ap;

    (void)prio;
    va_start(ap, fmt);
    if (len + 2 < sizeof(logbuf)) {
        vsnprintf(logbuf + len, sizeof(logbuf) - len - 1, fmt, ap);
        strcat(logbuf, "\n");
    }
    va_end(ap);
}

static const char *get(struct xs_handle *h, const char *path)
{
    const char *v = fake_xs_get(h, path);

    return v ? v : "(none)";
}

/* Dom0's side of a request, as libxl writes it. */
static void request(struct xs_handle *h, unsigned int domid,
                    unsigned int devid, const char *spec, const char *op)
{
    char p[160];

    snprintf(p, sizeof(p), AREA "/%u/%u/name", domid, devid);
    fake_xs_put(h, p, spec);
    snprintf(p, sizeof(p), AREA "/%u/%u/op", domid, devid);
    fake_xs_put(h, p, op);
    snprintf(p, sizeof(p), AREA "/%u/%u/state", domid, devid);
    fake_xs_put(h, p, "requested");
    snprintf(p, sizeof(p), AREA "/%u/%u/bdf", domid, devid);
    fake_xs_put(h, p, "");
    snprintf(p, sizeof(p), AREA "/%u/%u/error", domid, devid);
    fake_xs_put(h, p, "");
}

/* An event on a node of a request, noted, as the main loop takes it. */
static void event_only(struct vfd *vd, unsigned int domid,
                       unsigned int devid, const char *node)
{
    char p[160];

    snprintf(p, sizeof(p), AREA "/%u/%u%s%s", domid, devid,
             node[0] ? "/" : "", node);
    vfd_event(vd, p, VFD_TOKEN_REQUEST);
}

/* The same, handled at once. */
static void event(struct vfd *vd, unsigned int domid, unsigned int devid,
                  const char *node)
{
    event_only(vd, domid, devid, node);
    vfd_flush(vd);
}

/* A request directory (and its nodes) chowned to domain 5. */
static void foreign_request(unsigned int domid, unsigned int devid)
{
    struct xs_permissions perms[1] = { { .id = 5, .perms = XS_PERM_NONE } };
    char p[160];

    request(h, domid, devid, "vf:nvme0/ns2", "prepare");
    snprintf(p, sizeof(p), AREA "/%u/%u", domid, devid);
    if (!xs_set_permissions(h, XBT_NULL, p, perms, 1))
        FAIL("chown %s to domain 5", p);
}

static void fresh(void)
{
    h = fake_xs_open();
    fake_xs_put(h, "/local/domain/5/name", "guest5");
    fake_xs_put(h, "/local/domain/6/name", "guest6");
    vfd_fini(&d);
    memset(&d, 0, sizeof(d));
    d.cfg.state_dir = state;
    d.cfg.bind_timeout_ms = 100;
    d.script = "";
    d.script_timeout = 1;
    logbuf[0] = '\0';
}

/* end of a case: xen-vfd's log if it failed, and the xenstore goes */
static void down(void)
{
    char *line, *save = NULL;

    if (harness_case_failures() && logbuf[0]) {
        printf("#   xen-vfd's log:\n");
        for (line = strtok_r(logbuf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            printf("#     %s\n", line);
    }
    vfd_fini(&d);
    fake_xs_close(h);
    h = NULL;
}

/* fresh(), and xen-vfd started on it; false (a failed check, and down())
 * if not: the case ends there */
static bool up(void)
{
    fresh();
    if (vfd_init(&d, h, NULL, 0))
        FAIL("vfd_init");
    else if (vfd_start(&d))
        FAIL("vfd_start");
    else
        return true;
    down();
    return false;
}

static void test_start_and_status(void)
{
    fresh();
    CHECK(!vfd_init(&d, h, NULL, 0), "vfd_init");
    CHECK(!strcmp(d.root, AREA), "request area of domain 0");
    CHECK(!vfd_start(&d), "vfd_start on an empty area");
    CHECK(!vfd_set_status(&d, XVF_PROTO_STATUS_READY), "status");
    CHECK(!strcmp(get(h, "/local/domain/0/drivers/xen-vf/status"), "ready"),
          "status = ready");
    CHECK_STR(get(h, "/local/domain/0/drivers/pci-name/status"), "ready",
              "libxl's sign that Dom0 serves PCI names");
    CHECK(!strcmp(get(h, "/local/domain/0/drivers/xen-vf/protocol"), "1"),
          "protocol = 1");
    CHECK(!vfd_set_status(&d, XVF_PROTO_STATUS_DEAD), "status dead");
    CHECK(!strcmp(get(h, "/local/domain/0/drivers/xen-vf/status"), "dead"),
          "status = dead");
    CHECK_STR(get(h, "/local/domain/0/drivers/pci-name/status"), "dead",
              "Dom0 serves no PCI names any more");
    down();
}

/* A request for a controller this machine lacks: answered error. */
static void test_unknown_controller(void)
{
    if (!up())
        return;
    request(h, 5, 0, "vf:nvme0/ns2", "prepare");
    event(&d, 5, 0, "name");
    CHECK(!strcmp(get(h, AREA "/5/0/state"), "error"),
          "unknown controller: state error");
    CHECK(strstr(get(h, AREA "/5/0/error"), "nvme") != NULL,
          "unknown controller: the error names it");
    CHECK(!strcmp(get(h, AREA "/5/0/bdf"), ""), "no BDF with an error");

    /* Further events on the same request do nothing more. */
    logbuf[0] = '\0';
    event(&d, 5, 0, "op");
    CHECK(logbuf[0] == '\0', "an answered request is not handled again");

    /* Release of what was never prepared: the request goes, and so does
     * the guest's directory once it is empty. */
    fake_xs_put(h, AREA "/5/0/op", "release");
    event(&d, 5, 0, "op");
    CHECK(!fake_xs_exists(h, AREA "/5/0"), "released request removed");
    CHECK(!fake_xs_exists(h, AREA "/5"), "empty guest directory removed");
    down();
}

/* A malformed spec is refused with the grammar's message. */
static void test_malformed_spec(void)
{
    if (!up())
        return;
    request(h, 5, 1, "vf:nvme0/nsX", "prepare");
    event(&d, 5, 1, "");
    CHECK(!strcmp(get(h, AREA "/5/1/state"), "error"), "malformed: error");
    CHECK(strstr(get(h, AREA "/5/1/error"), "nsX") != NULL,
          "malformed: the message quotes the bad part");
    down();
}

/* What is not a request, or not an event on one, is not acted on. */
static void test_not_acted_on(void)
{
    if (!up())
        return;
    /* An unknown op is not a request: nothing is answered. */
    request(h, 5, 2, "vf:nvme0/ns2", "frobnicate");
    event(&d, 5, 2, "op");
    CHECK(!strcmp(get(h, AREA "/5/2/state"), "requested"),
          "unknown op left alone");

    /* Events on the answer nodes are xen-vfd's own: ignored. */
    request(h, 5, 3, "vf:nvme0/ns2", "prepare");
    event(&d, 5, 3, "state");
    event(&d, 5, 3, "bdf");
    event(&d, 5, 3, "hotplug-status");
    CHECK(!strcmp(get(h, AREA "/5/3/state"), "requested"),
          "events on answer nodes ignored");

    /* A path outside any request is not acted on. */
    logbuf[0] = '\0';
    vfd_event(&d, AREA, VFD_TOKEN_REQUEST);
    vfd_event(&d, AREA "/6", VFD_TOKEN_REQUEST);
    vfd_event(&d, "/local/domain/3/backend/pci-name/6/0", VFD_TOKEN_REQUEST);
    vfd_flush(&d);
    CHECK(logbuf[0] == '\0', "non-request paths ignored");
    down();
}

static void test_foreign_requests(void)
{
    struct xs_permissions perms[1] = { { .id = 5, .perms = XS_PERM_NONE } };

    if (!up())
        return;
    /* A request directory not owned by Dom0 is ignored, and logged. */
    request(h, 5, 4, "vf:nvme0/ns2", "prepare");
    CHECK(xs_set_permissions(h, XBT_NULL, AREA "/5/4", perms, 1),
          "chown the request to domain 5");
    logbuf[0] = '\0';
    event(&d, 5, 4, "name");
    CHECK(!strcmp(get(h, AREA "/5/4/state"), "requested"),
          "foreign request not answered");
    CHECK(strstr(logbuf, "not by Dom0") != NULL, "foreign request logged");

    /* ... and so is a Dom0 directory whose op node someone else made. */
    request(h, 5, 5, "vf:nvme0/ns2", "prepare");
    CHECK(xs_set_permissions(h, XBT_NULL, AREA "/5/5/op", perms, 1),
          "chown the op node to domain 5");
    event(&d, 5, 5, "op");
    CHECK(!strcmp(get(h, AREA "/5/5/state"), "requested"),
          "foreign op node: not answered");
    down();
}

/* A request for a domain that does not exist is refused. */
static void test_dead_domain(void)
{
    if (!up())
        return;
    request(h, 9, 0, "vf:nvme0/ns2", "prepare");
    fake_xs_put(h, "/local/domain/9/name", "guest9");
    xs_rm(h, XBT_NULL, "/local/domain/9");
    event(&d, 9, 0, "name");
    CHECK(!strcmp(get(h, AREA "/9/0/state"), "error"), "dead domain: error");
    CHECK(strstr(get(h, AREA "/9/0/error"), "does not exist") != NULL,
          "dead domain: says so");
    down();
}

/*
 * The events of one request's nodes (Dom0 writes them in one transaction)
 * are handled once; the decision and "preparing" (here the refusal) are
 * one transaction, and a conflict on it makes xen-vfd decide again.
 */
static void test_round_trips(void)
{
    static const char *const nodes[] = { "", "name", "op", "bdf", "state" };
    static const struct {
        const char *spec, *answered, *commits_why, *what;
        unsigned int commits, max_calls;
    } trips[] = {
        { "vf:nvme0/nsX", "refused",
          "one transaction reads, decides and answers", "a refusal", 1, 10 },
        /* A prepare that fails in the engine: "preparing", then "error". */
        { "vf:nvme0/ns2", "answered error",
          "a prepare commits twice: preparing, then the answer",
          "a prepare", 2, 16 },
    };
    unsigned int i, t, commits, calls;
    char state[64];

    if (!up())
        return;
    /* A running guest; after the answer xen-vfd asks once whether it is
     * introduced (xen/homes.h): the +1 in the bounds below. */
    fake_xs_introduce(h, 5, true);
    for (t = 0; t < sizeof(trips) / sizeof(trips[0]); t++) {
        request(h, 5, t, trips[t].spec, "prepare");
        commits = fake_xs_commits(h);
        calls = fake_xs_calls(h);
        for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
            event_only(&d, 5, t, nodes[i]);
        vfd_flush(&d);
        snprintf(state, sizeof(state), AREA "/5/%u/state", t);
        CHECK(!strcmp(get(h, state), "error"), "%s", trips[t].answered);
        CHECK_INT(fake_xs_commits(h) - commits, trips[t].commits,
                  trips[t].commits_why);
        CHECK(fake_xs_calls(h) - calls <= trips[t].max_calls + 1,
              "at most %u requests to xenstored for %s (%u)",
              trips[t].max_calls, trips[t].what, fake_xs_calls(h) - calls);
    }

    /* Dom0 wrote between the reading and the commit: decided again. */
    request(h, 5, 2, "vf:nvme0/ns2", "prepare");
    commits = fake_xs_commits(h);
    fake_xs_fail_commits(h, 1);
    event(&d, 5, 2, "name");
    CHECK(!strcmp(get(h, AREA "/5/2/state"), "error"),
          "answered after a conflict");
    CHECK_INT(fake_xs_commits(h) - commits, 3,
              "the conflicting commit, the decision again, the answer");
    down();
}

/* @releaseDomain: requests of gone domains are removed, others kept. */
static void test_release_domain(void)
{
    if (!up())
        return;
    request(h, 9, 0, "vf:nvme0/ns2", "prepare");
    fake_xs_put(h, AREA "/9/0/state", "error");
    foreign_request(5, 4);
    request(h, 6, 0, "vf:nvme0/ns3", "prepare");
    fake_xs_put(h, AREA "/6/0/state", "ready");
    vfd_event(&d, "@releaseDomain", VFD_TOKEN_RELEASE);
    CHECK(!fake_xs_exists(h, AREA "/9"), "gone domain's requests removed");
    CHECK(fake_xs_exists(h, AREA "/6/0"), "live domain's request kept");
    CHECK(fake_xs_exists(h, AREA "/5/4"), "live domain's (foreign) kept");
    down();
}

/* A start (as after a crash) answers requests still "requested". */
static void test_restart(void)
{
    if (!up())
        return;
    foreign_request(5, 4);
    request(h, 6, 1, "vf:nvme7/ns2", "prepare");
    CHECK(!vfd_start(&d), "restart");
    CHECK(!strcmp(get(h, AREA "/6/1/state"), "error"),
          "start handles pending requests");
    CHECK(!strcmp(get(h, AREA "/5/4/state"), "requested"),
          "start still ignores the foreign one");
    down();
}

/* A script in the test's root: @body after "#!/bin/sh", mode @mode. */
static void script(char *path, size_t len, const char *name,
                   const char *body, mode_t mode)
{
    FILE *f;

    snprintf(path, len, "%s/%s", root, name);
    f = fopen(path, "we");
    if (!f || fprintf(f, "#!/bin/sh\n%s\n", body) < 0 || fclose(f) ||
        chmod(path, mode))
        FAIL("cannot write %s", path);
}

static const struct vfd_hook_vf hook_vf = {
    .cls = XVF_CLASS_NVME, .spec = "vf:nvme0/ns2", .pf = "0000:01:00.0",
    .vf = "0000:01:00.1", .domid = 5, .scid = 1, .nsid = 2,
};

static long since_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 +
           (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Whether @pid is gone (or a zombie nobody reaped yet), within 2 s. */
static bool gone(pid_t pid)
{
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    char p[64], buf[256], *c;
    unsigned int i;
    FILE *f;

    snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
    for (i = 0; i < 100; i++) {
        f = fopen(p, "re");
        if (!f)
            return true;
        c = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        if (c && (c[2] == 'Z' || c[2] == 'X'))
            return true;
        nanosleep(&ts, NULL);
    }
    return false;
}

/*
 * A script that outlives its budget is killed with what it started (its
 * process group) and the run fails with a message; @what says how the
 * wait ran. Returns the failed check's number, 0 when all passed, for
 * the seccomp'd child.
 */
static int timed_out_script(const char *what)
{
    char path[256], pidfile[256], body[600], buf[32];
    struct xvf_err err;
    struct timespec t0;
    long ms, bg = 0;
    FILE *f;
    int rc;

    snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", root);
    unlink(pidfile);
    snprintf(body, sizeof(body), "sleep 30 &\necho $! >%s\nwait", pidfile);
    script(path, sizeof(path), "slow-hook", body, 0755);
    d.script = path;
    d.script_required = true;
    d.script_timeout = 1;
    xvf_err_clear(&err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf, &err);
    ms = since_ms(&t0);
    if (!CHECK_INT(rc, -ETIMEDOUT, what))
        return 1;
    if (!CHECK(ms >= 1000 && ms < 5000, "%s: killed after %ld ms", what, ms))
        return 2;
    if (!CHECK_HAS(err.msg, "did not finish within 1 s", what))
        return 3;
    f = fopen(pidfile, "re");
    if (f) {
        if (fgets(buf, sizeof(buf), f))
            bg = strtol(buf, NULL, 10);
        fclose(f);
    }
    if (!CHECK(bg > 0, "%s: the script's child wrote no pid", what))
        return 4;
    if (!CHECK(gone(bg), "%s: the script's child %ld outlived it", what, bg))
        return 5;
    return 0;
}

/* A hook that sleeps past the timeout is killed and reported. */
static void test_hook_timeout(void)
{
    fresh();
    timed_out_script("with pidfd");
    down();
}

/*
 * The same where pidfd_open() fails (kernels before 5.3): a forked child
 * makes it return ENOSYS with a seccomp filter, so the script's wait takes
 * the fallback. Before the fallback existed, the wait had no bound there.
 */
static void test_hook_timeout_without_pidfd(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
        .len = sizeof(filter) / sizeof(filter[0]), .filter = filter,
    };
    int status;
    pid_t pid;

    fresh();
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
            _exit(100);
        if (syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS)
            _exit(101);
        _exit(timed_out_script("without pidfd"));
    }
    if (!CHECK(pid > 0, "fork")) {
        down();
        return;
    }
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 100) {
        down();
        SKIP("no seccomp filters here");
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "child: status 0x%x (101: pidfd_open not refused; 1-5: the "
          "check that failed, printed above)", status);
    down();
}

/* An empty xen-vf-nvme-CMD.d next to the script (a hook in it with @hook). */
static void hook_dir(const char *cmd, const char *hook)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/xen-vf-nvme-%s.d", root, cmd);
    if (mkdir(path, 0755) && errno != EEXIST)
        FAIL("mkdir %s", path);
    if (!hook)
        return;
    snprintf(path, sizeof(path), "%s/xen-vf-nvme-%s.d/%s", root, cmd, hook);
    if (symlink("/nonexistent/hook", path))
        FAIL("symlink %s", path);
}

/*
 * The default script runs only when there is a hook for it to run (even
 * a broken one, which it reports); one given with -S always runs. A
 * script that should run and is missing or cannot run fails the run.
 */
static void test_hook_missing(void)
{
    char path[256], ran[256], body[300];
    struct xvf_err err;

    fresh();
    snprintf(ran, sizeof(ran), "%s/ran", root);
    snprintf(body, sizeof(body), "touch %s", ran);
    script(path, sizeof(path), "xen-vf", body, 0755);
    d.script = path;
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "add", AREA "/5/0", &hook_vf, &err),
              0, "default script, no hook directory");
    CHECK(access(ran, F_OK), "not run without a hook directory");
    hook_dir("add", NULL);
    hook_dir("remove", "10-x.hook.off");
    CHECK_INT(vfd_run_script(&d, "test", "add", AREA "/5/0", &hook_vf, &err),
              0, "default script, empty hook directory");
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), 0, "default script, a disabled hook");
    CHECK(access(ran, F_OK), "not run without a *.hook");
    d.script_required = true;
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), 0, "-S script, no hook");
    CHECK(!access(ran, F_OK), "a script given with -S always runs");
    unlink(ran);
    d.script_required = false;
    hook_dir("remove", "20-broken.hook");
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), 0, "default script, a broken hook");
    CHECK(!access(ran, F_OK), "a *.hook, even broken, runs the script");

    snprintf(path, sizeof(path), "%s/no-such-script", root);
    d.script = path;
    CHECK_INT(vfd_run_script(&d, "test", "add", AREA "/5/0", &hook_vf, &err),
              0, "default script not installed, no hook");
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), -ENOENT,
              "default script not installed, a hook to run");
    CHECK_HAS(err.msg, path, "message names the script");
    d.script_required = true;
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "add", AREA "/5/0", &hook_vf, &err),
              -ENOENT, "configured script missing");
    CHECK_HAS(err.msg, path, "message names the script");
    d.script_required = false;
    snprintf(path, sizeof(path), "%s/dangling-script", root);
    if (symlink("/nonexistent/xen-vf", path))
        FAIL("symlink %s", path);
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), -ENOENT, "default script a dangling "
              "symlink");
    CHECK_HAS(err.msg, "broken symlink", err.msg);
    script(path, sizeof(path), "not-executable", "exit 0", 0644);
    d.script = path;
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), -EACCES, "script not executable");
    CHECK_HAS(err.msg, "not an executable", err.msg);
    down();
}

/* Every value reaches the script whole: the longest path and spec. */
static void test_hook_environment(void)
{
    char path[256], out[256], body[600], xb[XVF_PROTO_PATH_MAX];
    char spec[XVF_SPEC_MAX + 1], line[512];
    struct vfd_hook_vf vf = hook_vf;
    struct xvf_err err;
    bool xb_ok = false, spec_ok = false;
    FILE *f;

    fresh();
    snprintf(out, sizeof(out), "%s/env.out", root);
    snprintf(body, sizeof(body), "env >%s", out);
    script(path, sizeof(path), "env-hook", body, 0755);
    d.script = path;
    d.script_required = true;
    memset(xb, 'x', sizeof(xb) - 1);
    xb[sizeof(xb) - 1] = '\0';
    memcpy(xb, "/local/", 7);
    memset(spec, 's', sizeof(spec) - 1);
    spec[sizeof(spec) - 1] = '\0';
    vf.spec = spec;
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "remove", xb, &vf, &err), 0,
              err.msg);
    f = fopen(out, "re");
    while (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        xb_ok = xb_ok || (!strncmp(line, "XENBUS_PATH=", 12) &&
                          !strcmp(line + 12, xb));
        spec_ok = spec_ok || (!strncmp(line, "XVF_SPEC=", 9) &&
                              !strcmp(line + 9, spec));
    }
    if (f)
        fclose(f);
    CHECK(xb_ok, "XENBUS_PATH of %zu bytes whole", strlen(xb));
    CHECK(spec_ok, "XVF_SPEC of %zu bytes whole", strlen(spec));
    down();
}

/* A file with @text, mode @mode. */
static void put_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "we");

    if (!f || fputs(text, f) < 0 || fclose(f) || chmod(path, mode))
        FAIL("cannot write %s", path);
}

/*
 * The shipped hotplug-scripts/xen-vf (found from the top of the tree, where
 * tests/unit/run.sh runs) with a stub of Xen's xen-hotplug-common.sh: a
 * site hook that cannot run is fatal, not skipped.
 */
static void test_hotplug_script_hooks(void)
{
    static const char common[] =
        "fatal() { echo \"$*\" >>\"$dir/fatal\"; exit 1; }\n"
        "log() { :; }\n"
        "claim_lock() { :; }\n"
        "release_lock() { :; }\n"
        "success() { :; }\n"
        "call_hooks() {\n"     /* Xen's, which skips what it cannot run */
        "    for f in \"$dir/$1-$2.d\"/*.hook; do\n"
        "        if [ -x \"$f\" ]; then . \"$f\"; fi\n"
        "    done\n"
        "}\n";
    char dir[100], hooks[200], script_path[200], path[300], text[600];
    struct xvf_err err;
    FILE *f;

    if (access("hotplug-scripts/xen-vf", R_OK))
        SKIP("hotplug-scripts/xen-vf not found: run from the tree's top");
    fresh();
    snprintf(dir, sizeof(dir), "%s/scripts", root);
    snprintf(hooks, sizeof(hooks), "%s/xen-vf-nvme-remove.d", dir);
    if (mkdir(dir, 0755) || mkdir(hooks, 0755)) {
        FAIL("mkdir %s", hooks);
        down();
        return;
    }
    snprintf(path, sizeof(path), "%s/xen-hotplug-common.sh", dir);
    put_file(path, common, 0644);
    snprintf(script_path, sizeof(script_path), "%s/xen-vf", dir);
    f = fopen("hotplug-scripts/xen-vf", "re");
    text[0] = '\0';
    if (f) {
        FILE *o = fopen(script_path, "we");
        size_t n;

        while (o && (n = fread(text, 1, sizeof(text), f)) > 0)
            fwrite(text, 1, n, o);
        if (o)
            fclose(o);
        fclose(f);
    }
    chmod(script_path, 0755);
    d.script = script_path;
    d.script_timeout = 10;

    snprintf(path, sizeof(path), "%s/10-ran.hook", hooks);
    snprintf(text, sizeof(text), "touch \"%s/ran\"\n", dir);
    put_file(path, text, 0755);
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), 0, err.msg);
    snprintf(path, sizeof(path), "%s/ran", dir);
    CHECK(!access(path, F_OK), "the executable hook ran");

    snprintf(path, sizeof(path), "%s/20-lost-x.hook", hooks);
    put_file(path, "exit 0\n", 0644);
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), -EIO, "a hook without its x bit");
    snprintf(path, sizeof(path), "%s/fatal", dir);
    f = fopen(path, "re");
    text[0] = '\0';
    if (f) {
        if (!fgets(text, sizeof(text), f))
            text[0] = '\0';
        fclose(f);
    }
    CHECK_HAS(text, "20-lost-x.hook is not executable", "hotplug-error");
    unlink(path);

    snprintf(path, sizeof(path), "%s/20-lost-x.hook", hooks);
    unlink(path);
    snprintf(path, sizeof(path), "%s/30-dangling.hook", hooks);
    if (symlink("/nonexistent/hook", path))
        FAIL("symlink %s", path);
    xvf_err_clear(&err);
    CHECK_INT(vfd_run_script(&d, "test", "remove", AREA "/5/0", &hook_vf,
                             &err), -EIO, "a dangling hook");
    snprintf(path, sizeof(path), "%s/fatal", dir);
    f = fopen(path, "re");
    text[0] = '\0';
    if (f) {
        if (!fgets(text, sizeof(text), f))
            text[0] = '\0';
        fclose(f);
    }
    CHECK_HAS(text, "30-dangling.hook is a broken symlink", "hotplug-error");
    down();
}

/*
 * What xen-vfd writes when it stops, before it serves and from the unit's
 * ExecStopPost= (vfd_stop()): a "ready" never outlives the daemon.
 */
static void test_stop_status(void)
{
    if (!up())
        return;
    CHECK_INT(vfd_set_status(&d, XVF_PROTO_STATUS_READY), 0, "ready");
    CHECK_INT(vfd_stop(&d), 0, "stop");
    CHECK_STR(get(h, "/local/domain/0/drivers/xen-vf/status"), "dead",
              "status after stop");
    fake_xs_close(h);
    /* A fresh xenstore (as after a crash, nothing written yet). */
    fresh();
    CHECK_INT(vfd_init(&d, h, NULL, 0), 0, "init");
    CHECK_INT(vfd_stop(&d), 0, "mark dead");
    CHECK_STR(get(h, "/local/domain/0/drivers/xen-vf/status"), "dead",
              "status written by --mark-dead");
    CHECK_STR(get(h, "/local/domain/0/drivers/xen-vf/protocol"), "1",
              "protocol with it");
    down();
}

/*
 * A ready NIC VF in the journal, as a prepare for @owner leaves it, but
 * with no step recorded: releasing it needs no device, only the journal.
 */
static void held(const char *owner, unsigned int vfn)
{
    struct xvf_entry e;

    memset(&e, 0, sizeof(e));
    snprintf(e.id, sizeof(e.id), "vf-0000:02:00.0-vf%u", vfn);
    e.cls = XVF_CLASS_NET;
    snprintf(e.spec, sizeof(e.spec), "vf:eth0");
    snprintf(e.owner, sizeof(e.owner), "%s", owner);
    e.state = XVF_ENTRY_READY;
    snprintf(e.pf, sizeof(e.pf), "0000:02:00.0");
    snprintf(e.vf, sizeof(e.vf), "0000:02:10.%u", vfn);
    e.vfn = vfn;
    snprintf(e.driver, sizeof(e.driver), "pciback");
    if (xvf_journal_save(state, &e))
        FAIL("cannot journal VF %u of %s", vfn, owner);
}

/* Whether VF @vfn is still journaled, and for @owner. */
static bool holds(const char *owner, unsigned int vfn)
{
    struct xvf_entry *list = NULL;
    unsigned int i, n = 0;
    bool found = false;

    if (xvf_journal_list(state, NULL, &list, &n))
        return false;
    for (i = 0; i < n; i++)
        if (list[i].vfn == vfn && !strcmp(list[i].owner, owner))
            found = true;
    free(list);
    return found;
}

/* A release request (op = release) for DOMID/DEVID, answered before. */
static void release_request(unsigned int domid, unsigned int devid,
                            const char *state_now, const char *bdf)
{
    char p[160];

    request(h, domid, devid, "vf:eth0", "release");
    snprintf(p, sizeof(p), AREA "/%u/%u/state", domid, devid);
    fake_xs_put(h, p, state_now);
    snprintf(p, sizeof(p), AREA "/%u/%u/bdf", domid, devid);
    fake_xs_put(h, p, bdf);
    event(&d, domid, devid, "op");
}

/*
 * A request owns exactly its VF: the release of one that was refused
 * (libxl's error path after a second attach) frees nothing of the others
 * of its domain, even with the same spec; a release frees only its own.
 */
static void test_release_own(void)
{
    if (!up())
        return;
    held("domain:5/0", 1);
    held("domain:5/1", 2);
    held("domain:6/0", 3);
    release_request(5, 2, "error", "");
    CHECK(!fake_xs_exists(h, AREA "/5/2"), "refused request removed");
    CHECK(holds("domain:5/0", 1) && holds("domain:5/1", 2) &&
          holds("domain:6/0", 3), "refused request released nothing");
    release_request(5, 1, "ready", "0000:02:10.2");
    CHECK(!holds("domain:5/1", 2), "request 5/1 released its VF");
    CHECK(holds("domain:5/0", 1), "request 5/0 kept its VF");
    CHECK(holds("domain:6/0", 3), "domain 6 kept its VF");
    /* a release naming another request's VF frees nothing either */
    release_request(5, 3, "ready", "0000:02:10.1");
    CHECK(holds("domain:5/0", 1), "5/3 cannot release 5/0's VF");

    /* a domain that is gone: every request of it, not the others */
    held("domain:5/4", 4);
    xs_rm(h, XBT_NULL, "/local/domain/5");
    vfd_event(&d, "@releaseDomain", VFD_TOKEN_RELEASE);
    CHECK(!holds("domain:5/0", 1) && !holds("domain:5/4", 4),
          "gone domain: all its requests released");
    CHECK(holds("domain:6/0", 3), "live domain kept its VF");
    down();
}

/*
 * Entries of the old per-domain owner ("domain:N") belong to domain N,
 * any request: a release frees one only by the VF it was answered, a
 * domain that is gone frees them all.
 */
static void test_old_owner(void)
{
    if (!up())
        return;
    held("domain:6", 1);
    held("domain:6", 2);
    held("domain:6/0", 3);
    release_request(6, 0, "ready", "0000:02:10.3");
    CHECK(!holds("domain:6/0", 3), "request 6/0 released its VF");
    CHECK(holds("domain:6", 1) && holds("domain:6", 2),
          "old entries are not request 6/0's");
    release_request(6, 1, "ready", "0000:02:10.1");
    CHECK(!holds("domain:6", 1), "old entry released by its VF");
    CHECK(holds("domain:6", 2), "the other old entry kept");
    release_request(6, 2, "error", "");
    CHECK(holds("domain:6", 2), "no VF answered: old entry kept");
    xs_rm(h, XBT_NULL, "/local/domain/6");
    vfd_event(&d, "@releaseDomain", VFD_TOKEN_RELEASE);
    CHECK(!holds("domain:6", 2), "gone domain: old entry released");
    down();
}

/*
 * The events that follow an answer (the rest of Dom0's transaction,
 * xen-vfd's own writes) are stale: two reads tell so, with no
 * transaction. A release that comes after them is still handled, and so
 * is a new request in the same slot.
 */
static void test_stale_events(void)
{
    unsigned int calls, commits;

    if (!up())
        return;
    fake_xs_introduce(h, 5, true);
    request(h, 5, 0, "vf:nvme0/ns2", "prepare");
    event(&d, 5, 0, "");
    CHECK(!strcmp(get(h, AREA "/5/0/state"), "error"), "answered");

    calls = fake_xs_calls(h);
    commits = fake_xs_commits(h);
    event_only(&d, 5, 0, "name");
    event_only(&d, 5, 0, "op");
    vfd_flush(&d);
    CHECK_INT(fake_xs_commits(h) - commits, 0, "stale: no transaction");
    /* + 1: whether domain 5 is introduced (xen/homes.h) */
    CHECK(fake_xs_calls(h) - calls <= 3, "stale: two reads (%u requests)",
          fake_xs_calls(h) - calls);
    CHECK(!strcmp(get(h, AREA "/5/0/state"), "error"), "answer kept");

    fake_xs_put(h, AREA "/5/0/op", "release");
    event(&d, 5, 0, "op");
    CHECK(!fake_xs_exists(h, AREA "/5/0"), "released: request removed");

    request(h, 5, 0, "vf:nvme0/nsX", "prepare");
    event(&d, 5, 0, "");
    CHECK(!strcmp(get(h, AREA "/5/0/state"), "error") &&
          strstr(get(h, AREA "/5/0/error"), "nsX") != NULL,
          "a new request in the slot is answered: %s",
          get(h, AREA "/5/0/error"));
    down();
}

/* A VF held for request DOMID/0, answered, of a domain not introduced. */
static void answered_unborn(unsigned int domid)
{
    char owner[32], p[160], home[32];

    snprintf(owner, sizeof(owner), "domain:%u/0", domid);
    held(owner, 1);
    request(h, domid, 0, "vf:eth0", "prepare");
    snprintf(p, sizeof(p), AREA "/%u/0/state", domid);
    fake_xs_put(h, p, "ready");
    snprintf(p, sizeof(p), AREA "/%u/0/bdf", domid);
    fake_xs_put(h, p, "0000:02:10.1");
    event(&d, domid, 0, "op");
    snprintf(home, sizeof(home), "/local/domain/%u", domid);
    CHECK(strstr(fake_xs_watches(h), home) != NULL, "%s watched: %s", home,
          fake_xs_watches(h));
}

/*
 * libxl asks before the domain is introduced to xenstored, which then
 * fires no @releaseDomain if it goes (xl killed while building, then xl
 * destroy). xen-vfd in Dom0 watches such a domain's home: its removal
 * comes as @releaseDomain would, and the VF is released. The nodes libxl
 * writes into the home while it builds the domain cost nothing, and
 * once the domain is introduced the watch goes.
 */
static void test_unborn_domain(void)
{
    unsigned int calls;

    if (!up())
        return;
    CHECK(strstr(fake_xs_watches(h), "@introduceDomain") != NULL,
          "Dom0 watches @introduceDomain: %s", fake_xs_watches(h));
    answered_unborn(5);
    CHECK(holds("domain:5/0", 1), "held while 5 exists");

    calls = fake_xs_calls(h);
    vfd_event(&d, "/local/domain/5/console/ring-ref", VFD_TOKEN_HOME);
    vfd_event(&d, "/local/domain/50", VFD_TOKEN_HOME);
    CHECK_INT(fake_xs_calls(h) - calls, 0,
              "a node written into the home: no request to xenstored");
    /* the first event of the new watch: is 5 alive, no scan */
    calls = fake_xs_calls(h);
    vfd_event(&d, "/local/domain/5", VFD_TOKEN_HOME);
    CHECK(fake_xs_calls(h) - calls <= 2, "the home is there: %u requests",
          fake_xs_calls(h) - calls);
    CHECK(holds("domain:5/0", 1), "still held");

    xs_rm(h, XBT_NULL, "/local/domain/5");
    vfd_event(&d, "/local/domain/5", VFD_TOKEN_HOME);
    CHECK(!holds("domain:5/0", 1), "released once its home went");
    CHECK(!strstr(fake_xs_watches(h), "/local/domain/5"),
          "watch dropped: %s", fake_xs_watches(h));

    /* Introduced: @releaseDomain covers it now, the home watch goes. */
    answered_unborn(6);
    fake_xs_introduce(h, 6, true);
    vfd_event(&d, "@introduceDomain", VFD_TOKEN_HOME);
    CHECK(!strstr(fake_xs_watches(h), "/local/domain/6"),
          "introduced: watch dropped: %s", fake_xs_watches(h));
    CHECK(holds("domain:6/0", 1), "introduced: still held");
    down();
}

/*
 * A VF that another run released between xen-vfd's look at the journal
 * and its release under the PF's lock (here: by the remove hook) was not
 * released by this request: the log must not say so.
 */
static void test_release_gone_meanwhile(void)
{
    char path[300], body[400];

    if (!up())
        return;
    held("domain:7/0", 1);
    snprintf(body, sizeof(body), "rm -f '%s/vf-0000:02:00.0-vf1'", state);
    script(path, sizeof(path), "releasing-hook", body, 0755);
    d.script = path;
    d.script_required = true;   /* as with -S: it always runs */
    release_request(7, 0, "ready", "0000:02:10.1");
    CHECK(!holds("domain:7/0", 1), "the hook released it");
    CHECK(!fake_xs_exists(h, AREA "/7/0"), "request removed");
    CHECK(!strstr(logbuf, "released vf:eth0 of domain 7"),
          "counted as released by this request:\n%s", logbuf);
    CHECK(strstr(logbuf, "nothing held for vf:eth0 of domain 7"),
          "says nothing was held:\n%s", logbuf);
    down();
}

/*
 * A held VF that vanished (a reset of its PF, sriov_numvfs lowered): the
 * periodic check logs it once and turns its "ready" request into "error";
 * another request's answer is left alone. (This machine has no PCI
 * devices, so every held VF is gone.)
 */
static void test_lost_vf_reported(void)
{
    const char *first;

    if (!up())
        return;
    held("domain:8/0", 1);
    request(h, 8, 0, "vf:eth0", "prepare");
    fake_xs_put(h, AREA "/8/0/state", "ready");
    fake_xs_put(h, AREA "/8/0/bdf", "0000:02:10.1");
    request(h, 8, 1, "vf:eth0", "prepare");
    fake_xs_put(h, AREA "/8/1/state", "ready");
    fake_xs_put(h, AREA "/8/1/bdf", "0000:02:10.3");
    vfd_check_held_due(&d, 0);
    CHECK_STR(get(h, AREA "/8/0/state"), "error", "lost VF's request");
    CHECK_HAS(get(h, AREA "/8/0/error"), "VF lost: VF 0000:02:10.1 of "
              "0000:02:00.0 vanished", "says why");
    CHECK_STR(get(h, AREA "/8/1/state"), "ready", "other request kept");
    first = strstr(logbuf, "0000:02:10.1, held for domain:8/0");
    CHECK(first && !strstr(first + 1, "0000:02:10.1, held for"),
          "logged once:\n%s", logbuf);
    vfd_check_held_due(&d, 0);
    first = strstr(logbuf, "0000:02:10.1, held for domain:8/0");
    CHECK(first && !strstr(first + 1, "0000:02:10.1, held for"),
          "not logged again:\n%s", logbuf);
    down();
}

static const struct harness_case cases[] = {
    { "start_and_status", test_start_and_status },
    { "unknown_controller", test_unknown_controller },
    { "malformed_spec", test_malformed_spec },
    { "not_acted_on", test_not_acted_on },
    { "foreign_requests", test_foreign_requests },
    { "dead_domain", test_dead_domain },
    { "release_domain", test_release_domain },
    { "restart", test_restart },
    { "hook_timeout", test_hook_timeout },
    { "hook_timeout_without_pidfd", test_hook_timeout_without_pidfd },
    { "hook_missing", test_hook_missing },
    { "hook_environment", test_hook_environment },
    { "hotplug_script_hooks", test_hotplug_script_hooks },
    { "stop_status", test_stop_status },
    { "release_own", test_release_own },
    { "old_owner", test_old_owner },
    { "release_gone_meanwhile", test_release_gone_meanwhile },
    { "lost_vf_reported", test_lost_vf_reported },
    { "stale_events", test_stale_events },
    { "unborn_domain", test_unborn_domain },
    { "round_trips", test_round_trips },
};

int main(int argc, char **argv)
{
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    /* An empty machine: no PCI devices, no NVMe controllers. */
    setenv("XEN_VF_ROOT", root, 1);
    snprintf(state, sizeof(state), "%s/state", root);
    return harness_main(argc, argv, cases, HARNESS_N(cases));
}
