/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * domd.c - which domain is the driver domain, and who may have written a
 * node: Dom0's decisions, for xen-vf-reaper (see reaper.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "xen/protocol.h"
#include "xen/xs.h"
#include "reaper.h"

/*
 * Whether a domain other than Dom0 and @domd may have written the node:
 * its owner, a domain given write access, or everyone when the default
 * (first) entry allows writing. *@who is that domain, -1 for everyone.
 */
static bool foreign_writer(const struct xs_permissions *perms,
                           unsigned int num, unsigned int domd, int *who)
{
    unsigned int i;

    if (perms[0].id != 0 && perms[0].id != domd) {
        *who = perms[0].id;
        return true;
    }
    if (perms[0].perms & XS_PERM_WRITE) {
        *who = -1;
        return true;
    }
    for (i = 1; i < num; i++) {
        if ((perms[i].perms & XS_PERM_WRITE) && perms[i].id != 0 &&
            perms[i].id != domd) {
            *who = perms[i].id;
            return true;
        }
    }
    return false;
}

int vf_check_writers(struct xs_handle *xsh, xs_transaction_t t,
                     const char *path, unsigned int domd, int *who)
{
    struct xs_permissions *perms;
    unsigned int num;
    int rc = 0;

    perms = xs_get_permissions(xsh, t, path, &num);
    if (!perms)
        return errno ? -errno : -EIO;
    if (!num || foreign_writer(perms, num, domd, who))
        rc = -EPERM;
    if (!num)
        *who = -1;
    free(perms);
    return rc;
}

/*
 * /local/domain/ID/name is the toolstack's; a name node some other
 * domain can write (a guest's own, say) is not evidence of anything.
 */
static int domd_by_name(struct xs_handle *xsh, const char *name,
                        unsigned int *domd)
{
    char path[XVF_PROTO_PATH_MAX], **doms, *n;
    unsigned int i, num, id, found = 0;
    int who;

    doms = xs_directory(xsh, XBT_NULL, "/local/domain", &num);
    if (!doms)
        return errno ? -errno : -EIO;
    for (i = 0; i < num; i++) {
        if (xvf_proto_parse_domid(doms[i], &id))
            continue;
        snprintf(path, sizeof(path), "/local/domain/%u/name", id);
        n = xvf_xs_read(xsh, XBT_NULL, path);
        if (n && !strcmp(n, name) &&
            !vf_check_writers(xsh, XBT_NULL, path, 0, &who)) {
            if (!found++)
                *domd = id;
        }
        free(n);
    }
    free(doms);
    if (!found)
        return -ENOENT;
    return found > 1 ? -ENOTUNIQ : 0;
}

/*
 * Never a domain's own word: libxl gives every guest a writable
 * /local/domain/ID/drivers, so any guest can say "ready".
 */
int vf_domd_resolve(struct xs_handle *xsh, const struct vf_config *cfg,
                    unsigned int *domd)
{
    if (!cfg->domd[0]) {
        *domd = 0;
        return 0;
    }
    if (!xvf_proto_parse_domid(cfg->domd, domd))
        return 0;
    return domd_by_name(xsh, cfg->domd, domd);
}

void vf_domd_strerror(char *buf, size_t len, const struct vf_config *cfg,
                      int rc)
{
    switch (rc) {
    case -ENOENT:
        snprintf(buf, len, "driver domain '%s' (" VF_CONF_KEY " in %s) "
                 "does not exist", cfg->domd, cfg->file);
        break;
    case -ENOTUNIQ:
        snprintf(buf, len, "several domains are named '%s' (" VF_CONF_KEY
                 " in %s): give the driver domain's id", cfg->domd,
                 cfg->file);
        break;
    default:
        snprintf(buf, len, "cannot look up driver domain '%s': %s",
                 cfg->domd, strerror(-rc));
        break;
    }
}
