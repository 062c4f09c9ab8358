/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "xen/xs.h"

/* xenstore calls that fail set errno; never report success by mistake. */
static int xs_errno(void)
{
    return errno ? -errno : -EIO;
}

int xvf_xs_txn(struct xs_handle *xsh, xvf_xs_txn_fn *fn, void *opaque)
{
    xs_transaction_t t;
    unsigned int i;
    int rc = -EAGAIN;

    for (i = 0; i < XVF_XS_TXN_TRIES && rc == -EAGAIN; i++) {
        t = xs_transaction_start(xsh);
        if (t == XBT_NULL)
            return xs_errno();
        rc = fn(xsh, t, opaque);
        if (rc) {
            xs_transaction_end(xsh, t, true);
            return rc;
        }
        if (!xs_transaction_end(xsh, t, false))
            rc = xs_errno();
    }
    return rc;
}

char *xvf_xs_read(struct xs_handle *xsh, xs_transaction_t t,
                  const char *path)
{
    unsigned int len;

    return xs_read(xsh, t, path, &len);
}

/*
 * Either check alone is not enough: libxl removes /local/domain/N before
 * it destroys the domain, and introduces the domain only at the end of
 * its build. The home first: one round trip for a domain being built as
 * for a running one. Any doubt keeps the domain alive: releasing a VF
 * under a running guest is worse than holding it a little longer.
 */
bool xvf_xs_domain_alive(struct xs_handle *xsh, unsigned int domid,
                         bool privileged)
{
    char path[32], *v;

    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    v = xvf_xs_read(xsh, XBT_NULL, path);
    if (v) {
        free(v);
        return true;
    }
    if (errno != ENOENT)
        return true;
    return privileged && xs_is_domain_introduced(xsh, domid);
}
