/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xvf-bench-xs - one xen-vf request through xenstore, timed, the way
 * libxl writes it (docs/protocol.md), without libxl
 *
 *   xvf-bench-xs prepare DOMID DEVID SPEC
 *       writes the request under
 *       /local/domain/0/backend/pci-name/DOMID/DEVID in one transaction
 *       (name, op = prepare, state = requested, empty bdf and error, the
 *       protocol's permissions), waits on a watch
 *       until state is ready or error; prints "US BDF WRITE_US PICK_US"
 *       (ready) or fails: WRITE_US until the request's transaction is
 *       committed, PICK_US from then until the first state other than
 *       "requested" was read (xen-vfd took the request up)
 *   xvf-bench-xs release DOMID DEVID
 *       writes op = release and waits until DomD has removed the request
 *       directory; prints "US"
 *
 *   xvf-bench-xs trace
 *       prints "armed", then a line "US name STATE" each time a request's
 *       state node under the area above changes, "US pci" each time
 *       Dom0's pciback backend area (backend/pci) changes, "US record"
 *       each time libxl's /libxl/pci records change (libxl writes the
 *       domid there just before it resets the device) and "US intro"
 *       when a domain is introduced (after its build), US being
 *       microseconds of CLOCK_REALTIME (the clock of bash's
 *       EPOCHREALTIME), until it is killed or 120 s have passed. A
 *       timeline of xl create: when libxl asked, when the answer came,
 *       when libxl handed the device to pciback.
 *
 *   xvf-bench-xs ops N [watched]
 *       N reads of the area's root, one after the other; prints the
 *       microseconds of one (a xenstored round trip from dom0); with
 *       "watched", on a connection that holds a watch, as libxl's and a
 *       daemon's do (libxenstore's reader thread then hands over every
 *       reply)
 *
 * US is microseconds from just before the transaction starts to the watch
 * event that shows the answer. The driver domain is Dom0 (xen-vfd runs
 * there on the benchmark board). Every wait is bounded by 60 s.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "xen/protocol.h"

#define DOMD 0
#define WAIT_MS 60000
#define TOKEN "xvf-bench"

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static bool put(struct xs_handle *xsh, xs_transaction_t t,
                unsigned int domid, unsigned int devid, const char *node,
                const char *val, enum xvf_proto_node kind)
{
    struct xs_permissions perms[2];
    char path[XVF_PROTO_PATH_MAX];
    unsigned int nperms;

    if (kind == XVF_NODE_ROOT)
        xvf_proto_root_path(path, sizeof(path), DOMD);
    else if (kind == XVF_NODE_GUEST)
        xvf_proto_guest_path(path, sizeof(path), DOMD, domid);
    else
        xvf_proto_request_path(path, sizeof(path), DOMD, domid, devid,
                               node);
    xvf_proto_perms(kind, DOMD, perms, &nperms);
    if (val ? !xs_write(xsh, t, path, val, strlen(val))
            : !xs_mkdir(xsh, t, path))
        return false;
    /* as libxl: the answer's nodes inherit the request's permissions */
    if (kind == XVF_NODE_ANSWER)
        return true;
    return xs_set_permissions(xsh, t, path, perms, nperms);
}

static int write_request(struct xs_handle *xsh, unsigned int domid,
                         unsigned int devid, const char *spec)
{
    xs_transaction_t t;
    int tries;
    bool ok;

    for (tries = 0; tries < 10; tries++) {
        t = xs_transaction_start(xsh);
        if (t == XBT_NULL)
            return -errno;
        ok = put(xsh, t, domid, devid, NULL, NULL, XVF_NODE_ROOT) &&
             put(xsh, t, domid, devid, NULL, NULL, XVF_NODE_GUEST) &&
             put(xsh, t, domid, devid, NULL, NULL, XVF_NODE_REQUEST) &&
             put(xsh, t, domid, devid, XVF_PROTO_SPEC, spec,
                 XVF_NODE_DOM0) &&
             put(xsh, t, domid, devid, XVF_PROTO_OP,
                 xvf_proto_op_name(XVF_OP_PREPARE), XVF_NODE_DOM0) &&
             put(xsh, t, domid, devid, XVF_PROTO_BDF, "", XVF_NODE_ANSWER) &&
             put(xsh, t, domid, devid, XVF_PROTO_ERROR, "",
                 XVF_NODE_ANSWER) &&
             put(xsh, t, domid, devid, XVF_PROTO_STATE,
                 xvf_proto_state_name(XVF_PS_REQUESTED), XVF_NODE_ANSWER);
        if (!ok) {
            xs_transaction_end(xsh, t, true);
            return -errno;
        }
        if (xs_transaction_end(xsh, t, false))
            return 0;
        if (errno != EAGAIN)
            return -errno;
    }
    return -EAGAIN;
}

