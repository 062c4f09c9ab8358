/* SPDX-License-Identifier: LGPL-2.1-only */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "xen/protocol.h"

static const char *const state_names[] = {
    [XVF_PS_REQUESTED] = "requested",
    [XVF_PS_PREPARING] = "preparing",
    [XVF_PS_READY] = "ready",
    [XVF_PS_ERROR] = "error",
    [XVF_PS_RELEASING] = "releasing",
};

static const char *const op_names[] = {
    [XVF_OP_PREPARE] = "prepare",
    [XVF_OP_RELEASE] = "release",
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned int i)
{
    return i < n ? names[i] : "?";
}

static int index_of(const char *const *names, size_t n, const char *str,
                    unsigned int *ret)
{
    unsigned int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(str, names[i])) {
            *ret = i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *xvf_proto_state_name(enum xvf_proto_state state)
{
    return name_of(state_names, N_ELEM(state_names), state);
}

int xvf_proto_state_parse(const char *str, enum xvf_proto_state *ret)
{
    unsigned int i;
    int rc = index_of(state_names, N_ELEM(state_names), str, &i);

    if (!rc)
        *ret = i;
    return rc;
}

const char *xvf_proto_op_name(enum xvf_proto_op op)
{
    return name_of(op_names, N_ELEM(op_names), op);
}

int xvf_proto_op_parse(const char *str, enum xvf_proto_op *ret)
{
    unsigned int i;
    int rc = index_of(op_names, N_ELEM(op_names), str, &i);

    if (!rc)
        *ret = i;
    return rc;
}

static int pathf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= len)
        return -ENAMETOOLONG;
    return 0;
}

int xvf_proto_status_path(char *buf, size_t len, unsigned int domd)
{
    return pathf(buf, len, "/local/domain/%u/drivers/xen-vf/status", domd);
}

int xvf_proto_name_status_path(char *buf, size_t len, unsigned int domd)
{
    return pathf(buf, len, "/local/domain/%u/drivers/pci-name/status",
                 domd);
}

int xvf_proto_version_path(char *buf, size_t len, unsigned int domd)
{
    return pathf(buf, len, "/local/domain/%u/drivers/xen-vf/protocol",
                 domd);
}

int xvf_proto_root_path(char *buf, size_t len, unsigned int domd)
{
    return pathf(buf, len, "/local/domain/%u/backend/pci-name", domd);
}

int xvf_proto_guest_path(char *buf, size_t len, unsigned int domd,
                         unsigned int domid)
{
    return pathf(buf, len, "/local/domain/%u/backend/pci-name/%u", domd, domid);
}

int xvf_proto_request_path(char *buf, size_t len, unsigned int domd,
                           unsigned int domid, unsigned int devid,
                           const char *node)
{
    if (node)
        return pathf(buf, len, "/local/domain/%u/backend/pci-name/%u/%u/%s",
                     domd, domid, devid, node);
    return pathf(buf, len, "/local/domain/%u/backend/pci-name/%u/%u",
                 domd, domid, devid);
}

/* The one parser of ids; @max says which kind. */
static int parse_id(const char *s, unsigned long max, unsigned int *ret)
{
    unsigned long v;

    if (xvf_parse_ulong(s, max, &v))
        return -EINVAL;
    *ret = v;
    return 0;
}

int xvf_proto_parse_domid(const char *s, unsigned int *domid)
{
    return parse_id(s, XVF_DOMID_FIRST_RESERVED - 1, domid);
}

int xvf_proto_parse_devid(const char *s, unsigned int *devid)
{
    return parse_id(s, XVF_DEVID_MAX, devid);
}

/*
 * One component of a path, up to the next '/': a path names a node only
 * in its canonical form, so no leading zero (ids have at most 10 digits).
 */
static const char *path_id(const char *s, unsigned long max,
                           unsigned int *ret)
{
    size_t len = strcspn(s, "/");
    char buf[11];

    if (!len || len >= sizeof(buf) || (s[0] == '0' && len > 1))
        return NULL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return parse_id(buf, max, ret) ? NULL : s + len;
}

