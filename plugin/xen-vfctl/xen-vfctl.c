/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xen-vfctl - prepare, release and inspect SR-IOV VFs in the driver domain
 *
 * main(), the command table, and what the commands share; the commands
 * are in cmd-*.c (see vfctl.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "vfctl.h"

bool vfctl_verbose;

static const struct vfctl_cmd {
    const char *name;
    int (*run)(const struct xvf_engine_config *cfg, int argc, char **argv);
} vfctl_cmds[] = {
    { "prepare", cmd_prepare },
    { "release", cmd_release },
    { "reconcile", cmd_reconcile },
    { "status", cmd_status },
    { "check", cmd_check },
    { "nvme-layout", cmd_nvme_layout },
};

void vfctl_usage(FILE *f)
{
    fprintf(f,
        "Usage: xen-vfctl [--state-dir DIR] [-v] COMMAND ...\n"
        "\n"
        "  prepare --local [--owner NAME] SPEC   prepare a VF, print its BDF\n"
        "  release --local SPEC|BDF              release a prepared VF\n"
        "  release --local --owner NAME          release all VFs of NAME\n"
        "  reconcile --local                     undo interrupted runs\n"
        "  status [--json]                       PFs, secondaries, journal\n"
        "  check SPEC                            check a spec's grammar\n"
        "  nvme-layout CTRL [LAYOUT] [--apply]   namespace layout, dry run\n"
        "\n"
        "SPEC is e.g. vf:nvme0/ns2 or vf:0000:01:00.0/ns2,driver=nvme;\n"
        "see xen-vf-spec(5).\n");
}

int vfctl_bad_usage(void)
{
    vfctl_usage(stderr);
    return VFCTL_EXIT_USAGE;
}

void vfctl_msg(const char *fmt, ...)
{
    va_list ap;

    fputs("xen-vfctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int vfctl_fail(int status, const char *what, const struct xvf_err *err)
{
    vfctl_msg("%s: %s", what,
                err->msg[0] ? err->msg : strerror(-err->code));
    return status;
}

int vfctl_parse_opts(int argc, char **argv, struct vfctl_opts *o)
{
    static const struct option longopts[] = {
        { "local", no_argument, NULL, 'l' },
        { "owner", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o->local = true;
            break;
        case 'o':
            o->owner = optarg;
            break;
        case 'j':
            o->json = true;
            break;
        default:
            return -1;
        }
    }
    return optind;
}

/* with -v, each step's time, so that an operator (and make bench) sees
 * where a prepare spends it */
static struct {
    char name[32];
    long long start_us;
} vfctl_step;

static void end_step(void)
{
    if (vfctl_step.name[0])
        vfctl_msg("step %s took %lld us", vfctl_step.name,
                  xvf_now_us() - vfctl_step.start_us);
    vfctl_step.name[0] = '\0';
}

static void print_step(void *opaque, const char *name, const char *detail)
{
    (void)opaque;
    if (!vfctl_verbose)
        return;
    end_step();
    vfctl_msg("step %s: %s", name, detail);
    snprintf(vfctl_step.name, sizeof(vfctl_step.name), "%s", name);
    vfctl_step.start_us = xvf_now_us();
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "state-dir", required_argument, NULL, 's' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xvf_engine_config cfg = {
        .step_cb = print_step,
        .bind_timeout_ms = 10000,
    };
    struct xvf_err env_err = { 0 };
    const char *cmd;
    size_t i;
    int c;

    cfg.state_dir = XVF_STATE_DIR;
    if (xvf_engine_config_from_env(&cfg, &env_err)) {
        vfctl_msg("%s", env_err.msg);
        return VFCTL_EXIT_USAGE;
    }
    while ((c = getopt_long(argc, argv, "+s:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            cfg.state_dir = optarg;
            break;
        case 'v':
            vfctl_verbose = true;
            break;
        case 'h':
            vfctl_usage(stdout);
            return 0;
        default:
            return vfctl_bad_usage();
        }
    }
    if (optind >= argc)
        return vfctl_bad_usage();
    cmd = argv[optind];
    for (i = 0; i < sizeof(vfctl_cmds) / sizeof(vfctl_cmds[0]); i++)
        if (!strcmp(cmd, vfctl_cmds[i].name)) {
            int status = vfctl_cmds[i].run(&cfg, argc - optind,
                                           argv + optind);

            end_step();
            return status;
        }
    vfctl_msg("unknown command '%s'", cmd);
    return vfctl_bad_usage();
}
