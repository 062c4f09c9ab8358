/* SPDX-License-Identifier: LGPL-2.1-only */
#include <ctype.h>
#include <errno.h>
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
