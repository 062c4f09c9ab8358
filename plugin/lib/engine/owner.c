/* SPDX-License-Identifier: LGPL-2.1-only */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "util/str.h"
#include "xen/protocol.h"

#define OWNER_DOMAIN "domain:"
#define OWNER_DOMID_MAX 0x7fefu     /* below DOMID_FIRST_RESERVED */
#define OWNER_DEVID_MAX 0x7fffffffu

void xvf_owner_request(char *buf, size_t len, unsigned int domid,
                       unsigned int devid)
{
    snprintf(buf, len, OWNER_DOMAIN "%u/%u", domid, devid);
}

bool xvf_owner_parse(const char *owner, unsigned int *domid,
                     unsigned int *devid)
{
    char num[11];
    const char *p, *slash;
    unsigned long d, n = XVF_OWNER_ANY_DEVID;
    size_t len;

    if (strncmp(owner, OWNER_DOMAIN, strlen(OWNER_DOMAIN)))
        return false;
    p = owner + strlen(OWNER_DOMAIN);
    slash = strchr(p, '/');
    len = slash ? (size_t)(slash - p) : strlen(p);
    if (len >= sizeof(num))
        return false;
    memcpy(num, p, len);
    num[len] = '\0';
    if (xvf_parse_ulong(num, OWNER_DOMID_MAX, &d) ||
        (slash && xvf_parse_ulong(slash + 1, OWNER_DEVID_MAX, &n)))
        return false;
    *domid = d;
    *devid = n;
    return true;
}

void xvf_owner_describe(const char *owner, char *buf, size_t len)
{
    unsigned int domid, devid;

    if (!xvf_owner_parse(owner, &domid, &devid))
        snprintf(buf, len, "'%s'", owner);
    else if (devid == XVF_OWNER_ANY_DEVID)
        snprintf(buf, len, "domain %u", domid);
    else
        snprintf(buf, len, "domain %u (device %u)", domid, devid);
}
