/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fixture.h - a fake root for engine-level tests (header only, like
 * tests/lib/harness.h)
 *
 * A fixture is a fake root built by libxvf-mock plus a state directory
 * inside it, and a snapshot of the device taken before the test acts, so
 * fx_unchanged() can assert that a refused or rolled-back request
 * left the device exactly as it was and the journal empty.
 */
#ifndef XVF_FIXTURE_H
#define XVF_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "harness.h"
#include "engine/journal.h"
#include "kernel/mock.h"

/**
 * struct fixture - one fake root
 * @root:   its directory ($XEN_VF_ROOT)
 * @pf:     the PF whose journal fx_unchanged() checks
 * @state:  the engine's state directory
 * @before: the snapshot fx_unchanged() compares with
 * @cfg:    engine settings pointing at @state
 */
struct fixture {
    char *root;
    const char *pf;
    char state[64];
    char *before;
    struct xvf_engine_config cfg;
};

/**
 * fx_flex_vi() - whether the device profile (xvf_mock_profile(), set by
 * run.sh through $XVF_MOCK_PROFILE) has flexible VI resources; without
 * them a spec may not name vi= and secondaries get no VI assigned
 */
static inline bool fx_flex_vi(void)
{
    return strcmp(xvf_mock_profile(), "noflexvi") != 0;
}

/** fx_config() - a preset's text with @extra lines appended */
static inline char *fx_config(const char *preset, const char *extra)
{
    const char *base = xvf_mock_preset(preset);
    char *text;

    if (!base || asprintf(&text, "%s\n%s\n", base, extra ? extra : "") < 0)
        abort();
    return text;
}

/** fx_setup() - build a fake root from @config (text or preset) */
static inline bool fx_setup(struct fixture *fx, const char *config,
                                 const char *pf)
{
    int r;

    memset(fx, 0, sizeof(*fx));
    fx->pf = pf;
    r = xvf_mock_mkroot(config, &fx->root);
    if (r) {
        FAIL("cannot build fake root: %s", strerror(-r));
        return false;
    }
    snprintf(fx->state, sizeof(fx->state), "%s/.state", fx->root);
    fx->cfg.state_dir = fx->state;
    fx->cfg.bind_timeout_ms = 2000;
    fx->before = xvf_mock_snapshot(fx->root);
    xvf_mock_reset_counts(fx->root);
    if (!fx->before)
        return FAIL("cannot snapshot the fake root: %s", strerror(errno));
    return true;
}

/** fx_rebase() - take the reference snapshot again */
static inline void fx_rebase(struct fixture *fx)
{
    free(fx->before);
    fx->before = xvf_mock_snapshot(fx->root);
}

static inline void fx_teardown(struct fixture *fx)
{
    xvf_mock_destroy(fx->root);
    free(fx->root);
    free(fx->before);
}

/** fx_journal_count() - VF entries in the journal; 999 on error */
static inline unsigned int fx_journal_count(const struct fixture *fx)
{
    struct xvf_entry *list;
    unsigned int n;

    if (xvf_journal_list(fx->state, NULL, &list, &n))
        return 999;
    free(list);
    return n;
}

/** fx_unchanged() - the device and the journal are as before */
static inline void fx_unchanged(struct fixture *fx, const char *what)
{
    char *now = xvf_mock_snapshot(fx->root);
    char *diff = now ? xvf_mock_diff(fx->before, now) : NULL;
    struct xvf_pf_entry pfe;

    CHECK(diff && !*diff, "%s: device changed:\n%s", what,
          diff ? diff : "(no snapshot)");
    CHECK_INT(fx_journal_count(fx), 0, what);
    CHECK_INT(xvf_journal_pf_load(fx->state, fx->pf, &pfe), -ENOENT, what);
    free(now);
    free(diff);
}

/** struct fx_steps - the step log of a run, "name: detail" a line */
struct fx_steps {
    char text[8192];
};

static inline void fx_step_cb(void *opaque, const char *step,
                              const char *detail)
{
    struct fx_steps *s = opaque;
    size_t n = strlen(s->text);

    snprintf(s->text + n, sizeof(s->text) - n, "%s: %s\n", step, detail);
}

/** fx_log_steps() - log the steps of @fx's runs in @steps */
static inline void fx_log_steps(struct fixture *fx, struct fx_steps *steps)
{
    fx->cfg.step_cb = fx_step_cb;
    fx->cfg.opaque = steps;
}

/** fx_prepare() - parse @text and prepare it for @owner */
static inline int fx_prepare(struct fixture *fx, const char *text,
                                  const char *owner, struct xvf_vf *vf,
                                  struct xvf_err *err)
{
    struct xvf_spec spec;
    int r;

    xvf_err_clear(err);
    r = xvf_spec_parse(text, &spec, err);
    if (r)
        return r;
    return xvf_prepare(&fx->cfg, &spec, owner, vf, err);
}

#endif
