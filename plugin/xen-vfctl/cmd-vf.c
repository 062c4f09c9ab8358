/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vfctl check, prepare, release, reconcile - one VF at a time, on this
 * domain's devices (--local)
 */
#include <errno.h>
#include <stdio.h>

#include "spec/spec.h"
#include "vfctl.h"

/* release: one operand, or none with --owner */
#define SPEC_UNLESS_OWNER (-1)

/*
 * Requests for a guest come through xen-vfd from the toolstack; acting
 * on the devices directly is asked for explicitly, so that a stray call
 * does not race the daemon.
 */
static int local_args(const char *cmd, int argc, char **argv,
                      struct vfctl_opts *o, int operands)
{
    int i = vfctl_parse_opts(argc, argv, o);

    if (operands == SPEC_UNLESS_OWNER)
        operands = o->owner ? 0 : 1;
    if (i < 0 || argc - i != operands)
        return -vfctl_bad_usage();
    if (!o->local) {
        vfctl_msg("%s: give --local to act on this domain's devices "
                    "directly (requests through xen-vfd come from the "
                    "toolstack)", cmd);
        return -VFCTL_EXIT_USAGE;
    }
    return i;
}

int cmd_check(const struct xvf_engine_config *cfg, int argc, char **argv)
{
    char canonical[XVF_SPEC_MAX + 1];
    struct xvf_err err = { 0 };
    struct xvf_spec spec;

    if (argc != 2)
        return vfctl_bad_usage();
    if (xvf_spec_parse(argv[1], &spec, &err))
        return vfctl_fail(VFCTL_EXIT_USAGE, argv[1], &err);
    xvf_spec_format(&spec, canonical, sizeof(canonical));
    printf("%s\n", canonical);
    return 0;
}

int cmd_prepare(const struct xvf_engine_config *cfg, int argc, char **argv)
{
    struct vfctl_opts o = { .owner = "local" };
    struct xvf_err err = { 0 };
    struct xvf_spec spec;
    struct xvf_vf vf;
    int i;

    i = local_args("prepare", argc, argv, &o, 1);
    if (i < 0)
        return -i;
    if (xvf_spec_parse(argv[i], &spec, &err))
        return vfctl_fail(VFCTL_EXIT_USAGE, argv[i], &err);
    if (xvf_prepare(cfg, &spec, o.owner, &vf, &err))
        return vfctl_fail(VFCTL_EXIT_REFUSED, argv[i], &err);
    printf("%s\n", vf.vf);
    return 0;
}

int cmd_release(const struct xvf_engine_config *cfg, int argc, char **argv)
{
    struct vfctl_opts o = { 0 };
    struct xvf_err err = { 0 };
    int i, r;

    i = local_args("release", argc, argv, &o, SPEC_UNLESS_OWNER);
    if (i < 0)
        return -i;
    if (o.owner) {
        if (xvf_release_owner(cfg, o.owner, &err) < 0)
            return vfctl_fail(VFCTL_EXIT_REFUSED, o.owner, &err);
        return 0;
    }
    r = xvf_release(cfg, argv[i], &err);
    if (r)
        return vfctl_fail(r == -EINVAL ? VFCTL_EXIT_USAGE :
                          VFCTL_EXIT_REFUSED, argv[i], &err);
    return 0;
}

int cmd_reconcile(const struct xvf_engine_config *cfg, int argc,
                  char **argv)
{
    struct vfctl_opts o = { 0 };
    struct xvf_err err = { 0 };
    int r;

    r = local_args("reconcile", argc, argv, &o, 0);
    if (r < 0)
        return -r;
    r = xvf_reconcile(cfg, &err);
    if (r < 0)
        return vfctl_fail(VFCTL_EXIT_REFUSED, "reconcile", &err);
    if (vfctl_verbose)
        vfctl_msg("reconcile: %d interrupted run(s) undone", r);
    return 0;
}
