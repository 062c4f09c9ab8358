/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

char *xvf_trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

void xvf_trim_copy(char *dst, size_t len, const char *src, size_t n)
{
    const char *end;

    end = memchr(src, '\0', n);
    if (end)
        n = (size_t)(end - src);
    while (n && isspace((unsigned char)*src)) {
        src++;
        n--;
    }
    while (n && isspace((unsigned char)src[n - 1]))
        n--;
    if (n >= len)
        n = len - 1;
    memmove(dst, src, n);
    dst[n] = '\0';
}

int xvf_parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
    unsigned long v;
    char *end;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *ret = v;
    return 0;
}

int xvf_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char tail;
    int i;

    if (strlen(s) != 17 ||
        sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
               &b[4], &b[5], &tail) != 6)
        return -EINVAL;
    for (i = 0; i < 17; i++)
        if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
            return -EINVAL;
    for (i = 0; i < 6; i++)
        mac[i] = b[i];
    return 0;
}

const char *xvf_mac_str(const uint8_t mac[6], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
             mac[2], mac[3], mac[4], mac[5]);
    return buf;
}
