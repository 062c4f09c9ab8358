/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/homes.h"
#include "xen/xs.h"

static void home_path(char *buf, size_t len, unsigned int domid)
{
    snprintf(buf, len, "/local/domain/%u", domid);
}

bool xvf_homes_watched(const struct xvf_homes *h, unsigned int domid)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (h->ids[i] == domid)
            return true;
    return false;
}

enum xvf_home_path xvf_homes_path(const struct xvf_homes *h,
                                  const char *path, unsigned int *domid)
{
    char home[32];
    size_t i, len;

    for (i = 0; i < h->n; i++) {
        home_path(home, sizeof(home), h->ids[i]);
        len = strlen(home);
        if (strncmp(path, home, len) || (path[len] && path[len] != '/'))
            continue;
        *domid = h->ids[i];
        if (!path[len])
            return XVF_HOME_ITSELF;
        return XVF_HOME_INSIDE;
    }
    return XVF_HOME_OTHER;
}

int xvf_homes_watch(struct xs_handle *xsh, struct xvf_homes *h,
                    unsigned int domid, const char *token)
{
    char path[32];

    if (xvf_homes_watched(h, domid))
        return 0;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 8;
        unsigned int *ids = realloc(h->ids, cap * sizeof(*ids));

        if (!ids)
            return -ENOMEM;
        h->ids = ids;
        h->cap = cap;
    }
    home_path(path, sizeof(path), domid);
    if (!xs_watch(xsh, path, token))
        return -errno;
    h->ids[h->n++] = domid;
    return 0;
}

void xvf_homes_prune(struct xs_handle *xsh, struct xvf_homes *h,
                     const char *token)
{
    char path[32];
    size_t i = 0;

    while (i < h->n) {
        if (!xs_is_domain_introduced(xsh, h->ids[i]) &&
            xvf_xs_domain_alive(xsh, h->ids[i], false)) {
            i++;
            continue;
        }
        home_path(path, sizeof(path), h->ids[i]);
        xs_unwatch(xsh, path, token);
        h->ids[i] = h->ids[--h->n];
    }
}

void xvf_homes_free(struct xvf_homes *h)
{
    free(h->ids);
    h->ids = NULL;
    h->n = h->cap = 0;
}
