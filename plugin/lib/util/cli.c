/* SPDX-License-Identifier: LGPL-2.1-only */
#include "util/cli.h"

int xvf_cli_parse(int argc, char **argv, const char *shortopts,
                  const struct option *longopts, xvf_cli_option_fn option,
                  void (*usage)(FILE *f), void *opaque)
{
    int c, rc;

    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case '?':
        case ':':
            usage(stderr);
            return 2;
        default:
            rc = option(opaque, c, optarg);
            if (rc)
                return rc;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    return XVF_CLI_GO_ON;
}
