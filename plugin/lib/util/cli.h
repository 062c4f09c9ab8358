/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * cli.h - the command line of the daemons (xen-vfd, xen-vf-reaper)
 *
 * Both take only options, answer --help on stdout and refuse anything
 * else with their usage on stderr; this is that part, written once.
 */
#ifndef XVF_UTIL_CLI_H
#define XVF_UTIL_CLI_H

#include <getopt.h>
#include <stdio.h>

/** XVF_CLI_GO_ON - xvf_cli_parse(): the options are read, main() goes on */
#define XVF_CLI_GO_ON (-1)

/**
 * typedef xvf_cli_option_fn - takes one option of the program's own
 * @opaque: as given to xvf_cli_parse()
 * @c:      the option's letter, as getopt_long() returned it
 * @arg:    its argument (optarg), NULL if it takes none
 *
 * Return: 0 to go on, or the status main() exits with (the callback has
 * said why).
 */
typedef int (*xvf_cli_option_fn)(void *opaque, int c, const char *arg);

/**
 * xvf_cli_parse() - read a program's options, all of them
 * @argc:      main()'s
 * @argv:      main()'s
 * @shortopts: as for getopt_long(); 'h' is --help
 * @longopts:  as for getopt_long()
 * @option:    called for every option but 'h', in the order given
 * @usage:     prints the usage to the stream it is given
 * @opaque:    passed to @option
 *
 * --help prints the usage on stdout; an unknown option, a missing
 * argument or a word that is no option prints it on stderr.
 *
 * Return: %XVF_CLI_GO_ON when every option was taken, else the status
 * main() exits with: 0 after --help, 2 after bad usage, or what @option
 * returned.
 */
int xvf_cli_parse(int argc, char **argv, const char *shortopts,
                  const struct option *longopts, xvf_cli_option_fn option,
                  void (*usage)(FILE *f), void *opaque);

#endif
