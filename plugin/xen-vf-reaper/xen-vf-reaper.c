/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * xen-vf-reaper - Dom0's clean-up for a driver domain that is not Dom0:
 * when a domain is gone, ask the driver domain to release its requests
 * (docs/protocol.md, "Domains that are gone")
 *
 * xenstored sends @releaseDomain only to privileged domains, and only
 * they can tell whether a domain exists; a driver domain other than Dom0
 * can do neither. So Dom0 watches, and says op = release in the requests
 * the toolstack left behind (xl killed while it waited, a crash in xl):
 * xen-vfd releases them as any other release.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "vf-provider.h"

#define TOKEN "xen-vf-reaper"

static const char *prog = "xen-vf-reaper";
static bool verbose;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void log_request(void *opaque, unsigned int domid, unsigned int devid,
                        int rc)
{
    const unsigned int *domd = opaque;

    if (rc)
        say("domain %u is gone; cannot ask driver domain %u to release "
            "request %u/%u: %s", domid, *domd, domid, devid, strerror(-rc));
    else
        say("domain %u is gone; asked driver domain %u to release request "
            "%u/%u", domid, *domd, domid, devid);
}

/* Read the configuration each time: the driver domain may have been
 * restarted under a new id, or the file changed. */
static void reap(struct xs_handle *xsh)
{
    struct vf_config cfg;
    char err[256];
    unsigned int domd;
    int rc;

    rc = vf_config_read(&cfg, err, sizeof(err));
    if (rc) {
        say("%s", err);
        return;
    }
    rc = vf_domd_resolve(xsh, &cfg, &domd);
    if (rc) {
        vf_domd_strerror(err, sizeof(err), &cfg, rc);
        say("%s", err);
        return;
    }
    rc = vf_reap(xsh, domd, log_request, &domd);
    if (rc < 0 && rc != -ENOENT)
        say("cannot list the requests of driver domain %u: %s", domd,
            strerror(-rc));
    else if (verbose)
        say("scanned driver domain %u: %d request(s) of gone domains",
            domd, rc < 0 ? 0 : rc);
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: %s [-v]\n"
        "\n"
        "Runs in Dom0, in the foreground. On start and whenever a domain\n"
        "goes (@releaseDomain), writes op = release into the xen-vf\n"
        "requests of every domain that is gone, under the driver domain\n"
        "of %s (domd).\n"
        "\n"
        "  -v, --verbose   also log every scan\n",
        prog, XVF_PROVIDER_CONF);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct xs_handle *xsh;
    struct pollfd pfd;
    char **ev;
    int c;

    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    setvbuf(stderr, NULL, _IOLBF, 0);

    xsh = xs_open(0);
    if (!xsh) {
        say("cannot connect to xenstore: %s", strerror(errno));
        return 1;
    }
    /* Fires once at once: that is the scan at start. */
    if (!xs_watch(xsh, "@releaseDomain", TOKEN)) {
        say("cannot watch @releaseDomain: %s", strerror(errno));
        xs_close(xsh);
        return 1;
    }
    say("watching @releaseDomain");
    pfd.fd = xs_fileno(xsh);
    pfd.events = POLLIN;
    for (;;) {
        if (poll(&pfd, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            say("poll: %s", strerror(errno));
            break;
        }
        if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
            say("xenstore connection lost");
            break;
        }
        /* Several events may be queued: one scan covers them all. */
        c = 0;
        while ((ev = xs_check_watch(xsh))) {
            c = 1;
            free(ev);
        }
        if (errno != EAGAIN) {
            say("xenstore: %s", strerror(errno));
            break;
        }
        if (c)
            reap(xsh);
    }
    xs_close(xsh);
    return 1;
}