static char *get(struct xs_handle *xsh, unsigned int domid,
                 unsigned int devid, const char *node)
{
    char path[XVF_PROTO_PATH_MAX];
    unsigned int len;

    xvf_proto_request_path(path, sizeof(path), DOMD, domid, devid, node);
    return xs_read(xsh, XBT_NULL, path, &len);
}

/* Waits for the next watch event, up to the deadline. */
static int next_event(struct xs_handle *xsh, long long deadline)
{
    struct pollfd p = { .fd = xs_fileno(xsh), .events = POLLIN };
    long long left;
    char **ev;
    int r;

    for (;;) {
        left = (deadline - now_us()) / 1000;
        if (left <= 0)
            return -ETIMEDOUT;
        r = poll(&p, 1, left);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r <= 0)
            continue;
        ev = xs_check_watch(xsh);
        if (ev) {
            free(ev);
            return 0;
        }
        if (errno != EAGAIN)
            return -errno;
    }
}

static int do_prepare(struct xs_handle *xsh, unsigned int domid,
                      unsigned int devid, const char *spec)
{
    char path[XVF_PROTO_PATH_MAX], *state = NULL, *bdf, *error;
    long long t0, deadline, written, picked = 0;
    int r;

    xvf_proto_request_path(path, sizeof(path), DOMD, domid, devid,
                           XVF_PROTO_STATE);
    if (!xs_watch(xsh, path, TOKEN)) {
        perror("xs_watch");
        return 1;
    }
    t0 = now_us();
    deadline = t0 + WAIT_MS * 1000LL;
    r = write_request(xsh, domid, devid, spec);
    if (r) {
        fprintf(stderr, "xvf-bench-xs: cannot write the request: %s\n",
                strerror(-r));
        return 1;
    }
    written = now_us();
    for (;;) {
        free(state);
        state = get(xsh, domid, devid, XVF_PROTO_STATE);
        if (state && !picked && strcmp(state, "requested"))
            picked = now_us();
        if (state && (!strcmp(state, "ready") || !strcmp(state, "error")))
            break;
        r = next_event(xsh, deadline);
        if (r) {
            fprintf(stderr, "xvf-bench-xs: no answer: %s (state %s)\n",
                    strerror(-r), state ? state : "gone");
            free(state);
            return 1;
        }
    }
    picked = picked - written;
    written -= t0;
    t0 = now_us() - t0;
    bdf = get(xsh, domid, devid, XVF_PROTO_BDF);
    error = get(xsh, domid, devid, XVF_PROTO_ERROR);
    r = strcmp(state, "ready") != 0;
    if (r)
        fprintf(stderr, "xvf-bench-xs: error: %s\n", error ? error : "?");
    else
        printf("%lld %s %lld %lld\n", t0, bdf ? bdf : "", written,
               picked);
    free(state);
    free(bdf);
    free(error);
    return r;
}

static int do_release(struct xs_handle *xsh, unsigned int domid,
                      unsigned int devid)
{
    char path[XVF_PROTO_PATH_MAX], *v;
    long long t0, deadline;
    unsigned int len;
    int r;

    xvf_proto_request_path(path, sizeof(path), DOMD, domid, devid, NULL);
    if (!xs_watch(xsh, path, TOKEN)) {
        perror("xs_watch");
        return 1;
    }
    t0 = now_us();
    deadline = t0 + WAIT_MS * 1000LL;
    xvf_proto_request_path(path, sizeof(path), DOMD, domid, devid,
                           XVF_PROTO_OP);
    v = (char *)xvf_proto_op_name(XVF_OP_RELEASE);
    if (!xs_write(xsh, XBT_NULL, path, v, strlen(v))) {
        perror("xs_write op");
        return 1;
    }
    xvf_proto_request_path(path, sizeof(path), DOMD, domid, devid, NULL);
    for (;;) {
        v = xs_read(xsh, XBT_NULL, path, &len);
        if (!v && errno == ENOENT)
            break;
        free(v);
        r = next_event(xsh, deadline);
        if (r) {
            fprintf(stderr, "xvf-bench-xs: request not removed: %s\n",
                    strerror(-r));
            return 1;
        }
    }
    printf("%lld\n", now_us() - t0);
    return 0;
}

