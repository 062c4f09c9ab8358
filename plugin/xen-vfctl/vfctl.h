/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfctl.h - what the files of xen-vfctl share
 *
 * As in xl (xl_cmdtable.c and xl_<area>.c): xen-vfctl.c holds main(), the
 * command table, the top-level usage, the option parsing and the error
 * printing the commands share; each cmd-*.c holds one command group:
 *
 *   cmd-vf.c      check, prepare, release, reconcile
 *   cmd-status.c  status (text and --json; NVMe and NIC PFs, the journal)
 *   cmd-layout.c  nvme-layout
 *
 * Only these files print: the library describes a failure in a struct
 * xvf_err and the command reports it, through vfctl_fail() or
 * vfctl_msg(), as "xen-vfctl: WHAT: WHY" on stderr.
 */
#ifndef XVF_VFCTL_H
#define XVF_VFCTL_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/engine.h"
#include "util/err.h"

/* The exit statuses of xen-vfctl(8); 0 is success. */
#define VFCTL_EXIT_REFUSED 1    /* refused or failed */
#define VFCTL_EXIT_USAGE 2      /* bad command line, spec or layout */
#define VFCTL_EXIT_PARTIAL 3    /* nvme-layout: only part can be done */

/* -v: the commands say more on stderr. */
extern bool vfctl_verbose;

/**
 * vfctl_usage() - print the top-level usage (every command, one line each)
 * @f: stdout for --help, stderr for a bad command line
 */
void vfctl_usage(FILE *f);

/**
 * vfctl_bad_usage() - print the top-level usage on stderr
 *
 * Return: VFCTL_EXIT_USAGE, for "return vfctl_bad_usage();".
 */
int vfctl_bad_usage(void);

/**
 * vfctl_msg() - print "xen-vfctl: <message>" and a newline on stderr
 * @fmt: printf-style message, no trailing newline
 *
 * For errors, and for what -v adds.
 */
void vfctl_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * vfctl_fail() - report a failure the library described
 * @status: the exit status to return
 * @what: what the user named that failed: a spec, a BDF, a file, a
 *        controller, or a word such as "layout"
 * @err: the description; when it has no message, its errno's text is
 *       printed instead
 *
 * Prints "xen-vfctl: @what: <message>" on stderr.
 *
 * Return: @status, for "return vfctl_fail(...);".
 */
int vfctl_fail(int status, const char *what, const struct xvf_err *err);

/**
 * struct vfctl_opts - the options prepare, release, reconcile and status
 * share
 * @local: --local, act on this domain's devices directly
 * @json: --json, machine-readable output (status)
 * @owner: --owner NAME; the caller sets its default before parsing
 */
struct vfctl_opts {
    bool local, json;
    const char *owner;
};

/**
 * vfctl_parse_opts() - parse a command's options
 * @argc: number of arguments, the command's name included
 * @argv: the arguments; @argv[0] is the command's name
 * @o: the options, preset with their defaults
 *
 * Options come before the operands ("+" mode): the first operand ends
 * them. The caller checks the count of operands and which options make
 * sense for it.
 *
 * Return: the index in @argv of the first operand, or -1 for an unknown
 * option or a missing option argument (getopt has said which).
 */
int vfctl_parse_opts(int argc, char **argv, struct vfctl_opts *o);

/*
 * The commands, run by main() through its table. Each takes the engine
 * configuration main() built from the environment and the global options,
 * and its own argc/argv with @argv[0] its name; each returns the exit
 * status of xen-vfctl.
 */

/**
 * cmd_check() - "check SPEC": print SPEC's canonical form
 * @cfg: unused (the table's signature)
 * @argc: arguments, the command's name included
 * @argv: the arguments
 *
 * Return: 0, or VFCTL_EXIT_USAGE when SPEC does not parse.
 */
int cmd_check(const struct xvf_engine_config *cfg, int argc, char **argv);

/**
 * cmd_prepare() - "prepare --local [--owner NAME] SPEC": print the VF's BDF
 * @cfg: engine configuration
 * @argc: arguments, the command's name included
 * @argv: the arguments
 *
 * Return: 0, VFCTL_EXIT_USAGE, or VFCTL_EXIT_REFUSED.
 */
int cmd_prepare(const struct xvf_engine_config *cfg, int argc, char **argv);

/**
 * cmd_release() - "release --local SPEC|BDF" or "release --local --owner
 * NAME"
 * @cfg: engine configuration
 * @argc: arguments, the command's name included
 * @argv: the arguments
 *
 * Return: 0, VFCTL_EXIT_USAGE (also for an operand that is neither a spec
 * nor a BDF), or VFCTL_EXIT_REFUSED.
 */
int cmd_release(const struct xvf_engine_config *cfg, int argc, char **argv);

/**
 * cmd_reconcile() - "reconcile --local": undo interrupted runs
 * @cfg: engine configuration
 * @argc: arguments, the command's name included
 * @argv: the arguments
 *
 * Return: 0, VFCTL_EXIT_USAGE, or VFCTL_EXIT_REFUSED.
 */
int cmd_reconcile(const struct xvf_engine_config *cfg, int argc,
                  char **argv);

/**
 * cmd_status() - "status [--json]": the PFs with SR-IOV (NVMe with their
 * secondary controllers, NICs with their VFs) and the journal
 * @cfg: engine configuration (its state directory holds the journal)
 * @argc: arguments, the command's name included
 * @argv: the arguments
 *
 * Return: 0, VFCTL_EXIT_USAGE, or VFCTL_EXIT_REFUSED when the journal
 * cannot be read.
 */
int cmd_status(const struct xvf_engine_config *cfg, int argc, char **argv);

/**
 * cmd_nvme_layout() - "nvme-layout": show, check and apply an NVMe
 * namespace layout (xen-vf-layout(5)); a dry run unless --apply
 * @cfg: engine configuration (its state directory says which namespaces
 *       xen-vf holds)
 * @argc: arguments, the command's name included
 * @argv: the arguments
 *
 * Return: 0 done or nothing to do, VFCTL_EXIT_REFUSED refused or failed,
 * VFCTL_EXIT_USAGE, VFCTL_EXIT_PARTIAL only part of the layout can be (or
 * was) reached because the controller lacks Namespace Management.
 */
int cmd_nvme_layout(const struct xvf_engine_config *cfg, int argc,
                    char **argv);

#endif
