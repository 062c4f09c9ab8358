/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * liveness.c - xen-vfd notices domains that are gone (@releaseDomain) and
 * releases what they held: their VFs and their requests
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "xen/xs.h"
#include "vfd-priv.h"

/* Only Dom0 may ask xenstored; see xvf_xs_domain_alive(). */
bool vfd_domain_alive(struct vfd *d, unsigned int domid)
{
    return xvf_xs_domain_alive(d->xsh, domid, d->domd == 0);
}

void vfd_release_gone(struct vfd *d)
{
    struct xvf_entry *list = NULL;
    char label[32], path[XVF_PROTO_PATH_MAX], **ids;
    unsigned int i, j, n = 0, nids, domid, devid;
    const char *owner;
    struct xvf_err err;
    int rc;

    rc = xvf_journal_list(d->cfg.state_dir, NULL, &list, &n);
    if (rc)
        vfd_log(LOG_ERR, "cannot read the journal in %s: %s",
                d->cfg.state_dir, strerror(-rc));
    /* One owner per request of the domain, and maybe an old "domain:N". */
    for (i = 0; i < n; i++) {
        owner = list[i].owner;
        if (!xvf_owner_parse(owner, &domid, &devid) ||
            vfd_domain_alive(d, domid))
            continue;
        for (j = 0; j < i; j++)
            if (!strcmp(list[j].owner, owner))
                break;
        if (j < i)
            continue;   /* this owner was done already */
        snprintf(label, sizeof(label), "domain %u", domid);
        xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
        for (j = i; j < n; j++)
            if (!strcmp(list[j].owner, owner))
                vfd_hook_remove(d, label, &list[j], domid, path);
        xvf_err_clear(&err);
        rc = xvf_release_owner(&d->cfg, owner, &err);
        if (rc < 0)
            vfd_log(LOG_ERR, "domain %u is gone; releasing the VFs of %s: "
                    "%s", domid, owner, err.msg);
        else
            vfd_log(LOG_NOTICE, "domain %u is gone; released %d VF(s) of "
                    "%s", domid, rc, owner);
    }
    free(list);

    ids = xs_directory(d->xsh, XBT_NULL, d->root, &nids);
    for (i = 0; ids && i < nids; i++) {
        if (xvf_proto_parse_domid(ids[i], &domid) || vfd_domain_alive(d, domid))
            continue;
        xvf_proto_guest_path(path, sizeof(path), d->domd, domid);
        if (xs_rm(d->xsh, XBT_NULL, path))
            vfd_log(LOG_INFO, "domain %u is gone; removed its requests",
                    domid);
        else if (errno != ENOENT)
            vfd_log(LOG_WARNING, "cannot remove %s: %s", path,
                    strerror(errno));
    }
    free(ids);
    if (d->domd == 0)
        xvf_homes_prune(d->xsw, &d->homes, VFD_TOKEN_HOME);
}