static long long realtime_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int do_trace(struct xs_handle *xsh)
{
    char root[XVF_PROTO_PATH_MAX], *v;
    const char *pci = "/local/domain/0/backend/pci";
    size_t len, plen = strlen(pci);
    unsigned int n;
    char **ev;

    xvf_proto_root_path(root, sizeof(root), DOMD);
    len = strlen(root);
    if (!xs_watch(xsh, root, TOKEN) || !xs_watch(xsh, pci, TOKEN) ||
        !xs_watch(xsh, "/libxl/pci", TOKEN) ||
        !xs_watch(xsh, "@introduceDomain", TOKEN)) {
        perror("xs_watch");
        return 1;
    }
    alarm(120);
    printf("armed\n");
    fflush(stdout);
    while ((ev = xs_read_watch(xsh, &n))) {
        const char *path = ev[XS_WATCH_PATH];
        size_t l = strlen(path);

        /* the first event of each watch names its root: not a change */
        if (!strncmp(path, pci, plen) && path[plen] == '/') {
            printf("%lld pci\n", realtime_us());
        } else if (!strncmp(path, "/libxl/pci/", 11)) {
            printf("%lld record\n", realtime_us());
        } else if (!strcmp(path, "@introduceDomain")) {
            printf("%lld intro\n", realtime_us());
        } else if (!strncmp(path, root, len) && l > 6 &&
                   !strcmp(path + l - 6, "/state")) {
            v = xs_read(xsh, XBT_NULL, path, &n);
            if (v)
                printf("%lld name %s\n", realtime_us(), v);
            free(v);
        }
        fflush(stdout);
        free(ev);
    }
    return 0;
}

/* N reads of a node that exists: one xenstored round trip each. */
static int do_ops(struct xs_handle *xsh, unsigned int n, bool watched)
{
    char path[XVF_PROTO_PATH_MAX], *v;
    unsigned int i, len;
    long long t0;

    xvf_proto_root_path(path, sizeof(path), DOMD);
    if (watched && !xs_watch(xsh, "@releaseDomain", TOKEN)) {
        perror("xs_watch");
        return 1;
    }
    t0 = now_us();
    for (i = 0; i < n; i++) {
        v = xs_read(xsh, XBT_NULL, path, &len);
        if (!v) {
            perror("xs_read");
            return 1;
        }
        free(v);
    }
    printf("%lld\n", (now_us() - t0) / (n ? n : 1));
    return 0;
}

int main(int argc, char **argv)
{
    struct xs_handle *xsh;
    unsigned int domid, devid;
    bool prepare, release, trace, ops;
    int rc;

    prepare = argc == 5 && !strcmp(argv[1], "prepare");
    release = argc == 4 && !strcmp(argv[1], "release");
    trace = argc == 2 && !strcmp(argv[1], "trace");
    ops = (argc == 3 || (argc == 4 && !strcmp(argv[3], "watched"))) &&
          !strcmp(argv[1], "ops");
    if (!prepare && !release && !trace && !ops) {
        fprintf(stderr, "usage: xvf-bench-xs prepare DOMID DEVID SPEC\n"
                "       xvf-bench-xs release DOMID DEVID\n"
                "       xvf-bench-xs trace\n"
                "       xvf-bench-xs ops N [watched]\n");
        return 2;
    }
    if (trace || ops) {
        xsh = xs_open(0);
        if (!xsh) {
            perror("xs_open");
            return 1;
        }
        rc = trace ? do_trace(xsh) :
             do_ops(xsh, strtoul(argv[2], NULL, 10), argc == 4);
        xs_close(xsh);
        return rc;
    }
    domid = strtoul(argv[2], NULL, 10);
    devid = strtoul(argv[3], NULL, 10);
    xsh = xs_open(0);
    if (!xsh) {
        perror("xs_open");
        return 1;
    }
    if (prepare)
        rc = do_prepare(xsh, domid, devid, argv[4]);
    else
        rc = do_release(xsh, domid, devid);
    xs_close(xsh);
    return rc;
}
