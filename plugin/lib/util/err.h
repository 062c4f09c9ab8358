/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * err.h - error reporting of the xen-vf library
 *
 * Library functions return 0 or a negative errno and never log. When they
 * fail they also describe the failure, in words a person can act on, in a
 * struct xvf_err that the caller passes down; only top-level code (the
 * daemon's event loop, the CLI's main) prints or logs it.
 */
#ifndef XVF_ERR_H
#define XVF_ERR_H

#include <stdarg.h>

#define XVF_ERR_MSG_MAX 512

/**
 * struct xvf_err - why an operation failed
 * @code:        the negative errno the failing function returned
 * @nvme_status: NVMe status field when a device answered with an error,
 *               0 otherwise
 * @msg:         one line, no trailing newline, names the bad part
 */
struct xvf_err {
    int code;
    int nvme_status;
    char msg[XVF_ERR_MSG_MAX];
};

/**
 * xvf_err_set() - record a failure
 * @err:  where to record it; may be NULL
 * @code: negative errno
 * @fmt:  printf-style message; "%m" is not expanded, use strerror(-code)
 *
 * The first failure recorded wins: a rollback that fails after the
 * original failure must not hide it (use xvf_err_append() for that).
 *
 * Return: @code, so callers can write "return xvf_err_set(...)".
 */
int xvf_err_set(struct xvf_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * xvf_err_append() - add a clause to an already recorded failure
 * @err: as for xvf_err_set()
 * @fmt: text appended after "; "
 */
void xvf_err_append(struct xvf_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * xvf_err_clear() - forget a recorded failure
 * @err: as for xvf_err_set()
 */
void xvf_err_clear(struct xvf_err *err);

#endif
