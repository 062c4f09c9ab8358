/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Keeping a PF's VFs enabled after its last release (keep_vfs_ms): what
 * is left on the device while they wait, what a prepare then skips, and
 * every way the wait ends (deadline, failed prepare, reconcile, cool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "lock-holder.h"
#include "pci/sriov.h"
#include "util/clock.h"

#define PF "0000:01:00.0"

static unsigned int numvfs(void)
{
    unsigned int n = 999;

    xvf_sriov_numvfs(PF, &n);
    return n;
}

/* How many writes to sriov_numvfs the log since the last reset has. */
static unsigned int numvfs_writes(const struct fixture *fx)
{
    char *log = xvf_mock_log(fx->root), *p;
    unsigned int n = 0;

    for (p = log; p && (p = strstr(p, "/sriov_numvfs ")); p++)
        n++;
    free(log);
    return n;
}

static bool prepare_release(struct fixture *fx, const char *owner)
{
    struct xvf_err err;
    struct xvf_vf vf;

    if (!CHECK_INT(fx_prepare(fx, "vf:nvme0/ns2", owner, &vf, &err), 0,
                   err.msg))
        return false;
    xvf_err_clear(&err);
    return CHECK_INT(xvf_release_held(&fx->cfg, vf.vf, owner, &err), 0,
                     err.msg);
}

static void test_kept_then_reused(void)
{
    struct xvf_mock_sec sec;
    struct xvf_pf_entry pfe;
    struct fixture fx;
    struct xvf_err err;
    long long next, t0;
    uint16_t ids[32];
    unsigned int n;

    if (!fx_setup(&fx, "qemu", PF))
        return;
    fx.cfg.keep_vfs_ms = 60000;
    t0 = xvf_now_ms();
    if (!prepare_release(&fx, "domain:1/0"))
        goto out;
    CHECK(numvfs() > 0, "VFs still enabled after the release");
    CHECK_INT(xvf_journal_pf_load(fx.state, PF, &pfe), 0, "PF entry kept");
    CHECK(pfe.warm_until >= t0 + 60000 && pfe.warm_until <= xvf_now_ms() +
          60000, "deadline %lld is the release + 60 s", pfe.warm_until);
    CHECK_INT(fx_journal_count(&fx), 0, "no VF entry");
    /* Nothing usable is left: offline, no resources, nothing attached. */
    CHECK_INT(xvf_mock_secondary(fx.root, PF, 1, &sec), 0, "secondary");
    CHECK(!sec.online && !sec.nvq && !sec.nvi, "secondary 1 offline with "
          "no VQ/VI (online %u vq %u vi %u)", sec.online, sec.nvq, sec.nvi);
    CHECK_INT(xvf_mock_ns_attached(fx.root, PF, 2, ids, &n), 0, "ns2");
    CHECK_INT(n, 0, "ns2 detached");

    /* A guest restart: no VF disable, no VF enable. */
    xvf_mock_reset_counts(fx.root);
    if (!prepare_release(&fx, "domain:2/0"))
        goto out;
    CHECK_INT(numvfs_writes(&fx), 0, "sriov_numvfs untouched by prepare + "
              "release of a warm PF");

    /* Not due: nothing happens, the deadline is reported. */
    xvf_err_clear(&err);
    CHECK_INT(xvf_engine_cool(&fx.cfg, false, &next, &err), 0, err.msg);
    CHECK(next > xvf_now_ms() + 50000, "next deadline in about 60 s");
    CHECK(numvfs() > 0, "still enabled before the deadline");
    /* Due (or all): the PF as it was before the first prepare. */
    CHECK_INT(xvf_engine_cool(&fx.cfg, true, &next, &err), 1, err.msg);
    CHECK_INT(next, 0, "nothing left to wait for");
    fx_unchanged(&fx, "after cooling");
out:
    fx_teardown(&fx);
}

static void test_deadline(void)
{
    struct xvf_pf_entry pfe = { 0 };
    struct timespec ms = { 0, 1000000 };
    struct fixture fx;
    struct xvf_err err;
    long long next;
    int i;

    if (!fx_setup(&fx, "qemu", PF))
        return;
    fx.cfg.keep_vfs_ms = 5;
    if (prepare_release(&fx, "domain:1/0")) {
        REQUIRE_INT(xvf_journal_pf_load(fx.state, PF, &pfe), 0, "kept");
        for (i = 0; i < 1000 && xvf_now_ms() <= pfe.warm_until; i++)
            nanosleep(&ms, NULL);
        xvf_err_clear(&err);
        CHECK_INT(xvf_engine_cool(&fx.cfg, false, &next, &err), 1, err.msg);
        CHECK_INT(next, 0, "nothing left to wait for");
        fx_unchanged(&fx, "after the deadline");
    }
    fx_teardown(&fx);
}

/*
 * xen-vfd's loop calls cool: a kept PF whose lock someone holds is looked
 * at again a second later, never waited for (the loop would stall).
 */
static void test_cool_never_blocks(void)
{
    struct fixture fx;
    struct xvf_err err;
    long long next, t0;
    int release = -1;
    pid_t pid;

    if (!fx_setup(&fx, "qemu", PF))
        return;
    fx.cfg.keep_vfs_ms = 5;
    fx.cfg.lock_timeout_ms = 20000;
    if (!prepare_release(&fx, "domain:1/0"))
        goto out;
    pid = hold_pf_lock(fx.state, PF, &release);
    REQUIRE(pid > 0, "lock holder");
    t0 = xvf_now_ms();
    xvf_err_clear(&err);
    CHECK_INT(xvf_engine_cool(&fx.cfg, true, &next, &err), 0, err.msg);
    CHECK(xvf_now_ms() - t0 < 2000, "cool returned after %lld ms",
          xvf_now_ms() - t0);
    CHECK(next > t0 && next <= xvf_now_ms() + 1000, "looks again in 1 s");
    CHECK(numvfs() > 0, "left as it was while locked");
    let_go_lock(pid, release);
    CHECK_INT(xvf_engine_cool(&fx.cfg, true, &next, &err), 1, err.msg);
    fx_unchanged(&fx, "cooled once the lock was free");
out:
    fx_teardown(&fx);
}

/* A run that fails, or a fresh start, does not keep anything warm. */
static void test_ended_by_failure_and_reconcile(void)
{
    struct xvf_mock_fault f;
    struct fixture fx;
    struct xvf_err err;
    struct xvf_vf vf;

    if (!fx_setup(&fx, "qemu", PF))
        return;
    fx.cfg.keep_vfs_ms = 60000;
    if (!prepare_release(&fx, "domain:1/0"))
        goto out;
    REQUIRE(numvfs() > 0, "warm");
    /* The next prepare fails at its attach: rolled back and cooled. */
    xvf_mock_fault_init(&f);
    f.kind = XVF_MOCK_ADMIN;
    f.nth = 1;
    f.opcode = 0x15;    /* Namespace Attachment */
    f.status = 0x4006;
    REQUIRE_INT(xvf_mock_set_fault(fx.root, &f), 0, "fault");
    CHECK(fx_prepare(&fx, "vf:nvme0/ns2", "domain:2/0", &vf, &err) < 0,
          "prepare with a failing attach fails");
    xvf_mock_clear_fault(fx.root);
    fx_unchanged(&fx, "a failed prepare on a warm PF cools it");

    if (!prepare_release(&fx, "domain:3/0"))
        goto out;
    REQUIRE(numvfs() > 0, "warm again");
    xvf_err_clear(&err);
    CHECK_INT(xvf_reconcile(&fx.cfg, &err), 0, err.msg);
    fx_unchanged(&fx, "reconcile cools");

    /* Without keep_vfs_ms (xen-vfctl) a release never keeps them. */
    fx.cfg.keep_vfs_ms = 0;
    if (prepare_release(&fx, "local"))
        fx_unchanged(&fx, "keep_vfs_ms 0");
out:
    fx_teardown(&fx);
}

int main(void)
{
    RUN(test_kept_then_reused);
    RUN(test_deadline);
    RUN(test_cool_never_blocks);
    RUN(test_ended_by_failure_and_reconcile);
    return harness_done();
}