int xvf_proto_parse_path(const char *path, unsigned int *domd,
                         unsigned int *domid, unsigned int *devid,
                         const char **node)
{
    static const char pfx[] = "/local/domain/";
    static const char mid[] = "/backend/pci-name/";
    const char *p = path;

    if (strncmp(p, pfx, sizeof(pfx) - 1))
        return -EINVAL;
    p = path_id(p + sizeof(pfx) - 1, XVF_DOMID_FIRST_RESERVED - 1, domd);
    if (!p || strncmp(p, mid, sizeof(mid) - 1))
        return -EINVAL;
    p = path_id(p + sizeof(mid) - 1, XVF_DOMID_FIRST_RESERVED - 1, domid);
    if (!p || *p != '/')
        return -EINVAL;
    p = path_id(p + 1, XVF_DEVID_MAX, devid);
    if (!p || (*p && *p != '/'))
        return -EINVAL;
    if (*p == '/' && !p[1])
        return -EINVAL;
    if (node)
        *node = *p ? p + 1 : p;
    return 0;
}

void xvf_proto_perms(enum xvf_proto_node node, unsigned int domd,
                     struct xs_permissions perms[2], unsigned int *nperms)
{
    perms[0].id = 0;
    perms[0].perms = XS_PERM_NONE;
    *nperms = 1;
    if (domd == 0)
        return;

    perms[1].id = domd;
    switch (node) {
    case XVF_NODE_ROOT:
    case XVF_NODE_DOM0:
        perms[1].perms = XS_PERM_READ;
        break;
    case XVF_NODE_GUEST:
    case XVF_NODE_REQUEST:
    case XVF_NODE_ANSWER:
        /* DomD removes released requests and the guests they were for */
        perms[1].perms = XS_PERM_READ | XS_PERM_WRITE;
        break;
    }
    *nperms = 2;
}

/* Printable ASCII up to the first line break, at most @len - 1 of it. */
static void clean(char *dst, size_t len, const char *src)
{
    size_t i;

    for (i = 0; i + 1 < len && src[i]; i++) {
        if (src[i] == '\n' || src[i] == '\r')
            break;
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
    }
    dst[i] = '\0';
}

void xvf_proto_clean_error(char *dst, const char *src)
{
    clean(dst, XVF_PROTO_ERROR_MAX + 1, src);
}

int xvf_proto_decode_answer(const char *state, const char *bdf,
                            const char *error, struct xvf_proto_answer *ans,
                            struct xvf_err *err)
{
    struct xvf_proto_answer a;
    char shown[41];

    memset(&a, 0, sizeof(a));
    if (!state)
        return xvf_err_set(err, -ENOENT,
                           "the request was removed before it was "
                           "answered");
    if (xvf_proto_state_parse(state, &a.state)) {
        clean(shown, sizeof(shown), state);
        return xvf_err_set(err, -EPROTO,
                           "the driver domain answered an unknown state "
                           "'%s'", shown);
    }

    switch (a.state) {
    case XVF_PS_READY:
        if (!bdf || xvf_parse_bdf(bdf, a.bdf)) {
            clean(shown, sizeof(shown), bdf ? bdf : "");
            return xvf_err_set(err, -EPROTO,
                               "the driver domain answered ready with a "
                               "bad BDF '%s'", shown);
        }
        break;
    case XVF_PS_ERROR:
        xvf_proto_clean_error(a.error, error ? error : "");
        if (!a.error[0])
            strcpy(a.error, "the driver domain gave no reason");
        break;
    default:
        break;
    }

    *ans = a;
    return 0;
}

int xvf_proto_decode_request(unsigned int owner, const char *spec,
                             const char *op, struct xvf_proto_request *req,
                             struct xvf_err *err)
{
    struct xvf_proto_request r;
    int rc;

    memset(&r, 0, sizeof(r));
    if (owner != 0)
        return xvf_err_set(err, -EPERM,
                           "request created by domain %u, not by Dom0",
                           owner);
    if (!op || xvf_proto_op_parse(op, &r.op))
        return xvf_err_set(err, -EINVAL, "request without a valid op");
    if (!spec)
        return xvf_err_set(err, -EINVAL, "request without a spec");
    if (strlen(spec) > XVF_SPEC_MAX)
        return xvf_err_set(err, -EINVAL, "spec longer than %d characters",
                           XVF_SPEC_MAX);
    rc = xvf_spec_parse(spec, &r.spec, err);
    /* A release must work for whatever an older version prepared. */
    if (!rc && r.op == XVF_OP_PREPARE)
        rc = xvf_spec_check_guest(&r.spec, err);
    if (rc)
        return rc;
    strcpy(r.text, spec);

    *req = r;
    return 0;
}
