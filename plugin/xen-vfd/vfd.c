/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfd.c - xen-vfd's entry points for its main loop: start, status, watch
 * events, rescans (see vfd.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "util/clock.h"
#include "vfd-priv.h"

/*
 * libxl asks before it introduces the domain to xenstored, which never
 * fires @releaseDomain for a domain it does not know: until then, its
 * home going away is the sign (xen/homes.h). Only Dom0 can tell.
 */
static void watch_unborn(struct vfd *d, unsigned int domid)
{
    int rc;

    if (d->domd != 0 || xvf_homes_watched(&d->homes, domid) ||
        xs_is_domain_introduced(d->xsh, domid) ||
        !vfd_domain_alive(d, domid))
        return;
    rc = xvf_homes_watch(d->xsw, &d->homes, domid, VFD_TOKEN_HOME);
    if (rc)
        vfd_log(LOG_WARNING, "cannot watch the home of domain %u (not "
                "introduced yet): %s", domid, strerror(-rc));
}

/* Every domain that is gone, then every request. */
static void scan(struct vfd *d, bool startup)
{
    char path[XVF_PROTO_PATH_MAX], **doms, **devs;
    unsigned int i, j, ndoms, ndevs, domid, devid;

    vfd_release_gone(d);
    doms = xs_directory(d->xsh, XBT_NULL, d->root, &ndoms);
    for (i = 0; doms && i < ndoms; i++) {
        if (xvf_proto_parse_domid(doms[i], &domid))
            continue;
        xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
        devs = xs_directory(d->xsh, XBT_NULL, path, &ndevs);
        for (j = 0; devs && j < ndevs; j++)
            if (!xvf_proto_parse_devid(devs[j], &devid))
                vfd_handle_request(d, domid, devid, startup);
        free(devs);
        watch_unborn(d, domid);
    }
    free(doms);
}

int vfd_init(struct vfd *d, struct xs_handle *xsh, struct xs_handle *xsw,
             unsigned int domd)
{
    d->xsh = xsh;
    d->xsw = xsw ? xsw : xsh;
    d->domd = domd;
    return xvf_proto_root_path(d->root, sizeof(d->root), domd);
}

void vfd_fini(struct vfd *d)
{
    xvf_homes_free(&d->homes);
}

int vfd_start(struct vfd *d)
{
    struct xvf_err err;
    int rc;

    xvf_err_clear(&err);
    rc = xvf_state_dir_init(d->cfg.state_dir);
    if (rc) {
        vfd_log(LOG_ERR, "state directory %s: %s", d->cfg.state_dir,
                strerror(-rc));
        return rc;
    }
    rc = xvf_reconcile(&d->cfg, &err);
    if (rc < 0) {
        vfd_log(LOG_ERR, "reconcile: %s", err.msg);
        return rc;
    }
    if (rc)
        vfd_log(LOG_NOTICE, "reconcile: rolled back %d interrupted "
                "run(s)", rc);

    /* Watches first, then the scan: nothing falls between the two. */
    if (!xs_watch(d->xsw, d->root, VFD_TOKEN_REQUEST) ||
        !xs_watch(d->xsw, "@releaseDomain", VFD_TOKEN_RELEASE) ||
        (d->domd == 0 &&
         !xs_watch(d->xsw, "@introduceDomain", VFD_TOKEN_HOME))) {
        rc = -errno;
        vfd_log(LOG_ERR, "cannot watch %s, @releaseDomain or "
                "@introduceDomain: %s", d->root, strerror(-rc));
        return rc;
    }
    scan(d, true);
    vfd_check_held(d);
    return 0;
}

int vfd_set_status(struct vfd *d, const char *status)
{
    char path[XVF_PROTO_PATH_MAX], ver[8];

    snprintf(ver, sizeof(ver), "%d", XVF_PROTO_VERSION);
    xvf_proto_version_path(path, sizeof(path), d->domd);
    if (!xs_write(d->xsh, XBT_NULL, path, ver, strlen(ver)))
        return -errno;
    xvf_proto_status_path(path, sizeof(path), d->domd);
    if (!xs_write(d->xsh, XBT_NULL, path, status, strlen(status)))
        return -errno;
    xvf_proto_name_status_path(path, sizeof(path), d->domd);
    if (!xs_write(d->xsh, XBT_NULL, path, status, strlen(status)))
        return -errno;
    return 0;
}

int vfd_stop(struct vfd *d)
{
    return vfd_set_status(d, XVF_PROTO_STATUS_DEAD);
}

void vfd_event(struct vfd *d, const char *path, const char *token)
{
    static const char *const ours[] = {
        XVF_PROTO_STATE, XVF_PROTO_BDF, XVF_PROTO_ERROR, "hotplug-status",
        "hotplug-error",
    };
    unsigned int domd, domid, devid, i;
    const char *node;
    size_t len;

    if (!strcmp(token, VFD_TOKEN_RELEASE)) {
        vfd_release_gone(d);
        return;
    }
    if (!strcmp(token, VFD_TOKEN_HOME)) {
        if (!strcmp(path, "@introduceDomain"))
            xvf_homes_prune(d->xsw, &d->homes, VFD_TOKEN_HOME);
        else if (xvf_homes_path(&d->homes, path, &domid) ==
                     XVF_HOME_ITSELF && !vfd_domain_alive(d, domid))
            vfd_release_gone(d);
        return;
    }
    if (strcmp(token, VFD_TOKEN_REQUEST))
        return;
    if (xvf_proto_parse_path(path, &domd, &domid, &devid, &node) ||
        domd != d->domd)
        return;
    /* Our own answers fire the watch too: only Dom0's nodes matter. */
    len = strcspn(node, "/");
    for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (len == strlen(ours[i]) && !strncmp(node, ours[i], len))
            return;
    for (i = 0; i < d->npending; i++)
        if (d->pending[i].domid == domid && d->pending[i].devid == devid)
            return;
    if (d->npending == VFD_PENDING_MAX)
        vfd_flush(d);
    d->pending[d->npending].domid = domid;
    d->pending[d->npending].devid = devid;
    d->npending++;
}

void vfd_flush(struct vfd *d)
{
    unsigned int i, n = d->npending;

    if (!n)
        return;
    d->npending = 0;
    for (i = 0; i < n; i++) {
        vfd_handle_request(d, d->pending[i].domid, d->pending[i].devid,
                           false);
        watch_unborn(d, d->pending[i].domid);
    }
    vfd_note_held(d);
}

void vfd_rescan(struct vfd *d)
{
    scan(d, false);
    vfd_check_held(d);
}

void vfd_cool(struct vfd *d)
{
    struct xvf_err err;
    int rc;

    if (!d->cfg.keep_vfs_ms)
        return;
    xvf_err_clear(&err);
    rc = xvf_engine_cool(&d->cfg, false, &d->cool_at, &err);
    if (rc < 0) {
        vfd_log(LOG_ERR, "disabling VFs kept enabled: %s", err.msg);
        /* Try again later rather than spin on a broken journal. */
        d->cool_at = xvf_now_ms() + d->cfg.keep_vfs_ms;
    } else if (rc) {
        vfd_log(LOG_INFO, "disabled the VFs of %d PF(s) kept enabled "
                "since their last release", rc);
    }
}
