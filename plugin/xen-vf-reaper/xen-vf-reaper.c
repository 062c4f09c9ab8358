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
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "util/cli.h"
#include "xen/homes.h"
#include "xen/protocol.h"
#include "xen/xs.h"
#include "reaper.h"

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

/* What the scans share: the driver domain's request area it watches
 * and the homes of domains not introduced yet (xen/homes.h). */
struct reaper {
    struct xs_handle *xsh;
    unsigned int domd;
    char root[XVF_PROTO_PATH_MAX];
    struct xvf_homes homes;
};

static void log_request(void *opaque, unsigned int domid, unsigned int devid,
                        int rc)
{
    const struct reaper *r = opaque;

    if (rc)
        say("domain %u is gone; cannot ask driver domain %u to release "
            "request %u/%u: %s", domid, r->domd, domid, devid, strerror(-rc));
    else
        say("domain %u is gone; asked driver domain %u to release request "
            "%u/%u", domid, r->domd, domid, devid);
}

static void watch_home(void *opaque, unsigned int domid)
{
    struct reaper *r = opaque;
    int rc = xvf_homes_watch(r->xsh, &r->homes, domid, TOKEN);

    if (rc)
        say("cannot watch the home of domain %u (not introduced yet): %s",
            domid, strerror(-rc));
}

/* New requests appear there, also for domains @releaseDomain cannot
 * tell about yet. */
static void watch_root(struct reaper *r, unsigned int domd)
{
    char root[XVF_PROTO_PATH_MAX];

    xvf_proto_root_path(root, sizeof(root), domd);
    if (!strcmp(root, r->root))
        return;
    if (r->root[0])
        xs_unwatch(r->xsh, r->root, TOKEN);
    r->root[0] = '\0';
    if (!xs_watch(r->xsh, root, TOKEN))
        say("cannot watch %s: %s", root, strerror(errno));
    else
        snprintf(r->root, sizeof(r->root), "%s", root);
}

/* Read the configuration each time: the driver domain may have been
 * restarted under a new id, or the file changed. */
static void reap(struct reaper *r)
{
    struct vf_config cfg;
    char err[256];
    int rc;

    rc = vf_config_read(&cfg, err, sizeof(err));
    if (rc) {
        say("%s", err);
        return;
    }
    rc = vf_domd_resolve(r->xsh, &cfg, &r->domd);
    if (rc) {
        vf_domd_strerror(err, sizeof(err), &cfg, rc);
        say("%s", err);
        return;
    }
    watch_root(r, r->domd);
    rc = vf_reap(r->xsh, r->domd, log_request, watch_home, r);
    xvf_homes_prune(r->xsh, &r->homes, TOKEN);
    if (rc < 0 && rc != -ENOENT)
        say("cannot list the requests of driver domain %u: %s", r->domd,
            strerror(-rc));
    else if (verbose)
        say("scanned driver domain %u: %d request(s) of gone domains, %zu "
            "domain(s) not introduced yet", r->domd, rc < 0 ? 0 : rc,
            r->homes.n);
}

/*
 * Every event may tell of a new request or a domain that went, but for
 * three kinds: nodes inside a request (the reaper's own op = release
 * among them) and nodes written into the home of a domain being built,
 * which come by the dozen, and @introduceDomain, after which
 * @releaseDomain covers the domain (its home needs no watch). A scan is
 * many round trips.
 */
static bool worth_a_scan(const struct reaper *r, const char *path)
{
    unsigned int domd, domid, devid;
    const char *node;

    if (!strcmp(path, "@introduceDomain"))
        return false;
    if (!xvf_proto_parse_path(path, &domd, &domid, &devid, &node))
        return !node[0];
    switch (xvf_homes_path(&r->homes, path, &domid)) {
    case XVF_HOME_ITSELF:   /* also the first event of the watch */
        return !xvf_xs_domain_alive(r->xsh, domid, true);
    case XVF_HOME_INSIDE:
        return false;
    case XVF_HOME_OTHER:
        break;
    }
    return true;
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: %s [-v]\n"
        "\n"
        "Runs in Dom0, in the foreground. On start and whenever a domain\n"
        "goes (@releaseDomain, or the home path of a domain xenstored\n"
        "was not introduced to yet), writes op = release into the xen-vf\n"
        "requests of every domain that is gone, under the domain that\n"
        "serves \"" VF_NAME_PREFIX ":\" names, as " VF_CONF_KEY " in %s says\n"
        "(Dom0 without a \"" VF_NAME_PREFIX "=\" entry).\n"
        "\n"
        "  -v, --verbose   also log every scan\n",
        prog, XVF_XL_CONF);
}

static int option(void *opaque, int c, const char *arg)
{
    (void)opaque;
    (void)arg;
    if (c == 'v')
        verbose = true;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct reaper r = { 0 };
    struct xs_handle *xsh;
    struct pollfd pfd;
    bool prune;
    char **ev;
    int c;

    c = xvf_cli_parse(argc, argv, "vh", longopts, option, usage, NULL);
    if (c != XVF_CLI_GO_ON)
        return c;
    setvbuf(stderr, NULL, _IOLBF, 0);

    xsh = xs_open(0);
    if (!xsh) {
        say("cannot connect to xenstore: %s", strerror(errno));
        return 1;
    }
    r.xsh = xsh;
    /* Fires once at once: that is the scan at start. */
    if (!xs_watch(xsh, "@releaseDomain", TOKEN) ||
        !xs_watch(xsh, "@introduceDomain", TOKEN)) {
        say("cannot watch @releaseDomain and @introduceDomain: %s",
            strerror(errno));
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
        prune = false;
        while ((ev = xs_check_watch(xsh))) {
            /* once a scan is due, no event needs a look (a round trip) */
            if (!c && worth_a_scan(&r, ev[XS_WATCH_PATH]))
                c = 1;
            else if (!strcmp(ev[XS_WATCH_PATH], "@introduceDomain"))
                prune = true;
            free(ev);
        }
        if (errno != EAGAIN) {
            say("xenstore: %s", strerror(errno));
            break;
        }
        if (c)
            reap(&r);
        else if (prune)
            xvf_homes_prune(xsh, &r.homes, TOKEN);
    }
    xvf_homes_free(&r.homes);
    xs_close(xsh);
    return 1;
}
