/* SPDX-License-Identifier: LGPL-2.1-only */
#include <stdio.h>
#include <string.h>

#include "util/err.h"

int xvf_err_set(struct xvf_err *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err || err->code)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void xvf_err_append(struct xvf_err *err, const char *fmt, ...)
{
    size_t len;
    va_list ap;

    if (!err)
        return;
    len = strlen(err->msg);
    if (len + 3 >= sizeof(err->msg))
        return;
    if (len) {
        memcpy(err->msg + len, "; ", 3);
        len += 2;
    }
    va_start(ap, fmt);
    vsnprintf(err->msg + len, sizeof(err->msg) - len, fmt, ap);
    va_end(ap);
}

void xvf_err_clear(struct xvf_err *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}
